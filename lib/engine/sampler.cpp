#include "engine/sampler.hpp"

#include <sstream>

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "common/error.hpp"

namespace vks::engine {

Sampler::Sampler(const SamplerParams& params) : params_(params), rng_(params.seed) {
    if (!(params.temperature == params.temperature))
        fail(Status::invalid_argument, "sampler: temperature is NaN");
    if (!(params.top_p >= 0.0f && params.top_p <= 1.0f))
        fail(Status::invalid_argument, "sampler: top_p %g outside [0, 1]", double(params.top_p));
    if (!(params.min_p >= 0.0f && params.min_p <= 1.0f))
        fail(Status::invalid_argument, "sampler: min_p %g outside [0, 1]", double(params.min_p));
    if (!(params.repeat_penalty > 0.0f))
        fail(Status::invalid_argument, "sampler: repeat_penalty %g must be > 0", double(params.repeat_penalty));
    if (!std::isfinite(params.presence_penalty) || !std::isfinite(params.frequency_penalty))
        fail(Status::invalid_argument, "sampler: presence/frequency penalties must be finite");
    if (params.repeat_last_n < 0)
        fail(Status::invalid_argument, "sampler: repeat_last_n %d must be >= 0", params.repeat_last_n);
}

void Sampler::reseed(uint64_t seed) {
    params_.seed = seed;
    rng_.seed(seed);
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
    const size_t n_vocab = logits.size();
    if (n_vocab == 0) fail(Status::invalid_argument, "sampler: empty logits");

    cand_.resize(n_vocab);
    for (size_t i = 0; i < n_vocab; ++i) cand_[i] = {int32_t(i), logits[i]};

    // Repetition penalty over the distinct tokens of the recent window (each applied once).
    if (params_.repeat_penalty != 1.0f && params_.repeat_last_n > 0 && !history.empty()) {
        size_t n_last = std::min(history.size(), size_t(params_.repeat_last_n));
        std::unordered_set<int32_t> seen;
        for (int32_t id : history.subspan(history.size() - n_last)) {
            if (id < 0 || size_t(id) >= n_vocab || !seen.insert(id).second) continue;
            float& l = cand_[id].logit;
            l = l > 0.0f ? l / params_.repeat_penalty : l * params_.repeat_penalty;
        }
    }

    // Presence and frequency penalties: by how often each token occurs in the recent window.
    if ((params_.presence_penalty != 0.0f || params_.frequency_penalty != 0.0f) && params_.repeat_last_n > 0 &&
        !history.empty()) {
        size_t n_last = std::min(history.size(), size_t(params_.repeat_last_n));
        std::unordered_map<int32_t, int> count;
        for (int32_t id : history.subspan(history.size() - n_last))
            if (id >= 0 && size_t(id) < n_vocab) ++count[id];
        for (const auto& [id, c] : count)
            cand_[id].logit -= params_.frequency_penalty * float(c) + params_.presence_penalty;
    }

    if (params_.temperature <= 0.0f) {
        // Greedy: first index of the maximum (NaN logits never win).
        size_t best = 0;
        for (size_t i = 1; i < n_vocab; ++i)
            if (cand_[i].logit > cand_[best].logit || std::isnan(cand_[best].logit)) best = i;
        return cand_[best].id;
    }

    // Top-k: keep the k best (sorted descending, ties by lower id for determinism).
    auto better = [](const Candidate& a, const Candidate& b) {
        return a.logit != b.logit ? a.logit > b.logit : a.id < b.id;
    };
    size_t n = n_vocab;
    if (params_.top_k > 0 && size_t(params_.top_k) < n) {
        n = size_t(params_.top_k);
        std::partial_sort(cand_.begin(), cand_.begin() + n, cand_.end(), better);
    } else {
        std::sort(cand_.begin(), cand_.end(), better);
    }

    // Softmax with temperature over the kept candidates (max-subtracted for stability).
    std::vector<double> prob(n);  // (n) probabilities of cand_[0..n)
    const double max_l = cand_[0].logit;
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) {
        double p = std::exp((double(cand_[i].logit) - max_l) / params_.temperature);
        prob[i] = std::isfinite(p) ? p : 0.0;
        sum += prob[i];
    }
    if (!(sum > 0.0)) return cand_[0].id;  // every logit -inf or NaN past the first
    for (double& p : prob) p /= sum;

    // Top-p: the smallest prefix whose mass reaches top_p (at least one token).
    if (params_.top_p < 1.0f) {
        double cum = 0.0;
        size_t keep = n;
        for (size_t i = 0; i < n; ++i) {
            cum += prob[i];
            if (cum >= params_.top_p) {
                keep = i + 1;
                break;
            }
        }
        n = keep;
    }
    // Min-p: drop tokens less likely than min_p times the most likely one.
    if (params_.min_p > 0.0f) {
        const double floor_p = double(params_.min_p) * prob[0];
        size_t keep = 1;
        while (keep < n && prob[keep] >= floor_p) ++keep;
        n = keep;
    }

    // Draw from the renormalized survivors with our own uniform (std::uniform_real_distribution
    // differs between standard libraries; this keeps seeds portable).
    double total = 0.0;
    for (size_t i = 0; i < n; ++i) total += prob[i];
    double u = double(rng_() >> 11) * (1.0 / 9007199254740992.0) * total;  // [0, total)
    for (size_t i = 0; i < n; ++i) {
        if (u < prob[i]) return cand_[i].id;
        u -= prob[i];
    }
    return cand_[n - 1].id;  // rounding left u just past the end
}

std::string Sampler::rng_state() const {
    std::ostringstream os;
    os << rng_;
    return os.str();
}

void Sampler::set_rng_state(const std::string& state) {
    std::istringstream is(state);
    std::mt19937_64 r;
    is >> r;
    if (is.fail()) fail(Status::bad_format, "sampler state is not a valid random-engine state");
    rng_ = r;
}

}  // namespace vks::engine
