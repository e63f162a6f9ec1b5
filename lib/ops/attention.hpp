#pragma once
// Sink-preserving windowed attention over the circular cache (kv/cache.hpp), and the cache write.
//
// A chunk of n_tokens queries at stream indices t0 .. t0+n-1 (decode: n = 1) is processed as
//   1. attention: query i sees exactly kv::view(t0 + i): tokens older than t0 from the ring as it
//      was before the chunk, newer ones from the chunk's fresh K/V; every key is rotated at its
//      cache-relative position j, the query at L-1 (L = its visible count); GQA; online softmax;
//      optional learned per-head sink logits (gpt-oss: an extra denominator term, no value).
//   2. kv_store: the chunk's surviving tokens (kv::chunk_writes_token) enter the ring as f16
//      (a one-token step, decode, does this inside the attention dispatch).
// attention_and_store() records both with the barriers they need; the engine calls it once per
// layer. t0 is NOT baked into the recording: it comes from the cache's step-params record
// (`step`, written by kv::Cache::set_step before each submit), so a recorded decode step replays.
//
// Inputs are un-rotated: q (n_tokens, n_head, head_dim) f32, k_new / v_new (n_tokens, n_head_kv,
// head_dim) f32 (the projections' outputs). Output: (n_tokens, n_head, head_dim) f32.
// Parallelism: one invocation per (query, head, split); the visible range of each query is cut
// into n_splits pieces (flash-decoding) whose partial (m, l, acc) a small combine pass merges.
#include <cstdint>
#include <string>
#include <vector>

#include "kv/cache.hpp"
#include "ops/kernels.hpp"

namespace vks::ops {

struct AttentionConfig {
    uint32_t n_head = 0;              // query heads, a multiple of the cache's n_head_kv
    float scale = 0.0f;               // score scale; 0 = 1 / sqrt(head_dim)
    vk::BufferRange sink_logits{};    // (n_head) f32 learned sink logits, or no buffer for none
    uint32_t n_splits = 0;            // splits per query's visible range; 0 = automatic
    // Kernel variant: automatic picks the subgroup one when caps.subgroup_reduce() (tests force each).
    enum class Variant : uint8_t { automatic, portable, subgroup } variant = Variant::automatic;
    // Subgroup variant's workgroup size; 0 = the device's subgroup size. Tests set a multiple of
    // it to exercise the several-subgroups-per-workgroup path.
    uint32_t subgroup_workgroup = 0;
    // How the kernel reads q, K/V and the RoPE table: uniform texel buffers (texelFetch; ~10x
    // faster on lavapipe, where storage-buffer loads are per-lane scalar loops) or storage
    // buffers. automatic = texel wherever attention_texel_blocker() is empty; texel = required
    // (throws where it cannot run); ssbo = never.
    enum class Reads : uint8_t { automatic, ssbo, texel } reads = Reads::automatic;
};

// The storage-buffer variant that `cfg` selects on this device (e.g. "attention_f16_f32_sg"):
// the choice of work split, before the choice of reads below.
std::string attention_variant(const vk::Capabilities& caps, const AttentionConfig& cfg);

// Why the texel-buffer variant cannot run an n_tokens chunk on this cache with these caps ("" when
// it can): no texel buffers (or VKS_DISABLE=texel), head_dim % 8 != 0, n_rot % 16 != 0, or a
// binding (one layer's K, the RoPE table, q, k_new) over caps.max_texel_buffer_elements texels
// (the baseline profile's 65536 texels = 1 MiB). Offsets of the caller's ranges are checked at
// record time (a misaligned q / k_new / v_new also falls back to storage buffers).
std::string attention_texel_blocker(const vk::Capabilities& caps, const kv::Cache& cache, uint32_t layer,
                                    uint32_t n_tokens, const AttentionConfig& cfg);

// The full variant name for an n_tokens chunk on `layer` (e.g. "attention_f16_f32_sg_tb"), assuming
// aligned ranges. Throws feature_missing when cfg forces what `caps` cannot do.
std::string attention_variant(const vk::Capabilities& caps, const kv::Cache& cache, uint32_t layer, uint32_t n_tokens,
                              const AttentionConfig& cfg);

// The split count used for a chunk on `layer` (automatic unless cfg.n_splits is set; depends on the
// layer's capacity).
uint32_t attention_splits(const kv::Cache& cache, uint32_t layer, uint32_t n_tokens, const AttentionConfig& cfg);

// Scratch the attention needs for the split partials of an n_tokens chunk, in bytes (0 when
// n_splits == 1). Not monotonic in n_tokens (short chunks split more), so the engine allocates
// attention_scratch_bytes_max(cache, its largest chunk, cfg) once and passes it to every call.
// All layers may share it: the barrier the engine records before anything reads a layer's `out`
// also orders the next layer's writes to the scratch after this layer's combine.
uint64_t attention_scratch_bytes(const kv::Cache& cache, uint32_t layer, uint32_t n_tokens, const AttentionConfig& cfg);
// The most any layer needs for chunks of 1 .. max_tokens tokens.
uint64_t attention_scratch_bytes_max(const kv::Cache& cache, uint32_t max_tokens, const AttentionConfig& cfg);

// Records the attention of step.n_tokens queries (and, with splits, the combine pass after a
// barrier). Does not write the cache. Reads the ring: record kv_store after a barrier.
void attention(Kernels& k, vk::Commands& cmd, const kv::Cache& cache, uint32_t layer, const kv::Step& step,
               vk::BufferRange q, vk::BufferRange k_new, vk::BufferRange v_new, vk::BufferRange out,
               vk::BufferRange scratch, const AttentionConfig& cfg);

// Records the ring write of the chunk's surviving tokens (f32 -> f16).
void kv_store(Kernels& k, vk::Commands& cmd, const kv::Cache& cache, uint32_t layer, const kv::Step& step,
              vk::BufferRange k_new, vk::BufferRange v_new);

// attention, barrier, then combine (if split) and kv_store side by side. A one-token step
// (decode) stores its K/V inside the attention dispatch instead (one dispatch fewer per layer;
// the slot it writes is never read by that step). No trailing barrier: put one before anything
// that reads `out` or this layer's cache.
void attention_and_store(Kernels& k, vk::Commands& cmd, const kv::Cache& cache, uint32_t layer, const kv::Step& step,
                         vk::BufferRange q, vk::BufferRange k_new, vk::BufferRange v_new, vk::BufferRange out,
                         vk::BufferRange scratch, const AttentionConfig& cfg);

std::vector<VariantChoice> describe_attention_variants(const vk::Capabilities& caps);

}  // namespace vks::ops
