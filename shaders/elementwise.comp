#version 450
#extension GL_GOOGLE_include_directive : require
// out[i] = a[i] OP b[i % n_b]: residual adds and weight/scale multiplies. `out` may alias `a`.
// Grid-stride loop, so any n fits in a bounded number of workgroups.
#include "common.glsl"
#include "params.h"

layout(constant_id = 0) const uint WG_SIZE = 256;
layout(local_size_x_id = 0) in;

layout(push_constant) uniform Push { BinaryParams p; };
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer Out { float o[]; };

void main() {
    const uint stride = gl_NumWorkGroups.x * gl_NumWorkGroups.y * WG_SIZE;
    for (uint i = linear_group_id() * WG_SIZE + gl_LocalInvocationIndex; i < p.n; i += stride) {
        const float y = b[p.n_b == p.n ? i : i % p.n_b];
#if defined(OP_ADD)
        o[i] = a[i] + y;
#elif defined(OP_MUL)
        o[i] = a[i] * y;
#else
#error "define OP_ADD or OP_MUL"
#endif
    }
}
