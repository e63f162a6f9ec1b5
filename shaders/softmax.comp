#version 450
#extension GL_GOOGLE_include_directive : require
// Numerically stable row softmax of scale * x, one workgroup per row. `out` may alias `x`.
#include "common.glsl"
#include "params.h"

layout(constant_id = 0) const uint WG_SIZE = 256;
layout(local_size_x_id = 0) in;

layout(push_constant) uniform Push { SoftmaxParams p; };
layout(std430, binding = 0) readonly buffer X { float x[]; };     // (n_rows, n_cols)
layout(std430, binding = 1) writeonly buffer Out { float o[]; };  // (n_rows, n_cols)

#include "reduce.glsl"

void main() {
    const uint row = linear_group_id();
    if (row >= p.n_rows) return;
    const uint base = row * p.n_cols;
    float m = -3.402823466e38;
    for (uint c = gl_LocalInvocationIndex; c < p.n_cols; c += WG_SIZE) m = max(m, p.scale * x[base + c]);
    m = wg_max(m);
    float s = 0.0;
    for (uint c = gl_LocalInvocationIndex; c < p.n_cols; c += WG_SIZE) s += exp(p.scale * x[base + c] - m);
    s = wg_sum(s);
    const float inv = 1.0 / s;
    for (uint c = gl_LocalInvocationIndex; c < p.n_cols; c += WG_SIZE) o[base + c] = exp(p.scale * x[base + c] - m) * inv;
}
