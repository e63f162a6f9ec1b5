#pragma once
// Reference 8-bit quantization of activations (Q8_1-style blocks), the input of the
// integer-dot matvec (ref/matvec_q8_1.hpp, shaders/matvec_q8_1.comp). Plain loops.
//
// Per 32-element block of a column x[0..31]:
//   d = max|x| / 127, q[i] = round-half-to-even(x[i] / d) in [-127, 127] (all 0 when d == 0),
//   s = d * sum(q)   (the block sum, so an affine weight w = a*q_w + b dots as a*d*dot + b*s).
// Optionally the column is RMS-normalized first (the fused norm of the float matvec):
//   x = x * g / sqrt(mean(x^2) + eps) over the whole column of K.
#include <cstdint>
#include <vector>

namespace vks::ref {

struct Q8_1Block {
    float d = 0, s = 0;
    int8_t q[32] = {};
};

// X: (N, K) floats, K % 32 == 0 (throws invalid_argument otherwise). g: K floats or nullptr (no
// norm). Returns (N, K / 32) blocks, column-major like X.
std::vector<Q8_1Block> quantize_q8_1(const float* X, int64_t N, int64_t K, const float* g = nullptr, float eps = 0);

// The blocks as the device reads them (shaders/quantize_q8_1.comp writes this): 12 words per
// block, q packed 4 per word little-endian in words 0..7, d and s as f32 bits in words 8 and 9,
// words 10 and 11 zero (so a block is three 16-byte texels).
constexpr int k_q8_1_block_words = 12;
std::vector<uint32_t> pack_q8_1(const std::vector<Q8_1Block>& blocks);

}  // namespace vks::ref
