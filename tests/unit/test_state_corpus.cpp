// The committed seed corpus of fuzz_session_state (tests/fuzz/corpus/session_state, written by
// tests/fuzz/gen_state_corpus.cpp) against today's parser: the valid seeds must parse in full
// (or the fuzzer would start from inputs refused at the header and rarely reach the cache
// fields), and each damaged seed must fail at the check its name says. A format change that
// leaves the corpus stale fails here; regenerate it as tests/fuzz/CMakeLists.txt says.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "fuzz/state_fuzz_model.hpp"

using namespace vks;

namespace {

std::vector<uint8_t> seed(const std::string& name) {
    const std::string path = std::string(VKS_PROJECT_DIR) + "/tests/fuzz/corpus/session_state/" + name;
    std::ifstream in(path, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "missing seed " << path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The error a seed's parse ends with ("" when it parses).
std::pair<Status, std::string> parse_error(const std::string& name) {
    const std::vector<uint8_t> b = seed(name);
    try {
        engine::parse_state(b, fuzz::fuzz_fingerprint());
        return {Status::ok, ""};
    } catch (const Error& e) {
        return {e.status(), e.what()};
    }
}

}  // namespace

TEST_CASE("session_state seed corpus: the valid seeds parse in full at their stream positions") {
    const engine::StateFingerprint f = fuzz::fuzz_fingerprint();
    for (auto [name, n_past] : {std::pair{"empty_session", 0u}, std::pair{"four_tokens", 4u}, std::pair{"ring_wrapped", 13u}}) {
        const std::string seed_name = name;
        CAPTURE(seed_name);
        const std::vector<uint8_t> b = seed(name);
        engine::ParsedState st;
        try {
            st = engine::parse_state(b, f);
        } catch (const Error& e) {
            FAIL("the seed no longer parses: " << std::string(e.what()));
        }
        CHECK(st.n_past == n_past);
        CHECK(st.n_slots == std::min(n_past, f.capacity));
        CHECK(st.kv.size() == uint64_t(st.n_slots) * f.slot_bytes * 2 * f.n_layer);
        CHECK(st.has_logits == (n_past > 0));
    }
}

TEST_CASE("session_state seed corpus: each damaged seed fails at the check it is named for") {
    struct Want {
        const char* name;
        Status status;
        const char* text;
    };
    for (const Want& w : {Want{"truncated", Status::bad_format, "checksum"},
                          Want{"flipped_byte", Status::bad_format, "checksum"},
                          Want{"bad_n_past_fixed_checksum", Status::bad_format, "inconsistent with stream position"},
                          Want{"foreign_model_fixed_checksum", Status::invalid_argument, "another model"},
                          Want{"other_cache_types", Status::invalid_argument, "k q8_0, v f16, hadamard, f16 sinks"}}) {
        const std::string seed_name = w.name;
        CAPTURE(seed_name);
        const auto [status, text] = parse_error(w.name);
        CHECK(status == w.status);
        CHECK_MESSAGE(text.find(w.text) != std::string::npos, text);
    }
}
