#include "engine/session.hpp"

#include "common/error.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops/elementwise.hpp"
#include "ops/glu.hpp"
#include "ops/matvec_q8_1.hpp"
#include "ops/rms_norm.hpp"

namespace vks::engine {

struct Session::Recording {
    explicit Recording(vk::Device& d) : cmd(d) {}
    vk::Commands cmd;
};

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t kMaxTimedDispatches = 8192;  // a profiled recording times this many dispatches

vk::BufferRange span_of(const vk::Buffer& b, uint64_t n_floats) { return vk::BufferRange(b, 0, n_floats * 4); }

}  // namespace

Session::Session(std::shared_ptr<Model> model, const SessionConfig& config) : model_(std::move(model)), config_(config) {
    if (!model_) fail(Status::invalid_argument, "session: no model");
    const model::Description& d = model_->desc();
    if (config_.n_window == 0) {
        uint32_t ctx = d.n_ctx_train ? d.n_ctx_train : 4096;
        if (ctx <= config_.n_sink) fail(Status::invalid_argument, "n_sink %u leaves no window in a %u-token context", config_.n_sink, ctx);
        config_.n_window = ctx - config_.n_sink;
    }
    if (config_.n_batch == 0) fail(Status::invalid_argument, "n_batch must be at least 1");
    config_.n_batch = std::min<uint32_t>(config_.n_batch, 4096);
    sampler_ = std::make_unique<Sampler>(config_.sampling);

    vk::Device& dev = model_->device();
    uint64_t bytes_before = dev.bytes_allocated();
    kv::CacheConfig cc;
    kv::make_cache_shape(config_.n_sink, config_.n_window);  // validates the session's shape
    for (uint32_t il = 0; il < d.n_layer; ++il) cc.layers.push_back(d.layer_kv(il, config_.n_sink, config_.n_window));
    cc.n_head_kv = d.n_head_kv;
    cc.head_dim = d.head_dim;
    cc.max_steps = 4;
    cc.types = config_.cache_types;
    cache_ = std::make_unique<kv::Cache>(dev, cc);

    attn_cfg_.n_head = d.n_head;
    attn_cfg_.scale = d.attn_scale;

    const uint64_t B = config_.n_batch, E = d.n_embd, Q = d.q_dim(), KV = d.kv_dim(), F = d.n_ff;
    in_ = vk::Buffer(dev, B * E * 4, vk::BufferKind::shared, "embeddings");
    x_ = vk::Buffer(dev, B * E * 4, vk::BufferKind::device, "x");
    xn_ = vk::Buffer(dev, B * E * 4, vk::BufferKind::device, "x_norm");
    // 64 floats = 256 bytes: the largest storage / texel buffer offset alignment Vulkan allows.
    auto aligned = [](uint64_t floats) { return (floats + 63) & ~uint64_t(63); };
    k_off_ = aligned(B * Q);
    v_off_ = k_off_ + aligned(B * KV);
    qkv_ = vk::Buffer(dev, (v_off_ + B * KV) * 4, vk::BufferKind::device, "qkv");
    attn_ = vk::Buffer(dev, B * Q * 4, vk::BufferKind::device, "attn_out");
    gate_ = vk::Buffer(dev, B * F * 4, vk::BufferKind::device, "ffn_gate");
    // The unfused epilogues' outputs; tmp_ also holds the o / down products a post-norm reads.
    if (!config_.fuse || d.has_post_norms) tmp_ = vk::Buffer(dev, B * E * 4, vk::BufferKind::device, "tmp");
    if (!config_.fuse) up_ = vk::Buffer(dev, B * F * 2 * 4, vk::BufferKind::device, "ffn_up");  // 2F: paired gate/up
    last_ = vk::Buffer(dev, E * 4, vk::BufferKind::device, "last");
    logits_dev_ = vk::Buffer(dev, uint64_t(d.n_vocab) * 4, vk::BufferKind::shared, "logits");
    uint64_t scratch = ops::attention_scratch_bytes_max(*cache_, config_.n_batch, attn_cfg_);
    if (scratch) attn_scratch_ = vk::Buffer(dev, scratch, vk::BufferKind::device, "attn_scratch");
    if (dev.caps().int_dot && E % 32 == 0 && Q % 32 == 0 && F % 32 == 0)
        // Columns: as many as the integer path can take in one product (ops::matmul_takes_int_dot:
        // the matvec path's, all of a chunk on CPU devices, else 8).
        xq_ = vk::Buffer(dev, ops::q8_1_bytes(ops::matmul_uses_matvec(dev.caps(), config_.n_batch) ? config_.n_batch
                                                  : std::min<uint32_t>(config_.n_batch, ops::k_matvec_max_cols),
                                              uint32_t(std::max({E, Q, F}))),
                         vk::BufferKind::device, "x_q8_1");
    if (config_.capture_qk)
        capture_ = vk::Buffer(dev, uint64_t(d.n_layer) * B * (Q + KV) * 4, vk::BufferKind::shared, "qk_capture");
    device_bytes_ = dev.bytes_allocated() - bytes_before;
    logits_.assign(d.n_vocab, 0.0f);
    prepare_pipelines();
    if (cache_->has_key_transform() && config_.cache_types.k != quant::Type::F16) calibrate_keys();
}

