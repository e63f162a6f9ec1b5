#version 450
#extension GL_GOOGLE_include_directive : require
// Subgroup variant of attention.comp (same semantics, bindings and push constants; read that
// file first). One WORKGROUP per (query i, block of NQ query heads sharing one kv head, split s),
// so each K/V row and RoPE table row is loaded once for NQ heads; its invocations split the head's
// dimensions (lane l owns rotation pairs l, l + WG, ... and value words l, l + WG, ...), so every
// K/V row is read with consecutive lanes on consecutive words, and each key's dot product is one
// subgroupAdd. Best with WG_SIZE == subgroup size (the host picks that); if the device runs the
// workgroup as several subgroups, the partial sums meet in shared memory (correct, slower).
#include "common.glsl"
#include "params.h"
#include "attention_common.glsl"
#include "kv_quant.glsl"

layout(constant_id = 0) const uint WG_SIZE = 32;
layout(constant_id = 1) const uint HEAD_DIM = 128;  // even
layout(constant_id = 2) const uint ROPE_NEOX = 0;   // 0: pairs (2i, 2i+1); 1: pairs (i, i + N_ROT/2)
layout(constant_id = 3) const uint N_ROT = 128;     // rotated dims, == p.n_rot
// 0 when the host knows every subgroup is the whole workgroup (min == max subgroup size ==
// WG_SIZE): then the shared-memory path and its barriers are compiled out.
layout(constant_id = 4) const uint MULTI_SUBGROUP = 1;
layout(constant_id = 5) const uint NQ = 1;          // query heads per workgroup; divides n_head / n_head_kv
layout(local_size_x_id = 0) in;
const uint HALF = HEAD_DIM / 2;                      // words (f16 pairs) per head row
const uint NP = N_ROT / 2;                           // rotation pairs
const uint RP = (NP + WG_SIZE - 1) / WG_SIZE;        // rotation pairs per lane
const uint RT = (HALF - NP + WG_SIZE - 1) / WG_SIZE; // un-rotated tail words per lane
const uint RV = (HALF + WG_SIZE - 1) / WG_SIZE;      // value words per lane
const uint RT1 = RT > 0 ? RT : 1;                    // (arrays need a size >= 1)

layout(push_constant) uniform Push { AttnParams p; };
layout(std430, binding = 0) readonly buffer Steps { AttnStep steps[]; };
layout(std430, binding = 1) readonly buffer Q { float q[]; };        // (n_tokens, n_head, HEAD_DIM)
layout(std430, binding = 2) readonly buffer KC { uint kc[]; };       // (C, n_head_kv, HALF) packed f16 pairs
layout(std430, binding = 3) readonly buffer VC { uint vc[]; };       // (C, n_head_kv, HALF)
layout(std430, binding = 4) readonly buffer KN { float kn[]; };      // (n_tokens, n_head_kv, HEAD_DIM)
layout(std430, binding = 5) readonly buffer VN { float vn[]; };      // (n_tokens, n_head_kv, HEAD_DIM)
layout(std430, binding = 6) readonly buffer Rope { vec2 cs[]; };     // (C, NP) (cos, sin)
layout(std430, binding = 7) readonly buffer Sinks { float sinks[]; };// (n_head) when has_sinks
layout(std430, binding = 8) writeonly buffer Out { float o[]; };     // (n_tokens, n_head, HEAD_DIM)
layout(std430, binding = 9) writeonly buffer Part { float part[]; }; // as attention.comp
layout(std430, binding = 10) writeonly buffer KCW { uint kc_w[]; };  // as attention.comp (p.store_new)
layout(std430, binding = 11) writeonly buffer VCW { uint vc_w[]; };

DEFINE_GROUP_SUM
#define LOAD_KN_PAIR(e) vec2(kn[e], kn[(e) + 1])
#define LOAD_VN_PAIR(e) vec2(vn[e], vn[(e) + 1])
DEFINE_STORE_NEW(LOAD_KN_PAIR, LOAD_VN_PAIR)

vec2 rotate(vec2 x, vec2 c) { return vec2(x.x * c.x - x.y * c.y, x.x * c.y + x.y * c.x); }

