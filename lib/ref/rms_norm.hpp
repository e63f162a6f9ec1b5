#pragma once
// CPU reference: RMS normalization per row.
#include <cstddef>

namespace vks::ref {

// x, out: (n_rows, n_cols); weight: (n_cols) or nullptr (no scaling).
// out[r][i] = x[r][i] / sqrt(mean_i(x[r][i]^2) + eps) * weight[i]. Sum of squares in double.
// out may alias x. Throws invalid_argument when n_cols == 0 or eps < 0.
void rms_norm(const float* x, const float* weight, float* out, size_t n_rows, size_t n_cols, float eps);

// out[r][i] += the same normalized value (a post-norm and its residual add); out must not alias x.
void rms_norm_add(const float* x, const float* weight, float* out, size_t n_rows, size_t n_cols, float eps);

}  // namespace vks::ref
