// model::Description: hyperparameters and tensor roles from GGUF metadata, and the errors for
// files it must refuse (built with the GGUF writer).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>

#include "common/error.hpp"
#include "gguf/reader.hpp"
#include "gguf/writer.hpp"
#include "model/description.hpp"
#include "model/synthetic.hpp"
#include "support/models.hpp"
#include "support/test_support.hpp"

using namespace vks;
using namespace vks::model;

namespace {

// A tiny all-F32 model file with knobs for breaking it. n_embd 8, 2 heads (head_dim 4),
// 1 kv head, n_ff 16, 2 layers, n_vocab 10.
struct TinySpec {
    std::string arch = "llama";
    std::string skip_tensor;          // leave this tensor out
    std::string reshape_tensor;       // give this tensor ne[0] + 1
    std::string rope_scaling;         // written as <arch>.rope.scaling.type when not empty
    float rope_factor = 2.0f;
    bool with_output = true;
    bool qwen2_biases = false;
    std::function<void(gguf::Writer&)> extra_keys;
};

std::vector<uint8_t> tiny_model(const TinySpec& s) {
    const std::string& a = s.arch;
    gguf::Writer w;
    w.add_string("general.architecture", a);
    w.add_uint32(a + ".embedding_length", 8);
    w.add_uint32(a + ".block_count", 2);
    w.add_uint32(a + ".feed_forward_length", 16);
    w.add_uint32(a + ".attention.head_count", 2);
    w.add_uint32(a + ".attention.head_count_kv", 1);
    w.add_uint32(a + ".context_length", 128);
    w.add_float32(a + ".attention.layer_norm_rms_epsilon", 1e-6f);
    w.add_float32(a + ".rope.freq_base", 500000.0f);
    if (!s.rope_scaling.empty()) {
        w.add_string(a + ".rope.scaling.type", s.rope_scaling);
        w.add_float32(a + ".rope.scaling.factor", s.rope_factor);
    }
    if (s.extra_keys) s.extra_keys(w);
    auto add = [&](const std::string& name, std::vector<int64_t> ne) {
        if (name == s.skip_tensor) return;
        if (name == s.reshape_tensor) ne[0] += 1;
        int64_t n = 1;
        for (int64_t v : ne) n *= v;
        std::vector<uint8_t> bytes(size_t(n) * 4, 0);
        w.add_tensor(name, 0, ne, bytes);
    };
    add("token_embd.weight", {8, 10});
    add("output_norm.weight", {8});
    if (s.with_output) add("output.weight", {8, 10});
    for (int il = 0; il < 2; ++il) {
        std::string p = "blk." + std::to_string(il) + ".";
        add(p + "attn_norm.weight", {8});
        add(p + "attn_q.weight", {8, 8});
        add(p + "attn_k.weight", {8, 4});
        add(p + "attn_v.weight", {8, 4});
        add(p + "attn_output.weight", {8, 8});
        if (s.qwen2_biases) {
            add(p + "attn_q.bias", {8});
            add(p + "attn_k.bias", {4});
            add(p + "attn_v.bias", {4});
        }
        add(p + "ffn_norm.weight", {8});
        add(p + "ffn_gate.weight", {8, 16});
        add(p + "ffn_up.weight", {8, 16});
        add(p + "ffn_down.weight", {16, 8});
    }
    return w.to_bytes();
}

// Builds the Description of `bytes`; returns the error (status, message) or ok.
std::pair<Status, std::string> describe(const std::vector<uint8_t>& bytes) {
    gguf::File f = gguf::File::from_memory(bytes);
    try {
        Description::from_gguf(f);
    } catch (const Error& e) {
        return {e.status(), e.what()};
    }
    return {Status::ok, ""};
}

bool contains(const std::string& s, const char* sub) { return s.find(sub) != std::string::npos; }

}  // namespace

TEST_CASE("model description: SmolLM2-135M hyperparameters and tensors") {
    std::string path = test::smollm2_path();
    if (path.empty()) VKS_SKIP("SmolLM2 model absent (set VKS_TEST_MODEL or run tools/fetch_model.sh)");
    gguf::File f = gguf::File::open(path);
    Description d = Description::from_gguf(f);
    CHECK(d.arch == Arch::llama);
    CHECK(d.n_layer == 30);
    CHECK(d.n_embd == 576);
    CHECK(d.n_head == 9);
    CHECK(d.n_head_kv == 3);
    CHECK(d.head_dim == 64);
    CHECK(d.n_ff == 1536);
    CHECK(d.n_vocab == 49152);
    CHECK(d.n_ctx_train == 8192);
    CHECK(d.rope.theta_base == 100000.0f);
    CHECK(d.rope.n_rot == 64);
    CHECK(d.rope.style == kv::RopeStyle::normal);
    CHECK(d.rope.freq_scale == 1.0f);
    CHECK(d.rms_eps == doctest::Approx(1e-5f));
    CHECK(d.attn_scale == doctest::Approx(0.125f));
    CHECK(d.tied_output);
    CHECK(d.output == d.token_embd);
    CHECK(d.activation == Activation::silu);
    CHECK_FALSE(d.has_qkv_bias);
    CHECK(d.embd_scale == 1.0f);
    REQUIRE(d.layers.size() == 30);
    CHECK(d.layers[29].ffn_down->name == "blk.29.ffn_down.weight");
    CHECK(d.layers[0].attn_k->ne[1] == 192);
    CHECK(d.token_embd->ggml_type() == gguf::TensorType::q8_0);
    CHECK(d.layers[3].attn_q->ggml_type() == gguf::TensorType::q4_1);
    CHECK_FALSE(d.layer_is_local(0));
}

