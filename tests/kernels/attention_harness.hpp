#pragma once
// Shared by test_attention.cpp and test_kv_cache.cpp: a random token stream, its StreamingLLM
// reference outputs (lib/ref/attention), and the same stream run through the device cache and
// attention kernels in chunks of a given size.
#include <cstdint>
#include <string>
#include <vector>

#include "kv/cache.hpp"
#include "ops/attention.hpp"
#include "ref/attention.hpp"

namespace vks::test {

struct AttnCase {
    uint32_t n_sink = 4;
    uint32_t n_window = 16;
    uint32_t n_head = 4;
    uint32_t n_head_kv = 2;
    uint32_t head_dim = 64;
    kv::RopeConfig rope;           // n_rot 0 = head_dim
    bool learned_sinks = false;    // gpt-oss style per-head sink logits
    bool f16_exact = true;         // round K/V to f16-representable values (lossless storage)
    uint32_t n_splits = 0;         // 0 = automatic
    uint32_t n_layer = 2;          // the stream runs on the last layer (checks layer indexing)
    ops::AttentionConfig::Variant variant = ops::AttentionConfig::Variant::portable;
    uint32_t subgroup_workgroup = 0;
    ops::AttentionConfig::Reads reads = ops::AttentionConfig::Reads::ssbo;
    kv::CacheTypes types;          // the cache's K/V element types (f16 by default)
    // A rotated quantized cache's key transform for the tested layer (kv/key_transform.hpp):
    // (n_head_kv, 2, head_dim) floats, m then a; empty = the identity.
    std::vector<float> key_transform;

    std::string describe() const;  // for CAPTURE
};

// A stream of T tokens: q (T, n_head, D), k and v (T, n_head_kv, D), sink logits (n_head).
struct Stream {
    uint64_t n_tokens = 0;
    std::vector<float> q, k, v, sinks;
};
Stream make_stream(const AttnCase& c, uint64_t n_tokens, uint32_t seed);

ref::AttentionParams ref_params(const AttnCase& c, const Stream& s);

// Reference outputs (T, n_head, D): attention_stream (or attention_causal when `causal`).
std::vector<float> reference_outputs(const AttnCase& c, const Stream& s, bool causal = false);

// Device outputs (T, n_head, D): the stream fed in chunks of `chunk` tokens (the last may be
// shorter). A recording is replayed as long as the chunk length does not change.
std::vector<float> device_outputs(const AttnCase& c, const Stream& s, uint32_t chunk);

// Worst per-token NMSE (over one token's n_head x D outputs) and the token where it occurs.
struct Worst {
    double nmse = 0.0;
    double max_abs = 0.0;
    uint64_t t = 0;
};
Worst compare_per_token(const std::vector<float>& got, const std::vector<float>& want, uint64_t n_tokens,
                        size_t row);

float round_to_f16(float x);

}  // namespace vks::test
