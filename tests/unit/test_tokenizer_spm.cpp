// SentencePiece (llama SPM) on a small hand-built vocabulary with byte fallback.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/error.hpp"
#include "support/test_support.hpp"
#include "tokenizer/tokenizer.hpp"

using namespace vks;
using namespace vks::tokenizer;

namespace {

const std::string k_sp = "\xE2\x96\x81";  // "▁"

// 0 <unk>, 1 <s>, 2 </s>, 3..258 <0x00>..<0xFF>, then scored pieces.
struct TinySpm {
    Spec spec;
    int32_t add(const std::string& text, float score, int32_t type = 1) {
        spec.tokens.push_back(text);
        spec.scores.push_back(score);
        spec.token_types.push_back(type);
        return int32_t(spec.tokens.size() - 1);
    }
    int32_t id(const std::string& text) const {
        for (size_t i = 0; i < spec.tokens.size(); ++i)
            if (spec.tokens[i] == text) return int32_t(i);
        FAIL("no token " << text);
        return -1;
    }
    TinySpm() {
        spec.model = "llama";
        spec.unk = add("<unk>", 0, 2);
        spec.bos = add("<s>", 0, 3);
        spec.eos = add("</s>", 0, 3);
        spec.add_bos = true;
        spec.add_space_prefix = true;
        for (int b = 0; b < 256; ++b) {
            char buf[8];
            snprintf(buf, sizeof buf, "<0x%02X>", b);
            add(buf, 0, 6);
        }
        // single characters, then longer pieces with higher scores (as SPM vocabularies do)
        for (const char* c : {"h", "e", "l", "o", "w", "r", "d", "a", "b", "c", "t"}) add(c, -10);
        add(k_sp, -5);
        add("he", -4);
        add("ll", -4);
        add("llo", -3);
        add("hello", -2);
        add(k_sp + "hello", -1);
        add("or", -4);
        add("ld", -4);
        add("wor", -3.5);
        add(k_sp + "wor", -3);
        add(k_sp + "world", -1);
        add("ab", -2);
        add("bc", -1.5);  // preferred over "ab" in "abc"
        add(k_sp + k_sp, -6);
        add("中", -7);
    }
};

uint8_t byte_of(const Tokenizer& t, int32_t id) { return uint8_t(t.token_piece(id).at(0)); }

}  // namespace

TEST_CASE("spm: space prefix, score-ordered merges, BOS") {
    TinySpm v;
    Tokenizer t = Tokenizer::create(v.spec);
    CHECK(t.model() == Model::spm);
    CHECK(t.encode("hello world", true, false) ==
          std::vector<int32_t>{t.bos(), v.id(k_sp + "hello"), v.id(k_sp + "world")});
    CHECK(t.encode("hello", false, false) == std::vector<int32_t>{v.id(k_sp + "hello")});
    // higher score first: "bc" (-1.5) beats "ab" (-2)
    CHECK(t.encode("abc", false, false) == std::vector<int32_t>{v.id(k_sp), v.id("a"), v.id("bc")});
    CHECK(t.encode("", true, false) == std::vector<int32_t>{t.bos()});
}

TEST_CASE("spm: add_space_prefix off") {
    TinySpm v;
    v.spec.add_space_prefix = false;
    Tokenizer t = Tokenizer::create(v.spec);
    CHECK(t.encode("hello", false, false) == std::vector<int32_t>{v.id("hello")});
    CHECK(t.decode(t.encode(" hello", false, false)) == " hello");
}

TEST_CASE("spm: unknown characters fall back to byte tokens") {
    TinySpm v;
    Tokenizer t = Tokenizer::create(v.spec);
    std::vector<int32_t> ids = t.encode("é中", false, false);  // é = C3 A9 not in vocab; 中 is
    REQUIRE(ids.size() == 4);
    CHECK(ids[0] == v.id(k_sp));
    CHECK(t.token_type(ids[1]) == TokenType::byte);
    CHECK(byte_of(t, ids[1]) == 0xC3);
    CHECK(byte_of(t, ids[2]) == 0xA9);
    CHECK(ids[3] == v.id("中"));
}

TEST_CASE("spm: without byte tokens unknown characters become <unk>") {
    Spec s;
    s.model = "llama";
    s.tokens = {"<unk>", "a"};
    s.scores = {0, 0};
    s.token_types = {2, 1};
    s.unk = 0;
    s.add_space_prefix = false;
    Tokenizer t = Tokenizer::create(s);
    CHECK(t.encode("aé", false, false) == std::vector<int32_t>{1, 0, 0});
}

TEST_CASE("spm: control tokens in text only with parse_special") {
    TinySpm v;
    Tokenizer t = Tokenizer::create(v.spec);
    std::vector<int32_t> ids = t.encode("hello</s>", false, true);
    CHECK(ids.back() == t.eos());
    std::vector<int32_t> plain = t.encode("hello</s>", false, false);
    for (int32_t id : plain) CHECK_FALSE(t.is_control(id));
    CHECK(t.decode(plain) == "hello</s>");
    CHECK(t.is_eog(t.eos()));
}

TEST_CASE("spm: decode(encode(s)) == s on varied text") {
    TinySpm v;
    Tokenizer t = Tokenizer::create(v.spec);
    const char* texts[] = {"hello world", " hello", "  two  spaces  ", "hello\nworld\n", "ünïcødé",
                           "日本語 中文", "emoji 🙂👍🏽!", "tab\there", "x", "ab c bc abc"};
    for (const char* s : texts) {
        CAPTURE(std::string(s));
        CHECK(t.decode(t.encode(s, true, false)) == s);
    }
}

TEST_CASE("spm: a vocabulary without scores is rejected") {
    Spec s;
    s.model = "llama";
    s.tokens = {"a"};
    CHECK_THROWS_AS(Tokenizer::create(s), Error);
}
