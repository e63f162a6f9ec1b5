// K-quants: super-blocks of 256 elements split into sub-blocks (16 of 16 elements, or 8 of
// 32) that each get their own small integer scale (and min), and those integer scales are in
// turn scaled by one or two f16 (Q8_K: f32) super-block factors. In every type below the
// sub-block of element e is e/16 (Q2_K, Q3_K, Q6_K) or e/32 (Q4_K, Q5_K), e = 0..255.
//
// Q2_K  {u8 scales[16]; u8 qs[64]; f16 d; f16 dmin}                    84 bytes, 2.625 bit/w
//   scales[j]: low nibble = scale sc_j, high nibble = min m_j (sub-block j of 16 elements).
//   x = (d*sc_j) * q - (dmin*m_j), q in 0..3.
//   q of element e = 128h + 32k + l (h = 0..1, k = 0..3, l = 0..31) is bits 2k..2k+1 of qs[32h + l].
// Q3_K  {u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d}                110 bytes, 3.4375 bit/w
//   16 six-bit scales s_j stored with an offset of 32 (value = s_j - 32, range -32..31):
//   low 4 bits of s_j: j < 8 -> scales[j] & 0xF, j >= 8 -> scales[j-8] >> 4;
//   high 2 bits of s_j: bits 2*(j/4).. of scales[8 + j%4].
//   Element e = 128h + 32k + l: low 2 bits = bits 2k.. of qs[32h + l] (as Q2_K), high bit =
//   bit (4h + k) of hmask[l]. q = low2 - (high bit ? 0 : 4), in -4..3.  x = (d*(s_j-32)) * q.
// Q4_K  {f16 d; f16 dmin; u8 scales[12]; u8 qs[128]}                   144 bytes, 4.5 bit/w
//   8 six-bit scales sc_j and 8 six-bit mins m_j packed into 12 bytes:
//   j < 4:  sc_j = scales[j] & 63,  m_j = scales[j+4] & 63
//   j >= 4: sc_j = (scales[j+4] & 0xF) | (scales[j-4] >> 6) << 4
//           m_j  = (scales[j+4] >> 4)  | (scales[j]   >> 6) << 4
//   Elements in chunks of 64: element 64c + l (l < 32) is the low nibble of qs[32c + l] and
//   element 64c + 32 + l is its high nibble. x = (d*sc_j) * q - (dmin*m_j), q in 0..15.
// Q5_K  {f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}        176 bytes, 5.5 bit/w
//   As Q4_K plus a fifth bit: bit (e/32) of qh[e % 32] is bit 4 of element e's quant (0..31).
// Q6_K  {u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d}                  210 bytes, 6.5625 bit/w
//   Element e = 128h + 32k + l: low 4 bits from ql[64h + 32(k&1) + l] (low nibble for k < 2,
//   high nibble for k >= 2); high 2 bits = bits 2k..2k+1 of qh[32h + l].
//   q = (low4 | high2 << 4) - 32, in -32..31.  x = d * scales[e/16] * q.
// Q8_K  {f32 d; i8 qs[256]; i16 bsums[16]}                             292 bytes
//   x = d * qs[e]; bsums[j] = sum of qs[16j .. 16j+15] (for dot products; not needed to decode).
//   This is an activation-side type: llama.cpp never stores it in files.
//
// Encoder (ours): each sub-block gets a float scale (and min) from a small search: several
// starting grids around the min/max span, each refined by alternating "round to the grid" and
// "least-squares scale (and min) for these quants", keeping the lowest squared error. The
// float sub-scales are then quantized against the super-block factor (largest one on the top
// code), and finally every element is re-rounded against the scale the decoder will actually
// use (f16 factor times integer sub-scale).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "quant/block_formats.hpp"
#include "quant/fp16.hpp"

