// The cache/RoPE contract: the ONE place that says what a layer's KV cache looks like (its shape),
// which cached tokens a query sees and at which cache-relative positions (the visibility rule),
// and how those positions are rotated (one RoPE config, one convention).
//
// Read by C++ (lib/kv, lib/model, lib/ops, lib/ref, lib/engine) and by the GLSL shaders (through
// shaders/params.h), so it includes nothing but <cstdint> and is written in the subset both
// languages share: the visibility functions below are compiled on both sides from this text.
//
// Cache shape: per layer, C = n_sink + n_window slots. Stream token t lives in slot t when
// t < n_sink (a sink, never evicted), else in n_sink + (t - n_sink) mod n_window (the ring).
// Sliding-window ("local") layers of a model like Gemma 3 use n_sink = 0, n_window = the
// trained window; global layers use the session's n_sink + n_window.
//
// Visibility (query at stream index t, its own token included; t1 = t + 1):
//   n_sink_visible   nsv = min(n_sink, t1)
//   n_window_visible nwv = min(n_window, t1 - nsv)
//   visible index j in [0, nsv + nwv) has RoPE position j: sinks 0..nsv-1, then window tokens
//   oldest to newest; the query is the newest (position L - 1). Positions never reach C.
// Both counts saturate once t1 >= C, so t1 may be clamped to C: that is how the shaders, which
// have no 64-bit stream index, evaluate it (kv_t1 below).
//
// RoPE: pair i (0 <= i < n_rot/2) of a key or query at position pos is rotated by
//   angle(pos, i) = pos * freq_scale * theta_base^(-2i / n_rot)
// freq_scale multiplies positions: 1 / factor for GGUF linear scaling, 1 for none. Pairs are
// (2i, 2i+1) for RopeStyle::normal and (i, i + n_rot/2) for RopeStyle::neox. Dimensions >= n_rot
// are not rotated. Keys are stored un-rotated and rotated at read time.
#ifndef VKS_KV_CONTRACT_H
#define VKS_KV_CONTRACT_H

#ifdef __cplusplus
#include <cstdint>
namespace vks::kv {
using uint = uint32_t;
#define VKS_KV_FN inline
#define VKS_KV_OUT(T) T&
#else
#define VKS_KV_FN
#define VKS_KV_OUT(T) out T
#endif

// ---- the visibility rule (C++ and GLSL) -------------------------------------------------------

// t1 = t + 1 clamped to the capacity: exact for every count below (they saturate at C).
// `t0_clamped` is min(t0, C) of a chunk starting at t0, i the query's index in the chunk.
VKS_KV_FN uint kv_t1(uint t0_clamped, uint i) { return t0_clamped + i + 1u; }

VKS_KV_FN uint kv_sink_visible(uint t1, uint n_sink) { return t1 < n_sink ? t1 : n_sink; }

VKS_KV_FN uint kv_window_visible(uint t1, uint n_sink, uint n_window) {
    return t1 > n_sink ? (t1 - n_sink < n_window ? t1 - n_sink : n_window) : 0u;
}

// Visible token j of chunk query i (chunk starting at t0; t0_ring = (t0 - n_sink) mod n_window
// when t0 >= n_sink, else 0). Tokens older than t0 come from the ring as it was before the chunk:
// returns false, idx = slot. Tokens of the chunk come from its fresh K/V: returns true,
// idx = index in the chunk. (Every old token visible to a chunk query is still in the old ring: a
// sink, or one of the last n_window tokens before t0.)
VKS_KV_FN bool kv_chunk_token(uint t0_clamped, uint t0_ring, uint i, uint j, uint nsv, uint nwv, uint n_sink,
                              uint n_window, VKS_KV_OUT(uint) idx) {
    if (j < nsv) {
        if (j < t0_clamped) {
            idx = j;
            return false;
        }
        idx = j - t0_clamped;
        return true;
    }
    const uint ahead = i + 1u + (j - nsv);  // (stream index - t0) + nwv
    if (ahead >= nwv) {
        idx = ahead - nwv;
        return true;
    }
    const uint back = nwv - ahead;  // t0 - stream index, in [1, n_window]
    // (t0_ring - back) mod n_window; t0_ring < n_window, so one conditional subtraction does it
    // (an integer division per key is slow on CPU devices).
    const uint r = t0_ring + n_window - back;
    idx = n_sink + (r >= n_window ? r - n_window : r);
    return false;
}

// The same split as runs, for kernels that walk keys of one kind at a time: in query i's view the
// chunk's own (fresh) tokens are the sinks j in [kv_fresh_sinks_begin, nsv) and the window
// entries j in [kv_fresh_window_begin, nsv + nwv); every other j is in the old ring.
VKS_KV_FN uint kv_fresh_sinks_begin(uint t0_clamped, uint nsv) { return t0_clamped < nsv ? t0_clamped : nsv; }
VKS_KV_FN uint kv_fresh_window_begin(uint i, uint nsv, uint nwv) { return nsv + nwv - (i + 1u < nwv ? i + 1u : nwv); }

// Ring slot of chunk token i (of n_tokens) when it survives the chunk: a sink, or one of the
// chunk's last n_window tokens (returns true); false when a later token of the same chunk takes
// its slot. Surviving tokens land in pairwise distinct slots, so a parallel store has no races.
VKS_KV_FN bool kv_ring_store_slot(uint t0_clamped, uint t0_ring, uint i, uint n_tokens, uint n_sink, uint n_window,
                                  VKS_KV_OUT(uint) slot) {
    slot = 0u;
    if (t0_clamped + i < n_sink) {
        slot = t0_clamped + i;  // a sink (t0_clamped == t0 here)
        return true;
    }
    if (n_tokens - i > n_window) return false;
    const uint r = t0_clamped >= n_sink ? (t0_ring + i % n_window) % n_window : (t0_clamped + i - n_sink) % n_window;
    slot = n_sink + r;
    return true;
}

#ifdef __cplusplus
// ---- C++ only: the shape and RoPE config one layer's cache is built with ----------------------

struct CacheShape {
    uint32_t n_sink = 4;    // tokens kept forever (StreamingLLM attention sinks); may be 0
    uint32_t n_window = 1;  // ring of the most recent tokens; >= 1
    uint32_t capacity() const { return n_sink + n_window; }
    // invalid_argument: n_window == 0, or capacity > 2^24 (a position must be exact in a float).
    // Defined in kv/sink_view.cpp.
    void validate() const;
    bool operator==(const CacheShape&) const = default;
};

enum class RopeStyle : uint8_t { normal, neox };  // pairs (2i, 2i+1) / (i, i + n_rot/2)

struct RopeConfig {
    float theta_base = 10000.0f;
    float freq_scale = 1.0f;  // multiplies positions: 1 / linear scaling factor
    uint32_t n_rot = 0;       // rotated dims (partial rotary); 0 means head_dim
    RopeStyle style = RopeStyle::normal;

    uint32_t rotated_dims(uint32_t head_dim) const { return n_rot ? n_rot : head_dim; }
    // invalid_argument: odd or oversized rotated dims, theta_base or freq_scale not finite > 0;
    // unsupported: neox with rotated dims not a multiple of 4. Defined in kv/rope_table.cpp.
    void validate(uint32_t head_dim) const;
    bool operator==(const RopeConfig&) const = default;
};

// Everything that differs between the layers of one cache (model::Description::layer_kv makes
// one per layer): Gemma 3's local layers have their own shape and RoPE base.
struct LayerKv {
    CacheShape shape;
    RopeConfig rope;
    bool operator==(const LayerKv&) const = default;
};

}  // namespace vks::kv
#endif

#endif
