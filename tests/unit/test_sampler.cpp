#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "common/error.hpp"
#include "engine/sampler.hpp"
#include "support/test_support.hpp"

using namespace vks;
using namespace vks::engine;

namespace {

SamplerParams no_truncation(float temperature, uint64_t seed) {
    SamplerParams p;
    p.temperature = temperature;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.seed = seed;
    return p;
}

std::vector<int> histogram(Sampler& s, const std::vector<float>& logits, int n_draws) {
    std::vector<int> count(logits.size(), 0);
    for (int i = 0; i < n_draws; ++i) ++count[s.sample(logits, {})];
    return count;
}

}  // namespace

TEST_CASE("sampler: temperature 0 picks the argmax") {
    for (uint32_t seed : {1u, 2u, 3u}) {
        std::vector<float> logits = test::random_floats(1000, seed, -5.0f, 5.0f);
        size_t arg = 0;
        for (size_t i = 1; i < logits.size(); ++i)
            if (logits[i] > logits[arg]) arg = i;
        SamplerParams p;
        p.temperature = 0.0f;
        Sampler s(p);
        CAPTURE(seed);
        CHECK(s.sample(logits, {}) == int32_t(arg));
    }
}

TEST_CASE("sampler: top_k = 1 equals greedy at any temperature") {
    std::vector<float> logits = test::random_floats(500, 7, -3.0f, 3.0f);
    SamplerParams g;
    g.temperature = 0.0f;
    int32_t greedy = Sampler(g).sample(logits, {});
    SamplerParams p = no_truncation(1.5f, 99);
    p.top_k = 1;
    Sampler s(p);
    for (int i = 0; i < 50; ++i) CHECK(s.sample(logits, {}) == greedy);
}

TEST_CASE("sampler: same seed gives the same sequence, different seeds differ") {
    std::vector<float> logits = test::random_floats(64, 3, -1.0f, 1.0f);  // flat-ish: many choices
    auto run = [&](uint64_t seed) {
        Sampler s(no_truncation(1.0f, seed));
        std::vector<int32_t> out;
        for (int i = 0; i < 100; ++i) out.push_back(s.sample(logits, {}));
        return out;
    };
    CHECK(run(42) == run(42));
    CHECK(run(42) != run(43));
    // reseed restarts the stream
    Sampler s(no_truncation(1.0f, 42));
    int32_t first = s.sample(logits, {});
    s.sample(logits, {});
    s.reseed(42);
    CHECK(s.sample(logits, {}) == first);
}

TEST_CASE("sampler: frequencies follow the softmax at temperature 1") {
    const std::vector<float> logits = {0.0f, 1.0f, 2.0f, 0.5f};
    double z = 0;
    for (float l : logits) z += std::exp(l);
    Sampler s(no_truncation(1.0f, 1234));
    const int n_draws = 200000;
    std::vector<int> count = histogram(s, logits, n_draws);
    for (size_t i = 0; i < logits.size(); ++i) {
        double expected = std::exp(logits[i]) / z;
        double got = double(count[i]) / n_draws;
        // 5 sigma of a binomial proportion
        double tol = 5.0 * std::sqrt(expected * (1 - expected) / n_draws);
        CAPTURE(i);
        CAPTURE(expected);
        CHECK(std::fabs(got - expected) < tol);
    }
}

TEST_CASE("sampler: temperature sharpens and flattens") {
    const std::vector<float> logits = {0.0f, 1.0f};
    Sampler cold(no_truncation(0.25f, 5)), hot(no_truncation(4.0f, 5));
    int n = 20000;
    double p_cold = histogram(cold, logits, n)[1] / double(n);
    double p_hot = histogram(hot, logits, n)[1] / double(n);
    CHECK(p_cold == doctest::Approx(1.0 / (1.0 + std::exp(-4.0))).epsilon(0.02));
    CHECK(p_hot == doctest::Approx(1.0 / (1.0 + std::exp(-0.25))).epsilon(0.03));
}

TEST_CASE("sampler: top-p keeps the smallest prefix reaching p") {
    // probabilities 0.5, 0.3, 0.15, 0.05
    const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
    SamplerParams p = no_truncation(1.0f, 77);
    p.top_p = 0.7f;  // 0.5 < 0.7 <= 0.8: keep tokens 0 and 1
    Sampler s(p);
    std::vector<int> count = histogram(s, logits, 20000);
    CHECK(count[2] == 0);
    CHECK(count[3] == 0);
    CHECK(count[0] > 0);
    CHECK(count[1] > 0);
    // renormalized: 0.5/0.8
    CHECK(count[0] / 20000.0 == doctest::Approx(0.625).epsilon(0.03));
}

