// Writes the synthetic model the C API tests load (they see only the public header, so they
// cannot make one themselves). usage: make_capi_model OUT.gguf
#include <cstdio>

#include "model/synthetic.hpp"

int main(int argc, char** argv) try {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_capi_model OUT.gguf\n");
        return 2;
    }
    vks::model::SyntheticConfig c;  // llama, n_vocab 320, n_embd 256, 2 layers, context 4096
    c.weight_type = vks::quant::Type::Q8_0;
    c.seed = 5;
    vks::model::write_synthetic_model(argv[1], c);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "make_capi_model: %s\n", e.what());
    return 1;
}
