// Quantize -> dequantize round trips on random data with per-type NMSE bounds, special blocks
// (all zero, constant, one huge outlier), write-extent guards, and idempotence of the legacy
// encoders on their own output.
//
// NMSE = sum (got - ref)^2 / sum ref^2 over a row of 64 super-blocks (16384 values).
// Bounds were set from the values this test prints (MESSAGE) with roughly 1.3-2x margin; the
// data is seeded, so the margin only absorbs future encoder changes. Measured 2026-11-23, max
// over the four distributions (uniform[-1,1], normal(0,1), normal(2,0.5), normal with a random
// per-256 scale in 1e-3..10):
//   type   measured  bound   | type   measured  bound
//   f16    4.7e-8    2.5e-7  | q5_K   1.3e-3    2.5e-3
//   bf16   3.0e-6    1.6e-5  | q4_0   7.7e-3    1e-2
//   q8_0   2.8e-5    1e-4    | q4_1   6.5e-3    1e-2
//   q8_1   3.2e-5    1e-4    | q4_K   5.0e-3    8e-3
//   q8_K   4.7e-5    1e-4    | q3_K   2.1e-2    3e-2
//   q6_K   3.1e-4    6e-4    | q2_K   6.9e-2    1e-1
//   q5_0   1.8e-3    3e-3    | f32    0         0
//   q5_1   1.4e-3    3e-3    |
// f16/bf16 bounds are the theoretical worst case (half an ulp relative: 2^-11, 2^-8, squared).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "quant/quant.hpp"
#include "support/test_support.hpp"

using namespace vks;
using namespace vks::quant;

namespace {

struct Bound {
    Type type;
    double nmse;
};
const Bound kBounds[] = {
    {Type::F32, 0.0},    {Type::F16, 2.5e-7}, {Type::BF16, 1.6e-5}, {Type::Q8_0, 1e-4}, {Type::Q8_1, 1e-4},
    {Type::Q8_K, 1e-4},  {Type::Q6_K, 6e-4},  {Type::Q5_0, 3e-3},   {Type::Q5_1, 3e-3}, {Type::Q5_K, 2.5e-3},
    {Type::Q4_0, 1e-2},  {Type::Q4_1, 1e-2},  {Type::Q4_K, 8e-3},   {Type::Q3_K, 3e-2}, {Type::Q2_K, 1e-1},
};

constexpr int64_t k_n = 256 * 64;  // (k_n) one row, whole blocks for every type

enum class Dist { uniform, normal, shifted_normal, varying_scale };
const char* dist_name(Dist d) {
    switch (d) {
        case Dist::uniform: return "uniform[-1,1]";
        case Dist::normal: return "normal(0,1)";
        case Dist::shifted_normal: return "normal(2,0.5)";
        case Dist::varying_scale: return "normal, per-256 scale 1e-3..10";
    }
    return "?";
}

std::vector<float> make_data(Dist dist, uint32_t seed) {
    if (dist == Dist::uniform) return test::random_floats(size_t(k_n), seed);
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_real_distribution<float> log_scale(-3.0f, 1.0f);
    std::vector<float> v(static_cast<size_t>(k_n));
    float scale = 1.0f;
    for (int64_t i = 0; i < k_n; ++i) {
        if (dist == Dist::varying_scale && i % 256 == 0) scale = std::pow(10.0f, log_scale(rng));
        const float z = normal(rng);
        v[size_t(i)] = dist == Dist::shifted_normal ? 2.0f + 0.5f * z : dist == Dist::varying_scale ? scale * z : z;
    }
    return v;
}

// Quantizes and dequantizes x, checking that neither side writes past its extent.
std::vector<float> round_trip(Type t, const std::vector<float>& x, std::vector<uint8_t>* bytes_out = nullptr) {
    const int64_t n = int64_t(x.size());
    const size_t nbytes = row_bytes(t, n);
    std::vector<uint8_t> bytes(nbytes + 16, 0xcd);  // 16 guard bytes
    quantize_row(t, x.data(), bytes.data(), n);
    REQUIRE(std::count(bytes.begin() + long(nbytes), bytes.end(), uint8_t(0xcd)) == 16);
    std::vector<float> y(x.size() + 4, 777.0f);  // 4 guard floats
    dequantize_row(t, bytes.data(), y.data(), n);
    REQUIRE(std::count(y.begin() + long(x.size()), y.end(), 777.0f) == 4);
    y.resize(x.size());
    if (bytes_out) *bytes_out = std::vector<uint8_t>(bytes.begin(), bytes.begin() + long(nbytes));
    return y;
}

bool all_finite(const std::vector<float>& v) {
    for (float f : v)
        if (!std::isfinite(f)) return false;
    return true;
}

}  // namespace

