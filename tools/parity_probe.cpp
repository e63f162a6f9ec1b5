// vks_parity_probe: what tools/compare_logits.py and tools/compare_tokenizer.py ask of vkstream
// to compare it with an independent engine (llama.cpp), for any model the library can read.
//
//   vks_parity_probe tokenize MODEL.gguf CASES [--no-add-special] [--parse-special]
//       CASES: one string per line, written as the hex of its UTF-8 bytes (so any byte, newline
//       and NUL included, survives; an empty line is the empty string). Prints one line per
//       case: the token ids, space-separated. Uses only the GGUF tokenizer metadata (no device),
//       so it works for every architecture the tokenizer supports.
//
//   vks_parity_probe logits MODEL.gguf IDS OUT [--engine gpu|ref] [--batch N]
//       IDS: token ids, whitespace-separated. Feeds them once, teacher-forced, with dense
//       attention (no eviction: every token sees the whole prefix) and writes OUT, raw
//       little-endian float32 of shape (n_ids, n_vocab): row i holds the logits after ids[0..i].
//       --engine gpu (default): the Vulkan engine (engine::Session, n_sink 0, window = n_ids),
//         fed in chunks of --batch tokens (default 256: the prefill kernels; 1: the decode
//         kernels, one token per step).
//       --engine ref: the CPU reference forward (ref::Session::causal, plain f32 loops; slow:
//         ~0.1 s per token for a 135M model).
//       Prints one JSON line on stdout: engine, device, batch, n_tokens, n_vocab, seconds.
//
//   vks_parity_probe synthetic OUT.gguf
//       Writes the small random llama model of lib/model/synthetic.hpp (F32, byte-level BPE
//       vocabulary of 320 tokens), for the probe's own test (tests/cli/test_parity_probe.sh).
//
// Errors: one line on stderr and exit code 1 (2 for bad usage or an invalid argument).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "engine/model.hpp"
#include "engine/session.hpp"
#include "gguf/reader.hpp"
#include "model/description.hpp"
#include "model/synthetic.hpp"
#include "model/tokenizer_spec.hpp"
#include "ref/forward.hpp"
#include "tokenizer/tokenizer.hpp"

using namespace vks;

