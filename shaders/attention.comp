#version 450
#extension GL_GOOGLE_include_directive : require
// Sink-preserving windowed attention over the circular cache, for a chunk of queries (decode is
// a chunk of one). One invocation per (query i, head h, split s): it walks visible indices
// [s*per, (s+1)*per) of its query's view (per = ceil(L / n_splits)), reading each key from the
// old ring (f16, un-rotated) or from the chunk's fresh f32 K/V, rotating it at its
// cache-relative position j with the cos/sin table, dotting it with the query rotated at L-1,
// and keeping an online softmax (m, l, acc) updated once per block of keys. With n_splits == 1
// it writes the normalized output; otherwise the partial (m, l, acc) for attention_combine.comp
// (flash-decoding). No shared memory, no barriers, no subgroup ops: any device, any subgroup size.
#include "common.glsl"
#include "params.h"
#include "attention_common.glsl"
#include "kv_quant.glsl"

layout(constant_id = 0) const uint WG_SIZE = 64;
layout(constant_id = 1) const uint HEAD_DIM = 128;  // even
layout(constant_id = 2) const uint ROPE_NEOX = 0;   // 0: pairs (2i, 2i+1); 1: pairs (i, i + n_rot/2)
layout(local_size_x_id = 0) in;
const uint HALF = HEAD_DIM / 2;  // words per head row: element pairs (2w, 2w+1)
const uint BLK = 8;              // keys per online-softmax rescale

layout(push_constant) uniform Push { AttnParams p; };
layout(std430, binding = 0) readonly buffer Steps { AttnStep steps[]; };
layout(std430, binding = 1) readonly buffer Q { float q[]; };        // (n_tokens, n_head, HEAD_DIM)
layout(std430, binding = 2) readonly buffer KC { uint kc[]; };       // (C, n_head_kv, HALF) packed f16 pairs, or quantized (kv_quant.glsl)
layout(std430, binding = 3) readonly buffer VC { uint vc[]; };       // (C, n_head_kv, HALF)
layout(std430, binding = 4) readonly buffer KN { float kn[]; };      // (n_tokens, n_head_kv, HEAD_DIM)
layout(std430, binding = 5) readonly buffer VN { float vn[]; };      // (n_tokens, n_head_kv, HEAD_DIM)
layout(std430, binding = 6) readonly buffer Rope { vec2 cs[]; };     // (C, n_rot/2) (cos, sin)
layout(std430, binding = 7) readonly buffer Sinks { float sinks[]; };// (n_head) when has_sinks
layout(std430, binding = 8) writeonly buffer Out { float o[]; };     // (n_tokens, n_head, HEAD_DIM)
// (n_items, 2) (m, l) then (n_items, HEAD_DIM) acc, n_items = n_tokens * n_head * n_splits
layout(std430, binding = 9) writeonly buffer Part { float part[]; };
// The ring again, writable: the decode token's K/V go to its slot (p.store_new; see
// ring_store_slot in attention_common.glsl). Disjoint from every ring word this dispatch reads.
layout(std430, binding = 10) writeonly buffer KCW { uint kc_w[]; };
layout(std430, binding = 11) writeonly buffer VCW { uint vc_w[]; };
#ifdef HADAMARD
// The key transform of a calibrated rotated cache (kv/key_transform.hpp): the layer's (n_head_kv,
// 2, head_dim) floats; a rotated-back K row x' is mapped home, m + x' / a.
layout(std430, binding = 12) readonly buffer KT { float kt[]; };
#endif

#define LOAD_KN_PAIR(e) vec2(kn[e], kn[(e) + 1])
#define LOAD_VN_PAIR(e) vec2(vn[e], vn[(e) + 1])
DEFINE_STORE_NEW(LOAD_KN_PAIR, LOAD_VN_PAIR)

vec2 qr[HALF];   // this invocation's query, rotated at position L-1
vec2 acc[HALF];  // running sum of p_j * v_j

