#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "common/error.hpp"
#include "ops/matvec_q8_1.hpp"
#include "ops/rms_norm.hpp"
#include "ref/quantize_q8_1.hpp"
#include "ref/rms_norm.hpp"
#include "support/gpu.hpp"

using namespace vks;
using test::gpu;

// rms_norm_add_q8_1 = rms_norm_add, then quantize_q8_1 of the updated rows with the next norm.
// Reference: the two references in sequence. The updated rows must match rms_norm_add's as
// tightly as that kernel's own test; the blocks as in test_quantize_q8_1.cpp (a value within a
// rounding error of a half-integer may land on the other side: q off by one, rarely).
TEST_CASE_FIXTURE(test::GpuTest, "rms_norm_add_q8_1 matches rms_norm_add followed by quantize_q8_1 (both variants)") {
    auto& k = *gpu().kernels;
    const uint32_t cols[] = {32, 96, 640, 1536};
    const uint32_t rows[] = {1, 3, 8};
    for (bool sg : {true, false}) {
        if (sg && !k.caps().subgroup_reduce()) {
            MESSAGE("subgroup variant not testable on this device");
            continue;
        }
        k.allow_subgroups(sg);
        for (uint32_t n_cols : cols)
            for (uint32_t n_rows : rows) {
                CAPTURE(sg);
                CAPTURE(n_cols);
                CAPTURE(n_rows);
                const uint32_t seed = n_cols * 5 + n_rows;
                const size_t n = size_t(n_rows) * n_cols;
                const auto t = test::random_floats(n, seed, -3.0f, 3.0f), x0 = test::random_floats(n, seed + 1, -2.0f, 2.0f);
                const auto w = test::random_floats(n_cols, seed + 2, 0.5f, 1.5f), g2 = test::random_floats(n_cols, seed + 3, 0.5f, 1.5f);
                std::vector<float> xr = x0;
                ref::rms_norm_add(t.data(), w.data(), xr.data(), n_rows, n_cols, 1e-6f);
                const auto qr = ref::quantize_q8_1(xr.data(), n_rows, n_cols, g2.data(), 1e-6f);
                vk::Buffer dt = test::upload(t), dx = test::upload(x0), dw = test::upload(w), dg = test::upload(g2);
                const size_t n_words = ops::q8_1_bytes(n_rows, n_cols) / 4;
                vk::Buffer xq = test::guarded_buffer(n_words);
                const vk::BufferRange wr(dw);
                test::run([&](vk::Commands& cmd) {
                    ops::rms_norm_add_q8_1(k, cmd, dt, &wr, dx, n_rows, n_cols, 1e-6f, vk::BufferRange(dg),
                                           vk::BufferRange(xq, 0, n_words * 4));
                });
                std::vector<float> xg(n);
                dx.download(xg.data(), n * 4);
                CHECK(test::nmse(xg.data(), xr.data(), n) < 1e-12);
                const auto gotf = test::read_guarded(xq, n_words);
                std::vector<uint32_t> got(n_words);
                std::memcpy(got.data(), gotf.data(), n_words * 4);
                size_t off_by_one = 0, worse = 0, bad_scale = 0, bad_sum = 0, bad_pad = 0;
                for (size_t b = 0; b < qr.size(); ++b) {
                    const uint32_t* q = got.data() + b * ref::k_q8_1_block_words;
                    float d, s;
                    std::memcpy(&d, q + 8, 4);
                    std::memcpy(&s, q + 9, 4);
                    int sum = 0;
                    for (int i = 0; i < 32; ++i) {
                        const int v = int8_t(uint8_t(q[i / 4] >> (8 * (i % 4))));
                        sum += v;
                        const int diff = std::abs(v - qr[b].q[i]);
                        off_by_one += diff == 1;
                        worse += diff > 1;
                    }
                    if (std::fabs(d - qr[b].d) > 1e-5f * std::fabs(qr[b].d)) ++bad_scale;
                    if (std::fabs(s - d * float(sum)) > 1e-5f * std::fabs(d) * 32 * 127) ++bad_sum;
                    bad_pad += q[10] != 0u || q[11] != 0u;
                }
                CHECK(worse == 0);
                CHECK(bad_scale == 0);
                CHECK(bad_sum == 0);
                CHECK(bad_pad == 0);
                CHECK(off_by_one * 1000 <= qr.size() * 32);  // at most 0.1 % of the values
            }
    }
    k.allow_subgroups(true);
}

TEST_CASE_FIXTURE(test::GpuTest, "rms_norm_add_q8_1 rejects bad shapes and aliasing with invalid_argument") {
    auto& k = *gpu().kernels;
    vk::Buffer a(*gpu().device, 1 << 16, vk::BufferKind::device, "a"), b(*gpu().device, 1 << 16, vk::BufferKind::device, "b");
    vk::Commands cmd(*gpu().device);
    cmd.begin();
    const vk::BufferRange ar(a), br(b);
    CHECK_THROWS_AS(ops::rms_norm_add_q8_1(k, cmd, ar, nullptr, ar, 1, 64, 1e-6f, br, br), Error);            // out aliases x
    CHECK_THROWS_AS(ops::rms_norm_add_q8_1(k, cmd, ar, nullptr, br, 1, 48, 1e-6f, ar, br), Error);            // 48 % 32 != 0
    CHECK_THROWS_AS(ops::rms_norm_add_q8_1(k, cmd, ar, nullptr, br, 1, 64, 1e-6f, ar, vk::BufferRange(b, 0, 48)),
                    Error);                                                                                      // xq too small
    CHECK_THROWS_AS(ops::rms_norm_add_q8_1(k, cmd, ar, nullptr, br, 1, 64, 1e-6f, vk::BufferRange(a, 0, 128), br),
                    Error);                                                                                      // g2 too small
    cmd.end();
}
