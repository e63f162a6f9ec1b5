// The quantized KV cache in GLSL: element types chosen by -D (K_Q8_0 / K_Q4_0, V_Q8_0 / V_Q4_0;
// neither = f16), the block codecs, and readers of one ring row for the attention kernels. The
// layout of a layer's K (or V) buffer is kv/cache_types.hpp's (read it first); the host passes the
// region offsets (kv::RowLayout) in KvLayout, so the layout rule has one home. The CPU reference
// of every function here is lib/ref/kv_quant.cpp.
//
// Blocks of 32 along head_dim, one f16 scale each (ggml q8_0 / q4_0 arithmetic):
//   q8_0: x = d * q, q in -127..127, d = f16(amax / 127)         quant word: 4 int8, element 4w + b in byte b
//   q4_0: x = d * (q - 8), q in 0..15, d = f16(vmax / -8)        quant word: 8 nibbles, element 8w + n in nibble n
// (vmax: the element of largest magnitude, the first on ties.) Codes are round-half-even of x / d,
// as lib/quant rounds (lrintf), so the device and the reference agree bit for bit wherever the
// device divides exactly (lavapipe does).
#ifndef VKS_KV_QUANT_GLSL
#define VKS_KV_QUANT_GLSL

const uint KV_F16 = 0u, KV_Q8_0 = 1u, KV_Q4_0 = 2u;
#if defined(K_Q8_0)
const uint K_TYPE = KV_Q8_0;
#elif defined(K_Q4_0)
const uint K_TYPE = KV_Q4_0;
#else
const uint K_TYPE = KV_F16;
#endif
#if defined(V_Q8_0)
const uint V_TYPE = KV_Q8_0;
#elif defined(V_Q4_0)
const uint V_TYPE = KV_Q4_0;
#else
const uint V_TYPE = KV_F16;
#endif

// Quant (or f16) words of one row of head_dim elements; scale words of a quantized row.
uint kv_row_words(uint type, uint head_dim) {
    return type == KV_Q8_0 ? head_dim / 4u : type == KV_Q4_0 ? head_dim / 8u : head_dim / 2u;
}
uint kv_scale_words(uint head_dim) { return (head_dim / 32u + 1u) / 2u; }

// f16 scale of block b from its scale word (two blocks per word).
float kv_scale(uint word, uint b) { return unpackHalf2x16(word)[b & 1u]; }
// Elements (2c, 2c+1) of a quant word, not yet scaled: q8_0 (c < 2), q4_0 (c < 4).
vec2 q8_codes(uint word, uint c) {
    return vec2(float(bitfieldExtract(int(word), int(16u * c), 8)), float(bitfieldExtract(int(word), int(16u * c + 8u), 8)));
}
vec2 q4_codes(uint word, uint c) {
    return vec2(float(int((word >> (8u * c)) & 15u) - 8), float(int((word >> (8u * c + 4u)) & 15u) - 8));
}

// ---- encoding one block of 32 (kv_quant.comp) ----------------------------------------------------
// Scale of a block from its values, rounded to f16 (what the cache stores and the decoder uses).
float f16_round(float x) { return unpackHalf2x16(packHalf2x16(vec2(x, 0.0))).x; }
// q8_0: d from the absolute maximum; q4_0: d from the signed value of largest magnitude.
float q8_scale(float amax) { return f16_round(amax / 127.0); }
float q4_scale(float vmax) { return f16_round(vmax / -8.0); }
int q8_code(float x, float d) { return d != 0.0 ? int(clamp(roundEven(x / d), -127.0, 127.0)) : 0; }
int q4_code(float x, float d) { return d != 0.0 ? int(clamp(roundEven(x / d), -8.0, 7.0)) + 8 : 8; }

// ---- ring row readers (attention kernels) ---------------------------------------------------------
// Each kernel declares its push-constant block `p` (with p.kv: KvLayout) and HEAD_DIM before these
// macros are expanded. `row` is the ring row slot * n_head_kv + kv head.

// Defines `vec2 NAME(uint row, uint w)`: elements (2w, 2w + 1) of ring row `row` in the storage
// buffer BUF (uint words) of element type TYPE; SOFF / FOFF: its scale / f16-sink word offsets.
#define DEFINE_KV_PAIR(NAME, BUF, TYPE, SOFF, FOFF)                                           \
    vec2 NAME(uint row, uint w) {                                                           \
        if (TYPE == KV_F16) return unpackHalf2x16(BUF[row * (HEAD_DIM / 2u) + w]);           \
        if (row < p.kv.sink_rows) return unpackHalf2x16(BUF[FOFF + row * (HEAD_DIM / 2u) + w]); \
        const uint b = w / 16u;                                                             \
        const float d = kv_scale(BUF[SOFF + row * kv_scale_words(HEAD_DIM) + b / 2u], b);   \
        if (TYPE == KV_Q8_0) return d * q8_codes(BUF[row * (HEAD_DIM / 4u) + w / 2u], w & 1u); \
        return d * q4_codes(BUF[row * (HEAD_DIM / 8u) + w / 4u], w & 3u);                   \
    }

