#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_spirv_intrinsics : require
// Integer-dot matrix-vector product (decode): Y[c][row] = sum_k W[row][k] * X[c][k] with X given
// as Q8_1 blocks (quantize_q8_1.comp) and W in a legacy block type or a K-quant, whose weights are
// w = a * q + b per 32-element block with small integers q (lib/ref/matvec_q8_1.hpp):
//   block contribution = a * (d_x * dot(q, q_x)) + b * s_x
// (K-quants: per 32-element sub-block of the 256-element super-block, Q6_K with one a per 16
// elements) where dot(q, q_x) is 8 packed 4 x int8 dot products (OpSDot, SPV_KHR_integer_dot_product,
// core in Vulkan 1.3; the device must enable shaderIntegerDotProduct). On GPUs with dp4a-style
// instructions that replaces the per-weight conversion and FMA of the float path with one
// instruction per 4 weights; on lavapipe the instruction is emulated ("not accelerated").
// Scheme: each invocation owns one row and NC (1 or 8) columns; no shared memory, no barriers.
// The weight layout is the float matvec's (matmul_load.glsl: row groups, split d arrays).
// Accumulation: exact int32 per block, then f32 across blocks.
// QUANTIZE_X (the _x variants): X arrives as f32 and each workgroup quantizes the dispatch's
// columns itself, into shared memory, before its rows start (with p.norm, RMS-normalizing each
// column first with weight g, binding 3): the product is one dispatch, not a quantize_q8_1 and
// a matvec. The blocks are those of quantize_q8_1.comp (same rounding); only the norm's sum of
// squares is added in another order (a workgroup tree). Every workgroup redoes the K / 32 blocks
// of each column, which is small next to its WG_SIZE rows of K weights. Host side: the blocks
// must fit the device's shared memory (ops::matvec_q8_1_quantizes_x), XS_BLOCKS >= NC * n_sub.
#include "common.glsl"
#include "params.h"

layout(constant_id = 0) const uint WG_SIZE = 64;
layout(constant_id = 1) const uint NC = 1;  // column slots; p.N <= NC are used
layout(local_size_x_id = 0) in;

layout(push_constant) uniform Push { MatmulParams p; };
layout(std430, binding = 0) readonly buffer W { uint wq[]; };   // device weight layout
#ifdef QUANTIZE_X
layout(constant_id = 2) const uint XS_BLOCKS = 1;               // Q8_1 blocks the shared array holds
layout(std430, binding = 1) readonly buffer X { vec4 x[]; };    // (N, K) f32, indexed from column 0
layout(std430, binding = 3) readonly buffer G { vec4 g[]; };    // (K) norm weight (X when p.norm == 0)
const uint XQ_STRIDE = 10u;                                     // 8 words of int8 quants, d, s
shared uint xs[XS_BLOCKS * XQ_STRIDE];                          // (NC, n_sub) blocks, slot c = column col0 + c
#define XQ_WORD(i) xs[i]
#define XQ_BLOCK(c, blk) ((c) * p.n_sub + (blk)) * XQ_STRIDE
#include "reduce.glsl"
#include "q8_1_block.glsl"
#else
layout(std430, binding = 1) readonly buffer XQ { uint xq[]; };  // (N, n_sub) Q8_1 blocks, 12 words each
#define XQ_WORD(i) xq[i]
#define XQ_BLOCK(c, blk) ((p.col0 + (c)) * p.n_sub + (blk)) * 12u
#endif
layout(std430, binding = 2) buffer Y { float y[]; };            // (N, y_stride)

#include "dequant.glsl"
#include "matmul_epilogue.glsl"
#include "matmul_load.glsl"

// OpSDot on two words of 4 packed signed 8-bit integers (PackedVectorFormat4x8Bit = 0).
// glslang 12 (Debian 12) predates GL_EXT_integer_dot_product, so the instruction is declared
// through GL_EXT_spirv_intrinsics: capabilities DotProduct (6019), DotProductInput4x8BitPacked (6018).
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6019, 6018], id = 4450)
int sdot4x8(uint a, uint b, spirv_literal int packed_format);