namespace vks::quant::detail {

using fp16::f16_to_f32;
using fp16::f32_to_f16;

namespace {

template <typename Block>
Block load_block(const uint8_t* src, int64_t i) {
    Block b;
    std::memcpy(&b, src + i * int64_t(sizeof(Block)), sizeof(Block));
    return b;
}

template <typename Block>
void store_block(uint8_t* dst, int64_t i, const Block& b) {
    std::memcpy(dst + i * int64_t(sizeof(Block)), &b, sizeof(Block));
}

// Nearest integer (ties to even) of v clamped to [lo, hi]; nan gives lo. Inline on purpose:
// lrintf is a library call here, and the scale search below calls this ~40 times per element.
// Adding 1.5 * 2^23 puts the rounded integer in the low mantissa bits (valid for |v| < 2^22,
// which the clamp guarantees).
int round_clamp(float v, int lo, int hi) {
    v = v > float(lo) ? v : float(lo);
    v = v < float(hi) ? v : float(hi);
    const float t = v + 12582912.0f;
    uint32_t bits;
    std::memcpy(&bits, &t, 4);
    return int(bits & 0x7fffffu) - 0x400000;
}

float signed_absmax(const float* x, int n) {
    float amax = 0, vmax = 0;
    for (int j = 0; j < n; ++j)
        if (std::fabs(x[j]) > amax) {
            amax = std::fabs(x[j]);
            vmax = x[j];
        }
    return vmax;
}

struct Half {
    uint16_t bits;
    float value;
};
Half to_half(float v) {
    const uint16_t b = f32_to_f16(v);
    return {b, f16_to_f32(b)};
}

// ---- sub-block fitting ---------------------------------------------------------------------

constexpr int k_n_grid_tries = 6;  // starting grids: span / (levels + k/10), k = -6..6
constexpr int k_n_refine = 3;      // round / least-squares alternations per start

// x ~ a * q + b with q in 0..qmax. Rounds every element to the grid; returns the squared error.
float assign_affine(const float* x, int n, int qmax, float a, float b, int* q) {
    const float inv_a = a > 0 ? 1.0f / a : 0.0f;
    float err = 0;
    for (int i = 0; i < n; ++i) {
        q[i] = round_clamp((x[i] - b) * inv_a, 0, qmax);
        const float diff = a * float(q[i]) + b - x[i];
        err += diff * diff;
    }
    return err;
}

// Sub-block fit for the types with mins: x ~ scale * q - min, scale >= 0, min >= 0 (the
// formats store min unsigned and subtract it, so the grid can start at or below zero only).
struct AffineFit {
    float scale;
    float min;
};
AffineFit fit_affine(const float* x, int n, int qmax) {
    float lo = x[0], hi = x[0];
    for (int i = 1; i < n; ++i) {
        lo = std::min(lo, x[i]);
        hi = std::max(hi, x[i]);
    }
    lo = std::min(lo, 0.0f);
    if (!(hi > lo)) return {0.0f, -lo};  // constant block at or below zero: min alone is exact
    int q[32];
    AffineFit best{(hi - lo) / float(qmax), -lo};
    float best_err = std::numeric_limits<float>::infinity();
    for (int k = -k_n_grid_tries; k <= k_n_grid_tries; ++k) {
        float a = (hi - lo) / (float(qmax) + 0.1f * float(k)), b = lo;
        for (int it = 0; it < k_n_refine; ++it) {
            const float err = assign_affine(x, n, qmax, a, b, q);
            if (err < best_err) {
                best_err = err;
                best = {a, -b};
            }
            // Least squares for (a, b) given q, with the constraint b <= 0.
            double s1 = 0, s2 = 0, sx = 0, sxq = 0;
            for (int i = 0; i < n; ++i) {
                s1 += q[i];
                s2 += double(q[i]) * q[i];
                sx += x[i];
                sxq += double(x[i]) * q[i];
            }
            const double det = double(n) * s2 - s1 * s1;
            if (det <= 0) break;  // all quants equal: nothing to refit
            double na = (double(n) * sxq - s1 * sx) / det;
            double nb = (s2 * sx - s1 * sxq) / det;
            if (nb > 0) {
                nb = 0;
                na = sxq / s2;
            }
            if (!(na > 0)) break;
            a = float(na);
            b = float(nb);
        }
    }
    return best;
}

// x ~ a * q with q in -nmax..nmax-1. Rounds every element; returns the squared error.
float assign_symmetric(const float* x, int n, int nmax, float a, int* q) {
    const float inv_a = a != 0 ? 1.0f / a : 0.0f;
    float err = 0;
    for (int i = 0; i < n; ++i) {
        q[i] = round_clamp(x[i] * inv_a, -nmax, nmax - 1);
        const float diff = a * float(q[i]) - x[i];
        err += diff * diff;
    }
    return err;
}

// Sub-block fit for the types without mins: a signed scale, largest magnitude near -nmax.
float fit_symmetric(const float* x, int n, int nmax) {
    const float vmax = signed_absmax(x, n);
    if (vmax == 0) return 0;
    int q[32];
    float best = vmax / float(-nmax);
    float best_err = std::numeric_limits<float>::infinity();
    for (int k = -k_n_grid_tries; k <= k_n_grid_tries; ++k) {
        float a = vmax / -(float(nmax) + 0.1f * float(k));
        for (int it = 0; it < k_n_refine; ++it) {
            const float err = assign_symmetric(x, n, nmax, a, q);
            if (err < best_err) {
                best_err = err;
                best = a;
            }
            double sqq = 0, sxq = 0;
            for (int i = 0; i < n; ++i) {
                sqq += double(q[i]) * q[i];
                sxq += double(x[i]) * q[i];
            }
            if (sqq == 0) break;
            a = float(sxq / sqq);
        }
    }
    return best;
}

// Quantizes one K-quant super-block with mins (Q2_K, Q4_K, Q5_K). n_sub sub-blocks of sub_n
// elements; quants 0..qmax; sub-scales and mins 0..smax. Outputs integer sub-scales/mins,
// per-element quants L[256] and the two f16 super-block factors.
void quantize_affine_superblock(const float* x, int n_sub, int sub_n, int qmax, int smax, int* sc, int* mn,
                                int* L, Half* d, Half* dmin) {
    AffineFit fit[16];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < n_sub; ++j) {
        fit[j] = fit_affine(x + j * sub_n, sub_n, qmax);
        max_scale = std::max(max_scale, fit[j].scale);
        max_min = std::max(max_min, fit[j].min);
    }
    *d = to_half(max_scale / float(smax));
    *dmin = to_half(max_min / float(smax));
    for (int j = 0; j < n_sub; ++j) {
        sc[j] = d->value > 0 ? round_clamp(fit[j].scale / d->value, 0, smax) : 0;
        mn[j] = dmin->value > 0 ? round_clamp(fit[j].min / dmin->value, 0, smax) : 0;
        // Re-round against exactly what the decoder computes: (d*sc) * q - (dmin*m).
        assign_affine(x + j * sub_n, sub_n, qmax, d->value * float(sc[j]), -(dmin->value * float(mn[j])),
                      L + j * sub_n);
    }
}

// Quantizes one symmetric super-block (Q3_K, Q6_K): 16 sub-blocks of 16, quants -nmax..nmax-1,
// signed integer sub-scales -smax..smax-1 against one f16 factor d. Outputs sc[16], L[256].
Half quantize_symmetric_superblock(const float* x, int nmax, int smax, int* sc, int* L) {
    float scales[16];
    for (int j = 0; j < 16; ++j) scales[j] = fit_symmetric(x + 16 * j, 16, nmax);
    const Half d = to_half(signed_absmax(scales, 16) / float(-smax));
    for (int j = 0; j < 16; ++j) {
        sc[j] = d.value != 0 ? round_clamp(scales[j] / d.value, -smax, smax - 1) : 0;
        assign_symmetric(x + 16 * j, 16, nmax, d.value * float(sc[j]), L + 16 * j);
    }
    return d;
}

// ---- scale packing -------------------------------------------------------------------------

// Q3_K: 16 six-bit values (already offset by +32) in 12 bytes.
int q3k_get_scale(const uint8_t* s, int j) {
    const int low = j < 8 ? (s[j] & 0xf) : (s[j - 8] >> 4);
    const int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
    return low | (high << 4);
}
void q3k_set_scale(uint8_t* s, int j, int v) {  // s zeroed beforehand; v in 0..63
    if (j < 8) s[j] |= uint8_t(v & 0xf);
    else s[j - 8] |= uint8_t((v & 0xf) << 4);
    s[8 + j % 4] |= uint8_t((v >> 4) << (2 * (j / 4)));
}

// Q4_K / Q5_K: 8 six-bit scales and 8 six-bit mins in 12 bytes.
void k4_get_scale_min(const uint8_t* s, int j, int* sc, int* m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0xf) | ((s[j - 4] >> 6) << 4);
        *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}
