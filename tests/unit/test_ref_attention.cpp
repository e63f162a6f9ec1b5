// lib/ref attention: StreamingLLM reference vs plain causal attention, sink+window view built by
// hand, learned sink logits, GQA head mapping.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "common/error.hpp"
#include "ref/attention.hpp"
#include "support/test_support.hpp"

using namespace vks;
using doctest::Approx;

namespace {

ref::AttentionParams make_params(uint32_t n_head, uint32_t n_head_kv, uint32_t head_dim,
                                 ref::RopeStyle style = ref::RopeStyle::normal) {
    ref::AttentionParams p;
    p.n_head = n_head;
    p.n_head_kv = n_head_kv;
    p.head_dim = head_dim;
    p.rope.theta_base = 10000.0f;
    p.rope.style = style;
    return p;
}

// Random un-rotated history for n_tok tokens: (n_tok, n_head_kv, head_dim). Inputs scaled up so
// the softmax is far from uniform and position mistakes show.
struct History {
    std::vector<float> q;  // (n_tok, n_head, head_dim)
    std::vector<float> k;  // (n_tok, n_head_kv, head_dim)
    std::vector<float> v;  // (n_tok, n_head_kv, head_dim)
};
History random_history(const ref::AttentionParams& p, uint32_t n_tok, uint32_t seed) {
    return {test::random_floats(size_t(n_tok) * p.n_head * p.head_dim, seed, -2, 2),
            test::random_floats(size_t(n_tok) * p.n_head_kv * p.head_dim, seed + 1, -2, 2),
            test::random_floats(size_t(n_tok) * p.n_head_kv * p.head_dim, seed + 2, -1, 1)};
}

}  // namespace

TEST_CASE("ref attention: window >= stream equals causal attention at every step") {
    for (auto style : {ref::RopeStyle::normal, ref::RopeStyle::neox}) {
        for (uint32_t n_sink : {0u, 4u}) {
            const auto p = make_params(4, 2, 16, style);
            const uint32_t n_tok = 40;
            const History h = random_history(p, n_tok, 100 + n_sink);
            const size_t q_size = size_t(p.n_head) * p.head_dim;
            std::vector<float> got(q_size), want(q_size);
            double worst = 0;
            for (uint64_t t = 0; t < n_tok; ++t) {
                ref::attention_stream(h.q.data() + t * q_size, h.k.data(), h.v.data(), t, n_sink, n_tok, p, got.data());
                ref::attention_causal(h.q.data() + t * q_size, h.k.data(), h.v.data(), t, p, want.data());
                worst = std::max(worst, test::max_abs_diff(got.data(), want.data(), q_size));
            }
            CAPTURE(n_sink);
            CHECK(worst < 1e-6);
        }
    }
}

TEST_CASE("ref attention: n_sink = 0, window w equals causal attention over the last w tokens at 0..w-1") {
    const auto p = make_params(2, 1, 8);
    const uint32_t w = 5, n_tok = 30;
    const History h = random_history(p, n_tok, 7);
    const size_t q_size = size_t(p.n_head) * p.head_dim, kv_size = size_t(p.n_head_kv) * p.head_dim;
    std::vector<float> got(q_size), want(q_size);
    double worst = 0, diff_from_abs = 0;
    for (uint64_t t = w; t < n_tok; ++t) {
        ref::attention_stream(h.q.data() + t * q_size, h.k.data(), h.v.data(), t, 0, w, p, got.data());
        // Causal attention over the history slice starting at t - w + 1: its "stream index" is the
        // re-based position, so the query lands at w - 1.
        const size_t first = t - w + 1;
        ref::attention_causal(h.q.data() + t * q_size, h.k.data() + first * kv_size, h.v.data() + first * kv_size,
                              w - 1, p, want.data());
        worst = std::max(worst, test::max_abs_diff(got.data(), want.data(), q_size));
        ref::attention_causal(h.q.data() + t * q_size, h.k.data(), h.v.data(), t, p, want.data());
        diff_from_abs = std::max(diff_from_abs, test::max_abs_diff(got.data(), want.data(), q_size));
    }
    CHECK(worst < 1e-6);
    CHECK(diff_from_abs > 1e-3);  // the window really drops tokens
}

TEST_CASE("ref attention: sinks + window see exactly the first n_sink and last n_window tokens") {
    const auto p = make_params(3, 3, 8, ref::RopeStyle::neox);
    const uint32_t n_tok = 11;  // t = 10
    const History h = random_history(p, n_tok, 21);
    const size_t q_size = size_t(p.n_head) * p.head_dim, kv_size = size_t(p.n_head_kv) * p.head_dim;
    // n_sink = 2, n_window = 3 at t = 10: visible stream tokens 0, 1, 8, 9, 10 at positions 0..4.
    const uint64_t visible[] = {0, 1, 8, 9, 10};
    std::vector<float> k5, v5;
    for (uint64_t s : visible) {
        k5.insert(k5.end(), h.k.begin() + s * kv_size, h.k.begin() + (s + 1) * kv_size);
        v5.insert(v5.end(), h.v.begin() + s * kv_size, h.v.begin() + (s + 1) * kv_size);
    }
    std::vector<float> got(q_size), want(q_size);
    ref::attention_stream(h.q.data() + 10 * q_size, h.k.data(), h.v.data(), 10, 2, 3, p, got.data());
    ref::attention_causal(h.q.data() + 10 * q_size, k5.data(), v5.data(), 4, p, want.data());
    CHECK(test::max_abs_diff(got.data(), want.data(), q_size) < 1e-6);
    // Before the window fills (t = 3): tokens 0..3 all visible, positions = stream index.
    ref::attention_stream(h.q.data() + 3 * q_size, h.k.data(), h.v.data(), 3, 2, 3, p, got.data());
    ref::attention_causal(h.q.data() + 3 * q_size, h.k.data(), h.v.data(), 3, p, want.data());
    CHECK(test::max_abs_diff(got.data(), want.data(), q_size) < 1e-6);
}

