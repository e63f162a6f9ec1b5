#pragma once
// Reference integer-dot matrix-vector product: the ground truth for shaders/matvec_q8_1.comp.
// Weights in a legacy block type are w = a*q + b per 32-element block with small integers q:
//   Q4_0: q = nibble (0..15), a = d, b = -8d      Q4_1: q = nibble, a = d, b = m
//   Q5_0: q = 5 bits (0..31), a = d, b = -16d     Q5_1: q = 5 bits, a = d, b = m
//   Q8_0: q = int8, a = d, b = 0
// and the K-quants per 32-element sub-block j of a 256-element super-block:
//   Q4_K: q = nibble, a = d * sc_j, b = -dmin * m_j    Q5_K: q = 5 bits, a, b as Q4_K
//   Q6_K: q = 6 bits - 32 (-32..31), a = d * scale_i per 16 elements (two per sub-block), b = 0
// and activations are Q8_1 blocks (ref/quantize_q8_1.hpp), so one block contributes
//   a * (d_x * dot(q, q_x)) + b * s_x,   with dot(q, q_x) an exact integer sum
// (Q6_K: d_x * (a_0 * dot over elements 0..15 + a_1 * dot over 16..31)).
// Y[n][m] = sum over the row's blocks, accumulated in double here (f32 on the device).
#include <cstdint>
#include <vector>

#include "quant/quant.hpp"
#include "ref/quantize_q8_1.hpp"

namespace vks::ref {

bool matvec_q8_1_supports(quant::Type t);  // Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K

// W: (M, K) GGUF rows of `wtype`; xq: (N, K / 32) blocks from quantize_q8_1; Y: (N, M).
// Throws invalid_argument for an unsupported type or K not a multiple of the type's block.
void matvec_q8_1(quant::Type wtype, const void* W, const std::vector<Q8_1Block>& xq, float* Y, int64_t M, int64_t K,
                 int64_t N);

}  // namespace vks::ref
