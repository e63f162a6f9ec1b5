// libFuzzer target for the tokenizers: arbitrary bytes (any UTF-8 validity) through encode
// with and without parse_special, whole-sequence decode and the streaming Detokenizer.
// Tokenizers are built once from small synthetic specs: byte-level BPE under each
// pre-tokenizer style, SentencePiece with byte fallback, and SentencePiece with only <unk>.
//
// Input: byte 0 picks the tokenizer and flags, the rest is the text. Besides crashes and
// sanitizer reports, these count as bugs (__builtin_trap):
//   - an id out of [0, n_vocab) from encode;
//   - decode() differing from feeding the same ids through a Detokenizer + flush();
//   - Detokenizer output that is not valid UTF-8;
//   - BPE: decode(encode(text)) != text for valid UTF-8 text without special tokens parsed.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/unicode.hpp"

namespace {

using namespace vks::tokenizer;

std::string byte_char(uint8_t b) {
    std::string s;
    utf8_append(s, byte_to_codepoint(b));
    return s;
}

// Ids 0..255 are the byte-level characters; then merges, specials and one user-defined token.
Spec bpe_spec(const char* pre) {
    Spec s;
    s.model = "gpt2";
    s.pre = pre;
    auto add = [&](const std::string& text, int32_t type) {
        s.tokens.push_back(text);
        s.token_types.push_back(type);
        return int32_t(s.tokens.size() - 1);
    };
    for (int b = 0; b < 256; ++b) add(byte_char(uint8_t(b)), 1);
    const char* merges[][2] = {{"h", "e"},   {"l", "l"},       {"he", "ll"}, {"hell", "o"}, {"Ġ", "w"},
                               {"o", "r"},   {"Ġw", "or"},     {"Ġwor", "l"}, {"Ġworl", "d"}, {"1", "2"},
                               {"Ġ", "Ġ"},   {"ÃĥÂ", "©"},     {"a", "b"},   {"ab", "c"},   {"Ġ", "t"},
                               {"Ġt", "he"}, {"Ċ", "Ċ"},       {"Ã", "©"}};
    for (auto& m : merges) {
        // Merges must name known tokens; skip the ones whose parts this tiny vocabulary lacks.
        bool known_l = false, known_r = false;
        for (const auto& t : s.tokens) {
            known_l = known_l || t == m[0];
            known_r = known_r || t == m[1];
        }
        if (!known_l || !known_r) continue;
        s.merges.push_back(std::string(m[0]) + " " + m[1]);
        add(std::string(m[0]) + m[1], 1);
    }
    s.bos = add("<|endoftext|>", 3);
    s.eos = s.bos;
    add("<|im_start|>", 3);
    add("<|im_end|>", 3);
    add("<|im_end|>x", 3);  // shares a prefix: longest match must win
    add("<tool>", 4);       // user-defined: always matched
    s.add_bos = true;
    return s;
}

// 0 <unk>, 1 <s>, 2 </s>, optional <0x00>..<0xFF>, then scored pieces.
Spec spm_spec(bool byte_fallback) {
    Spec s;
    s.model = "llama";
    auto add = [&](const std::string& text, float score, int32_t type = 1) {
        s.tokens.push_back(text);
        s.scores.push_back(score);
        s.token_types.push_back(type);
        return int32_t(s.tokens.size() - 1);
    };
    s.unk = add("<unk>", 0, 2);
    s.bos = add("<s>", 0, 3);
    s.eos = add("</s>", 0, 3);
    s.add_bos = true;
    s.add_space_prefix = byte_fallback;  // one of each
    if (byte_fallback) {
        for (int b = 0; b < 256; ++b) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "<0x%02X>", b);
            add(buf, 0, 6);
        }
    }
    const std::string sp = "\xE2\x96\x81";  // "▁"
    for (const char* c : {"h", "e", "l", "o", "w", "r", "d", "a", "b", "c", "t", "\xe4\xb8\xad"}) add(c, -10);
    add(sp, -5);
    add("he", -4);
    add("ll", -4);
    add("hello", -2);
    add(sp + "hello", -1);
    add("or", -4);
    add(sp + "world", -1);
    add(sp + sp, -6);
    add("ab", -2);
    add("bc", -1.5f);
    add("<ctl>", 0, 3);
    return s;
}

