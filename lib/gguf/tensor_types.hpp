#pragma once
// GGML tensor element types as stored in GGUF tensor infos: id, name and storage geometry.
// This table is only about sizes (so the reader can check a tensor's byte count); the
// block formats themselves (quantize / dequantize) live in lib/quant.
#include <cstdint>
#include <optional>
#include <string_view>

namespace vks::gguf {

// GGML type ids (the numbers are part of the file format; gaps are retired types).
enum class TensorType : uint32_t {
    f32 = 0,
    f16 = 1,
    q4_0 = 2,
    q4_1 = 3,
    q5_0 = 6,
    q5_1 = 7,
    q8_0 = 8,
    q8_1 = 9,
    q2_k = 10,
    q3_k = 11,
    q4_k = 12,
    q5_k = 13,
    q6_k = 14,
    q8_k = 15,
    iq2_xxs = 16,
    iq2_xs = 17,
    iq3_xxs = 18,
    iq1_s = 19,
    iq4_nl = 20,
    iq3_s = 21,
    iq2_s = 22,
    iq4_xs = 23,
    i8 = 24,
    i16 = 25,
    i32 = 26,
    i64 = 27,
    f64 = 28,
    iq1_m = 29,
    bf16 = 30,
    tq1_0 = 34,
    tq2_0 = 35,
    mxfp4 = 39,
};

struct TensorTypeInfo {
    const char* name;     // upper-case GGML name, e.g. "Q4_K"
    uint32_t id;          // GGML type id
    uint32_t block_size;  // elements per block (1 for plain scalar types)
    uint32_t type_size;   // bytes per block
};

// nullptr when `id` is not a type we know the geometry of.
const TensorTypeInfo* find_tensor_type(uint32_t id);

// Name for printing; "type<id>" style names are not returned: unknown ids give "unknown".
const char* tensor_type_name(uint32_t id);

// Looks a type up by its GGML name (case-insensitive); nullopt when unknown.
std::optional<TensorType> tensor_type_from_name(std::string_view name);

// Bytes needed by one row of `n_elements` elements of type `id`, or nullopt when the type is
// unknown, the count is not a multiple of the block size, or the size would overflow.
std::optional<uint64_t> row_size(uint32_t id, uint64_t n_elements);

}  // namespace vks::gguf
