#pragma once
// CPU reference forward pass of a whole model, in plain float math (llama2.c style):
// Config (numbers), Weights (every tensor dequantized once to f32), and a Session holding the
// running state. It is the oracle for the GPU engine: the engine's logits must match these.
//
// Attention follows vkstream's StreamingLLM semantics through ref::attention_stream: the
// Session keeps the FULL un-rotated K/V history of every layer (memory grows with the stream;
// fine for tests) and each token attends to the first n_sink stream tokens plus the last
// n_window tokens, with cache-relative RoPE positions. Session::causal() is plain dense causal
// attention with absolute positions (the two agree while the stream fits in sinks + window).
//
// Supported: llama, qwen2, gemma3. Gemma 3's sliding-window ("local") layers see the tokens of
// the layer's view (the StreamingLLM view, or everything for causal()) that are among the
// last `sliding_window` stream tokens, at the same RoPE positions the view gives them; with
// n_window >= sliding_window that is exactly the dense model's sliding window.
#include <cstdint>
#include <functional>
#include <vector>

#include "gguf/reader.hpp"
#include "kv/cache_types.hpp"
#include "kv/key_transform.hpp"
#include "model/description.hpp"
#include "ref/attention.hpp"

namespace vks::ref {

struct Config {
    model::Arch arch = model::Arch::llama;
    uint32_t n_vocab = 0, n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_ff = 0;
    float rms_eps = 1e-5f;
    float final_logit_softcap = 0.0f;  // 0: none
    AttentionParams attn;              // heads, scale, RoPE (global layers)
    AttentionParams attn_local;        // gemma3 sliding-window layers: Description::rope_local
    bool has_qkv_bias = false;         // qwen2
    bool has_qk_norm = false;          // gemma3
    bool has_post_norms = false;       // gemma3
    model::Activation activation = model::Activation::silu;
    float embd_scale = 1.0f;
    uint32_t sliding_window = 0;
    std::vector<bool> local_layers;    // (n_layer)

    static Config from(const model::Description& d);
};

struct LayerWeights {
    std::vector<float> attn_norm;   // (n_embd)
    std::vector<float> wq;          // (n_head * head_dim, n_embd)   row-major: out x in
    std::vector<float> wk;          // (n_head_kv * head_dim, n_embd)
    std::vector<float> wv;          // (n_head_kv * head_dim, n_embd)
    std::vector<float> wo;          // (n_embd, n_head * head_dim)
    std::vector<float> bq, bk, bv;  // qwen2: (q_dim), (kv_dim), (kv_dim); else empty
    std::vector<float> q_norm, k_norm;  // gemma3: (head_dim) each; else empty
    std::vector<float> post_attn_norm, post_ffw_norm;  // gemma3: (n_embd) each; else empty
    std::vector<float> ffn_norm;    // (n_embd)
    std::vector<float> w_gate;      // (n_ff, n_embd)
    std::vector<float> w_up;        // (n_ff, n_embd)
    std::vector<float> w_down;      // (n_embd, n_ff)
};

struct Weights {
    std::vector<float> token_embd;   // (n_vocab, n_embd)
    std::vector<LayerWeights> layers;  // (n_layer)
    std::vector<float> output_norm;  // (n_embd)
    std::vector<float> output;       // (n_vocab, n_embd); empty when tied (use token_embd)

    const std::vector<float>& output_matrix() const { return output.empty() ? token_embd : output; }
};

// Dequantizes a whole tensor to f32: (n_elements) floats, ne[0] fastest.
std::vector<float> dequantize_tensor(const gguf::TensorInfo& t);

class Model {
public:
    // Dequantizes every tensor the Description names (the File may be closed afterwards).
    Model(const model::Description& desc, const gguf::File& file);

    const Config& config() const { return config_; }
    const Weights& weights() const { return weights_; }

private:
    Config config_;
    Weights weights_;
};

class Session {
public:
    // StreamingLLM attention: n_sink >= 0 sink tokens plus a window of n_window >= 1 tokens.
    // Keeps a reference to `model`, which must outlive the Session.
    Session(const Model& model, uint32_t n_sink, uint32_t n_window);
    // Dense causal attention over the whole history, RoPE positions = stream indices.
    static Session causal(const Model& model);

    // Appends `token` (0 <= token < n_vocab, else invalid_argument) to the stream and returns
    // the logits (n_vocab) for the next token.
    std::vector<float> forward(int32_t token);

    uint64_t n_tokens() const { return n_tokens_; }

    // KV cache element types to emulate (default f16 = none: the history stays f32). Every K/V
    // row enters the history as it comes back from such a cache (ref::kv_roundtrip_row; a sink
    // token's rows through f16 with f16_sinks), the token's own included: the GPU engine reads
    // every row, cached or fresh, in the cache's precision. Set before the first forward().
    void set_cache_types(const kv::CacheTypes& types);
    // A calibrated rotated cache's K map (kv/key_transform.hpp; engine::Session::key_transform):
    // quantized K rows go through it around their round trip. Empty: none.
    void set_key_transform(const kv::KeyTransform& t) { key_transform_ = t; }

    // Called during forward() for every global-attention layer with the attention
    // probabilities of the new token: probs is (n_head, n_visible), view order as in
    // AttentionParams::probs_out (for a causal session the view is the whole stream).
    using AttentionProbe = std::function<void(uint32_t layer, uint64_t t, const double* probs, size_t n_visible)>;
    void set_attention_probe(AttentionProbe probe) { probe_ = std::move(probe); }
    // Called during forward() for every layer with the new token's pre-RoPE q (n_head, head_dim)
    // and k, v (n_head_kv, head_dim), after biases and q/k norms: what the cache receives (the
    // key statistics study, tools/kv_key_study.cpp).
    using QkvProbe = std::function<void(uint32_t layer, uint64_t t, const float* q, const float* k, const float* v)>;
    void set_qkv_probe(QkvProbe probe) { qkv_probe_ = std::move(probe); }

private:
    Session(const Model& model, uint32_t n_sink, uint32_t n_window, bool causal);
    void attend_local(uint32_t il, float* out);  // gemma3 sliding-window layer, query = q_

    const Model* model_;
    uint32_t n_sink_ = 0, n_window_ = 0;
    bool causal_ = false;
    uint64_t n_tokens_ = 0;
    kv::CacheTypes cache_types_;
    kv::KeyTransform key_transform_;
    std::vector<std::vector<float>> k_hist_;  // per layer: (n_tokens, n_head_kv, head_dim), un-rotated
    std::vector<std::vector<float>> v_hist_;  // per layer: (n_tokens, n_head_kv, head_dim)
    // Scratch, reused every token.
    std::vector<float> x_, xb_, q_, k_, v_, att_, o_, gate_, up_;  // (n_embd) / (q_dim) / (kv_dim) / (n_ff)
    std::vector<float> kr_, scores_;  // local attention: one rotated key (head_dim), scores (n_visible)
    AttentionProbe probe_;
    QkvProbe qkv_probe_;
    std::vector<double> probs_;       // the probe's (n_head, n_visible)
};

}  // namespace vks::ref
