// Hostile GGUF files: every malformation must fail with a typed vks::Error naming what is
// wrong (and where), never crash, hang or allocate by an untrusted size.
#include <doctest/doctest.h>

#include <cstring>
#include <random>

#include "gguf/reader.hpp"
#include "gguf/writer.hpp"
#include "unit/gguf_test_files.hpp"

using namespace vks;
using namespace vks::gguf;
using vks::test::expect_error;

namespace {

template <class T>
void poke(std::vector<uint8_t>& b, size_t at, T v) {
    REQUIRE(at + sizeof v <= b.size());
    std::memcpy(b.data() + at, &v, sizeof v);
}

// Encodes one metadata entry by hand (for encodings the writer's typed adders cannot make).
struct Raw {
    std::vector<uint8_t> b;
    template <class T>
    Raw& put(T v) {
        const auto* p = reinterpret_cast<const uint8_t*>(&v);
        b.insert(b.end(), p, p + sizeof v);
        return *this;
    }
    Raw& str(std::string_view s) {
        put<uint64_t>(s.size());
        b.insert(b.end(), s.begin(), s.end());
        return *this;
    }
};

// Reads everything a consumer could read, so a file that parses is also safe to use.
uint64_t touch_everything(const File& f) {
    uint64_t h = f.version() + f.alignment() + f.data_offset();
    for (const KeyValue& kv : f.metadata()) {
        h += kv.key.size();
        const Value& v = kv.value;
        if (v.is_integer()) {
            try {
                h += uint64_t(v.as_i64());
            } catch (const Error&) {
                h += v.as_u64();
            }
        } else if (v.is_float()) {
            h += uint64_t(v.as_f64() == v.as_f64());
        } else if (v.type() == ValueType::boolean) {
            h += v.as_bool();
        } else if (v.type() == ValueType::string) {
            for (char c : v.as_string()) h += uint8_t(c);
        } else {
            const Array& a = v.as_array();
            for (uint64_t i = 0; i < a.size(); ++i) {
                if (a.type() == ValueType::string) h += a.get_string(i).size();
                else if (a.type() == ValueType::boolean) h += a.get_bool(i);
                else h += uint64_t(a.get_f64(i) != 0.0);
            }
        }
    }
    for (const TensorInfo& t : f.tensors()) {
        h += uint64_t(t.n_elements()) + t.n_bytes;
        for (uint64_t i = 0; i < t.n_bytes; ++i) h += t.data[i];
        CHECK(f.find_tensor(t.name) == &t);
    }
    return h;
}

}  // namespace

TEST_CASE("gguf hostile: the small test file itself is valid") {
    std::vector<uint8_t> bytes = test::small_model_bytes();
    File f = File::from_memory(bytes);
    CHECK(f.tensors().size() == 3);
    CHECK(touch_everything(f) != 0);
}

TEST_CASE("gguf hostile: every truncated prefix fails with bad_format") {
    const std::vector<uint8_t> bytes = test::small_model_bytes();
    CAPTURE(bytes.size());
    int n_failed_cleanly = 0;
    for (size_t len = 0; len < bytes.size(); ++len) {
        CAPTURE(len);
        // An exact-size copy, so a sanitizer build would catch any read past the prefix.
        std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + len);
        try {
            File f = File::from_memory(prefix);
            FAIL("prefix parsed");
        } catch (const Error& e) {
            CHECK(e.status() == Status::bad_format);
            ++n_failed_cleanly;
        }
    }
    CHECK(n_failed_cleanly == int(bytes.size()));
}

TEST_CASE("gguf hostile: header") {
    std::vector<uint8_t> good = test::small_model_bytes();
    auto b = good;
    b[0] = 'X';
    expect_error(b, Status::bad_format, "bad magic");
    b = good;
    poke<uint32_t>(b, 4, 1);
    expect_error(b, Status::unsupported, "version 1");
    b = good;
    poke<uint32_t>(b, 4, 4);
    expect_error(b, Status::unsupported, "version 4");
    b = good;
    poke<uint32_t>(b, 4, 0x03000000u);
    expect_error(b, Status::unsupported, "big-endian");
    b = good;
    poke<uint64_t>(b, 8, 1ull << 60);
    expect_error(b, Status::bad_format, "tensor count");
    b = good;
    poke<uint64_t>(b, 8, ~0ull);
    expect_error(b, Status::bad_format, "tensor count");
    b = good;
    poke<uint64_t>(b, 16, 1ull << 40);
    expect_error(b, Status::bad_format, "metadata count");
    // A plausible but too large count runs into the tensor infos and fails there, not later.
    b = good;
    poke<uint64_t>(b, 16, 9);
    expect_error(b, Status::bad_format, "");
}

