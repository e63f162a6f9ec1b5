#pragma once
// The circular sink cache on the device (kv/contract.h states the slot/position rule).
//
// Per layer: one K and one V buffer of that layer's capacity C = n_sink + n_window slots (layers
// may differ: kv::LayerKv, e.g. Gemma 3's sliding-window layers), F16 stored as packed
// halves in uint32 words (2 per word), layout (slot, n_head_kv, head_dim). Keys are stored
// UN-rotated: their cache-relative position changes as the ring turns, so the attention kernel
// rotates them at read time with the RoPE table below. A stored key is never rewritten except by a
// later token taking over its ring slot. Everything is allocated once, at construction: a stream
// of any length runs in constant device memory. Layers with equal LayerKv form a "group" that
// shares one RoPE table and one step record per step (the record depends on the shape).
//
// Step params (why a buffer and not push constants): a decode step is recorded once and replayed,
// but the stream index t advances every step. So the per-step values the shaders need (the 32-bit
// chunk form of t0: min(t0, C) and the ring offset of t0, see kv::chunk_params) live in a small
// storage buffer of `max_steps` x n_groups records (ops read record step_record(step, layer)). The host writes them into a host-visible staging copy
// (set_step: a memcpy, no submission), and every command buffer starts by copying that into the
// device-local records (record_step_upload), so it works the same on discrete GPUs:
//
//     cmd.begin();
//     cache.record_step_upload(cmd);                          // staging -> device, + barrier
//     kv::Step step{0, 1};                                    // record 0, a 1-token chunk
//     for each layer: ... ops::attention_and_store(..., step, ...); cmd.barrier(); ...
//     cmd.end();
//     loop: cache.set_step(0, cache.n_past(), 1); cmd.submit(); cache.advance(1);
//
// Only n_tokens (which fixes dispatch sizes) is baked into a recording. Several chunks recorded
// into ONE command buffer must use different record indices.
#include <cstdint>
#include <vector>

#include "kv/cache_types.hpp"
#include "kv/key_transform.hpp"
#include "kv/rope_table.hpp"
#include "kv/sink_view.hpp"
#include "vk/buffer.hpp"
#include "vk/commands.hpp"
#include "vk/device.hpp"

namespace vks::kv {

struct CacheConfig {
    std::vector<LayerKv> layers;  // (n_layer) each layer's shape and RoPE
    uint32_t n_head_kv = 0;
    uint32_t head_dim = 0;        // even
    uint32_t max_steps = 64;      // steps (chunks) recordable into one command buffer
    CacheTypes types;             // element types of K and V, all layers (kv/cache_types.hpp: layouts)

    // Every layer alike (llama, qwen2, most tests).
    static CacheConfig uniform(uint32_t n_layer, const CacheShape& shape, const RopeConfig& rope,
                               uint32_t n_head_kv, uint32_t head_dim);
    uint32_t n_layer() const { return uint32_t(layers.size()); }
    void validate() const;        // throws invalid_argument / unsupported
};

// A step-params record as baked into a recording: which record, and the chunk length.
struct Step {
    uint32_t index = 0;
    uint32_t n_tokens = 0;
};

class Cache {
public:
    // Allocates all buffers. Throws unsupported when one layer's K (or V) exceeds the device's
    // per-binding limit (caps.max_binding_bytes()), out_of_device_memory when memory runs out.
    Cache(vk::Device& device, const CacheConfig& config);
    Cache(const Cache&) = delete;
    Cache& operator=(const Cache&) = delete;

    vk::Device& device() const { return device_; }
    const CacheConfig& config() const { return config_; }
    uint32_t n_layer() const { return config_.n_layer(); }
    uint32_t n_head_kv() const { return config_.n_head_kv; }
    uint32_t head_dim() const { return config_.head_dim; }
    // Per layer (all throw invalid_argument for layer >= n_layer):
    const LayerKv& layer_kv(uint32_t layer) const;
    const CacheShape& shape(uint32_t layer) const { return layer_kv(layer).shape; }
    uint32_t capacity(uint32_t layer) const { return shape(layer).capacity(); }
    const RopeConfig& rope(uint32_t layer) const { return layer_kv(layer).rope; }
    uint32_t n_rot(uint32_t layer) const { return rope(layer).rotated_dims(config_.head_dim); }
    uint32_t max_capacity() const;  // over all layers

