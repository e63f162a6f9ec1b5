// Session state as bytes: save_state / load_state.
//
// Format (little-endian), version 2:
//   "VKSSTATE"  u32 version
//   fingerprint: u32 n_layer, n_embd, n_vocab, n_head_kv, head_dim; u64 model tensor-table hash
//   u32 n_sink, n_window (the session's); u32 n_layer again, then per layer u32 n_sink, n_window
//   (that layer's cache shape: Gemma 3's local layers hold {0, sliding_window})
//   u32 k type, v type (ggml type ids: f16, q8_0, q4_0), u32 flags (1: hadamard, 2: f16 sinks)
//   u64 n_past
//   u64 seed; u32 len + rng state text
//   u32 n_history + i32 ids
//   u8 has_logits; n_vocab f32 logits
//   u32 n_slots (cached slots of a global layer: min(n_past, capacity)); u64 cache bytes (all layers);
//   per layer: K then V, each as slots [0, m) of every region of its layout, m = min(n_past, that
//   layer's capacity) (f16: the rows; quantized: quants, scales, f16 sink rows;
//   kv::RowLayout::regions). Slots fill in order before a ring wraps, so the cached slots are
//   always the first m.
//   u64 FNV-1a 64 of every byte above
// Version 1 (no types, u64 slot_bytes of one f16 slot where version 2 has the bytes per layer)
// still loads into an f16 session. A state saved with other cache types is refused with
// invalid_argument, before anything changes.
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
    const kv::CacheTypes& types = cache_->types();
    w.put<uint32_t>(uint32_t(types.k));
    w.put<uint32_t>(uint32_t(types.v));
    w.put<uint32_t>((types.hadamard ? state_format::kFlagHadamard : 0u) |
                    (types.f16_sinks ? state_format::kFlagF16Sinks : 0u));
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
    const uint32_t n_kv = cache_->n_head_kv();
    w.put<uint32_t>(n_slots);
    auto layer_slots = [&](uint32_t il) { return uint32_t(std::min<uint64_t>(cache_->n_past(), cache_->capacity(il))); };
    uint64_t kv_words = 0;  // every layer's K and V: its first m cached slots of each region
    for (uint32_t il = 0; il < d.n_layer; ++il)
        kv_words += cache_->k_layout(il).saved_words(n_kv, layer_slots(il)) +
                    cache_->v_layout(il).saved_words(n_kv, layer_slots(il));
    w.put<uint64_t>(kv_words * 4);
    std::vector<uint8_t> tmp;
    for (uint32_t il = 0; il < d.n_layer; ++il) {
        for (int kv_i = 0; kv_i < 2; ++kv_i) {
            const vk::Buffer& b = kv_i == 0 ? cache_->k(il) : cache_->v(il);
            const kv::RowLayout& l = kv_i == 0 ? cache_->k_layout(il) : cache_->v_layout(il);
            for (const kv::RowLayout::Region& r : l.regions(n_kv)) {
                tmp.resize(std::min(layer_slots(il), r.n_slots) * r.slot_words * 4);
                if (!tmp.empty()) b.download(tmp.data(), tmp.size(), r.offset * 4);
                w.bytes(tmp.data(), tmp.size());
            }
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
    f.slot_bytes = uint64_t(d.n_head_kv) * d.head_dim * 2;  // one f16 slot (version 1 states)
    for (uint32_t il = 0; il < d.n_layer; ++il) f.layers.push_back(cache_->shape(il));
    f.types = cache_->types();
    for (uint32_t il = 0; il < d.n_layer; ++il) {
        f.k_layouts.push_back(cache_->k_layout(il));
        f.v_layouts.push_back(cache_->v_layout(il));
    }
    return f;
}

void Session::load_state(std::span<const uint8_t> blob) {
    const model::Description& d = model_->desc();
    ParsedState st = parse_state(blob, state_fingerprint());

    // Everything checked: commit. The K/V copies are the only step that can still fail (device
    // loss, no memory for staging); if one does, the session is reset to an empty stream rather
    // than left with a half-written cache, and the error goes on.
    const uint8_t* kv = st.kv.data();
    const uint32_t n_kv = cache_->n_head_kv();
    try {
        for (uint32_t il = 0; il < d.n_layer; ++il) {
            for (int kv_i = 0; kv_i < 2; ++kv_i) {
                vk::Buffer& b = const_cast<vk::Buffer&>(kv_i == 0 ? cache_->k(il) : cache_->v(il));
                const kv::RowLayout& l = kv_i == 0 ? cache_->k_layout(il) : cache_->v_layout(il);
                for (const kv::RowLayout::Region& r : l.regions(n_kv)) {
                    const uint64_t n = std::min(st.layer_slots[il], r.n_slots) * r.slot_words * 4;
                    if (n) b.upload(kv, n, r.offset * 4);
                    kv += n;
                }
            }
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
