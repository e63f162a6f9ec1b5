// lib/ref element-wise, rms_norm, softmax and GLU against hand-computed values on tiny inputs.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "common/error.hpp"
#include "ref/elementwise.hpp"
#include "ref/glu.hpp"
#include "ref/rms_norm.hpp"
#include "ref/softmax.hpp"

using namespace vks;
using doctest::Approx;

TEST_CASE("ref: add / mul, same shape and row broadcast") {
    const std::vector<float> a = {1, 2, 3, 4, 5, 6};  // (2, 3)
    const std::vector<float> b = {10, 20, 30, 40, 50, 60};
    const std::vector<float> row = {0.5f, -1, 2};      // (3)
    std::vector<float> out(6);
    ref::add(a.data(), b.data(), out.data(), 6);
    CHECK(out == std::vector<float>{11, 22, 33, 44, 55, 66});
    ref::mul(a.data(), b.data(), out.data(), 6);
    CHECK(out == std::vector<float>{10, 40, 90, 160, 250, 360});
    ref::add_rows(a.data(), row.data(), out.data(), 2, 3);
    CHECK(out == std::vector<float>{1.5f, 1, 5, 4.5f, 4, 8});
    ref::mul_rows(a.data(), row.data(), out.data(), 2, 3);
    CHECK(out == std::vector<float>{0.5f, -2, 6, 2, -5, 12});
    ref::scale(a.data(), -2, out.data(), 6);
    CHECK(out == std::vector<float>{-2, -4, -6, -8, -10, -12});
    // In place (out aliases a).
    std::vector<float> c = a;
    ref::add(c.data(), b.data(), c.data(), 6);
    CHECK(c == std::vector<float>{11, 22, 33, 44, 55, 66});
}

TEST_CASE("ref: rms_norm hand values") {
    // Row 0: x = 1,2,3,4, mean(x^2) = 7.5; row 1: 3,4,0,0 with eps = 1 -> mean 25/4 + 1.
    const std::vector<float> x = {1, 2, 3, 4, 3, 4, 0, 0};  // (2, 4)
    const std::vector<float> w = {1, 1, 2, 0.5f};
    std::vector<float> out(8);
    ref::rms_norm(x.data(), w.data(), out.data(), 1, 4, 0.0f);
    const double r0 = 0.3651483716701107;  // 1 / sqrt(7.5)
    CHECK(out[0] == Approx(1 * r0).epsilon(1e-6));
    CHECK(out[1] == Approx(2 * r0).epsilon(1e-6));
    CHECK(out[2] == Approx(6 * r0).epsilon(1e-6));
    CHECK(out[3] == Approx(2 * r0).epsilon(1e-6));
    ref::rms_norm(x.data(), nullptr, out.data(), 2, 4, 1.0f);
    const double r1 = 1.0 / std::sqrt(7.5 + 1.0), r2 = 1.0 / std::sqrt(25.0 / 4 + 1.0);
    CHECK(out[1] == Approx(2 * r1).epsilon(1e-6));
    CHECK(out[4] == Approx(3 * r2).epsilon(1e-6));
    CHECK(out[5] == Approx(4 * r2).epsilon(1e-6));
    CHECK(out[6] == 0.0f);
    CHECK_THROWS_AS(ref::rms_norm(x.data(), nullptr, out.data(), 1, 0, 1e-5f), Error);
    CHECK_THROWS_AS(ref::rms_norm(x.data(), nullptr, out.data(), 1, 4, -1.0f), Error);
}

TEST_CASE("ref: softmax hand values and stability") {
    const std::vector<float> x = {1, 2, 3, 1001, 1002, 1003};  // (2, 3): second row shifted by 1000
    std::vector<float> out(6);
    ref::softmax(x.data(), out.data(), 2, 3);
    const double expect[3] = {0.09003057317038046, 0.24472847105479767, 0.6652409557748219};
    for (int r = 0; r < 2; ++r)
        for (int i = 0; i < 3; ++i) CHECK(out[r * 3 + i] == Approx(expect[i]).epsilon(1e-6));
    const std::vector<float> masked = {-INFINITY, 0.0f, -INFINITY, 0.0f};
    ref::softmax(masked.data(), out.data(), 1, 4);
    CHECK(out[0] == 0.0f);
    CHECK(out[1] == Approx(0.5));
    CHECK(out[3] == Approx(0.5));
    const std::vector<float> all_masked = {-INFINITY, -INFINITY};
    CHECK_THROWS_AS(ref::softmax(all_masked.data(), out.data(), 1, 2), Error);
}

TEST_CASE("ref: silu / gelu_tanh and their GLUs, hand values") {
    CHECK(ref::silu(0.0f) == 0.0f);
    CHECK(ref::silu(1.0f) == Approx(0.7310585786300049).epsilon(1e-6));
    CHECK(ref::silu(-2.0f) == Approx(-0.2384058440442351).epsilon(1e-6));
    CHECK(ref::silu(-200.0f) == Approx(0.0));  // exp overflow is harmless
    CHECK(ref::silu(200.0f) == Approx(200.0));
    CHECK(ref::gelu_tanh(0.0f) == 0.0f);
    CHECK(ref::gelu_tanh(1.0f) == Approx(0.8411919906082768).epsilon(1e-6));
    CHECK(ref::gelu_tanh(-1.0f) == Approx(-0.15880800939172324).epsilon(1e-6));
    CHECK(ref::gelu_tanh(3.0f) == Approx(2.996362607918227).epsilon(1e-6));
    const std::vector<float> gate = {1, -2, 0.5f}, up = {2, 3, -4};
    std::vector<float> out(3);
    ref::silu_glu(gate.data(), up.data(), out.data(), 3);
    CHECK(out[0] == Approx(1.4621171572600098).epsilon(1e-6));
    CHECK(out[1] == Approx(-0.7152175321327052).epsilon(1e-6));
    ref::gelu_glu(gate.data(), up.data(), out.data(), 3);
    CHECK(out[0] == Approx(2 * 0.8411919906082768).epsilon(1e-6));
    CHECK(out[2] == Approx(-1.3828560393005758).epsilon(1e-6));
}
