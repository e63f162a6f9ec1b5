#include <doctest/doctest.h>

#include "ops/rms_norm.hpp"
#include "ref/rms_norm.hpp"
#include "support/gpu.hpp"

using namespace vks;
using test::gpu;

TEST_CASE_FIXTURE(test::GpuTest, "rms_norm matches the reference (subgroup and shared-memory variants)") {
    auto& k = *gpu().kernels;
    const uint32_t cols[] = {1, 3, 7, 8, 15, 16, 31, 32, 33, 64, 255, 256, 257, 576, 1000, 2048, 4099};
    const uint32_t rows[] = {1, 2, 5};
    for (bool sg : {true, false}) {
        if (sg && !k.caps().subgroup_reduce()) {
            MESSAGE("subgroup variant not testable on this device");
            continue;
        }
        k.allow_subgroups(sg);
        for (uint32_t n_cols : cols)
            for (uint32_t n_rows : rows)
                for (bool weighted : {true, false}) {
                    uint32_t seed = n_cols * 7 + n_rows;
                    CAPTURE(sg);
                    CAPTURE(n_rows);
                    CAPTURE(n_cols);
                    CAPTURE(weighted);
                    CAPTURE(seed);
                    const size_t n = size_t(n_rows) * n_cols;
                    auto x = test::random_floats(n, seed, -3.0f, 3.0f), w = test::random_floats(n_cols, seed + 1);
                    std::vector<float> ref(n);
                    ref::rms_norm(x.data(), weighted ? w.data() : nullptr, ref.data(), n_rows, n_cols, 1e-5f);
                    vk::Buffer dx = test::upload(x), dw = test::upload(w), out = test::guarded_buffer(n);
                    vk::BufferRange wr(dw);
                    test::run([&](vk::Commands& cmd) {
                        ops::rms_norm(k, cmd, dx, weighted ? &wr : nullptr, vk::BufferRange(out, 0, n * 4), n_rows,
                                      n_cols, 1e-5f);
                    });
                    auto got = test::read_guarded(out, n);
                    CHECK(test::nmse(got.data(), ref.data(), n) < 1e-12);
                }
    }
    k.allow_subgroups(true);
}
