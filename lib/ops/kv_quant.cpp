#include "ops/kv_quant.hpp"

#include "common/error.hpp"

namespace vks::ops {

std::string cache_type_tag(const kv::CacheTypes& types) {
    const std::string k = quant::info(types.k).name, v = quant::info(types.v).name;
    const std::string tag = k == v ? k : k + "_" + v;
    return types.hadamard && types.quantized() ? tag + "_had" : tag;
}

shader::KvLayout kv_layout_params(const kv::Cache& cache, uint32_t layer) {
    const kv::RowLayout& kl = cache.k_layout(layer);
    const kv::RowLayout& vl = cache.v_layout(layer);
    shader::KvLayout l{};
    l.k_scale_off = kl.scale_offset;
    l.v_scale_off = vl.scale_offset;
    l.k_sink_off = kl.sink_offset;
    l.v_sink_off = vl.sink_offset;
    // The same rows are f16 in K and V (an f16 tensor has no separate sink region and ignores it).
    l.sink_rows = cache.types().f16_sinks ? cache.shape(layer).n_sink * cache.n_head_kv() : 0;
    return l;
}

void kv_quant(Kernels& k, vk::Commands& cmd, const kv::Cache& cache, uint32_t layer, const kv::Step& step,
              vk::BufferRange k_new, vk::BufferRange v_new, bool round, bool store, bool rows_rotated) {
    if (!cache.types().quantized()) fail(Status::invalid_argument, "kv_quant: the cache is f16 (use kv_store)");
    if (layer >= cache.n_layer()) fail(Status::invalid_argument, "kv_quant: layer %u >= %u", layer, cache.n_layer());
    if (step.n_tokens == 0 || step.index >= cache.config().max_steps)
        fail(Status::invalid_argument, "kv_quant: step of %u tokens at record %u", step.n_tokens, step.index);
    const uint64_t row_bytes = uint64_t(cache.n_head_kv()) * cache.head_dim() * 4 * step.n_tokens;
    for (auto [what, r] : {std::pair{"k_new", k_new}, std::pair{"v_new", v_new}}) {
        if (!r.buffer || !*r.buffer) fail(Status::invalid_argument, "kv_quant: %s buffer is missing", what);
        if (r.resolved_size() < row_bytes)
            fail(Status::invalid_argument, "kv_quant: %s range holds %llu bytes, needs %llu", what,
                 (unsigned long long)r.resolved_size(), (unsigned long long)row_bytes);
    }
    const bool hadamard = cache.types().hadamard;
    if (hadamard && cache.head_dim() > kMaxHadamardHeadDim)
        fail(Status::unsupported, "kv_quant: the Hadamard rotation on the device takes head_dim up to %u, got %u",
             kMaxHadamardHeadDim, cache.head_dim());
    if (rows_rotated && (!hadamard || round))
        fail(Status::invalid_argument, "kv_quant: rows_rotated is for a store after a round of a Hadamard cache");
    // Invocations per row (kv_quant.comp): one per pair of blocks, or one per row when rotating.
    const uint64_t pairs = hadamard ? 1 : (cache.head_dim() / 32 + 1) / 2;
    const uint64_t n_items = uint64_t(step.n_tokens) * cache.n_head_kv() * pairs;
    if (n_items > UINT32_MAX / 2) fail(Status::unsupported, "kv_quant: chunk of %u tokens too large", step.n_tokens);
    shader::KvQuantParams p{};
    p.n_tokens = step.n_tokens;
    p.n_head_kv = cache.n_head_kv();
    p.head_dim = cache.head_dim();
    p.n_sink = cache.shape(layer).n_sink;
    p.n_window = cache.shape(layer).n_window;
    p.step_index = cache.step_record(step, layer);
    p.round = round ? 1u : 0u;
    p.store = store ? 1u : 0u;
    p.n_items = uint32_t(n_items);
    p.rotated = rows_rotated ? 1u : 0u;
    p.kv = kv_layout_params(cache, layer);
    const uint32_t wg = k.wg_size(64);
    const Grid g = grid_for((n_items + wg - 1) / wg, k.caps());
    const vk::Pipeline& pipe = k.pipeline("kv_quant_" + cache_type_tag(cache.types()) + "_f32", {wg});
    // The rotated kernels with a quantized K also map K rows by the cache's key transform
    // (binding 5; absent from the SPIR-V where K is f16).
    if (hadamard && pipe.interface().n_bindings == 6)
        cmd.dispatch(pipe, {cache.step_params(), k_new, v_new, cache.k(layer), cache.v(layer), cache.key_transform(layer)}, p,
                     g.x, g.y);
    else
        cmd.dispatch(pipe, {cache.step_params(), k_new, v_new, cache.k(layer), cache.v(layer)}, p, g.x, g.y);
}

}  // namespace vks::ops
