#include "tokenizer/unicode.hpp"

#include <algorithm>
#include <array>

namespace vks::tokenizer {

namespace detail {
extern const CodepointRange k_letter_ranges[];
extern const size_t k_letter_ranges_count;
extern const CodepointRange k_number_ranges[];
extern const size_t k_number_ranges_count;
}  // namespace detail

namespace {

bool in_ranges(const detail::CodepointRange* ranges, size_t n, uint32_t cp) {
    // ranges are sorted and disjoint: find the first range whose end is >= cp
    const detail::CodepointRange* end = ranges + n;
    auto it = std::lower_bound(ranges, end, cp,
                               [](const detail::CodepointRange& r, uint32_t v) { return r.last < v; });
    return it != end && it->first <= cp;
}

struct ByteMap {
    std::array<uint32_t, 256> to_cp{};
    std::array<int, 512> from_cp{};  // images are all < 0x144

    ByteMap() {
        from_cp.fill(-1);
        uint32_t next = 256;
        for (int b = 0; b < 256; ++b) {
            bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            to_cp[b] = printable ? uint32_t(b) : next++;
            from_cp[to_cp[b]] = b;
        }
    }
};

const ByteMap& byte_map() {
    static const ByteMap m;
    return m;
}

}  // namespace

bool is_letter(uint32_t cp) {
    if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
    return in_ranges(detail::k_letter_ranges, detail::k_letter_ranges_count, cp);
}

bool is_number(uint32_t cp) {
    if (cp < 0x80) return cp >= '0' && cp <= '9';
    return in_ranges(detail::k_number_ranges, detail::k_number_ranges_count, cp);
}

bool is_space(uint32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

CharClass char_class(uint32_t cp) {
    if (is_letter(cp)) return CharClass::letter;
    if (is_number(cp)) return CharClass::number;
    if (is_space(cp)) return CharClass::space;
    return CharClass::other;
}

int utf8_sequence_length(uint8_t b) {
    if (b < 0x80) return 1;
    if (b < 0xC2) return 0;  // continuation byte or overlong lead
    if (b < 0xE0) return 2;
    if (b < 0xF0) return 3;
    if (b < 0xF5) return 4;
    return 0;
}

Utf8Char utf8_decode(std::string_view s, size_t pos) {
    const auto* p = reinterpret_cast<const uint8_t*>(s.data()) + pos;
    size_t avail = s.size() - pos;
    int len = utf8_sequence_length(p[0]);
    if (len == 0 || size_t(len) > avail) return {0xFFFD, 1};
    if (len == 1) return {p[0], 1};
    uint32_t cp = p[0] & (0x7F >> len);
    for (int i = 1; i < len; ++i) {
        if ((p[i] & 0xC0) != 0x80) return {0xFFFD, 1};
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    // reject overlong forms, surrogates and values past U+10FFFF
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return {0xFFFD, 1};
    return {cp, uint32_t(len)};
}

void utf8_append(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    } else {
        out += char(0xF0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3F));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    }
}

uint32_t byte_to_codepoint(uint8_t b) { return byte_map().to_cp[b]; }

int codepoint_to_byte(uint32_t cp) { return cp < 512 ? byte_map().from_cp[cp] : -1; }

}  // namespace vks::tokenizer
