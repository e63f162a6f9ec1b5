#version 450
#extension GL_GOOGLE_include_directive : require
// Texel-buffer variants of attention.comp / attention_sg.comp (same semantics, binding numbers and
// push constants; read attention.comp first). Every bulk read (q, the f16 K/V ring, the chunk's
// fresh f32 K/V, the RoPE table) is a `uniform usamplerBuffer` texelFetch of one 16-byte uvec4:
// on CPU devices (lavapipe) that is a vector gather, where an SSBO load is a per-lane scalar loop
// (~10x slower, see docs/DESIGN.md). Host-side requirements (lib/ops/attention.cpp checks them and
// otherwise picks the SSBO variant): HEAD_DIM % 8 == 0 (a cache row is HEAD_DIM / 8 texels of 8
// halves, a fresh f32 row HEAD_DIM / 4 texels), N_ROT % 16 == 0 (rotated/unrotated boundaries and
// neox partners fall on texel boundaries), every texel binding within the device's element limit.
//
// Work split. A row's 8-element groups ("texels" g = 0 .. HEAD_DIM/8-1) are dealt out to LANES
// lanes: lane l owns groups l, l + LANES, ... The rotated part is dealt out in "units": with normal
// RoPE a unit is one group (4 pairs (2i, 2i+1)); with neox it is group u and its partner group
// u + N_ROT/16 (8 pairs (i, i + N_ROT/2)). Groups >= N_ROT/8 are the un-rotated tail.
//  * USE_SUBGROUP (_sg_tb): one workgroup per (query, block of NQ heads sharing a kv head, split),
//    LANES = WG_SIZE, a key's dot product is one subgroupAdd (shared memory only when the
//    workgroup spans several subgroups, as in attention_sg.comp).
//  * portable (_tb): one invocation per (query, block of NQ heads, split), LANES = 1: it walks
//    whole rows itself; no subgroup ops, no shared memory, no barriers.
// Keys are visited in runs of one kind (ring or fresh), so the ring/fresh choice is not a
// per-key branch; the RoPE (cos, sin) of each owned pair is advanced by angle addition and
// re-read from the table every ANCHOR keys (as attention_sg.comp does).
// HADAMARD (kv_quant.glsl; subgroup form only): a quantized K's rows arrive rotated and are rotated
// back per key with the butterflies spread over the lanes (DEFINE_FWHT_LANES); a quantized V's rows are
// accumulated rotated and the accumulators rotated back once at the end, the same way. Host-side
// requirements (ops::attention_variant; otherwise the portable attention.comp): the workgroup is
// exactly one subgroup, subgroup shuffles, and every K group a lane's score reads is one it holds
// in the V layout (g = lane + r * LANES): neox partner groups (u + N_ROT/16) and the un-rotated
// tail (from N_ROT/8) lie a multiple of LANES away, or there is no tail.
#ifdef HADAMARD
#ifndef USE_SUBGROUP
#error "the Hadamard rotation is in the subgroup texel form only"
#endif
#extension GL_KHR_shader_subgroup_shuffle : require
#endif
#include "common.glsl"
#include "params.h"
#include "attention_common.glsl"
#include "kv_quant.glsl"

layout(constant_id = 0) const uint WG_SIZE = 32;
layout(constant_id = 1) const uint HEAD_DIM = 128;  // multiple of 8
layout(constant_id = 2) const uint ROPE_NEOX = 0;
layout(constant_id = 3) const uint N_ROT = 128;     // == p.n_rot, multiple of 16
layout(constant_id = 4) const uint MULTI_SUBGROUP = 1;
layout(constant_id = 5) const uint NQ = 1;          // query heads per item; divides n_head / n_head_kv
layout(local_size_x_id = 0) in;

#ifdef USE_SUBGROUP
const uint LANES = WG_SIZE;
#define UNROLL_LANE [[unroll]]
#else
const uint LANES = 1;
// A whole row per invocation: fully unrolled, head_dim 256 took lavapipe minutes to compile.
#define UNROLL_LANE [[dont_unroll]]
#endif
const uint NG = HEAD_DIM / 8;                       // 8-element groups (texels of the f16 row)
const uint NP = N_ROT / 2;                          // rotation pairs
const uint PU = ROPE_NEOX == 0 ? 4 : 8;             // pairs per rotated unit
const uint NU = NP / PU;                            // rotated units
const uint TG0 = N_ROT / 8;                         // first un-rotated group
const uint RU = (NU + LANES - 1) / LANES;           // units per lane
const uint RT = (NG - TG0 + LANES - 1) / LANES;     // tail groups per lane
const uint RV = (NG + LANES - 1) / LANES;           // value groups per lane
const uint RU1 = RU > 0 ? RU : 1;
const uint RT1 = RT > 0 ? RT : 1;

