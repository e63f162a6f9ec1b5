// Session state as bytes: save_state / load_state.
//
// Format (little-endian), version 1:
//   "VKSSTATE"  u32 version
//   fingerprint: u32 n_layer, n_embd, n_vocab, n_head_kv, head_dim; u64 model tensor-table hash
//   u32 n_sink, n_window; u64 n_past
//   u64 seed; u32 len + rng state text
//   u32 n_history + i32 ids
//   u8 has_logits; n_vocab f32 logits
//   u32 n_slots (cached slots: min(n_past, capacity)); u64 slot_bytes;
//   per layer: K slots [0, n_slots), V slots [0, n_slots)   (slots fill in order before the ring
//   wraps, so the cached slots are always the first n_slots)
//   u64 FNV-1a 64 of every byte above
// load_state parses and checks the whole blob (checksum, fingerprint, shape) before it touches
// the session, so a truncated, corrupted or foreign state leaves the session unchanged.
#include <cstring>

#include "engine/session.hpp"

#include "common/error.hpp"

namespace vks::engine {

namespace {

constexpr char kMagic[8] = {'V', 'K', 'S', 'S', 'T', 'A', 'T', 'E'};
constexpr uint32_t kVersion = 1;

uint64_t fnv1a(const uint8_t* p, size_t n, uint64_t h = 1469598103934665603ull) {
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

uint64_t model_hash(const Model& m) {
    uint64_t h = 1469598103934665603ull;
    for (const auto& t : m.file().tensors()) {
        h = fnv1a(reinterpret_cast<const uint8_t*>(t.name.data()), t.name.size(), h);
        h = fnv1a(reinterpret_cast<const uint8_t*>(&t.type), 4, h);
        h = fnv1a(reinterpret_cast<const uint8_t*>(t.ne), sizeof t.ne, h);
    }
    return h;
}

struct Writer {
    std::vector<uint8_t> out;
    void bytes(const void* p, size_t n) {
        const uint8_t* b = static_cast<const uint8_t*>(p);
        out.insert(out.end(), b, b + n);
    }
    template <class T>
    void put(T v) { bytes(&v, sizeof v); }
};

struct Reader {
    std::span<const uint8_t> in;
    size_t pos = 0;
    void bytes(void* p, size_t n, const char* what) {
        if (n > in.size() - pos) fail(Status::bad_format, "session state is truncated (reading %s at byte %zu)", what, pos);
        std::memcpy(p, in.data() + pos, n);
        pos += n;
    }
    template <class T>
    T get(const char* what) {
        T v;
        bytes(&v, sizeof v, what);
        return v;
    }
};

}  // namespace

std::vector<uint8_t> Session::save_state() const {
    const model::Description& d = model_->desc();
    Writer w;
    w.bytes(kMagic, 8);
    w.put<uint32_t>(kVersion);
    for (uint32_t v : {d.n_layer, d.n_embd, d.n_vocab, d.n_head_kv, d.head_dim}) w.put<uint32_t>(v);
    w.put<uint64_t>(model_hash(*model_));
    w.put<uint32_t>(config_.n_sink);
    w.put<uint32_t>(config_.n_window);
    w.put<uint64_t>(cache_->n_past());
    w.put<uint64_t>(config_.sampling.seed);
    std::string rng = sampler_->rng_state();
    w.put<uint32_t>(uint32_t(rng.size()));
    w.bytes(rng.data(), rng.size());
    w.put<uint32_t>(uint32_t(history_.size()));
    w.bytes(history_.data(), history_.size() * 4);
    w.put<uint8_t>(has_logits_ ? 1 : 0);
    w.bytes(logits_.data(), logits_.size() * 4);
    const uint32_t n_slots = n_cached();
    const uint64_t slot_bytes = cache_->k(0).size() / cache_->capacity();
    w.put<uint32_t>(n_slots);
    w.put<uint64_t>(slot_bytes);
    std::vector<uint8_t> tmp(n_slots * slot_bytes);
    for (uint32_t il = 0; il < d.n_layer; ++il) {
        for (const vk::Buffer* b : {&cache_->k(il), &cache_->v(il)}) {
            if (!tmp.empty()) b->download(tmp.data(), tmp.size());
            w.bytes(tmp.data(), tmp.size());
        }
    }
    w.put<uint64_t>(fnv1a(w.out.data(), w.out.size()));
    return std::move(w.out);
}

void Session::load_state(std::span<const uint8_t> blob) {
    const model::Description& d = model_->desc();
    if (blob.size() < 8 + 4 + 8) fail(Status::bad_format, "session state is truncated (%zu bytes)", blob.size());
    Reader r{blob};
    char magic[8];
    r.bytes(magic, 8, "magic");
    if (std::memcmp(magic, kMagic, 8) != 0) fail(Status::bad_format, "not a vkstream session state (bad magic)");
    uint32_t version = r.get<uint32_t>("version");
    if (version != kVersion) fail(Status::unsupported, "session state version %u is not supported (want %u)", version, kVersion);
    uint64_t sum;
    std::memcpy(&sum, blob.data() + blob.size() - 8, 8);
    if (fnv1a(blob.data(), blob.size() - 8) != sum)
        fail(Status::bad_format, "session state checksum mismatch: the file is corrupted or truncated");
    Reader body{blob.first(blob.size() - 8), r.pos};
    const char* names[] = {"n_layer", "n_embd", "n_vocab", "n_head_kv", "head_dim"};
    const uint32_t want[] = {d.n_layer, d.n_embd, d.n_vocab, d.n_head_kv, d.head_dim};
    for (int i = 0; i < 5; ++i) {
        uint32_t got = body.get<uint32_t>(names[i]);
        if (got != want[i])
            fail(Status::invalid_argument, "session state is for another model: %s %u, this model has %u", names[i], got, want[i]);
    }
    if (body.get<uint64_t>("model hash") != model_hash(*model_))
        fail(Status::invalid_argument, "session state is for another model (tensor table differs)");
    uint32_t n_sink = body.get<uint32_t>("n_sink"), n_window = body.get<uint32_t>("n_window");
    if (n_sink != config_.n_sink || n_window != config_.n_window)
        fail(Status::invalid_argument, "session state has cache %u+%u, this session %u+%u", n_sink, n_window, config_.n_sink,
             config_.n_window);
    uint64_t n_past = body.get<uint64_t>("n_past");
    body.get<uint64_t>("seed");
    uint32_t rng_len = body.get<uint32_t>("rng length");
    if (rng_len > 1 << 20) fail(Status::bad_format, "session state: rng state of %u bytes", rng_len);
    std::string rng(rng_len, '\0');
    body.bytes(rng.data(), rng_len, "rng state");
    uint32_t n_hist = body.get<uint32_t>("history length");
    if (n_hist > (body.in.size() - body.pos) / 4) fail(Status::bad_format, "session state: history longer than the file");
    std::vector<int32_t> history(n_hist);
    body.bytes(history.data(), size_t(n_hist) * 4, "history");
    for (int32_t t : history)
        if (t < 0 || uint32_t(t) >= d.n_vocab) fail(Status::bad_format, "session state: token id %d out of range", t);
    bool has_logits = body.get<uint8_t>("has_logits") != 0;
    std::vector<float> logits(d.n_vocab);
    body.bytes(logits.data(), logits.size() * 4, "logits");
    uint32_t n_slots = body.get<uint32_t>("n_slots");
    uint64_t slot_bytes = body.get<uint64_t>("slot_bytes");
    const uint64_t want_slot = cache_->k(0).size() / cache_->capacity();
    if (slot_bytes != want_slot) fail(Status::bad_format, "session state: slot size %llu, expected %llu",
                                      (unsigned long long)slot_bytes, (unsigned long long)want_slot);
    if (n_slots != std::min<uint64_t>(n_past, cache_->capacity()))
        fail(Status::bad_format, "session state: %u cached slots inconsistent with stream position %llu", n_slots,
             (unsigned long long)n_past);
    const uint64_t kv_bytes = uint64_t(n_slots) * slot_bytes * 2 * d.n_layer;
    if (body.in.size() - body.pos != kv_bytes)
        fail(Status::bad_format, "session state: %zu bytes of cache data, expected %llu", body.in.size() - body.pos,
             (unsigned long long)kv_bytes);
    // Validate the sampler state on a copy before committing.
    Sampler probe(config_.sampling);
    probe.set_rng_state(rng);

    // Everything checked: commit.
    const uint8_t* kv = body.in.data() + body.pos;
    const uint64_t per = uint64_t(n_slots) * slot_bytes;
    for (uint32_t il = 0; il < d.n_layer && per > 0; ++il) {
        const_cast<vk::Buffer&>(cache_->k(il)).upload(kv, per);
        kv += per;
        const_cast<vk::Buffer&>(cache_->v(il)).upload(kv, per);
        kv += per;
    }
    cache_->reset();
    cache_->advance(n_past);
    sampler_->set_rng_state(rng);
    history_ = std::move(history);
    logits_ = std::move(logits);
    has_logits_ = has_logits;
}

}  // namespace vks::engine
