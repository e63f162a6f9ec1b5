// lib/kv sink-cache math: slot assignment, per-query views, the 32-bit shader form.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <limits>
#include <set>
#include <vector>

#include "common/error.hpp"
#include "kv/sink_view.hpp"

using namespace vks;
using namespace vks::kv;

namespace {

// Brute force, written from the definition and independent of slot_of(): feed tokens 0..t one by
// one into a simulated cache (sink slots filled in order, then a ring with a write pointer),
// keep the visible set as sinks + a deque of the last n_window window tokens.
struct BruteToken {
    uint64_t stream_index;
    uint32_t slot;
};

std::vector<BruteToken> brute_view(uint64_t t, uint32_t n_sink, uint32_t n_window) {
    std::vector<int64_t> slot_holds(n_sink + n_window, -1);  // (C) stream index held per slot
    std::vector<uint64_t> sinks;
    std::deque<uint64_t> window;
    uint32_t ring_ptr = 0;  // next ring slot to write, relative to n_sink
    for (uint64_t s = 0; s <= t; ++s) {
        if (sinks.size() < n_sink) {
            slot_holds[sinks.size()] = int64_t(s);
            sinks.push_back(s);
            continue;
        }
        slot_holds[n_sink + ring_ptr] = int64_t(s);
        ring_ptr = (ring_ptr + 1) % n_window;
        window.push_back(s);
        if (window.size() > n_window) window.pop_front();
    }
    std::vector<BruteToken> out;
    auto add = [&](uint64_t s) {
        auto it = std::find(slot_holds.begin(), slot_holds.end(), int64_t(s));
        REQUIRE(it != slot_holds.end());  // a visible token must still be in the cache
        out.push_back({s, uint32_t(it - slot_holds.begin())});
    };
    for (uint64_t s : sinks) add(s);
    for (uint64_t s : window) add(s);
    return out;
}

const std::vector<CacheShape> k_shapes = {
    {0, 1}, {0, 5}, {1, 1}, {4, 1}, {4, 8}, {3, 17}, {7, 3}, {16, 16}, {2, 64},
};

}  // namespace

TEST_CASE("kv: cache shape validation") {
    CHECK_NOTHROW(make_cache_shape(0, 1));
    CHECK_NOTHROW(make_cache_shape(4, 1020));
    CHECK(make_cache_shape(4, 12).capacity() == 16);
    try {
        make_cache_shape(4, 0);
        FAIL("n_window = 0 accepted");
    } catch (const Error& e) {
        CHECK(e.status() == Status::invalid_argument);
    }
    CHECK_THROWS_AS(make_cache_shape(std::numeric_limits<uint32_t>::max(), 2), Error);
    CHECK_THROWS_AS(slot_of(5, CacheShape{4, 0}), Error);   // no division by zero
    CHECK_THROWS_AS(view(5, CacheShape{4, 0}), Error);
}

TEST_CASE("kv: slot_of follows sinks-then-ring") {
    const CacheShape sh{4, 8};
    const uint32_t expect[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11, 4};
    for (uint64_t t = 0; t < std::size(expect); ++t) {
        CAPTURE(t);
        CHECK(slot_of(t, sh) == expect[t]);
    }
}

TEST_CASE("kv: stream shorter than n_sink sees only sinks") {
    const CacheShape sh{4, 8};
    for (uint64_t t = 0; t < 4; ++t) {
        const View v = view(t, sh);
        CHECK(v.size() == t + 1);
        CHECK(v.n_window_visible == 0);
        for (uint32_t j = 0; j < v.size(); ++j) {
            CHECK(v.tokens[j] == VisibleToken{j, j, j});
        }
    }
}

TEST_CASE("kv: exactly full cache uses every slot once, in stream order") {
    const CacheShape sh{4, 8};
    const View v = view(sh.capacity() - 1, sh);
    REQUIRE(v.size() == sh.capacity());
    for (uint32_t j = 0; j < v.size(); ++j) CHECK(v.tokens[j] == VisibleToken{j, j, j});
}

TEST_CASE("kv: first wrap evicts the oldest window token, keeps sinks") {
    const CacheShape sh{4, 8};
    const uint64_t t = sh.capacity();  // 12: first token that reuses a ring slot
    CHECK(slot_of(t, sh) == 4);
    const View v = view(t, sh);
    REQUIRE(v.size() == 12);
    for (uint32_t j = 0; j < 4; ++j) CHECK(v.tokens[j] == VisibleToken{j, j, j});
    // Window: stream 5..12 at positions 4..11; stream 5..11 still in slots 5..11, stream 12 in 4.
    for (uint32_t j = 4; j < 11; ++j) CHECK(v.tokens[j] == VisibleToken{j + 1, j, j + 1});
    CHECK(v.tokens[11] == VisibleToken{4, 11, 12});
}

