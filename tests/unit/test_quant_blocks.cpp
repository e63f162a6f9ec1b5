// Hand-built GGUF blocks with known decoded values, one test per type.
//
// Each test writes the block bytes itself (byte offsets taken from the GGUF layout, not from
// lib/quant's structs) and computes the expected value of every element from the format's
// formula. The bit packers here are written "byte-first" (for each byte, which elements does
// it hold?), the opposite direction from the library's "element-first" code, so a shared
// misunderstanding would have to be made twice in two different shapes. The single-bit tests
// pin individual positions with literal numbers.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "quant/quant.hpp"

using namespace vks::quant;

namespace {

void put_u16(std::vector<uint8_t>& b, size_t off, uint16_t v) {
    b[off] = uint8_t(v & 0xff);
    b[off + 1] = uint8_t(v >> 8);
}

std::vector<float> decode(Type t, const std::vector<uint8_t>& bytes) {
    const int64_t n = int64_t(bytes.size() / info(t).block_bytes) * info(t).block_size;
    REQUIRE(row_bytes(t, n) == bytes.size());
    std::vector<float> out(size_t(n), -12345.0f);
    dequantize_row(t, bytes.data(), out.data(), n);
    return out;
}

// Compares every element exactly; reports the first few mismatches with their index.
void check_exact(const std::vector<float>& got, const std::vector<float>& want) {
    REQUIRE(got.size() == want.size());
    int n_bad = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        if (got[i] != want[i]) {
            if (++n_bad <= 5) {
                CAPTURE(i);
                CHECK(got[i] == want[i]);
            }
        }
    }
    CHECK(n_bad == 0);
}

constexpr uint16_t k_half_1 = 0x3c00, k_half_0_5 = 0x3800, k_half_0_25 = 0x3400, k_half_m1 = 0xbc00,
                   k_half_2 = 0x4000;

// Legacy 4-bit quants for element e of a 32-block from byte j: low nibble -> e = j, high -> e = j + 16.
void pack_legacy_nibbles(const int* q, uint8_t* qs) {
    for (int j = 0; j < 16; ++j) qs[j] = uint8_t(q[j] | (q[16 + j] << 4));
}

}  // namespace

TEST_CASE("hand-built F32 / F16 / BF16 rows") {
    std::vector<uint8_t> f32(8);
    const float a = 1.5f, b = -1e-3f;
    std::memcpy(f32.data(), &a, 4);
    std::memcpy(f32.data() + 4, &b, 4);
    check_exact(decode(Type::F32, f32), {1.5f, -1e-3f});

    std::vector<uint8_t> f16 = {0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0xff, 0x7b};
    check_exact(decode(Type::F16, f16), {1.0f, -2.0f, 5.9604644775390625e-8f, 65504.0f});

    std::vector<uint8_t> bf16 = {0x80, 0x3f, 0xc0, 0x3f, 0xa0, 0xc0};
    check_exact(decode(Type::BF16, bf16), {1.0f, 1.5f, -5.0f});
}

TEST_CASE("hand-built Q4_0 block: d = 0.5, x = d * (q - 8)") {
    std::vector<uint8_t> blk(18);
    put_u16(blk, 0, k_half_0_5);
    int q[32];
    for (int e = 0; e < 32; ++e) q[e] = (e * 7 + 3) % 16;
    pack_legacy_nibbles(q, blk.data() + 2);
    std::vector<float> want(32);
    for (int e = 0; e < 32; ++e) want[e] = 0.5f * float(q[e] - 8);
    check_exact(decode(Type::Q4_0, blk), want);
}

TEST_CASE("hand-built Q4_1 block: d = 0.5, m = -1, x = d * q + m") {
    std::vector<uint8_t> blk(20);
    put_u16(blk, 0, k_half_0_5);
    put_u16(blk, 2, k_half_m1);
    int q[32];
    for (int e = 0; e < 32; ++e) q[e] = (e * 5 + 1) % 16;
    pack_legacy_nibbles(q, blk.data() + 4);
    std::vector<float> want(32);
    for (int e = 0; e < 32; ++e) want[e] = 0.5f * float(q[e]) - 1.0f;
    check_exact(decode(Type::Q4_1, blk), want);
}

