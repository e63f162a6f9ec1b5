// Synthetic GGUF models: every weight type loads, describes, runs the reference forward, and
// carries a working byte-level tokenizer.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "gguf/reader.hpp"
#include "model/description.hpp"
#include "model/synthetic.hpp"
#include "model/tokenizer_spec.hpp"
#include "ref/forward.hpp"
#include "support/test_support.hpp"

using namespace vks;
using namespace vks::model;

TEST_CASE("synthetic model: every weight type loads and runs the reference forward without NaN") {
    const quant::Type types[] = {quant::Type::F32,  quant::Type::F16,  quant::Type::BF16, quant::Type::Q4_0,
                                 quant::Type::Q4_1, quant::Type::Q5_0, quant::Type::Q5_1, quant::Type::Q8_0,
                                 quant::Type::Q4_K, quant::Type::Q5_K, quant::Type::Q6_K};
    for (quant::Type t : types) {
        for (int arch = 0; arch < 3; ++arch) {
            CAPTURE(quant::info(t).name);
            CAPTURE(arch);
            const bool qwen2 = arch == 1;
            SyntheticConfig c;
            c.weight_type = t;
            c.qwen2 = qwen2;
            c.gemma3 = arch == 2;
            c.tied_output = qwen2;  // cover both
            c.seed = 7;
            std::vector<uint8_t> bytes = synthetic_model_bytes(c);
            gguf::File f = gguf::File::from_memory(bytes);
            Description d = Description::from_gguf(f);
            CHECK(d.arch == (arch == 2 ? Arch::gemma3 : qwen2 ? Arch::qwen2 : Arch::llama));
            CHECK(d.tied_output == qwen2);
            CHECK(d.n_vocab == c.n_vocab);
            CHECK(d.head_dim == c.n_embd / c.n_head);
            CHECK(d.layers[0].attn_q->type == uint32_t(t));
            CHECK(d.layers[0].attn_norm->type == 0);  // norms stay F32

            ref::Model m(d, f);
            ref::Session s(m, 2, 8);
            double max_abs = 0;
            bool finite = true;
            std::vector<float> logits;
            for (int32_t tok : {5, 100, 264, 3, 42, 42, 7, 200, 1, 2, 9, 10}) {
                logits = s.forward(tok);
                for (float l : logits) {
                    finite = finite && std::isfinite(l);
                    max_abs = std::max(max_abs, double(std::fabs(l)));
                }
            }
            CHECK(finite);
            CHECK(logits.size() == c.n_vocab);
            // Sensible scale: O(sqrt(n_embd)) logits, not blown up, not collapsed to zero.
            CHECK(max_abs < 1000.0);
            CHECK(max_abs > 0.1);
        }
    }
}

TEST_CASE("synthetic model: quantized weights stay close to the F32 model") {
    // Same seed -> same underlying random weights; the quantized model's logits should track
    // the F32 ones (a broken quantization path would give unrelated logits).
    SyntheticConfig c;
    c.seed = 11;
    std::vector<uint8_t> ref_bytes = synthetic_model_bytes(c);
    gguf::File rf = gguf::File::from_memory(ref_bytes);
    ref::Model rm(Description::from_gguf(rf), rf);
    for (quant::Type t : {quant::Type::Q8_0, quant::Type::Q6_K, quant::Type::F16}) {
        CAPTURE(quant::info(t).name);
        c.weight_type = t;
        std::vector<uint8_t> bytes = synthetic_model_bytes(c);
        gguf::File f = gguf::File::from_memory(bytes);
        ref::Model m(Description::from_gguf(f), f);
        ref::Session a(rm, 4, 64), b(m, 4, 64);
        std::vector<float> la, lb;
        for (int32_t tok : {10, 20, 30, 40}) {
            la = a.forward(tok);
            lb = b.forward(tok);
        }
        CHECK(test::nmse(lb.data(), la.data(), la.size()) < 1e-3);
    }
}

TEST_CASE("synthetic model: byte-level tokenizer from its metadata") {
    std::vector<uint8_t> bytes = synthetic_model_bytes(SyntheticConfig{});
    gguf::File f = gguf::File::from_memory(bytes);
    tokenizer::Tokenizer tok = tokenizer::Tokenizer::create(tokenizer_spec_from_gguf(f));
    CHECK(tok.n_vocab() == 320);
    CHECK(tok.eos() == 0);
    CHECK(tok.is_eog(2));  // <|im_end|>
    const std::vector<std::string> vocab = synthetic_vocab(320);
    const int32_t the = tok.find_token(vocab[3 + 256 + 2]);  // "Ġthe": merges " t" + "he"
    REQUIRE(the >= 0);
    std::vector<int32_t> ids = tok.encode("in the", false, false);
    REQUIRE(ids.size() == 2);
    CHECK(tok.token_text(ids[0]) == "in");
    CHECK(ids[1] == the);
    const std::string text = "Hello, wörld! <|im_start|>\x01\t end";
    CHECK(tok.decode(tok.encode(text, false, false)) == text);
    std::vector<int32_t> chat = tok.encode("<|im_start|>user", false, true);
    CHECK(chat[0] == 1);
    CHECK(!tok.chat_template().empty());
}
