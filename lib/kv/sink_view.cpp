#include "kv/sink_view.hpp"

#include <algorithm>

#include "common/error.hpp"

namespace vks::kv {

void CacheShape::validate() const {
    if (n_window == 0)
        fail(Status::invalid_argument, "kv cache shape: n_window must be >= 1 (n_sink=%u, n_window=%u)",
             n_sink, n_window);
    const uint64_t cap = uint64_t(n_sink) + uint64_t(n_window);
    if (cap > (uint64_t(1) << 24))
        fail(Status::invalid_argument,
             "kv cache shape: capacity n_sink + n_window = %llu exceeds 2^24 slots "
             "(n_sink=%u, n_window=%u)",
             (unsigned long long)cap, n_sink, n_window);
}

CacheShape make_cache_shape(uint32_t n_sink, uint32_t n_window) {
    CacheShape s{n_sink, n_window};
    s.validate();
    return s;
}

uint32_t slot_of(uint64_t t, const CacheShape& shape) {
    shape.validate();  // n_window == 0 would divide by zero below
    if (t < shape.n_sink) return uint32_t(t);
    return shape.n_sink + uint32_t((t - shape.n_sink) % shape.n_window);
}

namespace {
// t + 1 clamped to the capacity (kv_t1 in the contract), written so t = UINT64_MAX does not wrap.
uint32_t clamped_t1(uint64_t t, const CacheShape& shape) {
    return t < shape.capacity() ? uint32_t(t) + 1 : shape.capacity();
}
}  // namespace

uint32_t n_sink_visible(uint64_t t, const CacheShape& shape) {
    return kv_sink_visible(clamped_t1(t, shape), shape.n_sink);
}

uint32_t n_window_visible(uint64_t t, const CacheShape& shape) {
    return kv_window_visible(clamped_t1(t, shape), shape.n_sink, shape.n_window);
}

uint32_t n_visible(uint64_t t, const CacheShape& shape) {
    return n_sink_visible(t, shape) + n_window_visible(t, shape);
}

VisibleToken visible_token(uint64_t t, uint32_t j, const CacheShape& shape) {
    const uint32_t nsv = n_sink_visible(t, shape);
    const uint32_t nwv = n_window_visible(t, shape);
    if (j >= nsv + nwv)
        fail(Status::invalid_argument, "kv view: visible index %u out of range (query %llu sees %u tokens)",
             j, (unsigned long long)t, nsv + nwv);
    if (j < nsv) return {j, j, j};
    const uint32_t w = j - nsv;
    const uint64_t s = t - (nwv - 1) + w;  // oldest visible window token is t - (nwv - 1)
    return {slot_of(s, shape), j, s};
}

View view(uint64_t t, const CacheShape& shape) {
    shape.validate();
    View v;
    v.t_query = t;
    v.n_sink_visible = n_sink_visible(t, shape);
    v.n_window_visible = n_window_visible(t, shape);
    const uint32_t n = v.n_sink_visible + v.n_window_visible;
    v.tokens.reserve(n);
    for (uint32_t j = 0; j < n; ++j) v.tokens.push_back(visible_token(t, j, shape));
    return v;
}

int64_t position_of_slot(uint64_t t, uint32_t slot, const CacheShape& shape) {
    if (slot >= shape.capacity())
        fail(Status::invalid_argument, "kv view: slot %u out of range (capacity %u)", slot,
             shape.capacity());
    const uint32_t nsv = n_sink_visible(t, shape), nwv = n_window_visible(t, shape);
    if (slot < shape.n_sink) return slot < nsv ? int64_t(slot) : -1;
    if (nwv == 0) return -1;
    // Ring offset of the oldest visible window token; w counts from it.
    const uint32_t first = uint32_t((t - (nwv - 1) - shape.n_sink) % shape.n_window);
    const uint32_t w = (slot - shape.n_sink + shape.n_window - first) % shape.n_window;
    return w < nwv ? int64_t(nsv) + w : -1;
}

// ---- chunked prefill ----

uint32_t n_visible_from_cache(uint64_t t, uint64_t t0, const CacheShape& shape) {
    if (t < t0)
        fail(Status::invalid_argument, "kv chunk: query %llu precedes chunk start %llu",
             (unsigned long long)t, (unsigned long long)t0);
    // Visible tokens are in increasing stream order; count those with s < t0.
    const uint32_t nsv = n_sink_visible(t, shape);
    const uint32_t nwv = n_window_visible(t, shape);
    const uint32_t sinks_cached = uint32_t(std::min<uint64_t>(nsv, t0));
    uint32_t window_cached = 0;
    if (nwv > 0) {
        const uint64_t oldest = t - (nwv - 1);
        if (oldest < t0) window_cached = uint32_t(std::min<uint64_t>(t0 - oldest, nwv));
    }
    return sinks_cached + window_cached;
}

ChunkToken chunk_token(uint64_t t, uint64_t t0, uint32_t j, const CacheShape& shape) {
    if (t < t0)
        fail(Status::invalid_argument, "kv chunk: query %llu precedes chunk start %llu",
             (unsigned long long)t, (unsigned long long)t0);
    const VisibleToken v = visible_token(t, j, shape);
    if (v.stream_index < t0) return {Source::cache, v.slot, v.position, v.stream_index};
    return {Source::chunk, uint32_t(v.stream_index - t0), v.position, v.stream_index};
}

std::vector<ChunkToken> chunk_view(uint64_t t, uint64_t t0, const CacheShape& shape) {
    shape.validate();
    const uint32_t n = n_visible(t, shape);
    std::vector<ChunkToken> out;
    out.reserve(n);
    for (uint32_t j = 0; j < n; ++j) out.push_back(chunk_token(t, t0, j, shape));
    return out;
}

bool chunk_writes_token(uint64_t s, uint64_t t0, uint64_t n_chunk, const CacheShape& shape) {
    if (s < t0 || s - t0 >= n_chunk)
        fail(Status::invalid_argument, "kv chunk: token %llu is outside chunk [%llu, %llu + %llu)",
             (unsigned long long)s, (unsigned long long)t0, (unsigned long long)t0,
             (unsigned long long)n_chunk);
    if (s < shape.n_sink) return true;
    // Survives iff no later chunk token lands in its ring slot: s is among the last n_window.
    const uint64_t end = t0 + n_chunk;
    return end - s <= shape.n_window;
}

ChunkParams chunk_params(uint64_t t0, const CacheShape& shape) {
    shape.validate();
    ChunkParams p;
    p.n_sink = shape.n_sink;
    p.n_window = shape.n_window;
    p.t0_clamped = uint32_t(std::min<uint64_t>(t0, shape.capacity()));
    p.t0_ring = t0 >= shape.n_sink ? uint32_t((t0 - shape.n_sink) % shape.n_window) : 0;
    return p;
}

uint32_t n_visible(const ChunkParams& p, uint32_t i) {
    const uint32_t t1 = kv_t1(p.t0_clamped, i);
    return kv_sink_visible(t1, p.n_sink) + kv_window_visible(t1, p.n_sink, p.n_window);
}

ChunkToken chunk_token(const ChunkParams& p, uint32_t i, uint32_t j) {
    const uint32_t t1 = kv_t1(p.t0_clamped, i);
    const uint32_t nsv = kv_sink_visible(t1, p.n_sink), nwv = kv_window_visible(t1, p.n_sink, p.n_window);
    uint32_t idx = 0;
    const bool fresh = kv_chunk_token(p.t0_clamped, p.t0_ring, i, j, nsv, nwv, p.n_sink, p.n_window, idx);
    return {fresh ? Source::chunk : Source::cache, idx, j, 0};
}

}  // namespace vks::kv
