// F16 / BF16 conversions: exact values, round-to-nearest-even, inf/nan, subnormals, overflow.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "quant/quant.hpp"

using namespace vks::quant;

namespace {
float bits_f32(uint32_t u) { return std::bit_cast<float>(u); }
uint32_t f32_bits(float f) { return std::bit_cast<uint32_t>(f); }
}  // namespace

TEST_CASE("f16: exactly representable values convert both ways") {
    struct Pair { float f; uint16_t h; };
    const Pair pairs[] = {
        {0.0f, 0x0000}, {-0.0f, 0x8000}, {1.0f, 0x3c00}, {-2.0f, 0xc000}, {0.5f, 0x3800},
        {0.25f, 0x3400}, {1.5f, 0x3e00}, {65504.0f, 0x7bff}, {-65504.0f, 0xfbff},
        {std::ldexp(1.0f, -14), 0x0400},            // smallest normal
        {std::ldexp(1.0f, -24), 0x0001},            // smallest subnormal
        {std::ldexp(1023.0f, -24), 0x03ff},         // largest subnormal
        {-std::ldexp(3.0f, -24), 0x8003},
        {std::numeric_limits<float>::infinity(), 0x7c00},
        {-std::numeric_limits<float>::infinity(), 0xfc00},
    };
    for (const Pair& p : pairs) {
        CAPTURE(p.f);
        CHECK(f32_to_f16(p.f) == p.h);
        CHECK(f32_bits(f16_to_f32(p.h)) == f32_bits(p.f));  // bitwise: keeps the sign of zero
    }
}

TEST_CASE("f16: every non-nan pattern survives f16 -> f32 -> f16, nan stays nan") {
    int n_bad = 0;
    for (uint32_t h = 0; h < 0x10000; ++h) {
        const float f = f16_to_f32(uint16_t(h));
        const bool is_nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
        if (is_nan) {
            if (!std::isnan(f) || (f32_to_f16(f) & 0x7fff) <= 0x7c00) ++n_bad;
        } else if (f32_to_f16(f) != h) {
            ++n_bad;
        }
    }
    CHECK(n_bad == 0);
}

TEST_CASE("f16: rounding is to nearest, ties to even (normal and subnormal range)") {
    // 1 + 2^-11 is halfway between 0x3c00 (even) and 0x3c01: goes down.
    CHECK(f32_to_f16(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);
    // 1 + 3*2^-11 is halfway between 0x3c01 (odd) and 0x3c02 (even): goes up.
    CHECK(f32_to_f16(1.0f + std::ldexp(3.0f, -11)) == 0x3c02);
    // Just above a tie goes up.
    CHECK(f32_to_f16(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)) == 0x3c01);
    // Just below a tie goes down.
    CHECK(f32_to_f16(1.0f + std::ldexp(1.0f, -11) - std::ldexp(1.0f, -22)) == 0x3c00);
    // Subnormals: 2^-25 is halfway between 0 and 2^-24 -> 0; 3*2^-25 halfway 1..2 -> 2.
    CHECK(f32_to_f16(std::ldexp(1.0f, -25)) == 0x0000);
    CHECK(f32_to_f16(-std::ldexp(1.0f, -25)) == 0x8000);
    CHECK(f32_to_f16(std::ldexp(1.0f, -25) * 1.0001f) == 0x0001);
    CHECK(f32_to_f16(std::ldexp(3.0f, -25)) == 0x0002);
    CHECK(f32_to_f16(std::ldexp(1.0f, -30)) == 0x0000);
    CHECK(f32_to_f16(std::numeric_limits<float>::denorm_min()) == 0x0000);
    // 1023.5 * 2^-24 is halfway between the largest subnormal (odd) and the smallest normal.
    CHECK(f32_to_f16(std::ldexp(2047.0f, -25)) == 0x0400);
    // Tie at the top of a binade carries into the exponent: 2047*2^-11 -> 2.0 (0x4000).
    CHECK(f32_to_f16(std::ldexp(4095.0f, -11)) == 0x4000);
}

