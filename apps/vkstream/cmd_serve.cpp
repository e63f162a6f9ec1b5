// vkstream serve -m MODEL [--host H] [--port P] [--parallel N] [--sessions DIR] [--api-key KEY]:
// an OpenAI-compatible HTTP server with a chat page at /. The server itself is apps/server.
#include <cstdio>
#include <cstdlib>

#include "options.hpp"
#include "server/serve.hpp"

namespace vks::cli {

int cmd_serve(const Args& args) {
    ModelArgs o;
    server::ServeOptions so;
    std::string error;
    bool n_given = false;
    bool ok = parse_model_args(args, o, error, [&](const Args& a, size_t i) -> size_t {
        const bool has = i + 1 < a.size();
        int64_t v = 0;
        auto int_value = [&](int64_t lo, int64_t hi) {
            if (!has || !detail::to_i64(a[i + 1], v) || v < lo || v > hi) {
                error = a[i] + ": needs a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
                return false;
            }
            return true;
        };
        if (a[i] == "--host" && has) return so.host = a[i + 1], 2;
        if (a[i] == "--port") return int_value(0, 65535) ? (so.port = int(v), 2) : 0;
        if (a[i] == "--parallel" || a[i] == "-np") return int_value(1, 256) ? (so.parallel = int(v), 2) : 0;
        if (a[i] == "--max-queue") return int_value(0, 4096) ? (so.max_queue = int(v), 2) : 0;
        if (a[i] == "--sessions" && has) return so.sessions_dir = a[i + 1], 2;
        if (a[i] == "--alias" && has) return so.model_id = a[i + 1], 2;
        if (a[i] == "--max-prompt-tokens") return int_value(1, 1 << 24) ? (so.limits.max_prompt_tokens = v, 2) : 0;
        if (a[i] == "--max-body") return int_value(1024, int64_t(1) << 32) ? (so.max_body_bytes = size_t(v), 2) : 0;
        if (a[i] == "--request-timeout")
            return int_value(1, 3600) ? (so.connection.request_deadline = std::chrono::seconds(v), 2) : 0;
        if (a[i] == "--api-key" && has) return so.api_key = a[i + 1], 2;
        return 0;
    });
    for (const auto& a : args) n_given |= a == "-n" || a == "--n-predict";
    if (ok && so.api_key.empty())
        if (const char* k = std::getenv("VKSTREAM_API_KEY")) so.api_key = k;
    if (!ok) {
        std::fprintf(stderr,
                     "vkstream serve: %s\nusage: vkstream serve -m MODEL [options]\n%s"
                     "  --host ADDR          address to listen on (default 127.0.0.1: this machine only)\n"
                     "  --port N             port (default 8080; 0: any free port, printed at start)\n"
                     "  --parallel N         requests generating at the same time, one session each (default 1)\n"
                     "  --max-queue N        requests waiting for a session before 503 (default 64)\n"
                     "  --sessions DIR       save conversations here; they resume after a restart\n"
                     "  --api-key KEY        require 'Authorization: Bearer KEY' (or env VKSTREAM_API_KEY)\n"
                     "  --alias NAME         the model name clients use (default: the file name)\n"
                     "  --max-prompt-tokens N, --max-body BYTES, --request-timeout SECONDS\n"
                     "  -n N                 default max_tokens of a request (default 4096)\n"
                     "  sampling flags set the defaults of requests that do not give them\n",
                     error.c_str(), model_args_help());
        return 2;
    }
    if (n_given) {
        if (o.n_predict < 0) o.n_predict = so.limits.max_max_tokens;
        so.limits.default_max_tokens = o.n_predict;
    }
    so.session = o.session;
    server::block_stop_signals();  // before the driver starts its threads
    auto model = load_model_with_progress(o.model);
    if (model->chat_format().fallback) std::fprintf(stderr, "%s\n", model->chat_format().warning.c_str());
    return server::run_server(model, so);
}

}  // namespace vks::cli
