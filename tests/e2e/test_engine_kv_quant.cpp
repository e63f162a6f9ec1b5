// The GPU engine with a quantized KV cache (q8_0 / q4_0 K and V): against the CPU reference
// forward pass emulating the same cache, chunked prefill against one token at a time, and session
// state that records the cache types.
#include <doctest/doctest.h>

#include <cstring>
#include <random>

#include "engine/session.hpp"
#include "engine/state_format.hpp"
#include "engine_fixtures.hpp"
#include "ref/forward.hpp"

using namespace vks;
using quant::Type;

namespace {

kv::CacheTypes types_of(Type k, Type v, bool f16_sinks = false, bool hadamard = false) {
    kv::CacheTypes t;
    t.k = k;
    t.v = v;
    t.f16_sinks = f16_sinks;
    t.hadamard = hadamard;
    return t;
}

// Rewrites a version 2 state of an f16 cache as the version 1 format (no type fields, slot_bytes
// of one f16 slot instead of the cache bytes): what an older build wrote.
std::vector<uint8_t> as_version_1(const std::vector<uint8_t>& v2, uint64_t slot_bytes, uint32_t n_vocab) {
    std::vector<uint8_t> out(v2.begin(), v2.end() - 8);
    const uint32_t one = 1;
    std::memcpy(out.data() + 8, &one, 4);
    // magic 8, version 4, 5 dims 20, hash 8, n_sink n_window 8; then (version 2 only) the
    // per-layer shapes (u32 n_layer + 8 bytes per layer) and the types (12 bytes), from byte 48.
    uint32_t n_layer;
    std::memcpy(&n_layer, out.data() + 48, 4);
    out.erase(out.begin() + 48, out.begin() + 48 + 4 + 8 * long(n_layer) + 12);
    // ... then n_past, seed, rng text, history, logits, n_slots, and the u64 to replace.
    size_t pos = 48 + 8 + 8;
    uint32_t len;
    std::memcpy(&len, out.data() + pos, 4);
    pos += 4 + len;
    std::memcpy(&len, out.data() + pos, 4);
    pos += 4 + size_t(len) * 4;
    pos += 1 + size_t(n_vocab) * 4 + 4;
    std::memcpy(out.data() + pos, &slot_bytes, 8);
    const uint64_t sum = engine::state_fnv1a(out.data(), out.size());
    out.insert(out.end(), reinterpret_cast<const uint8_t*>(&sum), reinterpret_cast<const uint8_t*>(&sum) + 8);
    return out;
}

// Feeds `tokens` one at a time to an engine session with config `sc` and to a reference session
// emulating its cache; CHECKs every step's logits (NMSE < 1e-4: the device quantizes K/V computed
// in f32, the reference in double before rounding to float, so a value on a rounding boundary may
// take the neighbouring code, NMSE ~1e-6) and returns the worst NMSE against the emulation and
// against an unquantized (f32 history) reference: how far the cache moves the logits.
struct Worst {
    double vs_emulation = 0, vs_exact = 0;
};
Worst compare_with_reference(const std::shared_ptr<engine::Model>& gpu_model, const ref::Model& ref_model,
                             const engine::SessionConfig& sc, const std::vector<int32_t>& tokens) {
    engine::Session s(gpu_model, sc);
    ref::Session r(ref_model, sc.n_sink, sc.n_window);
    r.set_cache_types(sc.cache_types);
    r.set_key_transform(s.key_transform());  // a rotated quantized K: the engine's calibrated map
    if (sc.cache_types.hadamard && sc.cache_types.k != Type::F16) {  // calibrated: not the identity
        const kv::KeyTransform& t = s.key_transform();
        CHECK(t != kv::KeyTransform::identity(t.n_layer, t.n_head_kv, t.head_dim));
    }
    ref::Session exact(ref_model, sc.n_sink, sc.n_window);
    Worst w;
    for (size_t i = 0; i < tokens.size(); ++i) {
        s.feed({&tokens[i], 1});
        const std::vector<float> want = r.forward(tokens[i]);
        const std::vector<float> unquantized = exact.forward(tokens[i]);
        const auto got = s.logits();
        const double e = test::nmse(got.data(), want.data(), want.size());
        w.vs_emulation = std::max(w.vs_emulation, e);
        w.vs_exact = std::max(w.vs_exact, test::nmse(got.data(), unquantized.data(), want.size()));
        CAPTURE(i);
        CHECK(e < 1e-4);
    }
    MESSAGE(kv::describe(sc.cache_types) << ": worst logits NMSE " << w.vs_emulation << " vs the emulating reference, "
                                         << w.vs_exact << " vs an unquantized one");
    return w;
}

// One synthetic model on the device and in the CPU reference.
struct ModelPair {
    std::shared_ptr<engine::Model> gpu;
    std::unique_ptr<ref::Model> ref;
    explicit ModelPair(const std::string& path) : gpu(test::load_model(path)) {
        gguf::File file = gguf::File::open(path);
        ref = std::make_unique<ref::Model>(model::Description::from_gguf(file), file);
    }
};

}  // namespace

