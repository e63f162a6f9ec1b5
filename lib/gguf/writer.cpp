#include "gguf/writer.hpp"


#include <bit>
#include <cstdio>
#include <cstring>

#include "common/error.hpp"
#include "common/file_io.hpp"

namespace vks::gguf {

namespace {

template <class T>
void put(std::vector<uint8_t>& b, T v) {
    // resize + memcpy rather than insert: GCC 12 raises a false -Wstringop-overflow on the latter.
    size_t at = b.size();
    b.resize(at + sizeof v);
    std::memcpy(b.data() + at, &v, sizeof v);
}

void put_string(std::vector<uint8_t>& b, std::string_view s) {
    put<uint64_t>(b, s.size());
    b.insert(b.end(), s.begin(), s.end());
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

void Writer::set_alignment(uint32_t alignment, bool write_key) {
    if (alignment == 0 || !std::has_single_bit(alignment))
        fail(Status::invalid_argument, "alignment %u is not a non-zero power of two", alignment);
    alignment_ = alignment;
    alignment_key_ = write_key;
}

void Writer::begin_kv(std::string_view key, ValueType t) {
    put_string(kv_bytes_, key);
    put<uint32_t>(kv_bytes_, uint32_t(t));
    ++n_kv_;
}

void Writer::add_uint8(std::string_view k, uint8_t v) { begin_kv(k, ValueType::uint8); put(kv_bytes_, v); }
void Writer::add_int8(std::string_view k, int8_t v) { begin_kv(k, ValueType::int8); put(kv_bytes_, v); }
void Writer::add_uint16(std::string_view k, uint16_t v) { begin_kv(k, ValueType::uint16); put(kv_bytes_, v); }
void Writer::add_int16(std::string_view k, int16_t v) { begin_kv(k, ValueType::int16); put(kv_bytes_, v); }
void Writer::add_uint32(std::string_view k, uint32_t v) { begin_kv(k, ValueType::uint32); put(kv_bytes_, v); }
void Writer::add_int32(std::string_view k, int32_t v) { begin_kv(k, ValueType::int32); put(kv_bytes_, v); }
void Writer::add_uint64(std::string_view k, uint64_t v) { begin_kv(k, ValueType::uint64); put(kv_bytes_, v); }
void Writer::add_int64(std::string_view k, int64_t v) { begin_kv(k, ValueType::int64); put(kv_bytes_, v); }
void Writer::add_float32(std::string_view k, float v) { begin_kv(k, ValueType::float32); put(kv_bytes_, v); }
void Writer::add_float64(std::string_view k, double v) { begin_kv(k, ValueType::float64); put(kv_bytes_, v); }
void Writer::add_bool(std::string_view k, bool v) { begin_kv(k, ValueType::boolean); put<uint8_t>(kv_bytes_, v ? 1 : 0); }

void Writer::add_string(std::string_view k, std::string_view v) {
    begin_kv(k, ValueType::string);
    put_string(kv_bytes_, v);
}

void Writer::add_array(std::string_view key, ValueType elem, const void* data, uint64_t n) {
    size_t es = value_type_size(elem);
    if (es == 0)
        fail(Status::invalid_argument, "add_array: element type %s is not fixed-size (use add_string_array)",
             value_type_name(elem));
    begin_kv(key, ValueType::array);
    put<uint32_t>(kv_bytes_, uint32_t(elem));
    put<uint64_t>(kv_bytes_, n);
    const auto* p = static_cast<const uint8_t*>(data);
    kv_bytes_.insert(kv_bytes_.end(), p, p + n * es);
}

void Writer::add_bool_array(std::string_view key, const std::vector<bool>& v) {
    begin_kv(key, ValueType::array);
    put<uint32_t>(kv_bytes_, uint32_t(ValueType::boolean));
    put<uint64_t>(kv_bytes_, v.size());
    for (bool b : v) put<uint8_t>(kv_bytes_, b ? 1 : 0);
}

void Writer::add_string_array(std::string_view key, std::span<const std::string> v) {
    begin_kv(key, ValueType::array);
    put<uint32_t>(kv_bytes_, uint32_t(ValueType::string));
    put<uint64_t>(kv_bytes_, v.size());
    for (const auto& s : v) put_string(kv_bytes_, s);
}

void Writer::add_string_array(std::string_view key, std::span<const std::string_view> v) {
    begin_kv(key, ValueType::array);
    put<uint32_t>(kv_bytes_, uint32_t(ValueType::string));
    put<uint64_t>(kv_bytes_, v.size());
    for (std::string_view s : v) put_string(kv_bytes_, s);
}

void Writer::add_value(std::string_view key, const Value& v) {
    switch (v.type()) {
        case ValueType::uint8: add_uint8(key, uint8_t(v.as_u64())); return;
        case ValueType::int8: add_int8(key, int8_t(v.as_i64())); return;
        case ValueType::uint16: add_uint16(key, uint16_t(v.as_u64())); return;
        case ValueType::int16: add_int16(key, int16_t(v.as_i64())); return;
        case ValueType::uint32: add_uint32(key, uint32_t(v.as_u64())); return;
        case ValueType::int32: add_int32(key, int32_t(v.as_i64())); return;
        case ValueType::uint64: add_uint64(key, v.as_u64()); return;
        case ValueType::int64: add_int64(key, v.as_i64()); return;
        // The reader keeps a float32 as the double it widens to exactly, so narrowing is lossless.
        case ValueType::float32: add_float32(key, float(v.as_f64())); return;
        case ValueType::float64: add_float64(key, v.as_f64()); return;
        case ValueType::boolean: add_bool(key, v.as_bool()); return;
        case ValueType::string: add_string(key, v.as_string()); return;
        case ValueType::array: {
            const Array& a = v.as_array();
            if (a.type() == ValueType::string) {
                add_string_array(key, a.strings());
            } else if (a.type() == ValueType::array) {
                fail(Status::unsupported, "add_value: key '%.*s' is a nested array", int(key.size()), key.data());
            } else {
                // Fixed-size elements: the file's little-endian bytes are the encoding.
                add_array(key, a.type(), a.raw(), a.size());
            }
            return;
        }
    }
    fail(Status::invalid_argument, "add_value: value type %u is not a GGUF value type", uint32_t(v.type()));
}

void Writer::add_raw_kv(std::span<const uint8_t> encoded) {
    kv_bytes_.insert(kv_bytes_.end(), encoded.begin(), encoded.end());
    ++n_kv_;
}

void Writer::add_tensor(std::string_view name, uint32_t ggml_type, std::vector<int64_t> ne, std::vector<uint8_t> data) {
    Tensor t{std::string(name), ggml_type, std::move(ne), std::move(data), {}};
    tensors_.push_back(std::move(t));
    // A moved std::vector keeps its heap buffer, so this view survives tensors_ growing.
    tensors_.back().data = tensors_.back().owned;
}

void Writer::add_tensor_view(std::string_view name, uint32_t ggml_type, std::vector<int64_t> ne,
                             std::span<const uint8_t> data) {
    Tensor t{std::string(name), ggml_type, std::move(ne), {}, data};
    tensors_.push_back(std::move(t));
}

void Writer::override_tensor_offset(size_t i, uint64_t offset) {
    if (i >= tensors_.size()) fail(Status::invalid_argument, "override_tensor_offset: no tensor %zu", i);
    tensors_[i].has_offset_override = true;
    tensors_[i].offset_override = offset;
}

void Writer::emit(const std::function<void(const void*, size_t)>& out) const {
    std::vector<uint8_t> head;
    head.insert(head.end(), {'G', 'G', 'U', 'F'});
    put<uint32_t>(head, version_);
    put<uint64_t>(head, tensors_.size());
    put<uint64_t>(head, n_kv_ + (alignment_key_ ? 1 : 0));
    if (alignment_key_) {
        put_string(head, "general.alignment");
        put<uint32_t>(head, uint32_t(ValueType::uint32));
        put<uint32_t>(head, alignment_);
    }
    head.insert(head.end(), kv_bytes_.begin(), kv_bytes_.end());
    // Data offsets: each tensor at the next aligned position after the previous one.
    std::vector<uint64_t> offsets(tensors_.size());
    uint64_t data_size = 0;
    for (size_t i = 0; i < tensors_.size(); ++i) {
        offsets[i] = align_up(data_size, alignment_);
        data_size = offsets[i] + tensors_[i].data.size();
    }
    for (size_t i = 0; i < tensors_.size(); ++i) {
        const Tensor& t = tensors_[i];
        put_string(head, t.name);
        put<uint32_t>(head, uint32_t(t.ne.size()));
        for (int64_t d : t.ne) put<uint64_t>(head, uint64_t(d));
        put<uint32_t>(head, t.type);
        put<uint64_t>(head, t.has_offset_override ? t.offset_override : offsets[i]);
    }
    head.resize(align_up(head.size(), alignment_), 0);
    out(head.data(), head.size());
    static const uint8_t k_zeros[256] = {};
    uint64_t pos = 0;
    for (size_t i = 0; i < tensors_.size(); ++i) {
        for (uint64_t pad = offsets[i] - pos; pad > 0;) {
            size_t n = size_t(pad < sizeof k_zeros ? pad : sizeof k_zeros);
            out(k_zeros, n);
            pad -= n;
        }
        out(tensors_[i].data.data(), tensors_[i].data.size());
        pos = offsets[i] + tensors_[i].data.size();
    }
}

std::vector<uint8_t> Writer::to_bytes() const {
    std::vector<uint8_t> bytes;
    emit([&](const void* p, size_t n) {
        const auto* b = static_cast<const uint8_t*>(p);
        bytes.insert(bytes.end(), b, b + n);
    });
    return bytes;
}

void Writer::write_file(const std::string& path) const {
    write_file_atomic(path, [&](std::FILE* fp) {
        emit([&](const void* p, size_t n) {
            if (n > 0 && !std::ferror(fp)) std::fwrite(p, 1, n, fp);
        });
    });
}

}  // namespace vks::gguf
