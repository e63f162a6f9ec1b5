#pragma once
// GGUF metadata values. Values read from a file are views: strings and array elements point
// into the file's bytes (the mmap), so a 49k-entry vocabulary costs one string_view per token
// and nothing per lookup. A Value is valid as long as the gguf::File it came from.
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace vks::gguf {

namespace detail {
class Parser;
}

// GGUF metadata value type ids (part of the file format).
enum class ValueType : uint32_t {
    uint8 = 0,
    int8 = 1,
    uint16 = 2,
    int16 = 3,
    uint32 = 4,
    int32 = 5,
    float32 = 6,
    boolean = 7,
    string = 8,
    array = 9,
    uint64 = 10,
    int64 = 11,
    float64 = 12,
};
constexpr uint32_t k_n_value_types = 13;

const char* value_type_name(ValueType t);  // "uint32", "string", "array", ...
size_t value_type_size(ValueType t);       // bytes of a fixed-size scalar; 0 for string and array
bool is_integer_type(ValueType t);         // uint8..int64, not bool
bool is_float_type(ValueType t);           // float32, float64

// An array value: element type, count and the elements. Fixed-size elements are read from the
// file bytes on access (little-endian, possibly unaligned); string elements are pre-split views.
class Array {
public:
    ValueType type() const { return type_; }
    uint64_t size() const { return n_; }
    bool empty() const { return n_ == 0; }

    // Element i converted to the requested kind. Fails with Status::bad_format when the element
    // type does not convert (e.g. get_string on an int array, a negative value for get_u64) and
    // with Status::invalid_argument when i >= size().
    int64_t get_i64(uint64_t i) const;
    uint64_t get_u64(uint64_t i) const;
    double get_f64(uint64_t i) const;  // float or integer elements
    bool get_bool(uint64_t i) const;
    std::string_view get_string(uint64_t i) const;

    // All string elements (empty span unless type() == string).
    std::span<const std::string_view> strings() const { return strings_; }
    // Raw little-endian element bytes (size() * value_type_size(type())), nullptr for strings.
    const uint8_t* raw() const { return raw_; }

    // Whole-array conversions for loaders (copies; numeric arrays only).
    std::vector<float> to_f32() const;
    std::vector<int32_t> to_i32() const;  // fails if an element does not fit in int32

private:
    friend class detail::Parser;
    void check_index(uint64_t i) const;
    ValueType type_ = ValueType::uint8;
    uint64_t n_ = 0;
    const uint8_t* raw_ = nullptr;
    std::vector<std::string_view> strings_;
};

class Value {
public:
    ValueType type() const { return type_; }
    bool is_integer() const { return is_integer_type(type_); }
    bool is_float() const { return is_float_type(type_); }

    // Typed access. Integer getters accept any integer type whose value fits; as_f64 accepts
    // floats and integers. A mismatch fails with Status::bad_format "value has type X, expected Y".
    int64_t as_i64() const;
    uint64_t as_u64() const;
    double as_f64() const;
    bool as_bool() const;
    std::string_view as_string() const;
    const Array& as_array() const;

private:
    friend class detail::Parser;
    ValueType type_ = ValueType::uint8;
    uint64_t bits_ = 0;  // integers (signed ones sign-extended), bool 0/1, float bits as double
    double f_ = 0.0;     // float32/float64 value
    std::string_view str_;
    Array array_;
};

}  // namespace vks::gguf
