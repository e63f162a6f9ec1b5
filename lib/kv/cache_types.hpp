#pragma once
// Element types of the KV cache (f16, q8_0, q4_0 for K and V independently) and the device layout
// of one layer's K (or V) buffer for each. Pure arithmetic: no device. lib/kv/cache.cpp sizes its
// buffers with it, the shaders (shaders/kv_quant.glsl) index with the same formulas, and the CPU
// reference (ref/kv_quant.hpp) encodes and decodes rows in exactly this layout.
//
// Blocks of 32 run along head_dim, one f16 scale per block (the ggml q8_0 / q4_0 arithmetic:
// q8_0 x = d * q, q in -127..127, d = amax / 127; q4_0 x = d * (q - 8), q in 0..15, d = -vmax / 8
// where vmax is the element of largest magnitude). Unlike a GGUF tensor, the scales do not sit
// next to their quants (18- and 34-byte blocks are not word aligned); a row (slot, kv head) is
//
//   f16:  (C, n_head_kv, head_dim / 2) words, element pairs (2w, 2w+1) as packHalf2x16
//   q8_0: quants (C, n_head_kv, head_dim / 4) words: element 4w + b in byte b (int8)
//   q4_0: quants (C, n_head_kv, head_dim / 8) words: element 8w + n in nibble n (q + 8, 0..15)
//         then, for both, at word scale_offset: scales (C, n_head_kv, SW) words, SW =
//         ceil(head_dim / 64): the f16 scale of block b in half (b & 1) of word b / 2 (a row's
//         scales never share a word with another row's, so rows are stored without races)
//         then, with f16 sinks, at word sink_offset: (n_sink, n_head_kv, head_dim / 2) f16 words
//         holding the sink slots' rows exact (their quantized rows are then unused).
// Region offsets are multiples of 4 words (16 bytes: one texel of a uniform texel buffer).
//
// Hadamard rotation (optional, quantized types): the row is multiplied by the orthonormal
// Sylvester-Hadamard matrix H / sqrt(head_dim) before quantizing (it spreads an outlier dimension
// over the whole row, so one large element no longer sets the scale of its block). H is symmetric
// and its own inverse: a row read back is rotated again. Requires head_dim a power of two. The
// whole tensor shares the basis (f16 sink rows are stored rotated too); how the device keeps it
// consistent with read-time RoPE: shaders/kv_quant.glsl. A rotated quantized K is also centred
// and scaled per channel before its rotation (kv/key_transform.hpp, calibrated by the session).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quant/quant.hpp"

namespace vks::kv {

struct CacheTypes {
    quant::Type k = quant::Type::F16;  // F16, Q8_0 or Q4_0
    quant::Type v = quant::Type::F16;
    bool hadamard = false;   // rotate quantized rows over head_dim (applies to every quantized type)
    bool f16_sinks = false;  // keep the sink slots exact (f16) when the type is quantized

    bool quantized() const { return k != quant::Type::F16 || v != quant::Type::F16; }
    // invalid_argument: a type other than f16/q8_0/q4_0; unsupported: head_dim % 32 != 0 for a
    // quantized type, or hadamard with head_dim not a power of two.
    void validate(uint32_t head_dim) const;
    bool operator==(const CacheTypes&) const = default;
};

// "f16", "q8_0", "q4_0" (the ggml spellings, as the CLI takes them). nullopt for anything else.
std::optional<quant::Type> parse_cache_type(std::string_view name);
bool is_cache_type(quant::Type t);
// e.g. "k q8_0, v q4_0, hadamard": for messages and `vkstream info`.
std::string describe(const CacheTypes& types);

// Word offsets and sizes of one layer's K (or V) buffer of element type `type`.
struct RowLayout {
    quant::Type type = quant::Type::F16;
    uint32_t n_rows = 0;        // C * n_head_kv
    uint32_t row_words = 0;     // quant (or f16) words of one row
    uint32_t scale_words = 0;   // scale words of one row (0 for f16)
    uint32_t scale_offset = 0;  // first scale word (0 for f16)
    uint32_t sink_rows = 0;     // n_sink * n_head_kv rows kept in f16 (0 without f16 sinks)
    uint32_t sink_offset = 0;   // first word of the f16 sink rows
    uint64_t words = 0;         // the whole buffer

    uint64_t bytes() const { return words * 4; }

    // The buffer as regions indexed by slot: quants (or f16 rows), scales, f16 sink rows. A slot's
    // data is slot_words words at offset + slot * slot_words of every region with slot < n_slots.
    // Session state saves the first n_cached slots of each region.
    struct Region {
        uint64_t offset = 0;      // words
        uint64_t slot_words = 0;  // words of one slot (n_head_kv rows)
        uint32_t n_slots = 0;
    };
    std::vector<Region> regions(uint32_t n_head_kv) const;
    // Words of the first n slots over all regions (what a saved state holds for n cached slots).
    uint64_t saved_words(uint32_t n_head_kv, uint32_t n) const;
};

RowLayout row_layout(quant::Type type, uint32_t capacity, uint32_t n_sink, uint32_t n_head_kv, uint32_t head_dim,
                     bool f16_sinks);

// Device bytes per cached token of one layer's K plus V (the memory a window slot costs).
uint64_t kv_bytes_per_token(const CacheTypes& types, uint32_t n_head_kv, uint32_t head_dim);

}  // namespace vks::kv
