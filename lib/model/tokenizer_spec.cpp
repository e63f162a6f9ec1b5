#include "model/tokenizer_spec.hpp"

#include "common/error.hpp"

namespace vks::model {

namespace {

int32_t token_id_or(const gguf::File& f, const char* key, int32_t fallback) {
    const gguf::Value* v = f.find(key);
    if (!v) return fallback;
    int64_t id = v->as_i64();
    if (id < -1 || id > INT32_MAX) fail(Status::bad_format, "tokenizer: %s = %lld is not a token id", key, (long long)id);
    return int32_t(id);
}

bool bool_or(const gguf::File& f, const char* key, bool fallback) {
    return f.has(key) ? f.get_bool(key) : fallback;
}

}  // namespace

tokenizer::Spec tokenizer_spec_from_gguf(const gguf::File& f) {
    tokenizer::Spec s;
    if (!f.has("tokenizer.ggml.model")) fail(Status::bad_format, "tokenizer: tokenizer.ggml.model is missing");
    if (!f.has("tokenizer.ggml.tokens")) fail(Status::bad_format, "tokenizer: tokenizer.ggml.tokens is missing");
    s.model = std::string(f.get_string("tokenizer.ggml.model"));
    s.pre = std::string(f.get_string_or("tokenizer.ggml.pre", ""));

    const gguf::Array& tokens = f.get_array("tokenizer.ggml.tokens", gguf::ValueType::string);
    s.tokens.reserve(tokens.size());
    for (std::string_view t : tokens.strings()) s.tokens.emplace_back(t);
    if (f.has("tokenizer.ggml.scores")) s.scores = f.get_array("tokenizer.ggml.scores").to_f32();
    if (f.has("tokenizer.ggml.token_type")) s.token_types = f.get_array("tokenizer.ggml.token_type").to_i32();
    if (f.has("tokenizer.ggml.merges")) {
        const gguf::Array& merges = f.get_array("tokenizer.ggml.merges", gguf::ValueType::string);
        s.merges.reserve(merges.size());
        for (std::string_view m : merges.strings()) s.merges.emplace_back(m);
    }

    s.bos = token_id_or(f, "tokenizer.ggml.bos_token_id", -1);
    s.eos = token_id_or(f, "tokenizer.ggml.eos_token_id", -1);
    s.eot = token_id_or(f, "tokenizer.ggml.eot_token_id", token_id_or(f, "tokenizer.ggml.eom_token_id", -1));
    s.unk = token_id_or(f, "tokenizer.ggml.unknown_token_id", -1);
    s.pad = token_id_or(f, "tokenizer.ggml.padding_token_id", -1);
    // Default for add_bos follows the usual convention: SentencePiece vocabularies add BOS.
    s.add_bos = bool_or(f, "tokenizer.ggml.add_bos_token", s.model == "llama");
    s.add_eos = bool_or(f, "tokenizer.ggml.add_eos_token", false);
    s.add_space_prefix = bool_or(f, "tokenizer.ggml.add_space_prefix", s.add_space_prefix);
    s.chat_template = std::string(f.get_string_or("tokenizer.chat_template", ""));
    return s;
}

}  // namespace vks::model
