#pragma once
// CPU reference: rotary position embedding (RoPE), from the one RoPE config of kv/contract.h.
//
// For rotated pair i (0 <= i < n_rot/2) at position p the angle is
//   angle(p, i) = p * freq_scale * theta_base^(-2i / n_rot)
// (freq_scale = 1 / linear scaling factor; 1 = none), and the pair (x0, x1) becomes
//   (x0 cos - x1 sin,  x0 sin + x1 cos).
// Pairings: 'normal' pairs (2i, 2i+1) (llama-family GGUF, whose converter permutes Q/K rows for
// this); 'neox' pairs (i, i + n_rot/2) (GPT-NeoX, Qwen2, Gemma, ...). Dimensions >= n_rot are left
// as they are (partial rotary).
// In vkstream positions are cache-relative (< cache capacity), never absolute stream indices.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kv/contract.h"

namespace vks::ref {

using kv::RopeConfig;
using kv::RopeStyle;

// Throws invalid_argument: head_dim == 0, odd/oversized rotated dims, theta_base or freq_scale
// not finite and > 0. (Looser than RopeConfig::validate: the reference rotates any even n_rot in neox.)
void rope_check(uint32_t head_dim, const RopeConfig& rope);

// Angle in radians of pair i at position pos, computed in double.
double rope_angle(uint64_t pos, uint32_t i, uint32_t head_dim, const RopeConfig& rope);

// Rotates x: (head_dim) in place at position pos (angles in double, result rounded to float).
void rope_apply(float* x, uint64_t pos, uint32_t head_dim, const RopeConfig& rope);
// x: (n_heads, head_dim), every head at the same position.
void rope_apply_heads(float* x, uint32_t n_heads, uint64_t pos, uint32_t head_dim, const RopeConfig& rope);

// cos/sin of every (position, pair): what the attention shader reads; positions < n_pos.
struct RopeTable {
    uint32_t n_pos = 0;
    uint32_t n_pairs = 0;     // rotated_dims / 2
    std::vector<float> cos;   // (n_pos, n_pairs)
    std::vector<float> sin;   // (n_pos, n_pairs)
};
// n_pos is normally the cache capacity n_sink + n_window.
RopeTable rope_table(uint32_t n_pos, uint32_t head_dim, const RopeConfig& rope);
// Same rotation as rope_apply, from the table (float cos/sin). Throws when pos >= table.n_pos.
void rope_apply_table(float* x, uint32_t pos, const RopeTable& table, uint32_t head_dim, const RopeConfig& rope);

}  // namespace vks::ref
