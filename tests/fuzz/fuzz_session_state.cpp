// libFuzzer target for session-state restore (engine::parse_state, no device): any input must
// either parse into fields that are consistent with the fingerprint, or throw vks::Error.
// Each input is tried twice: as is (exercises the header and checksum checks) and with its
// checksum repaired (so mutations reach the fields behind the checksum).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/error.hpp"
#include "engine/session_state.hpp"
#include "state_fuzz_model.hpp"

namespace {

// Invariants a successful parse promises to Session::load_state, which copies kv to the device.
void check(const vks::engine::ParsedState& st, const vks::engine::StateFingerprint& f) {
    bool ok = st.logits.size() == f.n_vocab && st.n_slots <= f.capacity &&
              st.n_slots == (st.n_past < f.capacity ? st.n_past : f.capacity) &&
              st.layer_slots.size() == f.n_layer &&
              st.kv.size() == uint64_t(st.n_slots) * f.slot_bytes * 2 * f.n_layer;  // (a uniform cache)
    for (int32_t t : st.history) ok = ok && t >= 0 && uint32_t(t) < f.n_vocab;
    if (!ok) __builtin_trap();
}

void try_parse(std::span<const uint8_t> blob, const vks::engine::StateFingerprint& f) {
    try {
        check(vks::engine::parse_state(blob, f), f);
    } catch (const vks::Error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const vks::engine::StateFingerprint f = vks::fuzz::fuzz_fingerprint();
    try_parse({data, size}, f);
    if (size >= 8) {
        std::vector<uint8_t> fixed(data, data + size);
        uint64_t h = vks::engine::state_fnv1a(fixed.data(), size - 8);
        std::memcpy(fixed.data() + size - 8, &h, 8);
        try_parse(fixed, f);
    }
    return 0;
}
