#pragma once
// CPU reference: rotary position embedding (RoPE).
//
// For rotated pair i (0 <= i < n_rot/2) at position p the angle is
//   angle(p, i) = (p / scale_factor) * theta_base^(-2i / n_rot)
// (scale_factor is linear position interpolation; 1 = none), and the pair (x0, x1) becomes
//   (x0 cos - x1 sin,  x0 sin + x1 cos).
// Pairings: 'normal' pairs (2i, 2i+1) (llama-family GGUF, whose converter permutes Q/K rows for
// this); 'neox' pairs (i, i + n_rot/2) (GPT-NeoX, Qwen2, Gemma, ...). Dimensions >= n_rot are left
// as they are (partial rotary).
// In vkstream positions are cache-relative (< cache capacity), never absolute stream indices.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace vks::ref {

enum class RopeStyle : uint8_t { normal, neox };

struct RopeParams {
    uint32_t head_dim = 0;
    uint32_t n_rot = 0;          // rotated dimensions, even, <= head_dim; 0 means head_dim
    float theta_base = 10000.0f;
    float scale_factor = 1.0f;   // linear scaling: angles use pos / scale_factor
    RopeStyle style = RopeStyle::normal;

    uint32_t rotated_dims() const { return n_rot ? n_rot : head_dim; }
    // Throws invalid_argument: head_dim == 0, odd/oversized n_rot, theta_base or scale_factor <= 0.
    void validate() const;
};

// Angle in radians of pair i at position pos, computed in double.
double rope_angle(uint64_t pos, uint32_t i, const RopeParams& params);

// Rotates x: (head_dim) in place at position pos (angles in double, result rounded to float).
void rope_apply(float* x, uint64_t pos, const RopeParams& params);
// x: (n_heads, head_dim), every head at the same position.
void rope_apply_heads(float* x, uint32_t n_heads, uint64_t pos, const RopeParams& params);

// cos/sin of every (position, pair): what the attention shader reads; positions < n_pos.
struct RopeTable {
    uint32_t n_pos = 0;
    uint32_t n_pairs = 0;     // rotated_dims / 2
    std::vector<float> cos;   // (n_pos, n_pairs)
    std::vector<float> sin;   // (n_pos, n_pairs)
};
// n_pos is normally the cache capacity n_sink + n_window.
RopeTable rope_table(uint32_t n_pos, const RopeParams& params);
// Same rotation as rope_apply, from the table (float cos/sin). Throws when pos >= table.n_pos.
void rope_apply_table(float* x, uint32_t pos, const RopeTable& table, const RopeParams& params);

}  // namespace vks::ref
