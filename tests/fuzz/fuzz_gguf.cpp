// libFuzzer target for the GGUF reader: any input must either parse into a File whose every
// accessor is safe to call, or throw vks::Error. Crashes, sanitizer reports, hangs and huge
// allocations (libFuzzer's -malloc_limit_mb) are bugs.
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/error.hpp"
#include "gguf/reader.hpp"

namespace {

using namespace vks::gguf;

uint64_t touch_value(const Value& v) {
    uint64_t h = uint64_t(v.type());
    try {
        switch (v.type()) {
            case ValueType::string: return h + v.as_string().size();
            case ValueType::boolean: return h + v.as_bool();
            case ValueType::float32:
            case ValueType::float64: return h + uint64_t(v.as_f64() > 0);
            case ValueType::array: {
                const Array& a = v.as_array();
                for (uint64_t i = 0; i < a.size(); ++i) {
                    if (a.type() == ValueType::string) h += a.get_string(i).size();
                    else if (a.type() == ValueType::boolean) h += a.get_bool(i);
                    else h += uint64_t(a.get_f64(i) > 0);
                }
                if (a.type() != ValueType::string && a.type() != ValueType::boolean) {
                    h += a.to_f32().size();
                    h += a.to_i32().size();  // throws for floats or out-of-range values
                }
                return h;
            }
            default: return h + v.as_u64() + uint64_t(v.as_i64());  // one of them may throw
        }
    } catch (const vks::Error&) {
        return h;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        File f = File::from_memory(std::span<const uint8_t>(data, size));
        uint64_t h = f.version() + f.alignment() + f.data_offset() + f.bytes().size();
        for (const KeyValue& kv : f.metadata()) {
            h += kv.key.size() + touch_value(kv.value);
            if (f.find(kv.key) == nullptr) __builtin_trap();  // every key must be findable
        }
        // Typed lookups of the keys a model loader asks for.
        for (const char* key : {"general.architecture", "general.name", "llama.context_length", "llama.block_count",
                                "tokenizer.ggml.tokens", "tokenizer.ggml.scores", "general.alignment"}) {
            try {
                h += f.get_string(key).size();
            } catch (const vks::Error&) {
            }
            try {
                h += f.get_u32(key) + f.get_u64(key) + uint64_t(f.get_i64(key)) + uint64_t(f.get_f32(key) > 0);
            } catch (const vks::Error&) {
            }
            try {
                h += f.get_array(key).size();
            } catch (const vks::Error&) {
            }
        }
        for (const TensorInfo& t : f.tensors()) {
            if (f.find_tensor(t.name) != &t) __builtin_trap();
            if (t.data < data || t.data + t.n_bytes > data + size) __builtin_trap();
            h += uint64_t(t.n_elements()) + t.n_bytes;
            if (t.n_bytes > 0) h += t.data[0] + t.data[t.n_bytes - 1];  // first and last byte are readable
        }
        volatile uint64_t sink = h;
        (void)sink;
    } catch (const vks::Error&) {
        // Rejected input: the expected outcome for most mutations.
    }
    return 0;
}
