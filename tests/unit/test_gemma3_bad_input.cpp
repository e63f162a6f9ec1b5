// Bad gemma3 files and sessions are clear errors, never crashes (issue 18, item 7): a missing
// tensor, inconsistent head counts or head size, a session window smaller than the model's
// sliding window. Files are synthetic gemma3 models with one thing edited in place.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "engine/kv_layout.hpp"
#include "gguf/reader.hpp"
#include "model/description.hpp"
#include "model/synthetic.hpp"

using namespace vks;

namespace {

model::SyntheticConfig gemma3() {
    model::SyntheticConfig c;
    c.gemma3 = true;
    c.n_layer = 3;
    c.swa_period = 3;
    c.sliding_window = 8;
    return c;
}

std::pair<Status, std::string> describe(const std::vector<uint8_t>& bytes) {
    try {
        gguf::File f = gguf::File::from_memory(bytes);
        model::Description::from_gguf(f);
    } catch (const Error& e) {
        return {e.status(), e.what()};
    }
    return {Status::ok, ""};
}

// Overwrites the u32 value of metadata key `key` (GGUF: key string, u32 type, then the value).
void set_u32(std::vector<uint8_t>& bytes, const std::string& key, uint32_t v) {
    auto it = std::search(bytes.begin(), bytes.end(), key.begin(), key.end());
    REQUIRE(it != bytes.end());
    uint8_t* p = &*it + key.size();
    uint32_t type = 0;
    std::memcpy(&type, p, 4);
    REQUIRE(type == 4);  // GGUF uint32
    std::memcpy(p + 4, &v, 4);
}

}  // namespace

TEST_CASE("gemma3 bad input: a missing tensor is named") {
    for (const char* name : {"blk.0.attn_q_norm.weight", "blk.2.attn_k_norm.weight", "blk.1.post_attention_norm.weight",
                             "blk.2.post_ffw_norm.weight", "blk.0.ffn_gate.weight", "output_norm.weight"}) {
        CAPTURE(name);
        std::vector<uint8_t> bytes = model::synthetic_model_bytes(gemma3());
        const std::string n = name;
        auto it = std::search(bytes.begin(), bytes.end(), n.begin(), n.end());
        REQUIRE(it != bytes.end());
        *(it + long(n.size()) - 1) = 'X';  // "....weighX": absent under its real name, file still valid
        auto [st, msg] = describe(bytes);
        CHECK(st == Status::bad_format);
        CHECK_MESSAGE(msg.find(name) != std::string::npos, msg);
    }
}

TEST_CASE("gemma3 bad input: inconsistent head counts and head size are refused") {
    SUBCASE("head_count not a multiple of head_count_kv") {
        std::vector<uint8_t> bytes = model::synthetic_model_bytes(gemma3());  // 4 heads, 2 kv heads
        set_u32(bytes, "gemma3.attention.head_count_kv", 3);
        auto [st, msg] = describe(bytes);
        CHECK(st == Status::bad_format);
        CHECK_MESSAGE(msg.find("head_count_kv") != std::string::npos, msg);
    }
    SUBCASE("head_count that disagrees with the q projection") {
        std::vector<uint8_t> bytes = model::synthetic_model_bytes(gemma3());
        set_u32(bytes, "gemma3.attention.head_count", 8);  // 8 x 64 != the 256 rows of attn_q
        auto [st, msg] = describe(bytes);
        CHECK(st == Status::bad_format);
        CHECK_MESSAGE(msg.find("attn_q.weight") != std::string::npos, msg);
    }
    SUBCASE("key_length that disagrees with the tensors") {
        std::vector<uint8_t> bytes = model::synthetic_model_bytes(gemma3());
        set_u32(bytes, "gemma3.attention.key_length", 32);
        set_u32(bytes, "gemma3.attention.value_length", 32);
        auto [st, msg] = describe(bytes);
        CHECK(st == Status::bad_format);  // (the RoPE dimension count is the first thing to disagree)
        CHECK_MESSAGE(msg.find("head_dim 32") != std::string::npos, msg);
        set_u32(bytes, "gemma3.rope.dimension_count", 32);  // consistent RoPE: the tensors disagree
        auto [st2, msg2] = describe(bytes);
        CHECK(st2 == Status::bad_format);
        CHECK_MESSAGE(msg2.find("attn_q.weight") != std::string::npos, msg2);
    }
    SUBCASE("key_length != value_length") {
        std::vector<uint8_t> bytes = model::synthetic_model_bytes(gemma3());
        set_u32(bytes, "gemma3.attention.value_length", 32);
        auto [st, msg] = describe(bytes);
        CHECK(st == Status::bad_format);
        CHECK_MESSAGE(msg.find("value_length") != std::string::npos, msg);
    }
    SUBCASE("zero heads") {
        std::vector<uint8_t> bytes = model::synthetic_model_bytes(gemma3());
        set_u32(bytes, "gemma3.attention.head_count", 0);
        CHECK(describe(bytes).first == Status::bad_format);
    }
    SUBCASE("a sliding-window pattern of 0") {
        std::vector<uint8_t> bytes = model::synthetic_model_bytes(gemma3());
        set_u32(bytes, "gemma3.attention.sliding_window_pattern", 0);
        auto [st, msg] = describe(bytes);
        CHECK(st == Status::bad_format);
        CHECK_MESSAGE(msg.find("sliding_window_pattern") != std::string::npos, msg);
    }
}

TEST_CASE("gemma3 bad input: a sliding window larger than the session's window is refused, naming both") {
    std::vector<uint8_t> bytes = model::synthetic_model_bytes(gemma3());
    set_u32(bytes, "gemma3.attention.sliding_window", 4000);
    gguf::File f = gguf::File::from_memory(bytes);
    const model::Description d = model::Description::from_gguf(f);  // the file itself is fine
    CHECK(d.sliding_window == 4000);
    try {
        engine::kv_layout(d, 4, 1020);  // the same check a Session makes when it builds its cache
        FAIL("no throw");
    } catch (const Error& e) {
        CHECK(e.status() == Status::invalid_argument);
        const std::string msg = e.what();
        CHECK_MESSAGE(msg.find("4000") != std::string::npos, msg);
        CHECK_MESSAGE(msg.find("1020") != std::string::npos, msg);
    }
    CHECK_NOTHROW(engine::kv_layout(d, 4, 4000));
}
