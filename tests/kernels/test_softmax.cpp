#include <doctest/doctest.h>

#include "ops/softmax.hpp"
#include "ref/elementwise.hpp"
#include "ref/softmax.hpp"
#include "support/gpu.hpp"

using namespace vks;
using test::gpu;

TEST_CASE_FIXTURE(test::GpuTest, "softmax matches the reference (subgroup and shared-memory variants)") {
    auto& k = *gpu().kernels;
    const uint32_t cols[] = {1, 3, 7, 8, 15, 16, 31, 32, 33, 255, 256, 257, 1031, 49152};
    for (bool sg : {true, false}) {
        if (sg && !k.caps().subgroup_reduce()) {
            MESSAGE("subgroup variant not testable on this device");
            continue;
        }
        k.allow_subgroups(sg);
        for (uint32_t n_cols : cols)
            for (uint32_t n_rows : {1u, 3u})
                for (float scale : {1.0f, 0.125f}) {
                    uint32_t seed = n_cols + 13 * n_rows;
                    CAPTURE(sg);
                    CAPTURE(n_rows);
                    CAPTURE(n_cols);
                    CAPTURE(scale);
                    CAPTURE(seed);
                    const size_t n = size_t(n_rows) * n_cols;
                    // Large logits: a naive exp would overflow; the kernel subtracts the row max.
                    auto x = test::random_floats(n, seed, -80.0f, 120.0f);
                    std::vector<float> scaled(n), ref(n);
                    ref::scale(x.data(), scale, scaled.data(), n);
                    ref::softmax(scaled.data(), ref.data(), n_rows, n_cols);
                    vk::Buffer dx = test::upload(x), out = test::guarded_buffer(n);
                    test::run([&](vk::Commands& cmd) {
                        ops::softmax(k, cmd, dx, vk::BufferRange(out, 0, n * 4), n_rows, n_cols, scale);
                    });
                    auto got = test::read_guarded(out, n);
                    CHECK(test::nmse(got.data(), ref.data(), n) < 1e-10);
                }
    }
    k.allow_subgroups(true);
}
