// Start-up pipelines (Session::prepare_pipelines) and the integer-dot decode path in a whole
// model, on synthetic models.
#include <doctest/doctest.h>

#include <cstdlib>

#include "engine/session.hpp"
#include "engine_fixtures.hpp"
#include "ops/matvec_q8_1.hpp"

using namespace vks;

namespace {

// Sets an environment variable for the lifetime of the object (tests run one at a time).
struct ScopedEnv {
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old, had_ = true;
        setenv(name, value, 1);
    }
    ~ScopedEnv() {
        if (had_) setenv(name_, old_.c_str(), 1);
        else unsetenv(name_);
    }
    const char* name_;
    std::string old_;
    bool had_ = false;
};

}  // namespace

TEST_CASE("a session builds at creation every pipeline that its prefill and decode use, for any prompt length") {
    model::SyntheticConfig cfg;
    cfg.weight_type = quant::Type::Q4_1;
    cfg.seed = 21;
    auto m = test::load_model(test::synthetic_model_path(cfg, "syn_prepare"));
    engine::SessionConfig sc;
    sc.n_sink = 2;
    sc.n_window = 30;
    sc.n_batch = 16;
    engine::Session s(m, sc);
    const size_t built = m->kernels().n_pipelines();
    CHECK(built > 0);
    // Prompts of 1..20 tokens (tails of every length, two chunks at 17+), then decode steps.
    for (uint32_t n = 1; n <= 20; ++n) {
        CAPTURE(n);
        s.reset();
        std::vector<int32_t> prompt(n);
        for (uint32_t i = 0; i < n; ++i) prompt[i] = int32_t((i * 13 + n) % cfg.n_vocab);
        s.feed(prompt);
        int32_t t = s.sample();
        s.feed({&t, 1});
        CHECK(m->kernels().n_pipelines() == built);
    }
    test::check_no_validation_messages(*m);
}

namespace {

// Logits of the float and the forced integer-dot path on one synthetic model: close (8-bit
// activations), not equal (the other path really ran), and `variants` were built. Twice: with
// the activations quantized in the products' prologues (the _x kernels: no quantize dispatch
// and no rms_norm_add_q8_1 is left), and in the two-dispatch form (VKS_INT_DOT_PROLOGUE=0),
// where `post_norm_quantizes` says the gemma3 post-FFN norm-and-add writes the next layer's
// quantized input.
void check_int_dot_path(const model::SyntheticConfig& cfg, const char* name, std::vector<const char*> variants,
                        bool post_norm_quantizes = false, uint32_t n_batch = 8) {
    for (const bool prologue : {true, false}) {
        CAPTURE(prologue);
        ScopedEnv pe("VKS_INT_DOT_PROLOGUE", prologue ? "1" : "0");
        auto m = test::load_model(test::synthetic_model_path(cfg, name));  // a fresh pipeline set per form
        if (!m->device().caps().int_dot) {
            MESSAGE("SKIPPED: the device has no integer dot product; nothing tested");
            return;
        }
        engine::SessionConfig sc;
        sc.n_sink = 2;
        sc.n_window = 14;
        sc.n_batch = n_batch;
        std::vector<int32_t> tokens(24);
        for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = int32_t((i * 29 + 3) % cfg.n_vocab);
        std::vector<float> lf, li;
        {
            ScopedEnv e("VKS_MATVEC", "float");
            engine::Session s(m, sc);
            s.feed(tokens, &lf);
        }
        {
            ScopedEnv e("VKS_MATVEC", "int_dot");
            engine::Session s(m, sc);
            s.feed(tokens, &li);
            for (const char* v : variants) CHECK(m->kernels().has_pipeline(prologue ? std::string(v) + "_x" : std::string(v)));
            const bool quantizing_norm = m->kernels().has_pipeline("rms_norm_add_q8_1_sg") || m->kernels().has_pipeline("rms_norm_add_q8_1");
            CHECK(quantizing_norm == (!prologue && post_norm_quantizes));
            CHECK(m->kernels().has_pipeline("quantize_q8_1") == !prologue);
        }
        REQUIRE(lf.size() == li.size());
        const double e = test::nmse(li.data(), lf.data(), lf.size());
        CAPTURE(e);
        CHECK(e > 0);      // it really took another path
        CHECK(e < 1e-3);   // 8-bit activations: close, not equal
        test::check_no_validation_messages(*m);
    }
}

}  // namespace

TEST_CASE("the integer-dot decode path (VKS_MATVEC=int_dot) gives the float path's logits up to the activation quantization") {
    model::SyntheticConfig cfg;
    cfg.weight_type = quant::Type::Q8_0;
    cfg.seed = 22;
    check_int_dot_path(cfg, "syn_int_dot", {"matvec_q8_0_q8_1"});
}

TEST_CASE("the integer-dot path on a 24-token prefill chunk where the matvec path serves prefill (CPU devices)") {
    model::SyntheticConfig cfg;
    cfg.weight_type = quant::Type::Q4_K;
    cfg.v_type = quant::Type::Q6_K;
    cfg.gemma3 = true;
    cfg.seed = 24;
    auto probe = test::load_model(test::synthetic_model_path(cfg, "syn_int_dot_pp"));
    if (!ops::matmul_uses_matvec(probe->device().caps(), 24)) {
        MESSAGE("SKIPPED: prefill chunks of 24 take the tiled float matmul on this device; nothing tested");
        return;
    }
    probe.reset();
    check_int_dot_path(cfg, "syn_int_dot_pp", {"matvec_q4_k_q8_1", "matvec_q6_k_q8_1"}, true, 24);
}

TEST_CASE("the integer-dot decode path on K-quants (Q4_K, V in Q6_K, gemma3: separate gate/up and GLU)") {
    model::SyntheticConfig cfg;
    cfg.weight_type = quant::Type::Q4_K;
    cfg.v_type = quant::Type::Q6_K;
    cfg.gemma3 = true;
    cfg.seed = 23;
    check_int_dot_path(cfg, "syn_int_dot_k", {"matvec_q4_k_q8_1", "matvec_q6_k_q8_1"}, true);
    cfg.weight_type = quant::Type::Q5_K;
    cfg.v_type = quant::Type::F32;
    cfg.gemma3 = false;
    check_int_dot_path(cfg, "syn_int_dot_q5k", {"matvec_q5_k_q8_1"});
}
