// The GPU engine against the CPU reference forward pass, on small synthetic models of every
// weight type, with a cache small enough that the ring wraps many times.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <random>

#include "engine/session.hpp"
#include "engine_fixtures.hpp"
#include "ops/matmul.hpp"
#include "ref/forward.hpp"

using namespace vks;

TEST_CASE("engine logits match the reference forward for every weight type (stream wraps the ring)") {
    const quant::Type types[] = {quant::Type::F32,  quant::Type::F16,  quant::Type::BF16, quant::Type::Q4_0,
                                 quant::Type::Q4_1, quant::Type::Q5_0, quant::Type::Q5_1, quant::Type::Q8_0,
                                 quant::Type::Q4_K, quant::Type::Q5_K, quant::Type::Q6_K};
    for (quant::Type wt : types) {
        for (int form = 0; form < 3; ++form) {  // llama; qwen2; qwen2 with attn_v in another type
            const bool qwen2 = form > 0, mixed = form == 2;
            // One qwen2 run covers the biases and neox RoPE; one mixed run (V in Q6_K as in
            // Q4_K_M files) the separate q, k and v products instead of the stacked one.
            if (qwen2 && wt != (mixed ? quant::Type::Q4_K : quant::Type::Q8_0)) continue;
            model::SyntheticConfig cfg;
            cfg.weight_type = wt;
            cfg.qwen2 = qwen2;
            if (mixed) cfg.v_type = quant::Type::Q6_K;
            cfg.tied_output = wt == quant::Type::Q4_0;
            cfg.seed = 11 + uint32_t(wt);
            const std::string type_name = std::string(quant::info(wt).name) + (mixed ? "+v_q6_K" : "");
            CAPTURE(type_name);
            CAPTURE(qwen2);
            std::string path = test::synthetic_model_path(cfg, "syn_" + type_name + (qwen2 ? "_qwen2" : ""));
            auto gpu_model = test::load_model(path);
            CHECK(gpu_model->layers()[0].qkv.chunks.empty() == mixed);  // stacked unless the types differ
            gguf::File file = gguf::File::open(path);
            model::Description desc = model::Description::from_gguf(file);
            ref::Model ref_model(desc, file);

            const uint32_t n_sink = 2, n_window = 8;  // capacity 10: a 27-token stream wraps twice
            engine::SessionConfig sc;
            sc.n_sink = n_sink;
            sc.n_window = n_window;
            engine::Session s(gpu_model, sc);
            ref::Session r(ref_model, n_sink, n_window);
            auto tokens = test::random_tokens(27, cfg.n_vocab, cfg.seed);
            double worst = 0;
            for (size_t i = 0; i < tokens.size(); ++i) {
                s.feed({&tokens[i], 1});
                std::vector<float> want = r.forward(tokens[i]);
                auto got = s.logits();
                double e = test::nmse(got.data(), want.data(), want.size());
                worst = std::max(worst, e);
                CAPTURE(i);
                // K/V are stored as f16 on the device (f32 in the reference): NMSE ~1e-6.
                CHECK(e < 2e-5);
            }
            MESSAGE(type_name << (qwen2 ? std::string(" qwen2") : std::string()) << ": worst logits NMSE " << worst);
            test::check_no_validation_messages(*gpu_model);
        }
    }
}

