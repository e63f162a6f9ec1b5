#pragma once
// Minimal Unicode support for tokenizers: UTF-8 decode/encode, the character classes the
// pre-tokenizer regexes use (\p{L}, \p{N}, \s), and GPT-2's byte <-> printable code point map.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vks::tokenizer {

namespace detail {
struct CodepointRange {
    uint32_t first, last;  // inclusive
};
}  // namespace detail

// Coarse class of a code point, enough to drive the pre-tokenizer scanners.
enum class CharClass : uint8_t { letter, number, space, other };

CharClass char_class(uint32_t cp);
bool is_letter(uint32_t cp);
bool is_number(uint32_t cp);
bool is_space(uint32_t cp);  // Unicode White_Space

// One decoded code point: its value and byte length in the source string. Invalid UTF-8
// decodes as U+FFFD with length 1, so scanning always makes progress.
struct Utf8Char {
    uint32_t cp;
    uint32_t len;
};
Utf8Char utf8_decode(std::string_view s, size_t pos);

void utf8_append(std::string& out, uint32_t cp);

// Length of the UTF-8 sequence started by lead byte b (1..4), or 0 for a continuation byte or
// an invalid lead byte.
int utf8_sequence_length(uint8_t b);

// GPT-2 byte-level map: every byte gets a printable code point (printable Latin-1 bytes map
// to themselves, the rest to U+0100 and up) so that tokens are valid text.
uint32_t byte_to_codepoint(uint8_t b);
// Inverse; returns -1 when cp is not the image of any byte.
int codepoint_to_byte(uint32_t cp);

}  // namespace vks::tokenizer
