// vks_session_generate goes through engine::generate: its pieces add up to the detokenized
// tokens, the detokenizer's flush (a final call with token -1) included.
#include <string>
#include <vector>

#include "capi_fixtures.hpp"

namespace {

struct Collect {
    std::vector<int32_t> tokens;
    std::string text;
    int flushes = 0;
    bool token_after_flush = false;
};

int collect(int32_t token, const char* piece, size_t len, void* user) {
    auto* c = static_cast<Collect*>(user);
    if (token < 0) ++c->flushes;
    else if (c->flushes) c->token_after_flush = true;
    else c->tokens.push_back(token);
    c->text.append(piece, len);
    return 0;
}

}  // namespace

TEST_CASE("C API: generated pieces add up to the detokenized tokens, the final flush included") {
    vks_model* m = capi::load();
    int total_flushes = 0;
    // Byte-level prompts end mid-character often enough on the synthetic model: try several.
    for (int32_t first : {72, 0xC3, 0xE2, 0xF0}) {
        CAPTURE(first);
        vks_session* s = capi::session(m);
        const int32_t prompt[] = {0, first};
        REQUIRE(vks_session_feed(s, prompt, 2) == VKS_OK);
        Collect c;
        REQUIRE(vks_session_generate(s, 24, collect, &c) == VKS_OK);
        MESSAGE("prompt byte " << first << ": " << c.tokens.size() << " tokens, final flush call: " << c.flushes);
        CHECK(c.flushes <= 1);
        total_flushes += c.flushes;
        CHECK(!c.token_after_flush);
        std::string want(4096, '\0');
        size_t n = 0;
        REQUIRE(vks_detokenize(m, c.tokens.data(), c.tokens.size(), 0, want.data(), want.size(), &n) == VKS_OK);
        want.resize(n);
        CHECK(c.text == want);
        vks_session_free(s);
    }
    CHECK(total_flushes >= 1);  // the flush path was taken (greedy: the same cases every run)
    vks_model_free(m);
}
