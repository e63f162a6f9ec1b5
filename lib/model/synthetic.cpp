#include "model/synthetic.hpp"

#include <cmath>
#include <cstring>
#include <random>

#include "common/error.hpp"
#include "gguf/writer.hpp"

namespace vks::model {

namespace {

constexpr const char* k_specials[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
constexpr uint32_t k_n_specials = 3;
// Merges in rank order: "left right" -> left + right, each result a token after the bytes.
constexpr const char* k_merges[][2] = {{"\xC4\xA0", "t"}, {"h", "e"}, {"\xC4\xA0t", "he"}, {"i", "n"},
                                       {"e", "r"},        {"a", "n"}, {"o", "n"},          {"\xC4\xA0", "a"}};
constexpr uint32_t k_n_merges = 8;
constexpr uint32_t k_min_vocab = k_n_specials + 256 + k_n_merges;

std::string utf8(uint32_t cp) {
    std::string s;
    if (cp < 0x80) {
        s += char(cp);
    } else if (cp < 0x800) {
        s += char(0xC0 | (cp >> 6));
        s += char(0x80 | (cp & 0x3F));
    } else {
        s += char(0xE0 | (cp >> 12));
        s += char(0x80 | ((cp >> 6) & 0x3F));
        s += char(0x80 | (cp & 0x3F));
    }
    return s;
}

// GPT-2 byte-level mapping: printable bytes stand for themselves, the others are shifted to
// code points 256, 257, ... in byte order.
std::string byte_token(uint32_t b) {
    bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    if (printable) return utf8(b);
    uint32_t n = 0;
    for (uint32_t c = 0; c < b; ++c)
        if (!((c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255))) ++n;
    return utf8(256 + n);
}

std::vector<uint8_t> quantized(quant::Type t, const std::vector<float>& v, int64_t n_cols) {
    const int64_t n_rows = int64_t(v.size()) / n_cols;
    const size_t rb = quant::row_bytes(t, n_cols);
    std::vector<uint8_t> out(rb * size_t(n_rows));
    for (int64_t r = 0; r < n_rows; ++r) quant::quantize_row(t, v.data() + r * n_cols, out.data() + r * rb, n_cols);
    return out;
}

std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
    std::vector<uint8_t> out(v.size() * 4);
    std::memcpy(out.data(), v.data(), out.size());
    return out;
}

}  // namespace

std::vector<std::string> synthetic_vocab(uint32_t n_vocab) {
    if (n_vocab < k_min_vocab)
        fail(Status::invalid_argument, "synthetic model: n_vocab %u < %u", n_vocab, k_min_vocab);
    std::vector<std::string> toks;
    for (const char* s : k_specials) toks.emplace_back(s);
    for (uint32_t b = 0; b < 256; ++b) toks.push_back(byte_token(b));
    for (const auto& m : k_merges) toks.push_back(std::string(m[0]) + m[1]);
    for (uint32_t i = k_min_vocab; i < n_vocab; ++i) toks.push_back("<unused_" + std::to_string(i) + ">");
    return toks;
}

static gguf::Writer build(const SyntheticConfig& c) {
    const quant::TypeInfo& ti = quant::info(c.weight_type);
    if (c.n_embd == 0 || c.n_layer == 0 || c.n_head == 0 || c.n_head_kv == 0 || c.n_ff == 0)
        fail(Status::invalid_argument, "synthetic model: zero dimension");
    if (c.n_embd % c.n_head || c.n_head % c.n_head_kv || (c.n_embd / c.n_head) % 2)
        fail(Status::invalid_argument, "synthetic model: n_embd %u / n_head %u / n_head_kv %u inconsistent", c.n_embd,
             c.n_head, c.n_head_kv);
    if (c.n_embd % ti.block_size || c.n_ff % ti.block_size)
        fail(Status::invalid_argument, "synthetic model: n_embd %u and n_ff %u must be multiples of %u for %s",
             c.n_embd, c.n_ff, ti.block_size, ti.name);
    if (c.v_type != quant::Type::F32 && c.n_embd % quant::info(c.v_type).block_size)
        fail(Status::invalid_argument, "synthetic model: n_embd %u must be a multiple of %u for v_type %s", c.n_embd,
             quant::info(c.v_type).block_size, quant::info(c.v_type).name);
    const std::vector<std::string> vocab = synthetic_vocab(c.n_vocab);

    const char* arch = c.gemma3 ? "gemma3" : c.qwen2 ? "qwen2" : "llama";
    const std::string a = arch;
    const uint32_t head_dim = c.n_embd / c.n_head;
    const int64_t E = c.n_embd, KV = int64_t(c.n_head_kv) * head_dim, F = c.n_ff, V = c.n_vocab;

    gguf::Writer w;
    w.add_string("general.architecture", arch);
    w.add_string("general.name", "vkstream synthetic");
    w.add_uint32(a + ".context_length", c.context_length);
    w.add_uint32(a + ".embedding_length", c.n_embd);
    w.add_uint32(a + ".block_count", c.n_layer);
    w.add_uint32(a + ".feed_forward_length", c.n_ff);
    w.add_uint32(a + ".attention.head_count", c.n_head);
    w.add_uint32(a + ".attention.head_count_kv", c.n_head_kv);
    w.add_float32(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
    w.add_float32(a + ".rope.freq_base", c.rope_freq_base);
    w.add_uint32(a + ".rope.dimension_count", head_dim);
    w.add_uint32(a + ".vocab_size", c.n_vocab);
    if (c.gemma3) {
        w.add_uint32(a + ".attention.key_length", head_dim);
        w.add_uint32(a + ".attention.value_length", head_dim);
        w.add_uint32(a + ".attention.sliding_window", c.sliding_window);
        w.add_uint32(a + ".attention.sliding_window_pattern", c.swa_period);
        w.add_float32(a + ".rope.freq_base_swa", 10000.0f);
    }

    w.add_string("tokenizer.ggml.model", "gpt2");
    w.add_string("tokenizer.ggml.pre", "default");
    w.add_string_array("tokenizer.ggml.tokens", vocab);
    std::vector<int32_t> types(c.n_vocab, 1);  // normal
    for (uint32_t i = 0; i < k_n_specials; ++i) types[i] = 3;  // control
    for (uint32_t i = k_min_vocab; i < c.n_vocab; ++i) types[i] = 5;  // unused
    w.add_array("tokenizer.ggml.token_type", std::span<const int32_t>(types));
    std::vector<std::string> merges;
    for (const auto& m : k_merges) merges.push_back(std::string(m[0]) + " " + m[1]);
    w.add_string_array("tokenizer.ggml.merges", merges);
    w.add_uint32("tokenizer.ggml.bos_token_id", 0);
    w.add_uint32("tokenizer.ggml.eos_token_id", 0);
    w.add_bool("tokenizer.ggml.add_bos_token", false);
    w.add_string("tokenizer.chat_template",
                 "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
                 "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
                 "{% endif %}");

    std::mt19937 rng(c.seed);
    // Uniform in [-lim, lim): 24 random bits -> [0, 1) exactly, then scaled (portable, unlike
    // std::uniform_real_distribution).
    auto uniform = [&](size_t n, float lim) {
        std::vector<float> v(n);
        for (float& x : v) x = (float(rng() >> 8) * (1.0f / 16777216.0f) * 2.0f - 1.0f) * lim;
        return v;
    };
    // Matrix (n_out, n_in): unit-variance output for unit-variance input.
    auto matrix = [&](const std::string& name, int64_t n_in, int64_t n_out, quant::Type t) {
        std::vector<float> v = uniform(size_t(n_in * n_out), std::sqrt(3.0f / float(n_in)));
        w.add_tensor(name, uint32_t(t), {n_in, n_out}, quantized(t, v, n_in));
    };
    const quant::Type wt = c.weight_type, vt = c.v_type == quant::Type::F32 ? c.weight_type : c.v_type;
    auto norm = [&](const std::string& name, int64_t n) {
        std::vector<float> v = uniform(size_t(n), 0.1f);
        for (float& x : v) x += 1.0f;
        w.add_tensor(name, 0, {n}, f32_bytes(v));
    };
    auto bias = [&](const std::string& name, int64_t n) { w.add_tensor(name, 0, {n}, f32_bytes(uniform(size_t(n), 0.1f))); };

    // Embedding rows of unit variance: uniform in +-sqrt(3).
    w.add_tensor("token_embd.weight", uint32_t(c.weight_type), {E, V},
                 quantized(c.weight_type, uniform(size_t(E * V), std::sqrt(3.0f)), E));
    norm("output_norm.weight", E);
    if (!c.tied_output) matrix("output.weight", E, V, wt);
    for (uint32_t il = 0; il < c.n_layer; ++il) {
        const std::string p = "blk." + std::to_string(il) + ".";
        norm(p + "attn_norm.weight", E);
        matrix(p + "attn_q.weight", E, E, wt);
        matrix(p + "attn_k.weight", E, KV, wt);
        matrix(p + "attn_v.weight", E, KV, vt);
        matrix(p + "attn_output.weight", E, E, wt);
        if (c.gemma3) {
            norm(p + "attn_q_norm.weight", head_dim);
            norm(p + "attn_k_norm.weight", head_dim);
            norm(p + "post_attention_norm.weight", E);
            norm(p + "post_ffw_norm.weight", E);
        } else if (c.qwen2) {
            bias(p + "attn_q.bias", E);
            bias(p + "attn_k.bias", KV);
            bias(p + "attn_v.bias", KV);
        }
        norm(p + "ffn_norm.weight", E);
        matrix(p + "ffn_gate.weight", E, F, wt);
        matrix(p + "ffn_up.weight", E, F, wt);
        matrix(p + "ffn_down.weight", F, E, wt);
    }
    return w;
}

std::vector<uint8_t> synthetic_model_bytes(const SyntheticConfig& cfg) { return build(cfg).to_bytes(); }

void write_synthetic_model(const std::string& path, const SyntheticConfig& cfg) { build(cfg).write_file(path); }

}  // namespace vks::model
