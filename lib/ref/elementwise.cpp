#include "ref/elementwise.hpp"

namespace vks::ref {

void add(const float* a, const float* b, float* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void mul(const float* a, const float* b, float* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = a[i] * b[i];
}

void add_rows(const float* a, const float* b, float* out, size_t n_rows, size_t n_cols) {
    for (size_t r = 0; r < n_rows; ++r)
        for (size_t i = 0; i < n_cols; ++i) out[r * n_cols + i] = a[r * n_cols + i] + b[i];
}

void mul_rows(const float* a, const float* b, float* out, size_t n_rows, size_t n_cols) {
    for (size_t r = 0; r < n_rows; ++r)
        for (size_t i = 0; i < n_cols; ++i) out[r * n_cols + i] = a[r * n_cols + i] * b[i];
}

void scale(const float* a, float s, float* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = a[i] * s;
}

}  // namespace vks::ref