TEST_CASE("round trip on random data stays under the per-type NMSE bound") {
    for (const Bound& b : kBounds) {
        for (Dist dist : {Dist::uniform, Dist::normal, Dist::shifted_normal, Dist::varying_scale}) {
            const uint32_t seed = 1000 + uint32_t(b.type) * 10 + uint32_t(dist);
            const std::vector<float> x = make_data(dist, seed);
            const std::vector<float> y = round_trip(b.type, x);
            const double e = test::nmse(y.data(), x.data(), x.size());
            const std::string name = info(b.type).name;
        CAPTURE(name);
            const std::string dname = dist_name(dist);
        CAPTURE(dname);
            CAPTURE(seed);
            MESSAGE(name << " " << dname << " nmse=" << e);
            CHECK(all_finite(y));
            CHECK(e <= b.nmse);
        }
    }
}

TEST_CASE("all-zero blocks decode to exact zeros for every type") {
    const std::vector<float> x(size_t(k_n), 0.0f);
    for (const Bound& b : kBounds) {
        const std::string name = info(b.type).name;
        CAPTURE(name);
        const std::vector<float> y = round_trip(b.type, x);
        CHECK(test::max_abs_diff(y.data(), x.data(), x.size()) == 0.0);
    }
}

TEST_CASE("constant blocks (positive, negative, mixed per block) are reproduced closely") {
    std::vector<float> x(static_cast<size_t>(k_n));
    const float values[] = {0.7f, -0.3f, 5.0f, -1234.5f, 1e-3f, 0.0f, 42.0f, -2.0f};
    for (int64_t i = 0; i < k_n; ++i) x[size_t(i)] = values[(i / 256) % 8];
    for (const Bound& b : kBounds) {
        const std::string name = info(b.type).name;
        CAPTURE(name);
        const std::vector<float> y = round_trip(b.type, x);
        const double e = test::nmse(y.data(), x.data(), x.size());
        MESSAGE(name << " constant nmse=" << e);
        // Only the f16 rounding of the block factors is lost (~2^-11 relative per value);
        // bf16 storage itself keeps only 8 significant bits (2^-8 relative).
        CHECK(e <= (b.type == Type::BF16 ? 1.6e-5 : 1e-6));
    }
}

TEST_CASE("one huge outlier is kept and does not break other values") {
    std::vector<float> x = make_data(Dist::normal, 77);
    const size_t at = 1000;  // inside block 3 of 256, sub-block 14 of 16
    x[at] = 1000.0f;
    for (const Bound& b : kBounds) {
        const std::string name = info(b.type).name;
        CAPTURE(name);
        const std::vector<float> y = round_trip(b.type, x);
        CHECK(all_finite(y));
        CHECK(std::fabs(y[at] - 1000.0f) <= 1000.0f * 5e-3f);
        // Blocks that do not contain the outlier keep the normal-data accuracy.
        const size_t blk = 256;
        std::vector<float> xs, ys;
        for (size_t i = 0; i < x.size(); ++i)
            if (i / blk != at / blk) {
                xs.push_back(x[i]);
                ys.push_back(y[i]);
            }
        CHECK(test::nmse(ys.data(), xs.data(), xs.size()) <= b.nmse);
    }
}

TEST_CASE("legacy encoders are idempotent: quantize(dequantize(quantize(x))) == quantize(x)") {
    for (Type t : {Type::Q4_0, Type::Q4_1, Type::Q5_0, Type::Q5_1, Type::Q8_0, Type::Q8_1}) {
        for (Dist dist : {Dist::uniform, Dist::normal, Dist::varying_scale}) {
            const std::string name = info(t).name;
        CAPTURE(name);
            const std::string dname = dist_name(dist);
        CAPTURE(dname);
            const std::vector<float> x = make_data(dist, 4242 + uint32_t(dist));
            std::vector<uint8_t> first, second;
            const std::vector<float> y1 = round_trip(t, x, &first);
            const std::vector<float> y2 = round_trip(t, y1, &second);
            CHECK(first == second);
            CHECK(test::max_abs_diff(y2.data(), y1.data(), y1.size()) == 0.0);
        }
    }
}

TEST_CASE("K-quant encoders are stable on their own output (values, not necessarily bytes)") {
    // Re-encoding decoded K-quant data must not lose further accuracy: the decoded grid is
    // representable, so a sane encoder finds it again (up to tiny f16 re-rounding).
    for (Type t : {Type::Q2_K, Type::Q3_K, Type::Q4_K, Type::Q5_K, Type::Q6_K, Type::Q8_K}) {
        const std::string name = info(t).name;
        CAPTURE(name);
        const std::vector<float> x = make_data(Dist::normal, 99);
        const std::vector<float> y1 = round_trip(t, x);
        const std::vector<float> y2 = round_trip(t, y1);
        const double e = test::nmse(y2.data(), y1.data(), y1.size());
        MESSAGE(name << " re-encode nmse=" << e);
        CHECK(e <= 1e-4);
    }
}
