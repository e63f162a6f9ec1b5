// Byte-level BPE on a small hand-built vocabulary: merge order, special tokens, round trips.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/error.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/unicode.hpp"

using namespace vks;
using namespace vks::tokenizer;

namespace {

std::string byte_char(uint8_t b) {
    std::string s;
    utf8_append(s, byte_to_codepoint(b));
    return s;
}

// Ids 0..255: the byte-level character of byte i. Then merged tokens and specials.
struct TinyBpe {
    Spec spec;
    int32_t add(const std::string& text, int32_t type = 1) {
        spec.tokens.push_back(text);
        spec.token_types.push_back(type);
        return int32_t(spec.tokens.size() - 1);
    }
    int32_t merge(const std::string& left, const std::string& right) {
        spec.merges.push_back(left + " " + right);
        return add(left + right);
    }
    TinyBpe() {
        spec.model = "gpt2";
        spec.pre = "gpt2";
        for (int b = 0; b < 256; ++b) add(byte_char(uint8_t(b)));
    }
};

int32_t byte_id(char c) { return int32_t(uint8_t(c)); }

}  // namespace

TEST_CASE("bpe: byte map is a bijection onto printable code points") {
    std::vector<bool> seen(512, false);
    for (int b = 0; b < 256; ++b) {
        uint32_t cp = byte_to_codepoint(uint8_t(b));
        REQUIRE(cp < 512);
        CHECK_FALSE(seen[cp]);
        seen[cp] = true;
        CHECK(codepoint_to_byte(cp) == b);
        CHECK_FALSE(is_space(cp));
    }
    CHECK(byte_to_codepoint(' ') == 0x120);  // 'Ġ'
    CHECK(byte_to_codepoint('A') == 'A');
}

TEST_CASE("bpe: merges apply by rank, leftmost first on ties") {
    TinyBpe v;
    int32_t ab = v.merge("a", "b");   // rank 0
    int32_t bc = v.merge("b", "c");   // rank 1
    int32_t aa = v.merge("a", "a");   // rank 2
    int32_t abc = v.merge("ab", "c");  // rank 3
    v.merge("a", byte_char(' '));     // rank 4: must not apply across pre-tokens
    Tokenizer t = Tokenizer::create(v.spec);
    CHECK(t.encode("abc", false, false) == std::vector<int32_t>{abc});
    CHECK(t.encode("bc", false, false) == std::vector<int32_t>{bc});
    CHECK(t.encode("abbc", false, false) == std::vector<int32_t>{ab, bc});
    CHECK(t.encode("aaa", false, false) == std::vector<int32_t>{aa, byte_id('a')});
    CHECK(t.encode("aaaa", false, false) == std::vector<int32_t>{aa, aa});
    // Merges never cross pre-token boundaries: "a b" splits into "a", " b".
    CHECK(t.encode("a b", false, false) == std::vector<int32_t>{byte_id('a'), byte_id(' '), byte_id('b')});
}

TEST_CASE("bpe: a lower rank wins over an earlier position") {
    TinyBpe v;
    int32_t cd = v.merge("c", "d");  // rank 0
    int32_t bc = v.merge("b", "c");  // rank 1
    (void)bc;
    Tokenizer t = Tokenizer::create(v.spec);
    CHECK(t.encode("bcd", false, false) == std::vector<int32_t>{byte_id('b'), cd});
}

TEST_CASE("bpe: special tokens: longest match, only when asked, never from merges") {
    TinyBpe v;
    // Punctuation only, so the whole text is one pre-token and merges can spell it: they end
    // in a normal token with the same text as the control token added next.
    std::string ctrl = "<|>";
    v.merge("<", "|");
    int32_t merged_plain = v.merge("<|", ">");
    int32_t x_ctrl = v.add(ctrl, 3);
    int32_t x_long = v.add("<|>!", 3);
    int32_t user = v.add("@@", 4);
    v.spec.bos = v.add("<bos>", 3);
    v.spec.eos = v.add("<eos>", 3);
    v.spec.add_bos = true;
    Tokenizer t = Tokenizer::create(v.spec);
    REQUIRE(t.token_text(merged_plain) == ctrl);
    REQUIRE(t.token_type(merged_plain) == TokenType::normal);
    CHECK(t.encode("<|>a", false, true) == std::vector<int32_t>{x_ctrl, byte_id('a')});
    CHECK(t.encode("<|>!", false, true) == std::vector<int32_t>{x_long});
    std::vector<int32_t> plain = t.encode("<|>a", false, false);
    for (int32_t id : plain) CHECK_FALSE(t.is_control(id));
    CHECK(plain.front() == merged_plain);
    // User-defined tokens are matched even without parse_special.
    CHECK(t.encode("a@@b", false, false) == std::vector<int32_t>{byte_id('a'), user, byte_id('b')});
    // BOS per metadata
    std::vector<int32_t> with_bos = t.encode("a", true, false);
    CHECK(with_bos == std::vector<int32_t>{t.bos(), byte_id('a')});
    CHECK(t.is_eog(t.eos()));
    CHECK_FALSE(t.is_eog(t.bos()));
    CHECK(t.decode(t.encode("<|>hi", true, true), true) == "<bos><|>hi");
    CHECK(t.decode(t.encode("<|>hi", true, true), false) == "hi");
}

TEST_CASE("bpe: decode(encode(s)) == s on varied text") {
    TinyBpe v;
    v.merge(byte_char(' '), "t");
    v.merge("h", "e");
    v.merge(byte_char(' ') + "t", "he");
    Tokenizer t = Tokenizer::create(v.spec);
    const char* texts[] = {"the cat", " the  the   the", "\n\n\t x", "ünïcødé — “quotes”", "日本語 中文",
                           "emoji 🙂👍🏽!", "12345 3.14 -7", "", "   ", "don't stop"};
    for (const char* s : texts) {
        CAPTURE(std::string(s));
        CHECK(t.decode(t.encode(s, true, true)) == s);
    }
    CHECK(t.encode(" the", false, false).size() == 1);
}

TEST_CASE("bpe: bad specs are rejected with a message") {
    Spec s;
    s.model = "gpt2";
    CHECK_THROWS_AS(Tokenizer::create(s), Error);  // empty vocabulary
    s.tokens = {"a", "b"};
    s.scores = {0.0f};
    CHECK_THROWS_AS(Tokenizer::create(s), Error);  // scores size
    s.scores.clear();
    s.bos = 7;
    CHECK_THROWS_AS(Tokenizer::create(s), Error);  // id out of range
    s.bos = -1;
    s.model = "bert";
    try {
        Tokenizer::create(s);
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.status() == Status::unsupported);
        CHECK(std::string(e.what()).find("bert") != std::string::npos);
    }
    s.model = "gpt2";
    s.merges = {"ab"};
    CHECK_THROWS_AS(Tokenizer::create(s), Error);  // merge without a space
    s.merges.clear();
    s.pre = "mystery";
    Tokenizer t = Tokenizer::create(s);
    CHECK(t.warnings().size() == 1);
    CHECK_THROWS_AS(t.token_piece(2), Error);
    CHECK_THROWS_AS(t.token_piece(-1), Error);
}
