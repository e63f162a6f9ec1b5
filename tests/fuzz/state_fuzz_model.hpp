#pragma once
// The synthetic model and session geometry the session-state fuzzer pretends to be loaded
// into. gen_state_corpus.cpp writes the seed states from exactly this model and session and
// checks that the session's fingerprint equals k_fuzz_fingerprint, so the seeds get past the
// fingerprint checks and the fuzzer reaches the deeper fields.
#include "engine/session_state.hpp"
#include "model/synthetic.hpp"

namespace vks::fuzz {

inline model::SyntheticConfig state_fuzz_model() {
    model::SyntheticConfig c;
    c.n_vocab = 270;
    c.n_embd = 64;
    c.n_layer = 1;
    c.n_head = 4;
    c.n_head_kv = 2;
    c.n_ff = 128;
    c.context_length = 64;
    c.seed = 7;
    return c;
}
inline constexpr uint32_t k_fuzz_n_sink = 2, k_fuzz_n_window = 6;

// Printed by gen_state_corpus (it refuses to write seeds if the model changes under it).
inline engine::StateFingerprint fuzz_fingerprint() {
    engine::StateFingerprint f;
    f.n_layer = 1;
    f.n_embd = 64;
    f.n_vocab = 270;
    f.n_head_kv = 2;
    f.head_dim = 16;
    f.model_hash = 0xa7dd5e74596b4197ull;
    f.n_sink = k_fuzz_n_sink;
    f.n_window = k_fuzz_n_window;
    f.capacity = k_fuzz_n_sink + k_fuzz_n_window;
    f.slot_bytes = 64;  // (n_head_kv * head_dim) f16 values
    return f;
}

}  // namespace vks::fuzz