// 4 nibbles' 5th bits, bits 0..3 of h, moved to bit 4 of each byte.
uint high_bits4(uint h) { return ((h & 1u) << 4) | ((h & 2u) << 11) | ((h & 4u) << 18) | ((h & 8u) << 25); }

#ifdef QUANTIZE_X
// Columns col0 .. col0 + N - 1 of X into xs (quantize_q8_1.comp's blocks); every invocation of
// the workgroup takes part (barriers), so this runs before any invocation leaves.
void quantize_x() {
    const uint nb = p.n_sub, k4 = p.K >> 2;
    [[unroll]] for (uint c = 0u; c < NC; ++c) {
        if (c >= p.N) break;  // uniform
        const uint x0 = (p.col0 + c) * k4;
        float scale = 1.0;
        if (p.norm != 0u) {
            float ssq = 0.0;
            for (uint i = gl_LocalInvocationIndex; i < k4; i += WG_SIZE) ssq += dot(x[x0 + i], x[x0 + i]);
            scale = inversesqrt(wg_sum(ssq) / float(p.K) + p.eps);
        }
        for (uint b = gl_LocalInvocationIndex; b < nb; b += WG_SIZE) {
            vec4 v[8];
            [[unroll]] for (uint j = 0u; j < 8u; ++j) {
                v[j] = x[x0 + b * 8u + j];
                if (p.norm != 0u) v[j] *= g[b * 8u + j] * scale;
            }
            uint words[8];
            float d;
            int sum;
            q8_1_block(v, words, d, sum);
            const uint o = XQ_BLOCK(c, b);
            [[unroll]] for (uint j = 0u; j < 8u; ++j) xs[o + j] = words[j];
            xs[o + 8u] = floatBitsToUint(d);
            xs[o + 9u] = floatBitsToUint(d * float(sum));
        }
    }
    barrier();
}
#endif

