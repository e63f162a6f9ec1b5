// Gemma 3 on the GPU engine against the CPU reference forward: synthetic gemma3 models (q/k norms,
// post norms, GELU GLU, embedding scale, sliding-window and global layers on their own cache
// shapes and RoPE bases) and the real gemma-3-270m Q4_K_M when it is cached.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "engine/session.hpp"
#include "engine/session_state.hpp"
#include "engine_fixtures.hpp"
#include "ref/forward.hpp"
#include "tokenizer/chat_template.hpp"
#include "support/models.hpp"

using namespace vks;

namespace {

double max_abs_diff(std::span<const float> a, const std::vector<float>& b) {
    double m = 0;
    for (size_t i = 0; i < b.size(); ++i) m = std::max(m, double(std::fabs(a[i] - b[i])));
    return m;
}

model::SyntheticConfig gemma3_config(quant::Type wt, uint32_t seed) {
    model::SyntheticConfig cfg;
    cfg.gemma3 = true;
    cfg.weight_type = wt;
    cfg.n_layer = 3;
    cfg.swa_period = 3;      // layers 0, 1 local, layer 2 global
    cfg.sliding_window = 5;
    cfg.rope_freq_base = 1e6f;  // global layers; local layers use 10000
    cfg.tied_output = true;     // as the real model
    cfg.seed = seed;
    return cfg;
}

}  // namespace

TEST_CASE("gemma3 (synthetic): engine logits match the reference while both rings wrap") {
    for (quant::Type wt : {quant::Type::Q8_0, quant::Type::Q4_K, quant::Type::F16}) {
        const std::string type_name = quant::info(wt).name;
        CAPTURE(type_name);
        const model::SyntheticConfig cfg = gemma3_config(wt, 21 + uint32_t(wt));
        const std::string path = test::synthetic_model_path(cfg, "syn_gemma3_" + type_name);
        auto gpu_model = test::load_model(path);
        gguf::File file = gguf::File::open(path);
        model::Description desc = model::Description::from_gguf(file);
        ref::Model ref_model(desc, file);

        const uint32_t n_sink = 2, n_window = 8;  // global ring 10 slots, local ring 5: 40 tokens wrap both
        engine::SessionConfig sc;
        sc.n_sink = n_sink;
        sc.n_window = n_window;
        engine::Session s(gpu_model, sc);
        CHECK(s.cache().capacity(0) == 5);   // local: the sliding window, no sinks
        CHECK(s.cache().capacity(2) == 10);  // global: sinks + window
        ref::Session r(ref_model, n_sink, n_window);
        const auto tokens = test::random_tokens(40, cfg.n_vocab, cfg.seed);
        double worst = 0, worst_abs = 0;
        for (size_t i = 0; i < tokens.size(); ++i) {
            s.feed({&tokens[i], 1});
            const std::vector<float> want = r.forward(tokens[i]);
            const double e = test::nmse(s.logits().data(), want.data(), want.size());
            worst = std::max(worst, e);
            worst_abs = std::max(worst_abs, max_abs_diff(s.logits(), want));
            CAPTURE(i);
            CHECK(e < 2e-5);  // f16 K/V on the device, f32 in the reference
        }
        MESSAGE("gemma3 " << type_name << ": worst logits NMSE " << worst << ", max |diff| " << worst_abs);
        test::check_no_validation_messages(*gpu_model);
    }
}

// Both layer kinds across wrap-around: the local layers' 5-slot ring wraps every 5 tokens, the
// global ring (3 sinks + 9) every 9; chunks shorter and longer than either.
TEST_CASE("gemma3 (synthetic): chunked prefill equals one token at a time on local and global layers") {
    const model::SyntheticConfig cfg = gemma3_config(quant::Type::Q8_0, 7);
    auto m = test::load_model(test::synthetic_model_path(cfg, "syn_gemma3_chunks"));
    const uint32_t n_sink = 3, n_window = 9;
    const size_t n = 10 * n_window + 3;
    const auto tokens = test::random_tokens(n, cfg.n_vocab, 77);
    engine::SessionConfig sc;
    sc.n_sink = n_sink;
    sc.n_window = n_window;
    engine::Session one(m, sc);
    std::vector<float> per_token;  // (n, n_vocab)
    for (size_t i = 0; i < n; ++i) {
        one.feed({&tokens[i], 1});
        per_token.insert(per_token.end(), one.logits().begin(), one.logits().end());
    }
    for (uint32_t chunk : {2u, 4u, 5u, 6u, n_window, 3 * n_window + 1}) {
        CAPTURE(chunk);
        engine::SessionConfig c2 = sc;
        c2.n_batch = chunk;
        engine::Session s(m, c2);
        std::vector<float> all;
        s.feed(tokens, &all);
        REQUIRE(all.size() == per_token.size());
        CHECK(test::nmse(all.data(), per_token.data(), all.size()) < 1e-5);
        size_t argmax_differs = 0;
        for (size_t i = 0; i < n; ++i) {
            std::vector<float> a(all.begin() + i * cfg.n_vocab, all.begin() + (i + 1) * cfg.n_vocab);
            std::vector<float> b(per_token.begin() + i * cfg.n_vocab, per_token.begin() + (i + 1) * cfg.n_vocab);
            argmax_differs += test::argmax(a) != test::argmax(b);
        }
        CHECK(argmax_differs == 0);
    }
    test::check_no_validation_messages(*m);
}

