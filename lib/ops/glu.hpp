#pragma once
// FFN gates: out = silu(gate) * up (llama) or gelu_tanh(gate) * up (gemma).
#include "ops/kernels.hpp"

namespace vks::ops {

enum class GluKind { silu, gelu };

void glu(Kernels& k, vk::Commands& cmd, GluKind kind, vk::BufferRange gate, vk::BufferRange up, vk::BufferRange out,
         uint32_t n);
// The same from the interleaved product of a paired gate/up tensor (ops::upload_paired_weight):
// out[i] = act(in[(i / 4) * 8 + i % 4]) * in[(i / 4) * 8 + 4 + i % 4], in: 2n floats, n % 4 == 0.
void glu_paired(Kernels& k, vk::Commands& cmd, GluKind kind, vk::BufferRange in, vk::BufferRange out, uint32_t n);

}  // namespace vks::ops
