// vkstream: command-line front end. Each subcommand lives in cmd_<name>.cpp.
#include <cstdio>
#include <cstring>
#include <exception>

#include "commands.hpp"
#include "common/error.hpp"

namespace {

struct Command {
    const char* name;
    int (*run)(const vks::cli::Args&);
    const char* help;
};

const Command k_commands[] = {
    {"run", vks::cli::cmd_run, "stream a completion: -m MODEL -p TEXT [-n N] (-n -1: for ever, constant memory)"},
    {"chat", vks::cli::cmd_chat, "interactive multi-turn chat that never runs out of context: -m MODEL"},
    {"serve", vks::cli::cmd_serve,
     "OpenAI-compatible HTTP server with a chat page: -m MODEL [--port 8080] [--parallel N] [--sessions DIR]"},
    {"perplexity", vks::cli::cmd_perplexity,
     "teacher-forced perplexity of a text under a cache policy: -m MODEL -f TEXT --policy dense|window|sink|recompute"},
    {"info", vks::cli::cmd_info, "list Vulkan devices, features, limits and chosen kernels [--json]; -m MODEL: KV bytes by layer kind"},
    {"inspect", vks::cli::cmd_inspect, "show a GGUF file: metadata, tensor table, totals by type [--json]"},
    {"soak", vks::cli::cmd_soak, "long-run check: stream N tokens, report RSS, device memory, latency, NaN/Inf [--synthetic]"},
    {"quantize", vks::cli::cmd_quantize, "re-quantize a GGUF model: IN.gguf OUT.gguf TYPE [--threads N]"},
    {"bench", vks::cli::cmd_bench, "benchmarks: --kernels (matvec/matmul per weight type vs copy bandwidth) [--json] [--quick]"},
};

void usage() {
    std::fprintf(stderr, "vkstream %s — stream language models on any Vulkan device\n\nusage: vkstream COMMAND [ARGS]\n\n",
                 VKS_VERSION_STRING);
    for (const auto& c : k_commands) std::fprintf(stderr, "  %-12s %s\n", c.name, c.help);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help")) {
        usage();
        return argc < 2 ? 2 : 0;
    }
    if (!std::strcmp(argv[1], "--version")) {
        std::printf("vkstream %s\n", VKS_VERSION_STRING);
        return 0;
    }
    for (const auto& c : k_commands) {
        if (std::strcmp(argv[1], c.name) != 0) continue;
        vks::cli::Args args(argv + 2, argv + argc);
        try {
            return c.run(args);
        } catch (const vks::Error& e) {
            std::fprintf(stderr, "vkstream %s: error: %s (%s)\n", c.name, e.what(), vks::status_name(e.status()));
            return 1;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "vkstream %s: error: %s\n", c.name, e.what());
            return 1;
        }
    }
    std::fprintf(stderr, "vkstream: unknown command '%s'\n\n", argv[1]);
    usage();
    return 2;
}
