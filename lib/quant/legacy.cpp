// Legacy ggml block formats: 32 elements per block, one f16 scale d (and for the *_1 types an
// f16 offset m), quants stored as unsigned integers.
//
// Element order inside a 32-element block (Q4_*, Q5_*): byte qs[j] (j = 0..15) holds element j
// in its LOW nibble and element j + 16 in its HIGH nibble. (Not interleaved pairs: elements 0
// and 1 live in different bytes.)
//
// Q4_0  {f16 d; u8 qs[16]}            x = d * (q - 8),        q in 0..15
// Q4_1  {f16 d; f16 m; u8 qs[16]}     x = d * q + m,          q in 0..15
// Q5_0  {f16 d; u8 qh[4]; u8 qs[16]}  x = d * (q - 16),       q in 0..31
// Q5_1  {f16 d; f16 m; u8 qh[4]; u8 qs[16]}  x = d * q + m,   q in 0..31
//       qh read as one little-endian u32: bit j is bit 4 (the fifth bit) of element j, for all
//       j = 0..31; the low four bits come from the nibbles as in Q4_*.
// Q8_0  {f16 d; i8 qs[32]}            x = d * q, element j = qs[j]
// Q8_1  {f16 d; f16 s; i8 qs[32]}     x = d * q; s = d * sum(q) is a precomputed helper for
//       dot products against *_1 weights (the activation side), not needed to decode.
//
// Encoders (ours): Q*_0 put the element of largest magnitude on the most negative code (-8 or
// -16), which is exactly representable, so the extreme value is kept; Q*_1 span [min, max].
// Quants are computed against the f16-rounded d/m actually stored, so decoding what we encode
// reproduces the grid exactly and re-encoding decoded data gives the same bytes.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/block_formats.hpp"
#include "quant/fp16.hpp"

namespace vks::quant::detail {

using fp16::f16_to_f32;
using fp16::f32_to_f16;

namespace {

template <typename Block>
Block load_block(const uint8_t* src, int64_t i) {
    Block b;
    std::memcpy(&b, src + i * int64_t(sizeof(Block)), sizeof(Block));
    return b;
}

template <typename Block>
void store_block(uint8_t* dst, int64_t i, const Block& b) {
    std::memcpy(dst + i * int64_t(sizeof(Block)), &b, sizeof(Block));
}

int round_clamp(float v, int lo, int hi) {
    const long r = std::lrintf(v);  // nearest, ties to even; nan -> unspecified, clamped below
    return int(std::clamp<long>(r, lo, hi));
}

// Value of largest magnitude, keeping its sign (0 for an all-zero block).
float signed_absmax(const float* x, int n) {
    float amax = 0, vmax = 0;
    for (int j = 0; j < n; ++j)
        if (std::fabs(x[j]) > amax) {
            amax = std::fabs(x[j]);
            vmax = x[j];
        }
    return vmax;
}

// Rounds v to f16 and returns both the bits and the value they decode to.
struct Half {
    uint16_t bits;
    float value;
};
Half to_half(float v) {
    const uint16_t b = f32_to_f16(v);
    return {b, f16_to_f32(b)};
}

// Packs unsigned quants q[32] (each < 16 after masking) into nibbles, element j and j+16 per byte.
void pack_nibbles(const int* q, uint8_t* qs) {
    for (int j = 0; j < 16; ++j) qs[j] = uint8_t((q[j] & 0xf) | ((q[j + 16] & 0xf) << 4));
}
uint32_t pack_high_bits(const int* q) {  // bit 4 of each 5-bit quant -> bit j of qh
    uint32_t qh = 0;
    for (int j = 0; j < 32; ++j) qh |= uint32_t((q[j] >> 4) & 1) << j;
    return qh;
}
int nibble(const uint8_t* qs, int j) { return j < 16 ? (qs[j] & 0xf) : (qs[j - 16] >> 4); }

// Symmetric code: x ~ d * (q - zero), q in 0..2*zero-1, extreme on q = 0.
Half quantize_symmetric(const float* x, int zero, int* q) {
    const Half d = to_half(signed_absmax(x, k_qk) / float(-zero));
    for (int j = 0; j < k_qk; ++j) q[j] = d.value != 0 ? round_clamp(x[j] / d.value, -zero, zero - 1) + zero : zero;
    return d;
}

// Affine code: x ~ d * q + m, q in 0..qmax, m = block min.
void quantize_affine(const float* x, int qmax, int* q, Half* d, Half* m) {
    float lo = x[0], hi = x[0];
    for (int j = 1; j < k_qk; ++j) {
        lo = std::min(lo, x[j]);
        hi = std::max(hi, x[j]);
    }
    *d = to_half((hi - lo) / float(qmax));
    *m = to_half(lo);
    for (int j = 0; j < k_qk; ++j) q[j] = d->value != 0 ? round_clamp((x[j] - m->value) / d->value, 0, qmax) : 0;
}

}  // namespace

// --- Q4_0 ---------------------------------------------------------------------------------

void dequantize_q4_0(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += k_qk) {
        const auto b = load_block<BlockQ4_0>(src, i);
        const float d = f16_to_f32(b.d);
        for (int j = 0; j < k_qk; ++j) dst[j] = d * float(nibble(b.qs, j) - 8);
    }
}

