// Session state format: the pure parsing half (no device, no Session), so the fuzzer
// (tests/fuzz/fuzz_session_state.cpp) can run it on its own. The layout is documented in
// engine/session_state.cpp, which writes it.
#include <algorithm>
#include <cstring>
#include <string>

#include "common/error.hpp"
#include "engine/sampler.hpp"
#include "engine/session_state.hpp"
#include "engine/state_format.hpp"

namespace vks::engine {

uint64_t state_fnv1a(const uint8_t* p, size_t n, uint64_t h) {
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

namespace {

using state_format::kMagic;
using state_format::kOldestVersion;
using state_format::kVersion;

// K + V bytes of all layers that a version 2 state holds: layer il saves its first
// layer_slots[il] slots of every region of its K and V layouts.
uint64_t cache_bytes(const StateFingerprint& f, const std::vector<uint32_t>& layer_slots) {
    uint64_t words = 0;
    for (uint32_t il = 0; il < f.n_layer; ++il) {
        const kv::CacheShape sh = f.layer_shape(il);
        for (int kv_i = 0; kv_i < 2; ++kv_i) {
            const std::vector<kv::RowLayout>& given = kv_i == 0 ? f.k_layouts : f.v_layouts;
            const kv::RowLayout l = !given.empty() ? given[il]
                                                   : kv::row_layout(kv_i == 0 ? f.types.k : f.types.v, sh.capacity(),
                                                                    sh.n_sink, f.n_head_kv, f.head_dim, f.types.f16_sinks);
            words += l.saved_words(f.n_head_kv, layer_slots[il]);
        }
    }
    return words * 4;
}

std::string types_text(quant::Type k, quant::Type v, uint32_t flags) {
    kv::CacheTypes t;
    t.k = k;
    t.v = v;
    t.hadamard = (flags & state_format::kFlagHadamard) != 0;
    t.f16_sinks = (flags & state_format::kFlagF16Sinks) != 0;
    return kv::describe(t);
}

struct Reader {
    std::span<const uint8_t> in;
    size_t pos = 0;
    void bytes(void* p, size_t n, const char* what) {
        if (n > in.size() - pos) fail(Status::bad_format, "session state is truncated (reading %s at byte %zu)", what, pos);
        if (n) std::memcpy(p, in.data() + pos, n);  // p may be null for n == 0 (empty vector)
        pos += n;
    }
    template <class T>
    T get(const char* what) {
        T v;
        bytes(&v, sizeof v, what);
        return v;
    }
};

}  // namespace

ParsedState parse_state(std::span<const uint8_t> blob, const StateFingerprint& want) {
    if (blob.size() < 8 + 4 + 8) fail(Status::bad_format, "session state is truncated (%zu bytes)", blob.size());
    Reader r{blob};
    char magic[8];
    r.bytes(magic, 8, "magic");
    if (std::memcmp(magic, kMagic, 8) != 0) fail(Status::bad_format, "not a vkstream session state (bad magic)");
    uint32_t version = r.get<uint32_t>("version");
    if (version < kOldestVersion || version > kVersion)
        fail(Status::unsupported, "session state version %u is not supported (want %u..%u)", version, kOldestVersion,
             kVersion);
    uint64_t sum;
    std::memcpy(&sum, blob.data() + blob.size() - 8, 8);
    if (state_fnv1a(blob.data(), blob.size() - 8) != sum)
        fail(Status::bad_format, "session state checksum mismatch: the file is corrupted or truncated");
    Reader body{blob.first(blob.size() - 8), r.pos};
    const char* names[] = {"n_layer", "n_embd", "n_vocab", "n_head_kv", "head_dim"};
    const uint32_t want_dims[] = {want.n_layer, want.n_embd, want.n_vocab, want.n_head_kv, want.head_dim};
    for (int i = 0; i < 5; ++i) {
        uint32_t got = body.get<uint32_t>(names[i]);
        if (got != want_dims[i])
            fail(Status::invalid_argument, "session state is for another model: %s %u, this model has %u", names[i], got,
                 want_dims[i]);
    }
    if (body.get<uint64_t>("model hash") != want.model_hash)
        fail(Status::invalid_argument, "session state is for another model (tensor table differs)");
    uint32_t n_sink = body.get<uint32_t>("n_sink"), n_window = body.get<uint32_t>("n_window");
    if (n_sink != want.n_sink || n_window != want.n_window)
        fail(Status::invalid_argument, "session state has cache %u+%u, this session %u+%u", n_sink, n_window, want.n_sink,
             want.n_window);
    // Per-layer cache shapes (version 2; version 1 states are of uniform layers).
    if (version >= 2) {
        const uint32_t n_shapes = body.get<uint32_t>("number of layer shapes");
        if (n_shapes != want.n_layer)
            fail(Status::bad_format, "session state: %u layer shapes for %u layers", n_shapes, want.n_layer);
        for (uint32_t il = 0; il < n_shapes; ++il) {
            const uint32_t ls = body.get<uint32_t>("layer n_sink"), lw = body.get<uint32_t>("layer n_window");
            const kv::CacheShape w = want.layer_shape(il);
            if (ls != w.n_sink || lw != w.n_window)
                fail(Status::invalid_argument,
                     "session state has layer %u's cache as %u sinks + %u window, this session %u + %u", il, ls, lw,
                     w.n_sink, w.n_window);
        }
    } else {
        for (uint32_t il = 0; il < want.n_layer; ++il) {
            const kv::CacheShape w = want.layer_shape(il);
            if (w.n_sink != n_sink || w.n_window != n_window)
                fail(Status::invalid_argument,
                     "session state (version 1) has every layer's cache as %u sinks + %u window, this session's "
                     "layer %u has %u + %u", n_sink, n_window, il, w.n_sink, w.n_window);
        }
    }
    // Cache element types: version 1 knew only f16. A quantized cache cannot take f16 rows (or the
    // other way round) without converting them, so another type is refused, not converted.
    uint32_t k_id = uint32_t(quant::Type::F16), v_id = k_id, flags = 0;
    if (version >= 2) {
        k_id = body.get<uint32_t>("k type");
        v_id = body.get<uint32_t>("v type");
        flags = body.get<uint32_t>("cache flags");
    }
    const quant::TypeInfo* kt = quant::find_type(k_id);
    const quant::TypeInfo* vt = quant::find_type(v_id);
    if (!kt || !vt || !kv::is_cache_type(kt->type) || !kv::is_cache_type(vt->type) ||
        (flags & ~(state_format::kFlagHadamard | state_format::kFlagF16Sinks)) != 0)
        fail(Status::bad_format, "session state: unknown cache element types (k %u, v %u, flags %u)", k_id, v_id, flags);
    const uint32_t want_flags = (want.types.hadamard ? state_format::kFlagHadamard : 0u) |
                                (want.types.f16_sinks ? state_format::kFlagF16Sinks : 0u);
    // Flags only matter for quantized types (an f16 cache stores the same bytes either way).
    const bool quantized = kt->type != quant::Type::F16 || vt->type != quant::Type::F16;
    if (kt->type != want.types.k || vt->type != want.types.v || (quantized && flags != want_flags))
        fail(Status::invalid_argument,
             "session state was saved with cache types (%s); this session has (%s): load it into a session "
             "created with the same --cache-type-k / --cache-type-v",
             types_text(kt->type, vt->type, flags).c_str(),
             types_text(want.types.k, want.types.v, want_flags).c_str());
    ParsedState st;
    st.n_past = body.get<uint64_t>("n_past");
    st.seed = body.get<uint64_t>("seed");
    uint32_t rng_len = body.get<uint32_t>("rng length");
    if (rng_len > 1 << 20) fail(Status::bad_format, "session state: rng state of %u bytes", rng_len);
    if (rng_len > body.in.size() - body.pos) fail(Status::bad_format, "session state: rng state longer than the file");
    st.rng.assign(rng_len, '\0');
    body.bytes(st.rng.data(), rng_len, "rng state");
    uint32_t n_hist = body.get<uint32_t>("history length");
    if (n_hist > (body.in.size() - body.pos) / 4) fail(Status::bad_format, "session state: history longer than the file");
    st.history.resize(n_hist);
    body.bytes(st.history.data(), size_t(n_hist) * 4, "history");
    for (int32_t t : st.history)
        if (t < 0 || uint32_t(t) >= want.n_vocab) fail(Status::bad_format, "session state: token id %d out of range", t);
    st.has_logits = body.get<uint8_t>("has_logits") != 0;
    if (uint64_t(want.n_vocab) * 4 > body.in.size() - body.pos)
        fail(Status::bad_format, "session state is truncated (reading logits at byte %zu)", body.pos);
    st.logits.resize(want.n_vocab);
    body.bytes(st.logits.data(), st.logits.size() * 4, "logits");
    st.n_slots = body.get<uint32_t>("n_slots");
    if (st.n_slots != std::min<uint64_t>(st.n_past, want.capacity))
        fail(Status::bad_format, "session state: %u cached slots inconsistent with stream position %llu", st.n_slots,
             (unsigned long long)st.n_past);
    uint64_t kv_bytes = 0;
    for (uint32_t il = 0; il < want.n_layer; ++il)
        st.layer_slots.push_back(uint32_t(std::min<uint64_t>(st.n_past, want.layer_shape(il).capacity())));
    if (version == 1) {
        const uint64_t slot_bytes = body.get<uint64_t>("slot_bytes");
        if (slot_bytes != want.slot_bytes)
            fail(Status::bad_format, "session state: slot size %llu, expected %llu", (unsigned long long)slot_bytes,
                 (unsigned long long)want.slot_bytes);
        for (uint32_t m : st.layer_slots) kv_bytes += uint64_t(m) * slot_bytes * 2;
    } else {
        kv_bytes = body.get<uint64_t>("cache bytes");
        const uint64_t expect = cache_bytes(want, st.layer_slots);
        if (kv_bytes != expect)
            fail(Status::bad_format, "session state: %llu cache bytes, expected %llu", (unsigned long long)kv_bytes,
                 (unsigned long long)expect);
    }
    if (body.in.size() - body.pos != kv_bytes)
        fail(Status::bad_format, "session state: %zu bytes of cache data, expected %llu", body.in.size() - body.pos,
             (unsigned long long)kv_bytes);
    // The sampler state must parse (checked on a scratch sampler; nothing is committed here).
    Sampler probe(SamplerParams{});
    probe.set_rng_state(st.rng);
    st.kv = body.in.subspan(body.pos);
    return st;
}

}  // namespace vks::engine
