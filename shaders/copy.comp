#version 450
#extension GL_GOOGLE_include_directive : require
// dst[i] = src[i] for n_words uint32 words: the device's copy bandwidth, the yardstick the
// matvec benchmark is compared against (vkstream bench --kernels). Each invocation copies
// one word per step of a grid-stride loop.
#include "common.glsl"
#include "params.h"

layout(constant_id = 0) const uint WG_SIZE = 64;
layout(local_size_x_id = 0) in;

layout(push_constant) uniform Push { CopyParams p; };
layout(std430, binding = 0) readonly buffer Src { uint src[]; };   // (n_words)
layout(std430, binding = 1) writeonly buffer Dst { uint dst[]; };  // (n_words)

void main() {
    const uint n_inv = gl_NumWorkGroups.x * gl_NumWorkGroups.y * WG_SIZE;
    for (uint i = linear_group_id() * WG_SIZE + gl_LocalInvocationIndex; i < p.n_words; i += n_inv) dst[i] = src[i];
}
