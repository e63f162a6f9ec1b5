// vks_kv_key_study MODEL.gguf TEXT TOKENS OUT_DIR
//
// Dumps what a model's KV cache receives, for the quantized-cache study (docs/STREAMING.md,
// "Calibrated rotation"): the CPU reference forward pass (lib/ref) runs the first TOKENS tokens of
// TEXT with dense causal attention, and for every layer l writes OUT_DIR/l<l>.bin, per token the
// pre-RoPE q (n_head * head_dim floats), k and v (n_head_kv * head_dim each), little-endian f32.
// OUT_DIR/meta.txt gets the shapes and RoPE settings tools/kv_key_study.py needs. Slow by design
// (plain float math, one thread): ~0.06 s per token on a 135M model.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common/error.hpp"
#include "gguf/reader.hpp"
#include "model/description.hpp"
#include "ref/forward.hpp"
#include "study_text.hpp"

using namespace vks;

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: vks_kv_key_study MODEL.gguf TEXT TOKENS OUT_DIR\n");
        return 2;
    }
    try {
        const uint64_t n_tokens = std::strtoull(argv[3], nullptr, 10);
        const std::string out = argv[4];
        gguf::File file = gguf::File::open(argv[1]);
        const model::Description desc = model::Description::from_gguf(file);
        ref::Model model(desc, file);
        const std::vector<int32_t> ids = study::text_tokens(file, argv[2], n_tokens);
        const ref::Config& c = model.config();
        std::vector<std::FILE*> files;
        for (uint32_t l = 0; l < c.n_layer; ++l) {
            const std::string path = out + "/l" + std::to_string(l) + ".bin";
            std::FILE* f = std::fopen(path.c_str(), "wb");
            if (!f) fail(Status::io_error, "cannot write %s", path.c_str());
            files.push_back(f);
        }
        {
            const std::string path = out + "/meta.txt";
            std::FILE* m = std::fopen(path.c_str(), "w");
            if (!m) fail(Status::io_error, "cannot write %s", path.c_str());
            std::fprintf(m, "n_tokens %llu\nn_layer %u\nn_head %u\nn_head_kv %u\nhead_dim %u\nneox %d\n", (unsigned long long)n_tokens,
                         c.n_layer, c.attn.n_head, c.attn.n_head_kv, c.head_dim, int(c.attn.rope.style == kv::RopeStyle::neox));
            std::fprintf(m, "theta");
            for (uint32_t l = 0; l < c.n_layer; ++l)
                std::fprintf(m, " %g", (!c.local_layers.empty() && c.local_layers[l] ? c.attn_local : c.attn).rope.theta_base);
            std::fprintf(m, "\n");
            std::fclose(m);
        }
        const size_t Q = size_t(c.attn.n_head) * c.head_dim, KV = size_t(c.attn.n_head_kv) * c.head_dim;
        ref::Session s = ref::Session::causal(model);
        s.set_qkv_probe([&](uint32_t layer, uint64_t, const float* q, const float* k, const float* v) {
            std::fwrite(q, sizeof(float), Q, files[layer]);
            std::fwrite(k, sizeof(float), KV, files[layer]);
            std::fwrite(v, sizeof(float), KV, files[layer]);
        });
        for (uint64_t i = 0; i < ids.size(); ++i) {
            s.forward(ids[i]);
            if ((i + 1) % 100 == 0) std::fprintf(stderr, "kv_key_study: %llu / %zu tokens\n", (unsigned long long)(i + 1), ids.size());
        }
        for (std::FILE* f : files)
            if (std::fclose(f) != 0) fail(Status::io_error, "write error in %s", out.c_str());
    } catch (const Error& e) {
        std::fprintf(stderr, "vks_kv_key_study: %s\n", e.what());
        return 1;
    }
    return 0;
}
