#include "kv/cache_types.hpp"

#include <algorithm>

#include "common/error.hpp"

namespace vks::kv {

namespace {

constexpr uint32_t kBlock = 32;  // elements per quant block (along head_dim)

uint32_t round_up4(uint64_t words) { return uint32_t((words + 3) & ~uint64_t(3)); }

}  // namespace

bool is_cache_type(quant::Type t) {
    return t == quant::Type::F16 || t == quant::Type::Q8_0 || t == quant::Type::Q4_0;
}

std::optional<quant::Type> parse_cache_type(std::string_view name) {
    const std::optional<quant::Type> t = quant::parse_type(name);
    if (!t || !is_cache_type(*t)) return std::nullopt;
    return t;
}

void CacheTypes::validate(uint32_t head_dim) const {
    for (quant::Type t : {k, v})
        if (!is_cache_type(t))
            fail(Status::invalid_argument, "kv cache: element type %s is not one of f16, q8_0, q4_0",
                 quant::info(t).name);
    if (quantized() && head_dim % kBlock != 0)
        fail(Status::unsupported, "kv cache: a quantized cache needs head_dim %% 32 == 0 (blocks of 32), got %u",
             head_dim);
    if (hadamard && quantized() && (head_dim & (head_dim - 1)) != 0)
        fail(Status::unsupported, "kv cache: the Hadamard rotation needs head_dim a power of two, got %u", head_dim);
}

std::string describe(const CacheTypes& types) {
    std::string s = strfmt("k %s, v %s", quant::info(types.k).name, quant::info(types.v).name);
    if (types.quantized()) {
        if (types.hadamard) s += ", hadamard";
        if (types.f16_sinks) s += ", f16 sinks";
    }
    return s;
}

RowLayout row_layout(quant::Type type, uint32_t capacity, uint32_t n_sink, uint32_t n_head_kv, uint32_t head_dim,
                     bool f16_sinks) {
    RowLayout l;
    l.type = type;
    l.n_rows = capacity * n_head_kv;
    if (type == quant::Type::F16) {
        l.row_words = head_dim / 2;
        l.words = uint64_t(l.n_rows) * l.row_words;
        return l;
    }
    l.row_words = type == quant::Type::Q8_0 ? head_dim / 4 : head_dim / 8;
    l.scale_words = (head_dim / kBlock + 1) / 2;
    l.scale_offset = round_up4(uint64_t(l.n_rows) * l.row_words);
    l.sink_offset = l.scale_offset + round_up4(uint64_t(l.n_rows) * l.scale_words);
    l.sink_rows = f16_sinks ? n_sink * n_head_kv : 0;
    l.words = uint64_t(l.sink_offset) + round_up4(uint64_t(l.sink_rows) * (head_dim / 2));
    return l;
}

std::vector<RowLayout::Region> RowLayout::regions(uint32_t n_head_kv) const {
    const uint32_t capacity = n_head_kv ? n_rows / n_head_kv : 0;
    std::vector<Region> r;
    r.push_back({0, uint64_t(row_words) * n_head_kv, capacity});
    if (type == quant::Type::F16) return r;
    r.push_back({scale_offset, uint64_t(scale_words) * n_head_kv, capacity});
    if (sink_rows) {
        // f16 rows: the words of one f16 row are twice the q8_0 quant words, four times q4_0's.
        const uint64_t f16_row = type == quant::Type::Q8_0 ? 2ull * row_words : 4ull * row_words;
        r.push_back({sink_offset, f16_row * n_head_kv, sink_rows / n_head_kv});
    }
    return r;
}

uint64_t RowLayout::saved_words(uint32_t n_head_kv, uint32_t n) const {
    uint64_t w = 0;
    for (const Region& r : regions(n_head_kv)) w += std::min(n, r.n_slots) * r.slot_words;
    return w;
}

uint64_t kv_bytes_per_token(const CacheTypes& types, uint32_t n_head_kv, uint32_t head_dim) {
    uint64_t total = 0;
    for (quant::Type t : {types.k, types.v}) {
        const RowLayout l = row_layout(t, 1, 0, 1, head_dim, false);
        total += uint64_t(l.row_words + l.scale_words) * 4 * n_head_kv;
    }
    return total;
}

}  // namespace vks::kv
