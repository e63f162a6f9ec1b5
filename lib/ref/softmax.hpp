#pragma once
// CPU reference: numerically stable softmax per row.
#include <cstddef>

namespace vks::ref {

// x, out: (n_rows, n_cols). out[r][i] = exp(x[r][i] - m) / sum_k exp(x[r][k] - m), m = row max.
// Sums in double. -inf entries get probability 0; a row of all -inf is an error (no finite
// logit: the distribution is undefined). out may alias x. Throws invalid_argument when n_cols == 0.
void softmax(const float* x, float* out, size_t n_rows, size_t n_cols);

}  // namespace vks::ref
