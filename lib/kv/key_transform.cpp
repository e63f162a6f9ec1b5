#include "kv/key_transform.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"

namespace vks::kv {

KeyTransform KeyTransform::identity(uint32_t n_layer, uint32_t n_head_kv, uint32_t head_dim) {
    KeyTransform t;
    t.n_layer = n_layer, t.n_head_kv = n_head_kv, t.head_dim = head_dim;
    t.values.assign(size_t(n_layer) * n_head_kv * 2 * head_dim, 0.0f);
    for (uint32_t l = 0; l < n_layer; ++l)
        for (uint32_t h = 0; h < n_head_kv; ++h) std::fill_n(t.values.begin() + t.offset(l, h) + head_dim, head_dim, 1.0f);
    return t;
}

namespace {

// The channel RoPE pairs with c (c itself in an un-rotated tail).
uint32_t partner(uint32_t c, uint32_t n_rot, RopeStyle style) {
    if (c >= n_rot) return c;
    if (style == RopeStyle::normal) return c ^ 1u;
    const uint32_t half = n_rot / 2;
    return c < half ? c + half : c - half;
}

}  // namespace

void estimate_key_transform(const float* k, const float* q, uint32_t n_tokens, uint32_t first, uint32_t n_head,
                            uint32_t n_head_kv, uint32_t head_dim, const RopeConfig& rope, float* out) {
    if (n_head_kv == 0 || head_dim == 0 || n_head % n_head_kv != 0 || first + 2 > n_tokens)
        fail(Status::invalid_argument, "estimate_key_transform: %u tokens from %u, %u heads over %u kv heads of %u",
             n_tokens, first, n_head, n_head_kv, head_dim);
    const uint32_t n_rot = rope.rotated_dims(head_dim), group = n_head / n_head_kv;
    const double n = double(n_tokens - first);
    std::vector<double> mean(head_dim), var(head_dim), eq(head_dim);
    for (uint32_t hk = 0; hk < n_head_kv; ++hk) {
        std::fill(mean.begin(), mean.end(), 0.0);
        std::fill(var.begin(), var.end(), 0.0);
        std::fill(eq.begin(), eq.end(), 0.0);
        for (uint32_t t = first; t < n_tokens; ++t)
            for (uint32_t c = 0; c < head_dim; ++c) mean[c] += k[(size_t(t) * n_head_kv + hk) * head_dim + c];
        for (double& m : mean) m /= n;
        for (uint32_t t = first; t < n_tokens; ++t) {
            for (uint32_t c = 0; c < head_dim; ++c) {
                const double d = k[(size_t(t) * n_head_kv + hk) * head_dim + c] - mean[c];
                var[c] += d * d;
            }
            for (uint32_t h = hk * group; h < (hk + 1) * group; ++h)
                for (uint32_t c = 0; c < head_dim; ++c) {
                    const double x = q[(size_t(t) * n_head + h) * head_dim + c];
                    eq[c] += x * x;
                }
        }
        float* m_out = out + size_t(hk) * 2 * head_dim;
        float* a_out = m_out + head_dim;
        double ss = 0;
        uint32_t n_set = 0;
        for (uint32_t c = 0; c < head_dim; ++c) {
            const uint32_t o = partner(c, n_rot, rope.style);
            const double v = 0.5 * (var[c] + var[o]) / n, e = 0.5 * (eq[c] + eq[o]) / (n * group);
            double a = 1.0;
            if (v > 1e-30 && e > 1e-30 && std::isfinite(v) && std::isfinite(e)) a = std::pow(e, 0.25) / std::pow(v, 0.25);
            m_out[c] = std::isfinite(mean[c]) ? float(mean[c]) : 0.0f;  // (non-finite calibration: no centring)
            a_out[c] = float(a);
            ss += a * a;
            ++n_set;
        }
        const double rms = std::sqrt(ss / std::max<uint32_t>(n_set, 1));
        for (uint32_t c = 0; c < head_dim; ++c) {
            const double a = rms > 0 && std::isfinite(rms) ? a_out[c] / rms : 1.0;
            a_out[c] = float(std::clamp(a, 1.0 / 64, 64.0));
        }
    }
}

void key_transform_apply(const float* m, const float* a, float* x, uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) x[i] = (x[i] - m[i]) * a[i];
}

void key_transform_undo(const float* m, const float* a, float* x, uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) x[i] = m[i] + x[i] / a[i];
}

}  // namespace vks::kv
