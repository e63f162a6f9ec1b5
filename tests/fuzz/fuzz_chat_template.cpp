// libFuzzer target for chat templates: detect_chat_format on arbitrary template text, then
// render_chat of a conversation cut from the same input, for the detected format and for
// every bare style.
//
// Input layout: parts separated by 0x00. Part 0 is the template text. Each further part is a
// message: its first byte picks the role (0-2 system/user/assistant, 3 the rest of the byte
// values: an invalid role made of the next bytes up to ':'), the remaining bytes are the
// content. The last byte of the input, when odd, asks for the generation prompt.
// Bugs (__builtin_trap) besides crashes and sanitizer reports:
//   - a vks::Error other than invalid_argument, or invalid_argument for a valid conversation
//     under the ChatML style (which accepts any order of valid roles);
//   - ChatML output that does not contain every message's content verbatim, or that does not
//     end with the assistant header when asked to;
//   - detect_chat_format warning-less fallback, or a warning without fallback.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "tokenizer/chat_template.hpp"

namespace {

using namespace vks::tokenizer;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    size_t start = 0;
    for (size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || s[i] == sep) {
            parts.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    return parts;
}

bool contains(const std::string& hay, std::string_view needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const std::vector<std::string_view> parts = split(in, '\0');
    const bool add_generation_prompt = size > 0 && (data[size - 1] & 1);

    const ChatFormat format = detect_chat_format(std::string(parts[0]));
    check(format.fallback == !format.warning.empty());

    std::vector<ChatMessage> messages;
    bool roles_valid = true;
    for (size_t i = 1; i < parts.size() && messages.size() < 64; ++i) {
        std::string_view p = parts[i];
        ChatMessage m;
        const uint8_t r = p.empty() ? 1 : uint8_t(p[0]) % 4;
        if (!p.empty()) p.remove_prefix(1);
        if (r == 0) m.role = "system";
        else if (r == 1) m.role = "user";
        else if (r == 2) m.role = "assistant";
        else {
            const size_t colon = p.find(':');
            m.role = std::string(p.substr(0, colon));
            p = colon == std::string_view::npos ? std::string_view() : p.substr(colon + 1);
            roles_valid = roles_valid && (m.role == "system" || m.role == "user" || m.role == "assistant");
        }
        m.content = std::string(p);
        messages.push_back(std::move(m));
    }

    auto render = [&](auto&& fmt_or_style, bool is_chatml) {
        try {
            const std::string out = render_chat(fmt_or_style, messages, add_generation_prompt);
            if (is_chatml) {
                check(roles_valid);
                for (const ChatMessage& m : messages) check(contains(out, m.content));
                if (add_generation_prompt) {
                    const std::string_view tail = "<|im_start|>assistant\n";
                    check(out.size() >= tail.size() && std::string_view(out).substr(out.size() - tail.size()) == tail);
                }
            }
        } catch (const vks::Error& e) {
            check(e.status() == vks::Status::invalid_argument);
            if (is_chatml) check(!roles_valid);
        }
    };
    render(format, format.style == ChatStyle::chatml);
    for (ChatStyle style : {ChatStyle::chatml, ChatStyle::llama2, ChatStyle::llama3, ChatStyle::gemma})
        render(style, style == ChatStyle::chatml);
    (void)chat_style_name(format.style);
    return 0;
}
