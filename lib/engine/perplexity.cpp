#include "engine/perplexity.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.hpp"

namespace vks::engine {

double token_nll(std::span<const float> logits, int32_t target) {
    if (logits.empty()) fail(Status::invalid_argument, "token_nll: empty logits");
    if (target < 0 || size_t(target) >= logits.size())
        fail(Status::invalid_argument, "token_nll: target %d is outside the vocabulary [0, %zu)", target, logits.size());
    // log-sum-exp with the max subtracted: every exp argument is <= 0, so nothing overflows.
    double mx = -std::numeric_limits<double>::infinity();
    bool has_nan = false;
    for (float x : logits) {
        if (x != x) has_nan = true;
        mx = std::max(mx, double(x));
    }
    if (has_nan) return std::numeric_limits<double>::quiet_NaN();
    if (!std::isfinite(mx)) return mx > 0 ? std::numeric_limits<double>::quiet_NaN()   // +inf: undefined
                                          : std::numeric_limits<double>::infinity();  // all -inf
    double sum = 0;
    for (float x : logits) sum += std::exp(double(x) - mx);
    // (mx - target) first: with |mx| ~ 1e20, log(sum) + mx would round log(sum) away
    return (mx - double(logits[size_t(target)])) + std::log(sum);
}

namespace {
// log of the softmax denominator with the max subtracted: log sum exp(x - mx), and mx.
void log_norm(std::span<const float> x, double& mx, double& lse) {
    mx = -std::numeric_limits<double>::infinity();
    for (float v : x) mx = std::max(mx, double(v));
    double sum = 0;
    for (float v : x) sum += std::exp(double(v) - mx);
    lse = std::log(sum);
}
}  // namespace

double token_kl(std::span<const float> p_logits, std::span<const float> q_logits) {
    if (p_logits.empty() || p_logits.size() != q_logits.size())
        fail(Status::invalid_argument, "token_kl: logits of %zu and %zu entries", p_logits.size(), q_logits.size());
    for (size_t i = 0; i < p_logits.size(); ++i)
        if (!std::isfinite(p_logits[i]) || !std::isfinite(q_logits[i])) return std::numeric_limits<double>::quiet_NaN();
    double pm, pl, qm, ql;
    log_norm(p_logits, pm, pl);
    log_norm(q_logits, qm, ql);
    double kl = 0;
    for (size_t i = 0; i < p_logits.size(); ++i) {
        const double lp = double(p_logits[i]) - pm - pl, lq = double(q_logits[i]) - qm - ql;
        kl += std::exp(lp) * (lp - lq);
    }
    return kl;
}

void token_nlls(std::span<const float> logits, size_t n_vocab, std::span<const int32_t> targets, std::span<double> out) {
    if (n_vocab == 0) fail(Status::invalid_argument, "token_nlls: n_vocab is 0");
    if (targets.size() != out.size())
        fail(Status::invalid_argument, "token_nlls: %zu targets but %zu outputs", targets.size(), out.size());
    if (logits.size() != targets.size() * n_vocab)
        fail(Status::invalid_argument, "token_nlls: %zu logits are not %zu rows of %zu", logits.size(), targets.size(),
             n_vocab);
    for (size_t i = 0; i < targets.size(); ++i) out[i] = token_nll(logits.subspan(i * n_vocab, n_vocab), targets[i]);
}

void PerplexityAccumulator::add(double nll) {
    double y = nll - comp_;
    double t = sum_ + y;
    comp_ = (t - sum_) - y;
    sum_ = t;
    ++n_;
}

double PerplexityAccumulator::mean_nll() const {
    return n_ ? sum_ / double(n_) : std::numeric_limits<double>::quiet_NaN();
}

double PerplexityAccumulator::ppl() const { return std::exp(mean_nll()); }

}  // namespace vks::engine
