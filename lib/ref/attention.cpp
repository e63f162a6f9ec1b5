#include "ref/attention.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/error.hpp"

namespace vks::ref {

void AttentionParams::validate() const {
    if (n_head == 0 || n_head_kv == 0 || head_dim == 0)
        fail(Status::invalid_argument, "ref attention: n_head (%u), n_head_kv (%u), head_dim (%u) must be > 0",
             n_head, n_head_kv, head_dim);
    if (n_head % n_head_kv != 0)
        fail(Status::invalid_argument, "ref attention: n_head %u is not a multiple of n_head_kv %u", n_head,
             n_head_kv);
    rope_check(head_dim, rope);
}

namespace {

// Attention of one query over an explicit list of visible stream tokens.
//   tokens[j]: stream index of visible token j, rotated at positions[j]; q rotated at q_pos.
void attend(const float* q, const float* k_hist, const float* v_hist, const std::vector<uint64_t>& tokens,
            const std::vector<uint64_t>& positions, uint64_t q_pos, const AttentionParams& p, float* out) {
    const uint32_t d = p.head_dim;
    const uint32_t group = p.n_head / p.n_head_kv;  // query heads per kv head
    const size_t kv_stride = size_t(p.n_head_kv) * d;  // one token's K (or V) row
    const double scale = p.scale != 0.0f ? double(p.scale) : 1.0 / std::sqrt(double(d));
    const size_t n = tokens.size();

    // Rotated keys of the visible tokens: (n, n_head_kv, head_dim).
    std::vector<float> k_rot(n * kv_stride);
    for (size_t j = 0; j < n; ++j) {
        std::copy_n(k_hist + tokens[j] * kv_stride, kv_stride, k_rot.begin() + j * kv_stride);
        rope_apply_heads(k_rot.data() + j * kv_stride, p.n_head_kv, positions[j], d, p.rope);
    }
    std::vector<float> q_rot(q, q + size_t(p.n_head) * d);  // (n_head, head_dim)
    rope_apply_heads(q_rot.data(), p.n_head, q_pos, d, p.rope);

    std::vector<double> scores(n);
    for (uint32_t h = 0; h < p.n_head; ++h) {
        const uint32_t hk = h / group;
        const float* qh = q_rot.data() + size_t(h) * d;
        double m = -INFINITY;
        for (size_t j = 0; j < n; ++j) {
            const float* kj = k_rot.data() + j * kv_stride + size_t(hk) * d;
            double dot = 0.0;
            for (uint32_t i = 0; i < d; ++i) dot += double(qh[i]) * double(kj[i]);
            scores[j] = dot * scale;
            m = std::max(m, scores[j]);
        }
        // The learned sink logit joins the max and the denominator, but has no value row.
        const bool has_sink = p.sink_logits != nullptr;
        if (has_sink) m = std::max(m, double(p.sink_logits[h]));
        double denom = has_sink ? std::exp(double(p.sink_logits[h]) - m) : 0.0;
        for (size_t j = 0; j < n; ++j) {
            scores[j] = std::exp(scores[j] - m);
            denom += scores[j];
        }
        if (p.probs_out)
            for (size_t j = 0; j < n; ++j) p.probs_out[size_t(h) * n + j] = scores[j] / denom;
        float* oh = out + size_t(h) * d;
        for (uint32_t i = 0; i < d; ++i) {
            double acc = 0.0;
            for (size_t j = 0; j < n; ++j) acc += scores[j] * double(v_hist[tokens[j] * kv_stride + size_t(hk) * d + i]);
            oh[i] = float(acc / denom);
        }
    }
}

}  // namespace

void attention_stream(const float* q, const float* k_hist, const float* v_hist, uint64_t t, uint32_t n_sink,
                      uint32_t n_window, const AttentionParams& params, float* out) {
    params.validate();
    if (n_window == 0) fail(Status::invalid_argument, "ref::attention_stream: n_window must be >= 1");
    // The view, from the definition: sinks first, then the most recent n_window tokens after them.
    std::vector<uint64_t> tokens;
    for (uint64_t s = 0; s <= t && s < n_sink; ++s) tokens.push_back(s);
    if (t >= n_sink) {
        const uint64_t n_after_sinks = t - n_sink + 1;
        const uint64_t first = n_after_sinks > n_window ? t + 1 - n_window : uint64_t(n_sink);
        for (uint64_t s = first; s <= t; ++s) tokens.push_back(s);
    }
    std::vector<uint64_t> positions(tokens.size());
    for (size_t j = 0; j < tokens.size(); ++j) positions[j] = j;  // cache-relative positions
    attend(q, k_hist, v_hist, tokens, positions, tokens.size() - 1, params, out);
}

void attention_causal(const float* q, const float* k_hist, const float* v_hist, uint64_t t,
                      const AttentionParams& params, float* out) {
    params.validate();
    std::vector<uint64_t> tokens(t + 1);
    for (uint64_t s = 0; s <= t; ++s) tokens[s] = s;
    attend(q, k_hist, v_hist, tokens, tokens, t, params, out);
}

}  // namespace vks::ref
