// Weight access for matvec.comp / matmul.comp: load_sub32(row, s, v) returns the 32 weights
// of sub-block s (elements 32s .. 32s+31) of chunk-local row `row`, whatever the type (one
// W_<TYPE> define per variant). The device layout it reads is documented in lib/ops/matmul.hpp:
//   wq[block_idx(row, blk) * BLOCK_WORDS ...]  block blk of a row (word-aligned), in row groups:
//                                  rows in groups of 2^p.group_shift, block-major inside a group
//   wq[p.d_offset ...]             split types (Q4_0, Q5_0, Q8_0, Q6_K): the f16 factors d of
//                                  all blocks of the chunk, in the same block_idx order, two per word
// Float types (F32/F16/BF16) are stored as 32-element blocks, the last zero-padded.
// Needs: push block `p` (MatmulParams), dequant.glsl, and the weight binding: with W_TEXEL a
// `uniform usamplerBuffer wt` (16-byte texels, texelFetch: the fast read path on lavapipe),
// else the storage buffer `wq` (uint[]; one declaration per binding, the runtime's reflection
// rejects aliases). Both read the
// same layout through word() / words4a(), so the texel and SSBO variants cannot drift.
#ifndef VKS_MATMUL_LOAD_GLSL
#define VKS_MATMUL_LOAD_GLSL

#if defined(W_F32) || defined(W_F16) || defined(W_BF16)
#define W_FLOAT 1
#endif

#ifdef W_TEXEL
// Word b of the chunk: one texel fetch, then a lane select (ALU is cheap, fetches are not).
uint word(uint b) { return texelFetch(wt, int(b >> 2))[b & 3u]; }
// Words b .. b+3 for b % 4 == 0: one texel.
uvec4 words4a(uint b) { return texelFetch(wt, int(b >> 2)); }
// Words b .. b+3, any b: two texels and a select (the 20- and 24-byte blocks of Q4_1, Q5_0, Q5_1).
uvec4 words4(uint b) {
    const uvec4 t0 = texelFetch(wt, int(b >> 2)), t1 = texelFetch(wt, int(b >> 2) + 1);
    const uint o = b & 3u;
    return o == 0u ? t0 : o == 1u ? uvec4(t0.yzw, t1.x) : o == 2u ? uvec4(t0.zw, t1.xy) : uvec4(t0.w, t1.xyz);
}
// Words b (w0) and b+1 .. b+4 (w14), any b: they lie in two texels, fetched once.
void words5(uint b, out uint w0, out uvec4 w14) {
    const uvec4 t0 = texelFetch(wt, int(b >> 2)), t1 = texelFetch(wt, int(b >> 2) + 1);
    const uint o = b & 3u;
    w0 = t0[o];
    w14 = o == 0u ? uvec4(t0.yzw, t1.x) : o == 1u ? uvec4(t0.zw, t1.xy) : o == 2u ? uvec4(t0.w, t1.xyz) : t1;
}
#else
uint word(uint b) { return wq[b]; }
void words5(uint b, out uint w0, out uvec4 w14) { w0 = wq[b]; w14 = uvec4(wq[b + 1u], wq[b + 2u], wq[b + 3u], wq[b + 4u]); }
uvec4 words4(uint b) { return uvec4(wq[b], wq[b + 1u], wq[b + 2u], wq[b + 3u]); }
// Same for b % 4 == 0 (the texel variant fetches one texel; here 4 word loads, which cost
// lavapipe the same as one uvec4 load: 4 per-lane loops either way).
uvec4 words4a(uint b) { return words4(b); }
#endif

// Index of block `blk` of chunk-local row `row` (n_blocks blocks per row) in the row-group
// order: rows in groups of 2^p.group_shift, block-major inside a group, so that group's copies
// of one block are adjacent (group_shift 0: plain row-major).
uint block_idx(uint row, uint blk, uint n_blocks) {
    const uint gs = p.group_shift;
    return (((row >> gs) * n_blocks + blk) << gs) | (row & ((1u << gs) - 1u));
}

// f16 factor of block index `i` (block_idx) in the split d array.
float split_d(uint i) { return half_at(word(p.d_offset + (i >> 1)), i); }

