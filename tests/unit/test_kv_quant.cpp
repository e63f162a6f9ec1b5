// Quantized KV cache, host side: the element-type rules and buffer layout (kv/cache_types.hpp),
// and the CPU reference store/read of one row (ref/kv_quant.hpp) against lib/quant's codecs.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "kv/cache_types.hpp"
#include "quant/quant.hpp"
#include "ref/kv_quant.hpp"
#include "support/test_support.hpp"

using namespace vks;
using quant::Type;

namespace {

// What lib/quant makes of a row: quantize_row + dequantize_row over head_dim (blocks of 32).
std::vector<float> quant_roundtrip(Type t, const std::vector<float>& x) {
    std::vector<uint8_t> bytes(quant::row_bytes(t, int64_t(x.size())));
    std::vector<float> out(x.size());
    quant::quantize_row(t, x.data(), bytes.data(), int64_t(x.size()));
    quant::dequantize_row(t, bytes.data(), out.data(), int64_t(x.size()));
    return out;
}

// f must throw vks::Error with `status` and a message containing `what`.
template <class F>
void check_throws_status(F&& f, Status status, const char* what) {
    try {
        f();
        FAIL("no exception; expected " << what);
    } catch (const Error& e) {
        CHECK(e.status() == status);
        CHECK_MESSAGE(std::string(e.what()).find(what) != std::string::npos, e.what());
    }
}

double rel_rms_error(const std::vector<float>& want, const std::vector<float>& got) {
    double e = 0, n = 0;
    for (size_t i = 0; i < want.size(); ++i) {
        e += (double(want[i]) - got[i]) * (double(want[i]) - got[i]);
        n += double(want[i]) * want[i];
    }
    return std::sqrt(e / n);
}

}  // namespace

TEST_CASE("kv cache types: parse, validate and describe") {
    CHECK(kv::parse_cache_type("f16") == Type::F16);
    CHECK(kv::parse_cache_type("Q8_0") == Type::Q8_0);
    CHECK(kv::parse_cache_type("q4_0") == Type::Q4_0);
    CHECK(!kv::parse_cache_type("q4_1"));  // a GGUF type, but not a cache type
    CHECK(!kv::parse_cache_type("f32"));
    CHECK(!kv::parse_cache_type("int8"));

    kv::CacheTypes t;
    CHECK(!t.quantized());
    CHECK_NOTHROW(t.validate(48));  // f16 needs only even head_dim
    t.k = Type::Q8_0;
    CHECK(t.quantized());
    CHECK_NOTHROW(t.validate(64));
    CHECK_NOTHROW(t.validate(96));  // a multiple of 32 is enough without the rotation
    check_throws_status([&] { t.validate(48); }, Status::unsupported, "head_dim % 32");
    t.hadamard = true;
    check_throws_status([&] { t.validate(96); }, Status::unsupported, "power of two");
    CHECK_NOTHROW(t.validate(256));
    kv::CacheTypes bad;
    bad.v = Type::Q4_1;
    check_throws_status([&] { bad.validate(64); }, Status::invalid_argument, "q4_1");
    t.f16_sinks = true;
    CHECK(kv::describe(t) == "k q8_0, v f16, hadamard, f16 sinks");
}

TEST_CASE("kv cache layout: region offsets, sizes and bytes per token") {
    // SmolLM2's shape: 3 kv heads of 64, 4 + 1020 slots.
    const uint32_t C = 1024, n_kv = 3, d = 64;
    const kv::RowLayout f16 = kv::row_layout(Type::F16, C, 4, n_kv, d, false);
    CHECK(f16.words == uint64_t(C) * n_kv * d / 2);
    CHECK(f16.regions(n_kv).size() == 1);

    const kv::RowLayout q8 = kv::row_layout(Type::Q8_0, C, 4, n_kv, d, false);
    CHECK(q8.row_words == 16);
    CHECK(q8.scale_words == 1);  // two f16 scales in one word
    CHECK(q8.scale_offset == C * n_kv * 16);
    CHECK(q8.scale_offset % 4 == 0);
    CHECK(q8.words == q8.scale_offset + C * n_kv);
    const kv::RowLayout q4 = kv::row_layout(Type::Q4_0, C, 4, n_kv, d, true);
    CHECK(q4.row_words == 8);
    CHECK(q4.sink_rows == 4 * n_kv);
    CHECK(q4.sink_offset % 4 == 0);
    CHECK(q4.words >= uint64_t(q4.sink_offset) + 4 * n_kv * d / 2);
    const auto regions = q4.regions(n_kv);
    REQUIRE(regions.size() == 3);
    CHECK(regions[2].n_slots == 4);
    CHECK(regions[2].slot_words == n_kv * d / 2);
    // A state with 2 cached slots saves 2 slots of quants, scales and f16 sink rows.
    CHECK(q4.saved_words(n_kv, 2) == 2 * (8 + 1 + 32) * n_kv);
    CHECK(q4.saved_words(n_kv, 100) == 100 * (8 + 1) * n_kv + 4 * 32 * n_kv);

    // Bytes per token (K + V, one layer): f16 256 * 3; q8_0 = 34/64 of it (53%); q4_0 18/64 (28%).
    kv::CacheTypes t;
    const uint64_t f16_bytes = kv::kv_bytes_per_token(t, n_kv, d);
    CHECK(f16_bytes == 2 * 128 * n_kv);
    t.k = t.v = Type::Q8_0;
    CHECK(kv::kv_bytes_per_token(t, n_kv, d) * 64 == f16_bytes * 34);
    t.k = t.v = Type::Q4_0;
    CHECK(kv::kv_bytes_per_token(t, n_kv, d) * 64 == f16_bytes * 18);
    // head_dim 32: one scale per row, padded to a word (q8_0 36 of 64 bytes).
    t.k = t.v = Type::Q8_0;
    CHECK(kv::kv_bytes_per_token(t, 1, 32) == 2 * (32 + 4));
}

