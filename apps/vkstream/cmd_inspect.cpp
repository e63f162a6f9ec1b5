// vkstream inspect FILE [--json]: header, every metadata key (long arrays summarized), the
// tensor table and totals by type. The file is fully validated by gguf::File::open first, so a
// bad file gives one error line (from main.cpp) and exit code 1.
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include "commands.hpp"
#include "common/error.hpp"
#include "gguf/reader.hpp"

namespace vks::cli {

namespace {

using gguf::Array;
using gguf::Value;
using gguf::ValueType;

constexpr uint64_t k_max_array_items = 8;   // items shown per array
constexpr size_t k_max_text_string = 120;   // text mode truncates long strings (chat templates)

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not valid.
size_t utf8_len(std::string_view s, size_t i) {
    auto c = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char b = c(i);
    size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((c(i + k) & 0xC0) != 0x80) return 0;
    if (n == 2 && b < 0xC2) return 0;                                // overlong
    if (n == 3 && b == 0xE0 && c(i + 1) < 0xA0) return 0;            // overlong
    if (n == 3 && b == 0xED && c(i + 1) >= 0xA0) return 0;           // surrogates
    if (n == 4 && (b > 0xF4 || (b == 0xF0 && c(i + 1) < 0x90) || (b == 0xF4 && c(i + 1) >= 0x90))) return 0;
    return n;
}

// JSON string literal; invalid UTF-8 bytes become U+FFFD so the output is always valid JSON.
std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (size_t i = 0; i < s.size();) {
        unsigned char b = static_cast<unsigned char>(s[i]);
        size_t n = utf8_len(s, i);
        if (n == 0) {
            out += "\\ufffd";
            ++i;
            continue;
        }
        if (n > 1) {
            out.append(s.substr(i, n));
            i += n;
            continue;
        }
        switch (b) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (b < 0x20 || b == 0x7F) out += strfmt("\\u%04x", b);
                else out += char(b);
        }
        ++i;
    }
    return out + "\"";
}

// Human-readable quoted string: escapes control bytes and truncates long values.
std::string text_string(std::string_view s) {
    std::string out = "\"";
    size_t shown = s.size() > k_max_text_string ? k_max_text_string : s.size();
    for (size_t i = 0; i < shown; ++i) {
        unsigned char b = static_cast<unsigned char>(s[i]);
        if (b == '\n') out += "\\n";
        else if (b == '"') out += "\\\"";
        else if (b == '\\') out += "\\\\";
        else if (b < 0x20 || b == 0x7F) out += strfmt("\\x%02x", b);
        else out += char(b);
    }
    out += "\"";
    if (shown < s.size()) out += strfmt("... (%zu bytes)", s.size());
    return out;
}

std::string number(double v, bool json, bool is_f32) {
    if (!std::isfinite(v)) return json ? json_string(strfmt("%g", v)) : strfmt("%g", v);
    return strfmt(is_f32 ? "%.9g" : "%.17g", v);
}

std::string scalar(const Value& v, bool json) {
    switch (v.type()) {
        case ValueType::boolean: return v.as_bool() ? "true" : "false";
        case ValueType::string: return json ? json_string(v.as_string()) : text_string(v.as_string());
        case ValueType::float32: return number(v.as_f64(), json, true);
        case ValueType::float64: return number(v.as_f64(), json, false);
        case ValueType::uint64: return strfmt("%" PRIu64, v.as_u64());
        case ValueType::array: return "";
        default: return strfmt("%" PRId64, v.as_i64());  // every other integer fits in int64
    }
}

std::string array_item(const Array& a, uint64_t i, bool json) {
    switch (a.type()) {
        case ValueType::boolean: return a.get_bool(i) ? "true" : "false";
        case ValueType::string: return json ? json_string(a.get_string(i)) : text_string(a.get_string(i));
        case ValueType::float32: return number(a.get_f64(i), json, true);
        case ValueType::float64: return number(a.get_f64(i), json, false);
        case ValueType::uint64: return strfmt("%" PRIu64, a.get_u64(i));
        default: return strfmt("%" PRId64, a.get_i64(i));
    }
}

std::string shape(const gguf::TensorInfo& t, const char* sep) {
    std::string s;
    for (uint32_t d = 0; d < t.n_dims; ++d) s += (d ? sep : "") + strfmt("%" PRId64, t.ne[d]);
    return s;
}

struct TypeTotal {
    uint64_t n_tensors = 0;
    uint64_t n_bytes = 0;
    uint64_t n_elements = 0;
};

