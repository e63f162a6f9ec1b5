// Session state as bytes: save_state / load_state.
//
// Format (little-endian), version 2:
//   "VKSSTATE"  u32 version
//   fingerprint: u32 n_layer, n_embd, n_vocab, n_head_kv, head_dim; u64 model tensor-table hash
//   u32 n_sink, n_window (the session's); u32 n_layer again, then per layer u32 n_sink, n_window
//   (that layer's cache shape: Gemma 3's local layers hold {0, sliding_window}); u64 n_past
//   u64 seed; u32 len + rng state text
//   u32 n_history + i32 ids
//   u8 has_logits; n_vocab f32 logits
//   u32 n_slots (cached slots of a global layer: min(n_past, capacity)); u64 slot_bytes;
//   per layer: K slots [0, m), V slots [0, m), m = min(n_past, that layer's capacity) (slots
//   fill in order before a ring wraps, so the cached slots are always the first m)
//   u64 FNV-1a 64 of every byte above
// load_state parses and checks the whole blob (checksum, fingerprint, shape) with parse_state
// (engine/state_format.cpp, no device) before it touches the session, so a truncated, corrupted
// or foreign state leaves the session unchanged; a device failure while the cache is copied in
// leaves it reset (empty stream).
#include <algorithm>
#include <cstring>

#include "engine/session.hpp"
#include "engine/session_state.hpp"
#include "engine/state_format.hpp"

#include "common/error.hpp"

namespace vks::engine {

namespace {

using state_format::kMagic;
using state_format::kVersion;

uint64_t fnv1a(const uint8_t* p, size_t n, uint64_t h = 1469598103934665603ull) { return state_fnv1a(p, n, h); }

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
    w.put<uint32_t>(d.n_layer);
    for (uint32_t il = 0; il < d.n_layer; ++il) {
        w.put<uint32_t>(cache_->shape(il).n_sink);
        w.put<uint32_t>(cache_->shape(il).n_window);
    }
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
    const uint64_t slot_bytes = cache_->k(0).size() / cache_->capacity(0);
    w.put<uint32_t>(n_slots);
    w.put<uint64_t>(slot_bytes);
    std::vector<uint8_t> tmp;
    for (uint32_t il = 0; il < d.n_layer; ++il) {
        tmp.resize(std::min<uint64_t>(cache_->n_past(), cache_->capacity(il)) * slot_bytes);
        for (const vk::Buffer* b : {&cache_->k(il), &cache_->v(il)}) {
            if (!tmp.empty()) b->download(tmp.data(), tmp.size());
            w.bytes(tmp.data(), tmp.size());
        }
    }
    w.put<uint64_t>(fnv1a(w.out.data(), w.out.size()));
    return std::move(w.out);
}

StateFingerprint Session::state_fingerprint() const {
    const model::Description& d = model_->desc();
    StateFingerprint f;
    f.n_layer = d.n_layer;
    f.n_embd = d.n_embd;
    f.n_vocab = d.n_vocab;
    f.n_head_kv = d.n_head_kv;
    f.head_dim = d.head_dim;
    f.model_hash = model_hash(*model_);
    f.n_sink = config_.n_sink;
    f.n_window = config_.n_window;
    f.capacity = capacity();
    f.slot_bytes = cache_->k(0).size() / cache_->capacity(0);
    for (uint32_t il = 0; il < d.n_layer; ++il) f.layers.push_back(cache_->shape(il));
    return f;
}

void Session::load_state(std::span<const uint8_t> blob) {
    const model::Description& d = model_->desc();
    ParsedState st = parse_state(blob, state_fingerprint());

    // Everything checked: commit. The K/V copies are the only step that can still fail (device
    // loss, no memory for staging); if one does, the session is reset to an empty stream rather
    // than left with a half-written cache, and the error goes on.
    const uint8_t* kv = st.kv.data();
    const uint64_t slot_bytes = cache_->k(0).size() / cache_->capacity(0);
    try {
        for (uint32_t il = 0; il < d.n_layer; ++il) {
            const uint64_t per = uint64_t(st.layer_slots[il]) * slot_bytes;
            if (per == 0) continue;
            const_cast<vk::Buffer&>(cache_->k(il)).upload(kv, per);
            kv += per;
            const_cast<vk::Buffer&>(cache_->v(il)).upload(kv, per);
            kv += per;
        }
    } catch (...) {
        reset();
        throw;
    }
    cache_->reset();
    cache_->advance(st.n_past);
    sampler_->set_rng_state(st.rng);
    history_ = std::move(st.history);
    logits_ = std::move(st.logits);
    has_logits_ = st.has_logits;
}

}  // namespace vks::engine