// Blocks per row and words per block: 32-element blocks (legacy types; float types in
// sub-blocks of 32), 256-element super-blocks for the K-quants.
#if defined(W_F32)
const uint BLOCK_WORDS = 32u;
#elif defined(W_F16) || defined(W_BF16)
const uint BLOCK_WORDS = 16u;
#elif defined(W_Q4_0)
const uint BLOCK_WORDS = 4u;
#elif defined(W_Q4_1) || defined(W_Q5_0)
const uint BLOCK_WORDS = 5u;
#elif defined(W_Q5_1)
const uint BLOCK_WORDS = 6u;
#elif defined(W_Q8_0)
const uint BLOCK_WORDS = 8u;
#elif defined(W_Q4_K)
const uint BLOCK_WORDS = 36u;
#elif defined(W_Q5_K)
const uint BLOCK_WORDS = 44u;
#elif defined(W_Q6_K)
const uint BLOCK_WORDS = 52u;
#endif
#if defined(W_Q4_K) || defined(W_Q5_K) || defined(W_Q6_K)
#define SUPER_BLOCKS 1
#endif

void load_sub32(uint row, uint s, out vec4 v[8]) {
#ifdef SUPER_BLOCKS
    const uint n_blocks = p.n_sub >> 3, bi = block_idx(row, s >> 3, n_blocks);
#else
    const uint bi = block_idx(row, s, p.n_sub);
#endif
    const uint b = bi * BLOCK_WORDS;  // first word of the block
#if defined(W_F32)
    [[unroll]] for (uint i = 0; i < 8u; ++i) v[i] = uintBitsToFloat(words4a(b + 4u * i));
#elif defined(W_F16)
    [[unroll]] for (uint i = 0; i < 4u; ++i) {
        const uvec4 w = words4a(b + 4u * i);
        v[2u * i] = vec4(unpackHalf2x16(w.x), unpackHalf2x16(w.y));
        v[2u * i + 1u] = vec4(unpackHalf2x16(w.z), unpackHalf2x16(w.w));
    }
#elif defined(W_BF16)
    [[unroll]] for (uint i = 0; i < 4u; ++i) {
        const uvec4 w = words4a(b + 4u * i);
        v[2u * i] = vec4(bf16x2(w.x), bf16x2(w.y));
        v[2u * i + 1u] = vec4(bf16x2(w.z), bf16x2(w.w));
    }
#elif defined(W_Q4_0)
    dq_q4_0(words4a(b), split_d(bi), v);
#elif defined(W_Q4_1)
    uint dm;
    uvec4 qs;
    words5(b, dm, qs);
    dq_q4_1(qs, unpackHalf2x16(dm), v);
#elif defined(W_Q5_0)
    uint qh;
    uvec4 qs;
    words5(b, qh, qs);
    dq_q5_0(qh, qs, split_d(bi), v);
#elif defined(W_Q5_1)
    dq_q5_1(word(b + 1u), words4(b + 2u), unpackHalf2x16(word(b)), v);
#elif defined(W_Q8_0)
    dq_q8_0(words4a(b), words4a(b + 4u), split_d(bi), v);
#elif defined(W_Q4_K)
    const uint j = s & 7u, base = b;   // 144-byte super-block = 36 words
    const uint q = base + 4u + 8u * (j >> 1);
    const uvec4 hd = words4a(base);                    // d|dmin, 12 scale bytes
    dq_q4_k(words4a(q), words4a(q + 4u), unpackHalf2x16(hd.x), hd.yzw, j, v);
#elif defined(W_Q5_K)
    const uint j = s & 7u, base = b;   // 176-byte super-block = 44 words
    const uint q = base + 12u + 8u * (j >> 1);
    const uvec4 hd = words4a(base);                    // d|dmin, 12 scale bytes
    dq_q5_k(words4a(q), words4a(q + 4u), words4a(base + 4u), words4a(base + 8u), unpackHalf2x16(hd.x), hd.yzw, j, v);
#elif defined(W_Q6_K)
    const uint j = s & 7u, base = b;  // 208 bytes without d = 52 words
    const uint h = j >> 2, k = j & 3u;
    const uint l = base + 16u * h + 8u * (k & 1u);     // ql bytes 64h + 32(k%2) + l
    const uint qh = base + 32u + 8u * h;               // qh bytes 32h + l
    const uint sw = word(base + 48u + 2u * h + (k >> 1)) >> (16u * (k & 1u));  // scales 8h+2k, +1
    const float s0 = float(int(sw << 24) >> 24), s1 = float(int(sw << 16) >> 24);
    dq_q6_k(words4a(l), words4a(l + 4u), words4a(qh), words4a(qh + 4u), split_d(bi), s0, s1, k, v);
#else
#error "matmul_load.glsl: no W_<TYPE> define"
#endif
}

