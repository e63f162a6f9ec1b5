#include "ref/forward.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"
#include "quant/quant.hpp"
#include "ref/glu.hpp"
#include "ref/kv_quant.hpp"
#include "ref/rms_norm.hpp"
#include "ref/rope.hpp"

namespace vks::ref {

namespace {

// out (n_rows) = W (n_rows, n_cols) . x (n_cols). Eight independent float accumulators so the
// compiler can vectorize without reassociation flags; this is most of the forward's time.
void matvec(const float* W, const float* x, float* out, size_t n_rows, size_t n_cols) {
    for (size_t r = 0; r < n_rows; ++r) {
        const float* w = W + r * n_cols;
        float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        size_t i = 0;
        for (; i + 8 <= n_cols; i += 8)
            for (size_t j = 0; j < 8; ++j) acc[j] += w[i + j] * x[i + j];
        float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        for (; i < n_cols; ++i) s += w[i] * x[i];
        out[r] = s;
    }
}

void add_into(float* x, const float* y, size_t n) {
    for (size_t i = 0; i < n; ++i) x[i] += y[i];
}

std::vector<float> maybe(const gguf::TensorInfo* t) { return t ? dequantize_tensor(*t) : std::vector<float>{}; }

}  // namespace

std::vector<float> dequantize_tensor(const gguf::TensorInfo& t) {
    const quant::TypeInfo* ti = quant::find_type(t.type);
    if (!ti)
        fail(Status::unsupported, "ref: tensor '%.*s' has unsupported type %s", int(t.name.size()), t.name.data(),
             gguf::tensor_type_name(t.type));
    const int64_t n_cols = t.ne[0];
    const int64_t n_rows = t.n_elements() / n_cols;
    const size_t row_bytes = quant::row_bytes(ti->type, n_cols);
    if (row_bytes * size_t(n_rows) != t.n_bytes)
        fail(Status::bad_format, "ref: tensor '%.*s' holds %llu bytes, expected %zu", int(t.name.size()),
             t.name.data(), (unsigned long long)t.n_bytes, row_bytes * size_t(n_rows));
    std::vector<float> out(size_t(t.n_elements()));
    for (int64_t r = 0; r < n_rows; ++r)
        quant::dequantize_row(ti->type, t.data + size_t(r) * row_bytes, out.data() + size_t(r * n_cols), n_cols);
    return out;
}

Config Config::from(const model::Description& d) {
    Config c;
    c.arch = d.arch;
    c.n_vocab = d.n_vocab;
    c.n_embd = d.n_embd;
    c.n_layer = d.n_layer;
    c.n_head = d.n_head;
    c.n_head_kv = d.n_head_kv;
    c.head_dim = d.head_dim;
    c.n_ff = d.n_ff;
    c.rms_eps = d.rms_eps;
    c.final_logit_softcap = d.final_logit_softcap;
    c.has_qkv_bias = d.has_qkv_bias;
    c.attn.n_head = d.n_head;
    c.attn.n_head_kv = d.n_head_kv;
    c.attn.head_dim = d.head_dim;
    c.attn.scale = d.attn_scale;
    c.attn.rope = d.rope;
    c.attn.validate();
    c.has_qk_norm = d.has_qk_norm;
    c.has_post_norms = d.has_post_norms;
    c.activation = d.activation;
    c.embd_scale = d.embd_scale;
    c.sliding_window = d.sliding_window;
    c.local_layers.resize(d.n_layer);
    for (uint32_t il = 0; il < d.n_layer; ++il) c.local_layers[il] = d.layer_is_local(il);
    // Local layers: their own base and no position scaling.
    c.attn_local = c.attn;
    c.attn_local.rope = d.rope_local;
    return c;
}

Model::Model(const model::Description& d, const gguf::File& file) {
    (void)file;  // the Description's tensor infos point into it
    config_ = Config::from(d);
    Weights& w = weights_;
    w.token_embd = dequantize_tensor(*d.token_embd);
    w.output_norm = dequantize_tensor(*d.output_norm);
    if (!d.tied_output) w.output = dequantize_tensor(*d.output);
    w.layers.resize(d.n_layer);
    for (uint32_t il = 0; il < d.n_layer; ++il) {
        const model::LayerTensors& t = d.layers[il];
        LayerWeights& L = w.layers[il];
        L.attn_norm = dequantize_tensor(*t.attn_norm);
        L.wq = dequantize_tensor(*t.attn_q);
        L.wk = dequantize_tensor(*t.attn_k);
        L.wv = dequantize_tensor(*t.attn_v);
        L.wo = dequantize_tensor(*t.attn_output);
        L.bq = maybe(t.attn_q_bias);
        L.bk = maybe(t.attn_k_bias);
        L.bv = maybe(t.attn_v_bias);
        L.q_norm = maybe(t.attn_q_norm);
        L.k_norm = maybe(t.attn_k_norm);
        L.post_attn_norm = maybe(t.post_attention_norm);
        L.post_ffw_norm = maybe(t.post_ffw_norm);
        L.ffn_norm = dequantize_tensor(*t.ffn_norm);
        L.w_gate = dequantize_tensor(*t.ffn_gate);
        L.w_up = dequantize_tensor(*t.ffn_up);
        L.w_down = dequantize_tensor(*t.ffn_down);
    }
}

Session::Session(const Model& model, uint32_t n_sink, uint32_t n_window, bool causal)
    : model_(&model), n_sink_(n_sink), n_window_(n_window), causal_(causal) {
    if (!causal && n_window == 0) fail(Status::invalid_argument, "ref::Session: n_window must be >= 1");
    const Config& c = model.config();
    k_hist_.resize(c.n_layer);
    v_hist_.resize(c.n_layer);
    x_.resize(c.n_embd);
    xb_.resize(c.n_embd);
    o_.resize(c.n_embd);
    q_.resize(size_t(c.n_head) * c.head_dim);
    att_.resize(size_t(c.n_head) * c.head_dim);
    k_.resize(size_t(c.n_head_kv) * c.head_dim);
    v_.resize(size_t(c.n_head_kv) * c.head_dim);
    gate_.resize(c.n_ff);
    up_.resize(c.n_ff);
    kr_.resize(c.head_dim);
}

Session::Session(const Model& model, uint32_t n_sink, uint32_t n_window) : Session(model, n_sink, n_window, false) {}

Session Session::causal(const Model& model) { return Session(model, 0, 0, true); }

void Session::set_cache_types(const kv::CacheTypes& types) {
    types.validate(model_->config().head_dim);
    if (n_tokens_ != 0) fail(Status::invalid_argument, "ref::Session: cache types are set before the first token");
    cache_types_ = types;
}

std::vector<float> Session::forward(int32_t token) {
    const Config& c = model_->config();
    const Weights& w = model_->weights();
    if (token < 0 || uint32_t(token) >= c.n_vocab)
        fail(Status::invalid_argument, "ref::Session: token id %d out of range [0, %u)", token, c.n_vocab);
    const size_t E = c.n_embd, Q = q_.size(), KV = k_.size(), F = c.n_ff;
    const uint64_t t = n_tokens_;

    // x (n_embd) = embedding row of the token
    std::copy_n(w.token_embd.data() + size_t(token) * E, E, x_.data());
    if (c.embd_scale != 1.0f)
        for (float& v : x_) v *= c.embd_scale;

    for (uint32_t il = 0; il < c.n_layer; ++il) {
        const LayerWeights& L = w.layers[il];
        // ---- attention block: x += Wo . attn(norm(x)) ----
        rms_norm(x_.data(), L.attn_norm.data(), xb_.data(), 1, E, c.rms_eps);
        matvec(L.wq.data(), xb_.data(), q_.data(), Q, E);
        matvec(L.wk.data(), xb_.data(), k_.data(), KV, E);
        matvec(L.wv.data(), xb_.data(), v_.data(), KV, E);
        if (c.has_qkv_bias) {
            add_into(q_.data(), L.bq.data(), Q);
            add_into(k_.data(), L.bk.data(), KV);
            add_into(v_.data(), L.bv.data(), KV);
        }
        if (c.has_qk_norm) {  // per-head RMSNorm of q and k, before RoPE
            rms_norm(q_.data(), L.q_norm.data(), q_.data(), c.n_head, c.head_dim, c.rms_eps);
            rms_norm(k_.data(), L.k_norm.data(), k_.data(), c.n_head_kv, c.head_dim, c.rms_eps);
        }
        if (qkv_probe_) qkv_probe_(il, t, q_.data(), k_.data(), v_.data());
        // History stays un-rotated: RoPE positions depend on the view, applied inside attention.
        if (cache_types_.quantized()) {
            const bool exact_sink = cache_types_.f16_sinks && t < n_sink_ && !causal_;
            for (uint32_t h = 0; h < c.n_head_kv; ++h)
                for (auto [row, type] : {std::pair{k_.data(), cache_types_.k}, std::pair{v_.data(), cache_types_.v}}) {
                    float* x = row + size_t(h) * c.head_dim;
                    const bool keyed = row == k_.data() && !key_transform_.empty();
                    // (f16 rows stay f32 here, as the f16 cache's error is left to the tolerances)
                    if (type != quant::Type::F16 && !exact_sink)
                        kv_roundtrip_row(type, c.head_dim, cache_types_.hadamard, x, x,
                                         keyed ? key_transform_.center(il, h) : nullptr,
                                         keyed ? key_transform_.scale(il, h) : nullptr);
                }
        }
        k_hist_[il].insert(k_hist_[il].end(), k_.begin(), k_.end());
        v_hist_[il].insert(v_hist_[il].end(), v_.begin(), v_.end());
        if (c.local_layers[il])
            attend_local(il, att_.data());
        else {
            AttentionParams ap = c.attn;
            // The view's size: the whole stream (causal), or sinks + window.
            const uint64_t n_vis = causal_ ? t + 1
                                 : std::min<uint64_t>(t + 1, n_sink_) +
                                       std::min<uint64_t>(t + 1 - std::min<uint64_t>(t + 1, n_sink_), n_window_);
            if (probe_) {
                probs_.assign(size_t(c.attn.n_head) * n_vis, 0.0);
                ap.probs_out = probs_.data();
            }
            if (causal_)
                attention_causal(q_.data(), k_hist_[il].data(), v_hist_[il].data(), t, ap, att_.data());
            else
                attention_stream(q_.data(), k_hist_[il].data(), v_hist_[il].data(), t, n_sink_, n_window_, ap,
                                 att_.data());
            if (probe_) probe_(il, t, probs_.data(), size_t(n_vis));
        }
        matvec(L.wo.data(), att_.data(), o_.data(), E, Q);
        if (c.has_post_norms) rms_norm(o_.data(), L.post_attn_norm.data(), o_.data(), 1, E, c.rms_eps);
        add_into(x_.data(), o_.data(), E);

        // ---- feed-forward block: x += W_down . (act(W_gate . norm(x)) * (W_up . norm(x))) ----
        rms_norm(x_.data(), L.ffn_norm.data(), xb_.data(), 1, E, c.rms_eps);
        matvec(L.w_gate.data(), xb_.data(), gate_.data(), F, E);
        matvec(L.w_up.data(), xb_.data(), up_.data(), F, E);
        if (c.activation == model::Activation::gelu_tanh)
            gelu_glu(gate_.data(), up_.data(), gate_.data(), F);
        else
            silu_glu(gate_.data(), up_.data(), gate_.data(), F);
        matvec(L.w_down.data(), gate_.data(), o_.data(), E, F);
        if (c.has_post_norms) rms_norm(o_.data(), L.post_ffw_norm.data(), o_.data(), 1, E, c.rms_eps);
        add_into(x_.data(), o_.data(), E);
    }

    rms_norm(x_.data(), w.output_norm.data(), xb_.data(), 1, E, c.rms_eps);
    std::vector<float> logits(c.n_vocab);  // (n_vocab)
    matvec(w.output_matrix().data(), xb_.data(), logits.data(), c.n_vocab, E);
    if (c.final_logit_softcap > 0.0f)
        for (float& l : logits) l = c.final_logit_softcap * std::tanh(l / c.final_logit_softcap);
    ++n_tokens_;
    return logits;
}

// Gemma 3 sliding-window layer: the layer's view (see forward.hpp) restricted to the last
// sliding_window stream tokens; RoPE with the local parameters at the view's positions.
void Session::attend_local(uint32_t il, float* out) {
    const Config& c = model_->config();
    const AttentionParams& p = c.attn_local;
    const uint64_t t = n_tokens_;
    const uint32_t hd = c.head_dim;
    const size_t kv_dim = size_t(c.n_head_kv) * hd;

    // The view: (stream index, RoPE position) of every visible token, in stream order.
    std::vector<std::pair<uint64_t, uint64_t>> view;
    if (causal_) {
        for (uint64_t j = 0; j <= t; ++j) view.push_back({j, j});
    } else {
        const uint64_t n_s = std::min<uint64_t>(n_sink_, t + 1);
        for (uint64_t j = 0; j < n_s; ++j) view.push_back({j, view.size()});
        const uint64_t first = std::max<uint64_t>(n_s, t + 1 >= n_window_ ? t + 1 - n_window_ : 0);
        for (uint64_t j = first; j <= t; ++j) view.push_back({j, view.size()});
    }
    const uint64_t q_pos = view.back().second;
    std::vector<std::pair<uint64_t, uint64_t>> vis;  // ... within the sliding window
    for (auto [j, pos] : view)
        if (t - j < c.sliding_window) vis.push_back({j, pos});

    const float scale = p.scale > 0.0f ? p.scale : 1.0f / std::sqrt(float(hd));
    const uint32_t group = c.n_head / c.n_head_kv;
    std::vector<float> qr(hd);
    std::vector<double> pr(vis.size());
    scores_.resize(vis.size());
    for (uint32_t h = 0; h < c.n_head; ++h) {
        const uint32_t hk = h / group;  // GQA: the kv head this query head reads
        std::copy_n(q_.data() + size_t(h) * hd, hd, qr.data());
        rope_apply(qr.data(), q_pos, hd, p.rope);
        double max_s = -INFINITY;
        for (size_t i = 0; i < vis.size(); ++i) {
            std::copy_n(k_hist_[il].data() + vis[i].first * kv_dim + size_t(hk) * hd, hd, kr_.data());
            rope_apply(kr_.data(), vis[i].second, hd, p.rope);
            double dot = 0;
            for (uint32_t d = 0; d < hd; ++d) dot += double(qr[d]) * kr_[d];
            scores_[i] = float(dot * scale);
            max_s = std::max(max_s, double(scores_[i]));
        }
        double sum = 0;
        for (size_t i = 0; i < vis.size(); ++i) sum += pr[i] = std::exp(double(scores_[i]) - max_s);
        float* o = out + size_t(h) * hd;
        for (uint32_t d = 0; d < hd; ++d) {
            double acc = 0;
            for (size_t i = 0; i < vis.size(); ++i)
                acc += pr[i] * v_hist_[il][vis[i].first * kv_dim + size_t(hk) * hd + d];
            o[d] = float(acc / sum);
        }
    }
}

}  // namespace vks::ref
