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

uint32_t n_sink_visible(uint64_t t, const CacheShape& shape) {
    // min(n_sink, t + 1), written so that t = UINT64_MAX does not wrap.
    return t < shape.n_sink ? uint32_t(t) + 1 : shape.n_sink;
}

uint32_t n_window_visible(uint64_t t, const CacheShape& shape) {
    if (t < shape.n_sink) return 0;
    const uint64_t past_sinks = t - shape.n_sink;  // window tokens seen so far, minus one
    return past_sinks < shape.n_window ? uint32_t(past_sinks) + 1 : shape.n_window;
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

ViewParams view_params(uint64_t t, const CacheShape& shape) {
    shape.validate();
    ViewParams p;
    p.n_sink = shape.n_sink;
    p.n_window = shape.n_window;
    p.n_sink_visible = n_sink_visible(t, shape);
    p.n_window_visible = n_window_visible(t, shape);
    if (p.n_window_visible > 0) {
        const uint64_t oldest = t - (p.n_window_visible - 1);
        p.ring_first = uint32_t((oldest - shape.n_sink) % shape.n_window);
    }
    return p;
}

VisibleToken visible_token(const ViewParams& p, uint32_t j) {
    if (j < p.n_sink_visible) return {j, j, 0};
    const uint32_t w = j - p.n_sink_visible;  // w < n_window, ring_first < n_window: no overflow
    return {p.n_sink + (p.ring_first + w) % p.n_window, j, 0};
}

int64_t position_of_slot(uint64_t t, uint32_t slot, const CacheShape& shape) {
    if (slot >= shape.capacity())
        fail(Status::invalid_argument, "kv view: slot %u out of range (capacity %u)", slot,
             shape.capacity());
    const ViewParams p = view_params(t, shape);
    if (slot < shape.n_sink) return slot < p.n_sink_visible ? int64_t(slot) : -1;
    const uint32_t r = slot - shape.n_sink;
    const uint32_t w = (r + shape.n_window - p.ring_first) % shape.n_window;
    return w < p.n_window_visible ? int64_t(p.n_sink_visible) + w : -1;
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

namespace {
// Visible counts of query i of the chunk, from the clamped start (exact: both counts saturate
// once t + 1 >= C, and t0_clamped < C implies t0_clamped == t0).
void chunk_counts(const ChunkParams& p, uint32_t i, uint32_t& nsv, uint32_t& nwv) {
    const uint32_t t1 = p.t0_clamped + i + 1;  // "t + 1", saturation-equivalent
    nsv = std::min(p.n_sink, t1);
    nwv = t1 > p.n_sink ? std::min(p.n_window, t1 - p.n_sink) : 0;
}
}  // namespace

uint32_t n_visible(const ChunkParams& p, uint32_t i) {
    uint32_t nsv = 0, nwv = 0;
    chunk_counts(p, i, nsv, nwv);
    return nsv + nwv;
}

ChunkToken chunk_token(const ChunkParams& p, uint32_t i, uint32_t j) {
    uint32_t nsv = 0, nwv = 0;
    chunk_counts(p, i, nsv, nwv);
    if (j < nsv) {
        // Sink j: cached iff j < t0 (when t0 >= C every sink is cached and t0_clamped = C > j).
        if (j < p.t0_clamped) return {Source::cache, j, j, 0};
        return {Source::chunk, j - p.t0_clamped, j, 0};
    }
    // Window token w has stream index s = t - (nwv - 1) + w; its offset from the chunk start is
    // d = s - t0 = i + 1 + w - nwv (may be negative).
    const uint32_t w = j - nsv;
    const uint32_t ahead = i + 1 + w;
    if (ahead >= nwv) return {Source::chunk, ahead - nwv, j, 0};
    const uint32_t back = nwv - ahead;  // t0 - s, in [1, n_window]
    return {Source::cache, p.n_sink + (p.t0_ring + p.n_window - back) % p.n_window, j, 0};
}

}  // namespace vks::kv
