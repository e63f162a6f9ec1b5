// GGUF parsing and validation. Invariant kept throughout: pos_ <= size_, and no read, loop
// or allocation is sized by a file value before that value was checked against the bytes
// left (size_ - pos_), so hostile counts cannot cause large allocations or long loops.
#include "gguf/parser.hpp"

#include <algorithm>
#include <bit>
#include <cinttypes>
#include <cstring>
#include <limits>
#include <numeric>

#include "common/error.hpp"

static_assert(std::endian::native == std::endian::little, "the GGUF reader assumes a little-endian host");

namespace vks::gguf::detail {

namespace {

constexpr uint32_t k_magic = 0x46554747;  // "GGUF" read as little-endian u32
// Smallest possible encodings, used to reject counts that cannot fit in the bytes left.
constexpr uint64_t k_min_kv_bytes = 8 + 1 + 4 + 1;               // key len, 1-byte key, type, 1-byte value
constexpr uint64_t k_min_tensor_info_bytes = 8 + 1 + 4 + 8 + 4 + 8;  // name len, name, n_dims, ne[0], type, offset
constexpr uint64_t k_max_key_length = 65535;                     // GGUF spec limit on key length

using ull = unsigned long long;

// Reserve hint for a count read from the file. The count was already checked against the bytes
// left, but a corrupt header in a multi-GB file could still claim ~100M entries; capping the
// reserve keeps the up-front allocation small, and real growth only follows parsed content.
size_t reserve_hint(uint64_t n) { return size_t(n < 65536 ? n : 65536); }

}  // namespace

void Parser::parse(File& f) {
    Parser p(f);
    p.run();
}

void Parser::need(uint64_t n, const char* what) {
    if (n > size_ - pos_)
        fail(Status::bad_format, "truncated file: %s needs %llu bytes at offset %llu, only %llu left", what, ull(n),
             ull(pos_), ull(size_ - pos_));
}

template <class T>
T Parser::read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, base_ + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
}

std::string_view Parser::read_string(const char* what, const std::string& context) {
    uint64_t at = pos_;
    uint64_t len = read<uint64_t>(what);
    if (len > size_ - pos_)
        fail(Status::bad_format, "%s%s: string length %llu at offset %llu runs past the end of the file (%llu bytes left)",
             what, context.c_str(), ull(len), ull(at), ull(size_ - pos_));
    std::string_view s(reinterpret_cast<const char*>(base_ + pos_), size_t(len));
    pos_ += len;
    return s;
}

void Parser::run() {
    if (size_ < 4) fail(Status::bad_format, "truncated file: %llu bytes, too short for the GGUF magic", ull(size_));
    uint32_t magic = read<uint32_t>("magic");
    if (magic != k_magic) {
        char m[4];
        std::memcpy(m, &magic, 4);
        for (char& c : m)
            if (c < 32 || c > 126) c = '?';
        fail(Status::bad_format, "bad magic '%.4s' at offset 0 (expected 'GGUF'): not a GGUF file", m);
    }
    uint32_t version = read<uint32_t>("version");
    if (version == 0x02000000u || version == 0x03000000u)
        fail(Status::unsupported, "big-endian GGUF files are not supported (version field at offset 4)");
    if (version == 1) fail(Status::unsupported, "GGUF version 1 is not supported (offset 4); re-convert the model");
    if (version != 2 && version != 3)
        fail(Status::unsupported, "unsupported GGUF version %u at offset 4 (expected 2 or 3)", version);
    f_.version_ = version;

    uint64_t n_tensors = read<uint64_t>("tensor count");
    uint64_t n_kv = read<uint64_t>("metadata count");
    // Counts are checked against the bytes left before anything is sized by them.
    uint64_t left = size_ - pos_;
    if (n_kv > left / k_min_kv_bytes)
        fail(Status::bad_format, "metadata count %llu at offset 16 is impossible: only %llu bytes follow (truncated or corrupt file)", ull(n_kv),
             ull(left));
    if (n_tensors > left / k_min_tensor_info_bytes)
        fail(Status::bad_format, "tensor count %llu at offset 8 is impossible: only %llu bytes follow (truncated or corrupt file)", ull(n_tensors),
             ull(left));

    f_.kvs_.reserve(reserve_hint(n_kv));
    f_.kv_index_.reserve(reserve_hint(n_kv));
    for (uint64_t i = 0; i < n_kv; ++i) read_kv();
    check_known_keys();

    f_.tensors_.reserve(reserve_hint(n_tensors));
    f_.tensor_index_.reserve(reserve_hint(n_tensors));
    for (uint64_t i = 0; i < n_tensors; ++i) read_tensor_info();
    place_tensors();
}

