#pragma once
// Host side of shaders/kv_quant.comp: encoding a chunk's fresh K/V for a cache whose K or V is
// quantized (q8_0 / q4_0; layout in kv/cache_types.hpp, reference ref/kv_quant.hpp).
//
// How a step uses it (ops::attention_and_store decides):
//   decode (1 token):  kv_quant(round + store) -> barrier -> attention (no fused store)
//     (storing before the attention is safe: the slot a one-token step writes is one no query of
//     the step reads, see ring_store_slot in shaders/attention_common.glsl)
//   chunk (n tokens):  kv_quant(round) -> barrier -> attention -> barrier -> kv_quant(store)
// "round" rewrites k_new / v_new in place as the cache returns them, so a query reads every row,
// fresh or cached, in the cache's precision (chunked prefill = one token at a time).
// With the Hadamard rotation (kv/cache_types.hpp) a quantized tensor's rows are rounded in the
// rotated basis and stay rotated in k_new / v_new: the attention kernels rotate them back, and the
// chunk's store after the attention passes rows_rotated so they are not rotated twice.
#include <cstdint>
#include <string>

#include "kv/cache.hpp"
#include "ops/kernels.hpp"
#include "shaders/params.h"

namespace vks::ops {

// Largest head_dim kv_quant.comp rotates (its row array).
inline constexpr uint32_t kMaxHadamardHeadDim = 256;

// "q8_0" (K and V alike) or "q8_0_q4_0" (K q8_0, V q4_0), "_had" appended with the Hadamard
// rotation: the type part of a variant name.
std::string cache_type_tag(const kv::CacheTypes& types);

// The quantized regions of the layer's K and V buffers, as the shaders take them.
shader::KvLayout kv_layout_params(const kv::Cache& cache, uint32_t layer);

// Records kv_quant on the step's tokens: `round` rewrites k_new / v_new (n_tokens, n_head_kv,
// head_dim) f32 in place, `store` writes the surviving rows into the layer's ring. The cache must
// have a quantized K or V (invalid_argument otherwise). rows_rotated: a store-only dispatch whose
// rows an earlier round of a Hadamard cache left rotated (invalid_argument otherwise).
void kv_quant(Kernels& k, vk::Commands& cmd, const kv::Cache& cache, uint32_t layer, const kv::Step& step,
              vk::BufferRange k_new, vk::BufferRange v_new, bool round, bool store, bool rows_rotated = false);

}  // namespace vks::ops