// Element pair i of a row (normal: elements 2i, 2i+1 = word i; neox: elements i, i + NP).
// Ring rows (base = slot * n_head_kv + kv head) through kv_quant.glsl: f16 or dequantized.
DEFINE_KV_PAIR(k_ring_pair, kc, K_TYPE, p.kv.k_scale_off, p.kv.k_sink_off)
DEFINE_KV_PAIR(v_ring_pair, vc, V_TYPE, p.kv.v_scale_off, p.kv.v_sink_off)
#define KC_ELEM(e) k_ring_pair(base, (e) >> 1)[(e) & 1]
#define KC_PAIR(i) (ROPE_NEOX == 0 ? k_ring_pair(base, (i)) : vec2(KC_ELEM(i), KC_ELEM((i) + NP)))
#define KC_WORD(w) k_ring_pair(base, (w))
#define KN_PAIR(i) (ROPE_NEOX == 0 ? vec2(kn[base + 2 * (i)], kn[base + 2 * (i) + 1]) : vec2(kn[base + (i)], kn[base + (i) + NP]))
#define KN_WORD(w) vec2(kn[base + 2 * (w)], kn[base + 2 * (w) + 1])

// RoPE of the current key, per lane pair r: (cos, sin) at position j. Re-read from the table every
// ANCHOR keys and advanced in between by the angle-addition formula (one rotation by the
// position-1 angle, i.e. table row 1): on CPU devices a table load per pair and key costs more
// than the 4 multiply-adds, and the drift over < ANCHOR steps is a few float ulps.
const uint ANCHOR = 16;
vec2 rc[RP];
vec2 rstep[RP];

// Per query head qh of the block, flattened [qh * R + r]:
vec2 qp[NQ * RP];   // this lane's rotated query pairs
vec2 qt[NQ * RT1];  // this lane's un-rotated query tail words
vec2 acc[NQ * RV];  // this lane's value words: running sum of p_j * v_j
float m[NQ], l[NQ]; // running max and denominator

// This lane's share of the dot products of the NQ queries with key row `base`, rotated by rc.
#define DEFINE_PARTIAL(NAME, PAIR, WORD)                                   \
    void NAME(uint base, uint lane, out float d[NQ]) {                     \
        [[unroll]] for (uint qh = 0; qh < NQ; ++qh) d[qh] = 0.0;           \
        [[unroll]] for (uint r = 0; r < RP; ++r) {                         \
            const uint i = lane + r * WG_SIZE;                             \
            if (i < NP) {                                                  \
                const vec2 k = rotate(PAIR(i), rc[r]);                     \
                [[unroll]] for (uint qh = 0; qh < NQ; ++qh) d[qh] += dot(qp[qh * RP + r], k); \
            }                                                              \
        }                                                                  \
        [[unroll]] for (uint r = 0; r < RT; ++r) {                         \
            const uint w = NP + lane + r * WG_SIZE;                        \
            if (w < HALF) {                                                \
                const vec2 k = WORD(w);                                    \
                [[unroll]] for (uint qh = 0; qh < NQ; ++qh) d[qh] += dot(qt[qh * RT1 + r], k); \
            }                                                              \
        }                                                                  \
    }
DEFINE_PARTIAL(partial_cache, KC_PAIR, KC_WORD)
DEFINE_PARTIAL(partial_chunk, KN_PAIR, KN_WORD)

