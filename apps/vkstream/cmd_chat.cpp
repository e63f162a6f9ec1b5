// vkstream chat -m MODEL: interactive multi-turn chat that never runs out of context. Each turn
// feeds only the new text; the cache rolls and the sinks keep the model stable.
#include <cstdio>
#include <iostream>

#include "engine/generate.hpp"
#include "options.hpp"
#include "tokenizer/chat_template.hpp"

namespace vks::cli {

int cmd_chat(const Args& args) {
    ModelArgs o;
    std::string system;
    std::string error;
    bool ok = parse_model_args(args, o, error, [&](const Args& a, size_t i) -> size_t {
        if (a[i] == "--system" && i + 1 < a.size()) return system = a[i + 1], 2;
        return 0;
    });
    if (!ok) {
        std::fprintf(stderr, "vkstream chat: %s\nusage: vkstream chat -m MODEL [--system TEXT] [options]\n%s", error.c_str(),
                     model_args_help());
        return 2;
    }
    if (o.n_predict < 0) o.n_predict = 1 << 30;
    if (o.n_predict == 128) o.n_predict = 1024;  // per reply, unless given
    auto model = load_model_with_progress(o.model);
    const auto& fmt = model->chat_format();
    if (fmt.fallback) std::fprintf(stderr, "%s\n", fmt.warning.c_str());
    engine::Session session(model, o.session);
    const auto& tok = model->tokenizer();
    std::vector<tokenizer::ChatMessage> messages;
    if (!system.empty()) messages.push_back({"system", system});
    std::string fed_text;  // the rendered conversation fed so far
    std::fprintf(stderr, "chat: %u sinks + %u window; empty line or Ctrl-D ends\n", session.config().n_sink,
                 session.config().n_window);
    std::string line;
    while (true) {
        std::fprintf(stderr, "\n> ");
        if (!std::getline(std::cin, line) || line.empty()) break;
        messages.push_back({"user", line});
        std::string text = tokenizer::render_chat(fmt, messages, true);
        // Feed only what is new since the last turn (ChatML-style templates are append-only).
        std::string delta = text.compare(0, fed_text.size(), fed_text) == 0 ? text.substr(fed_text.size()) : text;
        std::vector<int32_t> ids = tok.encode(delta, fed_text.empty(), true);
        session.feed(ids);
        std::string reply;
        engine::GenerateOptions gen;
        gen.max_tokens = o.n_predict;  // the end-of-turn token is fed: the next turn follows it
        engine::generate(session, gen, [&](int32_t, std::string_view piece) {
            reply += piece;
            std::fwrite(piece.data(), 1, piece.size(), stdout);
            std::fflush(stdout);
            return true;
        });
        std::printf("\n");
        messages.push_back({"assistant", reply});
        fed_text = tokenizer::render_chat(fmt, messages, false);
        // The trailing newline after the end-of-turn token was not generated; keep the text
        // we consider fed in sync with what the next render will start with.
        if (!fed_text.empty() && fed_text.back() == '\n') fed_text.pop_back();
        std::fprintf(stderr, "[stream %llu tokens, %u cached, %.1f tokens/s]\n", (unsigned long long)session.n_past(),
                     session.n_cached(), session.stats().decode_tokens_per_s());
    }
    return 0;
}

}  // namespace vks::cli
