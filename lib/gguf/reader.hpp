#pragma once
// GGUF reader (versions 2 and 3, little-endian). The file is mapped read-only with mmap and
// validated completely in open(): every count, length, offset and size is checked against the
// file before use, so a File that exists is internally consistent. Malformed input fails with
// Status::bad_format naming what is wrong and at which byte offset; GGUF v1, big-endian files
// and nested arrays fail with Status::unsupported.
//
// Layout (all little-endian):
//   "GGUF" u32 version, u64 n_tensors, u64 n_kv
//   n_kv    x { string key, u32 value type, value }
//   n_tensors x { string name, u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset }
//   padding to general.alignment (default 32), then the tensor data section; each tensor's
//   offset is relative to the data section and a multiple of the alignment.
//   string = u64 length + bytes (no terminator); array = u32 element type, u64 count, elements.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gguf/tensor_types.hpp"
#include "gguf/value.hpp"

namespace vks::gguf {

constexpr uint32_t k_default_alignment = 32;

struct KeyValue {
    std::string_view key;
    Value value;
    uint64_t offset = 0;  // byte offset of the key's length field in the file
};

struct TensorInfo {
    std::string_view name;
    uint32_t type = 0;  // GGML type id; always one find_tensor_type() knows
    uint32_t n_dims = 0;            // 1..4
    int64_t ne[4] = {1, 1, 1, 1};   // elements per dimension, ne[0] varies fastest; unused dims are 1
    uint64_t offset = 0;            // relative to the data section, a multiple of the alignment
    uint64_t n_bytes = 0;           // exact size of the tensor's data
    const uint8_t* data = nullptr;  // n_bytes bytes inside the file

    TensorType ggml_type() const { return static_cast<TensorType>(type); }
    int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }  // validated not to overflow
    std::span<const uint8_t> bytes() const { return {data, size_t(n_bytes)}; }
};

class File {
public:
    // Maps and validates the file at `path`. Status::io_error when it cannot be opened or mapped.
    static File open(const std::string& path);
    // Validates `bytes` in place: no copy is made, the caller keeps the buffer alive (and
    // unchanged) for the lifetime of the File and everything read from it.
    static File from_memory(std::span<const uint8_t> bytes);
    // A temporary buffer would be gone before the File is used: refused at compile time.
    static File from_memory(std::vector<uint8_t>&& bytes) = delete;

    File(File&& other) noexcept;
    File& operator=(File&& other) noexcept;
    File(const File&) = delete;
    File& operator=(const File&) = delete;
    ~File();

    uint32_t version() const { return version_; }
    uint32_t alignment() const { return alignment_; }
    uint64_t data_offset() const { return data_offset_; }  // start of the tensor data section
    std::span<const uint8_t> bytes() const { return {base_, size_t(size_)}; }

    // ---- metadata ----
    const std::vector<KeyValue>& metadata() const { return kvs_; }
    const Value* find(std::string_view key) const;  // nullptr when absent
    bool has(std::string_view key) const { return find(key) != nullptr; }

    // Typed lookups. A missing key or a value of the wrong type fails with Status::bad_format
    // ("key 'X' has type Y, expected Z"). Integer getters accept any integer type whose value fits.
    std::string_view get_string(std::string_view key) const;
    uint32_t get_u32(std::string_view key) const;
    uint64_t get_u64(std::string_view key) const;
    int64_t get_i64(std::string_view key) const;
    float get_f32(std::string_view key) const;  // float32, float64 or integer values
    bool get_bool(std::string_view key) const;
    // With `elem`, also checks the element type ("key 'X' is an array of T, expected array of U").
    const Array& get_array(std::string_view key, std::optional<ValueType> elem = std::nullopt) const;

    // Same, but return `fallback` when the key is absent (a present key of the wrong type still fails).
    uint32_t get_u32_or(std::string_view key, uint32_t fallback) const;
    float get_f32_or(std::string_view key, float fallback) const;
    std::string_view get_string_or(std::string_view key, std::string_view fallback) const;

    // general.architecture, or "" when absent.
    std::string_view architecture() const { return get_string_or("general.architecture", ""); }

    // ---- tensors (in file order) ----
    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    const TensorInfo* find_tensor(std::string_view name) const;  // nullptr when absent
    const TensorInfo& get_tensor(std::string_view name) const;   // Status::bad_format when absent

private:
    friend class detail::Parser;
    File() = default;
    void release();

    // Mapping owned by this File (nullptr for from_memory).
    void* map_addr_ = nullptr;
    size_t map_size_ = 0;

    const uint8_t* base_ = nullptr;
    uint64_t size_ = 0;
    uint32_t version_ = 0;
    uint32_t alignment_ = k_default_alignment;
    uint64_t data_offset_ = 0;
    std::vector<KeyValue> kvs_;
    std::unordered_map<std::string_view, size_t> kv_index_;  // key -> index into kvs_
    std::vector<TensorInfo> tensors_;
    std::unordered_map<std::string_view, size_t> tensor_index_;
};

}  // namespace vks::gguf
