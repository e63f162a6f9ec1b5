#version 450
#extension GL_GOOGLE_include_directive : require
// RMS norm with optional weight, one workgroup per row: y = x / sqrt(mean(x^2) + eps) * w, stored
// (out = y) or accumulated (p.accumulate: out += y, a post-norm fused with its residual add).
// `out` may alias `x` when storing (each element is read before its own write). Rows beyond gl_NumWorkGroups.x continue on y (see linear_group_id).
#include "common.glsl"
#include "params.h"

layout(constant_id = 0) const uint WG_SIZE = 256;
layout(local_size_x_id = 0) in;

layout(push_constant) uniform Push { RmsNormParams p; };
layout(std430, binding = 0) readonly buffer X { float x[]; };      // (n_rows, n_cols)
layout(std430, binding = 1) readonly buffer W { float w[]; };      // (n_cols) or unused
layout(std430, binding = 2) buffer Out { float o[]; };             // (n_rows, n_cols)

#include "reduce.glsl"

void main() {
    const uint row = linear_group_id();
    if (row >= p.n_rows) return;  // uniform per workgroup: safe before barriers
    const uint base = row * p.n_cols;
    float ss = 0.0;
    for (uint c = gl_LocalInvocationIndex; c < p.n_cols; c += WG_SIZE) ss += x[base + c] * x[base + c];
    ss = wg_sum(ss);
    const float scale = inversesqrt(ss / float(p.n_cols) + p.eps);
    for (uint c = gl_LocalInvocationIndex; c < p.n_cols; c += WG_SIZE) {
        const float y = x[base + c] * scale * (p.has_weight != 0 ? w[c] : 1.0);
        o[base + c] = p.accumulate != 0 ? o[base + c] + y : y;
    }
}