void quantize_q4_0(const float* src, uint8_t* dst, int64_t n_blocks) {
    int q[k_qk];
    for (int64_t i = 0; i < n_blocks; ++i, src += k_qk) {
        BlockQ4_0 b{};
        b.d = quantize_symmetric(src, 8, q).bits;
        pack_nibbles(q, b.qs);
        store_block(dst, i, b);
    }
}

// --- Q4_1 ---------------------------------------------------------------------------------

void dequantize_q4_1(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += k_qk) {
        const auto b = load_block<BlockQ4_1>(src, i);
        const float d = f16_to_f32(b.d), m = f16_to_f32(b.m);
        for (int j = 0; j < k_qk; ++j) dst[j] = d * float(nibble(b.qs, j)) + m;
    }
}

void quantize_q4_1(const float* src, uint8_t* dst, int64_t n_blocks) {
    int q[k_qk];
    for (int64_t i = 0; i < n_blocks; ++i, src += k_qk) {
        BlockQ4_1 b{};
        Half d, m;
        quantize_affine(src, 15, q, &d, &m);
        b.d = d.bits;
        b.m = m.bits;
        pack_nibbles(q, b.qs);
        store_block(dst, i, b);
    }
}

// --- Q5_0 ---------------------------------------------------------------------------------

void dequantize_q5_0(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += k_qk) {
        const auto b = load_block<BlockQ5_0>(src, i);
        const float d = f16_to_f32(b.d);
        uint32_t qh;
        std::memcpy(&qh, b.qh, 4);
        for (int j = 0; j < k_qk; ++j) {
            const int q = nibble(b.qs, j) | int(((qh >> j) & 1) << 4);
            dst[j] = d * float(q - 16);
        }
    }
}

void quantize_q5_0(const float* src, uint8_t* dst, int64_t n_blocks) {
    int q[k_qk];
    for (int64_t i = 0; i < n_blocks; ++i, src += k_qk) {
        BlockQ5_0 b{};
        b.d = quantize_symmetric(src, 16, q).bits;
        pack_nibbles(q, b.qs);
        const uint32_t qh = pack_high_bits(q);
        std::memcpy(b.qh, &qh, 4);
        store_block(dst, i, b);
    }
}

// --- Q5_1 ---------------------------------------------------------------------------------

void dequantize_q5_1(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += k_qk) {
        const auto b = load_block<BlockQ5_1>(src, i);
        const float d = f16_to_f32(b.d), m = f16_to_f32(b.m);
        uint32_t qh;
        std::memcpy(&qh, b.qh, 4);
        for (int j = 0; j < k_qk; ++j) {
            const int q = nibble(b.qs, j) | int(((qh >> j) & 1) << 4);
            dst[j] = d * float(q) + m;
        }
    }
}

void quantize_q5_1(const float* src, uint8_t* dst, int64_t n_blocks) {
    int q[k_qk];
    for (int64_t i = 0; i < n_blocks; ++i, src += k_qk) {
        BlockQ5_1 b{};
        Half d, m;
        quantize_affine(src, 31, q, &d, &m);
        b.d = d.bits;
        b.m = m.bits;
        pack_nibbles(q, b.qs);
        const uint32_t qh = pack_high_bits(q);
        std::memcpy(b.qh, &qh, 4);
        store_block(dst, i, b);
    }
}

// --- Q8_0 / Q8_1 --------------------------------------------------------------------------

namespace {
// x ~ d * q, q in -127..127 (-128 unused so the code is symmetric).
Half quantize_int8(const float* x, int8_t* qs) {
    const Half d = to_half(std::fabs(signed_absmax(x, k_qk)) / 127.0f);
    for (int j = 0; j < k_qk; ++j) qs[j] = int8_t(d.value != 0 ? round_clamp(x[j] / d.value, -127, 127) : 0);
    return d;
}
}  // namespace

void dequantize_q8_0(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += k_qk) {
        const auto b = load_block<BlockQ8_0>(src, i);
        const float d = f16_to_f32(b.d);
        for (int j = 0; j < k_qk; ++j) dst[j] = d * float(b.qs[j]);
    }
}

void quantize_q8_0(const float* src, uint8_t* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, src += k_qk) {
        BlockQ8_0 b{};
        b.d = quantize_int8(src, b.qs).bits;
        store_block(dst, i, b);
    }
}

void dequantize_q8_1(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += k_qk) {
        const auto b = load_block<BlockQ8_1>(src, i);
        const float d = f16_to_f32(b.d);
        for (int j = 0; j < k_qk; ++j) dst[j] = d * float(b.qs[j]);
    }
}

void quantize_q8_1(const float* src, uint8_t* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, src += k_qk) {
        BlockQ8_1 b{};
        const Half d = quantize_int8(src, b.qs);
        int sum = 0;
        for (int j = 0; j < k_qk; ++j) sum += b.qs[j];
        b.d = d.bits;
        b.s = f32_to_f16(d.value * float(sum));
        store_block(dst, i, b);
    }
}

}  // namespace vks::quant::detail
