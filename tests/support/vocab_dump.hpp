#pragma once
// Test-only loader for the tokenizer dumps written by tools/extract_vocab.py. Stands in for
// the GGUF reader until the glue step fills tokenizer::Spec from GGUF metadata directly.
#include <optional>
#include <string>

#include "tokenizer/tokenizer.hpp"

namespace vks::test {

// Parses a dump; throws vks::Error(bad_format / io_error) on a broken file.
tokenizer::Spec load_vocab_dump(const std::string& path);

// Path of the SmolLM2-135M-Instruct dump: $VKS_VOCAB_DUMP, else
// ~/.cache/vkstream/vocab/SmolLM2-135M-Instruct.Q4_1.vocab.txt. Empty when the file is absent
// (tests then VKS_SKIP with a hint to run tools/extract_vocab.py).
std::string smollm2_vocab_dump_path();

}  // namespace vks::test
