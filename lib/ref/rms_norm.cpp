#include "ref/rms_norm.hpp"

#include <cmath>
#include <vector>

#include "common/error.hpp"

namespace vks::ref {

void rms_norm(const float* x, const float* weight, float* out, size_t n_rows, size_t n_cols, float eps) {
    if (n_cols == 0) fail(Status::invalid_argument, "ref::rms_norm: n_cols must be > 0");
    if (!(eps >= 0.0f)) fail(Status::invalid_argument, "ref::rms_norm: eps must be >= 0 (got %g)", double(eps));
    for (size_t r = 0; r < n_rows; ++r) {
        const float* xr = x + r * n_cols;  // (n_cols)
        float* outr = out + r * n_cols;    // (n_cols)
        double sum_sq = 0.0;
        for (size_t i = 0; i < n_cols; ++i) sum_sq += double(xr[i]) * double(xr[i]);
        const double inv_rms = 1.0 / std::sqrt(sum_sq / double(n_cols) + double(eps));
        for (size_t i = 0; i < n_cols; ++i) {
            const double w = weight ? double(weight[i]) : 1.0;
            outr[i] = float(double(xr[i]) * inv_rms * w);
        }
    }
}

void rms_norm_add(const float* x, const float* weight, float* out, size_t n_rows, size_t n_cols, float eps) {
    if (x == out) fail(Status::invalid_argument, "ref::rms_norm_add: out must not alias x");
    std::vector<float> y(n_cols);  // (n_cols) one normalized row
    for (size_t r = 0; r < n_rows; ++r) {
        rms_norm(x + r * n_cols, weight, y.data(), 1, n_cols, eps);
        for (size_t i = 0; i < n_cols; ++i) out[r * n_cols + i] += y[i];
    }
}

}  // namespace vks::ref
