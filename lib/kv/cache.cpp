#include "kv/cache.hpp"

#include <string>

#include "common/error.hpp"
#include "shaders/params.h"

namespace vks::kv {

void CacheConfig::validate() const {
    shape.validate();
    if (n_layer == 0 || n_head_kv == 0 || head_dim == 0)
        fail(Status::invalid_argument, "kv cache: n_layer (%u), n_head_kv (%u), head_dim (%u) must be > 0", n_layer,
             n_head_kv, head_dim);
    if (head_dim % 2 != 0) fail(Status::unsupported, "kv cache: head_dim %u must be even (f16 pairs)", head_dim);
    types.validate(head_dim);
    if (max_steps == 0) fail(Status::invalid_argument, "kv cache: max_steps must be >= 1");
    rope.validate(head_dim);
}

Cache::Cache(vk::Device& device, const CacheConfig& config) : device_(device), config_(config) {
    config_.validate();
    const CacheTypes& t = config_.types;
    k_layout_ = row_layout(t.k, capacity(), config_.shape.n_sink, config_.n_head_kv, config_.head_dim, t.f16_sinks);
    v_layout_ = row_layout(t.v, capacity(), config_.shape.n_sink, config_.n_head_kv, config_.head_dim, t.f16_sinks);
    for (const RowLayout* l : {&k_layout_, &v_layout_})
        if (l->bytes() > device.caps().max_binding_bytes())
            fail(Status::unsupported,
                 "kv cache: one layer's %s is %llu bytes (capacity %u x %u kv heads x %u dims, %s), over the "
                 "device's per-binding limit of %llu bytes; use a smaller window or a quantized cache type",
                 l == &k_layout_ ? "K" : "V", (unsigned long long)l->bytes(), capacity(), config_.n_head_kv,
                 config_.head_dim, quant::info(l->type).name, (unsigned long long)device.caps().max_binding_bytes());
    k_.reserve(config_.n_layer);
    v_.reserve(config_.n_layer);
    for (uint32_t l = 0; l < config_.n_layer; ++l) {
        k_.emplace_back(device, k_layout_.bytes(), vk::BufferKind::device, strfmt("kv.k.%u", l));
        v_.emplace_back(device, v_layout_.bytes(), vk::BufferKind::device, strfmt("kv.v.%u", l));
    }
    const std::vector<float> table = rope_cos_sin_table(capacity(), config_.head_dim, config_.rope);
    rope_ = vk::Buffer(device, table.size() * sizeof(float), vk::BufferKind::device, "kv.rope");
    rope_.upload(table.data(), table.size() * sizeof(float));
    steps_ = vk::Buffer(device, uint64_t(config_.max_steps) * sizeof(shader::AttnStep), vk::BufferKind::device,
                        "kv.steps");
    steps_.fill_zero();
    steps_host_ = vk::Buffer(device, steps_.size(), vk::BufferKind::staging, "kv.steps.host");
    steps_host_.fill_zero();
}

const vk::Buffer& Cache::k(uint32_t layer) const {
    if (layer >= config_.n_layer) fail(Status::invalid_argument, "kv cache: layer %u >= %u", layer, config_.n_layer);
    return k_[layer];
}

const vk::Buffer& Cache::v(uint32_t layer) const {
    if (layer >= config_.n_layer) fail(Status::invalid_argument, "kv cache: layer %u >= %u", layer, config_.n_layer);
    return v_[layer];
}

Step Cache::set_step(uint32_t index, uint64_t t0, uint32_t n_tokens) {
    if (index >= config_.max_steps)
        fail(Status::invalid_argument, "kv cache: step record %u >= max_steps %u", index, config_.max_steps);
    if (n_tokens == 0) fail(Status::invalid_argument, "kv cache: a step needs at least one token");
    const ChunkParams cp = chunk_params(t0, config_.shape);
    const shader::AttnStep rec{cp.t0_clamped, cp.t0_ring, 0, 0};
    steps_host_.upload(&rec, sizeof(rec), uint64_t(index) * sizeof(rec));  // mapped: a memcpy
    return Step{index, n_tokens};
}

void Cache::record_step_upload(vk::Commands& cmd) const {
    cmd.copy(steps_host_, 0, steps_, 0, steps_.size());
    cmd.barrier();
}

uint64_t Cache::bytes_per_layer() const { return k_layout_.bytes() + v_layout_.bytes(); }

uint64_t Cache::bytes_per_token() const {
    return kv_bytes_per_token(config_.types, config_.n_head_kv, config_.head_dim) * config_.n_layer;
}

uint64_t Cache::bytes() const {
    uint64_t total = rope_.allocation_size() + steps_.allocation_size() + steps_host_.allocation_size();
    for (const auto& b : k_) total += b.allocation_size();
    for (const auto& b : v_) total += b.allocation_size();
    return total;
}

}  // namespace vks::kv
