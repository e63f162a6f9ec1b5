// engine::generate (the loop the C API, run, chat and serve share) on SmolLM2.
#include <doctest/doctest.h>

#include "engine/generate.hpp"
#include "engine/session.hpp"
#include "engine_fixtures.hpp"
#include "support/models.hpp"
#include "tokenizer/chat_template.hpp"

using namespace vks;

namespace {

struct Fixture {
    std::shared_ptr<engine::Model> model;
    engine::SessionConfig cfg;
    Fixture() {
        cfg.n_sink = 4;
        cfg.n_window = 60;  // small: the longer runs roll the ring
        cfg.sampling.temperature = 0;
    }
    std::unique_ptr<engine::Session> session_after(const std::string& prompt) {
        auto s = std::make_unique<engine::Session>(model, cfg);
        s->feed(model->tokenizer().encode(prompt, true, true));
        return s;
    }
};

// The text of a generation, all pieces (including the final token -1 flush) joined.
std::string text_of(engine::Session& s, const engine::GenerateOptions& o, engine::GenerateResult* out = nullptr,
                    std::vector<int32_t>* tokens = nullptr) {
    std::string text;
    auto r = engine::generate(s, o, [&](int32_t t, std::string_view piece) {
        if (tokens) tokens->push_back(t);
        text += piece;
        return true;
    });
    if (out) *out = r;
    return text;
}

}  // namespace

TEST_CASE("generate: max_tokens, the text equals the detokenized tokens, every sampled token is fed") {
    std::string path = test::smollm2_path();
    if (path.empty()) VKS_SKIP("SmolLM2 not cached (tools/fetch_model.sh smollm2)");
    Fixture f;
    f.model = test::load_model(path);
    auto s = f.session_after("The capital of France is");
    const uint64_t n0 = s->n_past();
    engine::GenerateOptions o;
    o.max_tokens = 80;  // past the 64-slot cache: the ring rolls
    o.stop_at_end_token = false;
    engine::GenerateResult r;
    std::vector<int32_t> toks;
    std::string text = text_of(*s, o, &r, &toks);
    CHECK(r.finish == engine::FinishReason::length);
    CHECK(r.n_tokens == 80);
    CHECK(r.fed.size() == 80);
    CHECK(s->n_past() == n0 + 80);
    CHECK(text.rfind(" Paris", 0) == 0);
    CHECK(text == f.model->tokenizer().decode(r.fed));
    test::check_no_validation_messages(*f.model);
}

TEST_CASE("generate: a stop string ends the text before it, the same tokens as an unstopped run") {
    std::string path = test::smollm2_path();
    if (path.empty()) VKS_SKIP("SmolLM2 not cached (tools/fetch_model.sh smollm2)");
    Fixture f;
    f.model = test::load_model(path);
    engine::GenerateOptions o;
    o.max_tokens = 24;
    o.stop_at_end_token = false;
    auto a = f.session_after("The capital of France is");
    const std::string full = text_of(*a, o);
    REQUIRE(full.size() > 12);
    const std::string stop = full.substr(6, 4);  // somewhere inside
    const std::string want = full.substr(0, full.find(stop));
    auto b = f.session_after("The capital of France is");
    o.stop = {stop};
    engine::GenerateResult r;
    CHECK(text_of(*b, o, &r) == want);
    CHECK(r.finish == engine::FinishReason::stop);
    CHECK(r.n_tokens < 24);
    test::check_no_validation_messages(*f.model);
}

TEST_CASE("generate: the callback, Session::cancel and an external flag stop it") {
    std::string path = test::smollm2_path();
    if (path.empty()) VKS_SKIP("SmolLM2 not cached (tools/fetch_model.sh smollm2)");
    Fixture f;
    f.model = test::load_model(path);
    auto s = f.session_after("Once upon a time");
    engine::GenerateOptions o;
    o.max_tokens = 50;
    int calls = 0;
    auto r = engine::generate(*s, o, [&](int32_t t, std::string_view) { return t < 0 || ++calls < 3; });
    CHECK(r.finish == engine::FinishReason::callback);
    CHECK(r.n_tokens == 3);
    CHECK(r.fed.size() == 3);  // the token the callback stopped at is fed too

    std::atomic<bool> flag{false};
    o.cancel = &flag;
    r = engine::generate(*s, o, [&](int32_t, std::string_view) {
        flag.store(true);  // as if another thread set it during this step
        return true;
    });
    CHECK(r.finish == engine::FinishReason::cancelled);
    CHECK(r.n_tokens == 1);

    o.cancel = nullptr;
    s->cancel();  // pending before the call: it stops at the first check, nothing sampled
    r = engine::generate(*s, o, nullptr);
    CHECK(r.finish == engine::FinishReason::cancelled);
    CHECK(r.n_tokens == 0);

    auto fresh = std::make_unique<engine::Session>(f.model, f.cfg);
    CHECK_THROWS_AS(engine::generate(*fresh, o, nullptr), Error);  // nothing fed yet
    test::check_no_validation_messages(*f.model);
}

TEST_CASE("generate: the end-of-turn token ends a chat reply and is fed unless feed_final is off") {
    std::string path = test::smollm2_path();
    if (path.empty()) VKS_SKIP("SmolLM2 not cached (tools/fetch_model.sh smollm2)");
    Fixture f;
    f.model = test::load_model(path);
    const std::string prompt = tokenizer::render_chat(f.model->chat_format(),
                                                      {{"user", "What is the capital of France? One word."}}, true);
    engine::GenerateOptions o;
    o.max_tokens = 40;
    for (bool feed_final : {true, false}) {
        CAPTURE(feed_final);
        auto s = f.session_after(prompt);
        const uint64_t n0 = s->n_past();
        o.feed_final = feed_final;
        std::vector<int32_t> toks;
        engine::GenerateResult r;
        std::string text = text_of(*s, o, &r, &toks);
        REQUIRE(r.finish == engine::FinishReason::end_token);
        CHECK(f.model->tokenizer().is_eog(toks.back()));
        CHECK(text.find("Paris") != std::string::npos);
        CHECK(s->n_past() == n0 + uint64_t(r.n_tokens) - (feed_final ? 0 : 1));
    }
    test::check_no_validation_messages(*f.model);
}
