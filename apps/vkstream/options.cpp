#include "options.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <unistd.h>

namespace vks::cli {

bool parse_model_args(const Args& args, ModelArgs& out, std::string& error) {
    return parse_model_args(args, out, error, [](const Args&, size_t) -> size_t { return 0; });
}

const char* model_args_help() {
    return "  -m, --model PATH     GGUF model (required)\n"
           "  -p, --prompt TEXT    prompt\n"
           "  -n N                 tokens to generate (-1: until interrupted, for ever)\n"
           "  --sink N             attention-sink tokens kept for good (default 4)\n"
           "  --window N           rolling window (default: trained context - sinks)\n"
           "  --batch N            prefill chunk size (default 256)\n"
           "  --cache-type-k T     KV cache element type of the keys: f16 (default), q8_0, q4_0\n"
           "  --cache-type-v T     ... of the values (blocks of 32 along the head; head size % 32 == 0)\n"
           "  --cache-sinks S      with a quantized cache: f16 keeps the sink tokens exact, same quantizes\n"
           "                       them like the window (default same; f16 with --cache-rotate)\n"
           "  --cache-rotate       with a quantized cache: Hadamard-rotate its rows over the head first, the\n"
           "                       keys centred and scaled by a calibration run (head size a power of two <= 256)\n"
           "  --temp T --top-k K --top-p P --min-p P --repeat-penalty R --seed S --greedy\n";
}

std::shared_ptr<engine::Model> load_model_with_progress(const std::string& path) {
    engine::ModelOptions mo;
    const bool tty = isatty(2);
    auto t0 = std::chrono::steady_clock::now();
    int last = -1;
    mo.progress = [&](float f) {
        int pct = int(f * 100.0f);
        if (pct != last && tty) {
            std::fprintf(stderr, "\rloading %s: %3d%%", path.c_str(), pct);
            last = pct;
        }
        return true;
    };
    auto m = engine::Model::load(path, mo);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (tty) std::fprintf(stderr, "\r");
    std::fprintf(stderr, "loaded %s (%s, %u layers, %.1f MiB on %s) in %.2f s\n", path.c_str(),
                 model::arch_name(m->desc().arch), m->desc().n_layer, double(m->weight_bytes()) / (1 << 20),
                 m->device().caps().name.c_str(), secs);
    return m;
}

std::shared_ptr<engine::Model> load_synthetic_model(const model::SyntheticConfig& config) {
    const std::string path =
        (std::filesystem::temp_directory_path() / ("vkstream-synthetic-" + std::to_string(::getpid()) + ".gguf")).string();
    struct Unlink {
        std::string p;
        ~Unlink() {
            std::error_code ec;
            std::filesystem::remove(p, ec);
        }
    } unlink{path};
    model::write_synthetic_model(path, config);
    return load_model_with_progress(path);  // the file goes when `unlink` does; the mapping stays
}

}  // namespace vks::cli
