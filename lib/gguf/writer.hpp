#pragma once
// GGUF writer for tests and tools (synthetic models, re-quantized files). It writes exactly
// what it is given: keys are not checked for duplicates, tensor bytes are not checked against
// the shape, and any type id is accepted, so tests can also build deliberately broken files.
// The reader is the validator.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/value.hpp"

namespace vks::gguf {

class Writer {
public:
    // version 3 by default; 2 gives the (layout-identical) v2 header. Any other number is
    // written as-is (for tests of the reader's version check).
    explicit Writer(uint32_t version = 3) : version_(version) {}

    // Data-section and tensor-offset alignment (non-zero power of two, else invalid_argument).
    // When `write_key`, a general.alignment uint32 entry is emitted first in the metadata.
    void set_alignment(uint32_t alignment, bool write_key = true);
    uint32_t alignment() const { return alignment_; }

    // ---- metadata (in call order) ----
    void add_uint8(std::string_view key, uint8_t v);
    void add_int8(std::string_view key, int8_t v);
    void add_uint16(std::string_view key, uint16_t v);
    void add_int16(std::string_view key, int16_t v);
    void add_uint32(std::string_view key, uint32_t v);
    void add_int32(std::string_view key, int32_t v);
    void add_uint64(std::string_view key, uint64_t v);
    void add_int64(std::string_view key, int64_t v);
    void add_float32(std::string_view key, float v);
    void add_float64(std::string_view key, double v);
    void add_bool(std::string_view key, bool v);
    void add_string(std::string_view key, std::string_view v);

    // Array of fixed-size elements: `n` elements of `elem` read from `data` (host order = LE).
    void add_array(std::string_view key, ValueType elem, const void* data, uint64_t n);
    void add_array(std::string_view key, std::span<const uint8_t> v) { add_array(key, ValueType::uint8, v.data(), v.size()); }
    void add_array(std::string_view key, std::span<const int8_t> v) { add_array(key, ValueType::int8, v.data(), v.size()); }
    void add_array(std::string_view key, std::span<const uint16_t> v) { add_array(key, ValueType::uint16, v.data(), v.size()); }
    void add_array(std::string_view key, std::span<const int16_t> v) { add_array(key, ValueType::int16, v.data(), v.size()); }
    void add_array(std::string_view key, std::span<const uint32_t> v) { add_array(key, ValueType::uint32, v.data(), v.size()); }
    void add_array(std::string_view key, std::span<const int32_t> v) { add_array(key, ValueType::int32, v.data(), v.size()); }
    void add_array(std::string_view key, std::span<const uint64_t> v) { add_array(key, ValueType::uint64, v.data(), v.size()); }
    void add_array(std::string_view key, std::span<const int64_t> v) { add_array(key, ValueType::int64, v.data(), v.size()); }
    void add_array(std::string_view key, std::span<const float> v) { add_array(key, ValueType::float32, v.data(), v.size()); }
    void add_array(std::string_view key, std::span<const double> v) { add_array(key, ValueType::float64, v.data(), v.size()); }
    void add_bool_array(std::string_view key, const std::vector<bool>& v);
    void add_string_array(std::string_view key, std::span<const std::string> v);

    // Appends raw, already-encoded bytes as one metadata entry (counts toward n_kv). For tests
    // that need encodings the typed adders refuse to produce (e.g. nested arrays).
    void add_raw_kv(std::span<const uint8_t> encoded);

    // ---- tensors (in call order; data laid out in the same order, each at an aligned offset) ----
    // ne[0] varies fastest; ne.size() is written as n_dims unchecked.
    void add_tensor(std::string_view name, uint32_t ggml_type, std::vector<int64_t> ne, std::vector<uint8_t> data);
    // Same, without a copy: `data` must stay alive and unchanged until the last write call.
    void add_tensor_view(std::string_view name, uint32_t ggml_type, std::vector<int64_t> ne, std::span<const uint8_t> data);
    // Test hook: tensor i's info records `offset` instead of its real aligned offset.
    void override_tensor_offset(size_t i, uint64_t offset);
    size_t n_tensors() const { return tensors_.size(); }

    // ---- output ----
    std::vector<uint8_t> to_bytes() const;
    // Writes to `path` + ".tmp.<pid>", fsyncs, then renames over `path`: readers never see a
    // half-written file. Status::io_error on failure (the temporary is removed).
    void write_file(const std::string& path) const;

private:
    struct Tensor {
        std::string name;
        uint32_t type;
        std::vector<int64_t> ne;
        std::vector<uint8_t> owned;
        std::span<const uint8_t> data;  // into owned or the caller's buffer
        bool has_offset_override = false;
        uint64_t offset_override = 0;
    };
    void begin_kv(std::string_view key, ValueType t);
    void emit(const std::function<void(const void*, size_t)>& out) const;

    uint32_t version_;
    uint32_t alignment_ = 32;
    bool alignment_key_ = false;
    uint64_t n_kv_ = 0;
    std::vector<uint8_t> kv_bytes_;  // encoded metadata entries, in order
    std::vector<Tensor> tensors_;
};

}  // namespace vks::gguf