struct Tokenizers {
    std::vector<std::unique_ptr<Tokenizer>> all;
    size_t n_bpe = 0;
    Tokenizers() {
        for (const char* pre : {"gpt2", "smollm", "llama-bpe", "qwen2"}) {
            all.push_back(std::make_unique<Tokenizer>(Tokenizer::create(bpe_spec(pre))));
            ++n_bpe;
        }
        all.push_back(std::make_unique<Tokenizer>(Tokenizer::create(spm_spec(true))));
        all.push_back(std::make_unique<Tokenizer>(Tokenizer::create(spm_spec(false))));
    }
};

// Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF), written out here
// rather than taken from lib/tokenizer so the check is independent of the code under test.
bool valid_utf8(std::string_view s) {
    auto at = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
    for (size_t i = 0; i < s.size();) {
        const uint8_t b = at(i);
        const size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (size_t k = 1; k < n; ++k)
            if ((at(i + k) & 0xC0) != 0x80) return false;
        if (n == 2 && b < 0xC2) return false;
        if (n == 3 && b == 0xE0 && at(i + 1) < 0xA0) return false;
        if (n == 3 && b == 0xED && at(i + 1) >= 0xA0) return false;
        if (n == 4 && (b > 0xF4 || (b == 0xF0 && at(i + 1) < 0x90) || (b == 0xF4 && at(i + 1) >= 0x90))) return false;
        i += n;
    }
    return true;
}

void check(bool ok) {
    if (!ok) __builtin_trap();
}

void exercise(const Tokenizer& tok, bool is_bpe, std::string_view text, bool add_special, bool parse_special,
              bool render_special) {
    const std::vector<int32_t> ids = tok.encode(text, add_special, parse_special);
    for (int32_t id : ids) check(id >= 0 && id < tok.n_vocab());

    const std::string whole = tok.decode(ids, render_special);
    Detokenizer d(tok, render_special);
    std::string streamed;
    for (int32_t id : ids) {
        std::string piece = d.feed(id);
        check(valid_utf8(piece));
        streamed += piece;
    }
    std::string tail = d.flush();
    check(valid_utf8(tail));
    streamed += tail;
    check(streamed == whole);

    // Byte-level BPE is lossless on valid text when nothing special was parsed or added
    // (user-defined tokens such as <tool> decode to their own text).
    if (is_bpe && !add_special && !parse_special && valid_utf8(text)) check(whole == text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const Tokenizers toks;
    if (size == 0) return 0;
    const uint8_t sel = data[0];
    const size_t which = sel % toks.all.size();
    const Tokenizer& tok = *toks.all[which];
    const bool is_bpe = which < toks.n_bpe;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    const bool render_special = (sel & 0x80) != 0;
    try {
        for (bool parse_special : {false, true}) exercise(tok, is_bpe, text, (sel & 0x40) != 0, parse_special, render_special);
        if (!(sel & 0x40)) exercise(tok, is_bpe, text, false, false, false);

        // Arbitrary ids (little-endian int32 from the text): in-range ones decode, others throw.
        Detokenizer d(tok, render_special);
        for (size_t i = 0; i + 4 <= text.size() && i < 64; i += 4) {
            int32_t id = int32_t(uint32_t(uint8_t(text[i])) | uint32_t(uint8_t(text[i + 1])) << 8 |
                                 uint32_t(uint8_t(text[i + 2])) << 16 | uint32_t(uint8_t(text[i + 3])) << 24);
            if (id >= 0) id %= tok.n_vocab() + 2;  // mostly in range, sometimes just past the end
            try {
                check(valid_utf8(d.feed(id)));
                (void)tok.token_piece(id);
                (void)tok.is_eog(id);
            } catch (const vks::Error&) {
                check(id < 0 || id >= tok.n_vocab());  // only bad ids may throw
            }
        }
        check(valid_utf8(d.flush()));
        (void)tok.find_token(text);
    } catch (const vks::Error&) {
        __builtin_trap();  // nothing above may throw for any text
    }
    return 0;
}