TEST_CASE("ref attention: learned sink logit scales the output by Z / (Z + exp(sink))") {
    auto p = make_params(2, 1, 4);
    const uint32_t n_tok = 6;
    // q = 0 makes every score 0 (Z = L), and a constant V row makes the unsinked output that row.
    const std::vector<float> q(8, 0.0f);
    const std::vector<float> k = test::random_floats(n_tok * 4, 3);
    std::vector<float> v(n_tok * 4);
    for (uint32_t s = 0; s < n_tok; ++s)
        for (int i = 0; i < 4; ++i) v[s * 4 + i] = float(i + 1);
    const float sinks[2] = {0.0f, 1.5f};
    p.sink_logits = sinks;
    std::vector<float> out(8);
    ref::attention_stream(q.data(), k.data(), v.data(), 5, 2, 2, p, out.data());  // L = 4 visible
    for (int i = 0; i < 4; ++i) {
        CHECK(out[i] == Approx((i + 1) * 4.0 / (4.0 + std::exp(0.0))).epsilon(1e-6));
        CHECK(out[4 + i] == Approx((i + 1) * 4.0 / (4.0 + std::exp(1.5))).epsilon(1e-6));
    }
    // Random q: the sink shrinks each head's output by one factor in (0, 1); a very negative
    // sink logit is the same as none.
    const auto q_rand = test::random_floats(8, 9, -3, 3);
    const auto v_rand = test::random_floats(n_tok * 4, 10);
    std::vector<float> with(8), without(8);
    ref::attention_stream(q_rand.data(), k.data(), v_rand.data(), 5, 2, 2, p, with.data());
    p.sink_logits = nullptr;
    ref::attention_stream(q_rand.data(), k.data(), v_rand.data(), 5, 2, 2, p, without.data());
    for (int h = 0; h < 2; ++h) {
        const double f = double(with[h * 4]) / without[h * 4];
        CHECK(f > 0.0);
        CHECK(f < 1.0);
        for (int i = 1; i < 4; ++i) CHECK(with[h * 4 + i] == Approx(f * without[h * 4 + i]).epsilon(1e-5));
    }
    const float no_sink[2] = {-1e30f, -1e30f};
    p.sink_logits = no_sink;
    ref::attention_stream(q_rand.data(), k.data(), v_rand.data(), 5, 2, 2, p, with.data());
    CHECK(test::max_abs_diff(with.data(), without.data(), 8) < 1e-7);
}

TEST_CASE("ref attention: GQA ratios 1, 3, 8 equal ratio 1 with repeated KV heads") {
    for (uint32_t ratio : {1u, 3u, 8u}) {
        CAPTURE(ratio);
        const uint32_t n_head_kv = 2, d = 8, n_tok = 13;
        const auto p = make_params(n_head_kv * ratio, n_head_kv, d);
        const auto p1 = make_params(n_head_kv * ratio, n_head_kv * ratio, d);
        const History h = random_history(p, n_tok, 40 + ratio);
        // Expanded K/V: query head g * ratio + r reads kv head g.
        std::vector<float> k_rep, v_rep;  // (n_tok, n_head, head_dim)
        for (uint32_t s = 0; s < n_tok; ++s)
            for (uint32_t g = 0; g < n_head_kv; ++g)
                for (uint32_t r = 0; r < ratio; ++r) {
                    const size_t off = (size_t(s) * n_head_kv + g) * d;
                    k_rep.insert(k_rep.end(), h.k.begin() + off, h.k.begin() + off + d);
                    v_rep.insert(v_rep.end(), h.v.begin() + off, h.v.begin() + off + d);
                }
        const size_t q_size = size_t(p.n_head) * d;
        std::vector<float> got(q_size), want(q_size);
        double worst = 0;
        for (uint64_t t = 0; t < n_tok; ++t) {
            ref::attention_stream(h.q.data() + t * q_size, h.k.data(), h.v.data(), t, 2, 5, p, got.data());
            ref::attention_stream(h.q.data() + t * q_size, k_rep.data(), v_rep.data(), t, 2, 5, p1, want.data());
            worst = std::max(worst, test::max_abs_diff(got.data(), want.data(), q_size));
        }
        CHECK(worst == 0.0);  // identical arithmetic
    }
}

TEST_CASE("ref attention: bad parameters throw") {
    const auto p = make_params(4, 2, 8);
    std::vector<float> q(32), k(16), v(16), out(32);
    CHECK_THROWS_AS(ref::attention_stream(q.data(), k.data(), v.data(), 0, 4, 0, p, out.data()), Error);
    auto bad = make_params(4, 3, 8);
    CHECK_THROWS_AS(ref::attention_causal(q.data(), k.data(), v.data(), 0, bad, out.data()), Error);
    bad = make_params(4, 2, 8);
    bad.rope.n_rot = 10;  // more than head_dim
    CHECK_THROWS_AS(ref::attention_causal(q.data(), k.data(), v.data(), 0, bad, out.data()), Error);
}
