// Writes the seed corpus for fuzz_gguf: small valid files of every shape the reader handles,
// plus a few damaged ones. Run: gen_gguf_corpus tests/fuzz/corpus/gguf
// (file names have no .gguf suffix so the repository's *.gguf ignore rule does not hide them).
#include <cstdio>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "gguf/writer.hpp"

using namespace vks::gguf;

namespace {

std::vector<uint8_t> bytes_of(size_t n, uint8_t seed) {
    std::vector<uint8_t> b(n);
    for (size_t i = 0; i < n; ++i) b[i] = uint8_t(seed + i * 13u);
    return b;
}

Writer model(uint32_t version, uint32_t alignment) {
    Writer w(version);
    if (alignment != 32) w.set_alignment(alignment);
    w.add_string("general.architecture", "llama");
    w.add_string("general.name", "seed");
    w.add_uint32("llama.context_length", 128);
    w.add_uint32("llama.block_count", 1);
    w.add_float32("llama.rope.freq_base", 10000.f);
    std::vector<std::string> tokens = {"<s>", "</s>", "a", "\xc4\xa0" "b"};
    std::vector<float> scores = {0, -1, -2, -3};
    std::vector<int32_t> types = {3, 3, 1, 1};
    w.add_string_array("tokenizer.ggml.tokens", tokens);
    w.add_array("tokenizer.ggml.scores", std::span<const float>(scores));
    w.add_array("tokenizer.ggml.token_type", std::span<const int32_t>(types));
    w.add_tensor("token_embd.weight", 8 /*Q8_0*/, {32, 4}, bytes_of(4 * 34, 1));
    w.add_tensor("blk.0.attn_norm.weight", 0 /*F32*/, {32}, bytes_of(128, 2));
    w.add_tensor("blk.0.ffn_up.weight", 12 /*Q4_K*/, {256, 1}, bytes_of(144, 3));
    w.add_tensor("output.weight", 1 /*F16*/, {4, 2, 1, 1}, bytes_of(16, 4));
    return w;
}

Writer all_values() {
    Writer w;
    w.add_uint8("a", 1);
    w.add_int8("b", -1);
    w.add_uint16("c", 2);
    w.add_int16("d", -2);
    w.add_uint32("e", 3);
    w.add_int32("f", -3);
    w.add_float32("g", 0.5f);
    w.add_bool("h", true);
    w.add_string("i", "str");
    w.add_uint64("j", 4);
    w.add_int64("k", -4);
    w.add_float64("l", 0.25);
    std::vector<uint16_t> u16 = {1, 2, 3};
    std::vector<double> f64 = {1.5, -2.5};
    std::vector<std::string> strs = {"x", "", "yz"};
    w.add_array("m", std::span<const uint16_t>(u16));
    w.add_array("n", std::span<const double>(f64));
    w.add_string_array("o", strs);
    w.add_bool_array("p", {true, false});
    return w;
}

void save(const std::string& dir, const char* name, const std::vector<uint8_t>& b) {
    std::string path = dir + "/" + name;
    std::FILE* fp = std::fopen(path.c_str(), "wb");
    if (!fp || std::fwrite(b.data(), 1, b.size(), fp) != b.size()) vks::fail(vks::Status::io_error, "cannot write %s", path.c_str());
    std::fclose(fp);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: gen_gguf_corpus OUT_DIR\n");
        return 2;
    }
    std::string dir = argv[1];
    try {
        save(dir, "valid_model_v3", model(3, 32).to_bytes());
        save(dir, "valid_model_v2", model(2, 32).to_bytes());
        save(dir, "valid_model_align64", model(3, 64).to_bytes());
        save(dir, "valid_all_values", all_values().to_bytes());
        save(dir, "valid_empty", Writer().to_bytes());

        std::vector<uint8_t> good = model(3, 32).to_bytes();
        std::vector<uint8_t> b(good.begin(), good.begin() + good.size() / 2);
        save(dir, "bad_truncated", b);
        b = good;
        b[0] = 'X';
        save(dir, "bad_magic", b);
        Writer overlap = model(3, 32);
        overlap.override_tensor_offset(1, 0);
        save(dir, "bad_overlap", overlap.to_bytes());
        Writer wrong;
        wrong.add_string("general.alignment", "32");
        save(dir, "bad_alignment_type", wrong.to_bytes());
        Writer dims;
        dims.add_tensor("t", 0, {1, 1, 1, 1, 1}, bytes_of(4, 0));
        save(dir, "bad_n_dims", dims.to_bytes());
    } catch (const vks::Error& e) {
        std::fprintf(stderr, "gen_gguf_corpus: %s\n", e.what());
        return 1;
    }
    return 0;
}