TEST_CASE("gemma-3-270m: prompt logits match the reference and a greedy continuation is identical") {
    const std::string path = test::gemma3_path();
    if (path.empty()) VKS_SKIP("gemma-3-270m not cached (tools/fetch_model.sh gemma3)");
    auto m = test::load_model(path);
    CHECK(m->chat_format().style == tokenizer::ChatStyle::gemma);  // the file has no template
    gguf::File file = gguf::File::open(path);
    model::Description desc = model::Description::from_gguf(file);
    ref::Model ref_model(desc, file);

    const uint32_t n_sink = 4, n_window = 1020;  // >= the 512-token sliding window
    engine::SessionConfig sc;
    sc.n_sink = n_sink;
    sc.n_window = n_window;
    engine::Session s(m, sc);
    ref::Session r(ref_model, n_sink, n_window);

    const std::vector<int32_t> prompt = m->tokenizer().encode("The capital of France is", true, false);
    s.feed(prompt);  // one prefill chunk
    std::vector<float> want;
    for (int32_t t : prompt) want = r.forward(t);
    const double e = test::nmse(s.logits().data(), want.data(), want.size());
    double worst_abs = max_abs_diff(s.logits(), want);
    MESSAGE("gemma-3-270m prompt logits: NMSE " << e << ", max |diff| " << worst_abs);
    CHECK(e < 1e-4);

    std::vector<int32_t> gpu_tokens, ref_tokens;
    for (int i = 0; i < 16; ++i) {
        int32_t g = test::argmax(std::vector<float>(s.logits().begin(), s.logits().end()));
        gpu_tokens.push_back(g);
        ref_tokens.push_back(test::argmax(want));
        s.feed({&g, 1});
        want = r.forward(ref_tokens.back());
        worst_abs = std::max(worst_abs, max_abs_diff(s.logits(), want));
    }
    MESSAGE("gemma-3-270m decode: max |logit diff| over 16 steps " << worst_abs);
    CHECK(gpu_tokens == ref_tokens);
    const std::string text = m->tokenizer().decode(gpu_tokens);
    MESSAGE("continuation: " << text);  // (the 270M model answers "the capital of the country of France")
    CHECK(text.find("France") != std::string::npos);

    // A Gemma chat turn (control tokens <start_of_turn> / <end_of_turn>), greedy, vs the reference.
    const std::string chat = tokenizer::render_chat(m->chat_format(), {{"user", "What is the capital of France?"}}, true);
    const std::vector<int32_t> turn = m->tokenizer().encode(chat, true, true);
    CHECK(std::count(turn.begin(), turn.end(), 105) == 2);  // <start_of_turn> as one control token
    engine::Session s2(m, sc);
    ref::Session r2(ref_model, n_sink, n_window);
    s2.feed(turn);
    for (int32_t t : turn) want = r2.forward(t);
    gpu_tokens.clear();
    ref_tokens.clear();
    for (int i = 0; i < 12; ++i) {
        gpu_tokens.push_back(test::argmax(std::vector<float>(s2.logits().begin(), s2.logits().end())));
        ref_tokens.push_back(test::argmax(want));
        s2.feed({&gpu_tokens.back(), 1});
        want = r2.forward(ref_tokens.back());
    }
    MESSAGE("chat reply: " << m->tokenizer().decode(gpu_tokens));
    CHECK(gpu_tokens == ref_tokens);
    test::check_no_validation_messages(*m);
}