namespace {

// Ordinary English prose for the key calibration (written for vkstream): what the statistics of
// a model's keys look like on text, not on anything in particular.
constexpr const char* kCalibrationText =
    "The river wound slowly through the valley, past farms and orchards and the old stone mill. In the "
    "morning the fishermen set out their nets, and by noon the market square was full of voices: traders "
    "calling their prices, children running between the stalls, and a few travellers asking the way to the "
    "coast. Nobody in the town could remember a summer so dry. The well by the church had never failed "
    "before, yet now the bucket came up half empty, and the council met twice a week to argue about what "
    "should be done. Some wanted to dig deeper; others said the water would return with the autumn rains, "
    "as it always had.";
constexpr uint32_t kCalibrationMax = 160;  // tokens (one chunk)

}  // namespace

std::vector<int32_t> Session::calibration_tokens(const Model& model) {
    std::vector<int32_t> ids;
    try {
        ids = model.tokenizer().encode(kCalibrationText, true, false);
    } catch (const Error&) {
        ids.clear();
    }
    const uint32_t n_vocab = model.desc().n_vocab;
    bool ok = ids.size() >= 32;
    for (int32_t t : ids) ok = ok && t >= 0 && uint32_t(t) < n_vocab;
    if (!ok) {  // a model without a usable tokenizer (synthetic test models): fixed spread ids
        ids.resize(128);
        for (uint32_t i = 0; i < ids.size(); ++i) ids[i] = int32_t((uint64_t(i) * 7919 + 13) % n_vocab);
    }
    if (ids.size() > kCalibrationMax) ids.resize(kCalibrationMax);
    return ids;
}

void Session::calibrate_keys() {
    cache_->set_key_transform(model_->key_transform([this] { return estimate_key_transform(); }));
}

kv::KeyTransform Session::estimate_key_transform() const {
    const model::Description& d = model_->desc();
    const std::vector<int32_t> ids = calibration_tokens(*model_);
    SessionConfig cal;
    cal.n_sink = std::min<uint32_t>(config_.n_sink, 4);
    // (a window of at least the model's sliding window: Description::layer_kv)
    cal.n_window = std::max<uint32_t>(uint32_t(ids.size()), d.sliding_window);
    cal.n_batch = uint32_t(ids.size());
    cal.fuse = config_.fuse;
    cal.capture_qk = true;  // f16 cache: the keys as they come
    Session s(model_, cal);
    s.feed(ids);
    kv::KeyTransform t = kv::KeyTransform::identity(d.n_layer, d.n_head_kv, d.head_dim);
    const uint32_t n = uint32_t(ids.size());
    for (uint32_t il = 0; il < d.n_layer; ++il) {
        const std::vector<float> qk = s.captured_qk(il);
        kv::estimate_key_transform(qk.data() + uint64_t(n) * d.q_dim(), qk.data(), n, 1, d.n_head, d.n_head_kv, d.head_dim,
                                   cache_->rope(il), t.layer_values(il));
    }
    return t;
}

