#version 450
#extension GL_GOOGLE_include_directive : require
// Writes a chunk's fresh K and V (f32) into the circular cache as packed f16 pairs, only for the
// tokens that survive the chunk (kv::chunk_writes_token: sinks, and the chunk's last n_window
// tokens). Those land in pairwise distinct slots, so invocations never race. Must run after the
// chunk's attention (which reads the ring as it was before the chunk).
// One invocation per (token i, word w of its n_head_kv * head_dim / 2 words).
#include "common.glsl"
#include "params.h"
#include "attention_common.glsl"

layout(constant_id = 0) const uint WG_SIZE = 256;
layout(local_size_x_id = 0) in;

layout(push_constant) uniform Push { KvStoreParams p; };
layout(std430, binding = 0) readonly buffer Steps { AttnStep steps[]; };
layout(std430, binding = 1) readonly buffer KN { float kn[]; };   // (n_tokens, n_head_kv, head_dim)
layout(std430, binding = 2) readonly buffer VN { float vn[]; };
layout(std430, binding = 3) writeonly buffer KC { uint kc[]; };   // (C, n_head_kv, head_dim / 2)
layout(std430, binding = 4) writeonly buffer VC { uint vc[]; };

void main() {
    const uint g = linear_group_id() * WG_SIZE + gl_LocalInvocationIndex;
    if (g >= p.n_words) return;
    const uint i = g / p.row_words;
    uint slot;
    if (!ring_store_slot(steps[p.step_index], i, p.n_tokens, p.n_sink, p.n_window, slot)) return;  // overwritten later in this chunk
    const uint dst = slot * p.row_words + (g - i * p.row_words);
    kc[dst] = packHalf2x16(vec2(kn[2 * g], kn[2 * g + 1]));
    vc[dst] = packHalf2x16(vec2(vn[2 * g], vn[2 * g + 1]));
}