TEST_CASE("chunked prefill gives the same logits as one token at a time, across ring wrap-around") {
    model::SyntheticConfig cfg;
    cfg.weight_type = quant::Type::Q8_0;
    cfg.seed = 5;
    auto m = test::load_model(test::synthetic_model_path(cfg, "syn_chunks"));
    const uint32_t n_sink = 3, n_window = 13;
    const size_t n = 10 * n_window + 3;
    auto tokens = test::random_tokens(n, cfg.n_vocab, 99);

    engine::SessionConfig sc;
    sc.n_sink = n_sink;
    sc.n_window = n_window;
    engine::Session one(m, sc);
    std::vector<float> per_token;  // (n, n_vocab)
    for (size_t i = 0; i < n; ++i) {
        one.feed({&tokens[i], 1});
        auto l = one.logits();
        per_token.insert(per_token.end(), l.begin(), l.end());
    }
    for (uint32_t chunk : {1u, 7u, n_window - 1, n_window, 3 * n_window}) {
        CAPTURE(chunk);
        engine::SessionConfig c2 = sc;
        c2.n_batch = chunk;
        engine::Session s(m, c2);
        std::vector<float> all;
        s.feed(tokens, &all);
        REQUIRE(all.size() == per_token.size());
        // A chunk reads its own fresh K/V in f32 where one-at-a-time reads them back as f16.
        double e = test::nmse(all.data(), per_token.data(), all.size());
        CHECK(e < 1e-5);
        CHECK(s.n_past() == n);
        for (size_t i = 0; i < n; ++i) {
            std::vector<float> a(all.begin() + i * cfg.n_vocab, all.begin() + (i + 1) * cfg.n_vocab);
            std::vector<float> b(per_token.begin() + i * cfg.n_vocab, per_token.begin() + (i + 1) * cfg.n_vocab);
            CHECK(test::argmax(a) == test::argmax(b));
        }
    }
    test::check_no_validation_messages(*m);
}

TEST_CASE("fused and unfused graphs agree, and a profiled session times every dispatch of a step") {
    model::SyntheticConfig cfg;
    cfg.weight_type = quant::Type::Q4_1;
    cfg.seed = 8;
    auto m = test::load_model(test::synthetic_model_path(cfg, "syn_fusion"));
    auto tokens = test::random_tokens(40, cfg.n_vocab, 7);
    engine::SessionConfig sc;
    sc.n_sink = 2;
    sc.n_window = 14;
    sc.n_batch = 16;
    engine::SessionConfig plain = sc, profiled = sc;
    plain.fuse = false;
    profiled.profile = true;
    engine::Session a(m, sc), b(m, plain), c(m, profiled);
    std::vector<float> la, lb, lc;
    a.feed(tokens, &la);  // prefill chunks of 16, across ring wrap-around
    b.feed(tokens, &lb);
    c.feed(tokens, &lc);
    CHECK(test::nmse(la.data(), lb.data(), la.size()) < 1e-9);
    CHECK(la == lc);  // timing changes nothing
    for (int i = 0; i < 5; ++i) {  // decode steps
        int32_t t = int32_t((i * 37) % cfg.n_vocab);
        a.feed({&t, 1});
        b.feed({&t, 1});
        c.feed({&t, 1});
        CHECK(test::nmse(a.logits().data(), b.logits().data(), a.logits().size()) < 1e-9);
        CHECK(test::argmax(std::vector<float>(a.logits().begin(), a.logits().end())) ==
              test::argmax(std::vector<float>(b.logits().begin(), b.logits().end())));
    }
    CHECK(a.decode_profile().ops.empty());  // not profiled
    const engine::OpProfile& dp = c.decode_profile();
    CHECK(dp.steps == 5);
    CHECK(dp.tokens == 5);
    CHECK(c.prefill_profile().tokens == tokens.size());
    uint64_t calls = 0;
    for (const auto& [name, op] : dp.ops) {
        CAPTURE(name);
        calls += op.calls;
        CHECK(op.ns >= 0);
        CHECK(op.calls % dp.steps == 0);
    }
    if (m->device().caps().timestamps) {
        // Per layer: one q/k/v product (q, k and v share a type here), attention (which also
        // stores the decode token's K/V: no kv_store dispatch) (+ combine where split), o, gate
        // and up (one paired product where the device runs it: CPU devices), down; then the
        // lm_head.
        REQUIRE(!m->layers()[0].qkv.chunks.empty());
        const bool paired = ops::paired_gate_up_supported(m->device().caps(), cfg.weight_type, cfg.n_ff, cfg.n_embd);
        CHECK(m->layers()[0].gate_up.chunks.empty() == !paired);
        const uint64_t combine = dp.ops.count("attention_combine_f32") ? 1 : 0;
        CHECK(calls / dp.steps == (5 + combine + (paired ? 0 : 1)) * cfg.n_layer + 1);
        CHECK(dp.ops.count("kv_store_f16_f32") == 0);
        // The unfused graph (b) took the paired product apart with glu_paired.
        CHECK(m->kernels().has_pipeline("silu_glu_paired_f32") == paired);
        CHECK(dp.ops.count("matvec_q4_1_f32_tb") + dp.ops.count("matvec_q4_1_f32_tbg") + dp.ops.count("matvec_q4_1_f32") +
                  dp.ops.count("matvec_q4_1_f32_sg") + dp.ops.count("matvec_q4_1_f32_sg_tb") == 1);
        CHECK(dp.total_ns() > 0);
    }
    test::check_no_validation_messages(*m);
}

