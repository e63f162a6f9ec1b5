#pragma once
// FFN gates: out = silu(gate) * up (llama) or gelu_tanh(gate) * up (gemma).
#include "ops/kernels.hpp"

namespace vks::ops {

enum class GluKind { silu, gelu };

void glu(Kernels& k, vk::Commands& cmd, GluKind kind, vk::BufferRange gate, vk::BufferRange up, vk::BufferRange out,
         uint32_t n);

}  // namespace vks::ops