void rotate_query(uint pos) {
    const uint rb = pos * (p.n_rot / 2);
    if (ROPE_NEOX == 0) {
        for (uint w = 0; w < p.n_rot / 2; ++w) {
            const vec2 c = cs[rb + w], x = qr[w];
            qr[w] = vec2(x.x * c.x - x.y * c.y, x.x * c.y + x.y * c.x);
        }
    } else {
        const uint qn = p.n_rot / 4;
        for (uint w = 0; w < qn; ++w) {
            const vec2 c0 = cs[rb + 2 * w], c1 = cs[rb + 2 * w + 1];
            const vec2 co = vec2(c0.x, c1.x), si = vec2(c0.y, c1.y);
            const vec2 a = qr[w], b = qr[w + qn];
            qr[w] = a * co - b * si;
            qr[w + qn] = a * si + b * co;
        }
    }
}

// Scaled score of the query against one key row starting at `base`, rotated at `pos`.
// LOAD(w) yields elements (2w, 2w+1) of the row as a vec2.
#define DEFINE_SCORE(NAME, LOAD)                                                   \
    float NAME(uint base, uint pos) {                                              \
        const uint rb = pos * (p.n_rot / 2);                                       \
        float d = 0.0;                                                             \
        if (ROPE_NEOX == 0) {                                                      \
            for (uint w = 0; w < p.n_rot / 2; ++w) {                               \
                const vec2 k = LOAD(w), c = cs[rb + w];                            \
                d += dot(qr[w], vec2(k.x * c.x - k.y * c.y, k.x * c.y + k.y * c.x)); \
            }                                                                      \
        } else {                                                                   \
            const uint qn = p.n_rot / 4;                                           \
            for (uint w = 0; w < qn; ++w) {                                        \
                const vec2 c0 = cs[rb + 2 * w], c1 = cs[rb + 2 * w + 1];           \
                const vec2 co = vec2(c0.x, c1.x), si = vec2(c0.y, c1.y);           \
                const vec2 a = LOAD(w), b = LOAD(w + qn);                          \
                d += dot(qr[w], a * co - b * si) + dot(qr[w + qn], a * si + b * co); \
            }                                                                      \
        }                                                                          \
        for (uint w = p.n_rot / 2; w < HALF; ++w) d += dot(qr[w], LOAD(w));        \
        return d * p.scale;                                                        \
    }
DEFINE_KV_PAIR(k_ring_pair, kc, K_TYPE, p.kv.k_scale_off, p.kv.k_sink_off)
DEFINE_KV_PAIR(v_ring_pair, vc, V_TYPE, p.kv.v_scale_off, p.kv.v_sink_off)
#define LOAD_KC(w) k_ring_pair(base, (w))  // base: ring row (slot * n_head_kv + kv head)
#define LOAD_KN(w) vec2(kn[base + 2 * (w)], kn[base + 2 * (w) + 1])
#ifdef HADAMARD
// kv_quant.glsl: a quantized K's rows (ring and fresh alike) are rotated; each is rotated back
// whole before RoPE. A quantized V's rows are summed rotated and acc rotated back at the end.
vec2 kr[HALF];
DEFINE_KV_FWHT(unrotate_kr, kr, HALF)
DEFINE_KV_FWHT(unrotate_acc, acc, HALF)
#define LOAD_KR(w) kr[w]
DEFINE_SCORE(score_kr, LOAD_KR)
DEFINE_SCORE(score_cache_plain, LOAD_KC)
DEFINE_SCORE(score_chunk_plain, LOAD_KN)
uint key_head;  // the kv head of this invocation's keys (main)
void key_home() {
    const uint mo = 2u * key_head * HEAD_DIM;
    for (uint w = 0; w < HALF; ++w)
        kr[w] = vec2(kt[mo + 2 * w], kt[mo + 2 * w + 1]) + kr[w] / vec2(kt[mo + HEAD_DIM + 2 * w], kt[mo + HEAD_DIM + 2 * w + 1]);
}
float score_cache(uint base, uint pos) {
    if (K_TYPE == KV_F16) return score_cache_plain(base, pos);
    for (uint w = 0; w < HALF; ++w) kr[w] = k_ring_pair(base, w);
    unrotate_kr();
    key_home();
    return score_kr(0u, pos);
}
float score_chunk(uint base, uint pos) {
    if (K_TYPE == KV_F16) return score_chunk_plain(base, pos);
    for (uint w = 0; w < HALF; ++w) kr[w] = vec2(kn[base + 2 * w], kn[base + 2 * w + 1]);
    unrotate_kr();
    key_home();
    return score_kr(0u, pos);
}
#else
DEFINE_SCORE(score_cache, LOAD_KC)
DEFINE_SCORE(score_chunk, LOAD_KN)
#endif