std::vector<float> Session::captured_qk(uint32_t layer) const {
    const model::Description& d = model_->desc();
    if (!capture_) fail(Status::invalid_argument, "session: captured_qk needs SessionConfig::capture_qk");
    if (layer >= d.n_layer) fail(Status::invalid_argument, "session: layer %u >= %u", layer, d.n_layer);
    const uint64_t n = captured_n_, Q = d.q_dim(), KV = d.kv_dim();
    std::vector<float> out(n * (Q + KV));
    const uint64_t off = uint64_t(layer) * config_.n_batch * (Q + KV) * 4;
    capture_.download(out.data(), out.size() * 4, off);
    return out;
}

void Session::prepare_pipelines() {
    ops::Kernels& k = model_->kernels();
    vk::Commands plan(model_->device(), vk::Commands::DryRun{});
    {
        ops::Kernels::Collect collect(k);
        record(plan, 1, false);
        // A chunk of 8 columns (a matvec column group: ops::matvec_group_columns), and a full
        // chunk where that takes another path (the tiled matmul on GPUs). On CPU devices the
        // 8-column plan holds the 4-slot matvecs that short prompts use; chunks of >= 32 columns
        // (ops::k_matvec_wide_min) build their 8-slot matvecs at first use (~3.6 s of LLVM for
        // Q4_1, kept off a short prompt's first token: docs/BENCHMARKS.md, "Column slots").
        const uint32_t small = std::min<uint32_t>(config_.n_batch, ops::k_matvec_max_cols);
        if (small > 1) record(plan, small, false);
        if (config_.n_batch > small && !ops::matmul_uses_matvec(k.caps(), config_.n_batch)) record(plan, config_.n_batch, false);
    }
    k.build_pending(plan.planned());
}

Session::~Session() = default;

uint32_t Session::n_cached() const {
    return uint32_t(std::min<uint64_t>(cache_->n_past(), capacity()));
}

void Session::reset() {
    cache_->reset();
    has_logits_ = false;
    history_.clear();
    std::fill(logits_.begin(), logits_.end(), 0.0f);
}

Session::Recording& Session::recording_for(uint32_t n, bool all_logits) {
    auto key = std::make_pair(n, all_logits);
    auto it = recordings_.find(key);
    if (it != recordings_.end()) return *it->second;
    // Keep a handful: the decode step, the full chunk, and a few tails.
    if (recordings_.size() >= 6) {
        for (auto i = recordings_.begin(); i != recordings_.end();)
            i = (i->first.first == 1 || i->first.first == config_.n_batch) ? std::next(i) : recordings_.erase(i);
    }
    auto rec = std::make_unique<Recording>(model_->device());
    if (config_.profile) rec->cmd.enable_dispatch_timing(kMaxTimedDispatches);
    record(rec->cmd, n, all_logits);
    return *recordings_.emplace(key, std::move(rec)).first->second;
}

