#pragma once
// Micro-benchmark of one decode step of attention (+ kv_store) over the circular sink cache, for
// `vkstream bench --kernels`. Builds a one-layer cache of the given capacity (n_sink + window),
// positions the stream at `stream_length` tokens (so the query sees min(stream_length, capacity)
// keys), records the decode step once and replays it, as the engine does.
#include <cstdint>

#include "kv/cache_types.hpp"
#include "kv/contract.h"
#include "ops/attention.hpp"
#include "ops/kernels.hpp"

namespace vks::ops {

struct AttentionBenchShape {
    uint32_t n_head = 32;
    uint32_t n_head_kv = 8;
    uint32_t head_dim = 128;
    uint32_t n_sink = 4;
    kv::RopeStyle style = kv::RopeStyle::normal;
    bool learned_sinks = false;
    uint32_t n_splits = 0;   // 0 = automatic
    AttentionConfig::Variant variant = AttentionConfig::Variant::automatic;
    AttentionConfig::Reads reads = AttentionConfig::Reads::automatic;
    uint32_t n_iters = 20;   // timed submissions
    uint32_t n_repeat = 8;   // decode steps recorded per submission (amortizes submit latency)
    uint32_t n_tokens = 1;   // queries per step: 1 = decode; more = one prefill chunk ending at stream_length
    kv::CacheTypes types;    // the cache's K/V element types (a quantized cache adds its kv_quant dispatch)
};

struct AttentionBenchResult {
    double seconds_per_step = 0.0;         // wall clock per attention + kv_store step (one chunk)
    double device_seconds_per_step = 0.0;  // from GPU timestamps (0 when the device has none)
    uint32_t n_visible = 0;                // keys the chunk's last query attends to
    uint32_t n_splits = 0;
    uint64_t cache_bytes = 0;
    double gbytes_per_s = 0.0;             // K+V bytes read per step / seconds_per_step
};

// capacity = n_sink + n_window (> shape.n_sink); stream_length >= shape.n_tokens >= 1.
AttentionBenchResult bench_attention_decode_detailed(Kernels& k, uint32_t capacity, uint64_t stream_length,
                                                     const AttentionBenchShape& shape = {});

// Seconds per decode step (wall clock).
double bench_attention_decode(Kernels& k, uint32_t capacity, uint64_t stream_length,
                              const AttentionBenchShape& shape = {});

}  // namespace vks::ops
