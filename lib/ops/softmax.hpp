#pragma once
// Row softmax of scale * x (numerically stable).
#include "ops/kernels.hpp"

namespace vks::ops {

// x, out: (n_rows, n_cols) f32; out may be x.
void softmax(Kernels& k, vk::Commands& cmd, vk::BufferRange x, vk::BufferRange out, uint32_t n_rows, uint32_t n_cols,
             float scale = 1.0f);

}  // namespace vks::ops
