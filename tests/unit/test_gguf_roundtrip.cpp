// Writer -> reader round trips: every metadata value type, arrays of every element type,
// several tensors, alignment, v2/v3, file and memory output.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <unistd.h>

#include "gguf/reader.hpp"
#include "gguf/tensor_types.hpp"
#include "gguf/writer.hpp"
#include "unit/gguf_test_files.hpp"

using namespace vks;
using namespace vks::gguf;

namespace {

Writer all_types_writer(uint32_t version) {
    Writer w(version);
    w.add_uint8("t.u8", 200);
    w.add_int8("t.i8", -100);
    w.add_uint16("t.u16", 60000);
    w.add_int16("t.i16", -30000);
    w.add_uint32("t.u32", 4000000000u);
    w.add_int32("t.i32", -2000000000);
    w.add_float32("t.f32", 3.25f);
    w.add_bool("t.bool", true);
    w.add_bool("t.bool_false", false);
    w.add_string("t.str", "héllo\nworld");
    w.add_string("t.empty_str", "");
    w.add_uint64("t.u64", 0xFEDCBA9876543210ull);
    w.add_int64("t.i64", std::numeric_limits<int64_t>::min());
    w.add_float64("t.f64", -1.0 / 3.0);
    std::vector<uint8_t> a_u8 = {0, 1, 255};
    std::vector<int8_t> a_i8 = {-128, 0, 127};
    std::vector<uint16_t> a_u16 = {1, 65535};
    std::vector<int16_t> a_i16 = {-32768, 32767};
    std::vector<uint32_t> a_u32 = {7, 0xFFFFFFFFu};
    std::vector<int32_t> a_i32 = {-5, 5, 1 << 30};
    std::vector<uint64_t> a_u64 = {1ull << 63};
    std::vector<int64_t> a_i64 = {-1, 1ll << 62};
    std::vector<float> a_f32 = {0.5f, -2.0f, 1e30f};
    std::vector<double> a_f64 = {1e-300, 2.5};
    w.add_array("a.u8", std::span<const uint8_t>(a_u8));
    w.add_array("a.i8", std::span<const int8_t>(a_i8));
    w.add_array("a.u16", std::span<const uint16_t>(a_u16));
    w.add_array("a.i16", std::span<const int16_t>(a_i16));
    w.add_array("a.u32", std::span<const uint32_t>(a_u32));
    w.add_array("a.i32", std::span<const int32_t>(a_i32));
    w.add_array("a.u64", std::span<const uint64_t>(a_u64));
    w.add_array("a.i64", std::span<const int64_t>(a_i64));
    w.add_array("a.f32", std::span<const float>(a_f32));
    w.add_array("a.f64", std::span<const double>(a_f64));
    w.add_bool_array("a.bool", {true, false, true});
    std::vector<std::string> strs = {"x", "", "long string with spaces", std::string("nul\0in", 6)};
    w.add_string_array("a.str", strs);
    w.add_array("a.empty", std::span<const float>());
    return w;
}

void check_all_types(const File& f) {
    CHECK(f.get_u32("t.u8") == 200);
    CHECK(f.find("t.u8")->type() == ValueType::uint8);
    CHECK(f.get_i64("t.i8") == -100);
    CHECK(f.get_u32("t.u16") == 60000);
    CHECK(f.get_i64("t.i16") == -30000);
    CHECK(f.get_u32("t.u32") == 4000000000u);
    CHECK(f.get_i64("t.i32") == -2000000000);
    CHECK(f.get_f32("t.f32") == 3.25f);
    CHECK(f.get_bool("t.bool") == true);
    CHECK(f.get_bool("t.bool_false") == false);
    CHECK(f.get_string("t.str") == "héllo\nworld");
    CHECK(f.get_string("t.empty_str").empty());
    CHECK(f.get_u64("t.u64") == 0xFEDCBA9876543210ull);
    CHECK(f.get_i64("t.i64") == std::numeric_limits<int64_t>::min());
    CHECK(f.find("t.f64")->as_f64() == -1.0 / 3.0);

    const Array& u8 = f.get_array("a.u8", ValueType::uint8);
    REQUIRE(u8.size() == 3);
    CHECK(u8.get_u64(2) == 255);
    CHECK(f.get_array("a.i8").get_i64(0) == -128);
    CHECK(f.get_array("a.u16").get_u64(1) == 65535);
    CHECK(f.get_array("a.i16").get_i64(0) == -32768);
    CHECK(f.get_array("a.u32").get_u64(1) == 0xFFFFFFFFu);
    CHECK(f.get_array("a.i32").to_i32() == std::vector<int32_t>{-5, 5, 1 << 30});
    CHECK(f.get_array("a.u64").get_u64(0) == (1ull << 63));
    CHECK(f.get_array("a.i64").get_i64(1) == (1ll << 62));
    CHECK(f.get_array("a.f32", ValueType::float32).to_f32() == std::vector<float>{0.5f, -2.0f, 1e30f});
    CHECK(f.get_array("a.f64").get_f64(0) == 1e-300);
    const Array& b = f.get_array("a.bool", ValueType::boolean);
    CHECK((b.get_bool(0) && !b.get_bool(1) && b.get_bool(2)));
    const Array& s = f.get_array("a.str", ValueType::string);
    REQUIRE(s.size() == 4);
    CHECK(s.get_string(0) == "x");
    CHECK(s.get_string(1).empty());
    CHECK(s.get_string(2) == "long string with spaces");
    CHECK(s.get_string(3) == std::string_view("nul\0in", 6));
    CHECK(s.strings().size() == 4);
    CHECK(f.get_array("a.empty").empty());
    CHECK(f.metadata().size() == 27);
}

}  // namespace