void main() {
    const uint item = linear_group_id();
    const uint n_hblk = p.n_head / NQ;
    const uint n_items = p.n_tokens * n_hblk * p.n_splits;
    if (item >= n_items) return;  // uniform per workgroup
    const uint lane = gl_LocalInvocationIndex;
    const uint s = item % p.n_splits;
    const uint rowb = item / p.n_splits;  // i * n_hblk + head block
    const uint h0 = (rowb % n_hblk) * NQ;
    const uint i = rowb / n_hblk;
    const uint row0 = i * p.n_head + h0;  // output row of the block's first head
    const uint hk = h0 / (p.n_head / p.n_head_kv);  // GQA: the whole block shares it

    const AttnStep st = steps[p.step_index];
    store_new(st, s, h0, hk, lane, WG_SIZE);  // lanes over words
    uint nsv, nwv, j_begin, j_end;
    const uint n_vis = visible_range(st, i, s, p.n_sink, p.n_window, p.n_splits, nsv, nwv, j_begin, j_end);

    const uint qpos = n_vis - 1;  // the queries are rotated at position L - 1
    [[unroll]] for (uint qh = 0; qh < NQ; ++qh) {
        const uint base = (row0 + qh) * HEAD_DIM;
        [[unroll]] for (uint r = 0; r < RP; ++r) {
            const uint pi = lane + r * WG_SIZE;
            qp[qh * RP + r] = pi < NP ? rotate(ROPE_NEOX == 0 ? vec2(q[base + 2 * pi], q[base + 2 * pi + 1])
                                                              : vec2(q[base + pi], q[base + pi + NP]),
                                               cs[qpos * NP + pi])
                                      : vec2(0.0);
        }
        [[unroll]] for (uint r = 0; r < RT1; ++r) {
            const uint w = NP + lane + r * WG_SIZE;
            qt[qh * RT1 + r] = (r < RT && w < HALF) ? vec2(q[base + 2 * w], q[base + 2 * w + 1]) : vec2(0.0);
        }
        [[unroll]] for (uint r = 0; r < RV; ++r) acc[qh * RV + r] = vec2(0.0);
        m[qh] = kNegHuge;
        l[qh] = 0.0;
    }
    const bool has_row1 = p.n_sink + p.n_window > 1;  // capacity 1 has no second table row
    [[unroll]] for (uint r = 0; r < RP; ++r) {
        const uint pi = lane + r * WG_SIZE;
        rstep[r] = (pi < NP && has_row1) ? cs[NP + pi] : vec2(1.0, 0.0);
        rc[r] = vec2(1.0, 0.0);
    }

    for (uint j = j_begin; j < j_end; ++j) {
        uint idx;
        const bool fresh = chunk_token(st, i, j, nsv, nwv, p.n_sink, p.n_window, idx);  // uniform
        const uint base = fresh ? (idx * p.n_head_kv + hk) * HEAD_DIM : idx * p.n_head_kv + hk;  // float index / ring row
        if (((j - j_begin) % ANCHOR) == 0) {  // uniform
            [[unroll]] for (uint r = 0; r < RP; ++r) {
                const uint pi = lane + r * WG_SIZE;
                if (pi < NP) rc[r] = cs[j * NP + pi];
            }
        }
        float d[NQ];
        if (fresh) partial_chunk(base, lane, d);
        else partial_cache(base, lane, d);
        [[unroll]] for (uint r = 0; r < RP; ++r) rc[r] = rotate(rc[r], rstep[r]);  // position j + 1
        float corr[NQ], pj[NQ];
        [[unroll]] for (uint qh = 0; qh < NQ; ++qh) {
            const float sc = group_sum(d[qh]) * p.scale;
            // One exp: either the old terms are rescaled or the new one is, never both.
            const float e = exp(-abs(sc - m[qh]));
            const bool new_max = sc > m[qh];
            corr[qh] = new_max ? e : 1.0;
            pj[qh] = new_max ? 1.0 : e;
            l[qh] = l[qh] * corr[qh] + pj[qh];
            m[qh] = max(m[qh], sc);
        }
        [[unroll]] for (uint r = 0; r < RV; ++r) {
            const uint w = lane + r * WG_SIZE;
            if (w < HALF) {
                const vec2 v = fresh ? vec2(vn[base + 2 * w], vn[base + 2 * w + 1]) : v_ring_pair(base, w);
                [[unroll]] for (uint qh = 0; qh < NQ; ++qh)
                    acc[qh * RV + r] = acc[qh * RV + r] * corr[qh] + pj[qh] * v;
            }
        }
    }

    [[unroll]] for (uint qh = 0; qh < NQ; ++qh) {
        const uint row = row0 + qh;
        if (p.n_splits == 1) {
            const float rr = softmax_finish(m[qh], l[qh], p.has_sinks != 0, p.has_sinks != 0 ? sinks[h0 + qh] : 0.0);
            [[unroll]] for (uint r = 0; r < RV; ++r) {
                const uint w = lane + r * WG_SIZE;
                if (w < HALF) {
                    o[row * HEAD_DIM + 2 * w] = acc[qh * RV + r].x * rr;
                    o[row * HEAD_DIM + 2 * w + 1] = acc[qh * RV + r].y * rr;
                }
            }
        } else {
            // Partial of (row, split s), in the layout attention_combine.comp reads.
            const uint pitem = row * p.n_splits + s;
            const uint n_all = p.n_tokens * p.n_head * p.n_splits;
            if (lane == 0) {
                part[2 * pitem] = m[qh];
                part[2 * pitem + 1] = l[qh];
            }
            const uint ab = 2 * n_all + pitem * HEAD_DIM;
            [[unroll]] for (uint r = 0; r < RV; ++r) {
                const uint w = lane + r * WG_SIZE;
                if (w < HALF) {
                    part[ab + 2 * w] = acc[qh * RV + r].x;
                    part[ab + 2 * w + 1] = acc[qh * RV + r].y;
                }
            }
        }
    }
}
