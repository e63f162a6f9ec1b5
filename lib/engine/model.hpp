#pragma once
// A model ready to run: the mmapped GGUF, its Description, its tokenizer, a Vulkan device and
// every weight uploaded to it once. Sessions (engine/session.hpp) share a Model through
// shared_ptr, so a model stays alive until its last session is gone.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gguf/reader.hpp"
#include "model/description.hpp"
#include "ops/kernels.hpp"
#include "ops/matmul.hpp"
#include "kv/key_transform.hpp"
#include "tokenizer/chat_template.hpp"
#include "tokenizer/tokenizer.hpp"
#include "vk/buffer.hpp"
#include "vk/device.hpp"
#include "vk/instance.hpp"

namespace vks::engine {

struct ModelOptions {
    size_t device_index = SIZE_MAX;  // SIZE_MAX: VKS_DEVICE, else discrete > integrated > virtual > cpu
    bool validation = false;         // Vulkan validation layer (also VKS_VALIDATE=1)
    // Upload progress in [0, 1]; return false to cancel the load (Status::cancelled).
    std::function<bool(float)> progress;
};

// The device copy of one transformer block. Optional tensors are empty buffers.
struct LayerWeights {
    vk::Buffer attn_norm;                   // (n_embd) f32
    // q, k and v stacked row-wise into one (q_dim + 2 kv_dim, n_embd) tensor when they share a
    // type (one matvec instead of three; the session writes it as three output segments): then
    // q, k and v are empty. Otherwise qkv is empty and q, k, v hold the three projections.
    ops::WeightTensor qkv;
    ops::WeightTensor q, k, v, o;           // (q_dim, n_embd), (kv_dim, n_embd) x2, (n_embd, q_dim)
    vk::Buffer q_bias, k_bias, v_bias;      // qwen2: (q_dim), (kv_dim), (kv_dim) f32
    vk::Buffer q_norm, k_norm;              // gemma3: (head_dim) f32
    vk::Buffer post_attn_norm;              // gemma3: (n_embd) f32
    vk::Buffer ffn_norm;                    // (n_embd) f32
    // gate and up as one paired tensor (ops::upload_paired_weight) where the device runs the
    // paired epilogue (CPU devices, matching types): one matvec gives act(gate) * up. Then gate
    // and up are empty; otherwise gate_up is empty.
    ops::WeightTensor gate_up;
    ops::WeightTensor gate, up, down;       // (n_ff, n_embd) x2, (n_embd, n_ff)
    vk::Buffer post_ffn_norm;               // gemma3: (n_embd) f32
};

class Model {
public:
    // Opens, validates and uploads. Errors: io_error, bad_format, unsupported (architecture,
    // tensor type), feature_missing (no device), out_of_device_memory, cancelled.
    static std::shared_ptr<Model> load(const std::string& path, const ModelOptions& options = {});
    ~Model();
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    const model::Description& desc() const { return desc_; }
    const tokenizer::Tokenizer& tokenizer() const { return *tokenizer_; }
    const tokenizer::ChatFormat& chat_format() const { return chat_format_; }
    const gguf::File& file() const { return *file_; }
    const std::string& path() const { return path_; }

    vk::Device& device() const { return *device_; }
    ops::Kernels& kernels() const { return *kernels_; }
    const vk::Instance& instance() const { return *instance_; }

    const std::vector<LayerWeights>& layers() const { return layers_; }
    const vk::Buffer& output_norm() const { return output_norm_; }
    const ops::WeightTensor& output() const { return output_; }

    // Embedding of `token` (n_embd floats, already scaled for gemma3) into `out`, dequantized on
    // the host from the mapped file: one row per token is cheaper than a device gather and keeps
    // the 100+ MiB embedding tables of large vocabularies off the per-binding limit.
    void embed(int32_t token, float* out) const;

    uint64_t weight_bytes() const { return weight_bytes_; }  // device bytes of all weights
    uint64_t n_params() const { return n_params_; }

    // The model's calibrated key transform (kv/key_transform.hpp): `compute` runs once per model,
    // at the first rotated quantized session; later sessions (a server's slots) reuse the result.
    // Thread-safe. A throwing `compute` caches nothing.
    const kv::KeyTransform& key_transform(const std::function<kv::KeyTransform()>& compute) const;

private:
    Model() = default;

    mutable std::mutex key_transform_mutex_;
    mutable std::unique_ptr<kv::KeyTransform> key_transform_;

    std::string path_;
    std::unique_ptr<gguf::File> file_;  // stable address: desc_ points into its tensor table
    model::Description desc_;
    std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
    tokenizer::ChatFormat chat_format_;
    // Declaration order = reverse destruction order: weights go before the device, the device
    // before the instance.
    std::unique_ptr<vk::Instance> instance_;
    std::unique_ptr<vk::Device> device_;
    std::unique_ptr<ops::Kernels> kernels_;
    std::vector<LayerWeights> layers_;
    vk::Buffer output_norm_;
    ops::WeightTensor output_;
    uint64_t weight_bytes_ = 0;
    uint64_t n_params_ = 0;
};

}  // namespace vks::engine
