#pragma once
// CPU reference of shaders/fma_peak.comp: the value invocation i writes after n_iter steps.
#include <cstdint>

namespace vks::ref {

float fma_peak(uint32_t invocation, uint32_t n_iter);

}  // namespace vks::ref
