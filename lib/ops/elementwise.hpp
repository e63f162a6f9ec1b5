#pragma once
// out[i] = a[i] + b[i % n_b] / a[i] * b[i % n_b] (b broadcasts over rows when n_b < n).
#include "ops/kernels.hpp"

namespace vks::ops {

void add(Kernels& k, vk::Commands& cmd, vk::BufferRange a, vk::BufferRange b, vk::BufferRange out, uint32_t n,
         uint32_t n_b);
void mul(Kernels& k, vk::Commands& cmd, vk::BufferRange a, vk::BufferRange b, vk::BufferRange out, uint32_t n,
         uint32_t n_b);

}  // namespace vks::ops
