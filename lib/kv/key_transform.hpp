#pragma once
// Calibrated centring and scaling of a quantized, rotated K (issue 21; docs/STREAMING.md,
// "Calibrated rotation"). Before its Hadamard rotation and quantization, a K row x of kv head hk
// in layer l becomes
//     x' = (x - m) * a        (element-wise; m, a: head_dim floats of (l, hk))
// and a row read back is mapped home, k = m + x' / a, before RoPE (so m and a need not commute
// with it). The map is exact arithmetic around the quantizer; what it changes is the error:
//   * m, the mean key of the calibration tokens: pre-RoPE keys carry a large common part (in
//     SmolLM2 and Gemma 3 the per-channel means hold 0.5-9x the energy of the variation), which
//     a rotation spreads over every block, so every block's scale pays for it. Centred, the
//     blocks code only what varies from token to token.
//   * a, a per-channel weight that equalizes where quantization error lands against where the
//     queries look: with the rotation the error in x' is spread evenly, so the error of a score
//     q . k is ~ sum_c E[q_c^2] / a_c^2 * mean_c(a_c^2 var(k_c)), smallest for
//     a_c ~ E[q_c^2]^(1/4) / sd(k_c)^(1/2) (Cauchy-Schwarz). Statistics are averaged over each
//     RoPE pair, whose two channels the rotation by position mixes, and a is scaled to RMS 1.
// The statistics come from a short calibration text run through the model with an exact cache
// (engine::Session, at creation), its first token left out (a BOS or first token's key is an
// outlier: the attention sink).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kv/contract.h"

namespace vks::kv {

struct KeyTransform {
    uint32_t n_layer = 0, n_head_kv = 0, head_dim = 0;
    std::vector<float> values;  // (n_layer, n_head_kv, 2, head_dim): m, then a

    bool empty() const { return values.empty(); }
    const float* center(uint32_t layer, uint32_t hk) const { return values.data() + offset(layer, hk); }
    const float* scale(uint32_t layer, uint32_t hk) const { return values.data() + offset(layer, hk) + head_dim; }
    float* layer_values(uint32_t layer) { return values.data() + offset(layer, 0); }
    size_t offset(uint32_t layer, uint32_t hk) const { return (size_t(layer) * n_head_kv + hk) * 2 * head_dim; }

    // m = 0, a = 1 everywhere (what a cache holds before calibration).
    static KeyTransform identity(uint32_t n_layer, uint32_t n_head_kv, uint32_t head_dim);
    bool operator==(const KeyTransform&) const = default;
};

// One layer's (m, a) from its calibration rows, pre-RoPE as the cache receives them:
//   k: (n_tokens, n_head_kv, head_dim), q: (n_tokens, n_head, head_dim); tokens [first, n_tokens)
//   are used (needs at least 2). Writes (n_head_kv, 2, head_dim) floats to `out`. Channels
//   without spread (or queries without energy) get a = 1 before the RMS normalization; a is
//   clamped to [1/64, 64] after it. invalid_argument for bad shapes.
void estimate_key_transform(const float* k, const float* q, uint32_t n_tokens, uint32_t first, uint32_t n_head,
                            uint32_t n_head_kv, uint32_t head_dim, const RopeConfig& rope, float* out);

// x <- (x - m) * a and its inverse x <- m + x / a, over n elements (host and reference side;
// shaders/kv_quant.comp and the rotated attention forms compute the same).
void key_transform_apply(const float* m, const float* a, float* x, uint32_t n);
void key_transform_undo(const float* m, const float* a, float* x, uint32_t n);

}  // namespace vks::kv
