#pragma once
// What a GGUF file says the model is: architecture, hyperparameters, per-architecture details
// and the tensor of every role, validated (presence, element type, shape) against each other.
// Both the CPU reference forward (lib/ref/forward) and the GPU engine build from this.
//
// Supported architectures ("general.architecture"):
//   llama   RMSNorm, SwiGLU, RoPE 'normal' (pairs 2i,2i+1: the llama GGUF converter permutes
//           the Q/K rows for it), optional output.weight (absent: tied to token_embd).
//   qwen2   as llama plus Q/K/V biases; RoPE 'neox' (pairs i, i+n_rot/2).
//   gemma3  embeddings scaled by sqrt(n_embd); GELU(tanh) GLU; per-head RMSNorm of Q and K
//           (attn_q_norm / attn_k_norm, (head_dim)); extra post-attention and post-FFN norms;
//           RoPE 'neox'; sliding-window ("local") layers except every 6th layer (il % 6 == 5),
//           which is global; local layers use their own RoPE base (rope.freq_base_swa, default
//           10000), global layers rope.freq_base (and the linear scaling, when present).
//           Gemma's RMSNorm multiplies by (1 + w); the GGUF converter already folds the +1 into
//           every *norm.weight tensor, so all norms here are the plain x / rms(x) * w.
// Any other architecture fails with Status::unsupported naming it.
//
// Tensor pointers point into the gguf::File's tensor table: a Description must not outlive
// the File it was built from.
#include <cstdint>
#include <string>
#include <vector>

#include "gguf/reader.hpp"
#include "kv/contract.h"

namespace vks::model {

enum class Arch : uint8_t { llama, qwen2, gemma3 };
const char* arch_name(Arch a);

enum class Activation : uint8_t { silu, gelu_tanh };  // the GLU gate activation

struct LayerTensors {
    const gguf::TensorInfo* attn_norm = nullptr;    // (n_embd)
    const gguf::TensorInfo* attn_q = nullptr;       // ne {n_embd, n_head * head_dim}
    const gguf::TensorInfo* attn_k = nullptr;       // ne {n_embd, n_head_kv * head_dim}
    const gguf::TensorInfo* attn_v = nullptr;       // ne {n_embd, n_head_kv * head_dim}
    const gguf::TensorInfo* attn_output = nullptr;  // ne {n_head * head_dim, n_embd}
    const gguf::TensorInfo* attn_q_bias = nullptr;  // qwen2: (n_head * head_dim)
    const gguf::TensorInfo* attn_k_bias = nullptr;  // qwen2: (n_head_kv * head_dim)
    const gguf::TensorInfo* attn_v_bias = nullptr;  // qwen2: (n_head_kv * head_dim)
    const gguf::TensorInfo* attn_q_norm = nullptr;  // gemma3: (head_dim)
    const gguf::TensorInfo* attn_k_norm = nullptr;  // gemma3: (head_dim)
    const gguf::TensorInfo* post_attention_norm = nullptr;  // gemma3: (n_embd)
    const gguf::TensorInfo* ffn_norm = nullptr;     // (n_embd)
    const gguf::TensorInfo* ffn_gate = nullptr;     // ne {n_embd, n_ff}
    const gguf::TensorInfo* ffn_up = nullptr;       // ne {n_embd, n_ff}
    const gguf::TensorInfo* ffn_down = nullptr;     // ne {n_ff, n_embd}
    const gguf::TensorInfo* post_ffw_norm = nullptr;  // gemma3: (n_embd)
};

struct Description {
    Arch arch = Arch::llama;
    std::string name;  // general.name, may be empty

    // ---- hyperparameters ----
    uint32_t n_vocab = 0;    // rows of token_embd
    uint32_t n_embd = 0;     // <arch>.embedding_length
    uint32_t n_layer = 0;    // <arch>.block_count
    uint32_t n_head = 0;     // <arch>.attention.head_count
    uint32_t n_head_kv = 0;  // <arch>.attention.head_count_kv (default n_head)
    uint32_t head_dim = 0;   // <arch>.attention.key_length (default n_embd / n_head)
    uint32_t n_ff = 0;       // <arch>.feed_forward_length
    uint32_t n_ctx_train = 0;  // <arch>.context_length
    float rms_eps = 1e-5f;     // <arch>.attention.layer_norm_rms_epsilon
    // Score scale, 1 / sqrt(head_dim). (Gemma 3 27B's query_pre_attn_scalar is n_embd / n_head
    // instead, and GGUF does not record it: that model would need a special case.)
    float attn_scale = 0.0f;

    // ---- RoPE (kv/contract.h's one convention; the only place GGUF RoPE keys are parsed) ----
    // Global layers (every layer but gemma3's local ones): theta_base <arch>.rope.freq_base,
    // n_rot <arch>.rope.dimension_count (default head_dim), freq_scale 1 / rope.scaling.factor
    // for linear scaling (1 for none), style neox for qwen2 / gemma3, normal for llama.
    kv::RopeConfig rope;
    // gemma3 local layers: theta_base <arch>.rope.freq_base_swa (default 10000), never scaled.
    kv::RopeConfig rope_local;

    // ---- per-architecture details ----
    Activation activation = Activation::silu;
    bool has_qkv_bias = false;    // qwen2
    bool has_qk_norm = false;     // gemma3
    bool has_post_norms = false;  // gemma3: post_attention_norm and post_ffw_norm
    float embd_scale = 1.0f;      // gemma3: sqrt(n_embd), applied to the looked-up embedding
    uint32_t sliding_window = 0;  // gemma3 local layers: <arch>.attention.sliding_window (0: none)
    // gemma3: (n_layer) true for sliding-window layers. From <arch>.attention.sliding_window_pattern:
    // an integer p means every p-th layer is global (il % p == p - 1), a bool array gives the
    // flag per layer; absent: p = 6 (Gemma 3's 5 local : 1 global). All false elsewhere.
    std::vector<bool> local_layers;
    float final_logit_softcap = 0.0f;  // <arch>.final_logit_softcapping; 0: none
    bool tied_output = false;          // no output.weight: logits use token_embd

    // ---- tensors ----
    const gguf::TensorInfo* token_embd = nullptr;   // ne {n_embd, n_vocab}
    const gguf::TensorInfo* output_norm = nullptr;  // (n_embd)
    const gguf::TensorInfo* output = nullptr;       // ne {n_embd, n_vocab}; == token_embd when tied
    std::vector<LayerTensors> layers;               // (n_layer)

    // Reads and validates everything. Status::unsupported: architecture, rope scaling or a
    // tensor type we cannot run; Status::bad_format: missing key or tensor, wrong shape,
    // inconsistent hyperparameters (the message names the key or tensor).
    static Description from_gguf(const gguf::File& file);

    // gemma3: layers with sliding-window attention; always false for the others.
    bool layer_is_local(uint32_t il) const { return il < local_layers.size() && local_layers[il]; }
    const kv::RopeConfig& layer_rope(uint32_t il) const { return layer_is_local(il) ? rope_local : rope; }
    // Layer il's cache in a session with n_sink sinks and an n_window ring: local layers keep
    // exactly what they were trained to see, {0 sinks, sliding_window}; the others the session's
    // shape. Throws invalid_argument when the sliding window exceeds the session's n_window.
    kv::LayerKv layer_kv(uint32_t il, uint32_t n_sink, uint32_t n_window) const;
    uint32_t q_dim() const { return n_head * head_dim; }
    uint32_t kv_dim() const { return n_head_kv * head_dim; }
};

}  // namespace vks::model
