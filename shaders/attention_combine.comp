#version 450
#extension GL_GOOGLE_include_directive : require
// Flash-decoding combine: merges the n_splits partial (m, l, acc) of each (query, head) row
// written by attention.comp, adding the learned sink logit (no value) to the denominator.
// One workgroup per row, invocations over the head's elements; no barriers.
#include "common.glsl"
#include "params.h"

layout(constant_id = 0) const uint WG_SIZE = 64;
layout(constant_id = 1) const uint HEAD_DIM = 128;
layout(local_size_x_id = 0) in;

layout(push_constant) uniform Push { AttnCombineParams p; };
layout(std430, binding = 0) readonly buffer Part { float part[]; };   // see attention.comp
layout(std430, binding = 1) readonly buffer Sinks { float sinks[]; }; // (n_head) when has_sinks
layout(std430, binding = 2) writeonly buffer Out { float o[]; };      // (n_rows, HEAD_DIM)

void main() {
    const uint row = linear_group_id();
    if (row >= p.n_rows) return;
    const uint n_items = p.n_rows * p.n_splits;
    const uint first = row * p.n_splits;
    float mm = -3.402823466e38;
    for (uint s = 0; s < p.n_splits; ++s) mm = max(mm, part[2 * (first + s)]);
    float denom = 0.0;
    if (p.has_sinks != 0) {
        const float sk = sinks[row % p.n_head];
        mm = max(mm, sk);
        denom = exp(sk - mm);
    }
    for (uint s = 0; s < p.n_splits; ++s) denom += part[2 * (first + s) + 1] * exp(part[2 * (first + s)] - mm);
    const float inv = 1.0 / denom;
    for (uint d = gl_LocalInvocationIndex; d < HEAD_DIM; d += WG_SIZE) {
        float sum = 0.0;
        for (uint s = 0; s < p.n_splits; ++s)
            sum += exp(part[2 * (first + s)] - mm) * part[2 * n_items + (first + s) * HEAD_DIM + d];
        o[row * HEAD_DIM + d] = sum * inv;
    }
}
