// The GPU engine on the real test model (SmolLM2-135M-Instruct Q4_1) against the CPU reference.
#include <doctest/doctest.h>

#include "engine/session.hpp"
#include "engine_fixtures.hpp"
#include "ref/forward.hpp"
#include "support/models.hpp"

using namespace vks;

TEST_CASE("SmolLM2: prompt logits match the reference and a 32-token greedy continuation is identical") {
    std::string path = test::smollm2_path();
    if (path.empty()) VKS_SKIP("SmolLM2 not cached (tools/fetch_model.sh smollm2)");
    auto m = test::load_model(path);
    gguf::File file = gguf::File::open(path);
    model::Description desc = model::Description::from_gguf(file);
    ref::Model ref_model(desc, file);

    const uint32_t n_sink = 4, n_window = 28;  // small: the continuation wraps the ring
    engine::SessionConfig sc;
    sc.n_sink = n_sink;
    sc.n_window = n_window;
    sc.sampling.temperature = 0;
    engine::Session s(m, sc);
    ref::Session r(ref_model, n_sink, n_window);

    std::vector<int32_t> prompt = m->tokenizer().encode("The capital of France is", true, false);
    s.feed(prompt);  // one prefill chunk
    std::vector<float> want;
    for (int32_t t : prompt) want = r.forward(t);
    double e = test::nmse(s.logits().data(), want.data(), want.size());
    MESSAGE("prompt logits NMSE vs reference: " << e);
    CHECK(e < 1e-4);  // Q4_1 weights are identical on both sides; f16 KV and f32 accumulation order differ

    std::vector<int32_t> gpu_tokens, ref_tokens;
    for (int i = 0; i < 32; ++i) {
        int32_t g = test::argmax(std::vector<float>(s.logits().begin(), s.logits().end()));
        int32_t c = test::argmax(want);
        gpu_tokens.push_back(g);
        ref_tokens.push_back(c);
        s.feed({&g, 1});
        want = r.forward(c);
    }
    CHECK(gpu_tokens == ref_tokens);
    std::string text = m->tokenizer().decode(gpu_tokens);
    MESSAGE("continuation: " << text);
    CHECK(text.find("Paris") != std::string::npos);
    test::check_no_validation_messages(*m);
}
