// lib/kv chunked prefill: old-cache vs fresh-chunk sources, ring writes after a chunk, and the
// shader's 32-bit chunk formula. Simulates a stream processed in chunks and checks that every
// query reads exactly the tokens of its own view, including chunks longer than the window.
#include <doctest/doctest.h>

#include <cstdint>
#include <set>
#include <vector>

#include "common/error.hpp"
#include "kv/sink_view.hpp"

using namespace vks;
using namespace vks::kv;

namespace {

// Checks one chunk against the ring contents before it (ring: (C) stream index per slot, -1 empty),
// then applies the chunk's writes. Returns false on the first mismatch (with CHECK messages).
bool run_chunk(std::vector<int64_t>& ring, uint64_t t0, uint32_t n_chunk, const CacheShape& sh) {
    const ChunkParams cp = chunk_params(t0, sh);
    bool ok = true;
    for (uint64_t t = t0; t < t0 + n_chunk; ++t) {
        const View v = view(t, sh);
        const auto cv = chunk_view(t, t0, sh);
        const uint32_t n_cache = n_visible_from_cache(t, t0, sh);
        ok &= cv.size() == v.size();
        ok &= n_visible(cp, uint32_t(t - t0)) == v.size();
        if (!ok) return false;
        for (uint32_t j = 0; j < cv.size(); ++j) {
            const ChunkToken& c = cv[j];
            ok &= c.position == j && c.stream_index == v.tokens[j].stream_index;
            ok &= (j < n_cache) == (c.source == Source::cache);  // cache tokens are a prefix
            if (c.source == Source::cache) {
                ok &= c.stream_index < t0;
                ok &= ring[c.index] == int64_t(c.stream_index);  // still in the old ring
            } else {
                ok &= t0 + c.index == c.stream_index;
                ok &= c.stream_index <= t;                       // causality
            }
            ChunkToken u = chunk_token(cp, uint32_t(t - t0), j);  // the shader's formula
            u.stream_index = c.stream_index;
            ok &= u == c;
        }
        if (!ok) {
            CAPTURE(t);
            CHECK(ok);
            return false;
        }
    }
    // Writes after the chunk: surviving tokens land in distinct slots.
    std::set<uint32_t> written;
    uint32_t n_written = 0;
    for (uint64_t s = t0; s < t0 + n_chunk; ++s) {
        if (!chunk_writes_token(s, t0, n_chunk, sh)) continue;
        written.insert(slot_of(s, sh));
        ++n_written;
        ring[slot_of(s, sh)] = int64_t(s);
    }
    ok &= written.size() == n_written;
    return ok;
}

}  // namespace

TEST_CASE("kv chunk: chunked prefill reads exactly each query's view, across wrap-around") {
    const std::vector<CacheShape> shapes = {{0, 1}, {0, 5}, {1, 1}, {4, 1}, {4, 8}, {3, 17}, {7, 3}};
    for (const CacheShape& sh : shapes) {
        const uint32_t w = sh.n_window;
        for (uint32_t n_chunk : {1u, 2u, 3u, w > 1 ? w - 1 : 1u, w, w + 1, 2 * w + 1, 37u}) {
            CAPTURE(sh.n_sink);
            CAPTURE(sh.n_window);
            CAPTURE(n_chunk);
            std::vector<int64_t> ring(sh.capacity(), -1);
            std::vector<int64_t> ring_one_by_one(sh.capacity(), -1);
            bool ok = true;
            const uint64_t n_stream = 160;
            for (uint64_t t0 = 0; t0 < n_stream && ok; t0 += n_chunk) {
                ok = run_chunk(ring, t0, n_chunk, sh);
                for (uint64_t s = t0; s < t0 + n_chunk; ++s) ring_one_by_one[slot_of(s, sh)] = int64_t(s);
                ok = ok && ring == ring_one_by_one;  // same cache as token-by-token decoding
            }
            CHECK(ok);
        }
    }
}

TEST_CASE("kv chunk: decode is a chunk of one") {
    const CacheShape sh{4, 8};
    for (uint64_t t = 0; t < 50; ++t) {
        const auto cv = chunk_view(t, t, sh);
        CHECK(n_visible_from_cache(t, t, sh) == cv.size() - 1);
        CHECK(cv.back() == ChunkToken{Source::chunk, 0, uint32_t(cv.size() - 1), t});
    }
}

TEST_CASE("kv chunk: chunk longer than the window far into the stream (32-bit formula)") {
    const CacheShape sh{4, 16};
    const uint64_t t0 = 1000000000003ull;
    const uint32_t n_chunk = 50;
    const ChunkParams cp = chunk_params(t0, sh);
    CHECK(cp.t0_clamped == sh.capacity());
    CHECK(cp.t0_ring == (t0 - 4) % 16);
    bool ok = true;
    for (uint32_t i = 0; i < n_chunk; ++i) {
        const uint64_t t = t0 + i;
        const auto cv = chunk_view(t, t0, sh);
        ok &= cv.size() == 20;
        for (uint32_t j = 0; j < cv.size(); ++j) {
            ChunkToken u = chunk_token(cp, i, j);
            u.stream_index = cv[j].stream_index;
            ok &= u == cv[j];
        }
        // From query i = 15 on, the whole window comes from the chunk.
        ok &= n_visible_from_cache(t, t0, sh) == (i >= 15 ? 4u : 4u + 15u - i);
    }
    CHECK(ok);
    // Only the last 16 tokens of the chunk survive into the ring.
    for (uint64_t s = t0; s < t0 + n_chunk; ++s) CHECK(chunk_writes_token(s, t0, n_chunk, sh) == (s >= t0 + 34));
}

TEST_CASE("kv chunk: bad arguments throw") {
    const CacheShape sh{4, 8};
    CHECK_THROWS_AS(n_visible_from_cache(3, 5, sh), Error);
    CHECK_THROWS_AS(chunk_view(3, 5, sh), Error);
    CHECK_THROWS_AS(chunk_writes_token(9, 10, 4, sh), Error);
    CHECK_THROWS_AS(chunk_writes_token(14, 10, 4, sh), Error);
    CHECK_THROWS_AS(chunk_params(0, CacheShape{4, 0}), Error);
}
