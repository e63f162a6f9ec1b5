#version 450
#extension GL_GOOGLE_include_directive : require
// Activations to 8-bit blocks for the integer-dot matvec (matvec_q8_1.comp): per 32 elements of
// a column, d = max|x| / 127, q = roundEven(x / d) (0 when d == 0), s = d * sum(q), written as
// 12 words: q packed 4 per word (element 4j + t in byte t of word j), d and s as f32 bits in
// words 8 and 9, words 10-11 zero (three 16-byte texels). lib/ref/quantize_q8_1.cpp is the
// reference. With p.norm each column is first RMS-normalized with weight g, so the norm of a
// layer's input costs no dispatch of its own (as in the float matvec's fused norm).
// One invocation per column walks all of its K (two passes when normalizing): columns are few
// (decode: 1) and K is a few thousand at most, so this is short next to the matvec it feeds.
#include "common.glsl"
#include "params.h"
#include "q8_1_block.glsl"

layout(local_size_x_id = 0) in;
layout(push_constant) uniform Push { QuantizeQ8_1Params p; };
layout(std430, binding = 0) readonly buffer X { vec4 x[]; };   // (N, K)
layout(std430, binding = 1) writeonly buffer Q { uint q[]; };  // (N, K / 32) blocks of 12 words
layout(std430, binding = 2) readonly buffer G { vec4 g[]; };   // (K) norm weight (X when unused)

void main() {
    const uint col = gl_GlobalInvocationID.x;
    if (col >= p.N) return;
    const uint k4 = p.K >> 2, x0 = col * k4, nb = p.K >> 5;
    float scale = 1.0;
    if (p.norm != 0u) {
        float ssq = 0.0;
        for (uint i = 0u; i < k4; ++i) ssq += dot(x[x0 + i], x[x0 + i]);
        scale = inversesqrt(ssq / float(p.K) + p.eps);
    }
    for (uint b = 0u; b < nb; ++b) {
        vec4 v[8];
        [[unroll]] for (uint j = 0u; j < 8u; ++j) {
            v[j] = x[x0 + b * 8u + j];
            if (p.norm != 0u) v[j] *= g[b * 8u + j] * scale;
        }
        uint words[8];
        float d;
        int sum;
        q8_1_block(v, words, d, sum);
        const uint o = (col * nb + b) * 12u;
        [[unroll]] for (uint j = 0u; j < 8u; ++j) q[o + j] = words[j];
        q[o + 8u] = floatBitsToUint(d);
        q[o + 9u] = floatBitsToUint(d * float(sum));
        q[o + 10u] = 0u;
        q[o + 11u] = 0u;
    }
}
