#pragma once
// The circular sink cache's pure math: which stream token lives in which slot, and which cached
// tokens (and at what cache-relative positions) a query sees. No buffers, no device: the host,
// the CPU reference forward pass, the tests and the attention shader all follow these formulas.
//
// Layout: capacity C = n_sink + n_window slots per layer.
//   slot_of(t) = t                                     if t <  n_sink   (sinks, never evicted)
//              = n_sink + (t - n_sink) mod n_window    otherwise        (the ring)
//
// View of a query at stream index t (its own K/V counts as cached):
//   n_sink_visible   nsv = min(n_sink, t + 1)
//   n_window_visible nwv = min(n_window, t + 1 - nsv)
//   L = nsv + nwv visible tokens, visible index j in [0, L), position(j) = j:
//     j <  nsv : stream s = j,                     slot = j
//     j >= nsv : w = j - nsv, s = t - (nwv-1) + w, slot = slot_of(s)
//   So sinks take positions 0..nsv-1, window tokens follow oldest to newest, and the query itself
//   (the newest, s = t) has position L-1. Positions never reach C, so a C x head_dim/2 RoPE table
//   covers every case, and keys are stored un-rotated and rotated at read time.
//
// The rule itself (counts, chunk tokens, ring stores) is written once, in kv/contract.h, which the
// shaders compile too; this file adds the 64-bit stream-index forms the host and tests use.
#include <cstdint>
#include <vector>

#include "kv/contract.h"

namespace vks::kv {

// Validated constructor.
CacheShape make_cache_shape(uint32_t n_sink, uint32_t n_window);

// Slot of stream token t. Streams can run past 2^32 tokens, hence uint64 stream indices.
uint32_t slot_of(uint64_t t, const CacheShape& shape);

// Counts visible to the query at stream index t (the query's own token included).
uint32_t n_sink_visible(uint64_t t_query, const CacheShape& shape);
uint32_t n_window_visible(uint64_t t_query, const CacheShape& shape);
uint32_t n_visible(uint64_t t_query, const CacheShape& shape);  // L = nsv + nwv, in [1, C]

struct VisibleToken {
    uint32_t slot = 0;          // where its K/V live in the cache, [0, C)
    uint32_t position = 0;      // cache-relative RoPE position, equals its visible index j
    uint64_t stream_index = 0;  // which stream token it is
    bool operator==(const VisibleToken&) const = default;
};

// The whole view of query t: tokens in visible-index order (position j at index j).
struct View {
    uint64_t t_query = 0;
    uint32_t n_sink_visible = 0;
    uint32_t n_window_visible = 0;
    std::vector<VisibleToken> tokens;  // (L)
    uint32_t size() const { return uint32_t(tokens.size()); }
};

View view(uint64_t t_query, const CacheShape& shape);

// Closed form, non-allocating: visible token j of query t. Throws when j >= n_visible(t).
VisibleToken visible_token(uint64_t t_query, uint32_t j, const CacheShape& shape);

// Position of the token held in `slot` as seen by query t, or -1 when that slot is not visible
// (not yet written, or t has not reached it). Inverse of visible_token for a slot-major loop.
int64_t position_of_slot(uint64_t t_query, uint32_t slot, const CacheShape& shape);

// ---- Chunked prefill -------------------------------------------------------------------------
// A chunk holds stream tokens [t0, t0 + n_chunk). Each query t in the chunk sees exactly view(t);
// tokens of the chunk newer than t are never in view(t) (causality holds by construction).
//
// The subtlety: with n_chunk > n_window, a chunk token's K/V would overwrite a ring slot that an
// earlier query of the same chunk still needs. So the chunk is processed as:
//   1. attention for every query reads visible tokens with s <  t0 from the ring as it was before
//      the chunk ("old cache", by slot), and tokens with s >= t0 from the chunk's fresh K/V buffer
//      (by chunk index s - t0). Every old-cache token visible to a chunk query is still in the
//      old ring (it is a sink, or one of the last n_window tokens before t0), so this is exact.
//   2. only then the chunk's K/V enter the ring, and only the tokens that survive the chunk
//      (chunk_writes_token): sinks, and the last n_window tokens of the chunk. Tokens written
//      then are pairwise in distinct slots, so a parallel write has no races.
// Decode is a chunk of one. Result: chunked prefill equals token-by-token decoding exactly.

enum class Source : uint8_t { cache, chunk };

struct ChunkToken {
    Source source = Source::cache;
    uint32_t index = 0;         // slot (source == cache) or chunk index s - t0 (source == chunk)
    uint32_t position = 0;      // cache-relative position, equals the visible index j
    uint64_t stream_index = 0;
    bool operator==(const ChunkToken&) const = default;
};

// Visible tokens of query t (t >= t0) that come from the old cache: they are the first
// n_from_cache visible indices (visible tokens are in stream order); the rest come from the chunk.
uint32_t n_visible_from_cache(uint64_t t_query, uint64_t t0, const CacheShape& shape);

ChunkToken chunk_token(uint64_t t_query, uint64_t t0, uint32_t j, const CacheShape& shape);
std::vector<ChunkToken> chunk_view(uint64_t t_query, uint64_t t0, const CacheShape& shape);

// Does chunk token s (t0 <= s < t0 + n_chunk) get written into the ring after the chunk?
bool chunk_writes_token(uint64_t s, uint64_t t0, uint64_t n_chunk, const CacheShape& shape);

// The same chunk math in uint32 only (the contract's form), for a chunk's query i = t - t0.
struct ChunkParams {
    uint32_t n_sink = 0;
    uint32_t n_window = 0;
    uint32_t t0_clamped = 0;  // min(t0, C): visibility counts saturate at C, so this is enough
    uint32_t t0_ring = 0;     // (t0 - n_sink) mod n_window when t0 >= n_sink, else 0
};
ChunkParams chunk_params(uint64_t t0, const CacheShape& shape);
// The shader's formula for query index i of the chunk and visible index j; stream_index left 0.
ChunkToken chunk_token(const ChunkParams& p, uint32_t i, uint32_t j);
uint32_t n_visible(const ChunkParams& p, uint32_t i);

}  // namespace vks::kv
