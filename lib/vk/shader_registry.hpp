#pragma once
// Embedded SPIR-V, one entry per row of shaders/variants.txt (generated at build time).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace vks::shaders {

struct Entry {
    const char* name;       // variant name, e.g. "rms_norm_f32"
    const uint32_t* words;  // SPIR-V words
    size_t n_words;
};

std::span<const Entry> all();
const Entry* find(std::string_view name);  // nullptr if no such variant

}  // namespace vks::shaders
