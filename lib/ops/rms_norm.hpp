#pragma once
// RMS norm over rows: out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * weight (weight optional).
#include "ops/kernels.hpp"

namespace vks::ops {

// x, out: (n_rows, n_cols) f32; weight: (n_cols) f32 or nullptr buffer for none.
void rms_norm(Kernels& k, vk::Commands& cmd, vk::BufferRange x, const vk::BufferRange* weight, vk::BufferRange out,
              uint32_t n_rows, uint32_t n_cols, float eps);

}  // namespace vks::ops
