#version 450
#extension GL_GOOGLE_include_directive : require
// RMS norm with optional weight, one workgroup per row: y = x / sqrt(mean(x^2) + eps) * w, stored
// (out = y) or accumulated (p.accumulate: out += y, a post-norm fused with its residual add).
// `out` may alias `x` when storing (each element is read before its own write). Rows beyond gl_NumWorkGroups.x continue on y (see linear_group_id).
// Two ranges (p.n_rows_a != 0, storing, ops::rms_norm_pair): rows from n_rows_a on start at
// element b_offset + (row - n_rows_a) * n_cols and take the weight w2 (Gemma 3's q and k heads, one
// dispatch for both).
// QUANT_Q8_1 (with p.accumulate): also the next product's input, quantize_q8_1 of the updated row
// with the next norm (weight g2, same eps) into xq, in the same dispatch: a residual stream's
// post-norm add and the next layer's activation quantization in one (Gemma 3 decode on the
// integer-dot path). Same block format and rounding as quantize_q8_1.comp.
#include "common.glsl"
#include "params.h"

layout(constant_id = 0) const uint WG_SIZE = 256;
layout(local_size_x_id = 0) in;

layout(push_constant) uniform Push { RmsNormParams p; };
layout(std430, binding = 0) readonly buffer X { float x[]; };      // (n_rows, n_cols)
layout(std430, binding = 1) readonly buffer W { float w[]; };      // (n_cols) or unused
#ifdef QUANT_Q8_1
// coherent: each invocation reads back elements that others wrote (after the barrier below).
layout(std430, binding = 2) coherent buffer Out { float o[]; };    // (n_rows, n_cols)
layout(std430, binding = 3) readonly buffer G2 { float g2[]; };    // (n_cols): the next norm's weight
layout(std430, binding = 4) writeonly buffer XQ { uint xq[]; };    // (n_rows, n_cols / 32) blocks of 12 words
#else
layout(std430, binding = 2) buffer Out { float o[]; };             // (n_rows, n_cols)
layout(std430, binding = 3) readonly buffer W2 { float w2[]; };    // (n_cols): the second range's weight
#endif

#include "reduce.glsl"

void main() {
    const uint row = linear_group_id();
    if (row >= p.n_rows) return;  // uniform per workgroup: safe before barriers
#ifdef QUANT_Q8_1
    const uint base = row * p.n_cols;
#else
    const bool second = p.n_rows_a != 0u && row >= p.n_rows_a;  // uniform per workgroup
    const uint base = second ? p.b_offset + (row - p.n_rows_a) * p.n_cols : row * p.n_cols;
#endif
    float ss = 0.0;
    for (uint c = gl_LocalInvocationIndex; c < p.n_cols; c += WG_SIZE) ss += x[base + c] * x[base + c];
    ss = wg_sum(ss);
    const float scale = inversesqrt(ss / float(p.n_cols) + p.eps);
    float ss2 = 0.0;  // QUANT_Q8_1: sum of squares of the updated row
    for (uint c = gl_LocalInvocationIndex; c < p.n_cols; c += WG_SIZE) {
#ifdef QUANT_Q8_1
        const float g = w[c];
#else
        const float g = second ? w2[c] : w[c];
#endif
        const float y = x[base + c] * scale * (p.has_weight != 0 ? g : 1.0);
        const float v = p.accumulate != 0 ? o[base + c] + y : y;
        o[base + c] = v;
        ss2 += v * v;
    }
#ifdef QUANT_Q8_1
    memoryBarrierBuffer();  // the row's writes, visible to the workgroup after wg_sum's barriers
    ss2 = wg_sum(ss2);
    const float scale2 = inversesqrt(ss2 / float(p.n_cols) + p.eps);
    const uint nb = p.n_cols >> 5;
    for (uint b = gl_LocalInvocationIndex; b < nb; b += WG_SIZE) {
        const uint e0 = base + 32u * b;
        float amax = 0.0;
        for (uint i = 0u; i < 32u; ++i) amax = max(amax, abs(o[e0 + i] * (g2[32u * b + i] * scale2)));
        const float d = amax / 127.0;
        int sum = 0;
        const uint q0 = (row * nb + b) * 12u;
        for (uint j = 0u; j < 8u; ++j) {
            uint word = 0u;
            for (uint t = 0u; t < 4u; ++t) {
                const float v = o[e0 + 4u * j + t] * (g2[32u * b + 4u * j + t] * scale2);
                const int q = d > 0.0 ? int(clamp(roundEven(v / d), -127.0, 127.0)) : 0;
                sum += q;
                word |= uint(q & 255) << (8u * t);
            }
            xq[q0 + j] = word;
        }
        xq[q0 + 8u] = floatBitsToUint(d);
        xq[q0 + 9u] = floatBitsToUint(d * float(sum));
        xq[q0 + 10u] = 0u;
        xq[q0 + 11u] = 0u;
    }
#endif
}
