#version 450
#extension GL_GOOGLE_include_directive : require
// The device's arithmetic peak, the yardstick prefill GFLOP/s is compared against (vkstream
// bench --kernels): each invocation runs 8 independent chains of vec4 fused multiply-adds,
// a = fma(a, m, c), for p.n_iter steps: 8 * 4 * 2 = 64 flops per step, no memory traffic in the
// loop. Independent chains hide the FMA latency; m < 1 keeps the values bounded. The result of
// every chain is summed and written, so nothing is dead code, and it has a CPU reference
// (lib/ref/fma_peak.cpp) the tests compare with.
#include "common.glsl"
#include "params.h"

layout(constant_id = 0) const uint WG_SIZE = 64;
layout(local_size_x_id = 0) in;

layout(push_constant) uniform Push { FmaPeakParams p; };
layout(std430, binding = 0) writeonly buffer Out { float o[]; };  // (n_invocations)

void main() {
    const uint i = linear_group_id() * WG_SIZE + gl_LocalInvocationIndex;
    if (i >= p.n_invocations) return;
    const float x = float(i % 1024u) * (1.0 / 1024.0);
    const vec4 m = vec4(0.9990, 0.9991, 0.9992, 0.9993), c = vec4(0.001, 0.002, 0.003, 0.004);
    vec4 a[8];
    [[unroll]] for (uint k = 0; k < 8u; ++k) a[k] = vec4(x + float(k));
    for (uint n = 0; n < p.n_iter; ++n)
        [[unroll]] for (uint k = 0; k < 8u; ++k) a[k] = fma(a[k], m, c);
    vec4 s = vec4(0.0);
    [[unroll]] for (uint k = 0; k < 8u; ++k) s += a[k];
    o[i] = (s.x + s.y) + (s.z + s.w);
}