layout(push_constant) uniform Push { AttnParams p; };
layout(std430, binding = 0) readonly buffer Steps { AttnStep steps[]; };
layout(binding = 1) uniform usamplerBuffer q_tb;    // (n_tokens, n_head, HEAD_DIM) f32 bits
layout(binding = 2) uniform usamplerBuffer kc_tb;   // (C, n_head_kv, NG) texels of 8 halves, or quantized (kv_quant.glsl)
layout(binding = 3) uniform usamplerBuffer vc_tb;
layout(binding = 4) uniform usamplerBuffer kn_tb;   // (n_tokens, n_head_kv, HEAD_DIM) f32 bits
layout(binding = 5) uniform usamplerBuffer vn_tb;
layout(binding = 6) uniform usamplerBuffer cs_tb;   // (C, NP) (cos, sin) f32: 2 pairs per texel
layout(std430, binding = 7) readonly buffer Sinks { float sinks[]; };
layout(std430, binding = 8) writeonly buffer Out { float o[]; };
layout(std430, binding = 9) writeonly buffer Part { float part[]; };
layout(std430, binding = 10) writeonly buffer KCW { uint kc_w[]; };  // as attention.comp (p.store_new)
layout(std430, binding = 11) writeonly buffer VCW { uint vc_w[]; };
#ifdef HADAMARD
// The key transform of a calibrated rotated cache (kv/key_transform.hpp), as attention.comp.
layout(std430, binding = 12) readonly buffer KT { float kt[]; };
#endif

#ifdef USE_SUBGROUP
DEFINE_GROUP_SUM
#else
float group_sum(float v) { return v; }
#endif
// Fresh-row element pairs (e, e+1), e even, from the texels of 4 floats.
vec2 fresh_pair(const bool is_v, uint e) {
    const vec4 t = uintBitsToFloat(is_v ? texelFetch(vn_tb, int(e >> 2)) : texelFetch(kn_tb, int(e >> 2)));
    return (e & 2u) == 0u ? t.xy : t.zw;
}
#define LOAD_KN_PAIR(e) fresh_pair(false, e)
#define LOAD_VN_PAIR(e) fresh_pair(true, e)
DEFINE_STORE_NEW(LOAD_KN_PAIR, LOAD_VN_PAIR)

vec2 rotate(vec2 x, vec2 c) { return vec2(x.x * c.x - x.y * c.y, x.x * c.y + x.y * c.x); }

// Group g of a row as 4 element pairs (2c, 2c+1). Ring rows: `row` is the ring row (slot *
// n_head_kv + kv head), read through kv_quant.glsl (f16 or dequantized); fresh rows: `row` is the
// row's first f32 texel (4 floats). (Macros: samplers as function arguments are best avoided.)
DEFINE_KV_GROUP(ring_group_k, kc_tb, K_TYPE, p.kv.k_scale_off, p.kv.k_sink_off)
DEFINE_KV_GROUP(ring_group_v, vc_tb, V_TYPE, p.kv.v_scale_off, p.kv.v_sink_off)
#define DEFINE_GROUP(NAME, RING_GROUP, FRESH)                                   \
    void NAME(const bool fresh, uint row, uint g, out vec2 e[4]) {              \
        if (fresh) {                                                            \
            const vec4 a = uintBitsToFloat(texelFetch(FRESH, int(row + 2 * g))); \
            const vec4 c = uintBitsToFloat(texelFetch(FRESH, int(row + 2 * g + 1))); \
            e[0] = a.xy; e[1] = a.zw; e[2] = c.xy; e[3] = c.zw;                 \
        } else {                                                                \
            RING_GROUP(row, g, e);                                              \
        }                                                                       \
    }