TEST_CASE("model description: tiny llama file, tied and untied, rope scaling") {
    TinySpec s;
    std::vector<uint8_t> untied = tiny_model(s);
    gguf::File f = gguf::File::from_memory(untied);
    Description d = Description::from_gguf(f);
    CHECK_FALSE(d.tied_output);
    CHECK(d.output->name == "output.weight");
    CHECK(d.n_vocab == 10);
    CHECK(d.head_dim == 4);
    CHECK(d.n_head_kv == 1);
    CHECK(d.kv_dim() == 4);

    s.with_output = false;
    std::vector<uint8_t> tied = tiny_model(s);
    gguf::File ft = gguf::File::from_memory(tied);
    Description dt = Description::from_gguf(ft);
    CHECK(dt.tied_output);
    CHECK(dt.output->name == "token_embd.weight");

    s.rope_scaling = "linear";
    s.rope_factor = 4.0f;
    std::vector<uint8_t> lin = tiny_model(s);
    gguf::File fl = gguf::File::from_memory(lin);
    Description dl = Description::from_gguf(fl);
    CHECK(dl.rope.freq_scale == 0.25f);  // 1 / factor: the contract's one convention

    s.rope_scaling = "none";
    std::vector<uint8_t> none = tiny_model(s);
    gguf::File fn = gguf::File::from_memory(none);
    CHECK(Description::from_gguf(fn).rope.freq_scale == 1.0f);
}

TEST_CASE("model description: qwen2 needs biases and uses neox rope") {
    TinySpec s;
    s.arch = "qwen2";
    s.qwen2_biases = true;
    std::vector<uint8_t> bytes = tiny_model(s);
    gguf::File f = gguf::File::from_memory(bytes);
    Description d = Description::from_gguf(f);
    CHECK(d.arch == Arch::qwen2);
    CHECK(d.rope.style == kv::RopeStyle::neox);
    CHECK(d.has_qkv_bias);
    CHECK(d.layers[1].attn_k_bias->name == "blk.1.attn_k.bias");

    s.qwen2_biases = false;
    auto [st, msg] = describe(tiny_model(s));
    CHECK(st == Status::bad_format);
    CHECK(contains(msg, "blk.0.attn_q.bias"));
}

TEST_CASE("model description: unsupported architecture is named") {
    TinySpec s;
    s.arch = "mamba";
    auto [st, msg] = describe(tiny_model(s));
    CHECK(st == Status::unsupported);
    CHECK(contains(msg, "'mamba'"));
}

TEST_CASE("model description: a missing tensor is named") {
    for (const char* name : {"blk.1.ffn_up.weight", "output_norm.weight", "blk.0.attn_v.weight"}) {
        CAPTURE(name);
        TinySpec s;
        s.skip_tensor = name;
        auto [st, msg] = describe(tiny_model(s));
        CHECK(st == Status::bad_format);
        CHECK(contains(msg, name));
        CHECK(contains(msg, "missing"));
    }
    TinySpec s;
    s.skip_tensor = "token_embd.weight";
    auto [st, msg] = describe(tiny_model(s));
    CHECK(st == Status::bad_format);
    CHECK(contains(msg, "token_embd.weight"));
}

TEST_CASE("model description: a wrong shape is named with both shapes") {
    for (const char* name : {"blk.1.attn_k.weight", "blk.0.ffn_down.weight", "output.weight", "blk.0.attn_norm.weight"}) {
        CAPTURE(name);
        TinySpec s;
        s.reshape_tensor = name;
        auto [st, msg] = describe(tiny_model(s));
        CHECK(st == Status::bad_format);
        CHECK(contains(msg, name));
        CHECK(contains(msg, "expected"));
    }
}

TEST_CASE("model description: unsupported rope scaling and bad hyperparameters") {
    TinySpec s;
    s.rope_scaling = "yarn";
    auto [st, msg] = describe(tiny_model(s));
    CHECK(st == Status::unsupported);
    CHECK(contains(msg, "yarn"));

    s.rope_scaling = "linear";
    s.rope_factor = 0.0f;
    auto [st2, msg2] = describe(tiny_model(s));
    CHECK(st2 == Status::bad_format);
    CHECK(contains(msg2, "factor"));

    TinySpec v;
    v.extra_keys = [](gguf::Writer& w) { w.add_uint32("llama.vocab_size", 11); };
    auto [st3, msg3] = describe(tiny_model(v));
    CHECK(st3 == Status::bad_format);
    CHECK(contains(msg3, "vocab_size"));
}

