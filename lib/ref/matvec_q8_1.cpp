#include "ref/matvec_q8_1.hpp"

#include <cstring>

#include "common/error.hpp"
#include "quant/block_formats.hpp"
#include "quant/fp16.hpp"

namespace vks::ref {

namespace {

using quant::Type;
using namespace quant::detail;
using quant::fp16::f16_to_f32;

// One 32-element weight block as integers q[32] and its affine factors: w = a[i / 16] * q + b
// (a[0] == a[1] except for Q6_K, whose scales are per 16 elements).
struct IntBlock {
    int q[32];
    float a[2], b;
};

// Q4_K / Q5_K: 6-bit scale and min of sub-block j (0..7) from the 12 packed scale bytes.
void k4_scale_min(const uint8_t* s, int j, int* sc, int* m) {
    if (j < 4) {
        *sc = s[j] & 63, *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0xf) | ((s[j - 4] >> 6) << 4);
        *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

// Sub-block j (elements 32j .. 32j + 31) of a K-quant super-block.
IntBlock decode_k(Type t, const uint8_t* src, int j) {
    IntBlock o{};
    switch (t) {
        case Type::Q4_K:
        case Type::Q5_K: {
            // Elements 64c + r: byte r % 32 of qs chunk c, low nibble for r < 32, high above;
            // Q5_K adds bit j of qh[l] as bit 4.
            uint16_t d16, dmin16;
            std::memcpy(&d16, src, 2);
            std::memcpy(&dmin16, src + 2, 2);
            const uint8_t* scales = src + 4;
            const uint8_t* qh = t == Type::Q5_K ? src + 16 : nullptr;
            const uint8_t* qs = src + (t == Type::Q5_K ? 48 : 16);
            for (int l = 0; l < 32; ++l) {
                const uint8_t byte = qs[32 * (j / 2) + l];
                o.q[l] = (j % 2 == 0) ? (byte & 0xf) : (byte >> 4);
                if (qh) o.q[l] |= ((qh[l] >> j) & 1) << 4;
            }
            int sc, m;
            k4_scale_min(scales, j, &sc, &m);
            o.a[0] = o.a[1] = f16_to_f32(d16) * float(sc);
            o.b = -f16_to_f32(dmin16) * float(m);
            break;
        }
        case Type::Q6_K: {
            BlockQ6_K b;
            std::memcpy(&b, src, sizeof b);
            const int h = j / 4, k = j % 4;
            for (int l = 0; l < 32; ++l) {
                const uint8_t lbyte = b.ql[64 * h + 32 * (k & 1) + l];
                const int low = k < 2 ? (lbyte & 0xf) : (lbyte >> 4);
                o.q[l] = (low | (((b.qh[32 * h + l] >> (2 * k)) & 3) << 4)) - 32;
            }
            const float d = f16_to_f32(b.d);
            o.a[0] = d * float(b.scales[2 * j]), o.a[1] = d * float(b.scales[2 * j + 1]);
            o.b = 0.0f;
            break;
        }
        default: fail(Status::invalid_argument, "matvec_q8_1: no integer-dot form for %s", quant::info(t).name);
    }
    return o;
}

IntBlock decode(Type t, const uint8_t* src) {
    IntBlock o{};
    auto nibbles = [&](const uint8_t* qs) {
        for (int j = 0; j < 16; ++j) o.q[j] = qs[j] & 0xF, o.q[j + 16] = qs[j] >> 4;
    };
    auto high_bits = [&](const uint8_t* qh) {
        uint32_t h;
        std::memcpy(&h, qh, 4);
        for (int j = 0; j < 32; ++j) o.q[j] |= int((h >> j) & 1u) << 4;
    };
    switch (t) {
        case Type::Q4_0: {
            BlockQ4_0 b;
            std::memcpy(&b, src, sizeof b);
            nibbles(b.qs);
            o.a[0] = f16_to_f32(b.d), o.b = -8.0f * o.a[0];
            break;
        }
        case Type::Q4_1: {
            BlockQ4_1 b;
            std::memcpy(&b, src, sizeof b);
            nibbles(b.qs);
            o.a[0] = f16_to_f32(b.d), o.b = f16_to_f32(b.m);
            break;
        }
        case Type::Q5_0: {
            BlockQ5_0 b;
            std::memcpy(&b, src, sizeof b);
            nibbles(b.qs);
            high_bits(b.qh);
            o.a[0] = f16_to_f32(b.d), o.b = -16.0f * o.a[0];
            break;
        }
        case Type::Q5_1: {
            BlockQ5_1 b;
            std::memcpy(&b, src, sizeof b);
            nibbles(b.qs);
            high_bits(b.qh);
            o.a[0] = f16_to_f32(b.d), o.b = f16_to_f32(b.m);
            break;
        }
        case Type::Q8_0: {
            BlockQ8_0 b;
            std::memcpy(&b, src, sizeof b);
            for (int j = 0; j < 32; ++j) o.q[j] = b.qs[j];
            o.a[0] = f16_to_f32(b.d), o.b = 0.0f;
            break;
        }
        default: fail(Status::invalid_argument, "matvec_q8_1: no integer-dot form for %s", quant::info(t).name);
    }
    o.a[1] = o.a[0];
    return o;
}

bool is_k_quant(Type t) { return t == Type::Q4_K || t == Type::Q5_K || t == Type::Q6_K; }

}  // namespace

bool matvec_q8_1_supports(Type t) {
    return t == Type::Q4_0 || t == Type::Q4_1 || t == Type::Q5_0 || t == Type::Q5_1 || t == Type::Q8_0 || is_k_quant(t);
}

void matvec_q8_1(Type wtype, const void* W, const std::vector<Q8_1Block>& xq, float* Y, int64_t M, int64_t K, int64_t N) {
    if (!matvec_q8_1_supports(wtype))
        fail(Status::invalid_argument, "matvec_q8_1: no integer-dot form for %s", quant::info(wtype).name);
    const int64_t kb = quant::info(wtype).block_size;  // 32, or 256 for the K-quants
    if (M < 0 || N < 0 || K <= 0 || K % kb != 0)
        fail(Status::invalid_argument, "matvec_q8_1: K=%lld must be a positive multiple of %lld", (long long)K, (long long)kb);
    const int64_t nb = K / 32;
    if (int64_t(xq.size()) < N * nb) fail(Status::invalid_argument, "matvec_q8_1: %zu activation blocks, need %lld", xq.size(), (long long)(N * nb));
    const size_t row = quant::row_bytes(wtype, K), blk = quant::info(wtype).block_bytes;
    const uint8_t* w = static_cast<const uint8_t*>(W);
    for (int64_t n = 0; n < N; ++n)
        for (int64_t m = 0; m < M; ++m) {
            double acc = 0;
            for (int64_t b = 0; b < nb; ++b) {
                const IntBlock ib = is_k_quant(wtype) ? decode_k(wtype, w + m * row + (b / 8) * blk, int(b % 8))
                                                      : decode(wtype, w + m * row + b * blk);
                const Q8_1Block& x = xq[size_t(n * nb + b)];
                int dot[2] = {0, 0};
                for (int i = 0; i < 32; ++i) dot[i / 16] += ib.q[i] * x.q[i];
                acc += double(x.d) * (double(ib.a[0]) * dot[0] + double(ib.a[1]) * dot[1]) + double(ib.b) * x.s;
            }
            Y[n * M + m] = float(acc);
        }
}

}  // namespace vks::ref