TEST_CASE("hand-built Q5_0 / Q5_1 blocks: fifth bit of element e is bit e of the LE u32 qh") {
    const uint32_t qh = 0xa5c3f00fu;
    int q[32];
    for (int e = 0; e < 32; ++e) q[e] = ((e * 3 + 1) % 16) | int(((qh >> e) & 1) << 4);
    int low[32];
    for (int e = 0; e < 32; ++e) low[e] = q[e] & 15;

    std::vector<uint8_t> b0(22);
    put_u16(b0, 0, k_half_0_25);
    b0[2] = 0x0f; b0[3] = 0xf0; b0[4] = 0xc3; b0[5] = 0xa5;  // qh little-endian
    pack_legacy_nibbles(low, b0.data() + 6);
    std::vector<float> want0(32);
    for (int e = 0; e < 32; ++e) want0[e] = 0.25f * float(q[e] - 16);
    check_exact(decode(Type::Q5_0, b0), want0);

    std::vector<uint8_t> b1(24);
    put_u16(b1, 0, k_half_0_25);
    put_u16(b1, 2, k_half_2);
    b1[4] = 0x0f; b1[5] = 0xf0; b1[6] = 0xc3; b1[7] = 0xa5;
    pack_legacy_nibbles(low, b1.data() + 8);
    std::vector<float> want1(32);
    for (int e = 0; e < 32; ++e) want1[e] = 0.25f * float(q[e]) + 2.0f;
    check_exact(decode(Type::Q5_1, b1), want1);
}

TEST_CASE("Q5_0 single bits: qh bit 20 -> element 20 only and nibble order") {
    std::vector<uint8_t> blk(22, 0);
    put_u16(blk, 0, k_half_1);
    blk[2 + 2] = 0x10;   // qh byte 2, bit 4 = qh bit 20
    blk[6 + 3] = 0x50;   // qs[3]: low nibble 0 (element 3), high nibble 5 (element 19)
    std::vector<float> want(32, -16.0f);
    want[20] = 0.0f;
    want[19] = -11.0f;
    check_exact(decode(Type::Q5_0, blk), want);
}

TEST_CASE("hand-built Q8_0 / Q8_1 blocks: x = d * q (Q8_1's s is not used to decode)") {
    std::vector<uint8_t> b0(34), b1(36);
    put_u16(b0, 0, k_half_0_5);
    put_u16(b1, 0, k_half_0_5);
    put_u16(b1, 2, 0x1234);  // s: arbitrary, must not affect values
    std::vector<float> want(32);
    for (int e = 0; e < 32; ++e) {
        const int q = e * 8 - 128;  // -128 .. 120
        b0[2 + e] = uint8_t(int8_t(q));
        b1[4 + e] = uint8_t(int8_t(q));
        want[e] = 0.5f * float(q);
    }
    check_exact(decode(Type::Q8_0, b0), want);
    check_exact(decode(Type::Q8_1, b1), want);
}

// ---- K-quants -------------------------------------------------------------------------------
// 2-bit planes used by Q2_K and Q3_K: byte qs[32h + l] holds, at bit 2k, element 128h + 32k + l.
static void pack_2bit_planes(const int* q2, uint8_t* qs) {
    for (int byte = 0; byte < 64; ++byte) {
        const int h = byte / 32, l = byte % 32;
        uint8_t v = 0;
        for (int k = 0; k < 4; ++k) v |= uint8_t((q2[128 * h + 32 * k + l] & 3) << (2 * k));
        qs[byte] = v;
    }
}

