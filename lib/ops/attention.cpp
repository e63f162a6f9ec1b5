#include "ops/attention.hpp"

#include <algorithm>
#include <cmath>
#include <thread>

#include "common/error.hpp"
#include "ops/kv_quant.hpp"
#include "shaders/params.h"

namespace vks::ops {

namespace {

constexpr uint32_t kAttnWg = 64;       // invocations per attention workgroup (independent items)
constexpr uint32_t kCombineWg = 64;    // invocations per combine workgroup (over head elements)
constexpr uint32_t kMinKeysPerSplit = 32;
// On a CPU device a split must also pay for the combine dispatch its partials need (~50-100 us
// on lavapipe): measured on lavapipe, 2 threads, SmolLM2 decode (docs/BENCHMARKS.md), a
// 1024-slot cache ran 1 split ~8 % faster than 2, and a 4096-slot cache with 2000 keys visible
// ran 4 splits ~15 % faster than 1 or 2. So one split per this many cache slots.
constexpr uint32_t kCpuSlotsPerSplit = 1024;
// (query, head, split) items worth spreading a chunk over. A GPU wants thousands of workgroups
// in flight; on a CPU device (lavapipe) each workgroup costs setup time and a few per thread are
// enough (measured: 4 splits beat 128 by ~20% for 32 heads x 4096 keys on lavapipe).
constexpr uint64_t kTargetItemsGpu = 4096;
constexpr uint32_t kMaxHeadDim = 512;    // per-invocation register arrays of head_dim floats

uint64_t bytes_of(vk::BufferRange r) { return r.buffer ? r.resolved_size() : 0; }

void check_range(const char* what, vk::BufferRange r, uint64_t need) {
    if (!r.buffer || !*r.buffer) fail(Status::invalid_argument, "attention: %s buffer is missing", what);
    if (bytes_of(r) < need)
        fail(Status::invalid_argument, "attention: %s range holds %llu bytes, needs %llu", what,
             (unsigned long long)bytes_of(r), (unsigned long long)need);
}

void check_common(const kv::Cache& cache, uint32_t layer, const kv::Step& step) {
    if (layer >= cache.n_layer())
        fail(Status::invalid_argument, "attention: layer %u >= %u", layer, cache.n_layer());
    if (step.n_tokens == 0) fail(Status::invalid_argument, "attention: step with 0 tokens");
    if (cache.head_dim() > kMaxHeadDim)
        fail(Status::unsupported, "attention: head_dim %u > %u", cache.head_dim(), kMaxHeadDim);
}

void check_config(const kv::Cache& cache, const AttentionConfig& cfg) {
    if (cfg.n_head == 0 || cfg.n_head % cache.n_head_kv() != 0)
        fail(Status::invalid_argument, "attention: n_head %u must be a positive multiple of n_head_kv %u", cfg.n_head,
             cache.n_head_kv());
}

float score_scale(const kv::Cache& cache, const AttentionConfig& cfg) {
    return cfg.scale != 0.0f ? cfg.scale : float(1.0 / std::sqrt(double(cache.head_dim())));
}

// Subgroup variant: query heads of one GQA group handled by one workgroup, so K/V and table rows
// are loaded once for all of them. A divisor of the group size, capped so the per-lane arrays
// (NQ x head_dim / subgroup floats, twice) stay small.
uint32_t heads_per_workgroup(uint32_t group, uint32_t head_dim) {
    const uint32_t cap = head_dim <= 128 ? 4 : 2;
    uint32_t best = 1;
    for (uint32_t n = 1; n <= std::min(group, cap); ++n)
        if (group % n == 0) best = n;
    return best;
}

bool is_texel(const std::string& variant) { return variant.size() > 3 && variant.compare(variant.size() - 3, 3, "_tb") == 0; }
bool is_subgroup(const std::string& variant) {
    return variant.size() > 3 && (variant.compare(variant.size() - 3, 3, "_sg") == 0 || variant.find("_sg_tb") != std::string::npos);
}

// A cache whose quantized rows are Hadamard-rotated (kv_quant.glsl): attention expects every fresh
// row of a quantized tensor rotated too, which only attention_and_store's round provides.
bool rotated_cache(const kv::Cache& cache) { return cache.types().hadamard && cache.types().quantized(); }

// The variant for the cache's element types: "attention_f16_f32_sg" -> "attention_q8_0_f32_sg".
std::string with_cache_types(const std::string& f16_variant, const kv::Cache& cache) {
    const std::string f16 = "attention_f16_f32";
    if (!cache.types().quantized() || f16_variant.compare(0, f16.size(), f16) != 0) return f16_variant;
    return "attention_" + cache_type_tag(cache.types()) + "_f32" + f16_variant.substr(f16.size());
}

// The storage-buffer form for the cache. A Hadamard-rotated cache has the rotation in the portable
// form and the subgroup texel form only (shaders/variants.txt): otherwise it runs the portable
// form, and an explicit request for the subgroup form is refused when `strict`.
std::string storage_variant(const vk::Capabilities& caps, const kv::Cache& cache, const AttentionConfig& cfg,
                            bool strict) {
    if (!rotated_cache(cache)) return with_cache_types(attention_variant(caps, cfg), cache);
    if (strict && cfg.variant == AttentionConfig::Variant::subgroup)
        fail(Status::unsupported, "attention: a cache with the Hadamard rotation has no subgroup form with "
                                  "storage-buffer reads (texel reads are unavailable or not asked for)");
    return "attention_" + cache_type_tag(cache.types()) + "_f32";
}

// The subgroup forms' workgroup: one item each, ideally exactly one subgroup.
uint32_t subgroup_workgroup(const vk::Capabilities& caps, const AttentionConfig& cfg) {
    return workgroup_size(caps, cfg.subgroup_workgroup ? cfg.subgroup_workgroup
                                                       : std::clamp<uint32_t>(caps.subgroup_size, 1, 128));
}
// Only a device that reports its subgroup size range (subgroup size control) guarantees a single
// size; without it a compiler may still pick a narrower one.
bool one_subgroup(const vk::Capabilities& caps, uint32_t wg) {
    return caps.subgroup_size_control && caps.min_subgroup_size == caps.max_subgroup_size && caps.subgroup_size == wg;
}

// Why the subgroup texel form cannot take this rotated cache ("" when it can): its butterflies
// are spread over the lanes of one subgroup with shuffles, each lane holding groups g = lane +
// r * LANES of 8 elements, and every group a lane's score reads must be one of those
// (shaders/attention_tb.comp, HADAMARD).
std::string rotated_subgroup_blocker(const vk::Capabilities& caps, const kv::Cache& cache, uint32_t layer,
                                     const AttentionConfig& cfg) {
    if (!caps.subgroup_shuffle) return "no subgroup shuffles";
    const uint32_t lanes = subgroup_workgroup(caps, cfg);
    if (!one_subgroup(caps, lanes)) return strfmt("a workgroup of %u may span several subgroups", lanes);
    const uint32_t n_groups = cache.head_dim() / 8, first_tail = cache.n_rot(layer) / 8;
    if (cache.rope(layer).style == kv::RopeStyle::neox && (cache.n_rot(layer) / 16) % lanes != 0)
        return strfmt("neox partner groups %u apart are not a multiple of %u lanes", cache.n_rot(layer) / 16, lanes);
    if (first_tail != n_groups && first_tail % lanes != 0)
        return strfmt("the un-rotated tail starts at group %u, not a multiple of %u lanes", first_tail, lanes);
    return "";
}

struct Recorded {
    uint32_t n_splits = 1;
    uint64_t n_rows = 0;
};

// store_new: the dispatch also stores the (single) new token's K/V in its ring slot (decode).
Recorded record_main(Kernels& k, vk::Commands& cmd, const kv::Cache& cache, uint32_t layer, const kv::Step& step,
                     vk::BufferRange q, vk::BufferRange k_new, vk::BufferRange v_new, vk::BufferRange out,
                     vk::BufferRange scratch, const AttentionConfig& cfg, bool store_new) {
    check_common(cache, layer, step);
    check_config(cache, cfg);
    const uint32_t n = step.n_tokens, d = cache.head_dim();
    const uint64_t row_bytes = uint64_t(d) * 4;
    check_range("q", q, n * cfg.n_head * row_bytes);
    check_range("out", out, n * cfg.n_head * row_bytes);
    check_range("k_new", k_new, n * cache.n_head_kv() * row_bytes);
    check_range("v_new", v_new, n * cache.n_head_kv() * row_bytes);
    const bool has_sinks = cfg.sink_logits.buffer != nullptr;
    if (has_sinks) check_range("sink_logits", cfg.sink_logits, uint64_t(cfg.n_head) * 4);

    Recorded rec;
    rec.n_splits = attention_splits(cache, layer, n, cfg);
    rec.n_rows = uint64_t(n) * cfg.n_head;
    const uint64_t n_items = rec.n_rows * rec.n_splits;
    if (n_items > UINT32_MAX / 2 || rec.n_rows * d > UINT32_MAX)
        fail(Status::unsupported, "attention: chunk of %u tokens x %u heads is too large for one dispatch", n,
             cfg.n_head);
    vk::BufferRange part = out;  // unused by the shader when n_splits == 1
    if (rec.n_splits > 1) {
        check_range("scratch", scratch, attention_scratch_bytes(cache, layer, n, cfg));
        part = scratch;
    }

    shader::AttnParams p{};
    p.n_tokens = n;
    p.n_head = cfg.n_head;
    p.n_head_kv = cache.n_head_kv();
    const kv::CacheShape& shape = cache.shape(layer);
    p.n_sink = shape.n_sink;
    p.n_window = shape.n_window;
    p.n_splits = rec.n_splits;
    p.step_index = cache.step_record(step, layer);
    p.n_rot = cache.n_rot(layer);
    p.scale = score_scale(cache, cfg);
    p.has_sinks = has_sinks ? 1u : 0u;
    if (store_new && n != 1) fail(Status::internal, "attention: the fused K/V store is for one-token steps");
    p.store_new = store_new ? 1u : 0u;
    if (store_new && cache.types().quantized())
        fail(Status::internal, "attention: a quantized cache is stored by kv_quant, not the attention dispatch");
    p.kv = kv_layout_params(cache, layer);
    const uint32_t neox = cache.rope(layer).style == kv::RopeStyle::neox ? 1u : 0u;
    std::string variant = attention_variant(k.caps(), cache, layer, n, cfg);
    bool texel = is_texel(variant);
    // Texel views need aligned offsets; the engine's activation buffers start at 0.
    const uint64_t align = std::max<uint64_t>(k.caps().min_texel_buffer_offset_alignment, 1);
    const bool aligned = q.offset % align == 0 && k_new.offset % align == 0 && v_new.offset % align == 0;
    if (texel && !aligned) {
        if (cfg.reads == AttentionConfig::Reads::texel)
            fail(Status::invalid_argument, "attention: texel reads need q/k_new/v_new offsets aligned to %llu bytes",
                 (unsigned long long)align);
        variant = storage_variant(k.caps(), cache, cfg, true);
        texel = false;
    }
    const bool sg = is_subgroup(variant);
    uint32_t wg = 0, multi_subgroup = 1, nq = 1;
    Grid g;
    if (sg) {
        // One workgroup per item, ideally exactly one subgroup (the shader copes with more).
        const vk::Capabilities& caps = k.caps();
        wg = subgroup_workgroup(caps, cfg);
        if (one_subgroup(caps, wg)) multi_subgroup = 0;
        nq = heads_per_workgroup(cfg.n_head / cache.n_head_kv(), d);
        g = grid_for(n_items / nq, k.caps());
    } else {
        wg = k.wg_size(kAttnWg);
        // The portable texel variant walks NQ heads of a GQA group per invocation too.
        if (texel) nq = heads_per_workgroup(cfg.n_head / cache.n_head_kv(), d);
        const uint64_t n_inv = n_items / nq;
        g = grid_for((n_inv + wg - 1) / wg, k.caps());
    }
    const std::vector<uint32_t> spec = sg || texel
                                           ? std::vector<uint32_t>{wg, d, neox, cache.n_rot(layer), multi_subgroup, nq}
                                           : std::vector<uint32_t>{wg, d, neox};
    if (texel) {
        // Texel views cover exactly the bytes read: every size is a multiple of 16 (head_dim % 8
        // == 0, n_rot % 16 == 0), and the cache's buffers start at offset 0.
        const uint64_t q_bytes = uint64_t(n) * cfg.n_head * row_bytes;
        const uint64_t kv_bytes = uint64_t(n) * cache.n_head_kv() * row_bytes;
        const uint64_t k_ring_bytes = cache.k_layout(layer).bytes(), v_ring_bytes = cache.v_layout(layer).bytes();
        const uint64_t rope_bytes = uint64_t(cache.capacity(layer)) * cache.n_rot(layer) * 4;
        std::vector<vk::BufferRange> b = {
            cache.step_params(), vk::BufferRange(*q.buffer, q.offset, q_bytes),
            vk::BufferRange(cache.k(layer), 0, k_ring_bytes), vk::BufferRange(cache.v(layer), 0, v_ring_bytes),
            vk::BufferRange(*k_new.buffer, k_new.offset, kv_bytes), vk::BufferRange(*v_new.buffer, v_new.offset, kv_bytes),
            vk::BufferRange(cache.rope_table(layer), 0, rope_bytes), has_sinks ? cfg.sink_logits : out, out,
            part, cache.k(layer), cache.v(layer)};
        const vk::Pipeline& pipe = k.pipeline(variant, spec);
        // Binding 12 of the rotated forms with a quantized K: the cache's key transform.
        if (rotated_cache(cache) && pipe.interface().n_bindings == b.size() + 1) b.push_back(cache.key_transform(layer));
        cmd.dispatch_span(pipe, b, p, g.x, g.y);
        return rec;
    }
    std::vector<vk::BufferRange> b = {cache.step_params(), q, cache.k(layer), cache.v(layer), k_new, v_new,
                                      cache.rope_table(layer), has_sinks ? cfg.sink_logits : q, out, part,
                                      cache.k(layer), cache.v(layer)};
    const vk::Pipeline& pipe = k.pipeline(variant, spec);
    if (rotated_cache(cache) && pipe.interface().n_bindings == b.size() + 1) b.push_back(cache.key_transform(layer));
    cmd.dispatch_span(pipe, b, p, g.x, g.y);
    return rec;
}

void record_combine(Kernels& k, vk::Commands& cmd, const kv::Cache& cache, const Recorded& rec, vk::BufferRange out,
                    vk::BufferRange scratch, const AttentionConfig& cfg) {
    const bool has_sinks = cfg.sink_logits.buffer != nullptr;
    shader::AttnCombineParams p{uint32_t(rec.n_rows), cfg.n_head, rec.n_splits, has_sinks ? 1u : 0u};
    const Grid g = grid_for(rec.n_rows, k.caps());
    cmd.dispatch(k.pipeline("attention_combine_f32", {k.wg_size(kCombineWg), cache.head_dim()}),
                 {scratch, has_sinks ? cfg.sink_logits : scratch, out}, p, g.x, g.y);
}

}  // namespace

std::string attention_variant(const vk::Capabilities& caps, const AttentionConfig& cfg) {
    using V = AttentionConfig::Variant;
    if (cfg.variant == V::portable) return "attention_f16_f32";
    if (cfg.variant == V::subgroup) {
        if (!caps.subgroup_reduce())
            fail(Status::feature_missing, "attention: the subgroup variant needs subgroup arithmetic in compute");
        return "attention_f16_f32_sg";
    }
    return caps.subgroup_reduce() ? "attention_f16_f32_sg" : "attention_f16_f32";
}

std::string attention_texel_blocker(const vk::Capabilities& caps, const kv::Cache& cache, uint32_t layer,
                                    uint32_t n_tokens, const AttentionConfig& cfg) {
    if (!caps.texel_buffers) return "no uniform texel buffers (or VKS_DISABLE=texel)";
    const uint32_t d = cache.head_dim(), n_rot = cache.n_rot(layer);
    if (d % 8 != 0) return strfmt("head_dim %u is not a multiple of 8 (8 halves per texel)", d);
    if (n_rot % 16 != 0) return strfmt("n_rot %u is not a multiple of 16", n_rot);
    const uint64_t limit = caps.max_texel_buffer_elements;
    const uint64_t ring = std::max(cache.k_layout(layer).words, cache.v_layout(layer).words) / 4;  // 4 words per texel
    const uint64_t rope = uint64_t(cache.capacity(layer)) * n_rot / 4;
    const uint64_t qt = uint64_t(std::max(n_tokens, 1u)) * std::max(cfg.n_head, 1u) * d / 4;
    const uint64_t kvt = uint64_t(std::max(n_tokens, 1u)) * cache.n_head_kv() * d / 4;
    const uint64_t most = std::max({ring, rope, qt, kvt});
    if (most > limit)
        return strfmt("a binding needs %llu texels, over the device's %llu", (unsigned long long)most,
                      (unsigned long long)limit);
    return "";
}

std::string attention_variant(const vk::Capabilities& caps, const kv::Cache& cache, uint32_t layer, uint32_t n_tokens,
                              const AttentionConfig& cfg) {
    if (cfg.reads != AttentionConfig::Reads::ssbo) {
        const std::string why = attention_texel_blocker(caps, cache, layer, n_tokens, cfg);
        if (why.empty() && !rotated_cache(cache)) return with_cache_types(attention_variant(caps, cfg), cache) + "_tb";
        if (why.empty()) {
            // A rotated cache: the subgroup texel form where it fits, else the portable form.
            std::string blocker = cfg.variant == AttentionConfig::Variant::portable ? "the portable form was asked for"
                                  : !is_subgroup(attention_variant(caps, cfg))       ? "no subgroup arithmetic"
                                                                                     : "";
            if (blocker.empty()) blocker = rotated_subgroup_blocker(caps, cache, layer, cfg);
            if (blocker.empty()) return with_cache_types(attention_variant(caps, cfg), cache) + "_tb";
            if (cfg.reads == AttentionConfig::Reads::texel || cfg.variant == AttentionConfig::Variant::subgroup)
                fail(Status::unsupported, "attention: a cache with the Hadamard rotation has texel reads in the "
                                          "subgroup form only, and it cannot run here: %s", blocker.c_str());
            return storage_variant(caps, cache, cfg, false);
        }
        if (cfg.reads == AttentionConfig::Reads::texel)
            fail(Status::feature_missing, "attention: texel reads requested but %s", why.c_str());
    }
    return storage_variant(caps, cache, cfg, true);
}

uint32_t attention_splits(const kv::Cache& cache, uint32_t layer, uint32_t n_tokens, const AttentionConfig& cfg) {
    const uint32_t cap = cache.capacity(layer);
    if (cfg.n_splits != 0) return std::min(cfg.n_splits, cap);  // more splits than keys is pointless
    const uint64_t rows = std::max<uint64_t>(uint64_t(n_tokens) * std::max(cfg.n_head, 1u), 1);
    // Enough (query, head, split) items to fill the device, but at least kMinKeysPerSplit keys
    // each when the view is full; a long prefill chunk has enough rows without splitting.
    const uint64_t by_keys = (cap + kMinKeysPerSplit - 1) / kMinKeysPerSplit;
    const vk::Capabilities& caps = cache.device().caps();
    uint64_t by_items = std::max<uint64_t>(kTargetItemsGpu / rows, 1);
    if (caps.type == VK_PHYSICAL_DEVICE_TYPE_CPU) {
        if (!is_subgroup(attention_variant(caps, cache, layer, n_tokens, cfg))) {  // 64 items per workgroup
            by_items = std::max<uint64_t>(8 * kAttnWg / rows, 1);
        } else {
            // One workgroup per (query, block of NQ heads, split), each a CPU thread's job: about
            // two per thread keeps the threads busy; more only adds per-workgroup setup and
            // combine work (measured on lavapipe, 2 threads, SmolLM2 shape: 2 splits beat 7).
            const uint32_t group = cfg.n_head ? cfg.n_head / cache.n_head_kv() : 1;
            const uint64_t wg_per_split = std::max<uint64_t>(rows / heads_per_workgroup(group, cache.head_dim()), 1);
            const uint64_t target = 2 * uint64_t(std::max(std::thread::hardware_concurrency(), 1u));
            by_items = std::max<uint64_t>((target + wg_per_split - 1) / wg_per_split, 1);
            by_items = std::min<uint64_t>(by_items, (cap + kCpuSlotsPerSplit - 1) / kCpuSlotsPerSplit);
        }
    }
    return uint32_t(std::max<uint64_t>(std::min(by_keys, by_items), 1));
}

uint64_t attention_scratch_bytes(const kv::Cache& cache, uint32_t layer, uint32_t n_tokens,
                                 const AttentionConfig& cfg) {
    const uint32_t s = attention_splits(cache, layer, n_tokens, cfg);
    if (s <= 1) return 0;
    const uint64_t n_items = uint64_t(n_tokens) * cfg.n_head * s;
    return n_items * (2 + uint64_t(cache.head_dim())) * 4;  // (m, l) then acc per item
}

uint64_t attention_scratch_bytes_max(const kv::Cache& cache, uint32_t max_tokens, const AttentionConfig& cfg) {
    uint64_t most = 0;
    // Splits depend on a layer's capacity only: one layer of each distinct capacity will do, but
    // all layers is simple and cheap.
    for (uint32_t layer = 0; layer < cache.n_layer(); ++layer) {
        for (uint32_t n = 1; n <= max_tokens; ++n) {
            most = std::max(most, attention_scratch_bytes(cache, layer, n, cfg));
            if (attention_splits(cache, layer, n, cfg) == 1 && cfg.n_splits == 0) break;  // larger n never split again
        }
    }
    return most;
}

void attention(Kernels& k, vk::Commands& cmd, const kv::Cache& cache, uint32_t layer, const kv::Step& step,
               vk::BufferRange q, vk::BufferRange k_new, vk::BufferRange v_new, vk::BufferRange out,
               vk::BufferRange scratch, const AttentionConfig& cfg) {
    if (rotated_cache(cache))
        fail(Status::unsupported, "attention: a cache with the Hadamard rotation needs attention_and_store (its "
                                  "fresh rows must be rotated first)");
    const Recorded rec = record_main(k, cmd, cache, layer, step, q, k_new, v_new, out, scratch, cfg, false);
    if (rec.n_splits > 1) {
        cmd.barrier();
        record_combine(k, cmd, cache, rec, out, scratch, cfg);
    }
}

void kv_store(Kernels& k, vk::Commands& cmd, const kv::Cache& cache, uint32_t layer, const kv::Step& step,
              vk::BufferRange k_new, vk::BufferRange v_new) {
    check_common(cache, layer, step);
    if (cache.types().quantized()) {
        kv_quant(k, cmd, cache, layer, step, k_new, v_new, false, true);
        return;
    }
    const uint64_t row_words = uint64_t(cache.n_head_kv()) * cache.head_dim() / 2;
    const uint64_t n_words = row_words * step.n_tokens;
    check_range("k_new", k_new, n_words * 8);
    check_range("v_new", v_new, n_words * 8);
    if (n_words > UINT32_MAX / 2) fail(Status::unsupported, "kv_store: chunk of %u tokens too large", step.n_tokens);
    const kv::CacheShape& shape = cache.shape(layer);
    shader::KvStoreParams p{step.n_tokens,  uint32_t(row_words), shape.n_sink, shape.n_window,
                            cache.step_record(step, layer), uint32_t(n_words)};
    const uint32_t wg = k.wg_size(256);
    const Grid g = grid_for((n_words + wg - 1) / wg, k.caps());
    cmd.dispatch(k.pipeline("kv_store_f16_f32", {wg}), {cache.step_params(), k_new, v_new, cache.k(layer), cache.v(layer)},
                 p, g.x, g.y);
}

void attention_and_store(Kernels& k, vk::Commands& cmd, const kv::Cache& cache, uint32_t layer, const kv::Step& step,
                         vk::BufferRange q, vk::BufferRange k_new, vk::BufferRange v_new, vk::BufferRange out,
                         vk::BufferRange scratch, const AttentionConfig& cfg) {
    if (cache.types().quantized()) {
        // ops/kv_quant.hpp: encode the fresh rows first (decode: and store them, safe for the
        // same reason as the fused f16 store below), then attend; a chunk stores afterwards.
        const bool one = step.n_tokens == 1;
        kv_quant(k, cmd, cache, layer, step, k_new, v_new, true, one);
        cmd.barrier();
        const Recorded rec = record_main(k, cmd, cache, layer, step, q, k_new, v_new, out, scratch, cfg, false);
        if (!one || rec.n_splits > 1) cmd.barrier();
        if (rec.n_splits > 1) record_combine(k, cmd, cache, rec, out, scratch, cfg);
        if (!one) kv_quant(k, cmd, cache, layer, step, k_new, v_new, false, true, rotated_cache(cache));
        return;
    }
    // A one-token step (decode) stores its K/V inside the attention dispatch: the slot it writes
    // is one no query of the step reads (ring_store_slot, shaders/attention_common.glsl).
    const bool fused = step.n_tokens == 1;
    const Recorded rec = record_main(k, cmd, cache, layer, step, q, k_new, v_new, out, scratch, cfg, fused);
    if (fused) {
        if (rec.n_splits > 1) {
            cmd.barrier();
            record_combine(k, cmd, cache, rec, out, scratch, cfg);
        }
        return;
    }
    cmd.barrier();  // the ring must not change under the attention's reads (write-after-read)
    if (rec.n_splits > 1) record_combine(k, cmd, cache, rec, out, scratch, cfg);
    kv_store(k, cmd, cache, layer, step, k_new, v_new);
}

std::vector<VariantChoice> describe_attention_variants(const vk::Capabilities& caps) {
    const bool sg = caps.subgroup_reduce();
    const std::string base = sg ? "attention_f16_f32_sg" : "attention_f16_f32";
    std::string why = sg ? "subgroup arithmetic: one subgroup per (query, head block, split), lanes over head dims"
                         : "no subgroup arithmetic: one invocation per (query, head, split)";
    if (caps.texel_buffers)
        why += strfmt("; reads through uniform texel buffers (up to %llu texels per binding; storage buffers "
                      "for head_dim %% 8 != 0, n_rot %% 16 != 0 or larger caches)",
                      (unsigned long long)caps.max_texel_buffer_elements);
    else
        why += "; storage-buffer reads (no uniform texel buffers)";
    return {
        {"attention", caps.texel_buffers ? base + "_tb" : base, why},
        {"attention_combine", "attention_combine_f32", "portable: merges flash-decoding split partials"},
        {"kv_store", "kv_store_f16_f32", "portable: f16 packed in uint words, no 16-bit storage needed"},
    };
}

}  // namespace vks::ops
