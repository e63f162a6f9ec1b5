// Writes the seed corpus of fuzz_session_state: valid session states of the fuzz model
// (tests/fuzz/state_fuzz_model.hpp) at several stream positions, and damaged copies
// (truncated, a flipped byte with and without a repaired checksum, a foreign fingerprint, an
// impossible n_past) and a state of other cache types. tests/unit/test_state_corpus.cpp checks
// that each seed still parses (or fails) as named, so a format change cannot leave it stale.
// Needs a Vulkan device (lavapipe is fine): usage gen_state_corpus OUT_DIR
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "engine/model.hpp"
#include "engine/session.hpp"
#include "state_fuzz_model.hpp"

namespace {

void write(const std::filesystem::path& p, const std::vector<uint8_t>& b) {
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

void fix_checksum(std::vector<uint8_t>& b) {
    uint64_t h = vks::engine::state_fnv1a(b.data(), b.size() - 8);
    std::memcpy(b.data() + b.size() - 8, &h, 8);
}

}  // namespace

int main(int argc, char** argv) try {
    using namespace vks;
    if (argc != 2) {
        std::fprintf(stderr, "usage: gen_state_corpus OUT_DIR\n");
        return 2;
    }
    std::filesystem::path out = argv[1];
    std::filesystem::create_directories(out);
    std::filesystem::path model_path = std::filesystem::temp_directory_path() / "vks-fuzz-state-model.gguf";
    model::write_synthetic_model(model_path.string(), fuzz::state_fuzz_model());
    auto model = engine::Model::load(model_path.string());
    engine::SessionConfig sc;
    sc.n_sink = fuzz::k_fuzz_n_sink;
    sc.n_window = fuzz::k_fuzz_n_window;
    sc.n_batch = 4;
    sc.sampling.temperature = 0.8f;
    engine::Session s(model, sc);
    engine::StateFingerprint f = s.state_fingerprint();
    std::printf("fingerprint: n_layer %u n_embd %u n_vocab %u n_head_kv %u head_dim %u model_hash 0x%016llxull "
                "capacity %u slot_bytes %llu\n",
                f.n_layer, f.n_embd, f.n_vocab, f.n_head_kv, f.head_dim, (unsigned long long)f.model_hash, f.capacity,
                (unsigned long long)f.slot_bytes);
    const engine::StateFingerprint want = fuzz::fuzz_fingerprint();
    if (f.model_hash != want.model_hash || f.slot_bytes != want.slot_bytes || f.capacity != want.capacity ||
        f.n_vocab != want.n_vocab || f.head_dim != want.head_dim) {
        std::fprintf(stderr, "gen_state_corpus: the fuzz model changed: update fuzz_fingerprint() in state_fuzz_model.hpp\n");
        return 1;
    }
    write(out / "empty_session", s.save_state());
    std::vector<int32_t> prompt = {0, 40, 41, 42};
    s.feed(prompt);
    std::vector<uint8_t> partial = s.save_state();
    write(out / "four_tokens", partial);
    for (int i = 0; i < 9; ++i) {
        int32_t t = s.sample();
        s.feed({&t, 1});
    }
    std::vector<uint8_t> wrapped = s.save_state();
    write(out / "ring_wrapped", wrapped);

    std::vector<uint8_t> b = wrapped;
    b.resize(b.size() / 2);
    write(out / "truncated", b);
    b = wrapped;
    b[100] ^= 0x40;
    write(out / "flipped_byte", b);
    b = partial;
    // Version 2 (engine/session_state.cpp): magic, version, 5 u32 and the u64 hash of the
    // fingerprint, n_sink, n_window, n_layer, per layer 2 u32, k type, v type, flags, then n_past.
    const size_t n_past_at = 8 + 4 + 5 * 4 + 8 + 3 * 4 + size_t(f.n_layer) * 8 + 3 * 4;
    uint64_t n_past = 0;
    std::memcpy(&n_past, b.data() + n_past_at, 8);
    if (n_past != prompt.size()) {
        std::fprintf(stderr, "gen_state_corpus: n_past is not at byte %zu: update the offset to the format\n", n_past_at);
        return 1;
    }
    b[n_past_at + 2] ^= 0x01;  // n_past + 65536: more than the history and cache hold
    fix_checksum(b);
    write(out / "bad_n_past_fixed_checksum", b);
    b = partial;
    b[12] ^= 0x01;  // n_layer
    fix_checksum(b);
    write(out / "foreign_model_fixed_checksum", b);
    // The types of another cache (the fuzz model's head of 16 is too small for a quantized
    // one, so the fields are rewritten): q8_0 keys (ggml id 8), flags hadamard | f16 sinks.
    // Refused at the types check, after the fingerprint and shapes.
    b = partial;
    const uint32_t q8_0_id = 8, flags = 3;
    std::memcpy(b.data() + n_past_at - 12, &q8_0_id, 4);
    std::memcpy(b.data() + n_past_at - 4, &flags, 4);
    fix_checksum(b);
    write(out / "other_cache_types", b);
    std::printf("wrote seeds to %s\n", out.string().c_str());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "gen_state_corpus: %s\n", e.what());
    return 1;
}
