#include "engine/kv_layout.hpp"

namespace vks::engine {

KvLayout kv_layout(const model::Description& d, uint32_t n_sink, uint32_t n_window) {
    KvLayout k;
    const uint64_t slot_bytes = 2ull * d.n_head_kv * d.head_dim * 2;  // K and V, f16
    for (uint32_t il = 0; il < d.n_layer; ++il) {
        const kv::LayerKv l = d.layer_kv(il, n_sink, n_window);
        const uint64_t bytes = uint64_t(l.shape.capacity()) * slot_bytes;
        if (d.layer_is_local(il)) {
            ++k.n_local;
            k.local_slots = l.shape.capacity();
            k.local_bytes += bytes;
        } else {
            ++k.n_global;
            k.global_slots = l.shape.capacity();
            k.global_bytes += bytes;
        }
    }
    k.all_global_bytes = uint64_t(d.n_layer) * (uint64_t(n_sink) + n_window) * slot_bytes;
    return k;
}

}  // namespace vks::engine
