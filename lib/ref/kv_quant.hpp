#pragma once
// CPU reference of the quantized KV cache: how one row (one token's K or V for one kv head,
// head_dim floats) is stored in a cache buffer of element type f16 / q8_0 / q4_0 and what the
// attention kernels read back. The oracle for shaders/kv_quant.glsl (the store in kv_store.comp
// and in the attention kernels' decode store, the dequantizing reads of every attention variant).
//
// The arithmetic is lib/quant's: a row is cut into blocks of 32 along head_dim and each block is
// encoded with quant::quantize_row (ggml q8_0 / q4_0 blocks), then the block is re-laid into the
// cache's word layout (kv/cache_types.hpp: quants and scales in separate regions). Reading decodes
// the same way back. With the Hadamard rotation the row is rotated before encoding and after
// decoding (H / sqrt(head_dim) is its own inverse).
#include <cstdint>
#include <vector>

#include "kv/cache_types.hpp"

namespace vks::ref {

// In place: x (n) <- H x / sqrt(n), the orthonormal Sylvester-Hadamard transform (fast
// Walsh-Hadamard butterflies, in double). n must be a power of two. Applying it twice gives x back
// (up to rounding).
void hadamard(float* x, uint32_t n);

// Stores row (slot, kv head hk) of one layer's K (or V) buffer image `buf` (layout.words words):
//   x: (head_dim) floats. f16: packHalf2x16 pairs. q8_0 / q4_0: quants and scale as laid out in
//   kv/cache_types.hpp, after the Hadamard rotation when `hadamard`; a sink slot of a layout with
//   f16 sinks is stored in f16 there as well (its quantized row is left alone), rotated too when
//   `hadamard` (the device keeps a tensor's every row in one basis: shaders/kv_quant.glsl).
void kv_store_row(const kv::RowLayout& layout, uint32_t n_head_kv, uint32_t head_dim, bool hadamard, uint32_t slot,
                  uint32_t hk, const float* x, uint32_t* buf);

// Reads row (slot, hk) back: what an attention kernel sees. out: (head_dim) floats.
void kv_read_row(const kv::RowLayout& layout, uint32_t n_head_kv, uint32_t head_dim, bool hadamard, uint32_t slot,
                 uint32_t hk, const uint32_t* buf, float* out);

// What a row becomes after a store and a read (a store into slot 0 of a one-row buffer): the
// value the reference attention uses for tokens read from the ring. x, out: (head_dim); may alias.
// With center and scale (a K row of a calibrated rotated cache, kv/key_transform.hpp): stored as
// (x - center) * scale and mapped back after the read.
void kv_roundtrip_row(quant::Type type, uint32_t head_dim, bool hadamard, const float* x, float* out,
                      const float* center = nullptr, const float* scale = nullptr);

}  // namespace vks::ref