DEFINE_GROUP(group_v, ring_group_v, vn_tb)
#ifdef HADAMARD
DEFINE_GROUP(group_k_stored, ring_group_k, kn_tb)
const bool ROT_K = K_TYPE != KV_F16, ROT_V = V_TYPE != KV_F16;
// X[o + 4r + x] <- the same places of H X / sqrt(HEAD_DIM), X a row in the V layout (this lane's
// groups g = lane + r * LANES, 4 pairs each): spans inside a group in-lane, spans of fewer than
// LANES groups a subgroupShuffleXor, larger ones in-lane across r. (Butterflies of different spans
// commute, so this order gives H exactly, up to float rounding.)
#define DEFINE_FWHT_LANES(NAME, X)                                                              \
    void NAME(uint o, uint lane) {                                                              \
        [[unroll]] for (uint r = 0; r < RV; ++r) {                                              \
            const uint b = o + 4 * r;                                                           \
            [[unroll]] for (uint x = 0; x < 4; ++x) X[b + x] = vec2(X[b + x].x + X[b + x].y, X[b + x].x - X[b + x].y); \
            [[unroll]] for (uint x = 0; x < 4; x += 2) {                                        \
                const vec2 u = X[b + x], v = X[b + x + 1];                                      \
                X[b + x] = u + v;                                                               \
                X[b + x + 1] = u - v;                                                           \
            }                                                                                   \
            [[unroll]] for (uint x = 0; x < 2; ++x) {                                           \
                const vec2 u = X[b + x], v = X[b + x + 2];                                      \
                X[b + x] = u + v;                                                               \
                X[b + x + 2] = u - v;                                                           \
            }                                                                                   \
        }                                                                                       \
        [[unroll]] for (uint bit = 0; bit < 6; ++bit) { /* spans of 1 .. 32 groups */            \
            const uint sg = 1u << bit;                                                          \
            if (sg >= NG) break;                                                                \
            if (sg < LANES) {                                                                   \
                const bool low = (lane & sg) == 0u;                                             \
                [[unroll]] for (uint i = 0; i < RV * 4; ++i) {                                  \
                    const vec2 mine = X[o + i], other = subgroupShuffleXor(mine, sg);           \
                    X[o + i] = low ? mine + other : other - mine;                               \
                }                                                                               \
            } else {                                                                            \
                const uint rs = sg / LANES;                                                     \
                [[unroll]] for (uint r = 0; r < RV; ++r) {                                      \
                    if ((r & rs) == 0u) {                                                       \
                        [[unroll]] for (uint x = 0; x < 4; ++x) {                               \
                            const vec2 u = X[o + 4 * r + x], v = X[o + 4 * (r + rs) + x];       \
                            X[o + 4 * r + x] = u + v;                                           \
                            X[o + 4 * (r + rs) + x] = u - v;                                    \
                        }                                                                       \
                    }                                                                           \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
        const float sc = inversesqrt(float(HEAD_DIM));                                          \
        [[unroll]] for (uint i = 0; i < RV * 4; ++i) X[o + i] *= sc;                            \
    }
vec2 kg[RV * 4];  // this lane's groups of the current key row, rotated back
vec2 km[RV * 4], ka[RV * 4];  // the key transform's m and a of those elements (load_key_home)
DEFINE_FWHT_LANES(unrotate_kg, kg)
// Once per workgroup: this lane's part of kv head hk's key transform.
void load_key_home(uint hk, uint lane) {
    const uint mo = 2u * hk * HEAD_DIM;
    [[unroll]] for (uint r = 0; r < RV; ++r) {
        const uint g = lane + r * LANES;
        [[unroll]] for (uint x = 0; x < 4; ++x) {
            const uint e = 8 * g + 2 * x;
            km[4 * r + x] = g < NG ? vec2(kt[mo + e], kt[mo + e + 1]) : vec2(0.0);
            ka[4 * r + x] = g < NG ? vec2(kt[mo + HEAD_DIM + e], kt[mo + HEAD_DIM + e + 1]) : vec2(1.0);
        }
    }
}
void load_key_row(const bool fresh, uint row, uint lane) {
    [[unroll]] for (uint r = 0; r < RV; ++r) {
        const uint g = lane + r * LANES;
        vec2 e[4] = vec2[4](vec2(0.0), vec2(0.0), vec2(0.0), vec2(0.0));
        if (g < NG) group_k_stored(fresh, row, g, e);
        [[unroll]] for (uint x = 0; x < 4; ++x) kg[4 * r + x] = e[x];
    }
    unrotate_kg(0u, lane);
    [[unroll]] for (uint i = 0; i < RV * 4; ++i) kg[i] = km[i] + kg[i] / ka[i];  // home: m + x' / a
}
// Group g of the key row; rr: its place in this lane's V layout (g = lane + rr * LANES).
void group_k(const bool fresh, uint row, uint g, uint rr, out vec2 e[4]) {
    if (ROT_K) {
        [[unroll]] for (uint x = 0; x < 4; ++x) e[x] = kg[4 * rr + x];
    } else {
        group_k_stored(fresh, row, g, e);
    }
}
#else
DEFINE_GROUP(group_k_plain, ring_group_k, kn_tb)
void group_k(const bool fresh, uint row, uint g, uint rr, out vec2 e[4]) { group_k_plain(fresh, row, g, e); }
#endif
// Rotated unit u = lane + r * LANES as PU pairs (x, y) to rotate together.
void unit_of(const bool fresh, uint row, uint u, uint r, out vec2 pr[8]) {
    vec2 a[4];
    if (ROPE_NEOX == 0) {
        group_k(fresh, row, u, r, a);
        [[unroll]] for (uint c = 0; c < 4; ++c) pr[c] = a[c];
    } else {
        vec2 b[4];
        group_k(fresh, row, u, r, a);
        group_k(fresh, row, u + NP / 8, r + NP / 8 / LANES, b);
        [[unroll]] for (uint c = 0; c < 8; ++c) pr[c] = vec2(a[c >> 1][c & 1], b[c >> 1][c & 1]);
    }
}
// (cos, sin) of the PU pairs of unit u at position pos.
void table_unit(uint pos, uint u, out vec2 cs[8]) {
    const uint t = pos * (NP / 2) + u * (PU / 2);
    [[unroll]] for (uint m = 0; m < PU / 2; ++m) {
        const vec4 x = uintBitsToFloat(texelFetch(cs_tb, int(t + m)));
        cs[2 * m] = x.xy;
        cs[2 * m + 1] = x.zw;
    }
}
float q_elem(uint i) { return uintBitsToFloat(texelFetch(q_tb, int(i >> 2))[i & 3]); }

// Per lane, per query head qh of the item (flattened):
vec2 qr[NQ * RU1 * PU];  // rotated query pairs of the owned units
vec2 qt[NQ * RT1 * 4];   // un-rotated query pairs of the owned tail groups
vec2 acc[NQ * RV * 4];   // value pairs of the owned groups: running sum of p_j * v_j
float m[NQ], l[NQ];
vec2 rc[RU1 * PU];       // current key's (cos, sin) per owned pair
vec2 rstep[RU1 * PU];    // rotation by one position (table row 1)
const uint ANCHOR = 16;

// One key at visible index j (k = j - j_begin), stored at row `r` of the ring or the chunk.
void step_key(const bool fresh, uint lane, uint k, uint j, uint ridx, uint hk) {
    const uint row = fresh ? (ridx * p.n_head_kv + hk) * (HEAD_DIM / 4) : ridx * p.n_head_kv + hk;
    if ((k % ANCHOR) == 0) {
        UNROLL_LANE for (uint r = 0; r < RU; ++r) {
            const uint u = lane + r * LANES;
            if (u < NU) {
                vec2 c[8];  // (fixed size: spec-constant-sized locals break specialization)
                table_unit(j, u, c);
                [[unroll]] for (uint x = 0; x < PU; ++x) rc[r * PU + x] = c[x];
            }
        }
    }
#ifdef HADAMARD
    if (ROT_K) load_key_row(fresh, row, lane);
#endif
    float d[NQ];
    [[unroll]] for (uint qh = 0; qh < NQ; ++qh) d[qh] = 0.0;
    UNROLL_LANE for (uint r = 0; r < RU; ++r) {
        const uint u = lane + r * LANES;
        if (u < NU) {
            vec2 pr[8];
            unit_of(fresh, row, u, r, pr);
            [[unroll]] for (uint x = 0; x < PU; ++x) {
                const vec2 kr = rotate(pr[x], rc[r * PU + x]);
                [[unroll]] for (uint qh = 0; qh < NQ; ++qh) d[qh] += dot(qr[(qh * RU1 + r) * PU + x], kr);
                rc[r * PU + x] = rotate(rc[r * PU + x], rstep[r * PU + x]);  // position j + 1
            }
        }
    }
    UNROLL_LANE for (uint r = 0; r < RT; ++r) {
        const uint g = TG0 + lane + r * LANES;
        if (g < NG) {
            vec2 e[4];
            group_k(fresh, row, g, TG0 / LANES + r, e);
            [[unroll]] for (uint x = 0; x < 4; ++x)
                [[unroll]] for (uint qh = 0; qh < NQ; ++qh) d[qh] += dot(qt[(qh * RT1 + r) * 4 + x], e[x]);
        }
    }
    float corr[NQ], pj[NQ];
    [[unroll]] for (uint qh = 0; qh < NQ; ++qh) {
        const float sc = group_sum(d[qh]) * p.scale;
        const float e = exp(-abs(sc - m[qh]));  // one exp: rescale the old terms or the new one
        const bool new_max = sc > m[qh];
        corr[qh] = new_max ? e : 1.0;
        pj[qh] = new_max ? 1.0 : e;
        l[qh] = l[qh] * corr[qh] + pj[qh];
        m[qh] = max(m[qh], sc);
    }
    UNROLL_LANE for (uint r = 0; r < RV; ++r) {
        const uint g = lane + r * LANES;
        if (g < NG) {
            vec2 v[4];
            group_v(fresh, row, g, v);
            [[unroll]] for (uint qh = 0; qh < NQ; ++qh)
                [[unroll]] for (uint x = 0; x < 4; ++x)
                    acc[(qh * RV + r) * 4 + x] = acc[(qh * RV + r) * 4 + x] * corr[qh] + pj[qh] * v[x];
        }
    }
}

#ifdef HADAMARD
DEFINE_FWHT_LANES(unrotate_acc, acc)  // (V rows were summed rotated; H is linear, so a split's partial
                                      // sums may be rotated back alone)
#endif

void main() {
    const uint n_hblk = p.n_head / NQ;
    const uint n_items = p.n_tokens * n_hblk * p.n_splits;
#ifdef USE_SUBGROUP
    const uint item = linear_group_id();
    const uint lane = gl_LocalInvocationIndex;
#else
    const uint item = linear_group_id() * WG_SIZE + gl_LocalInvocationIndex;
    const uint lane = 0;
#endif
    if (item >= n_items) return;  // uniform per workgroup in the subgroup variant
    const uint s = item % p.n_splits;
    const uint rowb = item / p.n_splits;  // i * n_hblk + head block
    const uint h0 = (rowb % n_hblk) * NQ;
    const uint i = rowb / n_hblk;
    const uint row0 = i * p.n_head + h0;
    const uint hk = h0 / (p.n_head / p.n_head_kv);

    const AttnStep st = steps[p.step_index];
    store_new(st, s, h0, hk, lane, LANES);  // lanes over words
    uint nsv, nwv, j_begin, j_end;
    const uint n_vis = visible_range(st, i, s, p.n_sink, p.n_window, p.n_splits, nsv, nwv, j_begin, j_end);

    // Queries, rotated at L - 1.
    const uint qpos = n_vis - 1;
    [[unroll]] for (uint qh = 0; qh < NQ; ++qh) {
        const uint qb = (row0 + qh) * HEAD_DIM;
        UNROLL_LANE for (uint r = 0; r < RU; ++r) {
            const uint u = lane + r * LANES;
            vec2 c[8];  // (fixed size: spec-constant-sized locals break specialization)
            if (u < NU) table_unit(qpos, u, c);
            [[unroll]] for (uint x = 0; x < PU; ++x) {
                const uint pi = u * PU + x;
                vec2 qv = vec2(0.0);  // (lanes without this unit read nothing: no out-of-range fetch)
                if (u < NU)
                    qv = rotate(ROPE_NEOX == 0 ? vec2(q_elem(qb + 2 * pi), q_elem(qb + 2 * pi + 1))
                                               : vec2(q_elem(qb + pi), q_elem(qb + pi + NP)), c[x]);
                qr[(qh * RU1 + r) * PU + x] = qv;
            }
        }
        UNROLL_LANE for (uint r = 0; r < RT; ++r) {
            const uint g = TG0 + lane + r * LANES;
            [[unroll]] for (uint x = 0; x < 4; ++x) {
                const uint e = qb + 8 * g + 2 * x;
                vec2 qv = vec2(0.0);
                if (g < NG) qv = vec2(q_elem(e), q_elem(e + 1));
                qt[(qh * RT1 + r) * 4 + x] = qv;
            }
        }
        [[unroll]] for (uint r = 0; r < RV * 4; ++r) acc[qh * RV * 4 + r] = vec2(0.0);
        m[qh] = kNegHuge;
        l[qh] = 0.0;
    }
#ifdef HADAMARD
    if (ROT_K) load_key_home(hk, lane);
#endif
    const bool has_row1 = p.n_sink + p.n_window > 1;  // capacity 1 has no second table row
    UNROLL_LANE for (uint r = 0; r < RU; ++r) {
        const uint u = lane + r * LANES;
        vec2 c[8];  // (fixed size: spec-constant-sized locals break specialization)
        if (u < NU && has_row1) table_unit(1, u, c);
        [[unroll]] for (uint x = 0; x < PU; ++x) {
            rstep[r * PU + x] = (u < NU && has_row1) ? c[x] : vec2(1.0, 0.0);
            rc[r * PU + x] = vec2(1.0, 0.0);
        }
    }

    // Runs of one kind (kv_fresh_*_begin in lib/kv/contract.h): fresh sinks, fresh window tail;
    // everything else is in the ring.
    const uint fresh_sink = kv_fresh_sinks_begin(st.t0_clamped, nsv);
    const uint fresh_win = kv_fresh_window_begin(i, nsv, nwv);
    uint j = j_begin;
    while (j < j_end) {  // at most 4 runs; uniform per workgroup
        uint idx;
        const bool fresh = chunk_token(st, i, j, nsv, nwv, p.n_sink, p.n_window, idx);
        const uint run_end = min(j_end, j < fresh_sink ? fresh_sink : j < nsv ? nsv : j < fresh_win ? fresh_win : n_vis);
        if (fresh) {
            for (; j < run_end; ++j) {
                chunk_token(st, i, j, nsv, nwv, p.n_sink, p.n_window, idx);
                step_key(true, lane, j - j_begin, j, idx, hk);
            }
        } else {
            for (; j < run_end; ++j) {
                chunk_token(st, i, j, nsv, nwv, p.n_sink, p.n_window, idx);
                step_key(false, lane, j - j_begin, j, idx, hk);
            }
        }
    }

#ifdef HADAMARD
    if (ROT_V) {
        [[unroll]] for (uint qh = 0; qh < NQ; ++qh) unrotate_acc(qh * RV * 4, lane);
    }
#endif
    [[unroll]] for (uint qh = 0; qh < NQ; ++qh) {
        const uint row = row0 + qh;
        const float rr = p.n_splits == 1
                             ? softmax_finish(m[qh], l[qh], p.has_sinks != 0, p.has_sinks != 0 ? sinks[h0 + qh] : 0.0)
                             : 1.0;
        const uint pitem = row * p.n_splits + s;
        const uint ob = p.n_splits == 1 ? row * HEAD_DIM : 2 * p.n_tokens * p.n_head * p.n_splits + pitem * HEAD_DIM;
        if (p.n_splits > 1 && lane == 0) {
            part[2 * pitem] = m[qh];
            part[2 * pitem + 1] = l[qh];
        }
        UNROLL_LANE for (uint r = 0; r < RV; ++r) {
            const uint g = lane + r * LANES;
            if (g < NG) {
                [[unroll]] for (uint x = 0; x < 4; ++x) {
                    const vec2 a = acc[(qh * RV + r) * 4 + x] * rr;
                    if (p.n_splits == 1) {
                        o[ob + 8 * g + 2 * x] = a.x;
                        o[ob + 8 * g + 2 * x + 1] = a.y;
                    } else {
                        part[ob + 8 * g + 2 * x] = a.x;
                        part[ob + 8 * g + 2 * x + 1] = a.y;
                    }
                }
            }
        }
    }
}
