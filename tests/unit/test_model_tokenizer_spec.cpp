// model::tokenizer_spec_from_gguf: GGUF tokenizer.* metadata -> tokenizer::Spec.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/error.hpp"
#include "gguf/reader.hpp"
#include "gguf/writer.hpp"
#include "model/tokenizer_spec.hpp"
#include "support/models.hpp"
#include "support/test_support.hpp"

using namespace vks;

TEST_CASE("tokenizer spec: SmolLM2 metadata") {
    std::string path = test::smollm2_path();
    if (path.empty()) VKS_SKIP("SmolLM2 model absent (set VKS_TEST_MODEL or run tools/fetch_model.sh)");
    gguf::File f = gguf::File::open(path);
    tokenizer::Spec s = model::tokenizer_spec_from_gguf(f);
    CHECK(s.model == "gpt2");
    CHECK(s.pre == "smollm");
    CHECK(s.tokens.size() == 49152);
    CHECK(s.token_types.size() == 49152);
    CHECK(s.scores.empty());
    CHECK(s.merges.size() == 48900);
    CHECK(s.tokens[1] == "<|im_start|>");
    CHECK(s.bos == 1);
    CHECK(s.eos == 2);
    CHECK(s.unk == 0);
    CHECK(s.pad == 2);
    CHECK(s.eot == -1);
    CHECK_FALSE(s.add_bos);
    CHECK_FALSE(s.add_eos);
    CHECK_FALSE(s.add_space_prefix);
    CHECK(s.chat_template.find("<|im_start|>") != std::string::npos);
}

TEST_CASE("tokenizer spec: SentencePiece defaults, eom fallback, missing keys") {
    gguf::Writer w;
    w.add_string("tokenizer.ggml.model", "llama");
    std::vector<std::string> toks = {"<unk>", "<s>", "</s>", "\xE2\x96\x81hi"};
    w.add_string_array("tokenizer.ggml.tokens", toks);
    std::vector<float> scores = {0, 0, 0, -1.5f};
    w.add_array("tokenizer.ggml.scores", std::span<const float>(scores));
    w.add_uint32("tokenizer.ggml.eom_token_id", 2);
    std::vector<uint8_t> bytes = w.to_bytes();
    gguf::File f = gguf::File::from_memory(bytes);
    tokenizer::Spec s = model::tokenizer_spec_from_gguf(f);
    CHECK(s.model == "llama");
    CHECK(s.add_bos);  // SentencePiece default
    CHECK(s.add_space_prefix);
    CHECK(s.eot == 2);
    CHECK(s.bos == -1);
    REQUIRE(s.scores.size() == 4);
    CHECK(s.scores[3] == -1.5f);

    gguf::Writer bad;
    bad.add_string("tokenizer.ggml.model", "gpt2");
    std::vector<uint8_t> bad_bytes = bad.to_bytes();
    gguf::File fb = gguf::File::from_memory(bad_bytes);
    try {
        model::tokenizer_spec_from_gguf(fb);
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(e.status() == Status::bad_format);
        CHECK(std::string(e.what()).find("tokenizer.ggml.tokens") != std::string::npos);
    }
}