void k4_set_scale_min(uint8_t* s, int j, int sc, int m) {  // s zeroed beforehand; sc, m in 0..63
    if (j < 4) {
        s[j] |= uint8_t(sc);
        s[j + 4] |= uint8_t(m);
    } else {
        s[j + 4] |= uint8_t((sc & 0xf) | ((m & 0xf) << 4));
        s[j - 4] |= uint8_t((sc >> 4) << 6);
        s[j] |= uint8_t((m >> 4) << 6);
    }
}

}  // namespace

// --- Q2_K ---------------------------------------------------------------------------------

void dequantize_q2_k(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += k_qk_k) {
        const auto b = load_block<BlockQ2_K>(src, i);
        const float d = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
        for (int e = 0; e < k_qk_k; ++e) {
            const int h = e / 128, k = (e % 128) / 32, l = e % 32;
            const int q = (b.qs[32 * h + l] >> (2 * k)) & 3;
            const uint8_t s = b.scales[e / 16];
            const float dl = d * float(s & 0xf), ml = dmin * float(s >> 4);
            dst[e] = dl * float(q) - ml;
        }
    }
}

void quantize_q2_k(const float* src, uint8_t* dst, int64_t n_blocks) {
    int sc[16], mn[16], L[k_qk_k];
    for (int64_t i = 0; i < n_blocks; ++i, src += k_qk_k) {
        BlockQ2_K b{};
        Half d, dmin;
        quantize_affine_superblock(src, 16, 16, 3, 15, sc, mn, L, &d, &dmin);
        b.d = d.bits;
        b.dmin = dmin.bits;
        for (int j = 0; j < 16; ++j) b.scales[j] = uint8_t(sc[j] | (mn[j] << 4));
        for (int e = 0; e < k_qk_k; ++e) {
            const int h = e / 128, k = (e % 128) / 32, l = e % 32;
            b.qs[32 * h + l] |= uint8_t(L[e] << (2 * k));
        }
        store_block(dst, i, b);
    }
}

