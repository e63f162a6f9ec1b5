#pragma once
// A tiny JSON writer for the CLI's --json outputs (objects, arrays, escaped strings).
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace vks::cli {

class Json {
public:
    Json& begin_object() { sep(); out_ += '{'; first_.push_back(true); return *this; }
    Json& end_object() { out_ += '}'; first_.pop_back(); return *this; }
    Json& begin_array() { sep(); out_ += '['; first_.push_back(true); return *this; }
    Json& end_array() { out_ += ']'; first_.pop_back(); return *this; }
    Json& key(const std::string& k) { sep(); str(k); out_ += ':'; after_key_ = true; return *this; }
    Json& value(const std::string& s) { sep(); str(s); return *this; }
    Json& value(const char* s) { return value(std::string(s)); }
    Json& value(bool b) { sep(); out_ += b ? "true" : "false"; return *this; }
    Json& value(double d) {
        sep();
        char buf[64];
        if (d != d || d - d != 0) std::snprintf(buf, sizeof buf, "null");
        else std::snprintf(buf, sizeof buf, "%.17g", d);
        out_ += buf;
        return *this;
    }
    Json& value(uint64_t v) { sep(); out_ += std::to_string(v); return *this; }
    Json& value(int64_t v) { sep(); out_ += std::to_string(v); return *this; }
    Json& value(uint32_t v) { return value(uint64_t(v)); }
    Json& value(int v) { return value(int64_t(v)); }
    template <class T>
    Json& kv(const std::string& k, const T& v) { key(k); return value(v); }
    const std::string& str() const { return out_; }

private:
    void sep() {
        if (after_key_) { after_key_ = false; return; }
        if (!first_.empty()) {
            if (!first_.back()) out_ += ',';
            first_.back() = false;
        }
    }
    void str(const std::string& s) {
        out_ += '"';
        for (unsigned char c : s) {
            switch (c) {
                case '"': out_ += "\\\""; break;
                case '\\': out_ += "\\\\"; break;
                case '\n': out_ += "\\n"; break;
                case '\r': out_ += "\\r"; break;
                case '\t': out_ += "\\t"; break;
                default:
                    if (c < 0x20) {
                        char buf[8];
                        std::snprintf(buf, sizeof buf, "\\u%04x", c);
                        out_ += buf;
                    } else {
                        out_ += char(c);
                    }
            }
        }
        out_ += '"';
    }
    std::string out_;
    std::vector<bool> first_;
    bool after_key_ = false;
};

}  // namespace vks::cli
