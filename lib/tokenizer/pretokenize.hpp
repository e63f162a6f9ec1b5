#pragma once
// Pre-tokenizers of byte-level BPE models: split text into pieces that BPE merges never
// cross. Each style is a hand-written scanner equivalent to the model's split regex
// (no regex library), driven by the \p{L} / \p{N} / \s classes in unicode.hpp.
#include <string>
#include <string_view>
#include <vector>

namespace vks::tokenizer {

enum class PreStyle {
    // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    gpt2,
    // Every \p{N} character isolated first, then gpt2 on the rest (SmolLM, StarCoder).
    digits_then_gpt2,
    // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
    //  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
    llama3,
    // llama3 with \p{N} instead of \p{N}{1,3} (Qwen2).
    qwen2,
};

// Maps tokenizer.ggml.pre to a style. Unknown names fall back to gpt2 and set *known = false.
PreStyle pre_style_from_name(const std::string& pre, bool* known);
const char* pre_style_name(PreStyle style);

// Splits text into consecutive pieces (views into text) whose concatenation is text.
std::vector<std::string_view> pre_tokenize(PreStyle style, std::string_view text);

}  // namespace vks::tokenizer