TEST_CASE("f16: overflow goes to inf exactly past the rounding boundary and nan input stays nan") {
    CHECK(f32_to_f16(65519.0f) == 0x7bff);
    CHECK(f32_to_f16(65520.0f) == 0x7c00);  // tie with 65536 rounds to even = inf
    CHECK(f32_to_f16(-65520.0f) == 0xfc00);
    CHECK(f32_to_f16(1e6f) == 0x7c00);
    CHECK(f32_to_f16(std::numeric_limits<float>::max()) == 0x7c00);
    const uint16_t hn = f32_to_f16(std::numeric_limits<float>::quiet_NaN());
    CHECK((hn & 0x7c00) == 0x7c00);
    CHECK((hn & 0x03ff) != 0);
    // A signalling nan whose payload sits only in the low bits must not become inf.
    const uint16_t hs = f32_to_f16(bits_f32(0x7f800001u));
    CHECK((hs & 0x7fff) > 0x7c00);
    CHECK(std::isnan(f16_to_f32(0x7e00)));
    CHECK(std::isnan(f16_to_f32(0xfc01)));
}

TEST_CASE("f16: random floats round to the nearest f16, ties to even (neighbour check)") {
    std::mt19937 rng(1234);
    std::uniform_int_distribution<int> exp_dist(-28, 16);
    std::uniform_real_distribution<float> mant_dist(1.0f, 2.0f);
    int n_bad = 0;
    for (int i = 0; i < 200000; ++i) {
        float x = std::ldexp(mant_dist(rng), exp_dist(rng));
        if (i & 1) x = -x;
        if (std::fabs(x) >= 65504.0f) continue;
        const uint16_t h = f32_to_f16(x);
        const double err = std::fabs(double(f16_to_f32(h)) - double(x));
        // Neighbours in magnitude (same sign): h-1 and h+1 on the magnitude bits.
        const uint16_t mag = h & 0x7fff, sign = h & 0x8000;
        for (int delta : {-1, 1}) {
            const int nm = int(mag) + delta;
            if (nm < 0 || nm > 0x7bff) continue;
            const double nerr = std::fabs(double(f16_to_f32(uint16_t(sign | nm))) - double(x));
            if (nerr < err || (nerr == err && (h & 1))) ++n_bad;
        }
#if defined(__FLT16_MAX__)
        // Independent oracle where the compiler has _Float16 (software/hardware RNE).
        const _Float16 ref = (_Float16)x;
        if (std::bit_cast<uint16_t>(ref) != h) ++n_bad;
#endif
    }
    CHECK(n_bad == 0);
}

TEST_CASE("bf16: exact values, ties to even, overflow, nan, subnormals") {
    CHECK(f32_to_bf16(1.0f) == 0x3f80);
    CHECK(f32_to_bf16(-1.5f) == 0xbfc0);
    CHECK(bf16_to_f32(0x3f80) == 1.0f);
    CHECK(bf16_to_f32(0xc0a0) == -5.0f);
    CHECK(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)) == 0x3f80);       // tie -> even (down)
    CHECK(f32_to_bf16(1.0f + std::ldexp(3.0f, -8)) == 0x3f82);       // tie -> even (up)
    CHECK(f32_to_bf16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)) == 0x3f81);
    CHECK(f32_to_bf16(std::numeric_limits<float>::max()) == 0x7f80);  // rounds past max -> inf
    CHECK(f32_to_bf16(-std::numeric_limits<float>::infinity()) == 0xff80);
    const uint16_t n1 = f32_to_bf16(bits_f32(0x7f800001u));          // payload only in low bits
    CHECK((n1 & 0x7f80) == 0x7f80);
    CHECK((n1 & 0x007f) != 0);
    CHECK(std::isnan(bf16_to_f32(n1)));
    CHECK(f32_to_bf16(bits_f32(0x00080000u)) == 0x0008);             // f32 subnormal 2^-130 kept
    CHECK(bf16_to_f32(0x0008) == std::ldexp(1.0f, -130));
    CHECK(f32_to_bf16(bits_f32(0x00008000u)) == 0x0000);             // tie to even -> 0
    CHECK(f32_to_bf16(bits_f32(0x00018000u)) == 0x0002);             // tie to even -> 2
    int n_bad = 0;
    for (uint32_t h = 0; h < 0x10000; ++h) {
        const float f = bf16_to_f32(uint16_t(h));
        if (!std::isnan(f) && f32_to_bf16(f) != h) ++n_bad;
    }
    CHECK(n_bad == 0);
}