TEST_CASE("gguf: round trip of every metadata value type, v3 and v2") {
    for (uint32_t version : {3u, 2u}) {
        CAPTURE(version);
        std::vector<uint8_t> bytes = all_types_writer(version).to_bytes();
        File f = File::from_memory(bytes);
        CHECK(f.version() == version);
        CHECK(f.alignment() == 32);
        CHECK(f.tensors().empty());
        check_all_types(f);
    }
}

TEST_CASE("gguf: typed lookups report key, actual and expected type") {
    std::vector<uint8_t> bytes = all_types_writer(3).to_bytes();
    File f = File::from_memory(bytes);
    auto status_of = [](auto&& fn) {
        try {
            fn();
        } catch (const Error& e) {
            return std::make_pair(e.status(), std::string(e.what()));
        }
        return std::make_pair(Status::ok, std::string());
    };
    auto [st1, msg1] = status_of([&] { f.get_string("t.u32"); });
    CHECK(st1 == Status::bad_format);
    CHECK(msg1.find("t.u32") != std::string::npos);
    CHECK(msg1.find("uint32") != std::string::npos);
    CHECK(msg1.find("string") != std::string::npos);
    auto [st2, msg2] = status_of([&] { f.get_u32("t.u64"); });  // value too large for u32
    CHECK(st2 == Status::bad_format);
    auto [st3, msg3] = status_of([&] { f.get_u64("t.i8"); });  // negative
    CHECK(st3 == Status::bad_format);
    auto [st4, msg4] = status_of([&] { f.get_array("a.i32", ValueType::string); });
    CHECK(st4 == Status::bad_format);
    CHECK(msg4.find("array of int32") != std::string::npos);
    auto [st5, msg5] = status_of([&] { f.get_string("no.such.key"); });
    CHECK(st5 == Status::bad_format);
    CHECK(msg5.find("no.such.key") != std::string::npos);
    auto [st6, msg6] = status_of([&] { f.get_array("a.u8").get_u64(3); });
    CHECK(st6 == Status::invalid_argument);
    CHECK(f.get_u32_or("no.such.key", 17) == 17);
    CHECK(f.get_f32_or("t.f32", 0.f) == 3.25f);
    CHECK(f.get_string_or("no.such.key", "dflt") == "dflt");
    CHECK(f.find("no.such.key") == nullptr);
}

TEST_CASE("gguf: tensors round trip with data, shapes and aligned offsets") {
    for (uint32_t alignment : {32u, 64u, 1u, 4096u}) {
        CAPTURE(alignment);
        Writer w;
        w.set_alignment(alignment);
        w.add_string("general.architecture", "test");
        struct Spec {
            const char* name;
            uint32_t type;
            std::vector<int64_t> ne;
            size_t n_bytes;
        };
        std::vector<Spec> specs = {
            {"f32", 0, {3, 5}, 3 * 5 * 4},
            {"q4_k", 12, {256, 2}, 2 * 144},
            {"q6_k", 14, {512}, 2 * 210},
            {"q8_0", 8, {32, 1, 3}, 3 * 34},
            {"bf16", 30, {7, 1, 1, 2}, 14 * 2},
            {"q4_1", 3, {64, 3}, 6 * 20},
        };
        for (size_t i = 0; i < specs.size(); ++i)
            w.add_tensor(specs[i].name, specs[i].type, specs[i].ne, test::pattern_bytes(specs[i].n_bytes, uint8_t(i)));
        std::vector<uint8_t> bytes = w.to_bytes();
        File f = File::from_memory(bytes);
        CHECK(f.alignment() == alignment);
        CHECK(f.data_offset() % alignment == 0);
        REQUIRE(f.tensors().size() == specs.size());
        for (size_t i = 0; i < specs.size(); ++i) {
            const TensorInfo& t = f.tensors()[i];
            CAPTURE(specs[i].name);
            CHECK(t.name == specs[i].name);
            CHECK(t.type == specs[i].type);
            CHECK(t.n_dims == specs[i].ne.size());
            int64_t n = 1;
            for (size_t d = 0; d < 4; ++d) {
                int64_t want = d < specs[i].ne.size() ? specs[i].ne[d] : 1;
                CHECK(t.ne[d] == want);
                n *= want;
            }
            CHECK(t.n_elements() == n);
            CHECK(t.n_bytes == specs[i].n_bytes);
            CHECK(t.offset % alignment == 0);
            CHECK(t.data == bytes.data() + f.data_offset() + t.offset);
            std::vector<uint8_t> want = test::pattern_bytes(specs[i].n_bytes, uint8_t(i));
            CHECK(std::memcmp(t.data, want.data(), want.size()) == 0);
            CHECK(f.find_tensor(specs[i].name) == &t);
        }
        CHECK(f.find_tensor("missing") == nullptr);
        CHECK_THROWS_AS(f.get_tensor("missing"), Error);
    }
}