TEST_CASE("device memory is fixed at session creation: 3000 decode steps allocate nothing") {
    model::SyntheticConfig cfg;
    cfg.weight_type = quant::Type::Q4_0;
    cfg.n_layer = 1;
    auto m = test::load_model(test::synthetic_model_path(cfg, "syn_memory"));
    engine::SessionConfig sc;
    sc.n_sink = 4;
    sc.n_window = 28;
    engine::Session s(m, sc);
    int32_t t = 1;
    s.feed({&t, 1});
    const uint64_t after_first = m->device().bytes_allocated();
    for (int i = 0; i < 3000; ++i) {
        t = test::argmax(std::vector<float>(s.logits().begin(), s.logits().end()));
        s.feed({&t, 1});
    }
    CHECK(m->device().bytes_allocated() == after_first);
    CHECK(s.n_past() == 3001);
    CHECK(s.n_cached() == 32);
    test::check_no_validation_messages(*m);
}

TEST_CASE("bad input to a session is refused and changes nothing") {
    model::SyntheticConfig cfg;
    auto m = test::load_model(test::synthetic_model_path(cfg, "syn_f32"));
    engine::SessionConfig sc;
    sc.n_sink = 1;
    sc.n_window = 4;
    engine::Session s(m, sc);
    std::vector<int32_t> bad = {1, 2, int32_t(cfg.n_vocab)};
    try {
        s.feed(bad);
        FAIL("an out-of-vocabulary id was accepted");
    } catch (const Error& e) {
        CHECK(e.status() == Status::invalid_argument);
    }
    CHECK(s.n_past() == 0);
    CHECK_THROWS_AS(s.sample(), Error);  // nothing fed yet
    std::vector<int32_t> neg = {-1};
    CHECK_THROWS_AS(s.feed(neg), Error);
    // Dense sessions refuse to evict.
    engine::SessionConfig dc = sc;
    dc.dense = true;
    engine::Session d(m, dc);
    std::vector<int32_t> five = {1, 2, 3, 4, 5};
    d.feed(five);
    try {
        d.feed({five.data(), 1});
        FAIL("a full dense session accepted a token");
    } catch (const Error& e) {
        CHECK(e.status() == Status::context_full);
    }
    CHECK(d.n_past() == 5);
}

TEST_CASE("a cancelled feed stops between chunks with Status::cancelled") {
    model::SyntheticConfig cfg;
    auto m = test::load_model(test::synthetic_model_path(cfg, "syn_f32"));
    engine::SessionConfig sc;
    sc.n_sink = 1;
    sc.n_window = 64;
    sc.n_batch = 4;
    engine::Session s(m, sc);
    s.cancel();
    std::vector<int32_t> toks(16, 3);
    try {
        s.feed(toks);
        FAIL("cancel had no effect");
    } catch (const Error& e) {
        CHECK(e.status() == Status::cancelled);
    }
    CHECK(s.n_past() == 0);
    s.feed(toks);  // usable afterwards
    CHECK(s.n_past() == 16);
}

