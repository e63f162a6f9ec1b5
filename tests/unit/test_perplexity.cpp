// engine/perplexity: NLL from hand-made logits whose softmax is known in closed form.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "common/error.hpp"
#include "engine/perplexity.hpp"

using vks::engine::PerplexityAccumulator;
using vks::engine::token_nll;
using vks::engine::token_nlls;

TEST_CASE("token_nll of uniform logits is log(vocab size) for every target") {
    std::vector<float> logits(1000, 3.25f);
    for (int32_t t : {0, 17, 999}) CHECK(token_nll(logits, t) == doctest::Approx(std::log(1000.0)).epsilon(1e-12));
}

TEST_CASE("token_nll of logits = log(p) is -log p, whatever constant is added") {
    const double p[4] = {0.1, 0.2, 0.3, 0.4};
    for (double shift : {0.0, -50.0, 1000.0, 60000.0}) {
        std::vector<float> logits;
        for (double x : p) logits.push_back(float(std::log(x) + shift));
        for (int32_t t = 0; t < 4; ++t) {
            // the float rounding of log(p)+shift bounds the error: half an ulp of |shift| per logit
            double tol = 4.0 * (std::fabs(shift) + 2.0) * 0x1p-24 + 1e-9;
            CHECK(std::fabs(token_nll(logits, t) - (-std::log(p[t]))) < tol);
        }
    }
}

TEST_CASE("token_nll stays finite for huge logits and is exact for a dominant one") {
    std::vector<float> logits = {1e30f, 0.0f, -1e30f};
    CHECK(token_nll(logits, 0) == 0.0);
    CHECK(token_nll(logits, 1) == doctest::Approx(1e30).epsilon(1e-6));
    CHECK(std::isfinite(token_nll(logits, 2)));
    // two equal maxima share the mass
    std::vector<float> two = {5e20f, 5e20f, -3.0f};
    CHECK(token_nll(two, 1) == doctest::Approx(std::log(2.0)).epsilon(1e-12));
}

TEST_CASE("token_nll: -inf logits are zero probability and NaN propagates") {
    const float inf = std::numeric_limits<float>::infinity();
    std::vector<float> logits = {-inf, 0.0f, 0.0f};
    CHECK(token_nll(logits, 1) == doctest::Approx(std::log(2.0)).epsilon(1e-12));
    CHECK(std::isinf(token_nll(logits, 0)));
    std::vector<float> all_neg_inf = {-inf, -inf};
    CHECK(std::isinf(token_nll(all_neg_inf, 0)));
    std::vector<float> with_nan = {0.0f, std::numeric_limits<float>::quiet_NaN(), 1.0f};
    CHECK(std::isnan(token_nll(with_nan, 0)));
    std::vector<float> with_pos_inf = {0.0f, inf};
    CHECK(std::isnan(token_nll(with_pos_inf, 1)));
}

TEST_CASE("token_nll rejects empty logits and out-of-range targets") {
    std::vector<float> logits = {0.0f, 1.0f};
    CHECK_THROWS_AS(token_nll(logits, 2), vks::Error);
    CHECK_THROWS_AS(token_nll(logits, -1), vks::Error);
    CHECK_THROWS_AS(token_nll(std::span<const float>(), 0), vks::Error);
    try {
        token_nll(logits, 7);
    } catch (const vks::Error& e) {
        CHECK(e.status() == vks::Status::invalid_argument);
    }
}

TEST_CASE("token_nlls evaluates each row against its own target and checks sizes") {
    // row 0: uniform over 3 -> log 3; row 1: p = (0.5, 0.25, 0.25) -> target 1: log 4
    std::vector<float> logits = {0, 0, 0, float(std::log(0.5)), float(std::log(0.25)), float(std::log(0.25))};
    std::vector<int32_t> targets = {2, 1};
    std::vector<double> out(2);
    token_nlls(logits, 3, targets, out);
    CHECK(out[0] == doctest::Approx(std::log(3.0)).epsilon(1e-7));
    CHECK(out[1] == doctest::Approx(std::log(4.0)).epsilon(1e-7));
    std::vector<double> short_out(1);
    CHECK_THROWS_AS(token_nlls(logits, 3, targets, short_out), vks::Error);
    CHECK_THROWS_AS(token_nlls(logits, 4, targets, out), vks::Error);
    CHECK_THROWS_AS(token_nlls(logits, 0, targets, out), vks::Error);
}

TEST_CASE("PerplexityAccumulator: running mean NLL and exp of it") {
    PerplexityAccumulator acc;
    CHECK(acc.count() == 0);
    CHECK(std::isnan(acc.mean_nll()));
    acc.add(1.0);
    CHECK(acc.ppl() == doctest::Approx(std::exp(1.0)));
    acc.add(2.0);
    acc.add(3.0);
    CHECK(acc.count() == 3);
    CHECK(acc.mean_nll() == doctest::Approx(2.0).epsilon(1e-15));
    CHECK(acc.ppl() == doctest::Approx(std::exp(2.0)).epsilon(1e-14));
}

TEST_CASE("PerplexityAccumulator keeps a million-token sum accurate") {
    // one 1e8 then 1e6 copies of 0.1: a naive running sum rounds every add to ulp(1e8) and drifts
    // by up to ~1e-10 relative; the compensated sum must be within a few ulps of 1e8 + 1e5.
    PerplexityAccumulator acc;
    acc.add(1e8);
    for (int i = 0; i < 1000000; ++i) acc.add(0.1);
    const double exact = 1e8 + 1e5;
    CHECK(std::fabs(acc.sum_nll() - exact) / exact < 1e-14);
    CHECK(acc.count() == 1000001);
}