TEST_CASE("quantized KV cache: engine logits match the reference forward emulating the cache (ring wraps)") {
    model::SyntheticConfig cfg;
    cfg.weight_type = Type::Q8_0;
    cfg.seed = 41;
    const std::string path = test::synthetic_model_path(cfg, "syn_kvq");
    const ModelPair models(path);
    const auto& gpu_model = models.gpu;
    const ref::Model& ref_model = *models.ref;
    for (const kv::CacheTypes& types : {types_of(Type::Q8_0, Type::Q8_0), types_of(Type::Q4_0, Type::Q4_0),
                                        types_of(Type::Q8_0, Type::Q4_0, true), types_of(Type::Q4_0, Type::Q4_0, false, true)}) {
        CAPTURE(kv::describe(types));
        engine::SessionConfig sc;
        sc.n_sink = 2;
        sc.n_window = 8;  // capacity 10: a 27-token stream wraps twice
        sc.cache_types = types;
        const Worst w = compare_with_reference(gpu_model, ref_model, sc, test::random_tokens(27, cfg.n_vocab, 5));
        // The emulation is what the engine does: closer than the unquantized reference is.
        CHECK(w.vs_emulation < w.vs_exact);
    }
    test::check_no_validation_messages(*gpu_model);
}

// Gemma 3's shape for the rotated cache: neox RoPE, head_dim 256 (16 neox partner groups apart,
// 32 groups over the lanes), sliding-window and global layers. The engine against the reference
// emulating the cache, one token at a time through two ring wraps.
TEST_CASE("quantized KV cache: a rotated q4_0 cache on a gemma3-shaped model matches the reference") {
    model::SyntheticConfig cfg;
    cfg.gemma3 = true;
    cfg.n_embd = 512;
    cfg.n_head = 2;
    cfg.n_head_kv = 1;  // head_dim 256
    cfg.n_ff = 512;
    cfg.weight_type = Type::Q8_0;
    cfg.seed = 43;
    const std::string path = test::synthetic_model_path(cfg, "syn_kvq_gemma3");
    const ModelPair models(path);
    const auto& gpu_model = models.gpu;
    const ref::Model& ref_model = *models.ref;
    for (bool rotate : {false, true}) {
        const kv::CacheTypes types = types_of(Type::Q4_0, Type::Q4_0, false, rotate);
        CAPTURE(kv::describe(types));
        engine::SessionConfig sc;
        sc.n_sink = 2;
        sc.n_window = 8;
        sc.cache_types = types;
        const Worst w = compare_with_reference(gpu_model, ref_model, sc, test::random_tokens(27, cfg.n_vocab, 7));
        CHECK(w.vs_emulation < w.vs_exact);
    }
    test::check_no_validation_messages(*gpu_model);
}

TEST_CASE("quantized KV cache: chunked prefill gives the same logits as one token at a time") {
    model::SyntheticConfig cfg;
    cfg.weight_type = Type::Q8_0;
    cfg.seed = 5;
    auto m = test::load_model(test::synthetic_model_path(cfg, "syn_kvq_chunks"));
    const uint32_t n_sink = 3, n_window = 13;
    const size_t n = 6 * n_window + 3;
    const auto tokens = test::random_tokens(n, cfg.n_vocab, 99);
    for (const kv::CacheTypes& types : {types_of(Type::Q4_0, Type::Q8_0), types_of(Type::Q8_0, Type::Q4_0, true),
                                        types_of(Type::Q4_0, Type::Q4_0, false, true)}) {
        CAPTURE(kv::describe(types));
        engine::SessionConfig sc;
        sc.n_sink = n_sink;
        sc.n_window = n_window;
        sc.cache_types = types;
        engine::Session one(m, sc);
        std::vector<float> per_token;
        for (size_t i = 0; i < n; ++i) {
            one.feed({&tokens[i], 1});
            auto l = one.logits();
            per_token.insert(per_token.end(), l.begin(), l.end());
        }
        for (uint32_t chunk : {7u, 3 * n_window}) {
            CAPTURE(chunk);
            engine::SessionConfig c2 = sc;
            c2.n_batch = chunk;
            engine::Session s(m, c2);
            std::vector<float> all;
            s.feed(tokens, &all);
            REQUIRE(all.size() == per_token.size());
            // Every row a query reads has the cache's precision, chunk or not; what remains is the
            // chunk's matrix product summing in another order than decode's (a K/V value near a
            // rounding boundary may then take the neighbouring code).
            const double e = test::nmse(all.data(), per_token.data(), all.size());
            MESSAGE("chunk " << chunk << ": NMSE vs one at a time " << e);
            CHECK(e < 1e-5);
        }
    }
    test::check_no_validation_messages(*m);
}

