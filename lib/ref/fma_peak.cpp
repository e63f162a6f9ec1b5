#include "ref/fma_peak.hpp"

#include <cmath>

namespace vks::ref {

float fma_peak(uint32_t invocation, uint32_t n_iter) {
    const float x = float(invocation % 1024u) * (1.0f / 1024.0f);
    const float m[4] = {0.9990f, 0.9991f, 0.9992f, 0.9993f}, c[4] = {0.001f, 0.002f, 0.003f, 0.004f};
    float s[4] = {0, 0, 0, 0};
    for (int k = 0; k < 8; ++k) {
        for (int e = 0; e < 4; ++e) {
            float a = x + float(k);
            for (uint32_t n = 0; n < n_iter; ++n) a = std::fma(a, m[e], c[e]);
            s[e] += a;
        }
    }
    return (s[0] + s[1]) + (s[2] + s[3]);
}

}  // namespace vks::ref
