#include "ref/rms_norm.hpp"

#include <cmath>

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

}  // namespace vks::ref