void Parser::read_kv() {
    uint64_t at = pos_;
    std::string_view key = read_string("metadata key", "");
    if (key.empty()) fail(Status::bad_format, "empty metadata key at offset %llu", ull(at));
    if (key.size() > k_max_key_length)
        fail(Status::bad_format, "metadata key at offset %llu is %zu bytes long (limit %llu)", ull(at), key.size(),
             ull(k_max_key_length));
    std::string ctx = " of key '" + std::string(key) + "'";
    uint64_t type_at = pos_;
    uint32_t type = read<uint32_t>("metadata value type");
    if (type >= k_n_value_types)
        fail(Status::bad_format, "key '%s': unknown value type %u at offset %llu", std::string(key).c_str(), type,
             ull(type_at));
    if (!f_.kv_index_.emplace(key, f_.kvs_.size()).second)
        fail(Status::bad_format, "duplicate metadata key '%s' at offset %llu", std::string(key).c_str(), ull(at));
    KeyValue kv;
    kv.key = key;
    kv.offset = at;
    read_value(kv.value, ValueType(type), ctx);
    f_.kvs_.push_back(std::move(kv));
}

void Parser::read_value(Value& v, ValueType t, const std::string& ctx) {
    v.type_ = t;
    uint64_t at = pos_;
    switch (t) {
        case ValueType::uint8: v.bits_ = read<uint8_t>("uint8 value"); break;
        case ValueType::int8: v.bits_ = uint64_t(int64_t(read<int8_t>("int8 value"))); break;
        case ValueType::uint16: v.bits_ = read<uint16_t>("uint16 value"); break;
        case ValueType::int16: v.bits_ = uint64_t(int64_t(read<int16_t>("int16 value"))); break;
        case ValueType::uint32: v.bits_ = read<uint32_t>("uint32 value"); break;
        case ValueType::int32: v.bits_ = uint64_t(int64_t(read<int32_t>("int32 value"))); break;
        case ValueType::uint64: v.bits_ = read<uint64_t>("uint64 value"); break;
        case ValueType::int64: v.bits_ = uint64_t(read<int64_t>("int64 value")); break;
        case ValueType::float32: v.f_ = read<float>("float32 value"); break;
        case ValueType::float64: v.f_ = read<double>("float64 value"); break;
        case ValueType::boolean: {
            uint8_t b = read<uint8_t>("bool value");
            if (b > 1) fail(Status::bad_format, "bool value%s at offset %llu is %u (must be 0 or 1)", ctx.c_str(), ull(at), b);
            v.bits_ = b;
            break;
        }
        case ValueType::string: v.str_ = read_string("string value", ctx); break;
        case ValueType::array: read_array(v.array_, ctx); break;
    }
}

void Parser::read_array(Array& a, const std::string& ctx) {
    uint64_t at = pos_;
    uint32_t elem = read<uint32_t>("array element type");
    if (elem >= k_n_value_types)
        fail(Status::bad_format, "array%s: unknown element type %u at offset %llu", ctx.c_str(), elem, ull(at));
    if (ValueType(elem) == ValueType::array)
        fail(Status::unsupported, "array%s at offset %llu: nested arrays are not supported", ctx.c_str(), ull(at));
    uint64_t n = read<uint64_t>("array length");
    a.type_ = ValueType(elem);
    a.n_ = n;
    uint64_t left = size_ - pos_;
    if (a.type_ == ValueType::string) {
        // Each string needs at least its 8-byte length, which bounds the reserve below.
        if (n > left / 8)
            fail(Status::bad_format, "array%s at offset %llu: %llu strings cannot fit in the %llu bytes left", ctx.c_str(),
                 ull(at), ull(n), ull(left));
        a.strings_.reserve(reserve_hint(n));
        for (uint64_t i = 0; i < n; ++i) a.strings_.push_back(read_string("array string", ctx));
        return;
    }
    uint64_t elem_size = value_type_size(a.type_);
    if (n > left / elem_size)
        fail(Status::bad_format, "array%s at offset %llu: %llu elements of %s (%llu bytes each) run past the end of the file",
             ctx.c_str(), ull(at), ull(n), value_type_name(a.type_), ull(elem_size));
    a.raw_ = base_ + pos_;
    if (a.type_ == ValueType::boolean) {
        for (uint64_t i = 0; i < n; ++i)
            if (a.raw_[i] > 1)
                fail(Status::bad_format, "array%s: bool element %llu at offset %llu is %u (must be 0 or 1)", ctx.c_str(),
                     ull(i), ull(pos_ + i), a.raw_[i]);
    }
    pos_ += n * elem_size;
}

