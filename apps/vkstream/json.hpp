#pragma once
// The CLI's --json outputs: a small streaming-style builder (begin_object().kv(...).end_object())
// over nlohmann::ordered_json, which does the escaping and number formatting. Keys stay in the
// order they are written. Strings that are not valid UTF-8 come out with U+FFFD in place of the
// bad bytes; NaN and infinities come out as null.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vks::cli {

using ojson = nlohmann::ordered_json;

// Serializes as compact JSON that is valid whatever the strings hold.
inline std::string to_json_text(const ojson& j, int indent = -1) {
    return j.dump(indent, ' ', false, ojson::error_handler_t::replace);
}

class Json {
public:
    Json& begin_object() { return open(ojson::object()); }
    Json& end_object() { return close(); }
    Json& begin_array() { return open(ojson::array()); }
    Json& end_array() { return close(); }
    Json& key(const std::string& k) {
        key_ = k;
        return *this;
    }
    template <class T>
    Json& value(const T& v) {
        put(ojson(v));
        return *this;
    }
    Json& value(double d) {
        put(d != d || d - d != 0 ? ojson(nullptr) : ojson(d));  // NaN, +-inf: null
        return *this;
    }
    Json& value(float f) { return value(double(f)); }
    template <class T>
    Json& kv(const std::string& k, const T& v) {
        key(k);
        return value(v);
    }
    std::string str() const { return to_json_text(root_); }

private:
    void put(ojson v) {
        if (stack_.empty()) root_ = std::move(v);
        else if (stack_.back()->is_array()) stack_.back()->push_back(std::move(v));
        else (*stack_.back())[key_] = std::move(v);
    }
    Json& open(ojson v) {
        ojson* slot;
        if (stack_.empty()) {
            root_ = std::move(v);
            slot = &root_;
        } else if (stack_.back()->is_array()) {
            stack_.back()->push_back(std::move(v));
            slot = &stack_.back()->back();
        } else {
            slot = &((*stack_.back())[key_] = std::move(v));
        }
        stack_.push_back(slot);  // children are added in place: containers are never moved while open
        return *this;
    }
    Json& close() {
        stack_.pop_back();
        return *this;
    }
    ojson root_;
    std::vector<ojson*> stack_;
    std::string key_;
};

}  // namespace vks::cli