// --- Q3_K ---------------------------------------------------------------------------------

void dequantize_q3_k(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += k_qk_k) {
        const auto b = load_block<BlockQ3_K>(src, i);
        const float d = f16_to_f32(b.d);
        for (int e = 0; e < k_qk_k; ++e) {
            const int h = e / 128, k = (e % 128) / 32, l = e % 32;
            const int low = (b.qs[32 * h + l] >> (2 * k)) & 3;
            const int high = (b.hmask[l] >> (4 * h + k)) & 1;
            const float dl = d * float(q3k_get_scale(b.scales, e / 16) - 32);
            dst[e] = dl * float(low - (high ? 0 : 4));
        }
    }
}

void quantize_q3_k(const float* src, uint8_t* dst, int64_t n_blocks) {
    int sc[16], L[k_qk_k];
    for (int64_t i = 0; i < n_blocks; ++i, src += k_qk_k) {
        BlockQ3_K b{};
        b.d = quantize_symmetric_superblock(src, 4, 32, sc, L).bits;
        for (int j = 0; j < 16; ++j) q3k_set_scale(b.scales, j, sc[j] + 32);
        for (int e = 0; e < k_qk_k; ++e) {
            const int h = e / 128, k = (e % 128) / 32, l = e % 32;
            const int u = L[e] + 4;  // 0..7: high bit set means "no -4"
            b.qs[32 * h + l] |= uint8_t((u & 3) << (2 * k));
            b.hmask[l] |= uint8_t((u >> 2) << (4 * h + k));
        }
        store_block(dst, i, b);
    }
}

// --- Q4_K ---------------------------------------------------------------------------------

void dequantize_q4_k(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += k_qk_k) {
        const auto b = load_block<BlockQ4_K>(src, i);
        const float d = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
        for (int e = 0; e < k_qk_k; ++e) {
            const int c = e / 64, r = e % 64;
            const uint8_t byte = b.qs[32 * c + r % 32];
            const int q = r < 32 ? (byte & 0xf) : (byte >> 4);
            int sc, m;
            k4_get_scale_min(b.scales, e / 32, &sc, &m);
            dst[e] = (d * float(sc)) * float(q) - dmin * float(m);
        }
    }
}

void quantize_q4_k(const float* src, uint8_t* dst, int64_t n_blocks) {
    int sc[16], mn[16], L[k_qk_k];
    for (int64_t i = 0; i < n_blocks; ++i, src += k_qk_k) {
        BlockQ4_K b{};
        Half d, dmin;
        quantize_affine_superblock(src, 8, 32, 15, 63, sc, mn, L, &d, &dmin);
        b.d = d.bits;
        b.dmin = dmin.bits;
        for (int j = 0; j < 8; ++j) k4_set_scale_min(b.scales, j, sc[j], mn[j]);
        for (int e = 0; e < k_qk_k; ++e) {
            const int c = e / 64, r = e % 64;
            b.qs[32 * c + r % 32] |= uint8_t(r < 32 ? L[e] : L[e] << 4);
        }
        store_block(dst, i, b);
    }
}

// --- Q5_K ---------------------------------------------------------------------------------

