#pragma once
// CPU reference attention: the literal StreamingLLM definition, and plain causal attention.
//
// This is the oracle for the sink-window attention shader and for lib/kv. It deliberately does
// NOT use lib/kv: it rebuilds each query's view from the definition (the first n_sink stream
// tokens, plus the last n_window tokens after them), from the full un-rotated K/V history.
// It takes n_sink / n_window as plain numbers for the same reason.
#include <cstddef>
#include <cstdint>

#include "ref/rope.hpp"

namespace vks::ref {

struct AttentionParams {
    uint32_t n_head = 0;
    uint32_t n_head_kv = 0;     // GQA: n_head % n_head_kv == 0; head h reads kv head h / (n_head / n_head_kv)
    uint32_t head_dim = 0;
    float scale = 0.0f;         // score scale; 0 means 1 / sqrt(head_dim)
    RopeConfig rope;            // of this layer (kv/contract.h)
    // Learned per-head sink logits (gpt-oss style): (n_head) or nullptr. Each is one extra logit
    // in its head's softmax denominator that contributes no value, so it only shrinks the output.
    const float* sink_logits = nullptr;
    // Optional probe: when set, receives the attention probabilities, (n_head, n_visible) in
    // view order (sinks first, then the window, oldest first), normalized as in the softmax.
    double* probs_out = nullptr;

    void validate() const;  // throws invalid_argument
};

// StreamingLLM attention of the query at stream index t.
//   q:      (n_head, head_dim)          un-rotated query of token t
//   k_hist: (t + 1, n_head_kv, head_dim) un-rotated keys of stream tokens 0..t
//   v_hist: (t + 1, n_head_kv, head_dim) values of stream tokens 0..t
//   out:    (n_head, head_dim)
// Visible: tokens 0..min(n_sink, t+1)-1 and the last n_window tokens among n_sink..t, in stream
// order; they get RoPE positions 0..L-1 (L visible tokens) and the query gets position L-1.
// Requires n_window >= 1 (the query must see itself).
void attention_stream(const float* q, const float* k_hist, const float* v_hist, uint64_t t,
                      uint32_t n_sink, uint32_t n_window, const AttentionParams& params, float* out);

// Dense causal attention of the query at stream index t: all tokens 0..t visible, RoPE position
// of every token (and the query) = its stream index. Shapes as attention_stream.
void attention_causal(const float* q, const float* k_hist, const float* v_hist, uint64_t t,
                      const AttentionParams& params, float* out);

}  // namespace vks::ref
