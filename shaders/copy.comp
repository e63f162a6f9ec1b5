#version 450
#extension GL_GOOGLE_include_directive : require
// dst[i] = src[i] for n_words uint32 words: the device's copy bandwidth, the yardstick the
// matvec benchmark is compared against (vkstream bench --kernels). Grid-stride loop.
//   copy_u32 (no define): one word per step through storage buffers (what the SSBO matvec
//                         variants read through).
//   TEXEL (copy_tb):      src is a uniform texel buffer, one 16-byte texel per step, stored
//                         as a uvec4 (the read path of the _tb matvec variants).
//   TEXEL READ_ONLY (read_tb): texels are only read and summed; dst is written only if the
//                         sum hits a magic value (never, for the benchmark's data), so this
//                         measures texel read bandwidth, what a matvec mostly does.
#include "common.glsl"
#include "params.h"

layout(constant_id = 0) const uint WG_SIZE = 64;
layout(local_size_x_id = 0) in;

layout(push_constant) uniform Push { CopyParams p; };
#ifdef TEXEL
layout(binding = 0) uniform usamplerBuffer src;                      // (n_words / 4) texels
layout(std430, binding = 1) writeonly buffer Dst { uvec4 dst[]; };  // (n_words / 4)
#else
layout(std430, binding = 0) readonly buffer Src { uint src[]; };   // (n_words)
layout(std430, binding = 1) writeonly buffer Dst { uint dst[]; };  // (n_words)
#endif

void main() {
    const uint n_inv = gl_NumWorkGroups.x * gl_NumWorkGroups.y * WG_SIZE;
    const uint first = linear_group_id() * WG_SIZE + gl_LocalInvocationIndex;
#if defined(TEXEL) && defined(READ_ONLY)
    uvec4 acc = uvec4(0u);
    for (uint i = first; i < p.n_words / 4u; i += n_inv) acc += texelFetch(src, int(i));
    if (acc.x + acc.y + acc.z + acc.w == 0x9e3779b9u) dst[first] = acc;
#elif defined(TEXEL)
    for (uint i = first; i < p.n_words / 4u; i += n_inv) dst[i] = texelFetch(src, int(i));
#else
    for (uint i = first; i < p.n_words; i += n_inv) dst[i] = src[i];
#endif
}
