#include "ref/softmax.hpp"

#include <cmath>

#include "common/error.hpp"

namespace vks::ref {

void softmax(const float* x, float* out, size_t n_rows, size_t n_cols) {
    if (n_cols == 0) fail(Status::invalid_argument, "ref::softmax: n_cols must be > 0");
    for (size_t r = 0; r < n_rows; ++r) {
        const float* xr = x + r * n_cols;  // (n_cols)
        float* outr = out + r * n_cols;    // (n_cols)
        float m = -INFINITY;
        for (size_t i = 0; i < n_cols; ++i) m = std::fmax(m, xr[i]);
        if (!std::isfinite(m))
            fail(Status::invalid_argument, "ref::softmax: row %zu has maximum %g (need a finite logit)", r,
                 double(m));
        double sum = 0.0;
        for (size_t i = 0; i < n_cols; ++i) sum += std::exp(double(xr[i]) - double(m));
        for (size_t i = 0; i < n_cols; ++i) outr[i] = float(std::exp(double(xr[i]) - double(m)) / sum);
    }
}

}  // namespace vks::ref
