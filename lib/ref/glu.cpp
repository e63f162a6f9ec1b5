#include "ref/glu.hpp"

#include <cmath>

namespace vks::ref {

float silu(float x) {
    // exp(-x) overflows to inf for x < ~-88 and x / inf = -0: the right limit.
    return float(double(x) / (1.0 + std::exp(-double(x))));
}

float gelu_tanh(float x) {
    const double k_sqrt_2_over_pi = 0.7978845608028654;  // sqrt(2 / pi)
    const double xd = x;
    return float(0.5 * xd * (1.0 + std::tanh(k_sqrt_2_over_pi * (xd + 0.044715 * xd * xd * xd))));
}

void silu_glu(const float* gate, const float* up, float* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = silu(gate[i]) * up[i];
}

void gelu_glu(const float* gate, const float* up, float* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = gelu_tanh(gate[i]) * up[i];
}

}  // namespace vks::ref