TEST_CASE("gguf hostile: strings and keys") {
    std::vector<uint8_t> good = test::small_model_bytes();
    auto b = good;
    poke<uint64_t>(b, 24, 1ull << 62);  // first key's length
    expect_error(b, Status::bad_format, "offset 24");
    b = good;
    poke<uint64_t>(b, 24, ~0ull);
    expect_error(b, Status::bad_format, "runs past the end");
    b = good;
    poke<uint64_t>(b, 24, 0);
    expect_error(b, Status::bad_format, "empty metadata key");

    Writer w;
    w.add_raw_kv(Raw().str("k.s").put<uint32_t>(8).put<uint64_t>(1ull << 50).b);  // string value past end
    expect_error(w.to_bytes(), Status::bad_format, "of key 'k.s'");

    Writer w2;
    w2.add_raw_kv(Raw().str("k.t").put<uint32_t>(13).put<uint32_t>(0).b);
    expect_error(w2.to_bytes(), Status::bad_format, "unknown value type 13");

    Writer w3;
    w3.add_raw_kv(Raw().str("k.b").put<uint32_t>(7).put<uint8_t>(2).b);
    expect_error(w3.to_bytes(), Status::bad_format, "must be 0 or 1");

    Writer w4;
    w4.add_uint32("dup.key", 1);
    w4.add_uint32("dup.key", 2);
    expect_error(w4.to_bytes(), Status::bad_format, "duplicate metadata key 'dup.key'");
}

TEST_CASE("gguf hostile: arrays") {
    Writer nested;
    nested.add_raw_kv(Raw().str("k.n").put<uint32_t>(9).put<uint32_t>(9).put<uint64_t>(1).put<uint32_t>(4)
                          .put<uint64_t>(0).b);
    expect_error(nested.to_bytes(), Status::unsupported, "nested arrays");

    Writer huge_str;
    huge_str.add_raw_kv(Raw().str("k.s").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(1ull << 61).b);
    expect_error(huge_str.to_bytes(), Status::bad_format, "strings cannot fit");

    Writer huge_num;
    huge_num.add_raw_kv(Raw().str("k.u").put<uint32_t>(9).put<uint32_t>(10).put<uint64_t>(1ull << 61).b);
    expect_error(huge_num.to_bytes(), Status::bad_format, "run past the end");

    Writer overflow;  // count * 8 wraps around 2^64
    overflow.add_raw_kv(Raw().str("k.u").put<uint32_t>(9).put<uint32_t>(11).put<uint64_t>((1ull << 61) + 1).b);
    expect_error(overflow.to_bytes(), Status::bad_format, "run past the end");

    Writer bad_elem;
    bad_elem.add_raw_kv(Raw().str("k.e").put<uint32_t>(9).put<uint32_t>(99).put<uint64_t>(0).b);
    expect_error(bad_elem.to_bytes(), Status::bad_format, "unknown element type 99");

    Writer bad_bool;
    bad_bool.add_raw_kv(Raw().str("k.b").put<uint32_t>(9).put<uint32_t>(7).put<uint64_t>(2).put<uint8_t>(1)
                            .put<uint8_t>(5).b);
    expect_error(bad_bool.to_bytes(), Status::bad_format, "bool element 1");

    Writer str_past;  // second string of an array claims more bytes than exist
    str_past.add_raw_kv(Raw().str("k.s").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(2).str("ok")
                            .put<uint64_t>(1000).b);
    expect_error(str_past.to_bytes(), Status::bad_format, "k.s");
}

TEST_CASE("gguf hostile: known keys with the wrong type or value") {
    auto with = [](auto&& add) {
        Writer w;
        w.add_string("general.architecture", "llama");
        add(w);
        return w.to_bytes();
    };
    expect_error(with([](Writer& w) { w.add_string("general.alignment", "32"); }), Status::bad_format,
                 "key 'general.alignment' at offset");
    expect_error(with([](Writer& w) { w.add_uint64("general.alignment", 32); }), Status::bad_format,
                 "has type uint64, expected uint32");
    expect_error(with([](Writer& w) { w.add_uint32("general.alignment", 0); }), Status::bad_format, "power of two");
    expect_error(with([](Writer& w) { w.add_uint32("general.alignment", 48); }), Status::bad_format, "power of two");
    expect_error(with([](Writer& w) { w.add_uint32("general.name", 1); }), Status::bad_format,
                 "'general.name' at offset");
    expect_error(with([](Writer& w) { w.add_string("llama.context_length", "4096"); }), Status::bad_format,
                 "expected an integer");
    expect_error(with([](Writer& w) { w.add_float32("llama.block_count", 30.f); }), Status::bad_format,
                 "llama.block_count");
    expect_error(with([](Writer& w) {
                     std::vector<int32_t> t = {1, 2};
                     w.add_array("tokenizer.ggml.tokens", std::span<const int32_t>(t));
                 }),
                 Status::bad_format, "has type array of int32, expected array of string");
    expect_error(with([](Writer& w) {
                     std::vector<std::string> t = {"a", "b"};
                     std::vector<float> s = {0.f};
                     w.add_string_array("tokenizer.ggml.tokens", t);
                     w.add_array("tokenizer.ggml.scores", std::span<const float>(s));
                 }),
                 Status::bad_format, "has 1 entries");

    Writer arch_wrong;
    arch_wrong.add_uint32("general.architecture", 7);
    expect_error(arch_wrong.to_bytes(), Status::bad_format, "general.architecture");

    // Per-architecture keys of a different architecture are not checked.
    std::vector<uint8_t> other = with([](Writer& w) { w.add_string("qwen2.context_length", "x"); });
    CHECK_NOTHROW(File::from_memory(other));
}

