#pragma once
// A stream through a model: a fixed-size circular sink cache (allocated once), scratch buffers
// for chunks of up to n_batch tokens, and recorded command buffers that are replayed: a decode
// step is one queue submission of a recording made once.
//
//   auto s = engine::Session(model, cfg);
//   s.feed(prompt_ids);              // chunked prefill
//   for (;;) { int32_t t = s.sample(); s.feed({&t, 1}); }   // decode, for ever, constant memory
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/kv_layout.hpp"
#include "engine/model.hpp"
#include "engine/sampler.hpp"
#include "engine/session_state.hpp"
#include "kv/cache.hpp"
#include "ops/attention.hpp"
#include "vk/commands.hpp"

namespace vks::engine {

struct SessionConfig {
    uint32_t n_sink = 4;
    uint32_t n_window = 0;    // 0: trained context - n_sink
    uint32_t n_batch = 256;   // prefill chunk size
    bool dense = false;       // no eviction: feeding past n_sink + n_window is Status::context_full
    bool profile = false;     // time every dispatch (device timestamps): decode_profile(), prefill_profile()
    bool fuse = true;         // norms, residual adds and the gated unit fused into matmuls (false: A/B only)
    kv::CacheTypes cache_types;  // K / V element types (f16 default; q8_0, q4_0): kv/cache_types.hpp
    SamplerParams sampling;
    // Keep every layer's pre-RoPE q and k of the last chunk (captured_qk): the key calibration of
    // a rotated quantized cache (calibrate_keys) runs a session with this on.
    bool capture_qk = false;
};

struct SessionStats {
    uint64_t n_prefill_tokens = 0, n_decode_tokens = 0;
    double prefill_seconds = 0, decode_seconds = 0;
    double prefill_tokens_per_s() const { return prefill_seconds > 0 ? double(n_prefill_tokens) / prefill_seconds : 0; }
    double decode_tokens_per_s() const { return decode_seconds > 0 ? double(n_decode_tokens) / decode_seconds : 0; }
};

// Device time per pipeline, summed over the profiled steps (SessionConfig::profile).
struct OpProfile {
    struct Op {
        uint64_t calls = 0;
        double ns = 0;
    };
    std::map<std::string, Op> ops;  // by pipeline (shader variant) name
    uint64_t steps = 0;             // submissions (a decode step, or one prefill chunk)
    uint64_t tokens = 0;
    double total_ns() const {
        double t = 0;
        for (const auto& [name, op] : ops) t += op.ns;
        return t;
    }
};

class Session {
public:
    Session(std::shared_ptr<Model> model, const SessionConfig& config);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Feeds tokens through the model in chunks of n_batch (a single token is a decode step).
    // Afterwards logits() holds the next-token logits. If `all_logits` is given, it receives the
    // logits after every fed token: (n_tokens, n_vocab). Token ids are checked before any work;
    // cancellation is checked between chunks (Status::cancelled; completed chunks stay fed).
    void feed(std::span<const int32_t> tokens, std::vector<float>* all_logits = nullptr);

    std::span<const float> logits() const { return logits_; }
    bool has_logits() const { return has_logits_; }

    // Samples from logits() with the session's sampler and the stream's recent tokens.
    int32_t sample();

    // Asks a running feed to stop at the next chunk boundary. Thread-safe.
    void cancel() { cancel_.store(true); }
    bool take_cancel() { return cancel_.exchange(false); }

    // Empties the cache: a new stream (nothing is reallocated).
    void reset();

    uint64_t n_past() const { return cache_->n_past(); }
    uint32_t n_cached() const;  // tokens the global layers hold: min(n_past, capacity())
    // Slots of a global layer: n_sink + n_window (Gemma 3's local layers hold their sliding window).
    uint32_t capacity() const { return config_.n_sink + config_.n_window; }
    const SessionConfig& config() const { return config_; }
    const kv::Cache& cache() const { return *cache_; }
    const Model& model() const { return *model_; }
    std::shared_ptr<Model> model_ptr() const { return model_; }
    const SessionStats& stats() const { return stats_; }
    // With SessionConfig::profile: device time per pipeline of decode steps and of prefill chunks.
    const OpProfile& decode_profile() const { return decode_profile_; }
    const OpProfile& prefill_profile() const { return prefill_profile_; }
    void clear_profiles() { decode_profile_ = {}; prefill_profile_ = {}; }
    uint64_t kv_bytes() const { return cache_->bytes(); }
    // K/V bytes by layer kind (local sliding-window vs global) and vs a full window on every layer.
    KvLayout kv_layout() const { return engine::kv_layout(model_->desc(), config_.n_sink, config_.n_window); }
    uint64_t device_bytes() const { return device_bytes_; }
    // Writes zeros over the session's cache and scratch buffers and starts a new stream. A driver
    // that backs device memory with host pages committed on first write (lavapipe: malloc) then
    // holds all of it now, not a page at a time as streams fill their caches (the server calls
    // this at start: its RSS is flat from there on). session_memory.cpp.
    void commit_memory();
    const std::vector<int32_t>& recent_tokens() const { return history_; }
    Sampler& sampler() { return *sampler_; }

