#pragma once
// Next-token sampling from logits: repetition, presence and frequency penalties, then temperature, top-k, top-p,
// min-p, and a seeded draw. temperature <= 0 means greedy (argmax after the penalty).
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace vks::engine {

struct SamplerParams {
    float temperature = 0.8f;    // <= 0: greedy
    int top_k = 40;              // <= 0 or >= n_vocab: no top-k cut
    float top_p = 0.95f;         // >= 1: no nucleus cut
    float min_p = 0.05f;         // <= 0: no min-p cut (relative to the most likely token)
    float repeat_penalty = 1.0f; // 1: off. llama-style: positive logits /= p, negative *= p
    int repeat_last_n = 64;      // how many most recent history tokens the penalties look at
    // OpenAI-style, over the same recent tokens: logit -= frequency_penalty * count
    // + presence_penalty * (count > 0). 0: off. Negative values favour repetition.
    float presence_penalty = 0.0f;
    float frequency_penalty = 0.0f;
    uint64_t seed = 0x5EED5EEDull;
};

class Sampler {
public:
    // Throws vks::Error(invalid_argument) for parameters out of range (negative penalty,
    // top_p or min_p outside [0, 1], NaN temperature).
    explicit Sampler(const SamplerParams& params);

    // logits: (n_vocab) raw scores of the next token. history: tokens so far, oldest first
    // (only the last repeat_last_n count for the penalty; ids outside [0, n_vocab) are
    // ignored). Returns a token id in [0, n_vocab). Throws invalid_argument for empty logits.
    int32_t sample(std::span<const float> logits, std::span<const int32_t> history);

    const SamplerParams& params() const { return params_; }
    // Restarts the random stream (same seed -> same draws from here on).
    void reseed(uint64_t seed);

    // The random engine's full state as text, and back (session save/restore). set_rng_state
    // throws Status::bad_format on text that is not such a state, leaving the sampler unchanged.
    std::string rng_state() const;
    void set_rng_state(const std::string& state);

private:
    struct Candidate {
        int32_t id;
        float logit;
    };

    SamplerParams params_;
    std::mt19937_64 rng_;
    std::vector<Candidate> cand_;  // (n_vocab) scratch, reused between calls
};

}  // namespace vks::engine
