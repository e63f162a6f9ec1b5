// Type checks for metadata keys whose meaning we know. A well-formed GGUF container can still
// carry e.g. a string where general.alignment should be; catching it here gives one clear
// error at open() instead of a confusing one deep inside a model loader.
#include <bit>
#include <cstring>
#include <string>

#include "common/error.hpp"
#include "gguf/parser.hpp"

namespace vks::gguf::detail {

namespace {

enum class Kind {
    string,
    uint32,             // exactly uint32 (the spec fixes it, e.g. general.alignment)
    integer,            // any integer type
    number,             // any integer or float type
    string_array,
    float_array,        // array of float32 / float64
    int_array,          // array of any integer type
    integer_or_array,   // integer, or a per-layer array of integers
};

struct KnownKey {
    const char* key;  // full key, or suffix after "<arch>." when per_arch
    bool per_arch;
    Kind kind;
};

constexpr KnownKey k_known_keys[] = {
    {"general.alignment", false, Kind::uint32},
    {"general.architecture", false, Kind::string},
    {"general.name", false, Kind::string},
    {"general.quantization_version", false, Kind::integer},
    {"general.file_type", false, Kind::integer},
    {"tokenizer.ggml.model", false, Kind::string},
    {"tokenizer.ggml.pre", false, Kind::string},
    {"tokenizer.ggml.tokens", false, Kind::string_array},
    {"tokenizer.ggml.merges", false, Kind::string_array},
    {"tokenizer.ggml.scores", false, Kind::float_array},
    {"tokenizer.ggml.token_type", false, Kind::int_array},
    {"tokenizer.ggml.bos_token_id", false, Kind::integer},
    {"tokenizer.ggml.eos_token_id", false, Kind::integer},
    {"tokenizer.ggml.unknown_token_id", false, Kind::integer},
    {"tokenizer.ggml.padding_token_id", false, Kind::integer},
    {"tokenizer.ggml.separator_token_id", false, Kind::integer},
    {"tokenizer.chat_template", false, Kind::string},
    {"context_length", true, Kind::integer},
    {"embedding_length", true, Kind::integer},
    {"block_count", true, Kind::integer},
    {"vocab_size", true, Kind::integer},
    {"feed_forward_length", true, Kind::integer_or_array},
    {"attention.head_count", true, Kind::integer_or_array},
    {"attention.head_count_kv", true, Kind::integer_or_array},
    {"attention.key_length", true, Kind::integer},
    {"attention.value_length", true, Kind::integer},
    {"attention.sliding_window", true, Kind::integer},
    {"attention.layer_norm_rms_epsilon", true, Kind::number},
    {"attention.layer_norm_epsilon", true, Kind::number},
    {"rope.dimension_count", true, Kind::integer},
    {"rope.freq_base", true, Kind::number},
};

const char* kind_name(Kind k) {
    switch (k) {
        case Kind::string: return "string";
        case Kind::uint32: return "uint32";
        case Kind::integer: return "an integer";
        case Kind::number: return "a number";
        case Kind::string_array: return "array of string";
        case Kind::float_array: return "array of float32/float64";
        case Kind::int_array: return "array of integers";
        case Kind::integer_or_array: return "an integer or array of integers";
    }
    return "?";
}

bool matches(const Value& v, Kind k) {
    ValueType t = v.type();
    bool is_arr = t == ValueType::array;
    ValueType et = is_arr ? v.as_array().type() : ValueType::uint8;
    switch (k) {
        case Kind::string: return t == ValueType::string;
        case Kind::uint32: return t == ValueType::uint32;
        case Kind::integer: return is_integer_type(t);
        case Kind::number: return is_integer_type(t) || is_float_type(t);
        case Kind::string_array: return is_arr && et == ValueType::string;
        case Kind::float_array: return is_arr && is_float_type(et);
        case Kind::int_array: return is_arr && is_integer_type(et);
        case Kind::integer_or_array: return is_integer_type(t) || (is_arr && is_integer_type(et));
    }
    return false;
}

std::string describe(const Value& v) {
    if (v.type() != ValueType::array) return value_type_name(v.type());
    return std::string("array of ") + value_type_name(v.as_array().type());
}

}  // namespace

void Parser::check_known_keys() {
    // general.architecture decides the prefix of the per-architecture keys.
    std::string arch_prefix;
    if (const Value* a = f_.find("general.architecture"); a && a->type() == ValueType::string)
        arch_prefix = std::string(a->as_string()) + ".";

    for (const KeyValue& kv : f_.kvs_) {
        for (const KnownKey& k : k_known_keys) {
            bool hit = k.per_arch ? (!arch_prefix.empty() && kv.key.size() == arch_prefix.size() + std::strlen(k.key) &&
                                     kv.key.starts_with(arch_prefix) && kv.key.ends_with(k.key))
                                  : kv.key == k.key;
            if (hit && !matches(kv.value, k.kind))
                fail(Status::bad_format, "key '%s' at offset %llu has type %s, expected %s", std::string(kv.key).c_str(),
                     (unsigned long long)kv.offset, describe(kv.value).c_str(), kind_name(k.kind));
        }
    }

    if (const Value* a = f_.find("general.alignment")) {
        uint64_t align = a->as_u64();  // uint32 checked above
        if (align == 0 || !std::has_single_bit(align))
            fail(Status::bad_format, "general.alignment is %llu: must be a non-zero power of two",
                 (unsigned long long)align);
        f_.alignment_ = uint32_t(align);
    }

    // Per-token arrays must describe the same vocabulary.
    if (const Value* tokens = f_.find("tokenizer.ggml.tokens")) {
        uint64_t n_vocab = tokens->as_array().size();
        for (const char* key : {"tokenizer.ggml.scores", "tokenizer.ggml.token_type"}) {
            const Value* v = f_.find(key);
            if (v && v->as_array().size() != n_vocab)
                fail(Status::bad_format, "key '%s' has %llu entries but tokenizer.ggml.tokens has %llu", key,
                     (unsigned long long)v->as_array().size(), (unsigned long long)n_vocab);
        }
    }
}

}  // namespace vks::gguf::detail
