#pragma once
// vks::quant — CPU encode/decode of the GGUF (ggml) tensor element types.
//
// The block layouts are byte-for-byte those of GGUF files written by llama.cpp, so a row read
// from a real model file decodes with dequantize_row(). Layouts are documented where they are
// implemented: block_formats.hpp (all structs), legacy.cpp (Q4_0..Q8_1), kquants.cpp (Q2_K..Q8_K),
// fp16.hpp (F16/BF16).
//
// Contracts (all functions):
//   - n counts elements and must be >= 0 and a multiple of info(t).block_size, otherwise
//     vks::Error(Status::invalid_argument) is thrown; nothing is written in that case.
//   - src/dst hold exactly row_bytes(t, n) bytes (quantized side) and n floats (float side);
//     no alignment is required on either side.
//   - The encoder (quantize_row) is our own: the bytes it writes are valid blocks that
//     llama.cpp decodes to the same values we do, but they are not bit-identical to what
//     llama.cpp's quantizer would choose for the same input.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace vks::quant {

// Numeric values are the ggml_type ids stored in GGUF tensor infos.
enum class Type : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    BF16 = 30,
};

struct TypeInfo {
    Type type;
    const char* name;      // ggml spelling: "f32", "q4_0", "q4_K", "bf16"
    uint32_t block_size;   // elements per block (1 for plain float types)
    uint32_t block_bytes;  // bytes per block
};

// nullptr if the id is not one of the types above (e.g. IQ* types, or garbage from a file).
const TypeInfo* find_type(uint32_t ggml_type_id);
const TypeInfo& info(Type t);
// Case-insensitive: "q4_0", "Q4_0", "q4_k", "F16", "bf16". nullopt if unknown.
std::optional<Type> parse_type(std::string_view name);

// Bytes taken by n elements of type t. Throws invalid_argument if n < 0 or n % block_size != 0.
size_t row_bytes(Type t, int64_t n_elems);

// src: row_bytes(t, n) bytes -> dst: n floats.
void dequantize_row(Type t, const void* src, float* dst, int64_t n);
// src: n floats -> dst: row_bytes(t, n) bytes. Non-finite inputs give unspecified (but
// well-formed) blocks for quantized types; F32/F16/BF16 carry inf/nan through.
void quantize_row(Type t, const float* src, void* dst, int64_t n);

// IEEE binary16 and bfloat16 <-> binary32, round-to-nearest-even, inf/nan/subnormals handled.
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
float bf16_to_f32(uint16_t h);
uint16_t f32_to_bf16(float f);

}  // namespace vks::quant