void main() {
#ifdef QUANTIZE_X
    quantize_x();
#endif
    const uint row = linear_group_id() * WG_SIZE + gl_LocalInvocationID.x;
    if (row >= p.M) return;
    const uint nb = p.n_sub;
    float acc[NC];
    [[unroll]] for (uint c = 0u; c < NC; ++c) acc[c] = 0.0;
    for (uint blk = 0u; blk < nb; ++blk) {
        // The block's quants as 8 words of packed int8 (elements 4j .. 4j + 3 in word j), and
        // w = a * q + b, with a = (a0, a1) for elements 0..15 and 16..31 (equal but for Q6_K).
        uint w[8];
        float a0, a1, b;
#if defined(SUPER_BLOCKS)
        // Sub-block j of super-block blk / 8 (lib/ref/matvec_q8_1.hpp states the decodings).
        const uint j = blk & 7u, bi = block_idx(row, blk >> 3, nb >> 3), base = bi * BLOCK_WORDS;
#if defined(W_Q4_K) || defined(W_Q5_K)
        const vec2 dd = unpackHalf2x16(word(base));                 // d, dmin
        const uvec3 sw = uvec3(word(base + 1u), word(base + 2u), word(base + 3u));
        const vec2 sm = k4_scale_min(sw, j);
        a0 = dd.x * sm.x, a1 = a0, b = -dd.y * sm.y;
#if defined(W_Q4_K)
        const uint q0 = base + 4u + 8u * (j >> 1);                  // qs chunk j / 2
#else
        const uint q0 = base + 12u + 8u * (j >> 1), h0 = base + 4u;  // qs chunk j / 2; qh
#endif
        const uint sh = (j & 1u) * 4u;
        [[unroll]] for (uint i = 0u; i < 8u; ++i) {
            w[i] = (word(q0 + i) >> sh) & 0x0F0F0F0Fu;
#if defined(W_Q5_K)
            w[i] |= ((word(h0 + i) >> j) & 0x01010101u) << 4;       // bit j of qh byte l
#endif
        }
#elif defined(W_Q6_K)
        const uint h = j >> 2, k = j & 3u;
        const uint l0 = base + 16u * h + 8u * (k & 1u), h0 = base + 32u + 8u * h;
        const uint ls = (k >> 1) * 4u, hs = 2u * k;
        [[unroll]] for (uint i = 0u; i < 8u; ++i) {
            const uint u = ((word(l0 + i) >> ls) & 0x0F0F0F0Fu) | (((word(h0 + i) >> hs) & 0x03030303u) << 4);
            // Per byte u - 32 (u in 0..63) as int8, without borrows between bytes: u + 96 is in
            // 96..159, and flipping bit 7 subtracts 128 modulo 256.
            w[i] = ((u | 0x80808080u) - 0x20202020u) ^ 0x80808080u;
        }
        const uint scw = word(base + 48u + 2u * h + (k >> 1)) >> (16u * (k & 1u));  // scales 2j, 2j + 1
        const float d = split_d(bi);
        a0 = d * float(int(scw << 24) >> 24), a1 = d * float(int(scw << 16) >> 24), b = 0.0;
#endif
#elif defined(W_Q8_0)
        const uint bi = block_idx(row, blk, nb), base = bi * BLOCK_WORDS;
        [[unroll]] for (uint j = 0u; j < 8u; ++j) w[j] = word(base + j);
        a0 = split_d(bi), a1 = a0, b = 0.0;
#else
        const uint bi = block_idx(row, blk, nb), base = bi * BLOCK_WORDS;
        float a;
#if defined(W_Q4_0)
        const uint qs0 = base;
        a = split_d(bi), b = -8.0 * a;
#elif defined(W_Q4_1)
        const uint qs0 = base + 1u;
        const vec2 dm = unpackHalf2x16(word(base));
        a = dm.x, b = dm.y;
#elif defined(W_Q5_0)
        const uint qs0 = base + 1u, qh = word(base);
        a = split_d(bi), b = -16.0 * a;
#elif defined(W_Q5_1)
        const uint qs0 = base + 2u, qh = word(base + 1u);
        const vec2 dm = unpackHalf2x16(word(base));
        a = dm.x, b = dm.y;
#endif
        a0 = a, a1 = a;
        [[unroll]] for (uint j = 0u; j < 4u; ++j) {
            const uint qs = word(qs0 + j);
            w[j] = qs & 0x0F0F0F0Fu;             // elements 4j .. 4j + 3: low nibbles
            w[j + 4u] = (qs >> 4) & 0x0F0F0F0Fu;  // elements 16 + 4j ..: high nibbles
#if defined(W_Q5_0) || defined(W_Q5_1)
            w[j] |= high_bits4(qh >> (4u * j));
            w[j + 4u] |= high_bits4(qh >> (16u + 4u * j));
#endif
        }
#endif
        [[unroll]] for (uint c = 0u; c < NC; ++c) {
            if (c >= p.N) break;
            const uint o = XQ_BLOCK(c, blk);
#if defined(W_Q6_K)
            int dlo = 0, dhi = 0;
            [[unroll]] for (uint i = 0u; i < 4u; ++i) dlo += sdot4x8(w[i], XQ_WORD(o + i), 0);
            [[unroll]] for (uint i = 4u; i < 8u; ++i) dhi += sdot4x8(w[i], XQ_WORD(o + i), 0);
            acc[c] += uintBitsToFloat(XQ_WORD(o + 8u)) * (a0 * float(dlo) + a1 * float(dhi));
#else
            int dot = 0;
            [[unroll]] for (uint i = 0u; i < 8u; ++i) dot += sdot4x8(w[i], XQ_WORD(o + i), 0);
            acc[c] += a0 * (uintBitsToFloat(XQ_WORD(o + 8u)) * float(dot)) + b * uintBitsToFloat(XQ_WORD(o + 9u));
#endif
        }
    }
    [[unroll]] for (uint c = 0u; c < NC; ++c)
        if (c < p.N) write_y(y_index(p.col0 + c, p.y_row0 + row), acc[c]);
}
