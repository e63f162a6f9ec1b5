// vks_attention_mass MODEL.gguf TEXT [TOKENS] [WINDOW]
//
// How much attention a model puts on the first tokens of a stream, per layer, measured with the
// CPU reference forward pass (lib/ref, plain float math) and its attention probe. For the
// streaming study (docs/STREAMING.md): StreamingLLM's explanation of why window attention
// collapses is that models dump a large share of attention on the first token ("attention
// sink"), so evicting it breaks the softmax. This prints, for queries past the first WINDOW
// tokens of the text (TOKENS tokens in all, default 320; WINDOW default 64), three streams'
// average attention probability, per layer and over all heads:
//   dense:  on stream token 0, and on tokens 1-3, with the whole history visible; and the share
//           of (query, head)s that put more than half / more than 90 % on token 0;
//   sink:   a 4 + (WINDOW-4) cache: on the 4 sinks (stream tokens 0-3);
//   window: a 0 + WINDOW cache: on view slot 0 (the oldest token left, at RoPE position 0),
//           i.e. whether an ordinary token at position 0 takes the sink's role.
// Slow by design (every weight dequantized to f32, one thread): ~0.1 s per token per stream on
// a 135M model.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common/error.hpp"
#include "gguf/reader.hpp"
#include "model/description.hpp"
#include "ref/forward.hpp"
#include "study_text.hpp"

using namespace vks;

namespace {

// Per layer: sum of the probability mass on chosen view slots, and the number of (query, head)s.
struct Mass {
    std::vector<double> first, next3;
    std::vector<uint64_t> n, over_half, over_90;  // (query, head)s with slot-0 mass > 0.5, > 0.9
    explicit Mass(uint32_t n_layer) : first(n_layer), next3(n_layer), n(n_layer), over_half(n_layer), over_90(n_layer) {}
};

// Streams `ids` through `s`, adding the mass of view slots 0 and 1-3 for queries t >= from.
Mass measure(ref::Session& s, const std::vector<int32_t>& ids, uint32_t n_layer, uint32_t n_head, uint64_t from) {
    Mass m(n_layer);
    s.set_attention_probe([&](uint32_t layer, uint64_t t, const double* probs, size_t n_visible) {
        if (t < from) return;
        for (uint32_t h = 0; h < n_head; ++h) {
            const double* p = probs + size_t(h) * n_visible;
            m.first[layer] += p[0];
            m.over_half[layer] += p[0] > 0.5;
            m.over_90[layer] += p[0] > 0.9;
            for (size_t j = 1; j < 4 && j < n_visible; ++j) m.next3[layer] += p[j];
            m.n[layer] += 1;
        }
    });
    for (int32_t id : ids) s.forward(id);
    return m;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: vks_attention_mass MODEL.gguf TEXT [TOKENS (320)] [WINDOW (64)]\n");
        return 2;
    }
    try {
        const uint64_t n_tokens = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 320;
        const uint32_t window = argc > 4 ? uint32_t(std::strtoul(argv[4], nullptr, 10)) : 64;
        if (window < 8 || n_tokens <= window) fail(Status::invalid_argument, "need WINDOW >= 8 and TOKENS > WINDOW");
        gguf::File file = gguf::File::open(argv[1]);
        const model::Description desc = model::Description::from_gguf(file);
        ref::Model model(desc, file);
        // The study's text prefix (the model adds a BOS only if its metadata asks for one).
        const std::vector<int32_t> ids = study::text_tokens(file, argv[2], n_tokens);

        const uint32_t L = desc.n_layer, H = model.config().attn.n_head;
        ref::Session dense = ref::Session::causal(model), sink(model, 4, window - 4), win(model, 0, window);
        std::fprintf(stderr, "attention_mass: %llu tokens, queries from %u on, %u layers x %u heads; dense...\n",
                     (unsigned long long)n_tokens, window, L, H);
        const Mass d = measure(dense, ids, L, H, window);
        std::fprintf(stderr, "attention_mass: sink 4+%u...\n", window - 4);
        const Mass s = measure(sink, ids, L, H, window);
        std::fprintf(stderr, "attention_mass: window 0+%u...\n", window);
        const Mass w = measure(win, ids, L, H, window);

        std::printf("first token %d; queries at stream positions %u..%llu; mean attention probability per layer\n",
                    ids[0], window, (unsigned long long)(n_tokens - 1));
        std::printf("| layer | dense: token 0 | dense: heads > 0.5 on token 0 | dense: heads > 0.9 | dense: tokens 1-3 "
                    "| sink 4+%u: the 4 sinks | window 0+%u: view slot 0 |\n",
                    window - 4, window);
        std::printf("|---:|---:|---:|---:|---:|---:|---:|\n");
        double td = 0, th = 0, t9 = 0, td3 = 0, ts = 0, tw = 0;
        uint32_t n_global = 0;
        for (uint32_t l = 0; l < L; ++l) {
            if (d.n[l] == 0 || s.n[l] == 0 || w.n[l] == 0) {  // a sliding-window (local) layer: not probed
                std::printf("| %u | local | | | | | |\n", l);
                continue;
            }
            ++n_global;
            const double a = d.first[l] / d.n[l], b = d.next3[l] / d.n[l];
            const double h = double(d.over_half[l]) / d.n[l], h9 = double(d.over_90[l]) / d.n[l];
            const double c = (s.first[l] + s.next3[l]) / s.n[l], e = w.first[l] / w.n[l];
            td += a, th += h, t9 += h9, td3 += b, ts += c, tw += e;
            std::printf("| %u | %.3f | %.1f %% | %.1f %% | %.3f | %.3f | %.3f |\n", l, a, 100 * h, 100 * h9, b, c, e);
        }
        const double G = n_global ? double(n_global) : 1.0;
        std::printf("| mean of %u global layers | %.3f | %.1f %% | %.1f %% | %.3f | %.3f | %.3f |\n", n_global, td / G,
                    100 * th / G, 100 * t9 / G, td3 / G, ts / G, tw / G);
    } catch (const Error& e) {
        std::fprintf(stderr, "vks_attention_mass: %s\n", e.what());
        return 1;
    }
    return 0;
}
