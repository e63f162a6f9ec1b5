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

// One weight block as integers q[32] and its affine factors: w = a * q + b.
struct IntBlock {
    int q[32];
    float a, b;
};

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
            o.a = f16_to_f32(b.d), o.b = -8.0f * o.a;
            break;
        }
        case Type::Q4_1: {
            BlockQ4_1 b;
            std::memcpy(&b, src, sizeof b);
            nibbles(b.qs);
            o.a = f16_to_f32(b.d), o.b = f16_to_f32(b.m);
            break;
        }
        case Type::Q5_0: {
            BlockQ5_0 b;
            std::memcpy(&b, src, sizeof b);
            nibbles(b.qs);
            high_bits(b.qh);
            o.a = f16_to_f32(b.d), o.b = -16.0f * o.a;
            break;
        }
        case Type::Q5_1: {
            BlockQ5_1 b;
            std::memcpy(&b, src, sizeof b);
            nibbles(b.qs);
            high_bits(b.qh);
            o.a = f16_to_f32(b.d), o.b = f16_to_f32(b.m);
            break;
        }
        case Type::Q8_0: {
            BlockQ8_0 b;
            std::memcpy(&b, src, sizeof b);
            for (int j = 0; j < 32; ++j) o.q[j] = b.qs[j];
            o.a = f16_to_f32(b.d), o.b = 0.0f;
            break;
        }
        default: fail(Status::invalid_argument, "matvec_q8_1: no integer-dot form for %s", quant::info(t).name);
    }
    return o;
}

}  // namespace

bool matvec_q8_1_supports(Type t) {
    return t == Type::Q4_0 || t == Type::Q4_1 || t == Type::Q5_0 || t == Type::Q5_1 || t == Type::Q8_0;
}

void matvec_q8_1(Type wtype, const void* W, const std::vector<Q8_1Block>& xq, float* Y, int64_t M, int64_t K, int64_t N) {
    if (!matvec_q8_1_supports(wtype))
        fail(Status::invalid_argument, "matvec_q8_1: no integer-dot form for %s", quant::info(wtype).name);
    if (M < 0 || N < 0 || K <= 0 || K % 32 != 0)
        fail(Status::invalid_argument, "matvec_q8_1: K=%lld must be a positive multiple of 32", (long long)K);
    const int64_t nb = K / 32;
    if (int64_t(xq.size()) < N * nb) fail(Status::invalid_argument, "matvec_q8_1: %zu activation blocks, need %lld", xq.size(), (long long)(N * nb));
    const size_t row = quant::row_bytes(wtype, K), blk = quant::info(wtype).block_bytes;
    const uint8_t* w = static_cast<const uint8_t*>(W);
    for (int64_t n = 0; n < N; ++n)
        for (int64_t m = 0; m < M; ++m) {
            double acc = 0;
            for (int64_t b = 0; b < nb; ++b) {
                const IntBlock ib = decode(wtype, w + m * row + b * blk);
                const Q8_1Block& x = xq[size_t(n * nb + b)];
                int dot = 0;
                for (int i = 0; i < 32; ++i) dot += ib.q[i] * x.q[i];
                acc += double(ib.a) * (double(x.d) * dot) + double(ib.b) * x.s;
            }
            Y[n * M + m] = float(acc);
        }
}

}  // namespace vks::ref
