#pragma once
// Inline half-precision conversions (header-only so hot decode loops can inline them).
//
// binary16 (F16): 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits.
//   exponent 0   -> zero / subnormal: value = mant * 2^-24
//   exponent 31  -> inf (mant 0) / nan (mant != 0)
//   largest finite 65504, smallest normal 2^-14, smallest subnormal 2^-24.
// bfloat16 (BF16): the top 16 bits of a binary32 (1 sign, 8 exponent, 7 mantissa bits), so
//   widening is a shift and narrowing is a rounding of the low 16 bits.
//
// Narrowing rounds to nearest, ties to even, in integer arithmetic (independent of the FPU
// rounding mode and of compiler flags such as -ffast-math). Values that round past the largest
// finite value become inf; nan stays nan (forced quiet, sign kept).
#include <bit>
#include <cstdint>

namespace vks::quant::fp16 {

inline float f16_to_f32(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    const uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) return std::bit_cast<float>(sign);
        // Subnormal: mant * 2^-24 is exact in binary32.
        const float mag = float(mant) * (1.0f / 16777216.0f);
        return sign ? -mag : mag;
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 112u) << 23) | (mant << 13);  // rebias 15 -> 127
    }
    return std::bit_cast<float>(bits);
}

inline uint16_t f32_to_f16(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    const uint16_t sign = uint16_t((x >> 16) & 0x8000u);
    const uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) {  // nan: keep the top payload bits, force quiet
        return uint16_t(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
    }
    // 65520 (0x477ff000) is halfway between 65504 and 2^16; the tie goes to the even
    // neighbour, which is inf (65504 has an odd mantissa). Covers inf input too.
    if (ax >= 0x477ff000u) return uint16_t(sign | 0x7c00u);
    if (ax < 0x38800000u) {  // below 2^-14: result is subnormal or zero
        const uint32_t exp = ax >> 23;
        if (exp < 102) return sign;  // < 2^-25: rounds to zero
        const uint32_t mant = (ax & 0x7fffffu) | 0x800000u;
        const uint32_t shift = 126 - exp;  // 14..24: value / 2^-24 = mant >> shift
        uint32_t q = mant >> shift;
        const uint32_t rem = mant & ((1u << shift) - 1);
        const uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) ++q;  // may carry into the smallest normal
        return uint16_t(sign | q);
    }
    uint32_t h = (ax >> 13) - (112u << 10);  // rebias 127 -> 15, drop 13 mantissa bits
    const uint32_t rem = ax & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) ++h;  // carry may bump the exponent
    return uint16_t(sign | h);
}

inline float bf16_to_f32(uint16_t h) { return std::bit_cast<float>(uint32_t(h) << 16); }

inline uint16_t f32_to_bf16(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x0040u);  // quiet nan
    // Adding 0x7fff plus the lowest kept bit rounds to nearest even; overflow carries into inf.
    return uint16_t((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

}  // namespace vks::quant::fp16
