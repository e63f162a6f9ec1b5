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

std::string smollm2_path() {
    if (const char* env = std::getenv("VKS_TEST_MODEL"); env && *env) return exists(env) ? env : "";
    const char* name = "SmolLM2-135M-Instruct.Q4_1.gguf";
    std::string p = std::string("/root/.cache/vkstream/models/") + name;
    if (exists(p)) return p;
    if (const char* home = std::getenv("HOME"); home && *home) {
        p = std::string(home) + "/.cache/vkstream/models/" + name;
        if (exists(p)) return p;
    }
    return "";
}

tokenizer::Tokenizer load_tokenizer(const std::string& gguf_path) {
    gguf::File f = gguf::File::open(gguf_path);
    return tokenizer::Tokenizer::create(model::tokenizer_spec_from_gguf(f));
}

}  // namespace vks::test
