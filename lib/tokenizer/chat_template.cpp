#include "tokenizer/chat_template.hpp"

#include "common/error.hpp"

namespace vks::tokenizer {

const char* chat_style_name(ChatStyle style) {
    switch (style) {
        case ChatStyle::chatml: return "chatml";
        case ChatStyle::llama2: return "llama2";
        case ChatStyle::llama3: return "llama3";
        case ChatStyle::gemma: return "gemma";
    }
    return "?";
}

namespace {

bool contains(const std::string& s, const char* needle) { return s.find(needle) != std::string::npos; }

// ChatML templates that add a default system turn write it as a string literal:
// '<|im_start|>system\nYou are ...<|im_end|>\n'. The "\n" may be a real newline or the two
// characters of a Jinja escape. Returns the prompt or "".
std::string chatml_default_system(const std::string& tmpl) {
    if (!contains(tmpl, "!= 'system'") && !contains(tmpl, "!= \"system\"")) return {};
    const std::string head = "<|im_start|>system";
    for (size_t pos = tmpl.find(head); pos != std::string::npos; pos = tmpl.find(head, pos + 1)) {
        size_t begin = pos + head.size();
        if (tmpl.compare(begin, 1, "\n") == 0)
            begin += 1;
        else if (tmpl.compare(begin, 2, "\\n") == 0)
            begin += 2;
        else
            continue;
        size_t end = tmpl.find("<|im_end|>", begin);
        if (end == std::string::npos) continue;
        std::string text = tmpl.substr(begin, end - begin);
        // A literal prompt has no template syntax or string quoting in it.
        if (text.empty() || contains(text, "{{") || contains(text, "{%") || contains(text, "'") ||
            contains(text, "\""))
            continue;
        return text;
    }
    return {};
}

std::string trim(const std::string& s) {
    const char* ws = " \t\n\r";
    size_t b = s.find_first_not_of(ws);
    if (b == std::string::npos) return {};
    size_t e = s.find_last_not_of(ws);
    return s.substr(b, e - b + 1);
}

void check_roles(const std::vector<ChatMessage>& messages, bool system_only_first) {
    for (size_t i = 0; i < messages.size(); ++i) {
        const std::string& r = messages[i].role;
        if (r != "system" && r != "user" && r != "assistant")
            fail(Status::invalid_argument, "chat: message %zu has role '%s' (expected system, user or assistant)",
                 i, r.c_str());
        if (system_only_first && r == "system" && i != 0)
            fail(Status::invalid_argument, "chat: system message at position %zu; this chat format allows one, first",
                 i);
    }
}

std::string render_chatml(const ChatFormat& f, const std::vector<ChatMessage>& messages, bool gen) {
    std::string out;
    if (!f.default_system.empty() && (messages.empty() || messages[0].role != "system"))
        out += "<|im_start|>system\n" + f.default_system + "<|im_end|>\n";
    for (const ChatMessage& m : messages) out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
    if (gen) out += "<|im_start|>assistant\n";
    return out;
}

std::string render_llama3(const std::vector<ChatMessage>& messages, bool gen) {
    std::string out;
    for (const ChatMessage& m : messages)
        out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + trim(m.content) + "<|eot_id|>";
    if (gen) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
    return out;
}

// Each user turn opens with BOS and [INST]; the system prompt sits inside the first one.
// The first BOS is left to the tokenizer (see render_chat).
// The generation prompt of llama2 is the trailing "[/INST]" itself, so there is no flag.
std::string render_llama2(const std::vector<ChatMessage>& messages) {
    std::string out, system;
    size_t i = 0;
    if (!messages.empty() && messages[0].role == "system") system = trim(messages[i++].content);
    bool first_user = true;
    for (; i < messages.size(); ++i) {
        const ChatMessage& m = messages[i];
        if (m.role == "user") {
            if (!first_user) out += "<s>";
            out += "[INST] ";
            if (first_user && !system.empty()) out += "<<SYS>>\n" + system + "\n<</SYS>>\n\n";
            out += trim(m.content) + " [/INST]";
            first_user = false;
        } else {  // assistant
            out += ' ';  // (appended piecewise: GCC 12 warns falsely on " " + std::string&&)
            out += trim(m.content);
            out += " </s>";
        }
    }
    return out;
}

std::string render_gemma(const std::vector<ChatMessage>& messages, bool gen) {
    std::string out, system;
    size_t i = 0;
    if (!messages.empty() && messages[0].role == "system") system = trim(messages[i++].content);
    bool first_user = true;
    for (; i < messages.size(); ++i) {
        const ChatMessage& m = messages[i];
        std::string role = m.role == "assistant" ? "model" : m.role;
        std::string content = trim(m.content);
        if (m.role == "user" && first_user && !system.empty()) content = system + "\n\n" + content;
        if (m.role == "user") first_user = false;
        out += "<start_of_turn>" + role + "\n" + content + "<end_of_turn>\n";
    }
    if (gen) out += "<start_of_turn>model\n";
    return out;
}

}  // namespace

ChatFormat detect_chat_format(const std::string& tmpl) {
    ChatFormat f;
    if (tmpl.empty()) {
        f.fallback = true;
        f.warning = "chat: the model has no chat template (tokenizer.chat_template); using ChatML";
        return f;
    }
    if (contains(tmpl, "<|im_start|>")) {
        f.style = ChatStyle::chatml;
        f.default_system = chatml_default_system(tmpl);
    } else if (contains(tmpl, "<|start_header_id|>")) {
        f.style = ChatStyle::llama3;
    } else if (contains(tmpl, "<start_of_turn>")) {
        f.style = ChatStyle::gemma;
    } else if (contains(tmpl, "[INST]")) {
        f.style = ChatStyle::llama2;
    } else {
        f.fallback = true;
        f.warning = "chat: unrecognized chat template; using ChatML, replies may be poor";
    }
    return f;
}

ChatFormat chat_format_for(const std::string& tmpl, const std::string& arch) {
    if (tmpl.empty() && (arch == "gemma" || arch == "gemma2" || arch == "gemma3")) {
        ChatFormat f;
        f.style = ChatStyle::gemma;
        return f;
    }
    return detect_chat_format(tmpl);
}

std::string render_chat(const ChatFormat& format, const std::vector<ChatMessage>& messages,
                        bool add_generation_prompt) {
    bool system_only_first = format.style == ChatStyle::llama2 || format.style == ChatStyle::gemma;
    check_roles(messages, system_only_first);
    switch (format.style) {
        case ChatStyle::chatml: return render_chatml(format, messages, add_generation_prompt);
        case ChatStyle::llama3: return render_llama3(messages, add_generation_prompt);
        case ChatStyle::llama2: return render_llama2(messages);
        case ChatStyle::gemma: return render_gemma(messages, add_generation_prompt);
    }
    fail(Status::internal, "chat: unknown style %d", int(format.style));
}

std::string render_chat(ChatStyle style, const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
    ChatFormat f;
    f.style = style;
    return render_chat(f, messages, add_generation_prompt);
}

}  // namespace vks::tokenizer
