// Dequantization helpers for the matmul family: each function turns the uint32 words of one
// 32-element sub-block (a legacy block, or one of the 8 sub-blocks of a K-quant super-block)
// into 8 vec4 = 32 floats in element order. Only uint loads, shifts and unpackHalf2x16: no
// 8/16-bit storage or arithmetic features are needed.
//
// Words are little-endian: byte i of a block is bits 8*(i%4).. of word i/4. The device layout
// (lib/ops/matmul.hpp) keeps each block's bytes at a 4-byte-aligned word offset; for the types
// whose GGUF block size is not a multiple of 4 (Q4_0, Q5_0, Q8_0, Q6_K) the f16 factor d is
// moved to a separate array at upload, which makes the rest of the block word-aligned.
#ifndef VKS_DEQUANT_GLSL
#define VKS_DEQUANT_GLSL

// The four bytes of w as unsigned values.
uvec4 bytes4(uint w) { return uvec4(w, w >> 8, w >> 16, w >> 24) & 0xffu; }
// Low / high nibbles of the four bytes of w.
vec4 lo_nibbles(uint w) { return vec4(uvec4(w, w >> 8, w >> 16, w >> 24) & 0xfu); }
vec4 hi_nibbles(uint w) { return vec4(uvec4(w >> 4, w >> 12, w >> 20, w >> 28) & 0xfu); }
// The four bytes of w as signed int8 values.
vec4 sbytes4(uint w) {
    const int i = int(w);
    return vec4(ivec4(i << 24, i << 16, i << 8, i) >> 24);
}
// Bit `bit` of each of the four bytes of w, as 0.0 / 1.0 times `scale`.
vec4 byte_bits(uint w, uint bit, float scale) { return vec4(uvec4(w >> bit, w >> (bit + 8u), w >> (bit + 16u), w >> (bit + 24u)) & 1u) * scale; }

// f16 number `idx` of a packed array of halves stored two per word (low half first).
float half_at(uint word, uint idx) { return unpackHalf2x16(word >> ((idx & 1u) * 16u)).x; }

vec2 bf16x2(uint w) { return vec2(uintBitsToFloat(w << 16), uintBitsToFloat(w & 0xffff0000u)); }

// ---- legacy blocks (32 elements) ---------------------------------------------------------
// Element j (0..15) is the low nibble of byte j, element j + 16 the high nibble.

// Q4_0: x = d * (q - 8)
void dq_q4_0(uvec4 qs, float d, out vec4 v[8]) {
    [[unroll]] for (int i = 0; i < 4; ++i) {
        v[i] = d * (lo_nibbles(qs[i]) - 8.0);
        v[4 + i] = d * (hi_nibbles(qs[i]) - 8.0);
    }
}

// Q4_1: x = d * q + m; dm = (d, m)
void dq_q4_1(uvec4 qs, vec2 dm, out vec4 v[8]) {
    [[unroll]] for (int i = 0; i < 4; ++i) {
        v[i] = dm.x * lo_nibbles(qs[i]) + dm.y;
        v[4 + i] = dm.x * hi_nibbles(qs[i]) + dm.y;
    }
}

// Q5_0: x = d * (q - 16); bit j of qh is bit 4 of element j.
void dq_q5_0(uint qh, uvec4 qs, float d, out vec4 v[8]) {
    [[unroll]] for (int i = 0; i < 4; ++i) {
        const uint hl = qh >> (4 * i), hh = qh >> (16 + 4 * i);
        v[i] = d * (lo_nibbles(qs[i]) + vec4(uvec4(hl, hl >> 1, hl >> 2, hl >> 3) & 1u) * 16.0 - 16.0);
        v[4 + i] = d * (hi_nibbles(qs[i]) + vec4(uvec4(hh, hh >> 1, hh >> 2, hh >> 3) & 1u) * 16.0 - 16.0);
    }
}

// Q5_1: x = d * q + m
void dq_q5_1(uint qh, uvec4 qs, vec2 dm, out vec4 v[8]) {
    [[unroll]] for (int i = 0; i < 4; ++i) {
        const uint hl = qh >> (4 * i), hh = qh >> (16 + 4 * i);
        v[i] = dm.x * (lo_nibbles(qs[i]) + vec4(uvec4(hl, hl >> 1, hl >> 2, hl >> 3) & 1u) * 16.0) + dm.y;
        v[4 + i] = dm.x * (hi_nibbles(qs[i]) + vec4(uvec4(hh, hh >> 1, hh >> 2, hh >> 3) & 1u) * 16.0) + dm.y;
    }
}

// Q8_0: x = d * q, q signed bytes
void dq_q8_0(uvec4 lo, uvec4 hi, float d, out vec4 v[8]) {
    [[unroll]] for (int i = 0; i < 4; ++i) {
        v[i] = d * sbytes4(lo[i]);
        v[4 + i] = d * sbytes4(hi[i]);
    }
}

