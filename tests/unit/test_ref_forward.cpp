// The CPU reference forward: SmolLM2 against an independent NumPy implementation and common
// sense, and the StreamingLLM session semantics on synthetic models.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <optional>
#include <string>

#include "gguf/reader.hpp"
#include "model/description.hpp"
#include "model/synthetic.hpp"
#include "model/tokenizer_spec.hpp"
#include "ref/forward.hpp"
#include "support/models.hpp"
#include "support/test_support.hpp"

using namespace vks;

namespace {

int32_t argmax(const std::vector<float>& v) { return int32_t(std::max_element(v.begin(), v.end()) - v.begin()); }

std::vector<int32_t> top_k(const std::vector<float>& v, size_t k) {
    std::vector<int32_t> idx(v.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int32_t a, int32_t b) { return v[a] > v[b]; });
    idx.resize(k);
    return idx;
}

struct SmolLM2 {
    gguf::File file;
    model::Description desc;
    ref::Model model;
    tokenizer::Tokenizer tok;
    explicit SmolLM2(const std::string& path)
        : file(gguf::File::open(path)),
          desc(model::Description::from_gguf(file)),
          model(desc, file),
          tok(tokenizer::Tokenizer::create(model::tokenizer_spec_from_gguf(file))) {}
};

#define REQUIRE_SMOLLM2(var)                                                                   \
    std::string var##_path = test::smollm2_path();                                             \
    if (var##_path.empty()) VKS_SKIP("SmolLM2 model absent (set VKS_TEST_MODEL)");             \
    SmolLM2 var(var##_path)

struct Synthetic {
    std::vector<uint8_t> bytes;
    gguf::File file;
    ref::Model model;
    explicit Synthetic(const model::SyntheticConfig& c)
        : bytes(model::synthetic_model_bytes(c)),
          file(gguf::File::from_memory(bytes)),
          model(model::Description::from_gguf(file), file) {}
};

}  // namespace

TEST_CASE("ref forward: SmolLM2 says Paris") {
    REQUIRE_SMOLLM2(m);
    std::vector<int32_t> ids = m.tok.encode("The capital of France is", false, false);
    ref::Session s(m.model, 4, 1024);
    std::vector<float> logits;
    auto t0 = std::chrono::steady_clock::now();
    for (int32_t id : ids) logits = s.forward(id);
    double per_token = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / ids.size();
    std::string id_list;
    for (int32_t id : ids) id_list += std::to_string(id) + " ";
    MESSAGE("prompt ids: " << id_list << "; " << per_token * 1000 << " ms/token");
    std::vector<int32_t> top = top_k(logits, 5);
    for (int32_t t : top) MESSAGE(t << " '" << m.tok.token_piece(t) << "' " << logits[t]);
    CHECK(m.tok.token_piece(argmax(logits)) == " Paris");
    CHECK(per_token < 1.0);
}