TEST_CASE("ref kv row: q8_0 and q4_0 store/read equal lib/quant's block codecs") {
    for (uint32_t d : {32u, 64u, 96u, 256u}) {
        for (Type t : {Type::Q8_0, Type::Q4_0}) {
            CAPTURE(d);
            CAPTURE(quant::info(t).name);
            std::vector<float> x = test::random_floats(d, 7 + d, -3, 3);
            x[d / 3] = 40.0f;  // an outlier in one block
            std::vector<float> got(d);
            ref::kv_roundtrip_row(t, d, false, x.data(), got.data());
            const std::vector<float> want = quant_roundtrip(t, x);
            CHECK(test::max_abs_diff(got.data(), want.data(), d) == 0.0);
        }
    }
}

TEST_CASE("ref kv row: rows land in their own slot and head, f16 sinks stay exact") {
    const uint32_t C = 7, n_sink = 2, n_kv = 3, d = 64;
    for (Type t : {Type::F16, Type::Q8_0, Type::Q4_0}) {
        for (bool f16_sinks : {false, true}) {
            CAPTURE(quant::info(t).name);
            CAPTURE(f16_sinks);
            const kv::RowLayout l = kv::row_layout(t, C, n_sink, n_kv, d, f16_sinks);
            std::vector<uint32_t> buf(l.words, 0xdeadbeefu);
            std::vector<std::vector<float>> rows;
            for (uint32_t slot = 0; slot < C; ++slot)
                for (uint32_t hk = 0; hk < n_kv; ++hk) {
                    rows.push_back(test::random_floats(d, 100 + slot * n_kv + hk, -2, 2));
                    ref::kv_store_row(l, n_kv, d, false, slot, hk, rows.back().data(), buf.data());
                }
            std::vector<float> got(d), f16_want(d);
            for (uint32_t slot = 0; slot < C; ++slot)
                for (uint32_t hk = 0; hk < n_kv; ++hk) {
                    const std::vector<float>& x = rows[slot * n_kv + hk];
                    ref::kv_read_row(l, n_kv, d, false, slot, hk, buf.data(), got.data());
                    const bool exact = t == Type::F16 || (f16_sinks && slot < n_sink);
                    const std::vector<float> want = exact ? quant_roundtrip(Type::F16, x) : quant_roundtrip(t, x);
                    CAPTURE(slot);
                    CAPTURE(hk);
                    CHECK(test::max_abs_diff(got.data(), want.data(), d) == 0.0);
                }
        }
    }
    const kv::RowLayout l = kv::row_layout(Type::Q8_0, C, n_sink, n_kv, d, false);
    std::vector<uint32_t> buf(l.words);
    std::vector<float> x(d);
    check_throws_status([&] { ref::kv_store_row(l, n_kv, d, false, C, 0, x.data(), buf.data()); },
                              Status::invalid_argument, "slot");
}

TEST_CASE("ref hadamard: orthonormal, its own inverse, and it tames an outlier for q4_0") {
    for (uint32_t n : {1u, 2u, 32u, 64u, 256u}) {
        CAPTURE(n);
        std::vector<float> x = test::random_floats(n, n, -1, 1), y = x;
        ref::hadamard(y.data(), n);
        double nx = 0, ny = 0;
        for (uint32_t i = 0; i < n; ++i) nx += double(x[i]) * x[i], ny += double(y[i]) * y[i];
        CHECK(ny == doctest::Approx(nx).epsilon(1e-6));
        ref::hadamard(y.data(), n);
        CHECK(test::max_abs_diff(x.data(), y.data(), n) < 1e-6);
    }
    std::vector<float> e(8, 0.0f);
    e[0] = 1.0f;
    ref::hadamard(e.data(), 8);  // the first column of H / sqrt(8): all equal
    for (float v : e) CHECK(v == doctest::Approx(1.0 / std::sqrt(8.0)));
    check_throws_status([] { float z[3]; ref::hadamard(z, 3); }, Status::invalid_argument, "power of two");

    // Gaussian-like rows with one large channel (as K rows have): rotating first lowers q4_0's error.
    const uint32_t d = 64;
    double plain = 0, rotated = 0;
    for (uint32_t r = 0; r < 64; ++r) {
        std::vector<float> x = test::random_floats(d, 500 + r, -1, 1);
        x[5] = 12.0f;
        std::vector<float> a(d), b(d);
        ref::kv_roundtrip_row(Type::Q4_0, d, false, x.data(), a.data());
        ref::kv_roundtrip_row(Type::Q4_0, d, true, x.data(), b.data());
        plain += rel_rms_error(x, a);
        rotated += rel_rms_error(x, b);
    }
    CHECK(rotated < 0.7 * plain);
}

TEST_CASE("ref kv row: storing a row read back from the cache gives the same row (idempotent)") {
    // The attention kernels read the chunk's fresh K/V as they will read them from the ring; a
    // row that went through the cache once must come back unchanged from a second trip.
    const uint32_t d = 64;
    for (Type t : {Type::Q8_0, Type::Q4_0}) {
        for (uint32_t seed = 0; seed < 50; ++seed) {
            std::vector<float> x = test::random_floats(d, 900 + seed, -4, 4), once(d), twice(d);
            ref::kv_roundtrip_row(t, d, false, x.data(), once.data());
            ref::kv_roundtrip_row(t, d, false, once.data(), twice.data());
            CAPTURE(seed);
            CHECK(test::max_abs_diff(once.data(), twice.data(), d) == 0.0);
        }
    }
}
