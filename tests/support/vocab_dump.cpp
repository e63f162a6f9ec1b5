#include "support/vocab_dump.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include "common/error.hpp"

namespace vks::test {

namespace {

std::string unhex(const std::string& hex, const std::string& path, size_t line) {
    if (hex.size() % 2) fail(Status::bad_format, "%s:%zu: odd-length hex string", path.c_str(), line);
    std::string out(hex.size() / 2, '\0');
    for (size_t i = 0; i < out.size(); ++i) {
        unsigned v = 0;
        if (sscanf(hex.c_str() + 2 * i, "%2x", &v) != 1)
            fail(Status::bad_format, "%s:%zu: bad hex string", path.c_str(), line);
        out[i] = char(v);
    }
    return out;
}

}  // namespace

tokenizer::Spec load_vocab_dump(const std::string& path) {
    std::ifstream in(path);
    if (!in) fail(Status::io_error, "cannot open vocab dump %s", path.c_str());
    tokenizer::Spec spec;
    std::string line;
    size_t n_line = 0;
    if (!std::getline(in, line) || line != "vks-vocab 1")
        fail(Status::bad_format, "%s: not a vks-vocab 1 dump", path.c_str());
    while (std::getline(in, line)) {
        ++n_line;
        std::istringstream ls(line);
        std::string key;
        ls >> key;
        if (key == "t") {
            int32_t type = 0;
            float score = 0;
            std::string hex;
            ls >> type >> score;
            ls >> hex;  // empty for an empty token text
            spec.token_types.push_back(type);
            spec.scores.push_back(score);
            spec.tokens.push_back(unhex(hex, path, n_line));
        } else if (key == "m") {
            std::string hex;
            ls >> hex;
            spec.merges.push_back(unhex(hex, path, n_line));
        } else if (key == "model") {
            ls >> spec.model;
        } else if (key == "pre") {
            ls >> spec.pre;
        } else if (key == "chat_template") {
            std::string hex;
            ls >> hex;
            spec.chat_template = unhex(hex, path, n_line);
        } else if (key == "bos") {
            ls >> spec.bos;
        } else if (key == "eos") {
            ls >> spec.eos;
        } else if (key == "eot") {
            ls >> spec.eot;
        } else if (key == "unk") {
            ls >> spec.unk;
        } else if (key == "pad") {
            ls >> spec.pad;
        } else if (key == "add_bos" || key == "add_eos" || key == "add_space_prefix") {
            int v = 0;
            ls >> v;
            (key == "add_bos" ? spec.add_bos : key == "add_eos" ? spec.add_eos : spec.add_space_prefix) = v != 0;
        } else if (key == "n_tokens" || key == "n_merges" || key.empty()) {
            // counts are implied by the records
        } else {
            fail(Status::bad_format, "%s:%zu: unknown record '%s'", path.c_str(), n_line, key.c_str());
        }
        if (ls.fail() && key != "t")
            fail(Status::bad_format, "%s:%zu: malformed '%s' record", path.c_str(), n_line, key.c_str());
    }
    return spec;
}

std::string smollm2_vocab_dump_path() {
    std::string path;
    if (const char* env = std::getenv("VKS_VOCAB_DUMP")) {
        path = env;
    } else if (const char* home = std::getenv("HOME")) {
        path = std::string(home) + "/.cache/vkstream/vocab/SmolLM2-135M-Instruct.Q4_1.vocab.txt";
    }
    struct stat st {};
    if (path.empty() || stat(path.c_str(), &st) != 0) return {};
    return path;
}

}  // namespace vks::test
