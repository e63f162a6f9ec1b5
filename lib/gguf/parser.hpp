#pragma once
// Internal: the GGUF parser behind File::open / File::from_memory (not a public header).
#include "gguf/reader.hpp"

namespace vks::gguf::detail {

class Parser {
public:
    // Parses and validates f.base_[0, f.size_) into f; throws vks::Error on any defect.
    static void parse(File& f);

private:
    Parser(File& f) : f_(f), base_(f.base_), size_(f.size_) {}
    void run();

    // Cursor helpers: every read is checked against the bytes left.
    void need(uint64_t n, const char* what);
    template <class T>
    T read(const char* what);
    std::string_view read_string(const char* what, const std::string& context);

    void read_kv();
    void read_value(Value& v, ValueType t, const std::string& key);
    void read_array(Array& a, const std::string& key);
    void read_tensor_info();
    void check_known_keys();
    void place_tensors();

    File& f_;
    const uint8_t* base_;
    uint64_t size_;
    uint64_t pos_ = 0;
};

}  // namespace vks::gguf::detail
