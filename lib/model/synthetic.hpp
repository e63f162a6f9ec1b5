#pragma once
// Synthetic llama / qwen2 / gemma3 GGUF models with random weights, for tests (reference forward, GPU
// end-to-end). The weights are scaled so activations stay O(1) through the layers:
// matrices uniform in +-sqrt(3 / n_in) (unit variance in, unit variance out), norms near 1.
// Weight matrices (and token_embd / output) are stored in `weight_type`, encoded with
// lib/quant; norms and biases stay F32. The random numbers come from std::mt19937 with our own
// float conversion, so a seed gives the same file on every platform.
//
// The vocabulary is a minimal byte-level BPE ("gpt2", pre "default"): token 0 <|endoftext|>
// (BOS/EOS), 1 <|im_start|>, 2 <|im_end|> (control), then the 256 byte tokens (GPT-2
// byte->unicode mapping), then a few merges (" t", "he", " the", "in", "er", "an", "on",
// " a"), then "<unused_N>" fillers up to n_vocab; so n_vocab >= 267. A ChatML chat template is
// included.
#include <cstdint>
#include <string>
#include <vector>

#include "quant/quant.hpp"

namespace vks::model {

struct SyntheticConfig {
    uint32_t n_vocab = 320;  // >= 267 (specials + bytes + merges)
    uint32_t n_embd = 256;   // a multiple of the weight type's block size (256 for K-quants)
    uint32_t n_layer = 2;
    uint32_t n_head = 4;
    uint32_t n_head_kv = 2;
    uint32_t n_ff = 512;     // a multiple of the weight type's block size
    uint32_t context_length = 4096;
    float rope_freq_base = 10000.0f;
    quant::Type weight_type = quant::Type::F32;
    // attn_v's type when it differs from weight_type (as in K-quant mixes that give V more bits;
    // the engine then cannot stack q, k and v into one tensor). F32 = weight_type.
    quant::Type v_type = quant::Type::F32;
    uint32_t seed = 1;
    bool tied_output = false;  // true: no output.weight
    bool qwen2 = false;        // architecture qwen2 (Q/K/V biases, neox RoPE) instead of llama
    // Architecture gemma3 instead (wins over qwen2): q/k norms, post norms, GELU, embedding
    // scale, and sliding-window layers: every swa_period-th layer is global, the others see the
    // last sliding_window tokens and use RoPE base 10000.
    bool gemma3 = false;
    uint32_t sliding_window = 4;
    uint32_t swa_period = 2;
};

// The GGUF file bytes. Throws invalid_argument for an inconsistent config.
std::vector<uint8_t> synthetic_model_bytes(const SyntheticConfig& cfg);
// Same, written to `path` (atomically, see gguf::Writer::write_file).
void write_synthetic_model(const std::string& path, const SyntheticConfig& cfg);

// Byte-level token texts of the synthetic vocabulary, in id order (n_vocab entries).
std::vector<std::string> synthetic_vocab(uint32_t n_vocab);

}  // namespace vks::model