TEST_CASE("gemma3 (synthetic): session state records per-layer cache shapes and restores exactly") {
    const model::SyntheticConfig cfg = gemma3_config(quant::Type::Q8_0, 9);
    auto m = test::load_model(test::synthetic_model_path(cfg, "syn_gemma3_state"));
    engine::SessionConfig sc;
    sc.n_sink = 2;
    sc.n_window = 7;
    sc.sampling.temperature = 0.9f;
    sc.sampling.seed = 77;
    const auto run = test::sample_and_feed;
    engine::Session a(m, sc);
    a.feed(test::random_tokens(12, cfg.n_vocab, 4));
    run(a, 3);  // 15 tokens: the 5-slot local rings and the 9-slot global ring have wrapped
    const std::vector<uint8_t> state = a.save_state();
    const std::vector<int32_t> never_stopped = run(a, 20);
    engine::Session b(m, sc);
    b.load_state(state);
    CHECK(run(b, 20) == never_stopped);

    // Layer 0's recorded shape (u32 n_sink, u32 n_window at bytes 52 and 56, see
    // engine/session_state.cpp) edited, checksum repaired: refused naming the layer.
    std::vector<uint8_t> edited = state;
    uint32_t w0 = 0;
    std::memcpy(&w0, edited.data() + 56, 4);
    CHECK(w0 == cfg.sliding_window);
    w0 += 1;
    std::memcpy(edited.data() + 56, &w0, 4);
    const uint64_t sum = engine::state_fnv1a(edited.data(), edited.size() - 8);
    std::memcpy(edited.data() + edited.size() - 8, &sum, 8);
    engine::Session c(m, sc);
    try {
        c.load_state(edited);
        FAIL("a state with another layer shape loaded");
    } catch (const Error& e) {
        CHECK(e.status() == Status::invalid_argument);
        CHECK_MESSAGE(std::string(e.what()).find("layer 0") != std::string::npos, std::string(e.what()));
    }
    CHECK(c.n_past() == 0);
    test::check_no_validation_messages(*m);
}

TEST_CASE("gemma3 (synthetic): a session window smaller than the sliding window is refused before allocating") {
    const model::SyntheticConfig cfg = gemma3_config(quant::Type::Q8_0, 3);
    auto m = test::load_model(test::synthetic_model_path(cfg, "syn_gemma3_small_window"));
    const uint64_t before = m->device().bytes_allocated();
    engine::SessionConfig sc;
    sc.n_sink = 4;
    sc.n_window = cfg.sliding_window - 1;
    try {
        engine::Session s(m, sc);
        FAIL("a session smaller than the sliding window was created");
    } catch (const Error& e) {
        CHECK(e.status() == Status::invalid_argument);
        CHECK_MESSAGE(std::string(e.what()).find("sliding window") != std::string::npos, std::string(e.what()));
    }
    CHECK(m->device().bytes_allocated() == before);
    sc.n_window = cfg.sliding_window;  // exactly the window: fine
    engine::Session ok(m, sc);
    int32_t t = 3;
    ok.feed({&t, 1});
    test::check_no_validation_messages(*m);
}

TEST_CASE("gemma3 (synthetic): fused and unfused graphs agree (GELU GLU, q/k norms, post norms)") {
    const model::SyntheticConfig cfg = gemma3_config(quant::Type::Q4_K, 13);
    auto m = test::load_model(test::synthetic_model_path(cfg, "syn_gemma3_fusion"));
    engine::SessionConfig sc;
    sc.n_sink = 2;
    sc.n_window = 9;
    sc.n_batch = 7;
    engine::SessionConfig plain = sc;
    plain.fuse = false;
    engine::Session a(m, sc), b(m, plain);
    const auto tokens = test::random_tokens(30, cfg.n_vocab, 5);
    std::vector<float> la, lb;
    a.feed(tokens, &la);  // prefill chunks of 7 across both rings' wrap-around
    b.feed(tokens, &lb);
    CHECK(test::nmse(la.data(), lb.data(), la.size()) < 1e-9);
    for (int i = 0; i < 4; ++i) {  // decode steps
        const int32_t t = int32_t((i * 41) % cfg.n_vocab);
        a.feed({&t, 1});
        b.feed({&t, 1});
        CHECK(test::nmse(a.logits().data(), b.logits().data(), cfg.n_vocab) < 1e-9);
    }
    test::check_no_validation_messages(*m);
}
