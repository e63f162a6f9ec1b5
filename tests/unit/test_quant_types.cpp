// Type table, name parsing, row sizes and argument errors.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/error.hpp"
#include "quant/quant.hpp"

using namespace vks;
using namespace vks::quant;

TEST_CASE("type table matches the GGUF ids and block sizes") {
    struct Row { uint32_t id; const char* name; uint32_t bs; uint32_t bytes; };
    const Row rows[] = {
        {0, "f32", 1, 4},       {1, "f16", 1, 2},       {2, "q4_0", 32, 18},    {3, "q4_1", 32, 20},
        {6, "q5_0", 32, 22},    {7, "q5_1", 32, 24},    {8, "q8_0", 32, 34},    {9, "q8_1", 32, 36},
        {10, "q2_K", 256, 84},  {11, "q3_K", 256, 110}, {12, "q4_K", 256, 144}, {13, "q5_K", 256, 176},
        {14, "q6_K", 256, 210}, {15, "q8_K", 256, 292}, {30, "bf16", 1, 2},
    };
    for (const Row& r : rows) {
        CAPTURE(r.name);
        const TypeInfo* ti = find_type(r.id);
        REQUIRE(ti != nullptr);
        CHECK(uint32_t(ti->type) == r.id);
        CHECK(std::string(ti->name) == r.name);
        CHECK(ti->block_size == r.bs);
        CHECK(ti->block_bytes == r.bytes);
        CHECK(&info(ti->type) == ti);
    }
    for (uint32_t id : {4u, 5u, 16u, 29u, 31u, 39u, 1000u, 0xffffffffu}) {
        CAPTURE(id);
        CHECK(find_type(id) == nullptr);
    }
}

TEST_CASE("parse_type is case-insensitive and rejects unknown names") {
    CHECK(parse_type("q4_0") == Type::Q4_0);
    CHECK(parse_type("Q4_0") == Type::Q4_0);
    CHECK(parse_type("q4_k") == Type::Q4_K);
    CHECK(parse_type("Q6_K") == Type::Q6_K);
    CHECK(parse_type("F16") == Type::F16);
    CHECK(parse_type("bf16") == Type::BF16);
    CHECK(parse_type("f32") == Type::F32);
    CHECK_FALSE(parse_type("q4").has_value());
    CHECK_FALSE(parse_type("").has_value());
    CHECK_FALSE(parse_type("q4_0 ").has_value());
    CHECK_FALSE(parse_type("iq4_xs").has_value());
}

TEST_CASE("row_bytes: sizes for whole blocks") {
    CHECK(row_bytes(Type::F32, 7) == 28);
    CHECK(row_bytes(Type::F16, 0) == 0);
    CHECK(row_bytes(Type::BF16, 3) == 6);
    CHECK(row_bytes(Type::Q4_0, 64) == 36);
    CHECK(row_bytes(Type::Q8_0, 576) == 18 * 34);
    CHECK(row_bytes(Type::Q4_K, 512) == 288);
    CHECK(row_bytes(Type::Q6_K, 49152) == 192 * 210);
}

static void check_invalid(auto&& fn) {
    try {
        fn();
        FAIL("no exception");
    } catch (const Error& e) {
        CHECK(e.status() == Status::invalid_argument);
        MESSAGE(std::string(e.what()));
    }
}

TEST_CASE("row_bytes / quantize_row / dequantize_row reject bad element counts") {
    check_invalid([] { row_bytes(Type::Q4_0, 33); });
    check_invalid([] { row_bytes(Type::Q4_0, -32); });
    check_invalid([] { row_bytes(Type::F32, -1); });
    check_invalid([] { row_bytes(Type::Q4_K, 128); });
    check_invalid([] { row_bytes(Type::Q2_K, 257); });
    std::vector<float> f(512, 1.0f);
    std::vector<uint8_t> b(4096, 0);
    check_invalid([&] { quantize_row(Type::Q8_0, f.data(), b.data(), 31); });
    check_invalid([&] { dequantize_row(Type::Q6_K, b.data(), f.data(), 300); });
    check_invalid([&] { dequantize_row(Type::Q4_1, b.data(), f.data(), -32); });
    check_invalid([&] { dequantize_row(Type::Q4_1, nullptr, f.data(), 32); });
    check_invalid([] { info(Type(4)); });
    // n = 0 is valid and touches nothing (null buffers allowed).
    CHECK_NOTHROW(dequantize_row(Type::Q4_0, nullptr, nullptr, 0));
    CHECK_NOTHROW(quantize_row(Type::Q4_K, nullptr, nullptr, 0));
}
