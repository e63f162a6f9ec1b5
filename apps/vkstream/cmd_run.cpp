// vkstream run -m MODEL -p TEXT [-n N] [...]: streams a completion to stdout, speed to stderr.
// -n -1 generates until interrupted (Ctrl-C), for ever, in constant memory: the cache rolls.
#include <atomic>
#include <csignal>
#include <cstdio>

#include "engine/generate.hpp"
#include "options.hpp"
#include "tokenizer/tokenizer.hpp"

namespace vks::cli {

namespace {
std::atomic<bool> g_interrupted{false};  // lock-free, so a signal handler may set it
static_assert(std::atomic<bool>::is_always_lock_free);
void on_sigint(int) { g_interrupted.store(true); }
}  // namespace

int cmd_run(const Args& args) {
    ModelArgs o;
    bool ignore_eos = false;
    std::string error;
    bool ok = parse_model_args(args, o, error, [&](const Args& a, size_t i) -> size_t {
        if (a[i] == "--ignore-eos") return ignore_eos = true, 1;
        return 0;
    });
    if (!ok) {
        std::fprintf(stderr, "vkstream run: %s\nusage: vkstream run -m MODEL -p TEXT [-n N] [options]\n%s"
                             "  --ignore-eos         keep going past end-of-text tokens\n",
                     error.c_str(), model_args_help());
        return 2;
    }
    const bool forever = o.n_predict < 0;
    if (forever) ignore_eos = true;  // "for ever" means past every end-of-text token too

    auto model = load_model_with_progress(o.model);
    engine::Session session(model, o.session);
    const auto& tok = model->tokenizer();
    std::vector<int32_t> prompt = tok.encode(o.prompt, true, true);
    if (prompt.empty()) {
        if (tok.bos() < 0) {
            std::fprintf(stderr, "vkstream run: empty prompt and the model has no BOS token\n");
            return 2;
        }
        prompt.push_back(tok.bos());
    }
    std::fprintf(stderr, "cache: %u sinks + %u window (%.1f MiB of KV, fixed), prompt %zu tokens\n",
                 session.config().n_sink, session.config().n_window, double(session.kv_bytes()) / (1 << 20),
                 prompt.size());
    if (const engine::KvLayout kl = session.kv_layout(); kl.n_local > 0)
        std::fprintf(stderr,
                     "KV by layer kind: %u global x %u slots = %.1f MiB, %u local (sliding window) x %u slots = "
                     "%.1f MiB; %.1f%% of a full window on every layer (%.1f MiB)\n",
                     kl.n_global, kl.global_slots, double(kl.global_bytes) / (1 << 20), kl.n_local, kl.local_slots,
                     double(kl.local_bytes) / (1 << 20), 100.0 * kl.ratio_to_all_global(),
                     double(kl.all_global_bytes) / (1 << 20));
    std::signal(SIGINT, on_sigint);
    std::printf("%s", o.prompt.c_str());
    std::fflush(stdout);
    session.feed(prompt);
    engine::GenerateOptions gen;
    gen.max_tokens = forever ? -1 : o.n_predict;
    gen.stop_at_end_token = !ignore_eos;
    gen.feed_final = false;  // the stream ends here: the end token need not enter the cache
    gen.cancel = &g_interrupted;
    engine::generate(session, gen, [](int32_t, std::string_view piece) {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
        return true;
    });
    std::printf("\n");
    const auto& st = session.stats();
    std::fprintf(stderr,
                 "\nprefill: %llu tokens, %.1f tokens/s | decode: %llu tokens, %.1f tokens/s | stream %llu tokens, "
                 "%u cached, KV %.1f MiB (constant)%s\n",
                 (unsigned long long)st.n_prefill_tokens, st.prefill_tokens_per_s(),
                 (unsigned long long)st.n_decode_tokens, st.decode_tokens_per_s(), (unsigned long long)session.n_past(),
                 session.n_cached(), double(session.kv_bytes()) / (1 << 20), g_interrupted.load() ? " (interrupted)" : "");
    return 0;
}

}  // namespace vks::cli
