#pragma once
// CPU reference: element-wise add and multiply, same shape or with b broadcast over rows.
#include <cstddef>

namespace vks::ref {

// out[i] = a[i] + b[i];  a, b, out: (n). out may alias a or b.
void add(const float* a, const float* b, float* out, size_t n);
// out[i] = a[i] * b[i];  a, b, out: (n). out may alias a or b.
void mul(const float* a, const float* b, float* out, size_t n);

// Row broadcast: a, out: (n_rows, n_cols); b: (n_cols), the same for every row.
// out[r][i] = a[r][i] + b[i]   /   out[r][i] = a[r][i] * b[i]. out may alias a.
void add_rows(const float* a, const float* b, float* out, size_t n_rows, size_t n_cols);
void mul_rows(const float* a, const float* b, float* out, size_t n_rows, size_t n_cols);

// out[i] = a[i] * s;  a, out: (n).
void scale(const float* a, float s, float* out, size_t n);

}  // namespace vks::ref
