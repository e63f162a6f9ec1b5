#include <doctest/doctest.h>

#include "common/error.hpp"
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

// Gemma 3's per-head q/k norm: rows are heads (n_cols = head_dim), one weight vector for all of
// them, normalized in place in the projection's output buffer.
TEST_CASE_FIXTURE(test::GpuTest, "rms_norm per head, in place, matches the reference") {
    auto& k = *gpu().kernels;
    for (uint32_t head_dim : {64u, 128u, 256u})
        for (uint32_t n_heads : {1u, 4u, 9u, 31u}) {  // n_tokens x n_head rows
            CAPTURE(head_dim);
            CAPTURE(n_heads);
            const size_t n = size_t(n_heads) * head_dim;
            auto x = test::random_floats(n, head_dim + n_heads, -4.0f, 4.0f);
            const auto w = test::random_floats(head_dim, 5);
            std::vector<float> ref(n);
            ref::rms_norm(x.data(), w.data(), ref.data(), n_heads, head_dim, 1e-6f);
            vk::Buffer dx = test::guarded_buffer(n), dw = test::upload(w);
            dx.upload(x.data(), n * 4);
            vk::BufferRange wr(dw), xr(dx, 0, n * 4);
            test::run([&](vk::Commands& cmd) { ops::rms_norm(k, cmd, xr, &wr, xr, n_heads, head_dim, 1e-6f); });
            auto got = test::read_guarded(dx, n);
            CHECK(test::nmse(got.data(), ref.data(), n) < 1e-12);
        }
}

// Gemma 3's post-attention / post-FFN norm fused with the residual add: out += norm(x) * w.
TEST_CASE_FIXTURE(test::GpuTest, "rms_norm_add accumulates the normalized rows into out") {
    auto& k = *gpu().kernels;
    for (bool sg : {true, false}) {
        if (sg && !k.caps().subgroup_reduce()) {
            MESSAGE("subgroup variant not testable on this device");
            continue;
        }
        k.allow_subgroups(sg);
        for (uint32_t n_cols : {1u, 7u, 33u, 256u, 640u, 1001u})
            for (uint32_t n_rows : {1u, 3u, 8u}) {
                CAPTURE(sg);
                CAPTURE(n_cols);
                CAPTURE(n_rows);
                const size_t n = size_t(n_rows) * n_cols;
                const auto x = test::random_floats(n, n_cols + 3 * n_rows, -3.0f, 3.0f);
                const auto w = test::random_floats(n_cols, 9);
                auto acc = test::random_floats(n, 17, -10.0f, 10.0f);  // the residual stream
                std::vector<float> ref = acc;
                ref::rms_norm_add(x.data(), w.data(), ref.data(), n_rows, n_cols, 1e-6f);
                vk::Buffer dx = test::upload(x), dw = test::upload(w), out = test::guarded_buffer(n);
                out.upload(acc.data(), n * 4);
                vk::BufferRange wr(dw);
                test::run([&](vk::Commands& cmd) {
                    ops::rms_norm_add(k, cmd, dx, &wr, vk::BufferRange(out, 0, n * 4), n_rows, n_cols, 1e-6f);
                });
                auto got = test::read_guarded(out, n);
                CHECK(test::nmse(got.data(), ref.data(), n) < 1e-12);
                // Really accumulated: differs from the plain norm by the old contents.
                std::vector<float> plain(n);
                ref::rms_norm(x.data(), w.data(), plain.data(), n_rows, n_cols, 1e-6f);
                CHECK(test::nmse(got.data(), plain.data(), n) > 1e-3);
            }
    }
    k.allow_subgroups(true);
    vk::Buffer b = test::upload(std::vector<float>(8, 1.0f));
    vk::Commands cmd(*gpu().device);
    cmd.begin();
    CHECK_THROWS_AS(ops::rms_norm_add(k, cmd, b, nullptr, b, 1, 8, 1e-6f), Error);  // aliasing
    cmd.end();
}
