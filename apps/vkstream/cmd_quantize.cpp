// vkstream quantize IN.gguf OUT.gguf TYPE [--threads N]: re-quantizes a model (all of the work
// is in quant::requantize_file). Notes (type fallbacks) and progress go to stderr, the summary
// to stdout; an error is one line from main.cpp and exit code 1.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "commands.hpp"
#include "common/error.hpp"
#include "gguf/tensor_types.hpp"
#include "quant/requantize.hpp"

namespace vks::cli {

namespace {

constexpr const char* k_usage = "usage: quantize IN.gguf OUT.gguf TYPE [--threads N]";
constexpr const char* k_types = "F32 F16 BF16 Q8_0 Q5_1 Q5_0 Q4_1 Q4_0 Q6_K Q5_K Q4_K Q3_K Q2_K";

int parse_threads(const std::string& s) {
    char* end = nullptr;
    long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || v < 1 || v > 1024)
        fail(Status::invalid_argument, "--threads wants a number from 1 to 1024, got '%s'", s.c_str());
    return int(v);
}

double mib(uint64_t bytes) { return double(bytes) / (1024.0 * 1024.0); }

}  // namespace

int cmd_quantize(const Args& args) {
    std::vector<std::string> positional;
    quant::RequantizeOptions options;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--help" || a == "-h") {
            std::printf("%s\n  TYPE: %s\n  2-D tensors get TYPE (or a compatible type when rows do not fit its blocks),\n"
                        "  1-D tensors F32; metadata is kept, general.file_type updated. --threads defaults to\n"
                        "  the number of CPUs.\n",
                        k_usage, k_types);
            return 0;
        }
        if (a == "--threads" || a == "-t") {
            if (i + 1 >= args.size()) fail(Status::invalid_argument, "%s needs a value (%s)", a.c_str(), k_usage);
            options.n_threads = parse_threads(args[++i]);
        } else if (a.rfind("--threads=", 0) == 0) {
            options.n_threads = parse_threads(a.substr(10));
        } else if (a.size() > 1 && a[0] == '-') {
            fail(Status::invalid_argument, "unknown option '%s' (%s)", a.c_str(), k_usage);
        } else {
            positional.push_back(a);
        }
    }
    if (positional.size() != 3)
        fail(Status::invalid_argument, "expected 3 arguments, got %zu (%s)", positional.size(), k_usage);
    const std::string& in_path = positional[0];
    const std::string& out_path = positional[1];
    auto type = quant::parse_type(positional[2]);
    if (!type || !quant::is_requantize_target(*type))
        fail(Status::invalid_argument, "unknown or unsupported type '%s' (one of: %s)", positional[2].c_str(), k_types);
    options.target = *type;

    // Notes come before any work. A model whose rows all miss the block size would get one per
    // tensor, so only the first few are printed and the rest counted (at the first progress call).
    constexpr size_t k_max_notes = 6;
    size_t n_notes = 0;
    options.on_note = [&](const std::string& note) {
        if (n_notes++ < k_max_notes) std::fprintf(stderr, "note: %s\n", note.c_str());
    };
    auto flush_notes = [&] {
        if (n_notes > k_max_notes)
            std::fprintf(stderr, "note: ... and %zu more tensors like these (vkstream inspect OUT lists all types)\n",
                         n_notes - k_max_notes);
        n_notes = 0;
    };

    // On a terminal one line is redrawn; otherwise (logs, tests) a line per 10%.
    const bool tty = ::isatty(STDERR_FILENO) != 0;
    int last_decile = -1;
    options.on_progress = [&](const quant::RequantizeProgress& p) {
        flush_notes();
        const double frac = p.n_elements ? double(p.n_elements_done) / double(p.n_elements) : 1.0;
        if (tty) {
            std::fprintf(stderr, "\rquantizing: %5.1f%% (%zu/%zu tensors)", 100.0 * frac, p.n_tensors_done,
                         p.n_tensors);
            if (p.n_elements_done == p.n_elements) std::fprintf(stderr, "\n");
        } else if (int decile = int(frac * 10.0); decile > last_decile) {
            last_decile = decile;
            std::fprintf(stderr, "quantizing: %d%% (%zu/%zu tensors)\n", decile * 10, p.n_tensors_done, p.n_tensors);
        }
        std::fflush(stderr);
    };

    const quant::RequantizeResult r = quant::requantize_file(in_path, out_path, options);

    uint64_t in_bytes = 0, out_bytes = 0;
    size_t n_target = 0;
    for (const auto& t : r.tensors) {
        in_bytes += t.src_bytes;
        out_bytes += t.dst_bytes;
        n_target += t.dst_type == uint32_t(options.target);
    }
    std::printf("wrote %s: %zu tensors (%zu %s, %zu other), tensor data %.1f MiB -> %.1f MiB, file %.1f MiB\n",
                out_path.c_str(), r.tensors.size(), n_target, gguf::tensor_type_name(uint32_t(options.target)),
                r.tensors.size() - n_target, mib(in_bytes), mib(out_bytes), mib(r.out_file_bytes));
    if (r.file_type_updated)
        std::printf("general.file_type: %lld -> %lld\n", (long long)r.old_file_type, (long long)r.new_file_type);
    else
        std::printf("general.file_type: absent, not added\n");
    return 0;
}

}  // namespace vks::cli
