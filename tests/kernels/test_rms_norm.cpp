#include <doctest/doctest.h>

#include "common/error.hpp"
#include "ops/rms_norm.hpp"
#include "ref/rms_norm.hpp"
#include "support/gpu.hpp"

#include <algorithm>
#include <tuple>

using namespace vks;
using test::gpu;

namespace {

// Runs body(sg) under the subgroup variant (where the device has it) and the shared-memory one,
// then gives the kernels back their default.
template <class Body>
void for_each_variant(ops::Kernels& k, Body body) {
    for (bool sg : {true, false}) {
        if (sg && !k.caps().subgroup_reduce()) {
            MESSAGE("subgroup variant not testable on this device");
            continue;
        }
        k.allow_subgroups(sg);
        body(sg);
    }
    k.allow_subgroups(true);
}

}  // namespace

TEST_CASE_FIXTURE(test::GpuTest, "rms_norm matches the reference (subgroup and shared-memory variants)") {
    auto& k = *gpu().kernels;
    const uint32_t cols[] = {1, 3, 7, 8, 15, 16, 31, 32, 33, 64, 255, 256, 257, 576, 1000, 2048, 4099};
    const uint32_t rows[] = {1, 2, 5};
    for_each_variant(k, [&](bool sg) {
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
    });
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
    for_each_variant(k, [&](bool sg) {
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
    });
    vk::Buffer b = test::upload(std::vector<float>(8, 1.0f));
    vk::Commands cmd(*gpu().device);
    cmd.begin();
    CHECK_THROWS_AS(ops::rms_norm_add(k, cmd, b, nullptr, b, 1, 8, 1e-6f), Error);  // aliasing
    cmd.end();
}

// Gemma 3's q and k heads in one dispatch: two row ranges of one buffer (with a gap between them,
// as the q/k/v product's buffer has), each with its own weight, normalized in place. The gap and
// the rows around the ranges must not change.
TEST_CASE_FIXTURE(test::GpuTest, "rms_norm_pair normalizes two ranges of one buffer with their own weights") {
    auto& k = *gpu().kernels;
    for_each_variant(k, [&](bool sg) {
        for (auto [head_dim, rows_a, rows_b, gap] : {std::tuple{256u, 4u, 1u, 0u}, std::tuple{256u, 1024u, 256u, 512u},
                                                     std::tuple{64u, 9u, 3u, 7u}, std::tuple{128u, 1u, 2u, 128u}}) {
            CAPTURE(sg);
            CAPTURE(head_dim);
            CAPTURE(rows_a);
            CAPTURE(rows_b);
            const size_t na = size_t(rows_a) * head_dim, nb = size_t(rows_b) * head_dim, n = na + gap + nb;
            const auto x = test::random_floats(n, head_dim + rows_a + gap, -4.0f, 4.0f);
            const auto wa = test::random_floats(head_dim, 5), wb = test::random_floats(head_dim, 6);
            std::vector<float> want = x;
            ref::rms_norm(x.data(), wa.data(), want.data(), rows_a, head_dim, 1e-6f);
            ref::rms_norm(x.data() + na + gap, wb.data(), want.data() + na + gap, rows_b, head_dim, 1e-6f);
            vk::Buffer dx = test::guarded_buffer(n), dwa = test::upload(wa), dwb = test::upload(wb);
            dx.upload(x.data(), n * 4);
            const vk::BufferRange a(dx, 0, na * 4), b(dx, (na + gap) * 4, nb * 4);
            test::run([&](vk::Commands& cmd) {
                ops::rms_norm_pair(k, cmd, a, dwa, rows_a, b, dwb, rows_b, head_dim, 1e-6f);
            });
            const auto got = test::read_guarded(dx, n);
            CHECK(test::nmse(got.data(), want.data(), n) < 1e-12);
            CHECK(std::equal(got.begin() + na, got.begin() + na + gap, x.begin() + na));  // the gap, untouched
        }
    });
    vk::Buffer x = test::upload(std::vector<float>(64, 1.0f)), y = test::upload(std::vector<float>(64, 1.0f));
    vk::Buffer w = test::upload(std::vector<float>(16, 1.0f));
    vk::Commands cmd(*gpu().device);
    cmd.begin();
    const vk::BufferRange a(x, 0, 64), b(x, 64, 64);
    CHECK_THROWS_AS(ops::rms_norm_pair(k, cmd, a, w, 1, vk::BufferRange(y, 0, 64), w, 1, 16, 1e-6f), Error);  // two buffers
    CHECK_THROWS_AS(ops::rms_norm_pair(k, cmd, a, w, 2, b, w, 1, 16, 1e-6f), Error);       // overlap
    CHECK_THROWS_AS(ops::rms_norm_pair(k, cmd, b, w, 1, a, w, 1, 16, 1e-6f), Error);       // b before a
    CHECK_THROWS_AS(ops::rms_norm_pair(k, cmd, a, w, 1, b, w, 1, 32, 1e-6f), Error);       // weight too short
    CHECK_THROWS_AS(ops::rms_norm_pair(k, cmd, a, w, 0, b, w, 1, 16, 1e-6f), Error);       // no rows
    cmd.end();
}