    // Whole state to / from bytes (engine/session_state.cpp documents the format). load_state
    // validates everything before it changes anything: a bad blob leaves the session unchanged.
    std::vector<uint8_t> save_state() const;
    void load_state(std::span<const uint8_t> blob);
    // What a saved state must match to load into this session (see parse_state).
    StateFingerprint state_fingerprint() const;

    // With SessionConfig::capture_qk: layer's q (n, q_dim) then k (n, kv_dim) of the last chunk
    // of n tokens, pre-RoPE, after the biases and q/k norms (as the cache receives k).
    std::vector<float> captured_qk(uint32_t layer) const;
    // A rotated quantized K's map (kv/key_transform.hpp), calibrated at creation; empty otherwise.
    const kv::KeyTransform& key_transform() const { return cache_->key_transform_values(); }
    // The calibration text's tokens (kCalibrationText through the model's tokenizer).
    static std::vector<int32_t> calibration_tokens(const Model& model);

private:
    struct Recording;
    Recording& recording_for(uint32_t n_tokens, bool all_logits);
    void record(vk::Commands& cmd, uint32_t n_tokens, bool all_logits);
    // Builds, all at once and in parallel (ops::Kernels::build_pending), the pipelines that a
    // decode step and a full prefill chunk use: planned by recording both into a
    // vk::Commands::DryRun. Called by the constructor, so the first token does not wait for
    // pipelines compiled one after another (docs/BENCHMARKS.md, "First token").
    void prepare_pipelines();
    void run_chunk(std::span<const int32_t> tokens, std::vector<float>* all_logits);
    // A rotated cache with a quantized K: gives the cache the model's key transform, estimated
    // by the first such session (Model::key_transform): estimate_key_transform runs the
    // calibration text through an f16-cache session that captures q and k.
    void calibrate_keys();
    kv::KeyTransform estimate_key_transform() const;

    std::shared_ptr<Model> model_;
    SessionConfig config_;
    std::unique_ptr<kv::Cache> cache_;
    std::unique_ptr<Sampler> sampler_;
    ops::AttentionConfig attn_cfg_;

    // Scratch, sized for n_batch tokens. Shapes in floats.
    vk::Buffer in_;        // (n_batch, n_embd) host-written embeddings (shared memory)
    vk::Buffer x_;         // (n_batch, n_embd) residual stream
    vk::Buffer xn_;        // (n_batch, n_embd) normed (only where a matmul cannot fuse the norm)
    // q (n_batch, q_dim) at float 0, k and v (n_batch, kv_dim) at floats k_off_ and v_off_ (256-byte
    // aligned): one buffer, so a fused q/k/v projection writes all three as output segments.
    vk::Buffer qkv_;
    uint64_t k_off_ = 0, v_off_ = 0;
    vk::Buffer attn_;      // (n_batch, q_dim)
    vk::Buffer gate_;      // (n_batch, n_ff): the gate projection, then act(gate) * up in place
    vk::Buffer tmp_, up_;  // unfused only: (n_batch, n_embd), (n_batch, n_ff)
    vk::Buffer last_;      // (n_embd) the last token's residual row (the LM head normalizes it)
    vk::Buffer logits_dev_;// (n_batch, n_vocab) shared memory, read by the host
    vk::Buffer attn_scratch_;
    vk::Buffer xq_;        // devices with integer dot: X of up to 8 columns as Q8_1 blocks (MatmulFusion::xq_scratch)
    vk::Buffer capture_;   // capture_qk: (n_layer, n_batch * (q_dim + kv_dim)) shared memory
    uint32_t captured_n_ = 0;
    uint64_t device_bytes_ = 0;

    std::map<std::pair<uint32_t, bool>, std::unique_ptr<Recording>> recordings_;
    std::vector<float> logits_;   // (n_vocab)
    bool has_logits_ = false;
    std::vector<int32_t> history_;  // the last repeat_last_n tokens (for the penalty)
    std::atomic<bool> cancel_{false};
    SessionStats stats_;
    OpProfile decode_profile_, prefill_profile_;
};

}  // namespace vks::engine
