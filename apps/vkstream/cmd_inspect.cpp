// vkstream inspect FILE [--json]: header, every metadata key (long arrays summarized), the
// tensor table and totals by type. The file is fully validated by gguf::File::open first, so a
// bad file gives one error line (from main.cpp) and exit code 1.
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include "commands.hpp"
#include "json.hpp"
#include "common/error.hpp"
#include "gguf/reader.hpp"

namespace vks::cli {

namespace {

using gguf::Array;
using gguf::Value;
using gguf::ValueType;

constexpr uint64_t k_max_array_items = 8;   // items shown per array
constexpr size_t k_max_text_string = 120;   // text mode truncates long strings (chat templates)

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

std::string number(double v, bool is_f32) {
    if (!std::isfinite(v)) return strfmt("%g", v);
    return strfmt(is_f32 ? "%.9g" : "%.17g", v);
}

std::string scalar(const Value& v) {
    switch (v.type()) {
        case ValueType::boolean: return v.as_bool() ? "true" : "false";
        case ValueType::string: return text_string(v.as_string());
        case ValueType::float32: return number(v.as_f64(), true);
        case ValueType::float64: return number(v.as_f64(), false);
        case ValueType::uint64: return strfmt("%" PRIu64, v.as_u64());
        case ValueType::array: return "";
        default: return strfmt("%" PRId64, v.as_i64());  // every other integer fits in int64
    }
}

std::string array_item(const Array& a, uint64_t i) {
    switch (a.type()) {
        case ValueType::boolean: return a.get_bool(i) ? "true" : "false";
        case ValueType::string: return text_string(a.get_string(i));
        case ValueType::float32: return number(a.get_f64(i), true);
        case ValueType::float64: return number(a.get_f64(i), false);
        case ValueType::uint64: return strfmt("%" PRIu64, a.get_u64(i));
        default: return strfmt("%" PRId64, a.get_i64(i));
    }
}

// JSON forms. Floats that are not finite become the strings "nan", "inf", "-inf" (JSON has no
// such numbers); f32 values go through float so they print as their shortest f32 form.
ojson json_number(double v, bool is_f32) {
    if (!std::isfinite(v)) return strfmt("%g", v);
    return is_f32 ? ojson(float(v)) : ojson(v);
}

ojson json_scalar(const Value& v) {
    switch (v.type()) {
        case ValueType::boolean: return v.as_bool();
        case ValueType::string: return v.as_string();
        case ValueType::float32: return json_number(v.as_f64(), true);
        case ValueType::float64: return json_number(v.as_f64(), false);
        case ValueType::uint64: return v.as_u64();
        case ValueType::array: return nullptr;
        default: return v.as_i64();
    }
}

ojson json_array_item(const Array& a, uint64_t i) {
    switch (a.type()) {
        case ValueType::boolean: return a.get_bool(i);
        case ValueType::string: return a.get_string(i);
        case ValueType::float32: return json_number(a.get_f64(i), true);
        case ValueType::float64: return json_number(a.get_f64(i), false);
        case ValueType::uint64: return a.get_u64(i);
        default: return a.get_i64(i);
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
            std::printf("  %-44s %-8s %s\n", key.c_str(), gguf::value_type_name(v.type()), scalar(v).c_str());
            continue;
        }
        const Array& a = v.as_array();
        std::string items;
        uint64_t n_show = a.size() < k_max_array_items ? a.size() : k_max_array_items;
        for (uint64_t i = 0; i < n_show; ++i) items += (i ? ", " : "") + array_item(a, i);
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
    ojson j;
    j["file"] = path;
    j["version"] = f.version();
    j["alignment"] = f.alignment();
    j["data_offset"] = f.data_offset();
    j["file_size"] = f.bytes().size();
    j["architecture"] = f.architecture();
    j["name"] = f.get_string_or("general.name", "");
    ojson& meta = j["metadata"] = ojson::array();
    for (const auto& kv : f.metadata()) {
        const Value& v = kv.value;
        ojson e = {{"key", kv.key}, {"type", gguf::value_type_name(v.type())}};
        if (v.type() != ValueType::array) {
            e["value"] = json_scalar(v);
        } else {
            const Array& a = v.as_array();
            const uint64_t n_show = a.size() < k_max_array_items ? a.size() : k_max_array_items;
            e["element_type"] = gguf::value_type_name(a.type());
            e["length"] = a.size();
            ojson& first = e["first"] = ojson::array();
            for (uint64_t i = 0; i < n_show; ++i) first.push_back(json_array_item(a, i));
        }
        meta.push_back(std::move(e));
    }
    ojson& tensors = j["tensors"] = ojson::array();
    for (const auto& t : f.tensors()) {
        ojson shape = ojson::array();
        for (uint32_t d = 0; d < t.n_dims; ++d) shape.push_back(t.ne[d]);
        tensors.push_back({{"name", t.name}, {"type", gguf::tensor_type_name(t.type)}, {"type_id", t.type},
                           {"shape", std::move(shape)}, {"offset", t.offset}, {"bytes", t.n_bytes}});
    }
    ojson& tot = j["totals"] = ojson::object();
    for (const auto& [name, tt] : totals)
        tot[name] = {{"tensors", tt.n_tensors}, {"bytes", tt.n_bytes}, {"elements", tt.n_elements}};
    std::printf("%s\n", to_json_text(j, 2).c_str());
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
