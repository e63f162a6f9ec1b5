#version 450
#extension GL_GOOGLE_include_directive : require
// Gated linear units of the FFN: out[i] = act(gate[i]) * up[i], act = silu (ACT_SILU) or gelu
// (ACT_GELU), as defined in activation.glsl.
#include "common.glsl"
#include "params.h"
#include "activation.glsl"

layout(constant_id = 0) const uint WG_SIZE = 256;
layout(local_size_x_id = 0) in;

layout(push_constant) uniform Push { GluParams p; };
layout(std430, binding = 0) readonly buffer Gate { float gate[]; };
layout(std430, binding = 1) readonly buffer Up { float up[]; };
layout(std430, binding = 2) writeonly buffer Out { float o[]; };

float act(float x) {
#if defined(ACT_SILU)
    return act_silu(x);
#elif defined(ACT_GELU)
    return act_gelu(x);
#else
#error "define ACT_SILU or ACT_GELU"
#endif
}

void main() {
    const uint stride = gl_NumWorkGroups.x * gl_NumWorkGroups.y * WG_SIZE;
    for (uint i = linear_group_id() * WG_SIZE + gl_LocalInvocationIndex; i < p.n; i += stride)
        o[i] = act(gate[i]) * up[i];
}
