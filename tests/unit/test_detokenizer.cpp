// Streaming detokenization: tokens that end inside a UTF-8 code point.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "support/test_support.hpp"
#include "support/models.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/unicode.hpp"

using namespace vks;
using namespace vks::tokenizer;

namespace {

// Byte tokens only: id b is <0xbb>, then <s> at 256 (no space prefix, so bytes map 1:1).
Tokenizer byte_vocab() {
    Spec s;
    s.model = "llama";
    s.add_space_prefix = false;
    for (int b = 0; b < 256; ++b) {
        char buf[8];
        snprintf(buf, sizeof buf, "<0x%02X>", b);
        s.tokens.push_back(buf);
        s.token_types.push_back(6);
    }
    s.tokens.push_back("<s>");
    s.token_types.push_back(3);
    s.bos = 256;
    s.scores.assign(s.tokens.size(), 0.0f);
    return Tokenizer::create(s);
}

bool valid_utf8(const std::string& s) {
    for (size_t pos = 0; pos < s.size();) {
        Utf8Char c = utf8_decode(s, pos);
        if (c.cp == 0xFFFD && c.len == 1) return false;
        pos += c.len;
    }
    return true;
}

}  // namespace

TEST_CASE("detokenizer: holds a code point split across tokens") {
    Tokenizer t = byte_vocab();
    Detokenizer d(t);
    CHECK(d.feed('a') == "a");
    CHECK(d.feed(0xF0) == "");
    CHECK(d.feed(0x9F) == "");
    CHECK(d.feed(0x99) == "");
    CHECK(d.feed(0x82) == "🙂");
    CHECK(d.feed(0xC3) == "");
    CHECK(d.feed(t.bos()) == "");  // control tokens render nothing and keep the held bytes
    CHECK(d.feed(0xA9) == "é");
    CHECK(d.flush() == "");
}

TEST_CASE("detokenizer: invalid and unfinished bytes become U+FFFD") {
    Tokenizer t = byte_vocab();
    Detokenizer d(t);
    CHECK(d.feed(0xFF) == "\xEF\xBF\xBD");
    CHECK(d.feed(0x80) == "\xEF\xBF\xBD");  // stray continuation byte
    CHECK(d.feed(0xE2) == "");
    CHECK(d.feed('x') == "\xEF\xBF\xBDx");  // sequence broken by an ASCII byte
    CHECK(d.feed(0xE2) == "");
    CHECK(d.feed(0x82) == "");
    CHECK(d.flush() == "\xEF\xBF\xBD");  // unfinished at the end
    CHECK(d.feed('y') == "y");          // flush reset the state
}

TEST_CASE("detokenizer: every chunk of a byte-by-byte stream is valid UTF-8") {
    Tokenizer t = byte_vocab();
    const std::string text = "Zürich 東京 🙂👍🏽 Ελλάδα";
    Detokenizer d(t);
    std::string joined;
    for (char c : text) {
        std::string chunk = d.feed(uint8_t(c));
        CHECK(valid_utf8(chunk));
        joined += chunk;
    }
    joined += d.flush();
    CHECK(joined == text);
}

TEST_CASE("detokenizer: SmolLM2 emoji split over byte-level tokens") {
    std::string path = test::smollm2_path();
    if (path.empty()) VKS_SKIP("SmolLM2 model absent (set VKS_TEST_MODEL or run tools/fetch_model.sh)");
    Tokenizer t = test::load_tokenizer(path);
    const std::string text = "Emoji: 🙂👍🏽 done 日本語のテキスト";
    std::vector<int32_t> ids = t.encode(text, false, false);
    Detokenizer d(t);
    std::string joined;
    int n_held = 0;  // tokens that ended mid code point
    for (int32_t id : ids) {
        std::string chunk = d.feed(id);
        CHECK(valid_utf8(chunk));
        n_held += !valid_utf8(t.token_piece(id));
        joined += chunk;
    }
    joined += d.flush();
    CHECK(joined == text);
    CHECK(n_held > 0);  // the case this test is about really happened
}