namespace {

const char* k_usage =
    "usage: vks_parity_probe tokenize MODEL.gguf CASES [--no-add-special] [--parse-special]\n"
    "       vks_parity_probe logits MODEL.gguf IDS OUT [--engine gpu|ref] [--batch N]\n"
    "       vks_parity_probe synthetic OUT.gguf\n";

std::string hex_to_bytes(const std::string& hex, size_t line) {
    if (hex.size() % 2 != 0) fail(Status::invalid_argument, "cases line %zu: odd number of hex digits", line);
    auto nibble = [&](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        fail(Status::invalid_argument, "cases line %zu: '%c' is not a hex digit", line, c);
    };
    std::string out(hex.size() / 2, '\0');
    for (size_t i = 0; i < out.size(); ++i) out[i] = char(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
    return out;
}

int cmd_tokenize(const std::vector<std::string>& a) {
    bool add_special = true, parse_special = false;
    std::vector<std::string> pos;
    for (const auto& s : a) {
        if (s == "--no-add-special") add_special = false;
        else if (s == "--parse-special") parse_special = true;
        else if (s.size() > 1 && s[0] == '-') fail(Status::invalid_argument, "unknown option '%s'", s.c_str());
        else pos.push_back(s);
    }
    if (pos.size() != 2) fail(Status::invalid_argument, "tokenize wants MODEL.gguf CASES");
    gguf::File file = gguf::File::open(pos[0]);
    auto tok = tokenizer::Tokenizer::create(model::tokenizer_spec_from_gguf(file));
    std::ifstream in(pos[1]);
    if (!in) fail(Status::io_error, "cannot read '%s'", pos[1].c_str());
    std::string line;
    for (size_t n = 1; std::getline(in, line); ++n) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const std::vector<int32_t> ids = tok.encode(hex_to_bytes(line, n), add_special, parse_special);
        for (size_t i = 0; i < ids.size(); ++i) std::printf(i ? " %d" : "%d", ids[i]);
        std::printf("\n");
    }
    return 0;
}

std::vector<int32_t> read_ids(const std::string& path) {
    std::ifstream in(path);
    if (!in) fail(Status::io_error, "cannot read '%s'", path.c_str());
    std::vector<int32_t> ids;
    long long v = 0;
    while (in >> v) {
        if (v < INT32_MIN || v > INT32_MAX) fail(Status::invalid_argument, "token id %lld out of range", v);
        ids.push_back(int32_t(v));
    }
    if (!in.eof()) fail(Status::invalid_argument, "'%s': not a list of integers", path.c_str());
    if (ids.empty()) fail(Status::invalid_argument, "'%s' holds no token ids", path.c_str());
    return ids;
}

int cmd_logits(const std::vector<std::string>& a) {
    std::string engine = "gpu";
    uint32_t batch = 256;
    std::vector<std::string> pos;
    for (size_t i = 0; i < a.size(); ++i) {
        if ((a[i] == "--engine" || a[i] == "--batch") && i + 1 >= a.size())
            fail(Status::invalid_argument, "%s needs a value", a[i].c_str());
        if (a[i] == "--engine") {
            engine = a[++i];
            if (engine != "gpu" && engine != "ref") fail(Status::invalid_argument, "--engine: gpu or ref, not '%s'", engine.c_str());
        } else if (a[i] == "--batch") {
            char* end = nullptr;
            long v = std::strtol(a[++i].c_str(), &end, 10);
            if (*end != '\0' || v < 1 || v > 65536) fail(Status::invalid_argument, "--batch: bad value '%s'", a[i].c_str());
            batch = uint32_t(v);
        } else if (a[i].size() > 1 && a[i][0] == '-') {
            fail(Status::invalid_argument, "unknown option '%s'", a[i].c_str());
        } else {
            pos.push_back(a[i]);
        }
    }
    if (pos.size() != 3) fail(Status::invalid_argument, "logits wants MODEL.gguf IDS OUT");
    const std::vector<int32_t> ids = read_ids(pos[1]);
    // Opened once the ids are known to fit the vocabulary (check_ids), so bad input leaves no file.
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> out_guard(nullptr, std::fclose);
    std::FILE* out = nullptr;
    auto open_out = [&] {
        out = std::fopen(pos[2].c_str(), "wb");
        if (!out) fail(Status::io_error, "cannot write '%s'", pos[2].c_str());
        out_guard.reset(out);
    };
    auto write_rows = [&](const float* rows, size_t n_floats) {
        if (std::fwrite(rows, sizeof(float), n_floats, out) != n_floats) fail(Status::io_error, "write to '%s' failed", pos[2].c_str());
    };

    auto check_ids = [&](uint32_t n) {
        for (int32_t id : ids)
            if (id < 0 || uint32_t(id) >= n) fail(Status::invalid_argument, "token id %d is outside the vocabulary [0, %u)", id, n);
        open_out();
    };

    const auto t0 = std::chrono::steady_clock::now();
    std::string device = "CPU reference (lib/ref)";
    uint32_t n_vocab = 0;
    if (engine == "gpu") {
        auto model = engine::Model::load(pos[0]);
        n_vocab = model->desc().n_vocab;
        check_ids(n_vocab);
        device = model->device().caps().name;
        engine::SessionConfig sc;
        sc.n_sink = 0;
        sc.n_window = uint32_t(ids.size());  // dense: every token sees the whole prefix
        sc.dense = true;
        sc.n_batch = batch;
        engine::Session s(model, sc);
        std::vector<float> rows;  // (chunk, n_vocab)
        for (size_t done = 0; done < ids.size(); done += batch) {
            const size_t n = std::min<size_t>(batch, ids.size() - done);
            rows.clear();
            s.feed(std::span<const int32_t>(ids).subspan(done, n), &rows);
            if (rows.size() != n * n_vocab) fail(Status::internal, "engine gave %zu logits for %zu tokens", rows.size(), n);
            write_rows(rows.data(), rows.size());
        }
    } else {
        gguf::File file = gguf::File::open(pos[0]);
        const model::Description desc = model::Description::from_gguf(file);
        n_vocab = desc.n_vocab;
        check_ids(n_vocab);
        ref::Model model(desc, file);
        batch = 1;
        ref::Session s = ref::Session::causal(model);
        for (size_t i = 0; i < ids.size(); ++i) {
            const std::vector<float> row = s.forward(ids[i]);
            write_rows(row.data(), row.size());
            if ((i + 1) % 64 == 0) std::fprintf(stderr, "vks_parity_probe: ref %zu/%zu tokens\n", i + 1, ids.size());
        }
    }
    if (std::fflush(out) != 0) fail(Status::io_error, "write to '%s' failed", pos[2].c_str());
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (char& c : device)
        if (c == '"' || c == '\\' || (unsigned char)c < 0x20) c = '_';  // a plain JSON string
    std::printf("{\"engine\": \"%s\", \"device\": \"%s\", \"batch\": %u, \"n_tokens\": %zu, \"n_vocab\": %u, \"seconds\": %.2f}\n",
                engine.c_str(), device.c_str(), batch, ids.size(), n_vocab, secs);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "%s", k_usage);
        return 2;
    }
    const std::string cmd = argv[1];
    const std::vector<std::string> rest(argv + 2, argv + argc);
    try {
        if (cmd == "tokenize") return cmd_tokenize(rest);
        if (cmd == "logits") return cmd_logits(rest);
        if (cmd == "synthetic") {
            if (rest.size() != 1) fail(Status::invalid_argument, "synthetic wants OUT.gguf");
            model::write_synthetic_model(rest[0], model::SyntheticConfig{});
            return 0;
        }
        std::fprintf(stderr, "vks_parity_probe: unknown command '%s' (tokenize, logits or synthetic)\n", cmd.c_str());
        return 2;
    } catch (const Error& e) {
        std::fprintf(stderr, "vks_parity_probe: %s: %s\n", status_name(e.status()), e.what());
        return e.status() == Status::invalid_argument ? 2 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "vks_parity_probe: %s\n", e.what());
        return 1;
    }
}
