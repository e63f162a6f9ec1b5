#include "gguf/value.hpp"

#include <cinttypes>
#include <cstring>
#include <limits>

#include "common/error.hpp"

namespace vks::gguf {

const char* value_type_name(ValueType t) {
    switch (t) {
        case ValueType::uint8: return "uint8";
        case ValueType::int8: return "int8";
        case ValueType::uint16: return "uint16";
        case ValueType::int16: return "int16";
        case ValueType::uint32: return "uint32";
        case ValueType::int32: return "int32";
        case ValueType::float32: return "float32";
        case ValueType::boolean: return "bool";
        case ValueType::string: return "string";
        case ValueType::array: return "array";
        case ValueType::uint64: return "uint64";
        case ValueType::int64: return "int64";
        case ValueType::float64: return "float64";
    }
    return "unknown";
}

size_t value_type_size(ValueType t) {
    switch (t) {
        case ValueType::uint8:
        case ValueType::int8:
        case ValueType::boolean: return 1;
        case ValueType::uint16:
        case ValueType::int16: return 2;
        case ValueType::uint32:
        case ValueType::int32:
        case ValueType::float32: return 4;
        case ValueType::uint64:
        case ValueType::int64:
        case ValueType::float64: return 8;
        case ValueType::string:
        case ValueType::array: return 0;
    }
    return 0;
}

bool is_integer_type(ValueType t) {
    switch (t) {
        case ValueType::uint8:
        case ValueType::int8:
        case ValueType::uint16:
        case ValueType::int16:
        case ValueType::uint32:
        case ValueType::int32:
        case ValueType::uint64:
        case ValueType::int64: return true;
        default: return false;
    }
}

bool is_float_type(ValueType t) { return t == ValueType::float32 || t == ValueType::float64; }

static bool is_signed_type(ValueType t) {
    return t == ValueType::int8 || t == ValueType::int16 || t == ValueType::int32 || t == ValueType::int64;
}

namespace {

// Integers are carried as 64 bits plus the source type, so range checks know the sign.
struct Int {
    uint64_t bits;
    bool is_signed;
};

int64_t int_to_i64(Int v) {
    if (!v.is_signed && v.bits > uint64_t(std::numeric_limits<int64_t>::max()))
        fail(Status::bad_format, "integer value %" PRIu64 " does not fit in int64", v.bits);
    return int64_t(v.bits);
}

uint64_t int_to_u64(Int v) {
    if (v.is_signed && int64_t(v.bits) < 0)
        fail(Status::bad_format, "negative value %" PRId64 " where an unsigned integer is expected", int64_t(v.bits));
    return v.bits;
}

// Reads element i of a fixed-size array (little-endian host; see reader.cpp static_assert).
template <class T>
T load(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

Int load_int(ValueType t, const uint8_t* p) {
    switch (t) {
        case ValueType::uint8: return {load<uint8_t>(p), false};
        case ValueType::int8: return {uint64_t(int64_t(load<int8_t>(p))), true};
        case ValueType::uint16: return {load<uint16_t>(p), false};
        case ValueType::int16: return {uint64_t(int64_t(load<int16_t>(p))), true};
        case ValueType::uint32: return {load<uint32_t>(p), false};
        case ValueType::int32: return {uint64_t(int64_t(load<int32_t>(p))), true};
        case ValueType::uint64: return {load<uint64_t>(p), false};
        case ValueType::int64: return {uint64_t(load<int64_t>(p)), true};
        default: break;
    }
    fail(Status::bad_format, "value has type %s, expected an integer", value_type_name(t));
}

[[noreturn]] void type_mismatch(ValueType got, const char* expected) {
    fail(Status::bad_format, "value has type %s, expected %s", value_type_name(got), expected);
}

}  // namespace

// ---- Array ----

void Array::check_index(uint64_t i) const {
    if (i >= n_) fail(Status::invalid_argument, "array index %" PRIu64 " out of range (size %" PRIu64 ")", i, n_);
}

int64_t Array::get_i64(uint64_t i) const {
    check_index(i);
    if (!is_integer_type(type_)) type_mismatch(type_, "an integer element type");
    return int_to_i64(load_int(type_, raw_ + i * value_type_size(type_)));
}

uint64_t Array::get_u64(uint64_t i) const {
    check_index(i);
    if (!is_integer_type(type_)) type_mismatch(type_, "an integer element type");
    return int_to_u64(load_int(type_, raw_ + i * value_type_size(type_)));
}

double Array::get_f64(uint64_t i) const {
    check_index(i);
    const uint8_t* p = raw_ + i * value_type_size(type_);
    if (type_ == ValueType::float32) return load<float>(p);
    if (type_ == ValueType::float64) return load<double>(p);
    if (is_integer_type(type_)) {
        Int v = load_int(type_, p);
        return v.is_signed ? double(int64_t(v.bits)) : double(v.bits);
    }
    type_mismatch(type_, "a numeric element type");
}

bool Array::get_bool(uint64_t i) const {
    check_index(i);
    if (type_ != ValueType::boolean) type_mismatch(type_, "bool elements");
    return raw_[i] != 0;
}

std::string_view Array::get_string(uint64_t i) const {
    check_index(i);
    if (type_ != ValueType::string) type_mismatch(type_, "string elements");
    return strings_[i];
}

std::vector<float> Array::to_f32() const {
    if (!is_integer_type(type_) && !is_float_type(type_)) type_mismatch(type_, "a numeric element type");
    std::vector<float> out(n_);
    for (uint64_t i = 0; i < n_; ++i) out[i] = float(get_f64(i));
    return out;
}

std::vector<int32_t> Array::to_i32() const {
    if (!is_integer_type(type_)) type_mismatch(type_, "an integer element type");
    std::vector<int32_t> out(n_);
    for (uint64_t i = 0; i < n_; ++i) {
        int64_t v = get_i64(i);
        if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
            fail(Status::bad_format, "array element %" PRIu64 " = %" PRId64 " does not fit in int32", i, v);
        out[i] = int32_t(v);
    }
    return out;
}

// ---- Value ----

int64_t Value::as_i64() const {
    if (!is_integer()) type_mismatch(type_, "an integer");
    return int_to_i64({bits_, is_signed_type(type_)});
}

uint64_t Value::as_u64() const {
    if (!is_integer()) type_mismatch(type_, "an integer");
    return int_to_u64({bits_, is_signed_type(type_)});
}

double Value::as_f64() const {
    if (is_float()) return f_;
    if (is_integer()) return is_signed_type(type_) ? double(int64_t(bits_)) : double(bits_);
    type_mismatch(type_, "a number");
}

bool Value::as_bool() const {
    if (type_ != ValueType::boolean) type_mismatch(type_, "bool");
    return bits_ != 0;
}

std::string_view Value::as_string() const {
    if (type_ != ValueType::string) type_mismatch(type_, "string");
    return str_;
}

const Array& Value::as_array() const {
    if (type_ != ValueType::array) type_mismatch(type_, "array");
    return array_;
}

}  // namespace vks::gguf
