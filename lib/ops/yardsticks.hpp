#pragma once
// Benchmark yardsticks: what the device can do at best, for `vkstream bench --kernels` to compare
// the kernels with. fma_peak measures arithmetic (shaders/fma_peak.comp; reference
// lib/ref/fma_peak.hpp; test tests/kernels/test_yardsticks.cpp). The copy bandwidth yardsticks
// are the copy_* shaders in shaders/copy.comp, dispatched by the benchmark.
#include <cstdint>

#include "ops/kernels.hpp"

namespace vks::ops {

// Records n_invocations invocations of n_iter steps of 8 vec4 FMA chains; out: (n_invocations) f32.
void fma_peak(Kernels& k, vk::Commands& cmd, vk::BufferRange out, uint32_t n_invocations, uint32_t n_iter);
// Floating-point operations one fma_peak call performs (an FMA counts as 2).
inline double fma_peak_flops(uint32_t n_invocations, uint32_t n_iter) { return 64.0 * n_invocations * double(n_iter); }

}  // namespace vks::ops