void main() {
    const uint gid = linear_group_id() * WG_SIZE + gl_LocalInvocationIndex;
    const uint n_items = p.n_tokens * p.n_head * p.n_splits;
    if (gid >= n_items) return;
    const uint s = gid % p.n_splits;
    const uint row = gid / p.n_splits;  // i * n_head + h
    const uint h = row % p.n_head;
    const uint i = row / p.n_head;
    const uint hk = h / (p.n_head / p.n_head_kv);  // GQA
#ifdef HADAMARD
    key_head = hk;
#endif

    const AttnStep st = steps[p.step_index];
    store_new(st, s, h, hk, 0u, 1u);
    uint nsv, nwv, j_begin, j_end;
    const uint n_vis = visible_range(st, i, s, p.n_sink, p.n_window, p.n_splits, nsv, nwv, j_begin, j_end);

    for (uint w = 0; w < HALF; ++w) {
        qr[w] = vec2(q[row * HEAD_DIM + 2 * w], q[row * HEAD_DIM + 2 * w + 1]);
        acc[w] = vec2(0.0);
    }
    rotate_query(n_vis - 1);

    float m = kNegHuge, l = 0.0;
    for (uint jb = j_begin; jb < j_end; jb += BLK) {
        const uint nb = min(BLK, j_end - jb);
        float sc[BLK];
        uint base[BLK];  // ring row (cache) or K/V row start as a float index (chunk)
        bool fresh[BLK];
        float mb = m;
        for (uint k = 0; k < nb; ++k) {
            uint idx;
            fresh[k] = chunk_token(st, i, jb + k, nsv, nwv, p.n_sink, p.n_window, idx);
            if (fresh[k]) {
                base[k] = (idx * p.n_head_kv + hk) * HEAD_DIM;
                sc[k] = score_chunk(base[k], jb + k);
            } else {
                base[k] = idx * p.n_head_kv + hk;
                sc[k] = score_cache(base[k], jb + k);
            }
            mb = max(mb, sc[k]);
        }
        const float corr = exp(m - mb);  // 0 on the first block
        l *= corr;
        for (uint w = 0; w < HALF; ++w) acc[w] *= corr;
        for (uint k = 0; k < nb; ++k) {
            const float pk = exp(sc[k] - mb);
            l += pk;
            const uint b = base[k];
            if (fresh[k]) {
                for (uint w = 0; w < HALF; ++w) acc[w] += pk * vec2(vn[b + 2 * w], vn[b + 2 * w + 1]);
            } else {
                for (uint w = 0; w < HALF; ++w) acc[w] += pk * v_ring_pair(b, w);
            }
        }
        m = mb;
    }
#ifdef HADAMARD
    if (V_TYPE != KV_F16) unrotate_acc();  // linear: the partial accs of a split may be rotated alone
#endif

    if (p.n_splits == 1) {
        const float r = softmax_finish(m, l, p.has_sinks != 0, p.has_sinks != 0 ? sinks[h] : 0.0);
        for (uint w = 0; w < HALF; ++w) {
            o[row * HEAD_DIM + 2 * w] = acc[w].x * r;
            o[row * HEAD_DIM + 2 * w + 1] = acc[w].y * r;
        }
    } else {
        part[2 * gid] = m;
        part[2 * gid + 1] = l;
        const uint ab = 2 * n_items + gid * HEAD_DIM;
        for (uint w = 0; w < HALF; ++w) {
            part[ab + 2 * w] = acc[w].x;
            part[ab + 2 * w + 1] = acc[w].y;
        }
    }
}
