#pragma once
// GGUF tokenizer.* metadata -> tokenizer::Spec (the tokenizer itself never reads files).
#include "gguf/reader.hpp"
#include "tokenizer/tokenizer.hpp"

namespace vks::model {

// Copies tokenizer.ggml.{model, pre, tokens, scores, token_type, merges, bos/eos/eot/eom/
// unknown/padding_token_id, add_bos_token, add_eos_token, add_space_prefix} and
// tokenizer.chat_template. Absent optional keys keep the Spec defaults; tokenizer.ggml.model
// and .tokens are required (Status::bad_format naming the key). eot falls back to eom when
// only tokenizer.ggml.eom_token_id is present. The Spec owns copies: it outlives the File.
tokenizer::Spec tokenizer_spec_from_gguf(const gguf::File& file);

}  // namespace vks::model