    // Layer buffers, laid out as k_layout() / v_layout() say (f16: (C, n_head_kv, head_dim / 2)
    // uint32 = 2 x f16; quantized: quants, scales and f16 sink rows, see kv/cache_types.hpp).
    const vk::Buffer& k(uint32_t layer) const;
    const vk::Buffer& v(uint32_t layer) const;
    const CacheTypes& types() const { return config_.types; }
    const RowLayout& k_layout(uint32_t layer) const;  // how layer's K buffer is laid out
    const RowLayout& v_layout(uint32_t layer) const;
    const vk::Buffer& rope_table(uint32_t layer) const;       // (C, n_rot / 2) (cos, sin) f32
    const vk::Buffer& step_params() const { return steps_; }  // (max_steps, n_groups) shader::AttnStep
    // A rotated quantized cache's K map (kv/key_transform.hpp): the identity until
    // set_key_transform; on the device, layer's (n_head_kv, 2, head_dim) floats for the rotated
    // kv_quant and attention kernels. Only where types().hadamard && quantized() (else
    // invalid_argument); key_transform_values() is empty then.
    bool has_key_transform() const { return !key_transform_.empty(); }
    vk::BufferRange key_transform(uint32_t layer) const;
    const KeyTransform& key_transform_values() const { return key_transform_; }
    void set_key_transform(const KeyTransform& t);  // invalid_argument on other dimensions
    // The step-params record a shader reads for `layer` in `step`.
    uint32_t step_record(const Step& step, uint32_t layer) const;
    uint32_t n_groups() const { return uint32_t(groups_.size()); }

    // Writes record `index` of every group (host staging copy) for a chunk of n_tokens starting at
    // stream index t0; returns the Step to record ops with. Call again (same index and n_tokens)
    // before every submission of a recording; the recording must begin with record_step_upload.
    Step set_step(uint32_t index, uint64_t t0, uint32_t n_tokens);
    // Records the copy of all step records from the staging copy to the device, and a barrier.
    // Put it first in every command buffer that runs attention or kv_store on this cache.
    void record_step_upload(vk::Commands& cmd) const;

    // Stream position: tokens that have entered the cache so far (the next token's index).
    uint64_t n_past() const { return n_past_; }
    void advance(uint64_t n_tokens) { n_past_ += n_tokens; }
    // Starts a new stream. Nothing is cleared: visibility is decided by n_past alone.
    void reset() { n_past_ = 0; }

    uint64_t bytes_per_layer(uint32_t layer) const;  // K + V of one layer (requested sizes)
    uint64_t kv_bytes() const;                       // K + V of all layers (requested sizes)
    // K + V bytes one cached token takes over all layers (window slots; f16 sink rows aside).
    uint64_t bytes_per_token() const;
    uint64_t bytes() const;                          // everything this cache allocated on the device

private:
    vk::Device& device_;
    CacheConfig config_;
    std::vector<LayerKv> groups_;     // distinct LayerKv values, in first-use order
    std::vector<uint32_t> group_of_;  // (n_layer) index into groups_
    std::vector<RowLayout> k_layout_, v_layout_;  // (n_layer)
    std::vector<vk::Buffer> k_, v_;   // (n_layer)
    std::vector<vk::Buffer> rope_;    // (n_groups)
    vk::Buffer steps_;       // device-local records the shaders read
    KeyTransform key_transform_;    // host copy of key_transform_buf_
    vk::Buffer key_transform_buf_;  // (n_layer, n_head_kv, 2, head_dim) f32
    vk::Buffer steps_host_;  // host-visible staging copy that set_step writes
    uint64_t n_past_ = 0;
};

}  // namespace vks::kv
