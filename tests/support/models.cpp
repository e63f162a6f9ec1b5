#include "support/models.hpp"

#include <cstdlib>
#include <sys/stat.h>

#include "gguf/reader.hpp"
#include "model/tokenizer_spec.hpp"

namespace vks::test {

namespace {
bool exists(const std::string& p) {
    struct stat st;
    return !p.empty() && stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
}  // namespace

namespace {
std::string cached_model(const char* env_name, const char* name) {
    if (const char* env = std::getenv(env_name); env && *env) return exists(env) ? env : "";
    std::string p = std::string("/root/.cache/vkstream/models/") + name;
    if (exists(p)) return p;
    if (const char* home = std::getenv("HOME"); home && *home) {
        p = std::string(home) + "/.cache/vkstream/models/" + name;
        if (exists(p)) return p;
    }
    return "";
}
}  // namespace

std::string smollm2_path() { return cached_model("VKS_TEST_MODEL", "SmolLM2-135M-Instruct.Q4_1.gguf"); }

std::string gemma3_path() { return cached_model("VKS_TEST_GEMMA3", "gemma-3-270m-q4_k_m.gguf"); }

tokenizer::Tokenizer load_tokenizer(const std::string& gguf_path) {
    gguf::File f = gguf::File::open(gguf_path);
    return tokenizer::Tokenizer::create(model::tokenizer_spec_from_gguf(f));
}

}  // namespace vks::test
