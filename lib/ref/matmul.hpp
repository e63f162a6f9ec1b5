#pragma once
// Reference matrix multiply against quantized weights: the ground truth for the matmul /
// matvec shaders. Plain loops, double accumulation, no tiling.
#include <cstdint>

#include "quant/quant.hpp"

namespace vks::ref {

// Y[n][m] = sum_k dequant(W)[m][k] * X[n][k]
//   W: (M, K) row-major, each row quant::row_bytes(wtype, K) bytes, rows back to back
//   X: (N, K) floats, Y: (N, M) floats (one output column of M per input column of K)
// K must be a multiple of the weight type's block size (throws vks::Error(invalid_argument)
// otherwise, or if any size is negative). Y may not alias X.
void matmul(quant::Type wtype, const void* W, const float* X, float* Y, int64_t M, int64_t K, int64_t N);

}  // namespace vks::ref