// Affine types: the 32 weights of a sub-block are a * q + b with small integer q (exact in
// f32). load_sub32_affine returns q and (a, b), so a dot product is a * dot(q, x) + b * sum(x):
// sum(x) is computed once per sub-block and column for all rows, which saves the 32 scale
// multiply-adds per row and sub-block (matvec texel variants; ALU-bound on CPU devices).
#if defined(W_Q4_0) || defined(W_Q4_1) || defined(W_Q5_0) || defined(W_Q5_1) || defined(W_Q8_0)
#define W_AFFINE 1
vec2 load_sub32_affine(uint row, uint s, out vec4 q[8]) {
    const uint bi = block_idx(row, s, p.n_sub), b = bi * BLOCK_WORDS;
#if defined(W_Q4_0)
    const float d = split_d(bi);
    dq_q4_1(words4a(b), vec2(1.0, 0.0), q);
    return vec2(d, -8.0 * d);
#elif defined(W_Q4_1)
    uint dm;
    uvec4 qs;
    words5(b, dm, qs);
    dq_q4_1(qs, vec2(1.0, 0.0), q);
    return unpackHalf2x16(dm);
#elif defined(W_Q5_0)
    uint qh;
    uvec4 qs;
    words5(b, qh, qs);
    const float d = split_d(bi);
    dq_q5_1(qh, qs, vec2(1.0, 0.0), q);
    return vec2(d, -16.0 * d);
#elif defined(W_Q5_1)
    dq_q5_1(word(b + 1u), words4(b + 2u), vec2(1.0, 0.0), q);
    return unpackHalf2x16(word(b));
#elif defined(W_Q8_0)
    dq_q8_0(words4a(b), words4a(b + 4u), 1.0, q);
    return vec2(split_d(bi), 0.0);
#endif
}

// Affine dequantization from a block's device words (Q4_0, Q5_0, Q8_0: d from the split array):
// the same q and (a, b) as load_sub32_affine, for callers that fetched the words themselves
// (matvec.comp's GROUP8 path fetches a row group's block once for its 8 rows).
#if defined(W_Q4_0) || defined(W_Q5_0) || defined(W_Q8_0)
#define W_SPLIT 1
#endif
vec2 dq_words_affine(const uint w[BLOCK_WORDS], float d, out vec4 q[8]) {
#if defined(W_Q4_0)
    dq_q4_1(uvec4(w[0], w[1], w[2], w[3]), vec2(1.0, 0.0), q);
    return vec2(d, -8.0 * d);
#elif defined(W_Q4_1)
    dq_q4_1(uvec4(w[1], w[2], w[3], w[4]), vec2(1.0, 0.0), q);
    return unpackHalf2x16(w[0]);
#elif defined(W_Q5_0)
    dq_q5_1(w[0], uvec4(w[1], w[2], w[3], w[4]), vec2(1.0, 0.0), q);
    return vec2(d, -16.0 * d);
#elif defined(W_Q5_1)
    dq_q5_1(w[1], uvec4(w[2], w[3], w[4], w[5]), vec2(1.0, 0.0), q);
    return unpackHalf2x16(w[0]);
#elif defined(W_Q8_0)
    dq_q8_0(uvec4(w[0], w[1], w[2], w[3]), uvec4(w[4], w[5], w[6], w[7]), 1.0, q);
    return vec2(d, 0.0);
#endif
}
#endif
#endif
