#include "engine/model.hpp"

#include "common/error.hpp"

#include <cmath>
#include <cstring>

#include "model/tokenizer_spec.hpp"
#include "quant/quant.hpp"

namespace vks::engine {

namespace {

quant::Type weight_type(const gguf::TensorInfo& t) {
    const quant::TypeInfo* info = quant::find_type(t.type);
    if (!info || !ops::matmul_supports(info->type))
        fail(Status::unsupported, "tensor '%.*s' has type %s, which the GPU kernels do not support yet",
             int(t.name.size()), t.name.data(), gguf::tensor_type_name(t.type));
    return info->type;
}

// A 1-D tensor (norm weight, bias) as f32 on the device.
vk::Buffer upload_vector(vk::Device& dev, const gguf::TensorInfo* t) {
    if (!t) return {};
    const quant::TypeInfo* info = quant::find_type(t->type);
    if (!info) fail(Status::unsupported, "tensor '%.*s': unsupported type", int(t->name.size()), t->name.data());
    std::vector<float> v(size_t(t->n_elements()));
    quant::dequantize_row(info->type, t->data, v.data(), int64_t(v.size()));
    vk::Buffer b(dev, v.size() * 4, vk::BufferKind::device, std::string(t->name));
    b.upload(v.data(), v.size() * 4);
    return b;
}

ops::WeightTensor upload_matrix(vk::Device& dev, const gguf::TensorInfo* t) {
    // GGUF ne[0] is the row length (K, inner), ne[1] the number of rows (M, outputs).
    return ops::upload_weight(dev, weight_type(*t), t->data, uint32_t(t->ne[1]), uint32_t(t->ne[0]),
                              std::string(t->name));
}

// q, k and v as one row-stacked tensor (LayerWeights::qkv), or an empty tensor when their types
// or row lengths differ.
ops::WeightTensor upload_qkv(vk::Device& dev, const model::LayerTensors& t) {
    const gguf::TensorInfo* parts[] = {t.attn_q, t.attn_k, t.attn_v};
    const quant::Type type = weight_type(*t.attn_q);
    for (const gguf::TensorInfo* x : parts)
        if (weight_type(*x) != type || x->ne[0] != t.attn_q->ne[0]) return {};
    std::vector<uint8_t> rows;
    rows.reserve(size_t(t.attn_q->n_bytes + t.attn_k->n_bytes + t.attn_v->n_bytes));
    uint64_t n_rows = 0;
    for (const gguf::TensorInfo* x : parts) {
        rows.insert(rows.end(), x->data, x->data + x->n_bytes);
        n_rows += uint64_t(x->ne[1]);
    }
    const std::string name(t.attn_q->name);  // blk.N.attn_q.weight -> blk.N.attn_qkv
    return ops::upload_weight(dev, type, rows.data(), uint32_t(n_rows), uint32_t(t.attn_q->ne[0]),
                              name.substr(0, name.find(".attn_q")) + ".attn_qkv");
}

}  // namespace

std::shared_ptr<Model> Model::load(const std::string& path, const ModelOptions& opts) {
    std::shared_ptr<Model> m(new Model());
    m->path_ = path;
    m->file_ = std::make_unique<gguf::File>(gguf::File::open(path));
    m->desc_ = model::Description::from_gguf(*m->file_);
    const model::Description& d = m->desc_;
    m->tokenizer_ = std::make_unique<tokenizer::Tokenizer>(tokenizer::Tokenizer::create(model::tokenizer_spec_from_gguf(*m->file_)));
    if (m->tokenizer_->n_vocab() < int32_t(d.n_vocab))
        fail(Status::bad_format, "the tokenizer has %d tokens but token_embd has %u rows", m->tokenizer_->n_vocab(),
             d.n_vocab);
    m->chat_format_ = tokenizer::chat_format_for(m->tokenizer_->chat_template(), model::arch_name(d.arch));

    m->instance_ = std::make_unique<vk::Instance>(vk::InstanceOptions{opts.validation});
    vk::DeviceOptions dopts;
    dopts.physical_index = opts.device_index;
    m->device_ = std::make_unique<vk::Device>(*m->instance_, dopts);
    m->kernels_ = std::make_unique<ops::Kernels>(*m->device_);
    vk::Device& dev = *m->device_;

    // Upload, reporting progress by bytes.
    uint64_t total = 0, done = 0;
    for (const auto& l : d.layers)
        for (auto* t : {l.attn_q, l.attn_k, l.attn_v, l.attn_output, l.ffn_gate, l.ffn_up, l.ffn_down}) total += t->n_bytes;
    total += d.output->n_bytes;
    auto step = [&](const gguf::TensorInfo* t) {
        done += t->n_bytes;
        if (opts.progress && !opts.progress(total ? float(double(done) / double(total)) : 1.0f))
            fail(Status::cancelled, "model load cancelled by the progress callback");
    };
    if (opts.progress && !opts.progress(0.0f)) fail(Status::cancelled, "model load cancelled by the progress callback");
    m->layers_.resize(d.n_layer);
    for (uint32_t il = 0; il < d.n_layer; ++il) {
        const model::LayerTensors& t = d.layers[il];
        LayerWeights& w = m->layers_[il];
        w.attn_norm = upload_vector(dev, t.attn_norm);
        w.ffn_norm = upload_vector(dev, t.ffn_norm);
        w.q_bias = upload_vector(dev, t.attn_q_bias);
        w.k_bias = upload_vector(dev, t.attn_k_bias);
        w.v_bias = upload_vector(dev, t.attn_v_bias);
        w.q_norm = upload_vector(dev, t.attn_q_norm);
        w.k_norm = upload_vector(dev, t.attn_k_norm);
        w.post_attn_norm = upload_vector(dev, t.post_attention_norm);
        w.post_ffn_norm = upload_vector(dev, t.post_ffw_norm);
        w.qkv = upload_qkv(dev, t);
        if (w.qkv.chunks.empty()) {
            w.q = upload_matrix(dev, t.attn_q);
            w.k = upload_matrix(dev, t.attn_k);
            w.v = upload_matrix(dev, t.attn_v);
        }
        step(t.attn_q), step(t.attn_k), step(t.attn_v);
        w.o = upload_matrix(dev, t.attn_output), step(t.attn_output);
        const quant::Type gt = weight_type(*t.ffn_gate);
        const uint32_t n_ff = uint32_t(t.ffn_gate->ne[1]), n_in = uint32_t(t.ffn_gate->ne[0]);
        if (gt == weight_type(*t.ffn_up) && t.ffn_up->ne[0] == t.ffn_gate->ne[0] && t.ffn_up->ne[1] == t.ffn_gate->ne[1] &&
            ops::paired_gate_up_supported(dev.caps(), gt, n_ff, n_in)) {
            const std::string name(t.ffn_gate->name);  // blk.N.ffn_gate.weight -> blk.N.ffn_gate_up
            w.gate_up = ops::upload_paired_weight(dev, gt, t.ffn_gate->data, t.ffn_up->data, n_ff, n_in,
                                                  name.substr(0, name.find(".ffn_gate")) + ".ffn_gate_up");
        } else {
            w.gate = upload_matrix(dev, t.ffn_gate);
            w.up = upload_matrix(dev, t.ffn_up);
        }
        step(t.ffn_gate), step(t.ffn_up);
        w.down = upload_matrix(dev, t.ffn_down), step(t.ffn_down);
    }
    m->output_norm_ = upload_vector(dev, d.output_norm);
    m->output_ = upload_matrix(dev, d.output), step(d.output);
    m->weight_bytes_ = dev.bytes_allocated();
    for (const auto& t : m->file_->tensors()) m->n_params_ += uint64_t(t.n_elements());
    return m;
}

Model::~Model() {
    // Weights first (they hold buffers of the device), then kernels, device, instance.
    layers_.clear();
    output_ = {};
    output_norm_ = {};
    kernels_.reset();
    device_.reset();
    instance_.reset();
}

void Model::embed(int32_t token, float* out) const {
    if (token < 0 || uint32_t(token) >= desc_.n_vocab)
        fail(Status::invalid_argument, "token id %d is outside the vocabulary [0, %u)", token, desc_.n_vocab);
    const gguf::TensorInfo* t = desc_.token_embd;
    const quant::TypeInfo* info = quant::find_type(t->type);
    if (!info) fail(Status::unsupported, "token_embd: unsupported type %s", gguf::tensor_type_name(t->type));
    const size_t row = quant::row_bytes(info->type, desc_.n_embd);
    quant::dequantize_row(info->type, t->data + size_t(token) * row, out, desc_.n_embd);
    if (desc_.embd_scale != 1.0f)
        for (uint32_t i = 0; i < desc_.n_embd; ++i) out[i] *= desc_.embd_scale;
}

const kv::KeyTransform& Model::key_transform(const std::function<kv::KeyTransform()>& compute) const {
    std::lock_guard<std::mutex> lock(key_transform_mutex_);
    if (!key_transform_) key_transform_ = std::make_unique<kv::KeyTransform>(compute());
    return *key_transform_;
}

}  // namespace vks::engine
