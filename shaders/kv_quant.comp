#version 450
#extension GL_GOOGLE_include_directive : require
// Encodes a chunk's fresh K and V rows (f32) for a cache with a quantized K or V (types by -D, see
// kv_quant.glsl; layout kv/cache_types.hpp; CPU reference lib/ref/kv_quant.cpp). Two jobs, either
// or both per dispatch (lib/ops/kv_quant.cpp says when):
//  * round (p.round): write every fresh row back as the cache will return it (decode of its own
//    encoding). The attention kernels read a chunk's own K/V from these f32 rows, so every row a
//    query sees, fresh or cached, has the cache's precision, and chunked prefill gives the same
//    result as one token at a time. f16 rows (an f16 K or V, or an f16 sink) stay f32, as the
//    f16 cache's fresh rows always have.
//  * store (p.store): write the chunk's surviving rows (ring_store_slot) into their ring slots.
//    Re-encoding a row that was rounded gives the same codes (the codec is idempotent), so a chunk
//    may round before its attention and store after it.
// One invocation per (token i, kv head, pair of 32-element blocks): the pair shares one scale word,
// so no two invocations write the same word. With HADAMARD (kv_quant.glsl) one invocation per
// (token i, kv head): a quantized tensor's row is rotated whole (unless p.rotated: a store after a
// round, whose rows are rotated already), and `round` writes it back rotated and rounded (f16 sinks:
// rotated, unrounded), the basis the attention kernels expect of every row of that tensor.
#include "common.glsl"
#include "params.h"
#include "attention_common.glsl"
#include "kv_quant.glsl"

layout(constant_id = 0) const uint WG_SIZE = 64;
layout(local_size_x_id = 0) in;

layout(push_constant) uniform Push { KvQuantParams p; };
layout(std430, binding = 0) readonly buffer Steps { AttnStep steps[]; };
layout(std430, binding = 1) buffer KN { float kn[]; };             // (n_tokens, n_head_kv, head_dim)
layout(std430, binding = 2) buffer VN { float vn[]; };             // (n_tokens, n_head_kv, head_dim)
layout(std430, binding = 3) writeonly buffer KC { uint kc[]; };    // the layer's K buffer (RowLayout)
layout(std430, binding = 4) writeonly buffer VC { uint vc[]; };    // the layer's V buffer

float xs[64];  // the pair of blocks being encoded
#ifdef HADAMARD
// The K map of a calibrated rotated cache (kv/key_transform.hpp): this layer's (n_head_kv, 2,
// head_dim) floats, centre then scale; a quantized K row becomes (x - m) * a before its rotation.
layout(std430, binding = 5) readonly buffer KT { float kt[]; };
const uint MAX_HEAD_DIM = 256u;  // lib/ops/kv_quant.cpp refuses larger heads
float xr[MAX_HEAD_DIM];          // the whole row, rotated when its tensor is quantized
#define LOAD_X(SRC, src, e) xr[e]  // element e of the row
#else
#define LOAD_X(SRC, src, e) SRC[(src) + (e)]
#endif