void Session::record(vk::Commands& cmd, uint32_t n, bool all_logits) {
    const model::Description& d = model_->desc();
    ops::Kernels& k = model_->kernels();
    const uint32_t E = d.n_embd, Q = d.q_dim(), KV = d.kv_dim(), F = d.n_ff;
    const kv::Step step = cache_->set_step(0, cache_->n_past(), n);  // rewritten before every submit
    vk::BufferRange scratch = attn_scratch_ ? vk::BufferRange(attn_scratch_) : vk::BufferRange(x_);

    cmd.begin();
    cache_->record_step_upload(cmd);  // the step record written by set_step before each submit
    cmd.copy(in_, 0, x_, 0, uint64_t(n) * E * 4);
    cmd.barrier();
    // Fusions (ops::MatmulFusion) keep the dispatch count down, which is what a decode step on a
    // CPU device costs: RMS norms are taken inside the matmuls that read them (where the matmul
    // path can: otherwise a separate rms_norm into xn_), residual adds and the gated unit are
    // matmul epilogues, and q, k, v are one product where they share a type (LayerWeights::qkv).
    // Per layer: qkv, attention, o, gate, up, down: 1 + attention + 4 dispatches instead of
    // 6 + attention + 6 unfused (docs/DESIGN.md, "Fusions").
    const bool fuse_norm = config_.fuse && ops::matmul_fuses_norm(k.caps(), n);
    const vk::BufferRange x_all = span_of(x_, uint64_t(n) * E), xn_all = span_of(xn_, uint64_t(n) * E);
    const vk::BufferRange q_all(qkv_, 0, uint64_t(n) * Q * 4), k_all(qkv_, k_off_ * 4, uint64_t(n) * KV * 4),
        v_all(qkv_, v_off_ * 4, uint64_t(n) * KV * 4);
    // The input of a normed matmul: x itself with the norm fused, or xn_ after an rms_norm.
    // Where the device has integer dot products, matmul may take that path (ops::choose_int_dot).
    const vk::Buffer* xq = xq_ ? &xq_ : nullptr;
    auto normed = [&](const vk::Buffer& weight, ops::MatmulFusion& f) -> vk::BufferRange {
        f.xq_scratch = xq;
        if (fuse_norm) {
            f.norm = &weight;
            f.norm_eps = d.rms_eps;
            return x_all;
        }
        vk::BufferRange wr(weight);
        ops::rms_norm(k, cmd, x_all, &wr, xn_all, n, E, d.rms_eps);
        cmd.barrier();
        return xn_all;
    };
    ops::MatmulFusion add_to_x;
    add_to_x.epilogue = ops::Epilogue::add;
    add_to_x.xq_scratch = xq;
    ops::MatmulFusion glu;
    glu.xq_scratch = xq;
    glu.epilogue = d.activation == model::Activation::silu ? ops::Epilogue::silu_glu : ops::Epilogue::gelu_glu;
    // Unfused (SessionConfig::fuse off): the same epilogues as separate dispatches.
    auto matmul_then = [&](const ops::WeightTensor& w, vk::BufferRange x, vk::BufferRange y, const ops::MatmulFusion& f,
                           const vk::Buffer& tmp, uint64_t n_out) {
        if (config_.fuse || f.epilogue == ops::Epilogue::store) return ops::matmul(k, cmd, w, x, y, n, f);
        ops::MatmulFusion plain = f;
        plain.epilogue = ops::Epilogue::store;
        ops::matmul(k, cmd, w, x, span_of(tmp, n_out), n, plain);
        cmd.barrier();
        if (f.epilogue == ops::Epilogue::add) ops::add(k, cmd, y, span_of(tmp, n_out), y, uint32_t(n_out), uint32_t(n_out));
        else ops::glu(k, cmd, f.epilogue == ops::Epilogue::silu_glu ? ops::GluKind::silu : ops::GluKind::gelu, y,
                      span_of(tmp, n_out), y, uint32_t(n_out));
    };
    // x += y(in), or with a post-norm (gemma3) x += rms_norm(y(in)) * post: the product goes to
    // tmp_ and one fused norm-and-add dispatch (ops::rms_norm_add) folds it into x.
    // With `next` (the layer whose attention input x then is) and that layer's q/k/v taking the
    // integer-dot path with a quantized X from a buffer (ops::matmul_needs_xq: their _x kernels,
    // which quantize in their prologue, do not fit shared memory), the norm-and-add also writes
    // their quantized input (rms_norm_add_q8_1),
    // and the function returns true: the next layer skips its quantize dispatch (xq_ready).
    auto post_normed_add = [&](const ops::WeightTensor& y, vk::BufferRange in, const vk::Buffer& post,
                               const LayerWeights* next = nullptr) -> bool {
        if (!d.has_post_norms) {
            matmul_then(y, in, x_all, add_to_x, tmp_, uint64_t(n) * E);
            return false;
        }
        const vk::BufferRange t = span_of(tmp_, uint64_t(n) * E), pw(post);
        ops::MatmulFusion plain;
        plain.xq_scratch = xq;  // the integer-dot path where chosen, as for the other products
        ops::matmul(k, cmd, y, in, t, n, plain);
        cmd.barrier();
        if (next && fuse_norm && xq && E % 32 == 0) {
            ops::MatmulFusion nf;
            nf.norm = &next->attn_norm, nf.norm_eps = d.rms_eps, nf.xq_scratch = xq;
            const bool needs_xq = next->qkv.chunks.empty() ? ops::matmul_needs_xq(k, next->q, n, nf) ||
                                                                 ops::matmul_needs_xq(k, next->k, n, nf) ||
                                                                 ops::matmul_needs_xq(k, next->v, n, nf)
                                                           : ops::matmul_needs_xq(k, next->qkv, n, nf);
            if (needs_xq) {
                ops::rms_norm_add_q8_1(k, cmd, t, &pw, x_all, n, E, d.rms_eps, vk::BufferRange(next->attn_norm),
                                       vk::BufferRange(*xq, 0, ops::q8_1_bytes(n, E)));
                return true;
            }
        }
        ops::rms_norm_add(k, cmd, t, &pw, x_all, n, E, d.rms_eps);
        return false;
    };
    bool attn_in_quantized = false;  // xq holds this layer's normed, quantized attention input
    for (uint32_t il = 0; il < d.n_layer; ++il) {
        const LayerWeights& w = model_->layers()[il];
        // attention block
        ops::MatmulFusion attn_in;
        const vk::BufferRange xa = normed(w.attn_norm, attn_in);
        attn_in.xq_ready = attn_in_quantized;
        if (!w.qkv.chunks.empty()) {  // one product, written as the q, k and v segments of qkv_
            ops::MatmulFusion f = attn_in;
            f.segments = {Q, Q + KV, uint32_t(k_off_), uint32_t(v_off_)};
            ops::matmul(k, cmd, w.qkv, xa, vk::BufferRange(qkv_), n, f);
        } else {
            if (!attn_in.xq_ready) ops::quantize_shared_input(k, cmd, {&w.q, &w.k, &w.v}, xa, n, attn_in);  // once for the three
            ops::matmul(k, cmd, w.q, xa, q_all, n, attn_in);
            ops::matmul(k, cmd, w.k, xa, k_all, n, attn_in);
            ops::matmul(k, cmd, w.v, xa, v_all, n, attn_in);
        }
        cmd.barrier();
        if (d.has_qkv_bias) {
            ops::add(k, cmd, q_all, w.q_bias, q_all, n * Q, Q);
            ops::add(k, cmd, k_all, w.k_bias, k_all, n * KV, KV);
            ops::add(k, cmd, v_all, w.v_bias, v_all, n * KV, KV);
            cmd.barrier();
        }
        if (d.has_qk_norm) {  // gemma3: RMS norm of every q and k head (rows of head_dim), in place
            const vk::BufferRange qn(w.q_norm), kn(w.k_norm);
            if (config_.fuse) {  // both in one dispatch (q and k are ranges of qkv_)
                ops::rms_norm_pair(k, cmd, q_all, qn, n * d.n_head, k_all, kn, n * d.n_head_kv, d.head_dim, d.rms_eps);
            } else {
                ops::rms_norm(k, cmd, q_all, &qn, q_all, n * d.n_head, d.head_dim, d.rms_eps);
                ops::rms_norm(k, cmd, k_all, &kn, k_all, n * d.n_head_kv, d.head_dim, d.rms_eps);
            }
            cmd.barrier();
        }
        if (capture_) {  // capture_qk: this layer's q then k, as the cache receives them
            const uint64_t base = uint64_t(il) * config_.n_batch * (Q + KV) * 4;
            cmd.copy(qkv_, 0, capture_, base, uint64_t(n) * Q * 4);
            cmd.copy(qkv_, k_off_ * 4, capture_, base + uint64_t(n) * Q * 4, uint64_t(n) * KV * 4);
            cmd.barrier();
        }
        ops::attention_and_store(k, cmd, *cache_, il, step, q_all, k_all, v_all, span_of(attn_, uint64_t(n) * Q), scratch,
                                 attn_cfg_);
        cmd.barrier();
        post_normed_add(w.o, span_of(attn_, uint64_t(n) * Q), w.post_attn_norm);  // x += [norm](o(attn))
        cmd.barrier();
        // feed-forward block: gate into gate_, then up with the epilogue gate_ = act(gate_) * up
        ops::MatmulFusion ffn_in;
        const vk::BufferRange xf = normed(w.ffn_norm, ffn_in);
        const bool silu = d.activation == model::Activation::silu;
        if (!w.gate_up.chunks.empty() && config_.fuse) {  // one paired product: gate_ = act(gate) * up
            ops::MatmulFusion f = ffn_in;
            f.epilogue = silu ? ops::Epilogue::silu_pairs : ops::Epilogue::gelu_pairs;
            ops::matmul(k, cmd, w.gate_up, xf, span_of(gate_, uint64_t(n) * F), n, f);
        } else if (!w.gate_up.chunks.empty()) {  // unfused: the interleaved products, then the GLU
            ops::matmul(k, cmd, w.gate_up, xf, span_of(up_, uint64_t(n) * 2 * F), n, ffn_in);
            cmd.barrier();
            ops::glu_paired(k, cmd, silu ? ops::GluKind::silu : ops::GluKind::gelu, span_of(up_, uint64_t(n) * 2 * F),
                            span_of(gate_, uint64_t(n) * F), n * F);
        } else {
            ops::MatmulFusion up = glu;
            up.norm = ffn_in.norm, up.norm_eps = ffn_in.norm_eps;
            ops::quantize_shared_input(k, cmd, {&w.gate, &w.up}, xf, n, ffn_in);  // once for both
            up.xq_ready = ffn_in.xq_ready;
            ops::matmul(k, cmd, w.gate, xf, span_of(gate_, uint64_t(n) * F), n, ffn_in);
            cmd.barrier();
            matmul_then(w.up, xf, span_of(gate_, uint64_t(n) * F), up, up_, uint64_t(n) * F);
        }
        cmd.barrier();
        const LayerWeights* next = il + 1 < d.n_layer ? &model_->layers()[il + 1] : nullptr;
        attn_in_quantized = post_normed_add(w.down, span_of(gate_, uint64_t(n) * F), w.post_ffn_norm, next);  // x += [norm](down(...))
        cmd.barrier();
    }
    if (all_logits) {
        ops::MatmulFusion out_in;
        const vk::BufferRange xo = normed(model_->output_norm(), out_in);
        ops::matmul(k, cmd, model_->output(), xo, span_of(logits_dev_, uint64_t(n) * d.n_vocab), n, out_in);
    } else {
        // Only the last token's logits: copy its row out (a copy has no offset-alignment rule).
        cmd.copy(x_, uint64_t(n - 1) * E * 4, last_, 0, uint64_t(E) * 4);
        cmd.barrier();
        ops::MatmulFusion out_in;
        out_in.xq_scratch = xq;
        vk::BufferRange xo(last_);
        if (ops::matmul_fuses_norm(k.caps(), 1)) {
            out_in.norm = &model_->output_norm();
            out_in.norm_eps = d.rms_eps;
        } else {
            vk::BufferRange out_norm(model_->output_norm());
            ops::rms_norm(k, cmd, last_, &out_norm, span_of(xn_, E), 1, E, d.rms_eps);
            cmd.barrier();
            xo = span_of(xn_, E);
        }
        ops::matmul(k, cmd, model_->output(), xo, span_of(logits_dev_, d.n_vocab), 1, out_in);
    }
    cmd.end();
}