TEST_CASE("gguf: write_file is atomic and File::open maps it") {
    std::string dir = std::filesystem::temp_directory_path().string() + "/vks_gguf_" + std::to_string(::getpid());
    std::filesystem::create_directories(dir);
    std::string path = dir + "/m.gguf";
    Writer w = test::small_model_writer();
    w.write_file(path);
    CHECK(!std::filesystem::exists(path + ".tmp." + std::to_string(::getpid())));
    std::vector<uint8_t> mem = w.to_bytes();
    CHECK(std::filesystem::file_size(path) == mem.size());
    {
        File f = File::open(path);
        CHECK(f.architecture() == "llama");
        CHECK(f.get_string("general.name") == "tiny");
        CHECK(f.get_array("tokenizer.ggml.tokens").get_string(3) == "b");
        REQUIRE(f.tensors().size() == 3);
        // The mapping is owned by the File and survives moves.
        File g = std::move(f);
        const TensorInfo& c = g.get_tensor("c.weight");
        CHECK(std::memcmp(c.data, mem.data() + g.data_offset() + c.offset, c.n_bytes) == 0);
        CHECK(g.bytes().size() == mem.size());
    }
    // Missing path, a directory and an empty file.
    try {
        File::open(dir + "/missing.gguf");
        FAIL("opened a missing file");
    } catch (const Error& e) {
        CHECK(e.status() == Status::io_error);
    }
    try {
        File::open(dir);
        FAIL("opened a directory");
    } catch (const Error& e) {
        CHECK(e.status() == Status::io_error);
    }
    std::string empty = dir + "/empty.gguf";
    std::fclose(std::fopen(empty.c_str(), "wb"));
    try {
        File::open(empty);
        FAIL("opened an empty file");
    } catch (const Error& e) {
        CHECK(e.status() == Status::bad_format);
        CHECK(std::string(e.what()).find(empty) != std::string::npos);
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("gguf: tensor type table sizes") {
    struct Want {
        TensorType t;
        uint32_t block, bytes;
    };
    // Block layouts: Q4_0 = f16 d + 16 bytes; Q8_1 = 2 f16 + 32; Q2_K = 16 scales + 64 quants + 2 f16;
    // Q3_K = 32 hmask + 64 qs + 12 scales + f16; Q4_K = 2 f16 + 12 + 128; Q5_K = Q4_K + 32 qh;
    // Q6_K = 128 ql + 64 qh + 16 scales + f16; Q8_K = f32 d + 256 qs + 16 i16 sums.
    const Want wants[] = {
        {TensorType::f32, 1, 4},      {TensorType::f16, 1, 2},       {TensorType::q4_0, 32, 2 + 16},
        {TensorType::q4_1, 32, 4 + 16}, {TensorType::q5_0, 32, 2 + 4 + 16}, {TensorType::q5_1, 32, 4 + 4 + 16},
        {TensorType::q8_0, 32, 2 + 32}, {TensorType::q8_1, 32, 4 + 32},  {TensorType::q2_k, 256, 16 + 64 + 4},
        {TensorType::q3_k, 256, 32 + 64 + 12 + 2}, {TensorType::q4_k, 256, 4 + 12 + 128},
        {TensorType::q5_k, 256, 4 + 12 + 32 + 128}, {TensorType::q6_k, 256, 128 + 64 + 16 + 2},
        {TensorType::q8_k, 256, 4 + 256 + 32}, {TensorType::bf16, 1, 2}, {TensorType::i8, 1, 1},
        {TensorType::i64, 1, 8},      {TensorType::f64, 1, 8},
    };
    for (const Want& w : wants) {
        const TensorTypeInfo* t = find_tensor_type(uint32_t(w.t));
        REQUIRE(t != nullptr);
        CAPTURE(t->name);
        CHECK(t->block_size == w.block);
        CHECK(t->type_size == w.bytes);
        CHECK(tensor_type_from_name(t->name) == w.t);
    }
    CHECK(find_tensor_type(4) == nullptr);  // retired Q4_2
    CHECK(find_tensor_type(31) == nullptr);
    CHECK(std::string(tensor_type_name(12)) == "Q4_K");
    CHECK(tensor_type_from_name("q6_k") == TensorType::q6_k);
    CHECK(row_size(12, 512) == 288u);
    CHECK(!row_size(12, 100).has_value());
}