// Encodes elements [64 bp, 64 bp + n) (n = 64, or 32 for the last block of an odd count) of the
// fresh row starting at float `src` into ring row `row` of DST (element type TYPE).
#define DEFINE_ENCODE(NAME, SRC, DST, TYPE, SOFF, FOFF)                                             \
    void NAME(uint src, uint row, uint bp, bool do_store, bool do_round, bool exact) {             \
        const uint e0 = 64u * bp;                                                                  \
        const uint n = min(64u, p.head_dim - e0);                                                  \
        for (uint k = 0u; k < n; ++k) xs[k] = LOAD_X(SRC, src, e0 + k);                                    \
        if (TYPE == KV_F16 || exact) {                                                             \
            if (do_store) {                                                                        \
                const uint base = (TYPE == KV_F16 ? 0u : FOFF) + row * (p.head_dim / 2u) + e0 / 2u; \
                for (uint k = 0u; k < n / 2u; ++k) DST[base + k] = packHalf2x16(vec2(xs[2u * k], xs[2u * k + 1u])); \
            }                                                                                      \
            if (HAS_HADAMARD && TYPE != KV_F16 && do_round)  /* rotated, as the attention reads it */ \
                for (uint k = 0u; k < n; ++k) SRC[src + e0 + k] = xs[k];                           \
            return;                                                                                \
        }                                                                                          \
        uint scales = 0u;                                                                          \
        for (uint b = 0u; b < n / 32u; ++b) {                                                      \
            const uint x0 = 32u * b;                                                               \
            float amax = 0.0, vmax = 0.0;                                                          \
            for (uint k = 0u; k < 32u; ++k) {                                                      \
                const float x = xs[x0 + k];                                                        \
                if (abs(x) > amax) { amax = abs(x); vmax = x; }  /* the first on ties */           \
            }                                                                                      \
            const float d = TYPE == KV_Q8_0 ? q8_scale(amax) : q4_scale(vmax);                     \
            scales |= (packHalf2x16(vec2(d, 0.0)) & 0xffffu) << (16u * b);                         \
            if (TYPE == KV_Q8_0) {                                                                 \
                for (uint w = 0u; w < 8u; ++w) {                                                   \
                    uint word = 0u;                                                                \
                    for (uint c = 0u; c < 4u; ++c) {                                               \
                        const int q = q8_code(xs[x0 + 4u * w + c], d);                             \
                        word |= uint(q & 255) << (8u * c);                                         \
                        xs[x0 + 4u * w + c] = d * float(q);                                        \
                    }                                                                              \
                    if (do_store) DST[row * (p.head_dim / 4u) + (e0 + x0) / 4u + w] = word;        \
                }                                                                                  \
            } else {                                                                               \
                for (uint w = 0u; w < 4u; ++w) {                                                   \
                    uint word = 0u;                                                                \
                    for (uint c = 0u; c < 8u; ++c) {                                               \
                        const int q = q4_code(xs[x0 + 8u * w + c], d);                             \
                        word |= uint(q) << (4u * c);                                               \
                        xs[x0 + 8u * w + c] = d * float(q - 8);                                    \
                    }                                                                              \
                    if (do_store) DST[row * (p.head_dim / 8u) + (e0 + x0) / 8u + w] = word;        \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        if (do_store) DST[SOFF + row * kv_scale_words(p.head_dim) + bp] = scales;                  \
        if (do_round)                                                                              \
            for (uint k = 0u; k < n; ++k) SRC[src + e0 + k] = xs[k];                               \
    }
#ifdef HADAMARD
const bool HAS_HADAMARD = true;
// xr <- the row at float `src` (kv head hk) of SRC, rotated when TYPE is quantized and the row
// is not yet; a K row (KEYED) mapped by the key transform first.
#define DEFINE_LOAD_ROW(NAME, SRC, TYPE, KEYED)                                       \
    void NAME(uint src, uint hk) {                                                    \
        const uint n = p.head_dim;                                                    \
        for (uint k = 0u; k < n; ++k) xr[k] = SRC[src + k];            \
        if (TYPE == KV_F16 || p.rotated != 0u) return;                                \
        if (KEYED) {                                                                  \
            const uint mo = 2u * hk * n;                                              \
            for (uint k = 0u; k < n; ++k) xr[k] = (xr[k] - kt[mo + k]) * kt[mo + n + k]; \
        }                                                                             \
        for (uint h = 1u; h < n; h *= 2u)  /* one loop per stage: see DEFINE_KV_FWHT */ \
            for (uint t = 0u; t < n / 2u; ++t) {                                      \
                const uint j = (t / h) * 2u * h + t % h;                              \
                const float a = xr[j], b = xr[j + h];                                 \
                xr[j] = a + b;                                                        \
                xr[j + h] = a - b;                                                    \
            }                                                                         \
        const float s = inversesqrt(float(n));                                        \
        for (uint k = 0u; k < n; ++k) xr[k] *= s;                                     \
    }
DEFINE_LOAD_ROW(load_k, kn, K_TYPE, true)
DEFINE_LOAD_ROW(load_v, vn, V_TYPE, false)
#else
const bool HAS_HADAMARD = false;
#endif
DEFINE_ENCODE(encode_k, kn, kc, K_TYPE, p.kv.k_scale_off, p.kv.k_sink_off)
DEFINE_ENCODE(encode_v, vn, vc, V_TYPE, p.kv.v_scale_off, p.kv.v_sink_off)

void main() {
    const uint g = linear_group_id() * WG_SIZE + gl_LocalInvocationIndex;
    if (g >= p.n_items) return;
    const uint pairs = kv_scale_words(p.head_dim);  // pairs of blocks per row
#ifdef HADAMARD
    const uint th = g;  // i * n_head_kv + kv head: the whole row
#else
    const uint bp = g % pairs;
    const uint th = g / pairs;  // i * n_head_kv + kv head
#endif
    const uint hk = th % p.n_head_kv;
    const uint i = th / p.n_head_kv;
    const AttnStep st = steps[p.step_index];
    uint slot = 0u;
    const bool do_store = p.store != 0u && ring_store_slot(st, i, p.n_tokens, p.n_sink, p.n_window, slot);
    const bool do_round = p.round != 0u;
    if (!do_store && !do_round) return;
    // An f16 sink (kept exact): t0 + i < n_sink, where t0_clamped == t0.
    const bool exact = p.kv.sink_rows > 0u && st.t0_clamped + i < p.n_sink;
    const uint row = slot * p.n_head_kv + hk;
#ifdef HADAMARD
    load_k(th * p.head_dim, hk);
    for (uint bp = 0u; bp < pairs; ++bp) encode_k(th * p.head_dim, row, bp, do_store, do_round, exact);
    load_v(th * p.head_dim, hk);
    for (uint bp = 0u; bp < pairs; ++bp) encode_v(th * p.head_dim, row, bp, do_store, do_round, exact);
#else
    encode_k(th * p.head_dim, row, bp, do_store, do_round, exact);
    encode_v(th * p.head_dim, row, bp, do_store, do_round, exact);
#endif
}