// ---- K-quants (super-blocks of 256 = 8 sub-blocks of 32) ----------------------------------

// Q4_K / Q5_K 6-bit scale and min of sub-block j from the 12 scale bytes (3 words).
vec2 k4_scale_min(uvec3 sw, uint j) {
    uint sc, m;
    if (j < 4u) {
        sc = (sw[j / 4u] >> (8u * (j % 4u))) & 63u;                 // scales[j]
        m = (sw[(j + 4u) / 4u] >> (8u * (j % 4u))) & 63u;           // scales[j+4]
    } else {
        const uint b8 = (sw[2] >> (8u * (j - 4u))) & 0xffu;         // scales[j+4]
        const uint blo = (sw[0] >> (8u * (j - 4u))) & 0xffu;        // scales[j-4]
        const uint bhi = (sw[1] >> (8u * (j - 4u))) & 0xffu;        // scales[j]
        sc = (b8 & 0xfu) | ((blo >> 6) << 4);
        m = (b8 >> 4) | ((bhi >> 6) << 4);
    }
    return vec2(float(sc), float(m));
}

// Q4_K sub-block j: qs = the 8 words of chunk j/2 (bytes 32*(j/2)..), nibble j%2.
// x = (d * sc) * q - dmin * m; dd = (d, dmin).
void dq_q4_k(uvec4 qa, uvec4 qb, vec2 dd, uvec3 sw, uint j, out vec4 v[8]) {
    const vec2 sm = k4_scale_min(sw, j);
    const float a = dd.x * sm.x, b = dd.y * sm.y;
    const uint sh = (j & 1u) * 4u;
    [[unroll]] for (int i = 0; i < 4; ++i) {
        v[i] = a * vec4(uvec4(qa[i] >> sh, qa[i] >> (sh + 8u), qa[i] >> (sh + 16u), qa[i] >> (sh + 24u)) & 0xfu) - b;
        v[4 + i] = a * vec4(uvec4(qb[i] >> sh, qb[i] >> (sh + 8u), qb[i] >> (sh + 16u), qb[i] >> (sh + 24u)) & 0xfu) - b;
    }
}

// Q5_K sub-block j: as Q4_K plus bit j of qh byte l (qh = 8 words, element l of the sub-block).
void dq_q5_k(uvec4 qa, uvec4 qb, uvec4 ha, uvec4 hb, vec2 dd, uvec3 sw, uint j, out vec4 v[8]) {
    const vec2 sm = k4_scale_min(sw, j);
    const float a = dd.x * sm.x, b = dd.y * sm.y;
    const uint sh = (j & 1u) * 4u;
    [[unroll]] for (int i = 0; i < 4; ++i) {
        v[i] = a * (vec4(uvec4(qa[i] >> sh, qa[i] >> (sh + 8u), qa[i] >> (sh + 16u), qa[i] >> (sh + 24u)) & 0xfu) +
                    byte_bits(ha[i], j, 16.0)) - b;
        v[4 + i] = a * (vec4(uvec4(qb[i] >> sh, qb[i] >> (sh + 8u), qb[i] >> (sh + 16u), qb[i] >> (sh + 24u)) & 0xfu) +
                        byte_bits(hb[i], j, 16.0)) - b;
    }
}

// Q6_K sub-block j = 4h + k (elements 128h + 32k + l): low 4 bits = nibble (k/2) of ql word
// (bytes 64h + 32(k%2) + l), high 2 bits = bits 2k.. of qh byte 32h + l, scales s0 (l < 16)
// and s1 (l >= 16) are signed bytes. x = d * s * (q - 32).
void dq_q6_k(uvec4 la, uvec4 lb, uvec4 ha, uvec4 hb, float d, float s0, float s1, uint k, out vec4 v[8]) {
    const uint ls = (k >> 1) * 4u, hs = 2u * k;
    const float a0 = d * s0, a1 = d * s1;
    [[unroll]] for (int i = 0; i < 4; ++i) {
        const uvec4 qa = (uvec4(la[i] >> ls, la[i] >> (ls + 8u), la[i] >> (ls + 16u), la[i] >> (ls + 24u)) & 0xfu) |
                         ((uvec4(ha[i] >> hs, ha[i] >> (hs + 8u), ha[i] >> (hs + 16u), ha[i] >> (hs + 24u)) & 3u) << 4);
        const uvec4 qb = (uvec4(lb[i] >> ls, lb[i] >> (ls + 8u), lb[i] >> (ls + 16u), lb[i] >> (ls + 24u)) & 0xfu) |
                         ((uvec4(hb[i] >> hs, hb[i] >> (hs + 8u), hb[i] >> (hs + 16u), hb[i] >> (hs + 24u)) & 3u) << 4);
        v[i] = a0 * (vec4(qa) - 32.0);
        v[4 + i] = a1 * (vec4(qb) - 32.0);
    }
}
#endif
