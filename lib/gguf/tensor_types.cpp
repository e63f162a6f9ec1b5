#include "gguf/tensor_types.hpp"

#include <cctype>
#include <limits>

namespace vks::gguf {

namespace {

// Block geometry per GGML type. Sizes follow the published block layouts:
// e.g. Q4_0 = fp16 scale + 32 4-bit quants = 2 + 16 = 18 bytes per 32 elements;
// Q4_K = 2 fp16 + 12 bytes of 6-bit scales + 128 bytes of quants = 144 bytes per 256.
constexpr TensorTypeInfo k_types[] = {
    {"F32", 0, 1, 4},
    {"F16", 1, 1, 2},
    {"Q4_0", 2, 32, 18},
    {"Q4_1", 3, 32, 20},
    {"Q5_0", 6, 32, 22},
    {"Q5_1", 7, 32, 24},
    {"Q8_0", 8, 32, 34},
    {"Q8_1", 9, 32, 36},
    {"Q2_K", 10, 256, 84},
    {"Q3_K", 11, 256, 110},
    {"Q4_K", 12, 256, 144},
    {"Q5_K", 13, 256, 176},
    {"Q6_K", 14, 256, 210},
    {"Q8_K", 15, 256, 292},
    {"IQ2_XXS", 16, 256, 66},
    {"IQ2_XS", 17, 256, 74},
    {"IQ3_XXS", 18, 256, 98},
    {"IQ1_S", 19, 256, 50},
    {"IQ4_NL", 20, 32, 18},
    {"IQ3_S", 21, 256, 110},
    {"IQ2_S", 22, 256, 82},
    {"IQ4_XS", 23, 256, 136},
    {"I8", 24, 1, 1},
    {"I16", 25, 1, 2},
    {"I32", 26, 1, 4},
    {"I64", 27, 1, 8},
    {"F64", 28, 1, 8},
    {"IQ1_M", 29, 256, 56},
    {"BF16", 30, 1, 2},
    {"TQ1_0", 34, 256, 54},
    {"TQ2_0", 35, 256, 66},
    {"MXFP4", 39, 32, 17},
};

}  // namespace

const TensorTypeInfo* find_tensor_type(uint32_t id) {
    for (const auto& t : k_types)
        if (t.id == id) return &t;
    return nullptr;
}

const char* tensor_type_name(uint32_t id) {
    const TensorTypeInfo* t = find_tensor_type(id);
    return t ? t->name : "unknown";
}

std::optional<TensorType> tensor_type_from_name(std::string_view name) {
    for (const auto& t : k_types) {
        std::string_view tn = t.name;
        if (tn.size() != name.size()) continue;
        bool same = true;
        for (size_t i = 0; i < tn.size() && same; ++i)
            same = std::toupper(static_cast<unsigned char>(name[i])) == tn[i];
        if (same) return static_cast<TensorType>(t.id);
    }
    return std::nullopt;
}

std::optional<uint64_t> row_size(uint32_t id, uint64_t n_elements) {
    const TensorTypeInfo* t = find_tensor_type(id);
    if (!t || n_elements % t->block_size != 0) return std::nullopt;
    uint64_t n_blocks = n_elements / t->block_size;
    if (n_blocks > std::numeric_limits<uint64_t>::max() / t->type_size) return std::nullopt;
    return n_blocks * t->type_size;
}

}  // namespace vks::gguf
