#version 450
#extension GL_GOOGLE_include_directive : require
// Gated linear units of the FFN: out[i] = act(gate[i]) * up[i].
//   SILU: act(x) = x / (1 + exp(-x))
//   GELU: act(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))  (tanh approximation)
#include "common.glsl"
#include "params.h"

layout(constant_id = 0) const uint WG_SIZE = 256;
layout(local_size_x_id = 0) in;

layout(push_constant) uniform Push { GluParams p; };
layout(std430, binding = 0) readonly buffer Gate { float gate[]; };
layout(std430, binding = 1) readonly buffer Up { float up[]; };
layout(std430, binding = 2) writeonly buffer Out { float o[]; };

float act(float x) {
#if defined(ACT_SILU)
    return x / (1.0 + exp(-x));
#elif defined(ACT_GELU)
    const float k = 0.7978845608028654;  // sqrt(2/pi)
    // tanh via exp, clamped: GLSL tanh of large |u| can be NaN on some drivers.
    float u = clamp(k * (x + 0.044715 * x * x * x), -15.0, 15.0);
    float e = exp(2.0 * u);
    return 0.5 * x * (1.0 + (e - 1.0) / (e + 1.0));
#else
#error "define ACT_SILU or ACT_GELU"
#endif
}

void main() {
    const uint stride = gl_NumWorkGroups.x * gl_NumWorkGroups.y * WG_SIZE;
    for (uint i = linear_group_id() * WG_SIZE + gl_LocalInvocationIndex; i < p.n; i += stride)
        o[i] = act(gate[i]) * up[i];
}
