#version 450
#extension GL_GOOGLE_include_directive : require
// Subgroup variant of attention.comp (same semantics, bindings and push constants; read that
// file first). One WORKGROUP per (query i, head h, split s); its invocations split the head's
// dimensions (lane l owns rotation pairs l, l + WG, ... and value words l, l + WG, ...), so every
// K/V row is read with consecutive lanes on consecutive words, and each key's dot product is one
// subgroupAdd. Best with WG_SIZE == subgroup size (the host picks that); if the device runs the
// workgroup as several subgroups, the partial sums meet in shared memory (correct, slower).
#include "common.glsl"
#include "params.h"
#include "attention_common.glsl"

layout(constant_id = 0) const uint WG_SIZE = 32;
layout(constant_id = 1) const uint HEAD_DIM = 128;  // even
layout(constant_id = 2) const uint ROPE_NEOX = 0;   // 0: pairs (2i, 2i+1); 1: pairs (i, i + N_ROT/2)
layout(constant_id = 3) const uint N_ROT = 128;     // rotated dims, == p.n_rot
// 0 when the host knows every subgroup is the whole workgroup (min == max subgroup size ==
// WG_SIZE): then the shared-memory path and its barriers are compiled out.
layout(constant_id = 4) const uint MULTI_SUBGROUP = 1;
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

shared float red[WG_SIZE];

float group_sum(float v) {
    v = subgroupAdd(v);
    if (MULTI_SUBGROUP == 0 || gl_NumSubgroups == 1) return v;  // uniform: the usual case, no barrier
    barrier();
    if (subgroupElect()) red[gl_SubgroupID] = v;
    barrier();
    float s = 0.0;
    for (uint k = 0; k < gl_NumSubgroups; ++k) s += red[k];
    return s;
}

vec2 rotate(vec2 x, vec2 c) { return vec2(x.x * c.x - x.y * c.y, x.x * c.y + x.y * c.x); }

// Element pair i of a row (normal: elements 2i, 2i+1 = word i; neox: elements i, i + NP).
#define KC_ELEM(e) unpackHalf2x16(kc[base + ((e) >> 1)])[(e) & 1]
#define KC_PAIR(i) (ROPE_NEOX == 0 ? unpackHalf2x16(kc[base + (i)]) : vec2(KC_ELEM(i), KC_ELEM((i) + NP)))
#define KC_WORD(w) unpackHalf2x16(kc[base + (w)])
#define KN_PAIR(i) (ROPE_NEOX == 0 ? vec2(kn[base + 2 * (i)], kn[base + 2 * (i) + 1]) : vec2(kn[base + (i)], kn[base + (i) + NP]))
#define KN_WORD(w) vec2(kn[base + 2 * (w)], kn[base + 2 * (w) + 1])

vec2 qp[RP];   // this lane's rotated query pairs
vec2 qt[RT1];  // this lane's un-rotated query tail words
vec2 acc[RV];  // this lane's value words: running sum of p_j * v_j

// This lane's share of the dot product of the query with key row `base`, rotated at `pos`.
#define DEFINE_PARTIAL(NAME, PAIR, WORD)                                   \
    float NAME(uint base, uint pos, uint lane) {                           \
        float d = 0.0;                                                     \
        [[unroll]] for (uint r = 0; r < RP; ++r) {                         \
            const uint i = lane + r * WG_SIZE;                             \
            if (i < NP) d += dot(qp[r], rotate(PAIR(i), cs[pos * NP + i])); \
        }                                                                  \
        [[unroll]] for (uint r = 0; r < RT; ++r) {                         \
            const uint w = NP + lane + r * WG_SIZE;                        \
            if (w < HALF) d += dot(qt[r], WORD(w));                        \
        }                                                                  \
        return d;                                                          \
    }
DEFINE_PARTIAL(partial_cache, KC_PAIR, KC_WORD)
DEFINE_PARTIAL(partial_chunk, KN_PAIR, KN_WORD)