TEST_CASE("session state save/restore is exact across ring wrap-around") {
    model::SyntheticConfig cfg;
    cfg.weight_type = quant::Type::Q4_1;
    auto m = test::load_model(test::synthetic_model_path(cfg, "syn_state"));
    engine::SessionConfig sc;
    sc.n_sink = 2;
    sc.n_window = 6;
    sc.sampling.temperature = 0.9f;  // sampled, not greedy: the RNG state must travel too
    sc.sampling.seed = 1234;
    const auto run = test::sample_and_feed;
    std::vector<int32_t> prompt = test::random_tokens(11, cfg.n_vocab, 3);
    engine::Session a(m, sc);
    a.feed(prompt);
    run(a, 5);  // wraps the 8-slot cache
    std::vector<uint8_t> state = a.save_state();
    std::vector<int32_t> never_stopped = run(a, 20);

    engine::Session b(m, sc);
    b.load_state(state);
    CHECK(b.n_past() == prompt.size() + 5);
    CHECK(run(b, 20) == never_stopped);

    // Damaged states are refused and leave the session untouched.
    engine::Session c(m, sc);
    std::vector<uint8_t> truncated(state.begin(), state.begin() + long(state.size() / 2));
    CHECK_THROWS_AS(c.load_state(truncated), Error);
    std::vector<uint8_t> flipped = state;
    flipped[flipped.size() / 3] ^= 0x40;
    try {
        c.load_state(flipped);
        FAIL("a corrupted state was accepted");
    } catch (const Error& e) {
        CHECK(e.status() == Status::bad_format);
    }
    std::vector<uint8_t> foreign = state;
    foreign[0] = 'X';
    CHECK_THROWS_AS(c.load_state(foreign), Error);
    CHECK(c.n_past() == 0);
    engine::SessionConfig other = sc;
    other.n_window = 7;
    engine::Session d(m, other);
    CHECK_THROWS_AS(d.load_state(state), Error);
    test::check_no_validation_messages(*m);
}

TEST_CASE("Model::load refuses what the GPU engine cannot run, naming it, and a good model loads afterwards") {
    SUBCASE("a weight matrix in a type without a GPU kernel (Q2_K, Q3_K)") {
        for (quant::Type wt : {quant::Type::Q2_K, quant::Type::Q3_K}) {
            model::SyntheticConfig cfg;
            cfg.weight_type = wt;
            const std::string type_name = quant::info(wt).name;
            CAPTURE(type_name);
            const std::string path = test::synthetic_model_path(cfg, "syn_refused_" + type_name);
            try {
                test::load_model(path);
                FAIL("a " << type_name << " model loaded");
            } catch (const Error& e) {
                CHECK(e.status() == Status::unsupported);
                std::string msg = e.what(), want = type_name;  // compared without case: "Q2_K" / "q2_K"
                for (auto* str : {&msg, &want})
                    for (char& c : *str) c = char(std::tolower(static_cast<unsigned char>(c)));
                CHECK_MESSAGE(msg.find(want) != std::string::npos, std::string(e.what()));
                CHECK_MESSAGE(msg.find("blk.0.attn_q.weight") != std::string::npos, std::string(e.what()));
            }
        }
    }
    SUBCASE("an architecture the engine does not know") {
        model::SyntheticConfig cfg;
        std::vector<uint8_t> bytes = model::synthetic_model_bytes(cfg);
        const std::string from = "llama", to = "llamx";  // general.architecture's value, same length
        auto it = std::search(bytes.begin(), bytes.end(), from.begin(), from.end());
        REQUIRE(it != bytes.end());
        std::copy(to.begin(), to.end(), it);
        const std::string path = test::synthetic_model_path(cfg, "syn_refused_arch");
        {
            std::FILE* f = std::fopen(path.c_str(), "wb");
            REQUIRE(f);
            std::fwrite(bytes.data(), 1, bytes.size(), f);
            std::fclose(f);
        }
        try {
            test::load_model(path);
            FAIL("an unknown architecture loaded");
        } catch (const Error& e) {
            CHECK(e.status() == Status::unsupported);
            CHECK_MESSAGE(std::string(e.what()).find("llamx") != std::string::npos, std::string(e.what()));
        }
    }
    model::SyntheticConfig good;
    good.weight_type = quant::Type::Q8_0;
    auto m = test::load_model(test::synthetic_model_path(good, "syn_after_refusal"));
    engine::Session s(m, engine::SessionConfig{});
    int32_t t = 5;
    s.feed({&t, 1});
    CHECK(s.logits().size() == good.n_vocab);
    test::check_no_validation_messages(*m);
}
