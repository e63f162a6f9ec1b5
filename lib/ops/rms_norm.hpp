#pragma once
// RMS norm over rows: out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * weight (weight optional).
#include "ops/kernels.hpp"

namespace vks::ops {

// x, out: (n_rows, n_cols) f32; weight: (n_cols) f32 or nullptr buffer for none. Rows may be
// whole activations (n_cols = n_embd) or heads (n_cols = head_dim: Gemma 3's q/k norm, one
// weight vector shared by every head). out may alias x.
void rms_norm(Kernels& k, vk::Commands& cmd, vk::BufferRange x, const vk::BufferRange* weight, vk::BufferRange out,
              uint32_t n_rows, uint32_t n_cols, float eps);

// Two row ranges of one buffer normalized in place in one dispatch, each with its own weight:
// a (rows_a rows) with weight_a, b (rows_b rows) with weight_b (Gemma 3's q heads and k heads,
// which the q/k/v product writes to one buffer). a and b must not overlap; both weights n_cols
// floats.
void rms_norm_pair(Kernels& k, vk::Commands& cmd, vk::BufferRange a, vk::BufferRange weight_a, uint32_t rows_a,
                   vk::BufferRange b, vk::BufferRange weight_b, uint32_t rows_b, uint32_t n_cols, float eps);

// out += rms_norm(x) * weight: a post-norm fused with the residual add that follows it (Gemma 3:
// x += post_attention_norm(o(attn)), x += post_ffw_norm(down(...))). out must not alias x.
void rms_norm_add(Kernels& k, vk::Commands& cmd, vk::BufferRange x, const vk::BufferRange* weight,
                  vk::BufferRange out, uint32_t n_rows, uint32_t n_cols, float eps);

// rms_norm_add, and in the same dispatch the next product's quantized input:
//   xq = quantize_q8_1(out, next_weight, eps)   (ops/matvec_q8_1.hpp; the updated rows, RMS-normed
// with next_weight). A post-norm's residual add fused with the following layer's activation
// quantization (the integer-dot path), one dispatch instead of two. n_cols % 32 == 0; xq holds
// at least q8_1_bytes(n_rows, n_cols); next_weight n_cols floats. Same checks as rms_norm_add.
void rms_norm_add_q8_1(Kernels& k, vk::Commands& cmd, vk::BufferRange x, const vk::BufferRange* weight,
                       vk::BufferRange out, uint32_t n_rows, uint32_t n_cols, float eps, vk::BufferRange next_weight,
                       vk::BufferRange xq);

}  // namespace vks::ops