void Session::run_chunk(std::span<const int32_t> tokens, std::vector<float>* all_logits) {
    const model::Description& d = model_->desc();
    const uint32_t n = uint32_t(tokens.size());
    const uint32_t E = d.n_embd;
    auto t_start = Clock::now();
    float* in = static_cast<float*>(in_.mapped());
    std::vector<float> row;
    for (uint32_t i = 0; i < n; ++i) {
        if (in) {
            model_->embed(tokens[i], in + size_t(i) * E);
        } else {
            row.resize(E);
            model_->embed(tokens[i], row.data());
            in_.upload(row.data(), uint64_t(E) * 4, uint64_t(i) * E * 4);
        }
    }
    const bool want_all = all_logits != nullptr;
    captured_n_ = n;
    Recording& rec = recording_for(n, want_all);
    cache_->set_step(0, cache_->n_past(), n);
    rec.cmd.submit();
    cache_->advance(n);
    if (config_.profile) {
        OpProfile& prof = n == 1 ? decode_profile_ : prefill_profile_;
        for (const vk::Commands::DispatchTime& t : rec.cmd.dispatch_times()) {
            OpProfile::Op& op = prof.ops[t.pipeline];
            op.calls += 1;
            op.ns += t.ns;
        }
        prof.steps += 1;
        prof.tokens += n;
    }
    if (want_all) {
        size_t old = all_logits->size();
        all_logits->resize(old + size_t(n) * d.n_vocab);
        logits_dev_.download(all_logits->data() + old, uint64_t(n) * d.n_vocab * 4);
        std::memcpy(logits_.data(), all_logits->data() + old + size_t(n - 1) * d.n_vocab, size_t(d.n_vocab) * 4);
    } else {
        logits_dev_.download(logits_.data(), uint64_t(d.n_vocab) * 4);
    }
    if (d.final_logit_softcap > 0.0f) {  // (Gemma 2 style; Gemma 3 files carry none) on the host: cheap
        const float c = d.final_logit_softcap;
        if (want_all)
            for (size_t i = all_logits->size() - size_t(n) * d.n_vocab; i < all_logits->size(); ++i)
                (*all_logits)[i] = c * std::tanh((*all_logits)[i] / c);
        for (float& l : logits_) l = c * std::tanh(l / c);
    }
    has_logits_ = true;
    const size_t keep = size_t(std::max(config_.sampling.repeat_last_n, 1));
    history_.insert(history_.end(), tokens.begin(), tokens.end());
    if (history_.size() > keep) history_.erase(history_.begin(), history_.end() - ptrdiff_t(keep));
    double secs = std::chrono::duration<double>(Clock::now() - t_start).count();
    if (n == 1) {
        stats_.n_decode_tokens += 1;
        stats_.decode_seconds += secs;
    } else {
        stats_.n_prefill_tokens += n;
        stats_.prefill_seconds += secs;
    }
}

