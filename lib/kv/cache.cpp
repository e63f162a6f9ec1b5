#include "kv/cache.hpp"

#include <algorithm>
#include <string>

#include "common/error.hpp"
#include "shaders/params.h"

namespace vks::kv {

CacheConfig CacheConfig::uniform(uint32_t n_layer, const CacheShape& shape, const RopeConfig& rope, uint32_t n_head_kv,
                                 uint32_t head_dim) {
    CacheConfig c;
    c.layers.assign(n_layer, LayerKv{shape, rope});
    c.n_head_kv = n_head_kv;
    c.head_dim = head_dim;
    return c;
}

void CacheConfig::validate() const {
    if (layers.empty() || n_head_kv == 0 || head_dim == 0)
        fail(Status::invalid_argument, "kv cache: n_layer (%u), n_head_kv (%u), head_dim (%u) must be > 0", n_layer(),
             n_head_kv, head_dim);
    if (head_dim % 2 != 0) fail(Status::unsupported, "kv cache: head_dim %u must be even (f16 pairs)", head_dim);
    types.validate(head_dim);
    if (max_steps == 0) fail(Status::invalid_argument, "kv cache: max_steps must be >= 1");
    for (const LayerKv& l : layers) {
        l.shape.validate();
        l.rope.validate(head_dim);
    }
}

Cache::Cache(vk::Device& device, const CacheConfig& config) : device_(device), config_(config) {
    config_.validate();
    for (const LayerKv& l : config_.layers) {
        uint32_t g = 0;
        while (g < groups_.size() && !(groups_[g] == l)) ++g;
        if (g == groups_.size()) groups_.push_back(l);
        group_of_.push_back(g);
    }
    const uint32_t n_layer = config_.n_layer();
    const CacheTypes& t = config_.types;
    for (uint32_t l = 0; l < n_layer; ++l) {
        const CacheShape& sh = config_.layers[l].shape;
        k_layout_.push_back(row_layout(t.k, sh.capacity(), sh.n_sink, config_.n_head_kv, config_.head_dim, t.f16_sinks));
        v_layout_.push_back(row_layout(t.v, sh.capacity(), sh.n_sink, config_.n_head_kv, config_.head_dim, t.f16_sinks));
        for (const RowLayout* rl : {&k_layout_.back(), &v_layout_.back()})
            if (rl->bytes() > device.caps().max_binding_bytes())
                fail(Status::unsupported,
                     "kv cache: layer %u's %s is %llu bytes (capacity %u x %u kv heads x %u dims, %s), over the "
                     "device's per-binding limit of %llu bytes; use a smaller window or a quantized cache type",
                     l, rl == &k_layout_.back() ? "K" : "V", (unsigned long long)rl->bytes(), capacity(l),
                     config_.n_head_kv, config_.head_dim, quant::info(rl->type).name,
                     (unsigned long long)device.caps().max_binding_bytes());
    }
    k_.reserve(n_layer);
    v_.reserve(n_layer);
    for (uint32_t l = 0; l < n_layer; ++l) {
        k_.emplace_back(device, k_layout_[l].bytes(), vk::BufferKind::device, strfmt("kv.k.%u", l));
        v_.emplace_back(device, v_layout_[l].bytes(), vk::BufferKind::device, strfmt("kv.v.%u", l));
    }
    for (uint32_t g = 0; g < groups_.size(); ++g) {
        const std::vector<float> table =
            rope_cos_sin_table(groups_[g].shape.capacity(), config_.head_dim, groups_[g].rope);
        rope_.emplace_back(device, table.size() * sizeof(float), vk::BufferKind::device, strfmt("kv.rope.%u", g));
        rope_.back().upload(table.data(), table.size() * sizeof(float));
    }
    steps_ = vk::Buffer(device, uint64_t(config_.max_steps) * groups_.size() * sizeof(shader::AttnStep),
                        vk::BufferKind::device, "kv.steps");
    steps_.fill_zero();
    steps_host_ = vk::Buffer(device, steps_.size(), vk::BufferKind::staging, "kv.steps.host");
    steps_host_.fill_zero();
    if (t.hadamard && t.quantized()) {
        const KeyTransform id = KeyTransform::identity(n_layer, config_.n_head_kv, config_.head_dim);
        key_transform_buf_ = vk::Buffer(device, id.values.size() * sizeof(float), vk::BufferKind::device, "kv.key_transform");
        set_key_transform(id);
    }
}

vk::BufferRange Cache::key_transform(uint32_t layer) const {
    if (key_transform_.empty()) fail(Status::invalid_argument, "kv cache: no key transform (not a rotated quantized cache)");
    if (layer >= n_layer()) fail(Status::invalid_argument, "kv cache: layer %u >= %u", layer, n_layer());
    // Each layer's slice is a multiple of 256 bytes (head_dim % 32 == 0): any offset alignment.
    const uint64_t bytes = uint64_t(config_.n_head_kv) * 2 * config_.head_dim * sizeof(float);
    return vk::BufferRange(key_transform_buf_, layer * bytes, bytes);
}

void Cache::set_key_transform(const KeyTransform& t) {
    if (!key_transform_buf_) fail(Status::invalid_argument, "kv cache: no key transform (not a rotated quantized cache)");
    if (t.n_layer != n_layer() || t.n_head_kv != config_.n_head_kv || t.head_dim != config_.head_dim ||
        t.values.size() != size_t(t.n_layer) * t.n_head_kv * 2 * t.head_dim)
        fail(Status::invalid_argument, "kv cache: key transform of %u layers x %u kv heads x %u dims for a cache of %u x %u x %u",
             t.n_layer, t.n_head_kv, t.head_dim, n_layer(), config_.n_head_kv, config_.head_dim);
    key_transform_buf_.upload(t.values.data(), t.values.size() * sizeof(float));
    key_transform_ = t;
}

namespace {
void check_layer(uint32_t layer, uint32_t n_layer) {
    if (layer >= n_layer) fail(Status::invalid_argument, "kv cache: layer %u >= %u", layer, n_layer);
}
}  // namespace

const LayerKv& Cache::layer_kv(uint32_t layer) const {
    check_layer(layer, n_layer());
    return config_.layers[layer];
}

uint32_t Cache::max_capacity() const {
    uint32_t c = 0;
    for (const LayerKv& l : groups_) c = std::max(c, l.shape.capacity());
    return c;
}

const vk::Buffer& Cache::k(uint32_t layer) const {
    check_layer(layer, n_layer());
    return k_[layer];
}

const vk::Buffer& Cache::v(uint32_t layer) const {
    check_layer(layer, n_layer());
    return v_[layer];
}

const RowLayout& Cache::k_layout(uint32_t layer) const {
    check_layer(layer, n_layer());
    return k_layout_[layer];
}

const RowLayout& Cache::v_layout(uint32_t layer) const {
    check_layer(layer, n_layer());
    return v_layout_[layer];
}

const vk::Buffer& Cache::rope_table(uint32_t layer) const {
    check_layer(layer, n_layer());
    return rope_[group_of_[layer]];
}

uint32_t Cache::step_record(const Step& step, uint32_t layer) const {
    check_layer(layer, n_layer());
    if (step.index >= config_.max_steps)
        fail(Status::invalid_argument, "kv cache: step record %u >= max_steps %u", step.index, config_.max_steps);
    return step.index * n_groups() + group_of_[layer];
}

Step Cache::set_step(uint32_t index, uint64_t t0, uint32_t n_tokens) {
    if (index >= config_.max_steps)
        fail(Status::invalid_argument, "kv cache: step record %u >= max_steps %u", index, config_.max_steps);
    if (n_tokens == 0) fail(Status::invalid_argument, "kv cache: a step needs at least one token");
    for (uint32_t g = 0; g < groups_.size(); ++g) {
        const ChunkParams cp = chunk_params(t0, groups_[g].shape);
        const shader::AttnStep rec{cp.t0_clamped, cp.t0_ring, 0, 0};
        const uint64_t at = (uint64_t(index) * groups_.size() + g) * sizeof(rec);
        steps_host_.upload(&rec, sizeof(rec), at);  // mapped: a memcpy
    }
    return Step{index, n_tokens};
}

void Cache::record_step_upload(vk::Commands& cmd) const {
    cmd.copy(steps_host_, 0, steps_, 0, steps_.size());
    cmd.barrier();
}

uint64_t Cache::bytes_per_layer(uint32_t layer) const { return k_layout(layer).bytes() + v_layout(layer).bytes(); }

uint64_t Cache::kv_bytes() const {
    uint64_t total = 0;
    for (uint32_t l = 0; l < n_layer(); ++l) total += bytes_per_layer(l);
    return total;
}

uint64_t Cache::bytes_per_token() const {
    return kv_bytes_per_token(config_.types, config_.n_head_kv, config_.head_dim) * n_layer();
}

uint64_t Cache::bytes() const {
    uint64_t total = steps_.allocation_size() + steps_host_.allocation_size();
    for (const auto& b : rope_) total += b.allocation_size();
    for (const auto& b : k_) total += b.allocation_size();
    for (const auto& b : v_) total += b.allocation_size();
    if (key_transform_buf_) total += key_transform_buf_.allocation_size();
    return total;
}

}  // namespace vks::kv
