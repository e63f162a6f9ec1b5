#include "attention_harness.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"
#include "ref/attention.hpp"
#include "support/gpu.hpp"

namespace vks::test {

std::string AttnCase::describe() const {
    return strfmt("n_sink=%u n_window=%u n_head=%u n_head_kv=%u head_dim=%u n_rot=%u style=%s theta=%g "
                  "freq_scale=%g sinks=%d f16_exact=%d n_splits=%u variant=%s sg_wg=%u reads=%s cache=(%s)",
                  n_sink, n_window, n_head, n_head_kv, head_dim, rope.rotated_dims(head_dim),
                  rope.style == kv::RopeStyle::neox ? "neox" : "normal", double(rope.theta_base),
                  double(rope.freq_scale), int(learned_sinks), int(f16_exact), n_splits,
                  variant == ops::AttentionConfig::Variant::subgroup ? "subgroup" : "portable", subgroup_workgroup,
                  reads == ops::AttentionConfig::Reads::texel  ? "texel"
                  : reads == ops::AttentionConfig::Reads::ssbo ? "ssbo"
                                                               : "automatic",
                  kv::describe(types).c_str());
}

// GCC >= 12 and Clang >= 15 have _Float16 on x86-64 and aarch64: conversion rounds to nearest even.
float round_to_f16(float x) { return float(_Float16(x)); }

Stream make_stream(const AttnCase& c, uint64_t n_tokens, uint32_t seed) {
    Stream s;
    s.n_tokens = n_tokens;
    s.q = random_floats(n_tokens * c.n_head * c.head_dim, seed);
    s.k = random_floats(n_tokens * c.n_head_kv * c.head_dim, seed + 1);
    s.v = random_floats(n_tokens * c.n_head_kv * c.head_dim, seed + 2);
    // Larger q/k make sharper, less uniform attention (a weaker test when all scores are ~0).
    for (float& x : s.q) x *= 2.0f;
    for (float& x : s.k) x *= 2.0f;
    if (c.f16_exact) {
        for (float& x : s.k) x = round_to_f16(x);
        for (float& x : s.v) x = round_to_f16(x);
    }
    s.sinks = random_floats(c.n_head, seed + 3, -1.0f, 3.0f);
    return s;
}

ref::AttentionParams ref_params(const AttnCase& c, const Stream& s) {
    ref::AttentionParams p;
    p.n_head = c.n_head;
    p.n_head_kv = c.n_head_kv;
    p.head_dim = c.head_dim;
    p.rope = c.rope;
    p.sink_logits = c.learned_sinks ? s.sinks.data() : nullptr;
    return p;
}

std::vector<float> reference_outputs(const AttnCase& c, const Stream& s, bool causal) {
    const ref::AttentionParams p = ref_params(c, s);
    const size_t q_row = size_t(c.n_head) * c.head_dim;
    std::vector<float> out(s.n_tokens * q_row);
    for (uint64_t t = 0; t < s.n_tokens; ++t) {
        if (causal)
            ref::attention_causal(s.q.data() + t * q_row, s.k.data(), s.v.data(), t, p, out.data() + t * q_row);
        else
            ref::attention_stream(s.q.data() + t * q_row, s.k.data(), s.v.data(), t, c.n_sink, c.n_window, p,
                                  out.data() + t * q_row);
    }
    return out;
}

std::vector<float> device_outputs(const AttnCase& c, const Stream& s, uint32_t chunk) {
    Gpu& g = gpu();
    kv::CacheConfig cc =
        kv::CacheConfig::uniform(c.n_layer, kv::make_cache_shape(c.n_sink, c.n_window), c.rope, c.n_head_kv, c.head_dim);
    // The other layers get another shape and RoPE base, so the tested layer reads its own step
    // record, table and ring among several groups (kv::Cache::step_record), as Gemma 3 needs.
    for (uint32_t l = 0; l + 1 < c.n_layer; ++l) {
        cc.layers[l].shape = kv::make_cache_shape(0, c.n_window + 5);
        cc.layers[l].rope.theta_base = c.rope.theta_base * 0.5f;
    }
    cc.types = c.types;
    kv::Cache cache(*g.device, cc);
    const uint32_t layer = c.n_layer - 1;
    if (!c.key_transform.empty()) {
        kv::KeyTransform t = kv::KeyTransform::identity(c.n_layer, c.n_head_kv, c.head_dim);
        std::copy(c.key_transform.begin(), c.key_transform.end(), t.layer_values(layer));
        cache.set_key_transform(t);
    }

    ops::AttentionConfig ac;
    ac.n_head = c.n_head;
    ac.n_splits = c.n_splits;
    ac.variant = c.variant;
    ac.subgroup_workgroup = c.subgroup_workgroup;
    ac.reads = c.reads;
    vk::Buffer sinks_buf = upload(s.sinks, "sinks");
    if (c.learned_sinks) ac.sink_logits = vk::BufferRange(sinks_buf);

    const size_t q_row = size_t(c.n_head) * c.head_dim, kv_row = size_t(c.n_head_kv) * c.head_dim;
    vk::Buffer q_buf(*g.device, chunk * q_row * 4, vk::BufferKind::device, "q");
    vk::Buffer k_buf(*g.device, chunk * kv_row * 4, vk::BufferKind::device, "k_new");
    vk::Buffer v_buf(*g.device, chunk * kv_row * 4, vk::BufferKind::device, "v_new");
    vk::Buffer out_buf, scratch;
    vk::Commands cmd(*g.device);
    uint32_t recorded_n = 0;

    std::vector<float> out(s.n_tokens * q_row);
    while (cache.n_past() < s.n_tokens) {
        const uint64_t t0 = cache.n_past();
        const uint32_t n = uint32_t(std::min<uint64_t>(chunk, s.n_tokens - t0));
        q_buf.upload(s.q.data() + t0 * q_row, n * q_row * 4);
        k_buf.upload(s.k.data() + t0 * kv_row, n * kv_row * 4);
        v_buf.upload(s.v.data() + t0 * kv_row, n * kv_row * 4);
        const kv::Step step = cache.set_step(0, t0, n);  // the only per-step host write
        if (n != recorded_n) {
            out_buf = guarded_buffer(n * q_row, "attn_out");
            const uint64_t sb = ops::attention_scratch_bytes(cache, layer, n, ac);
            scratch = vk::Buffer(*g.device, std::max<uint64_t>(sb, 4), vk::BufferKind::device, "scratch");
            cmd.begin();
            cache.record_step_upload(cmd);
            ops::attention_and_store(*g.kernels, cmd, cache, layer, step, vk::BufferRange(q_buf, 0, n * q_row * 4),
                                     vk::BufferRange(k_buf, 0, n * kv_row * 4),
                                     vk::BufferRange(v_buf, 0, n * kv_row * 4),
                                     vk::BufferRange(out_buf, 0, n * q_row * 4), scratch, ac);
            cmd.end();
            recorded_n = n;
        }
        cmd.submit();
        cache.advance(n);
        const std::vector<float> o = read_guarded(out_buf, n * q_row);
        std::copy(o.begin(), o.end(), out.begin() + t0 * q_row);
    }
    return out;
}

Worst compare_per_token(const std::vector<float>& got, const std::vector<float>& want, uint64_t n_tokens,
                        size_t row) {
    Worst w;
    for (uint64_t t = 0; t < n_tokens; ++t) {
        double e = nmse(got.data() + t * row, want.data() + t * row, row);
        double a = max_abs_diff(got.data() + t * row, want.data() + t * row, row);
        if (std::isnan(e)) e = INFINITY;  // NaN must count as the worst, not slip through comparisons
        if (std::isnan(a)) a = INFINITY;
        if (t == 0 || e > w.nmse) {
            w.nmse = e;
            w.t = t;
        }
        w.max_abs = std::max(w.max_abs, a);
    }
    return w;
}

}  // namespace vks::test
