// kv::estimate_key_transform and the map it defines (kv/key_transform.hpp): the centre is the
// keys' mean over the calibration tokens (the first ones left out), the scale follows the
// queries' energy against the keys' spread per RoPE pair, and the map round-trips.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "common/error.hpp"
#include "kv/key_transform.hpp"

using namespace vks;

namespace {

// Deterministic pseudo-random in [-1, 1).
float noise(uint32_t i) {
    uint32_t x = i * 2654435761u + 12345u;
    x ^= x >> 13;
    x *= 0x5bd1e995u;
    x ^= x >> 15;
    return float(x & 0xffffff) / float(0x800000) - 1.0f;
}

}  // namespace

TEST_CASE("key transform: centre = mean key, scale from query energy against key spread, tied per RoPE pair") {
    const uint32_t n = 40, n_head = 4, n_kv = 2, hd = 8;
    std::vector<float> k(size_t(n) * n_kv * hd), q(size_t(n) * n_head * hd);
    // Keys: a per-channel offset (5 + c) plus spread s_c = 0.5 (c < 4) or 2 (c >= 4); token 0 an
    // outlier that `first` = 1 leaves out. Queries: energy 4 on channels 0-1 (one pair), 1 elsewhere.
    for (uint32_t t = 0; t < n; ++t)
        for (uint32_t h = 0; h < n_kv; ++h)
            for (uint32_t c = 0; c < hd; ++c)
                k[(size_t(t) * n_kv + h) * hd + c] =
                    t == 0 ? 1000.0f : (5.0f + float(c) + float(h)) + (c < 4 ? 0.5f : 2.0f) * (t % 2 ? 1.0f : -1.0f);
    for (uint32_t t = 0; t < n; ++t)
        for (uint32_t h = 0; h < n_head; ++h)
            for (uint32_t c = 0; c < hd; ++c) q[(size_t(t) * n_head + h) * hd + c] = (c < 2 ? 2.0f : 1.0f) * (t % 3 ? 1.0f : -1.0f);
    kv::RopeConfig rope;  // normal: pairs (2i, 2i+1)
    std::vector<float> out(size_t(n_kv) * 2 * hd);
    // Tokens 2..39 (38, an even count: the +-spread averages to 0 exactly; token 0 is the outlier).
    kv::estimate_key_transform(k.data(), q.data(), n, 2, n_head, n_kv, hd, rope, out.data());
    for (uint32_t h = 0; h < n_kv; ++h) {
        const float* m = out.data() + h * 2 * hd;
        const float* a = m + hd;
        double ss = 0;
        for (uint32_t c = 0; c < hd; ++c) {
            CHECK(m[c] == doctest::Approx(5.0 + c + h).epsilon(1e-5));
            ss += double(a[c]) * a[c];
        }
        CHECK(std::sqrt(ss / hd) == doctest::Approx(1.0).epsilon(1e-5));  // RMS 1
        for (uint32_t c = 0; c < hd; c += 2) CHECK(a[c] == a[c + 1]);     // one scale per pair
        // a ~ E[q^2]^(1/4) / var^(1/4): channel pair 0 (q energy 4, variance 0.25) against pair 2
        // (q energy 1, variance 4): (4^(1/4) / 0.25^(1/4)) / (1 / 4^(1/4)) = 2 sqrt(2).
        CHECK(a[0] / a[4] == doctest::Approx(2.0 * std::sqrt(2.0)).epsilon(1e-4));
        CHECK(a[2] / a[4] == doctest::Approx(2.0).epsilon(1e-4));  // spread 0.5 vs 2, same q energy
    }
    // Neox pairs (i, i + 4): channels 0 and 4 share a scale.
    rope.style = kv::RopeStyle::neox;
    kv::estimate_key_transform(k.data(), q.data(), n, 2, n_head, n_kv, hd, rope, out.data());
    CHECK(out[hd] == out[hd + 4]);
    CHECK(out[hd + 1] == out[hd + 5]);
    // The map round-trips, and the identity is the identity.
    std::vector<float> x(hd), y(hd);
    for (uint32_t c = 0; c < hd; ++c) x[c] = y[c] = 3.0f * noise(c);
    kv::key_transform_apply(out.data(), out.data() + hd, y.data(), hd);
    kv::key_transform_undo(out.data(), out.data() + hd, y.data(), hd);
    for (uint32_t c = 0; c < hd; ++c) CHECK(y[c] == doctest::Approx(x[c]).epsilon(1e-5));
    const kv::KeyTransform id = kv::KeyTransform::identity(3, n_kv, hd);
    CHECK(id.values.size() == size_t(3) * n_kv * 2 * hd);
    CHECK(id.center(2, 1)[hd - 1] == 0.0f);
    CHECK(id.scale(2, 1)[0] == 1.0f);
}

TEST_CASE("key transform: degenerate statistics give scale 1, bad shapes are refused") {
    const uint32_t n = 8, hd = 4;
    std::vector<float> k(size_t(n) * hd, 2.0f), q(size_t(n) * hd, 0.0f);  // no spread, no query energy
    std::vector<float> out(2 * hd);
    kv::estimate_key_transform(k.data(), q.data(), n, 1, 1, 1, hd, kv::RopeConfig{}, out.data());
    for (uint32_t c = 0; c < hd; ++c) {
        CHECK(out[c] == 2.0f);
        CHECK(out[hd + c] == 1.0f);
    }
    CHECK_THROWS_AS(kv::estimate_key_transform(k.data(), q.data(), n, n - 1, 1, 1, hd, kv::RopeConfig{}, out.data()), Error);
    CHECK_THROWS_AS(kv::estimate_key_transform(k.data(), q.data(), n, 1, 3, 2, hd, kv::RopeConfig{}, out.data()), Error);
}
