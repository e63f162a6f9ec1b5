#pragma once
// Real model files used by tests (never committed; fetched by tools/fetch_model.sh).
#include <string>

#include "tokenizer/tokenizer.hpp"

namespace vks::test {

// SmolLM2-135M-Instruct Q4_1: $VKS_TEST_MODEL, else
// /root/.cache/vkstream/models/SmolLM2-135M-Instruct.Q4_1.gguf (then $HOME/.cache/...).
// Empty when the file is absent (tests then VKS_SKIP).
std::string smollm2_path();

// gemma-3-270m Q4_K_M: $VKS_TEST_GEMMA3, else the same cache folders; empty when absent.
std::string gemma3_path();

// The tokenizer described by a GGUF file's tokenizer.* metadata (model::tokenizer_spec_from_gguf).
tokenizer::Tokenizer load_tokenizer(const std::string& gguf_path);

}  // namespace vks::test