void Parser::read_tensor_info() {
    uint64_t at = pos_;
    TensorInfo t;
    t.name = read_string("tensor name", "");
    if (t.name.empty()) fail(Status::bad_format, "empty tensor name at offset %llu", ull(at));
    std::string name(t.name);
    uint64_t dims_at = pos_;
    t.n_dims = read<uint32_t>("tensor n_dims");
    if (t.n_dims < 1 || t.n_dims > 4)
        fail(Status::bad_format, "tensor '%s': n_dims %u at offset %llu (must be 1..4)", name.c_str(), t.n_dims,
             ull(dims_at));
    uint64_t n_elements = 1;
    for (uint32_t d = 0; d < t.n_dims; ++d) {
        uint64_t ne_at = pos_;
        uint64_t ne = read<uint64_t>("tensor dimension");
        if (ne == 0 || ne > uint64_t(std::numeric_limits<int64_t>::max()))
            fail(Status::bad_format, "tensor '%s': dimension %u = %llu at offset %llu is invalid", name.c_str(), d, ull(ne),
                 ull(ne_at));
        if (n_elements > uint64_t(std::numeric_limits<int64_t>::max()) / ne)
            fail(Status::bad_format, "tensor '%s': element count overflows at dimension %u (offset %llu)", name.c_str(), d,
                 ull(ne_at));
        n_elements *= ne;
        t.ne[d] = int64_t(ne);
    }
    uint64_t type_at = pos_;
    t.type = read<uint32_t>("tensor type");
    const TensorTypeInfo* ti = find_tensor_type(t.type);
    if (!ti)
        fail(Status::bad_format, "tensor '%s': unknown ggml type %u at offset %llu", name.c_str(), t.type, ull(type_at));
    if (uint64_t(t.ne[0]) % ti->block_size != 0)
        fail(Status::bad_format, "tensor '%s': row length %lld is not a multiple of the %s block size %u", name.c_str(),
             (long long)t.ne[0], ti->name, ti->block_size);
    // n_bytes = n_elements / block_size * type_size, checked for overflow.
    uint64_t n_blocks = n_elements / ti->block_size;
    if (n_blocks > std::numeric_limits<uint64_t>::max() / ti->type_size)
        fail(Status::bad_format, "tensor '%s': byte size overflows", name.c_str());
    t.n_bytes = n_blocks * ti->type_size;
    t.offset = read<uint64_t>("tensor data offset");
    if (!f_.tensor_index_.emplace(t.name, f_.tensors_.size()).second)
        fail(Status::bad_format, "duplicate tensor name '%s' at offset %llu", name.c_str(), ull(at));
    f_.tensors_.push_back(t);
}

void Parser::place_tensors() {
    // The data section starts at the first multiple of the alignment after the tensor infos.
    uint64_t align = f_.alignment_;
    uint64_t rem = pos_ % align;
    uint64_t pad = rem ? align - rem : 0;
    if (pad > std::numeric_limits<uint64_t>::max() - pos_)
        fail(Status::bad_format, "data section offset overflows");
    uint64_t data = pos_ + pad;
    f_.data_offset_ = data;
    if (f_.tensors_.empty()) return;
    if (data > size_)
        fail(Status::bad_format, "truncated file: tensor data section starts at offset %llu, past the end (%llu bytes)",
             ull(data), ull(size_));
    uint64_t data_size = size_ - data;
    for (TensorInfo& t : f_.tensors_) {
        std::string name(t.name);
        if (t.offset % align != 0)
            fail(Status::bad_format, "tensor '%s': data offset %llu is not a multiple of the alignment %llu", name.c_str(),
                 ull(t.offset), ull(align));
        if (t.offset > data_size || t.n_bytes > data_size - t.offset)
            fail(Status::bad_format,
                 "tensor '%s': data [%llu, +%llu bytes) at file offset %llu runs past the end of the file (%llu bytes)",
                 name.c_str(), ull(t.offset), ull(t.n_bytes), ull(data + t.offset), ull(size_));
        t.data = base_ + data + t.offset;
    }
    // No two tensors may share bytes: sort by offset and compare neighbours.
    std::vector<size_t> order(f_.tensors_.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return f_.tensors_[a].offset < f_.tensors_[b].offset; });
    for (size_t i = 1; i < order.size(); ++i) {
        const TensorInfo& p = f_.tensors_[order[i - 1]];
        const TensorInfo& q = f_.tensors_[order[i]];
        if (p.offset + p.n_bytes > q.offset)
            fail(Status::bad_format, "tensors '%s' [%llu, +%llu) and '%s' [%llu, +%llu) overlap in the data section",
                 std::string(p.name).c_str(), ull(p.offset), ull(p.n_bytes), std::string(q.name).c_str(), ull(q.offset),
                 ull(q.n_bytes));
    }
}

}  // namespace vks::gguf::detail