TEST_CASE("hand-built Q2_K block: scales low nibble / mins high nibble, d = 0.5, dmin = 0.25") {
    std::vector<uint8_t> blk(84);
    int sc[16], mn[16];
    for (int j = 0; j < 16; ++j) {
        sc[j] = (j * 7 + 2) % 16;
        mn[j] = (j * 5 + 15) % 16;
        blk[j] = uint8_t(sc[j] | (mn[j] << 4));
    }
    int q[256];
    for (int e = 0; e < 256; ++e) q[e] = (e * 3 + e / 7) % 4;
    pack_2bit_planes(q, blk.data() + 16);
    put_u16(blk, 80, k_half_0_5);
    put_u16(blk, 82, k_half_0_25);
    std::vector<float> want(256);
    for (int e = 0; e < 256; ++e) want[e] = 0.5f * float(sc[e / 16]) * float(q[e]) - 0.25f * float(mn[e / 16]);
    check_exact(decode(Type::Q2_K, blk), want);
}

TEST_CASE("Q2_K single bits: qs[40] bits 2..3 -> element 168") {
    std::vector<uint8_t> blk(84, 0);
    for (int j = 0; j < 16; ++j) blk[j] = 0x01;  // scale 1, min 0
    blk[16 + 40] = 0x0c;                        // h = 1, l = 8, k = 1 -> e = 128 + 32 + 8
    put_u16(blk, 80, k_half_1);
    std::vector<float> want(256, 0.0f);
    want[168] = 3.0f;
    check_exact(decode(Type::Q2_K, blk), want);
}

// Q3_K / Q4_K 12-byte scale packers written from the byte side.
static void pack_q3k_scales(const int* u /* 16 values 0..63 */, uint8_t* s) {
    for (int b = 0; b < 8; ++b) s[b] = uint8_t((u[b] & 15) | ((u[b + 8] & 15) << 4));
    for (int b = 0; b < 4; ++b)
        s[8 + b] = uint8_t((u[b] >> 4) | ((u[b + 4] >> 4) << 2) | ((u[b + 8] >> 4) << 4) | ((u[b + 12] >> 4) << 6));
}

static void pack_k4_scales(const int* sc, const int* mn /* 8 values 0..63 each */, uint8_t* s) {
    for (int b = 0; b < 4; ++b) {
        s[b] = uint8_t(sc[b] | ((sc[b + 4] >> 4) << 6));
        s[b + 4] = uint8_t(mn[b] | ((mn[b + 4] >> 4) << 6));
        s[b + 8] = uint8_t((sc[b + 4] & 15) | ((mn[b + 4] & 15) << 4));
    }
}

TEST_CASE("hand-built Q3_K block: signed 6-bit scales, hmask high bit, d = 0.5") {
    std::vector<uint8_t> blk(110);
    const int scale[16] = {-32, 31, -1, 0, 1, 5, -7, 12, 20, -20, 9, -9, 2, -2, 30, -31};
    int u[16];
    for (int j = 0; j < 16; ++j) u[j] = scale[j] + 32;
    int q[256];  // -4..3
    for (int e = 0; e < 256; ++e) q[e] = (e * 5 + e / 9) % 8 - 4;
    int low[256];
    for (int e = 0; e < 256; ++e) low[e] = (q[e] + 4) & 3;
    for (int l = 0; l < 32; ++l) {  // hmask[l], bit 4h + k <-> element 128h + 32k + l
        uint8_t v = 0;
        for (int bit = 0; bit < 8; ++bit) v |= uint8_t(((q[32 * bit + l] + 4) >> 2) << bit);
        blk[l] = v;
    }
    pack_2bit_planes(low, blk.data() + 32);
    pack_q3k_scales(u, blk.data() + 96);
    put_u16(blk, 108, k_half_0_5);
    std::vector<float> want(256);
    for (int e = 0; e < 256; ++e) want[e] = 0.5f * float(scale[e / 16]) * float(q[e]);
    check_exact(decode(Type::Q3_K, blk), want);
}