// Defines `void NAME(uint row, uint g, out vec2 e[4])`: elements 8g .. 8g + 7 of ring row `row` as
// 4 pairs, from the uniform texel buffer TB (uvec4 texels of 4 words; every region starts on a
// texel, see kv/cache_types.hpp).
#define DEFINE_KV_GROUP(NAME, TB, TYPE, SOFF, FOFF)                                             \
    void NAME(uint row, uint g, out vec2 e[4]) {                                              \
        if (TYPE == KV_F16 || row < p.kv.sink_rows) {                                         \
            const uint base = TYPE == KV_F16 ? 0u : (FOFF) / 4u;                              \
            const uvec4 w = texelFetch(TB, int(base + row * (HEAD_DIM / 8u) + g));             \
            e[0] = unpackHalf2x16(w.x); e[1] = unpackHalf2x16(w.y);                           \
            e[2] = unpackHalf2x16(w.z); e[3] = unpackHalf2x16(w.w);                           \
            return;                                                                           \
        }                                                                                     \
        const uint b = g / 4u;                                                                \
        const uint si = SOFF + row * kv_scale_words(HEAD_DIM) + b / 2u;                       \
        const float d = kv_scale(texelFetch(TB, int(si / 4u))[si & 3u], b);                   \
        if (TYPE == KV_Q8_0) {                                                                \
            const uint wi = row * (HEAD_DIM / 4u) + 2u * g;  /* even: both words in one texel */ \
            const uvec4 t = texelFetch(TB, int(wi / 4u));                                     \
            const uint w0 = t[wi & 3u], w1 = t[(wi & 3u) + 1u];                               \
            e[0] = d * q8_codes(w0, 0u); e[1] = d * q8_codes(w0, 1u);                         \
            e[2] = d * q8_codes(w1, 0u); e[3] = d * q8_codes(w1, 1u);                         \
        } else {                                                                              \
            const uint wi = row * (HEAD_DIM / 8u) + g;                                        \
            const uint w0 = texelFetch(TB, int(wi / 4u))[wi & 3u];                            \
            e[0] = d * q4_codes(w0, 0u); e[1] = d * q4_codes(w0, 1u);                         \
            e[2] = d * q4_codes(w0, 2u); e[3] = d * q4_codes(w0, 3u);                         \
        }                                                                                     \
    }
// ---- Hadamard rotation (-D HADAMARD; kv/cache_types.hpp) -------------------------------------------
// With HADAMARD every quantized tensor (K or V) lives in the rotated basis: a row x is stored as
// codes of H x / sqrt(head_dim), its f16 sink rows as f16 of the rotated row, and the fresh rows
// kv_quant.comp rounds are written back rotated too. The attention kernels rotate a K row back
// before RoPE and its dot product (RoPE positions are cache-relative and do not commute with H),
// and accumulate V rows rotated, rotating the weighted sum back once at the end (H is linear).
// Defines `void NAME()`: X (vec2[N], element 2w + c in X[w][c]) <- H X / sqrt(2N) in place, the
// butterflies of ref::hadamard in the same order (span 1, 2, 4, ...). N a power of two.
// Each stage is one loop of N/2 butterflies (butterfly t pairs j = (t / h) * 2h + t % h with j + h).
// The textbook nest (groups i, then j in [i, i + h)) gave wrong keys on lavapipe (LLVM 15) once a
// query's loop over keys passed ~380 keys (output NMSE ~1, tests/kernels/test_kv_quant.cpp "long
// view"), though each loop bound is uniform; this form has fixed trip counts and is exact.
#define DEFINE_KV_FWHT(NAME, X, N)                                                   \
    void NAME() {                                                                    \
        for (uint w = 0u; w < (N); ++w) X[w] = vec2(X[w].x + X[w].y, X[w].x - X[w].y); \
        for (uint h = 1u; h < (N); h *= 2u)                                          \
            for (uint t = 0u; t < (N) / 2u; ++t) {                                   \
                const uint j = (t / h) * 2u * h + t % h;                             \
                const vec2 a = X[j], b = X[j + h];                                   \
                X[j] = a + b;                                                        \
                X[j + h] = a - b;                                                    \
            }                                                                        \
        const float s = inversesqrt(float(2u * (N)));                                \
        for (uint w = 0u; w < (N); ++w) X[w] *= s;                                   \
    }
#endif
