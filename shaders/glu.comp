#version 450
#extension GL_GOOGLE_include_directive : require
// Gated linear units of the FFN: out[i] = act(gate[i]) * up[i], act = silu (ACT_SILU) or gelu
// (ACT_GELU), as defined in activation.glsl.
// PAIRED: gate and up come interleaved from one product of a paired gate/up tensor
// (ops::upload_paired_weight: in every 8 rows, 4 gate rows then the matching 4 up rows), so
// output i reads gate at (i / 4) * 8 + i % 4 and up 4 after it (both bindings: that buffer).
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
#ifdef PAIRED
    {
        const uint g = (i >> 2) * 8u + (i & 3u);
        o[i] = act(gate[g]) * up[g + 4u];
    }
#else
        o[i] = act(gate[i]) * up[i];
#endif
}
