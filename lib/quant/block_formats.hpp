#pragma once
// Internal: the GGUF block structs and the per-family row codecs behind quant.hpp.
//
// All multi-byte fields are little-endian (GGUF is little-endian; we only build for
// little-endian hosts, see the static_assert). "f16" fields are IEEE binary16 bit patterns.
// The structs have no padding (checked below), so sizeof == the GGUF block size. Codecs never
// cast the caller's pointer to a struct: they memcpy one block in/out, so rows need no alignment.
//
// Families:
//   legacy (block of 32, one or two f16 factors per block)   -> legacy.cpp
//   K-quants (super-block of 256, sub-block scales packed)    -> kquants.cpp
#include <bit>
#include <cstdint>

namespace vks::quant::detail {

static_assert(std::endian::native == std::endian::little, "GGUF blocks are little-endian");

constexpr int k_qk = 32;    // legacy block size
constexpr int k_qk_k = 256; // K-quant super-block size

// --- legacy: x = d * q (+ m) -------------------------------------------------------------
struct BlockQ4_0 { uint16_t d; uint8_t qs[16]; };                 // 18 bytes
struct BlockQ4_1 { uint16_t d; uint16_t m; uint8_t qs[16]; };     // 20 bytes
struct BlockQ5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; };  // 22 bytes
struct BlockQ5_1 { uint16_t d; uint16_t m; uint8_t qh[4]; uint8_t qs[16]; };  // 24 bytes
struct BlockQ8_0 { uint16_t d; int8_t qs[32]; };                  // 34 bytes
struct BlockQ8_1 { uint16_t d; uint16_t s; int8_t qs[32]; };      // 36 bytes, s = d * sum(qs)

// --- K-quants ----------------------------------------------------------------------------
struct BlockQ2_K { uint8_t scales[16]; uint8_t qs[64]; uint16_t d; uint16_t dmin; };      // 84
struct BlockQ3_K { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; uint16_t d; };  // 110
struct BlockQ4_K { uint16_t d; uint16_t dmin; uint8_t scales[12]; uint8_t qs[128]; };     // 144
struct BlockQ5_K {
    uint16_t d; uint16_t dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128];
};  // 176
struct BlockQ6_K { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; };     // 210
struct BlockQ8_K { float d; int8_t qs[256]; int16_t bsums[16]; };                          // 292

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22 && sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34 && sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144 && sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210 && sizeof(BlockQ8_K) == 292);

// Row codecs: src/dst are byte pointers to n_blocks consecutive blocks (any alignment);
// floats are n_blocks * block_size long. Callers have validated the sizes.
#define VKS_QUANT_DECLARE_CODEC(name)                                                  \
    void dequantize_##name(const uint8_t* src, float* dst, int64_t n_blocks);          \
    void quantize_##name(const float* src, uint8_t* dst, int64_t n_blocks);

VKS_QUANT_DECLARE_CODEC(q4_0)
VKS_QUANT_DECLARE_CODEC(q4_1)
VKS_QUANT_DECLARE_CODEC(q5_0)
VKS_QUANT_DECLARE_CODEC(q5_1)
VKS_QUANT_DECLARE_CODEC(q8_0)
VKS_QUANT_DECLARE_CODEC(q8_1)
VKS_QUANT_DECLARE_CODEC(q2_k)
VKS_QUANT_DECLARE_CODEC(q3_k)
VKS_QUANT_DECLARE_CODEC(q4_k)
VKS_QUANT_DECLARE_CODEC(q5_k)
VKS_QUANT_DECLARE_CODEC(q6_k)
VKS_QUANT_DECLARE_CODEC(q8_k)

#undef VKS_QUANT_DECLARE_CODEC

}  // namespace vks::quant::detail