TEST_CASE("Q3_K single bits: hmask[5] bit 6 -> element 197 and scale 15 high bits in byte 11") {
    std::vector<uint8_t> blk(110, 0);
    // All scales u = 33 (value +1): low nibbles 1, high bits 10b -> each byte of s[8..11] = 0xaa.
    for (int b = 0; b < 8; ++b) blk[96 + b] = 0x11;
    for (int b = 8; b < 12; ++b) blk[96 + b] = 0xaa;
    blk[96 + 11] = 0x2a;  // scale 15's high bits (bits 6..7 of byte 11) = 0 -> u = 1, value -31
    blk[5] = 0x40;        // h = 1, k = 2, l = 5 -> element 128 + 64 + 5 = 197
    put_u16(blk, 108, k_half_1);
    std::vector<float> want(256, -4.0f);  // low bits 0, high bit clear -> q = -4, scale +1
    want[197] = 0.0f;                      // high bit set -> q = 0
    for (int e = 240; e < 256; ++e) want[e] = -4.0f * -31.0f;
    check_exact(decode(Type::Q3_K, blk), want);
}

TEST_CASE("hand-built Q4_K block: 6-bit scales/mins packing, d = 0.5, dmin = 0.25") {
    std::vector<uint8_t> blk(144);
    const int sc[8] = {1, 63, 17, 32, 5, 48, 33, 2};
    const int mn[8] = {0, 7, 63, 40, 16, 1, 31, 50};
    put_u16(blk, 0, k_half_0_5);
    put_u16(blk, 2, k_half_0_25);
    pack_k4_scales(sc, mn, blk.data() + 4);
    int q[256];
    for (int e = 0; e < 256; ++e) q[e] = (e * 11 + e / 5) % 16;
    for (int byte = 0; byte < 128; ++byte) {  // qs[32c + l]: low = element 64c + l, high = 64c + 32 + l
        const int c = byte / 32, l = byte % 32;
        blk[16 + byte] = uint8_t(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
    }
    std::vector<float> want(256);
    for (int e = 0; e < 256; ++e) want[e] = 0.5f * float(sc[e / 32]) * float(q[e]) - 0.25f * float(mn[e / 32]);
    check_exact(decode(Type::Q4_K, blk), want);
}

TEST_CASE("hand-built Q5_K block: Q4_K layout plus qh, d = 0.5, dmin = 0.25") {
    std::vector<uint8_t> blk(176);
    const int sc[8] = {63, 1, 2, 33, 47, 16, 31, 8};
    const int mn[8] = {63, 0, 9, 17, 32, 60, 3, 48};
    put_u16(blk, 0, k_half_0_5);
    put_u16(blk, 2, k_half_0_25);
    pack_k4_scales(sc, mn, blk.data() + 4);
    int q[256];
    for (int e = 0; e < 256; ++e) q[e] = (e * 13 + e / 3) % 32;
    for (int l = 0; l < 32; ++l) {  // qh[l] bit s <-> element 32s + l
        uint8_t v = 0;
        for (int s = 0; s < 8; ++s) v |= uint8_t((q[32 * s + l] >> 4) << s);
        blk[16 + l] = v;
    }
    for (int byte = 0; byte < 128; ++byte) {
        const int c = byte / 32, l = byte % 32;
        blk[48 + byte] = uint8_t((q[64 * c + l] & 15) | ((q[64 * c + 32 + l] & 15) << 4));
    }
    std::vector<float> want(256);
    for (int e = 0; e < 256; ++e) want[e] = 0.5f * float(sc[e / 32]) * float(q[e]) - 0.25f * float(mn[e / 32]);
    check_exact(decode(Type::Q5_K, blk), want);
}

TEST_CASE("Q5_K single bits: qh[3] bit 2 -> element 67 and scale 4 from byte 8 and byte 0 bits 6..7") {
    std::vector<uint8_t> blk(176, 0);
    put_u16(blk, 0, k_half_1);
    put_u16(blk, 2, k_half_1);
    for (int b = 0; b < 4; ++b) blk[4 + b] = 1;  // sc 0..3 = 1, mins 0..3 = 0
    blk[4 + 8] = 0x31;                         // sc 4 low = 1, min 4 low = 3
    blk[4 + 0] |= 0x40;                        // sc 4 high bits = 1 -> sc 4 = 17
    for (int b = 9; b < 12; ++b) blk[4 + b] = 0x01;  // sc 5..7 = 1, mins 0
    blk[16 + 3] = 0x04;  // qh[3] bit 2 -> element 2*32 + 3 = 67
    std::vector<float> want(256, 0.0f);
    want[67] = 16.0f;
    for (int e = 128; e < 160; ++e) want[e] = -3.0f;  // sub-block 4: q = 0, min 3
    check_exact(decode(Type::Q5_K, blk), want);
}

TEST_CASE("hand-built Q6_K block: int8 scales, ql/qh split, d = 0.5") {
    std::vector<uint8_t> blk(210);
    const int scale[16] = {-128, 127, -1, 0, 1, 100, -50, 3, 64, -64, 17, -17, 2, -3, 90, -90};
    int q[256];  // -32..31
    for (int e = 0; e < 256; ++e) q[e] = (e * 29 + e / 11) % 64 - 32;
    for (int byte = 0; byte < 128; ++byte) {  // ql[64h + 32j + l]: low = 128h + 32j + l, high = +64
        const int h = byte / 64, j = (byte % 64) / 32, l = byte % 32;
        const int e_low = 128 * h + 32 * j + l, e_high = e_low + 64;
        blk[byte] = uint8_t(((q[e_low] + 32) & 15) | (((q[e_high] + 32) & 15) << 4));
    }
    for (int byte = 0; byte < 64; ++byte) {  // qh[32h + l] bits 2k <-> element 128h + 32k + l
        const int h = byte / 32, l = byte % 32;
        uint8_t v = 0;
        for (int k = 0; k < 4; ++k) v |= uint8_t(((q[128 * h + 32 * k + l] + 32) >> 4) << (2 * k));
        blk[128 + byte] = v;
    }
    for (int j = 0; j < 16; ++j) blk[192 + j] = uint8_t(int8_t(scale[j]));
    put_u16(blk, 208, k_half_0_5);
    std::vector<float> want(256);
    for (int e = 0; e < 256; ++e) want[e] = 0.5f * float(scale[e / 16]) * float(q[e]);
    check_exact(decode(Type::Q6_K, blk), want);
}

TEST_CASE("Q6_K single bits: qh[39] bits 4..5 -> element 199, ql[100] high nibble -> element 228") {
    std::vector<uint8_t> blk(210, 0);
    for (int j = 0; j < 16; ++j) blk[192 + j] = 1;
    put_u16(blk, 208, k_half_1);
    blk[128 + 39] = 0x30;  // h = 1, l = 7, k = 2 -> element 128 + 64 + 7
    blk[100] = 0x90;       // h = 1, j = 1, l = 4: high nibble -> element 128 + 32 + 4 + 64 = 228
    std::vector<float> want(256, -32.0f);
    want[199] = 16.0f;
    want[228] = -23.0f;
    check_exact(decode(Type::Q6_K, blk), want);
}

TEST_CASE("hand-built Q8_K block: f32 d, int8 quants") {
    std::vector<uint8_t> blk(292, 0);
    const float d = 0.25f;
    std::memcpy(blk.data(), &d, 4);
    std::vector<float> want(256);
    for (int e = 0; e < 256; ++e) {
        const int q = (e * 3) % 256 - 128;
        blk[4 + e] = uint8_t(int8_t(q));
        want[e] = 0.25f * float(q);
    }
    check_exact(decode(Type::Q8_K, blk), want);
}
