#include "ref/quantize_q8_1.hpp"

#include <bit>
#include <cfenv>
#include <cmath>
#include <cstring>

#include "common/error.hpp"

namespace vks::ref {

std::vector<Q8_1Block> quantize_q8_1(const float* X, int64_t N, int64_t K, const float* g, float eps) {
    if (N < 0 || K <= 0 || K % 32 != 0)
        fail(Status::invalid_argument, "quantize_q8_1: K=%lld must be a positive multiple of 32", (long long)K);
    const int64_t nb = K / 32;
    std::vector<Q8_1Block> out(size_t(N * nb));
    std::vector<float> col(static_cast<size_t>(K));
    for (int64_t n = 0; n < N; ++n) {
        const float* x = X + n * K;  // (K)
        float scale = 1.0f;
        if (g) {
            double ssq = 0;
            for (int64_t k = 0; k < K; ++k) ssq += double(x[k]) * x[k];
            scale = float(1.0 / std::sqrt(ssq / double(K) + double(eps)));
        }
        for (int64_t k = 0; k < K; ++k) col[size_t(k)] = g ? x[k] * (g[k] * scale) : x[k];
        for (int64_t b = 0; b < nb; ++b) {
            Q8_1Block& o = out[size_t(n * nb + b)];
            const float* v = col.data() + b * 32;
            float amax = 0;
            for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(v[i]));
            o.d = amax / 127.0f;
            int sum = 0;
            for (int i = 0; i < 32; ++i) {
                // nearbyint rounds half to even in the default rounding mode, like GLSL roundEven.
                const float q = o.d > 0 ? std::nearbyint(v[i] / o.d) : 0.0f;
                o.q[i] = int8_t(std::max(-127.0f, std::min(127.0f, q)));
                sum += o.q[i];
            }
            o.s = o.d * float(sum);
        }
    }
    return out;
}

std::vector<uint32_t> pack_q8_1(const std::vector<Q8_1Block>& blocks) {
    std::vector<uint32_t> w(blocks.size() * k_q8_1_block_words, 0u);
    for (size_t i = 0; i < blocks.size(); ++i) {
        uint32_t* o = w.data() + i * k_q8_1_block_words;
        std::memcpy(o, blocks[i].q, 32);  // little-endian: element 4j + t is byte t of word j
        o[8] = std::bit_cast<uint32_t>(blocks[i].d);
        o[9] = std::bit_cast<uint32_t>(blocks[i].s);
    }
    return w;
}

}  // namespace vks::ref
