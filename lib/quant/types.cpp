// Type table, name parsing, row sizes and the dispatch from Type to the family codecs.
//
// Type table (ggml id, block size in elements, block size in bytes):
//   f32   0    1    4      f16   1    1    2      bf16 30   1    2
//   q4_0  2   32   18      q4_1  3   32   20
//   q5_0  6   32   22      q5_1  7   32   24
//   q8_0  8   32   34      q8_1  9   32   36
//   q2_K 10  256   84      q3_K 11  256  110      q4_K 12  256  144
//   q5_K 13  256  176      q6_K 14  256  210      q8_K 15  256  292
// Ids 4 and 5 (the removed Q4_2/Q4_3) and the IQ*/TQ* types are not ours: find_type -> nullptr.
#include "quant/quant.hpp"

#include <cctype>
#include <cstring>

#include "common/error.hpp"
#include "quant/block_formats.hpp"
#include "quant/fp16.hpp"

namespace vks::quant {

namespace {

constexpr TypeInfo k_types[] = {
    {Type::F32, "f32", 1, 4},
    {Type::F16, "f16", 1, 2},
    {Type::Q4_0, "q4_0", 32, 18},
    {Type::Q4_1, "q4_1", 32, 20},
    {Type::Q5_0, "q5_0", 32, 22},
    {Type::Q5_1, "q5_1", 32, 24},
    {Type::Q8_0, "q8_0", 32, 34},
    {Type::Q8_1, "q8_1", 32, 36},
    {Type::Q2_K, "q2_K", 256, 84},
    {Type::Q3_K, "q3_K", 256, 110},
    {Type::Q4_K, "q4_K", 256, 144},
    {Type::Q5_K, "q5_K", 256, 176},
    {Type::Q6_K, "q6_K", 256, 210},
    {Type::Q8_K, "q8_K", 256, 292},
    {Type::BF16, "bf16", 1, 2},
};

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tolower((unsigned char)a[i]) != std::tolower((unsigned char)b[i])) return false;
    return true;
}

// Validates n and returns the number of blocks.
int64_t checked_blocks(Type t, int64_t n, const char* what) {
    const TypeInfo& ti = info(t);
    if (n < 0) fail(Status::invalid_argument, "%s: negative element count %lld for %s", what, (long long)n, ti.name);
    if (n % ti.block_size != 0)
        fail(Status::invalid_argument, "%s: %lld elements is not a multiple of the %s block size %u", what,
             (long long)n, ti.name, ti.block_size);
    return n / ti.block_size;
}

}  // namespace

const TypeInfo* find_type(uint32_t ggml_type_id) {
    for (const TypeInfo& ti : k_types)
        if (uint32_t(ti.type) == ggml_type_id) return &ti;
    return nullptr;
}

const TypeInfo& info(Type t) {
    const TypeInfo* ti = find_type(uint32_t(t));
    if (!ti) fail(Status::invalid_argument, "quant::info: %u is not a known tensor type", uint32_t(t));
    return *ti;
}

std::optional<Type> parse_type(std::string_view name) {
    for (const TypeInfo& ti : k_types)
        if (iequals(name, ti.name)) return ti.type;
    return std::nullopt;
}

size_t row_bytes(Type t, int64_t n_elems) {
    return size_t(checked_blocks(t, n_elems, "quant::row_bytes")) * info(t).block_bytes;
}

