#pragma once
// RoPE configuration of a model and the cos/sin table the attention shader reads.
//
// Keys are stored un-rotated in the cache and rotated at read time at their cache-relative
// position (< capacity), so one table of capacity x n_rot/2 (cos, sin) pairs serves every step:
//   angle(pos, i) = pos * freq_scale * theta_base^(-2i / n_rot),   0 <= i < n_rot / 2
// freq_scale = 1 / (GGUF rope.scaling.factor) for linear scaling ("position interpolation"),
// 1 for none. Other scaling types (yarn, longrope, ...) are refused with Status::unsupported
// by rope_freq_scale(), which whoever parses model metadata should call.
#include <cstdint>
#include <string>
#include <vector>

#include "ref/rope.hpp"

namespace vks::kv {

using RopeStyle = ref::RopeStyle;  // normal: pairs (2i, 2i+1); neox: pairs (i, i + n_rot/2)

struct RopeConfig {
    float theta_base = 10000.0f;
    float freq_scale = 1.0f;   // multiplies positions; 1 / linear scaling factor
    uint32_t n_rot = 0;        // rotated dims (partial rotary); 0 means head_dim
    RopeStyle style = RopeStyle::normal;

    uint32_t rotated_dims(uint32_t head_dim) const { return n_rot ? n_rot : head_dim; }
    // invalid_argument: odd or oversized n_rot, theta_base or freq_scale <= 0;
    // unsupported: neox with n_rot not a multiple of 4 (the shader rotates two pairs per word pair).
    void validate(uint32_t head_dim) const;
    // The same rotation in the CPU reference's terms (scale_factor = 1 / freq_scale).
    ref::RopeParams ref_params(uint32_t head_dim) const;
};

// GGUF `rope.scaling.type` + `rope.scaling.factor` -> freq_scale. "" and "none" give 1,
// "linear" gives 1 / factor (factor > 0); anything else is Status::unsupported.
float rope_freq_scale(const std::string& scaling_type, float factor);

// Host table: (n_pos, n_rot / 2, 2) floats, (cos, sin) of angle(pos, i), computed in double.
std::vector<float> rope_cos_sin_table(uint32_t n_pos, uint32_t head_dim, const RopeConfig& rope);

}  // namespace vks::kv