TEST_CASE("gguf hostile: tensor infos") {
    auto one = [](uint32_t type, std::vector<int64_t> ne, size_t n_bytes) {
        Writer w;
        w.add_tensor("t", type, std::move(ne), std::vector<uint8_t>(n_bytes, 0));
        return w.to_bytes();
    };
    expect_error(one(0, {}, 4), Status::bad_format, "n_dims 0");
    expect_error(one(0, {1, 1, 1, 1, 1}, 4), Status::bad_format, "n_dims 5");
    expect_error(one(0, {4, 0}, 0), Status::bad_format, "dimension 1 = 0");
    expect_error(one(0, {-1}, 4), Status::bad_format, "dimension 0");
    expect_error(one(0, {1ll << 40, 1ll << 40}, 4), Status::bad_format, "overflows");
    expect_error(one(28, {1ll << 62}, 8), Status::bad_format, "byte size overflows");  // F64: 2^62 * 8
    expect_error(one(4, {32}, 32), Status::bad_format, "unknown ggml type 4");
    expect_error(one(1000, {32}, 32), Status::bad_format, "unknown ggml type 1000");
    expect_error(one(2, {16}, 18), Status::bad_format, "not a multiple of the Q4_0 block size 32");
    expect_error(one(0, {1024}, 100), Status::bad_format, "runs past the end");  // data shorter than the shape needs

    Writer empty_name;
    empty_name.add_tensor("", 0, {1}, std::vector<uint8_t>(4));
    expect_error(empty_name.to_bytes(), Status::bad_format, "empty tensor name");

    Writer dup;
    dup.add_tensor("same", 0, {8}, std::vector<uint8_t>(32));
    dup.add_tensor("same", 0, {8}, std::vector<uint8_t>(32));
    expect_error(dup.to_bytes(), Status::bad_format, "duplicate tensor name 'same'");
}

TEST_CASE("gguf hostile: tensor data offsets") {
    auto two = [](uint64_t second_offset) {
        Writer w;
        w.add_tensor("first", 0, {16}, std::vector<uint8_t>(64, 1));
        w.add_tensor("second", 0, {16}, std::vector<uint8_t>(64, 2));
        w.override_tensor_offset(1, second_offset);
        return w.to_bytes();
    };
    const std::vector<uint8_t> real = two(64);
    CHECK_NOTHROW(File::from_memory(real));                               // the real layout
    expect_error(two(8), Status::bad_format, "not a multiple of the alignment 32");
    expect_error(two(0), Status::bad_format, "overlap");
    expect_error(two(32), Status::bad_format, "overlap");
    expect_error(two(96), Status::bad_format, "runs past the end");
    expect_error(two(1ull << 40), Status::bad_format, "runs past the end");
    expect_error(two(~0ull - 31), Status::bad_format, "runs past the end");  // offset + size would wrap

    // Data section start past the end of the file.
    Writer w;
    w.add_tensor("t", 0, {1}, std::vector<uint8_t>(4));
    std::vector<uint8_t> b = w.to_bytes();
    uint64_t data_offset = File::from_memory(b).data_offset();
    b.resize(data_offset);
    expect_error(b, Status::bad_format, "past the end");
}

TEST_CASE("gguf hostile: random byte damage never crashes") {
    const std::vector<uint8_t> good = test::small_model_bytes();
    std::mt19937 rng(20240611);
    int n_parsed = 0, n_rejected = 0;
    for (int iter = 0; iter < 4000; ++iter) {
        std::vector<uint8_t> b = good;
        int n_flips = 1 + int(rng() % 4);
        for (int k = 0; k < n_flips; ++k) {
            size_t at = rng() % b.size();
            if (rng() % 2) b[at] ^= uint8_t(1u << (rng() % 8));
            else b[at] = uint8_t(rng());
        }
        if (rng() % 8 == 0) b.resize(rng() % b.size());
        CAPTURE(iter);
        try {
            File f = File::from_memory(b);
            touch_everything(f);
            ++n_parsed;
        } catch (const Error& e) {
            CHECK(std::strlen(e.what()) > 0);
            ++n_rejected;
        }
    }
    MESSAGE("random damage: " << n_parsed << " parsed, " << n_rejected << " rejected");
    CHECK(n_parsed + n_rejected == 4000);
    CHECK(n_rejected > 0);
    CHECK(n_parsed > 0);  // flips inside tensor data or float values keep the file valid
}
