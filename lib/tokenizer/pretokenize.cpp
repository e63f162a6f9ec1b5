#include "tokenizer/pretokenize.hpp"

#include "tokenizer/unicode.hpp"

namespace vks::tokenizer {

PreStyle pre_style_from_name(const std::string& pre, bool* known) {
    *known = true;
    // Names as written by GGUF converters into tokenizer.ggml.pre.
    static const char* const llama3_names[] = {"llama-bpe", "llama3", "llama-v3", "falcon3", "dbrx",
                                               "smaug-bpe", "tekken", "pixtral"};
    static const char* const qwen2_names[] = {"qwen2", "deepseek-r1-qwen", "megrez"};
    static const char* const digits_names[] = {"smollm", "starcoder", "refact", "command-r",
                                               "codeshell", "exaone", "minerva-7b"};
    static const char* const gpt2_names[] = {"gpt2", "gpt-2", "default", "", "olmo", "mpt",
                                             "stablelm2", "phi-2", "jais"};
    for (const char* n : llama3_names)
        if (pre == n) return PreStyle::llama3;
    for (const char* n : qwen2_names)
        if (pre == n) return PreStyle::qwen2;
    for (const char* n : digits_names)
        if (pre == n) return PreStyle::digits_then_gpt2;
    for (const char* n : gpt2_names)
        if (pre == n) return PreStyle::gpt2;
    *known = false;
    return PreStyle::gpt2;
}

const char* pre_style_name(PreStyle style) {
    switch (style) {
        case PreStyle::gpt2: return "gpt2";
        case PreStyle::digits_then_gpt2: return "digits+gpt2";
        case PreStyle::llama3: return "llama3";
        case PreStyle::qwen2: return "qwen2";
    }
    return "?";
}

namespace {

// Text decoded once: code points, their classes and byte offsets (offset[n] == text size).
struct Decoded {
    std::vector<uint32_t> cp;
    std::vector<CharClass> cls;
    std::vector<size_t> offset;

    size_t size() const { return cp.size(); }
    // False past the end, so lookaheads fail cleanly there.
    bool is(size_t k, CharClass c) const { return k < cp.size() && cls[k] == c; }
};

Decoded decode(std::string_view text) {
    Decoded d;
    for (size_t pos = 0; pos < text.size();) {
        Utf8Char ch = utf8_decode(text, pos);
        d.cp.push_back(ch.cp);
        d.cls.push_back(char_class(ch.cp));
        d.offset.push_back(pos);
        pos += ch.len;
    }
    d.offset.push_back(text.size());
    return d;
}

uint32_t ascii_lower(uint32_t c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

// 's 't 're 've 'm 'll 'd at i; returns the end index or 0 when none matches.
size_t match_contraction(const Decoded& d, size_t i, bool ignore_case) {
    if (d.cp[i] != '\'' || i + 1 >= d.size()) return 0;
    auto at = [&](size_t k) { return k < d.size() ? (ignore_case ? ascii_lower(d.cp[k]) : d.cp[k]) : 0u; };
    uint32_t a = at(i + 1), b = at(i + 2);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    return 0;
}

size_t run_of(const Decoded& d, size_t j, CharClass c) {
    while (d.is(j, c)) ++j;
    return j;
}

// \s+(?!\S)|\s+ at a whitespace character i.
size_t match_trailing_space(const Decoded& d, size_t i) {
    size_t k = run_of(d, i, CharClass::space);
    // Followed by a non-space: leave the last whitespace char to prefix the next piece,
    // unless the run is a single char (then \s+ takes it alone).
    if (k < d.size() && k - i > 1) return k - 1;
    return k;
}

size_t next_gpt2(const Decoded& d, size_t i) {
    if (size_t e = match_contraction(d, i, false)) return e;
    for (CharClass c : {CharClass::letter, CharClass::number, CharClass::other}) {
        size_t j = i;
        if (d.cp[j] == ' ' && d.is(j + 1, c)) ++j;
        if (d.is(j, c)) return run_of(d, j, c);
    }
    return match_trailing_space(d, i);
}

bool is_newline(uint32_t c) { return c == '\r' || c == '\n'; }

size_t next_llama3(const Decoded& d, size_t i, size_t max_digits) {
    if (size_t e = match_contraction(d, i, true)) return e;
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (d.is(i, CharClass::letter)) return run_of(d, i, CharClass::letter);
    if (!is_newline(d.cp[i]) && !d.is(i, CharClass::number) && d.is(i + 1, CharClass::letter))
        return run_of(d, i + 1, CharClass::letter);
    // \p{N}{1,max_digits}
    if (d.is(i, CharClass::number)) {
        size_t j = i;
        while (j - i < max_digits && d.is(j, CharClass::number)) ++j;
        return j;
    }
    //  ?[^\s\p{L}\p{N}]+[\r\n]*
    {
        size_t j = i;
        if (d.cp[j] == ' ' && d.is(j + 1, CharClass::other)) ++j;
        if (d.is(j, CharClass::other)) {
            j = run_of(d, j, CharClass::other);
            while (j < d.size() && is_newline(d.cp[j])) ++j;
            return j;
        }
    }
    // \s*[\r\n]+ : the whitespace run up to and including its last newline
    size_t k = run_of(d, i, CharClass::space);
    for (size_t m = k; m > i; --m)
        if (is_newline(d.cp[m - 1])) return m;
    return match_trailing_space(d, i);
}

// Splits all of d (decoded from text) with one style's scanner.
void scan(const Decoded& d, PreStyle style, std::string_view text, std::vector<std::string_view>& out) {
    const size_t end = d.size();
    size_t i = 0;
    while (i < end) {
        size_t e = 0;
        switch (style) {
            case PreStyle::gpt2:
            case PreStyle::digits_then_gpt2: e = next_gpt2(d, i); break;
            case PreStyle::llama3: e = next_llama3(d, i, 3); break;
            case PreStyle::qwen2: e = next_llama3(d, i, 1); break;
        }
        if (e <= i) e = i + 1;  // unreachable (every alternative takes >= 1 char); never loop
        out.push_back(text.substr(d.offset[i], d.offset[e] - d.offset[i]));
        i = e;
    }
}

}  // namespace

std::vector<std::string_view> pre_tokenize(PreStyle style, std::string_view text) {
    std::vector<std::string_view> out;
    if (text.empty()) return out;
    if (style != PreStyle::digits_then_gpt2) {
        Decoded d = decode(text);
        scan(d, style, text, out);
        return out;
    }
    // Isolate every number character, then run gpt2 on each stretch between them. Each
    // stretch is decoded on its own so gpt2's lookahead stops at the stretch end, exactly
    // like a regex applied to the separate piece.
    Decoded whole = decode(text);
    size_t i = 0;
    while (i < whole.size()) {
        if (whole.is(i, CharClass::number)) {
            out.push_back(text.substr(whole.offset[i], whole.offset[i + 1] - whole.offset[i]));
            ++i;
            continue;
        }
        size_t j = i;
        while (j < whole.size() && !whole.is(j, CharClass::number)) ++j;
        std::string_view stretch = text.substr(whole.offset[i], whole.offset[j] - whole.offset[i]);
        Decoded d = decode(stretch);
        scan(d, PreStyle::gpt2, stretch, out);
        i = j;
    }
    return out;
}

}  // namespace vks::tokenizer
