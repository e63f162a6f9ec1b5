#pragma once
// How much KV cache a session of a model holds, by layer kind: Gemma 3's sliding-window ("local")
// layers keep a ring of their trained window and no sinks, global layers keep sinks + the
// session's window (model::Description::layer_kv). Pure arithmetic on the Description (no
// device), so `vkstream info -m` can print it before anything is allocated.
#include <cstdint>

#include "model/description.hpp"

namespace vks::engine {

struct KvLayout {
    uint32_t n_global = 0, n_local = 0;       // layers of each kind
    uint32_t global_slots = 0, local_slots = 0;  // slots per layer of each kind (0 when none)
    uint64_t global_bytes = 0, local_bytes = 0;  // K + V bytes, all layers of the kind (f16)
    // What a cache giving every layer the global shape would hold (the baseline the per-layer
    // cache is compared with).
    uint64_t all_global_bytes = 0;
    uint64_t bytes() const { return global_bytes + local_bytes; }
    double ratio_to_all_global() const { return all_global_bytes ? double(bytes()) / double(all_global_bytes) : 1.0; }
};

// Throws as Description::layer_kv (a sliding window larger than n_window).
KvLayout kv_layout(const model::Description& d, uint32_t n_sink, uint32_t n_window);

}  // namespace vks::engine