TEST_CASE("quantized KV cache: session state round-trips, and other cache types are refused unchanged") {
    model::SyntheticConfig cfg;
    cfg.weight_type = Type::Q4_1;
    auto m = test::load_model(test::synthetic_model_path(cfg, "syn_kvq_state"));
    engine::SessionConfig sc;
    sc.n_sink = 2;
    sc.n_window = 6;
    sc.sampling.temperature = 0.9f;
    sc.sampling.seed = 77;
    const auto run = test::sample_and_feed;
    const std::vector<int32_t> prompt = test::random_tokens(11, cfg.n_vocab, 3);

    engine::SessionConfig q = sc;
    q.cache_types = types_of(Type::Q4_0, Type::Q8_0, true);  // f16 sinks: all three regions saved
    engine::Session a(m, q);
    a.feed(prompt);
    run(a, 5);  // wraps the 8-slot ring
    const std::vector<uint8_t> state = a.save_state();
    const std::vector<int32_t> never_stopped = run(a, 15);
    engine::Session b(m, q);
    b.load_state(state);
    CHECK(b.n_past() == prompt.size() + 5);
    CHECK(run(b, 15) == never_stopped);

    // Another element type (or the same types without f16 sinks) is refused, naming both, and the
    // session is untouched: it still runs a fresh stream, and the state still loads where it fits.
    for (const kv::CacheTypes& other : {kv::CacheTypes{}, types_of(Type::Q4_0, Type::Q8_0, false),
                                        types_of(Type::Q8_0, Type::Q8_0, true)}) {
        CAPTURE(kv::describe(other));
        engine::SessionConfig oc = sc;
        oc.cache_types = other;
        engine::Session c(m, oc);
        try {
            c.load_state(state);
            FAIL("a state with other cache types was accepted");
        } catch (const Error& e) {
            CHECK(e.status() == Status::invalid_argument);
            const std::string msg = e.what();
            CHECK_MESSAGE(msg.find("k q4_0, v q8_0, f16 sinks") != std::string::npos, msg);
            CHECK_MESSAGE(msg.find(kv::describe(other)) != std::string::npos, msg);
        }
        CHECK(c.n_past() == 0);
        c.feed(prompt);
        CHECK(c.n_past() == prompt.size());
    }
    engine::Session again(m, q);
    again.load_state(state);
    CHECK(run(again, 15) == never_stopped);

    // A calibrated rotated cache: the state holds the codes, and a session of the same types
    // recomputes the same key transform at creation, so the restored stream continues exactly.
    engine::SessionConfig rq = sc;
    rq.cache_types = types_of(Type::Q4_0, Type::Q4_0, true, true);
    engine::Session ra(m, rq);
    ra.feed(prompt);
    run(ra, 5);
    const std::vector<uint8_t> rstate = ra.save_state();
    const std::vector<int32_t> r_never_stopped = run(ra, 15);
    engine::Session rb(m, rq);
    CHECK(rb.key_transform() == ra.key_transform());
    rb.load_state(rstate);
    CHECK(run(rb, 15) == r_never_stopped);

    // A version 1 file (f16 only, written before the types were recorded) loads into an f16
    // session and is refused by a quantized one.
    engine::Session f(m, sc);
    f.feed(prompt);
    run(f, 5);
    const model::Description& d = m->desc();
    const std::vector<uint8_t> v1 = as_version_1(f.save_state(), uint64_t(d.n_head_kv) * d.head_dim * 2, d.n_vocab);
    const std::vector<int32_t> f_next = run(f, 10);
    engine::Session g(m, sc);
    g.load_state(v1);
    CHECK(g.n_past() == prompt.size() + 5);
    CHECK(run(g, 10) == f_next);
    engine::Session h(m, q);
    CHECK_THROWS_AS(h.load_state(v1), Error);
    CHECK(h.n_past() == 0);
    test::check_no_validation_messages(*m);
}
