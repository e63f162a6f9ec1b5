// make_test_gguf OUT.gguf: writes a small, deterministic llama-style GGUF for the CLI tests
// (tests/cli/*.sh): varied metadata and F32 tensors, 2-D with rows of 256/512 plus 1-D norms.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "gguf/writer.hpp"

namespace {

// (n) F32 values in [-1, 1) from a fixed LCG, as little-endian bytes.
std::vector<uint8_t> pseudo_random_f32(size_t n, uint32_t seed) {
    std::vector<uint8_t> bytes(n * 4);
    uint32_t s = seed;
    for (size_t i = 0; i < n; ++i) {
        s = s * 1664525u + 1013904223u;
        float f = float(s >> 8) / float(1u << 23) - 1.0f;
        std::memcpy(&bytes[i * 4], &f, 4);
    }
    return bytes;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_test_gguf OUT.gguf\n");
        return 2;
    }
    try {
        vks::gguf::Writer w;
        w.add_string("general.architecture", "llama");
        w.add_string("general.name", "cli-test");
        w.add_uint32("general.file_type", 0);  // ALL_F32
        w.add_uint32("llama.block_count", 1);
        w.add_uint32("llama.embedding_length", 256);
        w.add_float32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        w.add_bool("tokenizer.ggml.add_bos_token", true);
        const std::vector<std::string> tokens = {"<s>", "</s>", "a", "b"};
        w.add_string_array("tokenizer.ggml.tokens", tokens);
        const std::vector<int32_t> types = {3, 3, 1, 1};
        w.add_array("tokenizer.ggml.token_type", std::span<const int32_t>(types));
        w.add_tensor("token_embd.weight", 0, {256, 16}, pseudo_random_f32(256 * 16, 1));
        w.add_tensor("blk.0.attn_norm.weight", 0, {256}, pseudo_random_f32(256, 2));
        w.add_tensor("blk.0.attn_q.weight", 0, {256, 256}, pseudo_random_f32(256 * 256, 3));
        w.add_tensor("blk.0.ffn_down.weight", 0, {512, 256}, pseudo_random_f32(512 * 256, 4));
        w.add_tensor("output_norm.weight", 0, {256}, pseudo_random_f32(256, 5));
        w.write_file(argv[1]);
    } catch (const vks::Error& e) {
        std::fprintf(stderr, "make_test_gguf: %s\n", e.what());
        return 1;
    }
    return 0;
}
