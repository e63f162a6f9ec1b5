#pragma once
// The cos/sin table the attention shaders read, built from a layer's kv::RopeConfig
// (kv/contract.h states the angle formula and the pairings).
//
// Keys are stored un-rotated in the cache and rotated at read time at their cache-relative
// position (< capacity), so one table of capacity x n_rot/2 (cos, sin) pairs serves every step.
// RoPE scaling is parsed once, by model::Description (only none and linear exist as freq_scale).
#include <cstdint>
#include <vector>

#include "kv/contract.h"

namespace vks::kv {

// Host table: (n_pos, n_rot / 2, 2) floats, (cos, sin) of angle(pos, i), computed in double.
std::vector<float> rope_cos_sin_table(uint32_t n_pos, uint32_t head_dim, const RopeConfig& rope);

}  // namespace vks::kv
