#pragma once
// Small GGUF files built with the writer, shared by the gguf tests.
#include <cstdint>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "common/error.hpp"
#include "gguf/reader.hpp"
#include "gguf/writer.hpp"

namespace vks::test {

// Deterministic bytes for tensor data.
inline std::vector<uint8_t> pattern_bytes(size_t n, uint8_t seed) {
    std::vector<uint8_t> b(n);
    for (size_t i = 0; i < n; ++i) b[i] = uint8_t(seed + i * 31u + (i >> 3));
    return b;
}

// A small but complete model-like file: a few metadata types, a tiny vocabulary and three
// tensors of different types. About 500 bytes, so tests can afford to damage every byte.
inline gguf::Writer small_model_writer() {
    gguf::Writer w;
    w.add_string("general.architecture", "llama");
    w.add_string("general.name", "tiny");
    w.add_uint32("llama.context_length", 64);
    w.add_uint32("llama.block_count", 1);
    w.add_float32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    std::vector<std::string> tokens = {"<s>", "</s>", "a", "b"};
    w.add_string_array("tokenizer.ggml.tokens", tokens);
    std::vector<float> scores = {0.f, -1.f, -2.f, -3.f};
    w.add_array("tokenizer.ggml.scores", std::span<const float>(scores));
    w.add_bool("test.flag", true);
    w.add_tensor("a.weight", 0 /*F32*/, {4, 3}, pattern_bytes(4 * 3 * 4, 1));
    w.add_tensor("b.weight", 2 /*Q4_0*/, {64, 2}, pattern_bytes(2 * 2 * 18, 2));
    w.add_tensor("c.weight", 1 /*F16*/, {8}, pattern_bytes(16, 3));
    return w;
}

inline std::vector<uint8_t> small_model_bytes() { return small_model_writer().to_bytes(); }

// Parses `bytes` and requires a vks::Error with `status` whose message contains `needle`.
inline void expect_error(const std::vector<uint8_t>& bytes, Status status, const std::string& needle) {
    CAPTURE(needle);
    try {
        gguf::File f = gguf::File::from_memory(bytes);
        FAIL("expected an error, but the file parsed (" << f.tensors().size() << " tensors)");
    } catch (const Error& e) {
        std::string msg = e.what();
        CAPTURE(msg);
        CHECK(e.status() == status);
        CHECK(msg.find(needle) != std::string::npos);
    }
}

}  // namespace vks::test
