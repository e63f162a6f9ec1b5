#pragma once
// For the CPU-reference study tools (attention_mass.cpp, kv_key_study.cpp): the first n_tokens
// tokens of a text file through the model's own tokenizer (a BOS only if its metadata asks).
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "gguf/reader.hpp"
#include "model/tokenizer_spec.hpp"
#include "tokenizer/tokenizer.hpp"

namespace vks::study {

inline std::vector<int32_t> text_tokens(const gguf::File& file, const std::string& path, uint64_t n_tokens) {
    auto tok = tokenizer::Tokenizer::create(model::tokenizer_spec_from_gguf(file));
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(Status::io_error, "cannot read %s", path.c_str());
    std::stringstream ss;
    ss << in.rdbuf();
    std::vector<int32_t> ids = tok.encode(ss.str().substr(0, size_t(n_tokens) * 16), true, false);
    if (ids.size() < n_tokens) fail(Status::invalid_argument, "the text has only %zu tokens", ids.size());
    ids.resize(n_tokens);
    return ids;
}

}  // namespace vks::study