void Session::feed(std::span<const int32_t> tokens, std::vector<float>* all_logits) {
    const model::Description& d = model_->desc();
    for (size_t i = 0; i < tokens.size(); ++i)
        if (tokens[i] < 0 || uint32_t(tokens[i]) >= d.n_vocab)
            fail(Status::invalid_argument, "token %zu: id %d is outside the vocabulary [0, %u)", i, tokens[i], d.n_vocab);
    if (config_.dense && cache_->n_past() + tokens.size() > capacity())
        fail(Status::context_full, "dense session is full: %llu cached + %zu new tokens exceed its %u slots",
             (unsigned long long)cache_->n_past(), tokens.size(), capacity());
    if (all_logits) {
        // Every token's logits come back: (n, n_vocab) must fit one binding and the buffer.
        uint64_t per_row = uint64_t(d.n_vocab) * 4;
        uint64_t rows = std::min<uint64_t>(config_.n_batch, model_->device().caps().max_binding_bytes() / per_row);
        if (rows == 0) fail(Status::unsupported, "one row of logits exceeds the device's per-binding limit");
        if (logits_dev_.size() < rows * per_row) {
            recordings_.clear();
            logits_dev_ = vk::Buffer(model_->device(), rows * per_row, vk::BufferKind::shared, "logits");
        }
    }
    const uint64_t chunk_max = all_logits ? logits_dev_.size() / (uint64_t(d.n_vocab) * 4) : config_.n_batch;
    size_t done = 0;
    while (done < tokens.size()) {
        if (cancel_.exchange(false))
            fail(Status::cancelled, "feed cancelled after %zu of %zu tokens", done, tokens.size());
        size_t n = std::min<size_t>(tokens.size() - done, std::min<uint64_t>(chunk_max, config_.n_batch));
        run_chunk(tokens.subspan(done, n), all_logits);
        done += n;
    }
}

int32_t Session::sample() {
    if (!has_logits_) fail(Status::invalid_argument, "nothing to sample from: feed at least one token first");
    return sampler_->sample(logits_, history_);
}

}  // namespace vks::engine
