#pragma once
// Session state bytes <-> fields, with no device involved: parse_state() checks a blob
// completely (checksum, fingerprint, every length and id) and returns its fields, or throws.
// Session::load_state (engine/session_state.cpp) calls it before touching anything, and the
// fuzzer (tests/fuzz/fuzz_session_state.cpp) calls it directly. The format is documented in
// engine/session_state.cpp.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kv/cache_types.hpp"
#include "kv/contract.h"

namespace vks::engine {

// What a state must match to be loaded into a session: the model and the cache geometry.
struct StateFingerprint {
    uint32_t n_layer = 0, n_embd = 0, n_vocab = 0, n_head_kv = 0, head_dim = 0;
    uint64_t model_hash = 0;   // FNV-1a of the tensor table (names, types, shapes)
    uint32_t n_sink = 0, n_window = 0;
    uint32_t capacity = 0;     // cache slots of a global layer (n_sink + n_window)
    uint64_t slot_bytes = 0;   // bytes of one slot of one layer's K (or V) buffer as f16 (version 1)
    // (n_layer) each layer's cache shape; empty: every layer {n_sink, n_window}.
    std::vector<kv::CacheShape> layers;
    kv::CacheShape layer_shape(uint32_t il) const {
        return layers.empty() ? kv::CacheShape{n_sink, n_window} : layers[il];
    }
    kv::CacheTypes types;      // the cache's element types: a state saved with others is refused
    // (n_layer) each layer's K / V buffer layout (what the cache bytes of a version 2 state add up
    // to); empty: kv::row_layout of layer_shape(il) and `types`.
    std::vector<kv::RowLayout> k_layouts, v_layouts;
};

struct ParsedState {
    uint64_t n_past = 0;
    uint64_t seed = 0;
    std::string rng;                 // sampler random-engine state (already checked to parse)
    std::vector<int32_t> history;    // recent tokens, each in [0, n_vocab)
    bool has_logits = false;
    std::vector<float> logits;       // (n_vocab)
    uint32_t n_slots = 0;            // min(n_past, capacity): slots of a global layer
    std::vector<uint32_t> layer_slots;  // (n_layer) min(n_past, that layer's capacity)
    // Cache bytes inside the blob: per layer l, K then V, each as slots [0, layer_slots[l]) of
    // every region of its layout (kv::RowLayout::regions; f16: the rows, so version 1's
    // 2 * layer_slots[l] * slot_bytes bytes per layer). Points into the blob passed to parse_state.
    std::span<const uint8_t> kv;
};

// Throws vks::Error: bad_format (truncated, corrupted, inconsistent), unsupported (another
// format version), invalid_argument (a state of another model or cache geometry).
ParsedState parse_state(std::span<const uint8_t> blob, const StateFingerprint& expect);

// FNV-1a 64 (the state checksum and the model hash).
uint64_t state_fnv1a(const uint8_t* p, size_t n, uint64_t h = 1469598103934665603ull);

}  // namespace vks::engine