void main() {
    const uint item = linear_group_id();
    const uint n_items = p.n_tokens * p.n_head * p.n_splits;
    if (item >= n_items) return;  // uniform per workgroup
    const uint lane = gl_LocalInvocationIndex;
    const uint s = item % p.n_splits;
    const uint row = item / p.n_splits;  // i * n_head + h
    const uint h = row % p.n_head;
    const uint i = row / p.n_head;
    const uint hk = h / (p.n_head / p.n_head_kv);  // GQA

    const AttnStep st = steps[p.step_index];
    uint nsv, nwv;
    chunk_counts(st.t0_clamped, i, p.n_sink, p.n_window, nsv, nwv);
    const uint n_vis = nsv + nwv;
    const uint per = (n_vis + p.n_splits - 1) / p.n_splits;
    const uint j_begin = min(n_vis, s * per);
    const uint j_end = min(n_vis, j_begin + per);

    {   // the query, rotated at position L - 1
        const uint base = row * HEAD_DIM;
        const uint qpos = n_vis - 1;
        [[unroll]] for (uint r = 0; r < RP; ++r) {
            const uint pi = lane + r * WG_SIZE;
            qp[r] = pi < NP ? rotate(ROPE_NEOX == 0 ? vec2(q[base + 2 * pi], q[base + 2 * pi + 1])
                                                    : vec2(q[base + pi], q[base + pi + NP]),
                                     cs[qpos * NP + pi])
                            : vec2(0.0);
        }
        [[unroll]] for (uint r = 0; r < RT1; ++r) {
            const uint w = NP + lane + r * WG_SIZE;
            qt[r] = (r < RT && w < HALF) ? vec2(q[base + 2 * w], q[base + 2 * w + 1]) : vec2(0.0);
        }
        [[unroll]] for (uint r = 0; r < RV; ++r) acc[r] = vec2(0.0);
    }

    float m = kNegHuge, l = 0.0;
    for (uint j = j_begin; j < j_end; ++j) {
        uint idx;
        const bool fresh = chunk_token(st, i, j, nsv, nwv, p.n_sink, p.n_window, idx);  // uniform
        const uint base = fresh ? (idx * p.n_head_kv + hk) * HEAD_DIM : (idx * p.n_head_kv + hk) * HALF;
        const float sc = group_sum(fresh ? partial_chunk(base, j, lane) : partial_cache(base, j, lane)) * p.scale;
        const float mn = max(m, sc);
        const float corr = exp(m - mn), pj = exp(sc - mn);
        l = l * corr + pj;
        m = mn;
        if (fresh) {
            [[unroll]] for (uint r = 0; r < RV; ++r) {
                const uint w = lane + r * WG_SIZE;
                if (w < HALF) acc[r] = acc[r] * corr + pj * vec2(vn[base + 2 * w], vn[base + 2 * w + 1]);
            }
        } else {
            [[unroll]] for (uint r = 0; r < RV; ++r) {
                const uint w = lane + r * WG_SIZE;
                if (w < HALF) acc[r] = acc[r] * corr + pj * unpackHalf2x16(vc[base + w]);
            }
        }
    }

    if (p.n_splits == 1) {
        float f = 1.0, denom = l;  // l > 0: every view holds the query itself
        if (p.has_sinks != 0) {
            const float sk = sinks[h];
            const float mm = max(m, sk);
            f = exp(m - mm);
            denom = l * f + exp(sk - mm);
        }
        const float rr = f / denom;
        [[unroll]] for (uint r = 0; r < RV; ++r) {
            const uint w = lane + r * WG_SIZE;
            if (w < HALF) {
                o[row * HEAD_DIM + 2 * w] = acc[r].x * rr;
                o[row * HEAD_DIM + 2 * w + 1] = acc[r].y * rr;
            }
        }
    } else {
        if (lane == 0) {
            part[2 * item] = m;
            part[2 * item + 1] = l;
        }
        const uint ab = 2 * n_items + item * HEAD_DIM;
        [[unroll]] for (uint r = 0; r < RV; ++r) {
            const uint w = lane + r * WG_SIZE;
            if (w < HALF) {
                part[ab + 2 * w] = acc[r].x;
                part[ab + 2 * w + 1] = acc[r].y;
            }
        }
    }
}