void print_text(const std::string& path, const gguf::File& f, const std::map<std::string, TypeTotal>& totals) {
    std::printf("file:         %s\n", path.c_str());
    std::printf("gguf version: %u\nalignment:    %u\ndata offset:  %" PRIu64 "\nfile size:    %zu bytes\n", f.version(),
                f.alignment(), f.data_offset(), f.bytes().size());
    std::printf("architecture: %s\n", text_string(f.architecture()).c_str());
    std::printf("name:         %s\n", text_string(f.get_string_or("general.name", "")).c_str());

    std::printf("\nmetadata (%zu keys):\n", f.metadata().size());
    for (const auto& kv : f.metadata()) {
        const Value& v = kv.value;
        std::string key(kv.key);
        if (v.type() != ValueType::array) {
            std::printf("  %-44s %-8s %s\n", key.c_str(), gguf::value_type_name(v.type()), scalar(v, false).c_str());
            continue;
        }
        const Array& a = v.as_array();
        std::string items;
        uint64_t n_show = a.size() < k_max_array_items ? a.size() : k_max_array_items;
        for (uint64_t i = 0; i < n_show; ++i) items += (i ? ", " : "") + array_item(a, i, false);
        if (n_show < a.size()) items += ", ...";
        std::string type = strfmt("%s[%" PRIu64 "]", gguf::value_type_name(a.type()), a.size());
        std::printf("  %-44s %-8s [%s]\n", key.c_str(), type.c_str(), items.c_str());
    }

    std::printf("\ntensors (%zu):\n", f.tensors().size());
    std::printf("  %-40s %-8s %-24s %14s %12s\n", "name", "type", "shape", "offset", "bytes");
    for (const auto& t : f.tensors())
        std::printf("  %-40s %-8s %-24s %14" PRIu64 " %12" PRIu64 "\n", std::string(t.name).c_str(),
                    gguf::tensor_type_name(t.type), shape(t, " x ").c_str(), t.offset, t.n_bytes);

    std::printf("\ntotals by type:\n");
    TypeTotal all;
    for (const auto& [name, tt] : totals) {
        std::printf("  %-8s %6" PRIu64 " tensors %14" PRIu64 " bytes %14" PRIu64 " elements\n", name.c_str(), tt.n_tensors,
                    tt.n_bytes, tt.n_elements);
        all.n_tensors += tt.n_tensors;
        all.n_bytes += tt.n_bytes;
        all.n_elements += tt.n_elements;
    }
    std::printf("  %-8s %6" PRIu64 " tensors %14" PRIu64 " bytes %14" PRIu64 " elements\n", "all", all.n_tensors,
                all.n_bytes, all.n_elements);
}

void print_json(const std::string& path, const gguf::File& f, const std::map<std::string, TypeTotal>& totals) {
    std::printf("{\n  \"file\": %s,\n  \"version\": %u,\n  \"alignment\": %u,\n  \"data_offset\": %" PRIu64
                ",\n  \"file_size\": %zu,\n",
                json_string(path).c_str(), f.version(), f.alignment(), f.data_offset(), f.bytes().size());
    std::printf("  \"architecture\": %s,\n  \"name\": %s,\n", json_string(f.architecture()).c_str(),
                json_string(f.get_string_or("general.name", "")).c_str());
    std::printf("  \"metadata\": [");
    bool first = true;
    for (const auto& kv : f.metadata()) {
        const Value& v = kv.value;
        std::printf("%s\n    {\"key\": %s, \"type\": \"%s\"", first ? "" : ",", json_string(kv.key).c_str(),
                    gguf::value_type_name(v.type()));
        first = false;
        if (v.type() != ValueType::array) {
            std::printf(", \"value\": %s}", scalar(v, true).c_str());
            continue;
        }
        const Array& a = v.as_array();
        uint64_t n_show = a.size() < k_max_array_items ? a.size() : k_max_array_items;
        std::printf(", \"element_type\": \"%s\", \"length\": %" PRIu64 ", \"first\": [", gguf::value_type_name(a.type()),
                    a.size());
        for (uint64_t i = 0; i < n_show; ++i) std::printf("%s%s", i ? ", " : "", array_item(a, i, true).c_str());
        std::printf("]}");
    }
    std::printf("\n  ],\n  \"tensors\": [");
    first = true;
    for (const auto& t : f.tensors()) {
        std::printf("%s\n    {\"name\": %s, \"type\": \"%s\", \"type_id\": %u, \"shape\": [%s], \"offset\": %" PRIu64
                    ", \"bytes\": %" PRIu64 "}",
                    first ? "" : ",", json_string(t.name).c_str(), gguf::tensor_type_name(t.type), t.type,
                    shape(t, ", ").c_str(), t.offset, t.n_bytes);
        first = false;
    }
    std::printf("\n  ],\n  \"totals\": {");
    first = true;
    for (const auto& [name, tt] : totals) {
        std::printf("%s\n    \"%s\": {\"tensors\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"elements\": %" PRIu64 "}",
                    first ? "" : ",", name.c_str(), tt.n_tensors, tt.n_bytes, tt.n_elements);
        first = false;
    }
    std::printf("\n  }\n}\n");
}

}  // namespace

int cmd_inspect(const Args& args) {
    std::string path;
    bool json = false;
    for (const auto& a : args) {
        if (a == "--json") json = true;
        else if (!a.empty() && a[0] == '-') fail(Status::invalid_argument, "unknown option '%s' (usage: inspect FILE [--json])", a.c_str());
        else if (path.empty()) path = a;
        else fail(Status::invalid_argument, "more than one file given (usage: inspect FILE [--json])");
    }
    if (path.empty()) fail(Status::invalid_argument, "no file given (usage: inspect FILE [--json])");

    gguf::File f = gguf::File::open(path);
    std::map<std::string, TypeTotal> totals;
    for (const auto& t : f.tensors()) {
        TypeTotal& tt = totals[gguf::tensor_type_name(t.type)];
        tt.n_tensors += 1;
        tt.n_bytes += t.n_bytes;
        tt.n_elements += uint64_t(t.n_elements());
    }
    if (json) print_json(path, f, totals);
    else print_text(path, f, totals);
    return 0;
}

}  // namespace vks::cli
