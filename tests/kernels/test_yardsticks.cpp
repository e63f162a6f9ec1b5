// The benchmark yardsticks (lib/ops/yardsticks.hpp, shaders/copy.comp): the arithmetic peak
// kernel computes what its reference says (so the benchmark times real work), and the copy
// kernels copy.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "ops/yardsticks.hpp"
#include "ref/fma_peak.hpp"
#include "shaders/params.h"
#include "support/gpu.hpp"

using namespace vks;
using test::gpu;

TEST_CASE_FIXTURE(test::GpuTest, "fma_peak matches its reference") {
    auto& k = *gpu().kernels;
    for (uint32_t n_inv : {1u, 63u, 64u, 65u, 1500u}) {
        for (uint32_t n_iter : {0u, 1u, 37u, 1000u}) {
            CAPTURE(n_inv);
            CAPTURE(n_iter);
            vk::Buffer out = test::guarded_buffer(n_inv, "fma_out");
            test::run([&](vk::Commands& cmd) { ops::fma_peak(k, cmd, vk::BufferRange(out, 0, n_inv * 4ull), n_inv, n_iter); });
            const std::vector<float> got = test::read_guarded(out, n_inv);
            double worst = 0;
            for (uint32_t i = 0; i < n_inv; ++i) {
                const double want = ref::fma_peak(i, n_iter);
                worst = std::max(worst, std::fabs(got[i] - want) / std::max(1.0, std::fabs(want)));
            }
            // Same operations in the same order; a driver that does not fuse the multiply-add
            // rounds twice per step, hence a tolerance instead of equality.
            CHECK(worst <= 1e-5);
        }
    }
    vk::Buffer small = test::guarded_buffer(4, "small");
    CHECK_THROWS_AS(test::run([&](vk::Commands& cmd) { ops::fma_peak(k, cmd, vk::BufferRange(small, 0, 16), 5, 1); }), Error);
    CHECK(ops::fma_peak_flops(10, 3) == 64.0 * 30);
}

TEST_CASE_FIXTURE(test::GpuTest, "the copy yardsticks copy") {
    auto& g = gpu();
    const uint32_t n_words = 4 * 1001;
    std::vector<float> src = test::random_floats(n_words, 7);
    vk::Buffer s = test::upload(src, "copy_src");
    for (const char* kernel : {"copy_u32", "copy_tb"}) {
        CAPTURE(kernel);
        if (std::string(kernel) == "copy_tb" && !g.device->caps().texel_buffers) continue;
        vk::Buffer d = test::guarded_buffer(n_words, "copy_dst");
        const vk::Pipeline& pipe = g.kernels->pipeline(kernel, {64});
        shader::CopyParams p{n_words};
        // Fewer invocations than words: the grid-stride loop must cover the rest.
        test::run([&](vk::Commands& cmd) { cmd.dispatch(pipe, {s, vk::BufferRange(d, 0, n_words * 4ull)}, p, 3, 1); });
        const std::vector<float> got = test::read_guarded(d, n_words);
        CHECK(test::max_abs_diff(got.data(), src.data(), n_words) == 0.0);
    }
}