TEST_CASE("kv: many wraps, stream index past 2^32 and near 10^12") {
    const CacheShape sh{4, 1000};
    const uint64_t t = 1000000000007ull;  // (t - 4) mod 1000 = 3
    CHECK(slot_of(t, sh) == 7);
    const View v = view(t, sh);
    REQUIRE(v.size() == 1004);
    CHECK(v.tokens.back() == VisibleToken{7, 1003, t});
    // The oldest window token sits in the slot right after the newest one.
    CHECK(v.tokens[4] == VisibleToken{8, 4, t - 999});
    for (uint32_t j = 4; j < v.size(); ++j) {
        CHECK(v.tokens[j].stream_index == t - 999 + (j - 4));
        CHECK(v.tokens[j].slot == 4 + (v.tokens[j].stream_index - 4) % 1000);
    }
    // Just past 2^32 with a window that does not divide 2^32.
    const CacheShape sh2{3, 7};
    const uint64_t t2 = (uint64_t(1) << 32) + 5;
    CHECK(slot_of(t2, sh2) == 3 + uint32_t((t2 - 3) % 7));
    // Top of the uint64 range: no wrap-around in the counts.
    const uint64_t tmax = std::numeric_limits<uint64_t>::max();
    CHECK(n_visible(tmax, CacheShape{0, 5}) == 5);
    CHECK(n_visible(tmax, CacheShape{4, 5}) == 9);
    CHECK(view(tmax, CacheShape{0, 5}).tokens.back().stream_index == tmax);
}

TEST_CASE("kv: n_sink = 0 is a pure ring") {
    const CacheShape sh{0, 5};
    for (uint64_t t = 0; t < 40; ++t) {
        CAPTURE(t);
        CHECK(slot_of(t, sh) == t % 5);
        const View v = view(t, sh);
        CHECK(v.n_sink_visible == 0);
        CHECK(v.size() == std::min<uint64_t>(t + 1, 5));
        CHECK(v.tokens.back().stream_index == t);
    }
}

TEST_CASE("kv: n_window = 1 sees the sinks and the query only") {
    const CacheShape sh{4, 1};
    for (uint64_t t = 4; t < 30; ++t) {
        CAPTURE(t);
        CHECK(slot_of(t, sh) == 4);
        const View v = view(t, sh);
        REQUIRE(v.size() == 5);
        CHECK(v.tokens[4] == VisibleToken{4, 4, t});
    }
}

TEST_CASE("kv: view invariants and brute-force equality for t < 200 over several shapes") {
    for (const CacheShape& sh : k_shapes) {
        for (uint64_t t = 0; t < 200; ++t) {
            CAPTURE(sh.n_sink);
            CAPTURE(sh.n_window);
            CAPTURE(t);
            const View v = view(t, sh);
            const auto brute = brute_view(t, sh.n_sink, sh.n_window);
            REQUIRE(v.size() == brute.size());
            CHECK(v.size() == n_visible(t, sh));
            CHECK(v.size() <= sh.capacity());
            std::set<uint32_t> slots;
            bool all_match = true;
            for (uint32_t j = 0; j < v.size(); ++j) {
                const VisibleToken& tok = v.tokens[j];
                all_match &= tok.position == j;
                all_match &= tok.stream_index == brute[j].stream_index;
                all_match &= tok.slot == brute[j].slot;
                all_match &= tok.slot == slot_of(tok.stream_index, sh);
                if (j > 0) all_match &= tok.stream_index > v.tokens[j - 1].stream_index;
                slots.insert(tok.slot);
            }
            CHECK(all_match);
            CHECK(slots.size() == v.size());            // slots distinct within a view
            CHECK(v.tokens.back().stream_index == t);   // the query sees itself, last
            CHECK(v.tokens.back().position == v.size() - 1);
        }
    }
}

TEST_CASE("kv: closed forms (64-bit and the shader's 32-bit) equal view()") {
    std::vector<uint64_t> ts;
    for (uint64_t t = 0; t < 200; ++t) ts.push_back(t);
    for (uint64_t t : {uint64_t(1) << 32, (uint64_t(1) << 32) + 3, uint64_t(999999999989ull)})
        ts.push_back(t);
    for (const CacheShape& sh : k_shapes) {
        for (uint64_t t : ts) {
            CAPTURE(sh.n_sink);
            CAPTURE(sh.n_window);
            CAPTURE(t);
            const View v = view(t, sh);
            // The shader's form: the query as a one-token chunk starting at t (kv/contract.h).
            const ChunkParams p = chunk_params(t, sh);
            CHECK(n_visible(p, 0) == v.size());
            bool ok = true;
            std::vector<int64_t> pos_of_slot(sh.capacity(), -1);
            for (uint32_t j = 0; j < v.size(); ++j) {
                ok &= visible_token(t, j, sh) == v.tokens[j];
                const ChunkToken u = chunk_token(p, 0, j);
                ok &= u.position == v.tokens[j].position;
                ok &= u.source == Source::cache ? u.index == v.tokens[j].slot
                                                : (v.tokens[j].stream_index == t && u.index == 0);
                pos_of_slot[v.tokens[j].slot] = j;
            }
            CHECK(ok);
            for (uint32_t slot = 0; slot < sh.capacity(); ++slot) ok &= position_of_slot(t, slot, sh) == pos_of_slot[slot];
            CHECK(ok);
            CHECK_THROWS_AS(visible_token(t, v.size(), sh), Error);
        }
    }
    CHECK_THROWS_AS(position_of_slot(0, 12, CacheShape{4, 8}), Error);
}
