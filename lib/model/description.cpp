#include "model/description.hpp"

#include <cmath>
#include <string>

#include "common/error.hpp"
#include "quant/quant.hpp"

namespace vks::model {

const char* arch_name(Arch a) {
    switch (a) {
        case Arch::llama: return "llama";
        case Arch::qwen2: return "qwen2";
        case Arch::gemma3: return "gemma3";
    }
    return "?";
}

namespace {

std::string shape_str(const gguf::TensorInfo& t) {
    std::string s = "{";
    for (uint32_t d = 0; d < t.n_dims; ++d) s += (d ? ", " : "") + std::to_string(t.ne[d]);
    return s + "}";
}

std::string shape_str(std::initializer_list<int64_t> ne) {
    std::string s = "{";
    bool first = true;
    for (int64_t v : ne) {
        s += (first ? "" : ", ") + std::to_string(v);
        first = false;
    }
    return s + "}";
}

// Looks a tensor up and checks its element type and shape. Returns nullptr only when the
// tensor is absent and !required.
const gguf::TensorInfo* take(const gguf::File& f, const std::string& name, std::initializer_list<int64_t> ne,
                             bool required = true) {
    const gguf::TensorInfo* t = f.find_tensor(name);
    if (!t) {
        if (!required) return nullptr;
        fail(Status::bad_format, "model: tensor '%s' is missing (expected shape %s)", name.c_str(),
             shape_str(ne).c_str());
    }
    if (!quant::find_type(t->type))
        fail(Status::unsupported, "model: tensor '%s' has element type %s, which vkstream cannot run",
             name.c_str(), gguf::tensor_type_name(t->type));
    bool ok = t->n_dims == ne.size();
    size_t d = 0;
    for (int64_t v : ne) ok = ok && t->ne[d++] == v;
    if (!ok)
        fail(Status::bad_format, "model: tensor '%s' has shape %s, expected %s", name.c_str(),
             shape_str(*t).c_str(), shape_str(ne).c_str());
    return t;
}

uint32_t positive(const gguf::File& f, const std::string& key) {
    uint32_t v = f.get_u32(key);
    if (v == 0) fail(Status::bad_format, "model: '%s' is 0", key.c_str());
    return v;
}

void read_rope_scaling(const gguf::File& f, const std::string& a, Description& d) {
    const std::string type_key = a + ".rope.scaling.type";
    std::string type(f.get_string_or(type_key, ""));
    float factor = f.get_f32_or(a + ".rope.scaling.factor", 0.0f);
    if (type.empty()) {
        // Older files: <arch>.rope.scale_linear is a linear factor.
        float legacy = f.get_f32_or(a + ".rope.scale_linear", 0.0f);
        if (legacy != 0.0f && legacy != 1.0f) {
            type = "linear";
            factor = legacy;
        } else {
            type = "none";
        }
    }
    if (type == "none") return;
    if (type != "linear")
        fail(Status::unsupported, "model: RoPE scaling type '%s' (%s) is not supported (only none and linear)",
             type.c_str(), type_key.c_str());
    if (!(factor > 0.0f) || !std::isfinite(factor))
        fail(Status::bad_format, "model: linear RoPE scaling needs a positive %s.rope.scaling.factor (got %g)",
             a.c_str(), double(factor));
    d.rope.freq_scale = 1.0f / factor;
}

std::vector<bool> read_swa_pattern(const gguf::File& f, const std::string& key, uint32_t n_layer) {
    std::vector<bool> local(n_layer, false);
    const gguf::Value* v = f.find(key);
    if (v && v->type() == gguf::ValueType::array) {
        const gguf::Array& arr = v->as_array();
        if (arr.size() != n_layer)
            fail(Status::bad_format, "model: '%s' has %llu entries for %u layers", key.c_str(),
                 (unsigned long long)arr.size(), n_layer);
        for (uint32_t il = 0; il < n_layer; ++il) local[il] = arr.get_bool(il);
        return local;
    }
    uint32_t period = v ? uint32_t(v->as_u64()) : 6;
    if (period == 0) fail(Status::bad_format, "model: '%s' is 0", key.c_str());
    for (uint32_t il = 0; il < n_layer; ++il) local[il] = (il + 1) % period != 0;
    return local;
}

}  // namespace

Description Description::from_gguf(const gguf::File& f) {
    Description d;
    const std::string a(f.architecture());
    if (a.empty()) fail(Status::bad_format, "model: general.architecture is missing");
    if (a == "llama") d.arch = Arch::llama;
    else if (a == "qwen2") d.arch = Arch::qwen2;
    else if (a == "gemma3") d.arch = Arch::gemma3;
    else fail(Status::unsupported, "model: architecture '%s' is not supported (llama, qwen2, gemma3)", a.c_str());
    d.name = std::string(f.get_string_or("general.name", ""));

    d.n_embd = positive(f, a + ".embedding_length");
    d.n_layer = positive(f, a + ".block_count");
    d.n_head = positive(f, a + ".attention.head_count");
    d.n_head_kv = f.get_u32_or(a + ".attention.head_count_kv", d.n_head);
    d.n_ff = positive(f, a + ".feed_forward_length");
    d.n_ctx_train = f.get_u32_or(a + ".context_length", 0);
    d.rms_eps = f.get_f32_or(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
    if (d.n_head_kv == 0 || d.n_head % d.n_head_kv != 0)
        fail(Status::bad_format, "model: head_count %u is not a multiple of head_count_kv %u", d.n_head, d.n_head_kv);
    if (!f.has(a + ".attention.key_length") && d.n_embd % d.n_head != 0)
        fail(Status::bad_format, "model: embedding_length %u is not a multiple of head_count %u", d.n_embd, d.n_head);
    d.head_dim = f.get_u32_or(a + ".attention.key_length", d.n_embd / d.n_head);
    uint32_t v_len = f.get_u32_or(a + ".attention.value_length", d.head_dim);
    if (d.head_dim == 0 || v_len != d.head_dim)
        fail(Status::bad_format, "model: key_length %u / value_length %u must be equal and non-zero", d.head_dim, v_len);
    if (!(d.rms_eps > 0.0f)) fail(Status::bad_format, "model: layer_norm_rms_epsilon must be > 0");
    d.attn_scale = 1.0f / std::sqrt(float(d.head_dim));

    d.rope.n_rot = f.get_u32_or(a + ".rope.dimension_count", d.head_dim);
    if (d.rope.n_rot == 0 || d.rope.n_rot % 2 || d.rope.n_rot > d.head_dim)
        fail(Status::bad_format, "model: rope.dimension_count %u must be even and in (0, head_dim %u]", d.rope.n_rot,
             d.head_dim);
    d.rope.theta_base = f.get_f32_or(a + ".rope.freq_base", 10000.0f);
    if (!(d.rope.theta_base > 0.0f) || !std::isfinite(d.rope.theta_base))
        fail(Status::bad_format, "model: rope.freq_base must be finite and > 0");
    read_rope_scaling(f, a, d);
    d.rope.style = d.arch == Arch::llama ? kv::RopeStyle::normal : kv::RopeStyle::neox;
    d.rope_local = d.rope;
    d.final_logit_softcap = f.get_f32_or(a + ".final_logit_softcapping", 0.0f);

    if (d.arch == Arch::qwen2) d.has_qkv_bias = true;
    if (d.arch == Arch::gemma3) {
        d.activation = Activation::gelu_tanh;
        d.has_qk_norm = true;
        d.has_post_norms = true;
        d.embd_scale = std::sqrt(float(d.n_embd));
        d.sliding_window = f.get_u32_or(a + ".attention.sliding_window", 0);
        d.local_layers = read_swa_pattern(f, a + ".attention.sliding_window_pattern", d.n_layer);
        if (d.sliding_window == 0) d.local_layers.assign(d.n_layer, false);
        d.rope_local.theta_base = f.get_f32_or(a + ".rope.freq_base_swa", 10000.0f);
        d.rope_local.freq_scale = 1.0f;
        if (!(d.rope_local.theta_base > 0.0f) || !std::isfinite(d.rope_local.theta_base))
            fail(Status::bad_format, "model: rope.freq_base_swa must be finite and > 0");
    }

    // ---- tensors ----
    const int64_t E = d.n_embd, Q = d.q_dim(), KV = d.kv_dim(), F = d.n_ff, H = d.head_dim;
    const gguf::TensorInfo* embd = f.find_tensor("token_embd.weight");
    if (!embd) fail(Status::bad_format, "model: tensor 'token_embd.weight' is missing");
    if (embd->n_dims != 2 || embd->ne[0] != E || embd->ne[1] <= 0 || embd->ne[1] > INT32_MAX)
        fail(Status::bad_format, "model: tensor 'token_embd.weight' has shape %s, expected {%u, n_vocab}",
             shape_str(*embd).c_str(), d.n_embd);
    d.n_vocab = uint32_t(embd->ne[1]);
    uint32_t declared = f.get_u32_or(a + ".vocab_size", d.n_vocab);
    if (declared != d.n_vocab)
        fail(Status::bad_format, "model: %s.vocab_size %u but token_embd.weight has %u rows", a.c_str(), declared,
             d.n_vocab);
    if (const gguf::Value* toks = f.find("tokenizer.ggml.tokens")) {
        if (toks->type() == gguf::ValueType::array && toks->as_array().size() > d.n_vocab)
            fail(Status::bad_format, "model: tokenizer has %llu tokens but token_embd.weight only %u rows",
                 (unsigned long long)toks->as_array().size(), d.n_vocab);
    }
    d.token_embd = take(f, "token_embd.weight", {E, int64_t(d.n_vocab)});
    d.output_norm = take(f, "output_norm.weight", {E});
    d.output = take(f, "output.weight", {E, int64_t(d.n_vocab)}, false);
    d.tied_output = d.output == nullptr;
    if (d.tied_output) d.output = d.token_embd;

    d.layers.resize(d.n_layer);
    for (uint32_t il = 0; il < d.n_layer; ++il) {
        LayerTensors& L = d.layers[il];
        const std::string p = "blk." + std::to_string(il) + ".";
        L.attn_norm = take(f, p + "attn_norm.weight", {E});
        L.attn_q = take(f, p + "attn_q.weight", {E, Q});
        L.attn_k = take(f, p + "attn_k.weight", {E, KV});
        L.attn_v = take(f, p + "attn_v.weight", {E, KV});
        L.attn_output = take(f, p + "attn_output.weight", {Q, E});
        if (d.has_qkv_bias) {
            L.attn_q_bias = take(f, p + "attn_q.bias", {Q});
            L.attn_k_bias = take(f, p + "attn_k.bias", {KV});
            L.attn_v_bias = take(f, p + "attn_v.bias", {KV});
        }
        if (d.has_qk_norm) {
            L.attn_q_norm = take(f, p + "attn_q_norm.weight", {H});
            L.attn_k_norm = take(f, p + "attn_k_norm.weight", {H});
        }
        if (d.has_post_norms) {
            L.post_attention_norm = take(f, p + "post_attention_norm.weight", {E});
            L.post_ffw_norm = take(f, p + "post_ffw_norm.weight", {E});
        }
        L.ffn_norm = take(f, p + "ffn_norm.weight", {E});
        L.ffn_gate = take(f, p + "ffn_gate.weight", {E, F});
        L.ffn_up = take(f, p + "ffn_up.weight", {E, F});
        L.ffn_down = take(f, p + "ffn_down.weight", {F, E});
    }
    return d;
}

kv::LayerKv Description::layer_kv(uint32_t il, uint32_t n_sink, uint32_t n_window) const {
    if (il >= n_layer) fail(Status::invalid_argument, "model: layer %u >= %u", il, n_layer);
    if (!layer_is_local(il)) return {kv::CacheShape{n_sink, n_window}, rope};
    // The reference forward (and the dense model) shows a local layer the last sliding_window
    // tokens of the global view; that equals a {0, sliding_window} ring only when the global
    // window holds at least as many tokens.
    if (sliding_window > n_window)
        fail(Status::invalid_argument,
             "the model's sliding window of %u tokens (layer %u) is larger than the session's window of %u "
             "tokens; use a window of at least %u",
             sliding_window, il, n_window, sliding_window);
    return {kv::CacheShape{0, sliding_window}, rope_local};
}

}  // namespace vks::model