TEST_CASE("model description: unsupported tensor element type is named") {
    SyntheticConfig c;
    c.n_embd = 64;
    c.n_head = 2;
    c.n_head_kv = 1;
    c.n_ff = 64;
    c.n_layer = 1;
    std::vector<uint8_t> bytes = synthetic_model_bytes(c);  // all F32
    // Retype one F32 tensor as I32 (same 4 bytes per element, so the file stays valid GGUF):
    // its type id follows the name, n_dims (u32) and the dims (u64 each) in the tensor info.
    const std::string name = "blk.0.ffn_up.weight";
    auto it = std::search(bytes.begin(), bytes.end(), name.begin(), name.end());
    REQUIRE(it != bytes.end());
    size_t at = size_t(it - bytes.begin()) + name.size() + 4 + 8 * 2;
    uint32_t type = 0;
    std::memcpy(&type, &bytes[at], 4);
    REQUIRE(type == 0);
    type = uint32_t(gguf::TensorType::i32);
    std::memcpy(&bytes[at], &type, 4);
    auto [st, msg] = describe(bytes);
    CHECK(st == Status::unsupported);
    CHECK(contains(msg, "blk.0.ffn_up.weight"));
    CHECK(contains(msg, "I32"));
}

TEST_CASE("model description: gemma3 details from a synthetic file") {
    SyntheticConfig c;
    c.gemma3 = true;
    c.n_layer = 4;
    c.sliding_window = 16;
    c.swa_period = 2;
    c.tied_output = true;
    std::vector<uint8_t> bytes = synthetic_model_bytes(c);
    gguf::File f = gguf::File::from_memory(bytes);
    Description d = Description::from_gguf(f);
    CHECK(d.arch == Arch::gemma3);
    CHECK(d.rope.style == kv::RopeStyle::neox);
    CHECK(d.activation == Activation::gelu_tanh);
    CHECK(d.has_qk_norm);
    CHECK(d.has_post_norms);
    CHECK(d.embd_scale == doctest::Approx(16.0f));  // sqrt(256)
    CHECK(d.sliding_window == 16);
    CHECK(d.rope_local.theta_base == 10000.0f);
    CHECK(d.rope_local.style == kv::RopeStyle::neox);
    CHECK(d.layer_is_local(0));
    CHECK_FALSE(d.layer_is_local(1));
    // Per-layer cache/RoPE contract: local layers {0 sinks, sliding window} with the local base,
    // global layers the session's shape with the global RoPE.
    CHECK(d.layer_kv(0, 4, 60) == kv::LayerKv{kv::CacheShape{0, 16}, d.rope_local});
    CHECK(d.layer_kv(1, 4, 60) == kv::LayerKv{kv::CacheShape{4, 60}, d.rope});
    CHECK(&d.layer_rope(2) == &d.rope_local);
    CHECK(d.layer_kv(2, 0, 16).shape.n_window == 16);
    try {
        d.layer_kv(0, 4, 15);  // a window smaller than the trained sliding window
        FAIL("no throw");
    } catch (const Error& e) {
        CHECK(e.status() == Status::invalid_argument);
        CHECK(std::string(e.what()).find("sliding window of 16") != std::string::npos);
    }
    CHECK_NOTHROW(d.layer_kv(1, 4, 15));  // global layers take any window
    CHECK(d.layer_is_local(2));
    CHECK_FALSE(d.layer_is_local(3));
    CHECK(d.layers[2].attn_q_norm->ne[0] == d.head_dim);
    CHECK(d.layers[3].post_ffw_norm != nullptr);
    CHECK(d.tied_output);

    // Gemma 3's own pattern: period 6, layer 5 global.
    SyntheticConfig c6 = c;
    c6.n_layer = 7;
    c6.swa_period = 6;
    std::vector<uint8_t> b6 = synthetic_model_bytes(c6);
    gguf::File f6 = gguf::File::from_memory(b6);
    Description d6 = Description::from_gguf(f6);
    for (uint32_t il = 0; il < 7; ++il) CHECK(d6.layer_is_local(il) == (il != 5));
}

TEST_CASE("model description: gemma3 without q/k norms is refused") {
    SyntheticConfig c;
    c.gemma3 = true;
    std::vector<uint8_t> bytes = synthetic_model_bytes(c);
    // Rename the tensor so it is absent under its real name (same length keeps the file valid).
    const std::string name = "blk.1.attn_k_norm.weight";
    auto it = std::search(bytes.begin(), bytes.end(), name.begin(), name.end());
    REQUIRE(it != bytes.end());
    *(it + 6) = 'x';  // "blk.1.xttn_k_norm.weight"
    auto [st, msg] = describe(bytes);
    CHECK(st == Status::bad_format);
    CHECK(contains(msg, "blk.1.attn_k_norm.weight"));
}