TEST_CASE("sampler: min-p drops tokens below min_p * p_max") {
    const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
    SamplerParams p = no_truncation(1.0f, 78);
    p.min_p = 0.2f;  // floor 0.1: drops only the 0.05 token
    Sampler s(p);
    std::vector<int> count = histogram(s, logits, 20000);
    CHECK(count[3] == 0);
    CHECK(count[2] > 0);
    CHECK(count[1] > 0);
}

TEST_CASE("sampler: top-k keeps only the k most likely") {
    const std::vector<float> logits = {1.0f, 3.0f, 2.0f, 2.5f, 0.0f};
    SamplerParams p = no_truncation(2.0f, 79);
    p.top_k = 2;  // tokens 1 and 3
    Sampler s(p);
    std::vector<int> count = histogram(s, logits, 10000);
    CHECK(count[0] + count[2] + count[4] == 0);
    CHECK(count[1] > count[3]);
    CHECK(count[3] > 0);
}

TEST_CASE("sampler: repetition penalty changes the argmax") {
    SamplerParams p;
    p.temperature = 0.0f;
    p.repeat_penalty = 2.0f;
    p.repeat_last_n = 2;
    Sampler s(p);
    // positive logit divided: 3.0 -> 1.5 < 2.0
    std::vector<float> pos = {3.0f, 2.0f, 0.0f};
    CHECK(s.sample(pos, {}) == 0);
    const int32_t hist0[] = {0};
    CHECK(s.sample(pos, hist0) == 1);
    // negative logit multiplied: -1 -> -2 < -1.5
    std::vector<float> neg = {-1.0f, -1.5f, -3.0f};
    CHECK(s.sample(neg, hist0) == 1);
    // outside the last-n window: no penalty
    const int32_t old_hist[] = {0, 2, 2};
    CHECK(s.sample(pos, old_hist) == 0);
    // a token repeated in the window is penalized once
    const int32_t twice[] = {0, 0};
    std::vector<float> close = {3.0f, 1.0f};  // once: 1.5 > 1.0; twice would be 0.75
    CHECK(s.sample(close, twice) == 0);
}

TEST_CASE("sampler: bad parameters and empty logits throw") {
    SamplerParams p;
    p.top_p = 1.5f;
    CHECK_THROWS_AS(Sampler{p}, Error);
    p = SamplerParams{};
    p.repeat_penalty = 0.0f;
    CHECK_THROWS_AS(Sampler{p}, Error);
    Sampler s(SamplerParams{});
    CHECK_THROWS_AS(s.sample(std::span<const float>{}, {}), Error);
}

TEST_CASE("sampler: presence and frequency penalties subtract by count") {
    SamplerParams p;
    p.temperature = 0.0f;
    p.repeat_last_n = 4;
    const std::vector<float> logits = {3.0f, 2.2f, 0.0f};
    const int32_t twice[] = {0, 0};
    p.frequency_penalty = 0.5f;  // token 0: 3.0 - 2 * 0.5 = 2.0 < 2.2
    CHECK(Sampler(p).sample(logits, twice) == 1);
    const int32_t once[] = {0};  // 3.0 - 0.5 = 2.5 > 2.2
    CHECK(Sampler(p).sample(logits, once) == 0);
    p.frequency_penalty = 0.0f;
    p.presence_penalty = 0.7f;   // once or twice: 3.0 - 0.7 = 2.3 > 2.2; 1.0 tips it
    CHECK(Sampler(p).sample(logits, twice) == 0);
    p.presence_penalty = 1.0f;
    CHECK(Sampler(p).sample(logits, twice) == 1);
    const int32_t outside[] = {0, 2, 2, 2, 2};  // token 0 has left the 4-token window
    CHECK(Sampler(p).sample(logits, outside) == 0);
    p.presence_penalty = -1.0f;  // negative: favours what was said
    const std::vector<float> low = {2.0f, 2.5f};
    CHECK(Sampler(p).sample(low, once) == 0);
    p.presence_penalty = NAN;
    CHECK_THROWS_AS(Sampler{p}, Error);
}
