// lib/ref RoPE: hand values, norm preservation, identity at 0, normal vs neox permutation,
// relative-position property, table vs direct, partial rotation.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "common/error.hpp"
#include "ref/rope.hpp"
#include "support/test_support.hpp"

using namespace vks;
using doctest::Approx;

namespace {
double dot(const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) * double(b[i]);
    return s;
}
// A head_dim with its RoPE config (kv/contract.h): factor is the linear scaling factor.
struct Rope {
    uint32_t d = 0;
    kv::RopeConfig cfg;
};
Rope params(uint32_t d, ref::RopeStyle style, float base = 10000.0f, float factor = 1.0f) {
    Rope p;
    p.d = d;
    p.cfg.theta_base = base;
    p.cfg.freq_scale = 1.0f / factor;
    p.cfg.style = style;
    return p;
}
void rope_apply(float* x, uint64_t pos, const Rope& p) { ref::rope_apply(x, pos, p.d, p.cfg); }
double rope_angle(uint64_t pos, uint32_t i, const Rope& p) { return ref::rope_angle(pos, i, p.d, p.cfg); }
}  // namespace

TEST_CASE("ref rope: hand values") {
    // d = 2: one pair at frequency 1: (1, 0) at position 1 becomes (cos 1, sin 1).
    std::vector<float> x = {1, 0};
    rope_apply(x.data(), 1, params(2, ref::RopeStyle::normal));
    CHECK(x[0] == Approx(std::cos(1.0)).epsilon(1e-6));
    CHECK(x[1] == Approx(std::sin(1.0)).epsilon(1e-6));
    // d = 4, base 100: pair 1 has frequency 100^(-2/4) = 0.1, so angle 0.2 at position 2;
    // with linear scale factor 2 the same vector at position 4 rotates identically.
    std::vector<float> y = {0, 0, 0, 1}, z = y;  // (2i, 2i+1) = (2, 3): pair 1 in 'normal'
    rope_apply(y.data(), 2, params(4, ref::RopeStyle::normal, 100.0f));
    CHECK(y[2] == Approx(-std::sin(0.2)).epsilon(1e-6));
    CHECK(y[3] == Approx(std::cos(0.2)).epsilon(1e-6));
    rope_apply(z.data(), 4, params(4, ref::RopeStyle::normal, 100.0f, 2.0f));
    CHECK(z == y);
    CHECK(rope_angle(3, 1, params(4, ref::RopeStyle::neox, 100.0f)) == Approx(0.3));
}

TEST_CASE("ref rope: norm preserved, position 0 is identity, table equals direct") {
    for (auto style : {ref::RopeStyle::normal, ref::RopeStyle::neox}) {
        for (uint32_t d : {2u, 8u, 64u, 128u}) {
            CAPTURE(d);
            const auto p = params(d, style, 10000.0f, 1.5f);
            const auto x0 = test::random_floats(d, 7 + d);
            std::vector<float> x = x0;
            rope_apply(x.data(), 0, p);
            CHECK(x == x0);
            const auto table = ref::rope_table(64, p.d, p.cfg);
            for (uint32_t pos : {1u, 5u, 63u}) {
                x = x0;
                rope_apply(x.data(), pos, p);
                CHECK(dot(x, x) == Approx(dot(x0, x0)).epsilon(1e-5));
                std::vector<float> xt = x0;
                ref::rope_apply_table(xt.data(), pos, table, p.d, p.cfg);
                CHECK(test::max_abs_diff(xt.data(), x.data(), d) < 1e-5);
            }
            CHECK_THROWS_AS(ref::rope_apply_table(x.data(), 64, table, p.d, p.cfg), Error);
        }
    }
}

TEST_CASE("ref rope: normal and neox differ only by a permutation of dimensions") {
    const uint32_t d = 16;
    const auto x_neox = test::random_floats(d, 11);
    // normal layout of the same pairs: normal[2i] = neox[i], normal[2i+1] = neox[i + d/2].
    std::vector<float> x_normal(d);
    for (uint32_t i = 0; i < d / 2; ++i) {
        x_normal[2 * i] = x_neox[i];
        x_normal[2 * i + 1] = x_neox[i + d / 2];
    }
    std::vector<float> a = x_neox, b = x_normal;
    rope_apply(a.data(), 9, params(d, ref::RopeStyle::neox));
    rope_apply(b.data(), 9, params(d, ref::RopeStyle::normal));
    bool same = true;
    for (uint32_t i = 0; i < d / 2; ++i) same &= b[2 * i] == a[i] && b[2 * i + 1] == a[i + d / 2];
    CHECK(same);
    CHECK(a != x_neox);  // it did rotate
}

TEST_CASE("ref rope: q(p1) . k(p2) depends only on p1 - p2") {
    for (auto style : {ref::RopeStyle::normal, ref::RopeStyle::neox}) {
        const uint32_t d = 32;
        const auto p = params(d, style);
        const auto q0 = test::random_floats(d, 1), k0 = test::random_floats(d, 2);
        auto score = [&](uint64_t pq, uint64_t pk) {
            std::vector<float> q = q0, k = k0;
            rope_apply(q.data(), pq, p);
            rope_apply(k.data(), pk, p);
            return dot(q, k);
        };
        const double base = score(7, 3);
        CHECK(score(4, 0) == Approx(base).epsilon(1e-5));
        CHECK(score(107, 103) == Approx(base).epsilon(1e-5));
        CHECK(score(10, 6) == Approx(base).epsilon(1e-5));
        CHECK(score(3, 7) != Approx(base).epsilon(1e-5));  // and it does depend on the offset
    }
}

TEST_CASE("ref rope: partial rotation leaves the tail, bad params throw") {
    auto p = params(8, ref::RopeStyle::neox);
    p.cfg.n_rot = 4;
    const auto x0 = test::random_floats(8, 3);
    std::vector<float> x = x0;
    rope_apply(x.data(), 5, p);
    for (int i = 4; i < 8; ++i) CHECK(x[i] == x0[i]);
    CHECK(x[0] != x0[0]);
    p.cfg.n_rot = 3;
    CHECK_THROWS_AS(rope_apply(x.data(), 5, p), Error);
    CHECK_THROWS_AS(rope_apply(x.data(), 5, params(0, ref::RopeStyle::normal)), Error);
    CHECK_THROWS_AS(rope_apply(x.data(), 5, params(8, ref::RopeStyle::normal, 0.0f)), Error);
    CHECK_THROWS_AS(rope_apply(x.data(), 5, params(8, ref::RopeStyle::normal, 1e4f, 0.0f)), Error);
}