void dequantize_q5_k(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += k_qk_k) {
        const auto b = load_block<BlockQ5_K>(src, i);
        const float d = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
        for (int e = 0; e < k_qk_k; ++e) {
            const int c = e / 64, r = e % 64;
            const uint8_t byte = b.qs[32 * c + r % 32];
            const int low = r < 32 ? (byte & 0xf) : (byte >> 4);
            const int high = (b.qh[e % 32] >> (e / 32)) & 1;
            int sc, m;
            k4_get_scale_min(b.scales, e / 32, &sc, &m);
            dst[e] = (d * float(sc)) * float(low | (high << 4)) - dmin * float(m);
        }
    }
}

void quantize_q5_k(const float* src, uint8_t* dst, int64_t n_blocks) {
    int sc[16], mn[16], L[k_qk_k];
    for (int64_t i = 0; i < n_blocks; ++i, src += k_qk_k) {
        BlockQ5_K b{};
        Half d, dmin;
        quantize_affine_superblock(src, 8, 32, 31, 63, sc, mn, L, &d, &dmin);
        b.d = d.bits;
        b.dmin = dmin.bits;
        for (int j = 0; j < 8; ++j) k4_set_scale_min(b.scales, j, sc[j], mn[j]);
        for (int e = 0; e < k_qk_k; ++e) {
            const int c = e / 64, r = e % 64, low = L[e] & 0xf;
            b.qs[32 * c + r % 32] |= uint8_t(r < 32 ? low : low << 4);
            b.qh[e % 32] |= uint8_t((L[e] >> 4) << (e / 32));
        }
        store_block(dst, i, b);
    }
}

// --- Q6_K ---------------------------------------------------------------------------------

void dequantize_q6_k(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += k_qk_k) {
        const auto b = load_block<BlockQ6_K>(src, i);
        const float d = f16_to_f32(b.d);
        for (int e = 0; e < k_qk_k; ++e) {
            const int h = e / 128, k = (e % 128) / 32, l = e % 32;
            const uint8_t lbyte = b.ql[64 * h + 32 * (k & 1) + l];
            const int low = k < 2 ? (lbyte & 0xf) : (lbyte >> 4);
            const int high = (b.qh[32 * h + l] >> (2 * k)) & 3;
            dst[e] = d * float(b.scales[e / 16]) * float((low | (high << 4)) - 32);
        }
    }
}

void quantize_q6_k(const float* src, uint8_t* dst, int64_t n_blocks) {
    int sc[16], L[k_qk_k];
    for (int64_t i = 0; i < n_blocks; ++i, src += k_qk_k) {
        BlockQ6_K b{};
        b.d = quantize_symmetric_superblock(src, 32, 128, sc, L).bits;
        for (int j = 0; j < 16; ++j) b.scales[j] = int8_t(sc[j]);
        for (int e = 0; e < k_qk_k; ++e) {
            const int h = e / 128, k = (e % 128) / 32, l = e % 32;
            const int u = L[e] + 32;  // 0..63
            b.ql[64 * h + 32 * (k & 1) + l] |= uint8_t(k < 2 ? (u & 0xf) : (u & 0xf) << 4);
            b.qh[32 * h + l] |= uint8_t((u >> 4) << (2 * k));
        }
        store_block(dst, i, b);
    }
}

// --- Q8_K ---------------------------------------------------------------------------------

void dequantize_q8_k(const uint8_t* src, float* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, dst += k_qk_k) {
        const auto b = load_block<BlockQ8_K>(src, i);
        for (int e = 0; e < k_qk_k; ++e) dst[e] = b.d * float(b.qs[e]);
    }
}

void quantize_q8_k(const float* src, uint8_t* dst, int64_t n_blocks) {
    for (int64_t i = 0; i < n_blocks; ++i, src += k_qk_k) {
        BlockQ8_K b{};
        // The extreme value lands exactly on -128; everything else is within -128..127.
        const float vmax = signed_absmax(src, k_qk_k);
        b.d = vmax / -128.0f;
        for (int e = 0; e < k_qk_k; ++e) b.qs[e] = int8_t(b.d != 0 ? round_clamp(src[e] / b.d, -128, 127) : 0);
        for (int j = 0; j < 16; ++j) {
            int sum = 0;
            for (int l = 0; l < 16; ++l) sum += b.qs[16 * j + l];
            b.bsums[j] = int16_t(sum);
        }
        store_block(dst, i, b);
    }
}

}  // namespace vks::quant::detail
