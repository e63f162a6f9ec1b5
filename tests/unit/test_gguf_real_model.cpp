// The real SmolLM2-135M-Instruct Q4_1 GGUF (downloaded once, outside the repo; skipped if absent).
#include <doctest/doctest.h>

#include <filesystem>

#include "gguf/reader.hpp"
#include "support/test_support.hpp"

using namespace vks::gguf;

TEST_CASE("gguf: SmolLM2-135M-Instruct metadata and tensor table") {
    const char* path = "/root/.cache/vkstream/models/SmolLM2-135M-Instruct.Q4_1.gguf";
    if (!std::filesystem::exists(path)) VKS_SKIP("SmolLM2-135M-Instruct.Q4_1.gguf not downloaded");
    File f = File::open(path);
    CHECK((f.version() == 2 || f.version() == 3));
    CHECK(f.architecture() == "llama");
    uint32_t n_layer = f.get_u32("llama.block_count");
    CHECK(n_layer == 30);
    uint32_t n_embd = f.get_u32("llama.embedding_length");
    CHECK(n_embd == 576);
    const Array& tokens = f.get_array("tokenizer.ggml.tokens", ValueType::string);
    CHECK(tokens.size() == 49152);
    CHECK(f.get_string("tokenizer.ggml.model") == "gpt2");

    // 9 tensors per block plus token_embd and output_norm (the output head is tied).
    CHECK(f.tensors().size() == 9 * n_layer + 2);
    const TensorInfo& embd = f.get_tensor("token_embd.weight");
    CHECK(embd.n_dims == 2);
    CHECK(embd.ne[0] == n_embd);
    CHECK(embd.ne[1] == int64_t(tokens.size()));
    CHECK(f.find_tensor("blk.29.ffn_down.weight") != nullptr);
    CHECK(f.find_tensor("blk.30.ffn_down.weight") == nullptr);

    // Tensors tile the data section without gaps beyond alignment padding.
    uint64_t total = 0;
    for (const TensorInfo& t : f.tensors()) total += t.n_bytes;
    uint64_t data_size = f.bytes().size() - f.data_offset();
    CHECK(total <= data_size);
    CHECK(data_size - total < f.tensors().size() * f.alignment());
}
