#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/error.hpp"
#include "support/test_support.hpp"
#include "support/models.hpp"
#include "tokenizer/chat_template.hpp"
#include "tokenizer/tokenizer.hpp"

using namespace vks;
using namespace vks::tokenizer;

namespace {

// SmolLM2-135M-Instruct's tokenizer.chat_template, verbatim.
const std::string k_smollm2_template =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

const std::vector<ChatMessage> k_conversation = {
    {"system", "Be brief."},
    {"user", "Hi"},
    {"assistant", "Hello!"},
    {"user", "2+2?"},
};

}  // namespace

TEST_CASE("chat: styles are detected from template markers") {
    CHECK(detect_chat_format(k_smollm2_template).style == ChatStyle::chatml);
    CHECK_FALSE(detect_chat_format(k_smollm2_template).fallback);
    CHECK(detect_chat_format("{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}"
                             "<|end_header_id|>\n\n{{ m['content'] | trim }}<|eot_id|>{% endfor %}")
              .style == ChatStyle::llama3);
    CHECK(detect_chat_format("{% if m['role'] == 'user' %}{{ bos_token + '[INST] ' + m['content'] + ' [/INST]' }}")
              .style == ChatStyle::llama2);
    CHECK(detect_chat_format("{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}")
              .style == ChatStyle::gemma);
    ChatFormat unknown = detect_chat_format("{% for m in messages %}### {{ m.role }}: {{ m.content }}{% endfor %}");
    CHECK(unknown.style == ChatStyle::chatml);
    CHECK(unknown.fallback);
    CHECK_FALSE(unknown.warning.empty());
    ChatFormat none = detect_chat_format("");
    CHECK(none.fallback);
    CHECK_FALSE(none.warning.empty());
}

TEST_CASE("chat: SmolLM2 template's default system prompt is found and used") {
    ChatFormat f = detect_chat_format(k_smollm2_template);
    CHECK(f.default_system == "You are a helpful AI assistant named SmolLM, trained by Hugging Face");
    // Same template with the Jinja "\n" escapes left as two characters.
    std::string escaped = k_smollm2_template;
    for (size_t p = escaped.find('\n'); p != std::string::npos; p = escaped.find('\n', p + 2))
        escaped.replace(p, 1, "\\n");
    CHECK(detect_chat_format(escaped).default_system == f.default_system);

    CHECK(render_chat(f, {{"user", "hi"}}, true) ==
          "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
          "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
    // An explicit system message replaces the default.
    CHECK(render_chat(f, {{"system", "S"}, {"user", "hi"}}, false) ==
          "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n");
    // A template without the "!= 'system'" condition has no default.
    CHECK(detect_chat_format("{{'<|im_start|>' + message['role'] + '\n'}}").default_system.empty());
}

TEST_CASE("chat: chatml rendering") {
    CHECK(render_chat(ChatStyle::chatml, k_conversation, true) ==
          "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
          "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n");
}

TEST_CASE("chat: llama3 rendering") {
    CHECK(render_chat(ChatStyle::llama3, k_conversation, true) ==
          "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
          "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
          "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
          "<|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>"
          "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST_CASE("chat: llama2 rendering folds the system prompt into the first [INST]") {
    CHECK(render_chat(ChatStyle::llama2, k_conversation, true) ==
          "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] 2+2? [/INST]");
    CHECK(render_chat(ChatStyle::llama2, {{"user", " Hi "}}, true) == "[INST] Hi [/INST]");
}

TEST_CASE("chat: gemma rendering uses role 'model' and folds the system prompt") {
    CHECK(render_chat(ChatStyle::gemma, k_conversation, true) ==
          "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n"
          "<start_of_turn>user\n2+2?<end_of_turn>\n<start_of_turn>model\n");
    CHECK(render_chat(ChatStyle::gemma, {{"user", "Hi"}}, false) == "<start_of_turn>user\nHi<end_of_turn>\n");
}

TEST_CASE("chat: bad roles are rejected") {
    CHECK_THROWS_AS(render_chat(ChatStyle::chatml, {{"tool", "x"}}, true), Error);
    CHECK_THROWS_AS(render_chat(ChatStyle::gemma, {{"user", "a"}, {"system", "b"}}, true), Error);
    CHECK_NOTHROW(render_chat(ChatStyle::chatml, {{"user", "a"}, {"system", "b"}}, true));
}

TEST_CASE("chat: SmolLM2 prompt tokenizes its markers as control tokens") {
    std::string path = test::smollm2_path();
    if (path.empty()) VKS_SKIP("SmolLM2 model absent (set VKS_TEST_MODEL or run tools/fetch_model.sh)");
    Tokenizer tok = test::load_tokenizer(path);
    ChatFormat f = detect_chat_format(tok.chat_template());
    CHECK(f.style == ChatStyle::chatml);
    CHECK_FALSE(f.fallback);
    std::vector<int32_t> ids = tok.encode(render_chat(f, {{"user", "hi"}}, true), true, true);
    int n_im_start = 0, n_im_end = 0;
    for (int32_t id : ids) {
        n_im_start += id == 1;
        n_im_end += id == 2;
    }
    CHECK(n_im_start == 3);  // default system, user, assistant header
    CHECK(n_im_end == 2);
    CHECK(ids.front() == 1);
}

TEST_CASE("chat: a Gemma file without a template gets the Gemma turns, others the ChatML guess") {
    const ChatFormat g = chat_format_for("", "gemma3");
    CHECK(g.style == ChatStyle::gemma);
    CHECK_FALSE(g.fallback);
    CHECK(render_chat(g, {{"user", "Hi"}}, true) == "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n");
    const ChatFormat l = chat_format_for("", "llama");
    CHECK(l.style == ChatStyle::chatml);
    CHECK(l.fallback);
    // A template present wins over the architecture.
    CHECK(chat_format_for("{{ '<|im_start|>' }}", "gemma3").style == ChatStyle::chatml);
}