void dequantize_row(Type t, const void* src, float* dst, int64_t n) {
    using namespace detail;
    const int64_t nb = checked_blocks(t, n, "quant::dequantize_row");
    if (nb == 0) return;
    if (!src || !dst) fail(Status::invalid_argument, "quant::dequantize_row: null buffer for %lld elements", (long long)n);
    const auto* s = static_cast<const uint8_t*>(src);
    switch (t) {
        case Type::F32: std::memcpy(dst, s, size_t(n) * 4); return;
        case Type::F16:
            for (int64_t i = 0; i < n; ++i) {
                uint16_t h;
                std::memcpy(&h, s + 2 * i, 2);
                dst[i] = fp16::f16_to_f32(h);
            }
            return;
        case Type::BF16:
            for (int64_t i = 0; i < n; ++i) {
                uint16_t h;
                std::memcpy(&h, s + 2 * i, 2);
                dst[i] = fp16::bf16_to_f32(h);
            }
            return;
        case Type::Q4_0: dequantize_q4_0(s, dst, nb); return;
        case Type::Q4_1: dequantize_q4_1(s, dst, nb); return;
        case Type::Q5_0: dequantize_q5_0(s, dst, nb); return;
        case Type::Q5_1: dequantize_q5_1(s, dst, nb); return;
        case Type::Q8_0: dequantize_q8_0(s, dst, nb); return;
        case Type::Q8_1: dequantize_q8_1(s, dst, nb); return;
        case Type::Q2_K: dequantize_q2_k(s, dst, nb); return;
        case Type::Q3_K: dequantize_q3_k(s, dst, nb); return;
        case Type::Q4_K: dequantize_q4_k(s, dst, nb); return;
        case Type::Q5_K: dequantize_q5_k(s, dst, nb); return;
        case Type::Q6_K: dequantize_q6_k(s, dst, nb); return;
        case Type::Q8_K: dequantize_q8_k(s, dst, nb); return;
    }
    fail(Status::internal, "quant::dequantize_row: unhandled type %u", uint32_t(t));
}

void quantize_row(Type t, const float* src, void* dst, int64_t n) {
    using namespace detail;
    const int64_t nb = checked_blocks(t, n, "quant::quantize_row");
    if (nb == 0) return;
    if (!src || !dst) fail(Status::invalid_argument, "quant::quantize_row: null buffer for %lld elements", (long long)n);
    auto* d = static_cast<uint8_t*>(dst);
    switch (t) {
        case Type::F32: std::memcpy(d, src, size_t(n) * 4); return;
        case Type::F16:
            for (int64_t i = 0; i < n; ++i) {
                const uint16_t h = fp16::f32_to_f16(src[i]);
                std::memcpy(d + 2 * i, &h, 2);
            }
            return;
        case Type::BF16:
            for (int64_t i = 0; i < n; ++i) {
                const uint16_t h = fp16::f32_to_bf16(src[i]);
                std::memcpy(d + 2 * i, &h, 2);
            }
            return;
        case Type::Q4_0: quantize_q4_0(src, d, nb); return;
        case Type::Q4_1: quantize_q4_1(src, d, nb); return;
        case Type::Q5_0: quantize_q5_0(src, d, nb); return;
        case Type::Q5_1: quantize_q5_1(src, d, nb); return;
        case Type::Q8_0: quantize_q8_0(src, d, nb); return;
        case Type::Q8_1: quantize_q8_1(src, d, nb); return;
        case Type::Q2_K: quantize_q2_k(src, d, nb); return;
        case Type::Q3_K: quantize_q3_k(src, d, nb); return;
        case Type::Q4_K: quantize_q4_k(src, d, nb); return;
        case Type::Q5_K: quantize_q5_k(src, d, nb); return;
        case Type::Q6_K: quantize_q6_k(src, d, nb); return;
        case Type::Q8_K: quantize_q8_k(src, d, nb); return;
    }
    fail(Status::internal, "quant::quantize_row: unhandled type %u", uint32_t(t));
}

float f16_to_f32(uint16_t h) { return fp16::f16_to_f32(h); }
uint16_t f32_to_f16(float f) { return fp16::f32_to_f16(f); }
float bf16_to_f32(uint16_t h) { return fp16::bf16_to_f32(h); }
uint16_t f32_to_bf16(float f) { return fp16::f32_to_bf16(f); }

}  // namespace vks::quant
