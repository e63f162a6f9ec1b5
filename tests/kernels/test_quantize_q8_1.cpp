#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "common/error.hpp"
#include "ops/matvec_q8_1.hpp"
#include "ref/quantize_q8_1.hpp"
#include "support/gpu.hpp"

using namespace vks;
using test::gpu;

// The shader divides by d (GLSL division: 2.5 ULP) and, with the norm, uses inversesqrt, so a
// value within a rounding error of a half-integer may land on the other side: q may differ from
// the reference by 1, rarely. d and s must agree to float rounding; s must be d * sum(q) of the
// shader's own q.
TEST_CASE_FIXTURE(test::GpuTest, "quantize_q8_1 matches the reference (with and without the fused norm)") {
    auto& k = *gpu().kernels;
    const uint32_t Ks[] = {32, 64, 96, 576, 1536};
    const uint32_t Ns[] = {1, 3, 8};
    for (uint32_t K : Ks)
        for (uint32_t N : Ns)
            for (bool norm : {false, true}) {
                CAPTURE(K);
                CAPTURE(N);
                CAPTURE(norm);
                const uint32_t seed = K * 3 + N;
                auto x = test::random_floats(size_t(N) * K, seed, -4.0f, 4.0f);
                if (K >= 64) std::fill(x.begin() + 32, x.begin() + 64, 0.0f);  // an all-zero block: d = 0
                auto g = test::random_floats(K, seed + 1, 0.5f, 1.5f);
                const auto ref = ref::quantize_q8_1(x.data(), N, K, norm ? g.data() : nullptr, 1e-5f);
                vk::Buffer dx = test::upload(x), dg = test::upload(g);
                const size_t n_words = ops::q8_1_bytes(N, K) / 4;
                vk::Buffer out = test::guarded_buffer(n_words);
                test::run([&](vk::Commands& cmd) {
                    ops::quantize_q8_1(k, cmd, vk::BufferRange(dx), vk::BufferRange(out, 0, n_words * 4), N, K,
                                       norm ? &dg : nullptr, 1e-5f);
                });
                const auto gotf = test::read_guarded(out, n_words);
                std::vector<uint32_t> got(n_words);
                std::memcpy(got.data(), gotf.data(), n_words * 4);
                size_t off_by_one = 0, worse = 0, bad_scale = 0, bad_sum = 0;
                for (size_t b = 0; b < ref.size(); ++b) {
                    const uint32_t* w = got.data() + b * ref::k_q8_1_block_words;
                    float d, s;
                    std::memcpy(&d, w + 8, 4);
                    std::memcpy(&s, w + 9, 4);
                    int sum = 0;
                    for (int i = 0; i < 32; ++i) {
                        const int q = int8_t(uint8_t(w[i / 4] >> (8 * (i % 4))));
                        sum += q;
                        const int diff = std::abs(q - ref[b].q[i]);
                        off_by_one += diff == 1;
                        worse += diff > 1;
                    }
                    if (std::fabs(d - ref[b].d) > 1e-5f * std::fabs(ref[b].d)) ++bad_scale;
                    if (std::fabs(s - d * float(sum)) > 1e-5f * std::fabs(d) * 32 * 127) ++bad_sum;
                    CHECK(w[10] == 0u);
                    CHECK(w[11] == 0u);
                }
                CHECK(worse == 0);
                CHECK(bad_scale == 0);
                CHECK(bad_sum == 0);
                CHECK(off_by_one * 1000 <= ref.size() * 32);  // at most 0.1 % of the values
            }
}

TEST_CASE_FIXTURE(test::GpuTest, "quantize_q8_1 rejects bad shapes with invalid_argument") {
    auto& k = *gpu().kernels;
    vk::Buffer b = test::upload(std::vector<float>(256, 1.0f));
    vk::Commands cmd(*gpu().device);
    cmd.begin();
    CHECK_THROWS_AS(ops::quantize_q8_1(k, cmd, vk::BufferRange(b), vk::BufferRange(b), 1, 33), Error);
    CHECK_THROWS_AS(ops::quantize_q8_1(k, cmd, vk::BufferRange(b), vk::BufferRange(b, 0, 16), 1, 64), Error);
    cmd.end();
}
