#pragma once
// Perplexity bookkeeping for teacher-forced evaluation: the negative log-likelihood of a target
// token under a row of logits, and a running mean over a stream.
//
//   engine::PerplexityAccumulator acc;
//   for each position i: acc.add(engine::token_nll(logits_after(i), tokens[i + 1]));
//   acc.ppl();   // exp(mean NLL)
//
// The log-softmax is computed in double with the max subtracted first, so logits of any
// magnitude (|x| ~ 1e30 included) give a finite NLL as long as they are finite.
#include <cstddef>
#include <cstdint>
#include <span>

namespace vks::engine {

// -log softmax(logits)[target], in nats. Throws invalid_argument for empty logits or a target
// outside [0, logits.size()). A NaN or infinite logit gives a NaN or infinite result (a
// diverging model must show as such, not be clipped).
double token_nll(std::span<const float> logits, int32_t target);

// NLLs of a block of rows: rows i = 0..n-1 of `logits` ((n, n_vocab), row-major) against
// targets[i]; results written to out[i]. Sizes must agree (invalid_argument otherwise).
void token_nlls(std::span<const float> logits, size_t n_vocab, std::span<const int32_t> targets,
                std::span<double> out);

// KL(P || Q) in nats of the next-token distributions P = softmax(p_logits) (the reference, e.g.
// an f16 cache) and Q = softmax(q_logits) (e.g. a quantized cache), summed in double over the
// whole vocabulary. >= 0 up to rounding; NaN when a logit is not finite. invalid_argument when the
// sizes differ or are 0.
double token_kl(std::span<const float> p_logits, std::span<const float> q_logits);

// Running mean NLL and perplexity over a stream of per-token NLLs (summed in double with
// Kahan compensation: a million tokens of ~1-10 nats lose nothing to rounding).
class PerplexityAccumulator {
public:
    void add(double nll);
    uint64_t count() const { return n_; }
    double sum_nll() const { return sum_; }
    double mean_nll() const;   // 0 tokens: NaN
    double ppl() const;        // exp(mean_nll)

private:
    uint64_t n_ = 0;
    double sum_ = 0, comp_ = 0;
};

}  // namespace vks::engine
