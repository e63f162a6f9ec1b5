#pragma once
// Chat formatting for the common template families, recognized from marker strings in
// tokenizer.chat_template. This is not a Jinja interpreter: each style is rendered by
// hand-written code that reproduces what those templates produce.
#include <string>
#include <vector>

namespace vks::tokenizer {

enum class ChatStyle {
    chatml,  // <|im_start|>role\ncontent<|im_end|>\n  (SmolLM2, Qwen, ...)
    llama2,  // <s>[INST] <<SYS>>\nsys\n<</SYS>>\n\nuser [/INST] answer </s>
    llama3,  // <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>
    gemma,   // <start_of_turn>user\ncontent<end_of_turn>\n, assistant role is "model"
};

const char* chat_style_name(ChatStyle style);

struct ChatMessage {
    std::string role;  // "system", "user" or "assistant"
    std::string content;
};

struct ChatFormat {
    ChatStyle style = ChatStyle::chatml;
    // A system prompt the template inserts when the conversation has none (SmolLM2 does);
    // empty when the template has no such default.
    std::string default_system;
    // True when the template was not recognized (or absent) and ChatML is a guess; `warning`
    // then says so in a line the caller prints to stderr.
    bool fallback = false;
    std::string warning;
};

// Recognizes the style of a tokenizer.chat_template text (may be empty).
ChatFormat detect_chat_format(const std::string& chat_template);
// The same, but a file with no template gets its architecture's own format where that is known
// (general.architecture "gemma", "gemma2", "gemma3": the Gemma turns; GGUF conversions of
// Gemma 3 often omit the template) instead of the ChatML guess.
ChatFormat chat_format_for(const std::string& chat_template, const std::string& architecture);

// Renders a conversation as the prompt text to tokenize (with parse_special = true).
// The text never starts with BOS: encode with add_special = true so the tokenizer adds it
// as the model's metadata asks. add_generation_prompt appends the header of the assistant's
// turn. Throws vks::Error(invalid_argument) for a role other than system/user/assistant and,
// for llama2/gemma, for a system message that is not first.
std::string render_chat(const ChatFormat& format, const std::vector<ChatMessage>& messages,
                        bool add_generation_prompt);
// Same with a bare style (no default system prompt).
std::string render_chat(ChatStyle style, const std::vector<ChatMessage>& messages, bool add_generation_prompt);

}  // namespace vks::tokenizer
