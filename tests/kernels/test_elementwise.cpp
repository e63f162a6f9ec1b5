#include <doctest/doctest.h>

#include "ops/elementwise.hpp"
#include "ops/glu.hpp"
#include "ref/elementwise.hpp"
#include "ref/glu.hpp"
#include "support/gpu.hpp"

using namespace vks;
using test::gpu;

static const uint32_t k_sizes[] = {1, 3, 7, 8, 15, 16, 31, 32, 33, 255, 256, 257, 1009, 4099, 300007};

TEST_CASE_FIXTURE(test::GpuTest, "add and mul match the reference, same shape and row-broadcast") {
    auto& k = *gpu().kernels;
    for (uint32_t n : k_sizes) {
        for (uint32_t n_b : {n, n % 7 == 0 ? 7u : 1u}) {
            if (n % n_b) continue;
            for (bool is_add : {true, false}) {
                uint32_t seed = n * 31 + n_b + (is_add ? 1 : 2);
                CAPTURE(n);
                CAPTURE(n_b);
                CAPTURE(is_add);
                CAPTURE(seed);
                auto a = test::random_floats(n, seed), b = test::random_floats(n_b, seed + 1);
                std::vector<float> ref(n);
                if (n_b == n) (is_add ? ref::add : ref::mul)(a.data(), b.data(), ref.data(), n);
                else (is_add ? ref::add_rows : ref::mul_rows)(a.data(), b.data(), ref.data(), n / n_b, n_b);
                vk::Buffer da = test::upload(a), db = test::upload(b), out = test::guarded_buffer(n);
                test::run([&](vk::Commands& cmd) {
                    (is_add ? ops::add : ops::mul)(k, cmd, da, db, vk::BufferRange(out, 0, n * 4ull), n, n_b);
                });
                auto got = test::read_guarded(out, n);
                CHECK(test::max_abs_diff(got.data(), ref.data(), n) == 0.0);  // one fp32 op: exact
            }
        }
    }
}

TEST_CASE_FIXTURE(test::GpuTest, "add works in place (out aliases a), as residual adds use it") {
    auto& k = *gpu().kernels;
    const uint32_t n = 1000;
    auto a = test::random_floats(n, 5), b = test::random_floats(n, 6);
    std::vector<float> ref(n);
    ref::add(a.data(), b.data(), ref.data(), n);
    vk::Buffer da = test::upload(a), db = test::upload(b);
    test::run([&](vk::Commands& cmd) { ops::add(k, cmd, da, db, da, n, n); });
    std::vector<float> got(n);
    da.download(got.data(), n * 4);
    CHECK(got == ref);
}

TEST_CASE_FIXTURE(test::GpuTest, "SiLU and GELU gated products match the reference") {
    auto& k = *gpu().kernels;
    for (uint32_t n : k_sizes) {
        for (auto kind : {ops::GluKind::silu, ops::GluKind::gelu}) {
            uint32_t seed = n + (kind == ops::GluKind::silu ? 100 : 200);
            CAPTURE(n);
            CAPTURE(int(kind));
            CAPTURE(seed);
            auto gate = test::random_floats(n, seed, -12.0f, 12.0f), up = test::random_floats(n, seed + 1);
            std::vector<float> ref(n);
            (kind == ops::GluKind::silu ? ref::silu_glu : ref::gelu_glu)(gate.data(), up.data(), ref.data(), n);
            vk::Buffer dg = test::upload(gate), du = test::upload(up), out = test::guarded_buffer(n);
            test::run([&](vk::Commands& cmd) { ops::glu(k, cmd, kind, dg, du, vk::BufferRange(out, 0, n * 4ull), n); });
            auto got = test::read_guarded(out, n);
            // exp/tanh are not correctly rounded in GLSL: NMSE bound for fp32 transcendental ops.
            CHECK(test::nmse(got.data(), ref.data(), n) < 1e-10);
            CHECK(test::max_abs_diff(got.data(), ref.data(), n) < 1e-4);
        }
    }
}
