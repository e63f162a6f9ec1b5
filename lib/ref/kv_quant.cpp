#include "ref/kv_quant.hpp"

#include "kv/key_transform.hpp"

#include <cmath>
#include <cstring>
#include <vector>

#include "common/error.hpp"
#include "quant/block_formats.hpp"

namespace vks::ref {

namespace {

constexpr uint32_t kBlock = 32;

uint32_t pack_f16_pair(float a, float b) { return uint32_t(quant::f32_to_f16(a)) | uint32_t(quant::f32_to_f16(b)) << 16; }

void set_half(uint32_t& word, uint32_t which, uint16_t h) {
    word = which ? (word & 0x0000ffffu) | uint32_t(h) << 16 : (word & 0xffff0000u) | h;
}
uint16_t get_half(uint32_t word, uint32_t which) { return uint16_t(which ? word >> 16 : word & 0xffffu); }

void store_f16(uint32_t* row, const float* x, uint32_t n) {
    for (uint32_t w = 0; w < n / 2; ++w) row[w] = pack_f16_pair(x[2 * w], x[2 * w + 1]);
}
void read_f16(const uint32_t* row, float* out, uint32_t n) {
    for (uint32_t w = 0; w < n / 2; ++w) {
        out[2 * w] = quant::f16_to_f32(get_half(row[w], 0));
        out[2 * w + 1] = quant::f16_to_f32(get_half(row[w], 1));
    }
}

void check_row(const kv::RowLayout& l, uint32_t n_head_kv, uint32_t head_dim, uint32_t slot, uint32_t hk) {
    if (n_head_kv == 0 || hk >= n_head_kv || uint64_t(slot) * n_head_kv + hk >= l.n_rows)
        fail(Status::invalid_argument, "ref kv row: slot %u / kv head %u outside %u rows of %u heads", slot, hk,
             l.n_rows, n_head_kv);
    if (l.type != quant::Type::F16 && head_dim % kBlock != 0)
        fail(Status::invalid_argument, "ref kv row: head_dim %u is not a multiple of 32", head_dim);
}

}  // namespace

void hadamard(float* x, uint32_t n) {
    if (n == 0 || (n & (n - 1)) != 0) fail(Status::invalid_argument, "ref::hadamard: n %u is not a power of two", n);
    std::vector<double> v(x, x + n);
    for (uint32_t h = 1; h < n; h *= 2)  // butterflies of span h
        for (uint32_t i = 0; i < n; i += 2 * h)
            for (uint32_t j = i; j < i + h; ++j) {
                const double a = v[j], b = v[j + h];
                v[j] = a + b;
                v[j + h] = a - b;
            }
    const double s = 1.0 / std::sqrt(double(n));
    for (uint32_t i = 0; i < n; ++i) x[i] = float(v[i] * s);
}

void kv_store_row(const kv::RowLayout& l, uint32_t n_head_kv, uint32_t head_dim, bool rotate, uint32_t slot,
                  uint32_t hk, const float* x, uint32_t* buf) {
    check_row(l, n_head_kv, head_dim, slot, hk);
    const uint32_t row = slot * n_head_kv + hk;
    if (l.type == quant::Type::F16) {
        store_f16(buf + uint64_t(row) * l.row_words, x, head_dim);
        return;
    }
    std::vector<float> r(x, x + head_dim);
    if (rotate) hadamard(r.data(), head_dim);
    if (row < l.sink_rows) {  // an f16 sink: unquantized (rotated too: the whole tensor shares one basis)
        store_f16(buf + l.sink_offset + uint64_t(row) * (head_dim / 2), r.data(), head_dim);
        return;
    }
    uint32_t* q = buf + uint64_t(row) * l.row_words;
    uint32_t* sc = buf + l.scale_offset + uint64_t(row) * l.scale_words;
    for (uint32_t b = 0; b < head_dim / kBlock; ++b) {
        const float* xb = r.data() + b * kBlock;
        if (l.type == quant::Type::Q8_0) {
            quant::detail::BlockQ8_0 blk;
            quant::quantize_row(quant::Type::Q8_0, xb, &blk, kBlock);
            // 8 words of 4 int8: element 4w + byte.
            for (uint32_t w = 0; w < kBlock / 4; ++w) {
                uint32_t word = 0;
                for (uint32_t e = 0; e < 4; ++e) word |= uint32_t(uint8_t(blk.qs[4 * w + e])) << (8 * e);
                q[b * 8 + w] = word;
            }
            set_half(sc[b / 2], b & 1, blk.d);
        } else {
            quant::detail::BlockQ4_0 blk;
            quant::quantize_row(quant::Type::Q4_0, xb, &blk, kBlock);
            // ggml nibbles: element j (< 16) in the low nibble of byte j, element j + 16 in its high
            // nibble. Ours: 4 words of 8 nibbles, element 8w + n in nibble n.
            for (uint32_t w = 0; w < kBlock / 8; ++w) {
                uint32_t word = 0;
                for (uint32_t n = 0; n < 8; ++n) {
                    const uint32_t j = 8 * w + n;
                    const uint32_t nib = j < 16 ? blk.qs[j] & 0xfu : blk.qs[j - 16] >> 4;
                    word |= nib << (4 * n);
                }
                q[b * 4 + w] = word;
            }
            set_half(sc[b / 2], b & 1, blk.d);
        }
    }
}

void kv_read_row(const kv::RowLayout& l, uint32_t n_head_kv, uint32_t head_dim, bool rotate, uint32_t slot,
                 uint32_t hk, const uint32_t* buf, float* out) {
    check_row(l, n_head_kv, head_dim, slot, hk);
    const uint32_t row = slot * n_head_kv + hk;
    if (l.type == quant::Type::F16) {
        read_f16(buf + uint64_t(row) * l.row_words, out, head_dim);
        return;
    }
    if (row < l.sink_rows) {
        read_f16(buf + l.sink_offset + uint64_t(row) * (head_dim / 2), out, head_dim);
        if (rotate) hadamard(out, head_dim);
        return;
    }
    const uint32_t* q = buf + uint64_t(row) * l.row_words;
    const uint32_t* sc = buf + l.scale_offset + uint64_t(row) * l.scale_words;
    for (uint32_t b = 0; b < head_dim / kBlock; ++b) {
        const uint16_t d = get_half(sc[b / 2], b & 1);
        float* ob = out + b * kBlock;
        if (l.type == quant::Type::Q8_0) {
            quant::detail::BlockQ8_0 blk;
            blk.d = d;
            for (uint32_t e = 0; e < kBlock; ++e) blk.qs[e] = int8_t(uint8_t(q[b * 8 + e / 4] >> (8 * (e % 4))));
            quant::dequantize_row(quant::Type::Q8_0, &blk, ob, kBlock);
        } else {
            quant::detail::BlockQ4_0 blk;
            blk.d = d;
            for (uint32_t j = 0; j < 16; ++j) {
                const uint32_t lo = (q[b * 4 + j / 8] >> (4 * (j % 8))) & 0xfu;
                const uint32_t hi = (q[b * 4 + (j + 16) / 8] >> (4 * ((j + 16) % 8))) & 0xfu;
                blk.qs[j] = uint8_t(lo | hi << 4);
            }
            quant::dequantize_row(quant::Type::Q4_0, &blk, ob, kBlock);
        }
    }
    if (rotate) hadamard(out, head_dim);
}

void kv_roundtrip_row(quant::Type type, uint32_t head_dim, bool rotate, const float* x, float* out, const float* center,
                      const float* scale) {
    const kv::RowLayout l = kv::row_layout(type, 1, 0, 1, head_dim, false);
    std::vector<uint32_t> buf(l.words);
    std::vector<float> r(x, x + head_dim);
    if (center) kv::key_transform_apply(center, scale, r.data(), head_dim);
    kv_store_row(l, 1, head_dim, rotate, 0, 0, r.data(), buf.data());
    kv_read_row(l, 1, head_dim, rotate, 0, 0, buf.data(), out);
    if (center) kv::key_transform_undo(center, scale, out, head_dim);
}

}  // namespace vks::ref
