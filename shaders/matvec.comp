#version 450
#extension GL_GOOGLE_include_directive : require
// Matrix-vector product for decode: Y[c][row] = sum_k W[row][k] * X[c][k] for NC (1..8)
// columns at once, so each weight is loaded and dequantized once for all columns.
// No shared memory and no barriers (both are slow on CPU devices such as lavapipe):
//   USE_SUBGROUP: each subgroup owns one row at a time; lane i walks the row's 32-element
//                 sub-blocks i, i + subgroup size, ... and subgroupAdd finishes the dot.
//                 Works for any subgroup size; ROWS_PER_WG rows per workgroup.
//   portable:     each invocation owns R whole rows (ROWS_PER_WG = R * WG_SIZE): no reduction
//                 at all, and each X load serves R rows (CPU devices pay per load instruction
//                 and lane, so this is what makes the portable variant fast there).
//   GROUP8:       (with W_TEXEL, affine types) the portable scheme with R = 8 where the rows are
//                 one row group of the layout, so each weight texel is fetched once for all 8.
// Accumulation: f32 (per lane, then the subgroup sum). Each chunk of rows (see
// lib/ops/matmul.hpp) is one dispatch; linear_group_id() spans grids over 65535 groups.
// Fusions (they save dispatches, which are what a decode step on a CPU device is made of):
//   p.norm:     RMS norm of each X column with weight g (binding 3) on the way in: the dot is
//               taken with x * g, and the sum of x^2 is gathered from the same X loads (every
//               invocation or subgroup walks all of K), so r = dot(W, x * g) / rms(x) needs no
//               separate rms_norm dispatch and no normed copy of X.
//   p.epilogue: how r is written (matmul_epilogue.glsl): store, residual add, or a gated unit.
#include "common.glsl"
#include "params.h"

layout(constant_id = 0) const uint WG_SIZE = 64;
layout(constant_id = 1) const uint ROWS_PER_WG = 64;
layout(constant_id = 2) const uint NC = 1;  // column slots: 1, 2, 4 or 8; p.N <= NC are used
layout(local_size_x_id = 0) in;

layout(push_constant) uniform Push { MatmulParams p; };
#ifdef W_TEXEL
// Texel variants (_tb): weights and X read through uniform texel buffers (uvec4 texels). On
// lavapipe a texel fetch is a vector gather while an SSBO load is a per-lane loop (~10x).
// X is bound from column p.col0 on (the host binds that sub-range: K % 4 == 0, so a column is
// whole texels), so X column c of this dispatch starts at texel c * K / 4.
layout(binding = 0) uniform usamplerBuffer wt;                     // device weight layout
layout(binding = 1) uniform usamplerBuffer xt;                     // (N, K) f32 bits, K % 4 == 0
#else
layout(std430, binding = 0) readonly buffer W { uint wq[]; };     // device weight layout
#endif
#if defined(W_TEXEL)
#elif defined(X_VEC4)
layout(std430, binding = 1) readonly buffer X { vec4 xv[]; };     // (N, K), K % 32 == 0
#else
layout(std430, binding = 1) readonly buffer X { float x[]; };     // (N, K)
#endif
layout(std430, binding = 2) buffer Y { float y[]; };              // (N, y_stride)
#ifdef W_TEXEL
layout(binding = 3) uniform usamplerBuffer gt;                     // (K) f32 bits: norm weight
#else
layout(std430, binding = 3) readonly buffer G { float g[]; };     // (K): norm weight
#endif

#include "dequant.glsl"
#include "matmul_epilogue.glsl"
#include "matmul_load.glsl"

// Rows per invocation in the portable variant: X is loaded once per sub-block for all of them.
layout(constant_id = 3) const uint R = 1;

float acc[NC * R];  // acc[c * R + j]: column c, j-th row of this invocation
float ssq[NC];      // p.norm: sum of x^2 of column c over the sub-blocks this invocation walked

// x[o .. o+3] (o = column start + k). Float-type rows may end inside a sub-block: elements
// at or past p.K read as 0, and the index is clamped to the column so the load stays in bounds.
#ifndef W_TEXEL
vec4 load_x4(uint o, uint k) {
#ifdef X_VEC4
    return xv[o >> 2];
#else
    const uint last = o - k + p.K - 1u;
    vec4 r;
    [[unroll]] for (uint i = 0; i < 4u; ++i) r[i] = k + i < p.K ? x[min(o + i, last)] : 0.0;
    return r;
#endif
}

// g[k .. k+3] (elements at or past K read as 0, like X).
vec4 load_g4(uint k) {
    vec4 r;
    [[unroll]] for (uint i = 0; i < 4u; ++i) r[i] = k + i < p.K ? g[k + i] : 0.0;
    return r;
}
#endif

#ifdef W_TEXEL
vec4 xs[NC][8];  // the X slice of the current sub-block, per column (normed when p.norm)
#ifdef W_AFFINE
float xsum[NC];  // sum of the column's 32 X values (weights are a * q + b)
#endif

// Fetches the X slice of sub-block s of every column once (NC * 8 texels), applies the norm
// weight (and gathers the sums of squares), and sums it for the affine form.
void x_slice(uint s) {
    const uint kq = p.K >> 2;  // texels per X column
    [[unroll]] for (uint c = 0; c < NC; ++c) {
        // Columns past p.N and elements past K (float-type tails) read as 0; the padded weights
        // there are 0 too, but 0 * (another column's value) must not be an inf * 0.
        [[unroll]] for (uint i = 0; i < 8u; ++i) {
            const uint t = 8u * s + i;
            xs[c][i] = (c < p.N && t < kq) ? uintBitsToFloat(texelFetch(xt, int(c * kq + t))) : vec4(0.0);
        }
    }
    if (p.norm != 0u) {
        [[unroll]] for (uint i = 0; i < 8u; ++i) {
            const uint t = 8u * s + i;
            const vec4 gi = t < kq ? uintBitsToFloat(texelFetch(gt, int(t))) : vec4(0.0);
            [[unroll]] for (uint c = 0; c < NC; ++c) {
                ssq[c] += dot(xs[c][i], xs[c][i]);
                xs[c][i] *= gi;
            }
        }
    }
#ifdef W_AFFINE
    [[unroll]] for (uint c = 0; c < NC; ++c) {
        vec4 t = xs[c][0];
        [[unroll]] for (uint i = 1; i < 8u; ++i) t += xs[c][i];
        xsum[c] = t.x + t.y + t.z + t.w;
    }
#endif
}

// Sub-block s of rows row0 + j * row_step (j < R) against every column: the X slice first,
// then each row is fetched, dequantized and dotted in turn, so only one row's 32 weights are
// live at a time.
void dot_sub(uint row0, uint row_step, uint s) {
    x_slice(s);
    [[unroll]] for (uint j = 0; j < R; ++j) {
        vec4 v[8];
#ifdef W_AFFINE
        const vec2 ab = load_sub32_affine(min(row0 + j * row_step, p.M - 1u), s, v);
#else
        load_sub32(min(row0 + j * row_step, p.M - 1u), s, v);
#endif
        [[unroll]] for (uint c = 0; c < NC; ++c) {
            if (c > 0u && c >= p.N) break;  // uniform
            vec4 t = v[0] * xs[c][0];
            [[unroll]] for (uint i = 1; i < 8u; ++i) t += v[i] * xs[c][i];
#ifdef W_AFFINE
            acc[c * R + j] += ab.x * ((t.x + t.y) + (t.z + t.w)) + ab.y * xsum[c];
#else
            acc[c * R + j] += (t.x + t.y) + (t.z + t.w);
#endif
        }
    }
}

#ifdef GROUP8
// GROUP8 (the _tbg variants; weights uploaded in groups of 8 rows, R == 8): the invocation owns
// the 8 rows of one group, row0 .. row0 + 7. Their copies of block s are 8 * BLOCK_WORDS
// consecutive words starting on a texel boundary, so each texel is fetched once for all 8 rows
// (Q4_1: 10 fetches where 8 separate rows need 16) and every word is picked at a constant
// position; the split types' 8 d factors are one texel. Rows past p.M are the chunk's zero
// padding (never stored).
void dot_sub_group(uint row0, uint s) {
    x_slice(s);
    const uint bi0 = block_idx(row0, s, p.n_sub);  // a multiple of 8
    const uint t0 = (bi0 * BLOCK_WORDS) >> 2;
#ifdef W_SPLIT
    const uvec4 dd = texelFetch(wt, int((p.d_offset >> 2) + (bi0 >> 3)));
#endif
    uvec4 ta = uvec4(0u), tb = uvec4(0u);  // the row's first and last texel (tb also the next row's first)
    [[unroll]] for (uint j = 0; j < 8u; ++j) {
        // All of this is constant after unrolling: which texels row j spans, which are new.
        const uint first = (BLOCK_WORDS * j) >> 2, last = (BLOCK_WORDS * j + BLOCK_WORDS - 1u) >> 2;
        const bool shared_first = j > 0u && first == ((BLOCK_WORDS * j - 1u) >> 2);
        ta = shared_first ? tb : texelFetch(wt, int(t0 + first));
        tb = last == first ? ta : texelFetch(wt, int(t0 + last));
        uint w[BLOCK_WORDS];
        [[unroll]] for (uint i = 0; i < BLOCK_WORDS; ++i) {
            const uint idx = BLOCK_WORDS * j + i;
            w[i] = (idx >> 2) == first ? ta[idx & 3u] : tb[idx & 3u];
        }
#ifdef W_SPLIT
        const float d = half_at(dd[j >> 1], j);
#else
        const float d = 0.0;
#endif
        vec4 q[8];
        const vec2 ab = dq_words_affine(w, d, q);
        [[unroll]] for (uint c = 0; c < NC; ++c) {
            if (c > 0u && c >= p.N) break;  // uniform
            vec4 t = q[0] * xs[c][0];
            [[unroll]] for (uint i = 1; i < 8u; ++i) t += q[i] * xs[c][i];
            acc[c * R + j] += ab.x * ((t.x + t.y) + (t.z + t.w)) + ab.y * xsum[c];
        }
    }
}
#endif
#else
// Sub-block s of rows row0 + j * row_step (j < R) against every column.
void dot_sub(uint row0, uint row_step, uint s) {
    vec4 v[R][8];
    [[unroll]] for (uint j = 0; j < R; ++j) load_sub32(min(row0 + j * row_step, p.M - 1u), s, v[j]);
    [[unroll]] for (uint c = 0; c < NC; ++c) {
        if (c > 0u && c >= p.N) break;  // uniform; X has only p.N columns
        const uint o = (p.col0 + c) * p.K + 32u * s;
        float t[R];
        [[unroll]] for (uint j = 0; j < R; ++j) t[j] = 0.0;
        [[unroll]] for (uint i = 0; i < 8u; ++i) {
            vec4 xx = load_x4(o + 4u * i, 32u * s + 4u * i);
            if (p.norm != 0u) {
                ssq[c] += dot(xx, xx);
                xx *= load_g4(32u * s + 4u * i);
            }
            [[unroll]] for (uint j = 0; j < R; ++j) t[j] += dot(v[j][i], xx);
        }
        [[unroll]] for (uint j = 0; j < R; ++j) acc[c * R + j] += t[j];
    }
}
#endif

// Sub-blocks first, first + step, ... of the rows into acc[].
void dot_rows(uint row0, uint row_step, uint first, uint step) {
    [[unroll]] for (uint c = 0; c < NC * R; ++c) acc[c] = 0.0;
    [[unroll]] for (uint c = 0; c < NC; ++c) ssq[c] = 0.0;
#ifdef GROUP8
    for (uint s = first; s < p.n_sub; s += step) dot_sub_group(row0, s);  // row_step == 1
#else
    for (uint s = first; s < p.n_sub; s += step) dot_sub(row0, row_step, s);
#endif
}

// ssq[] must hold the whole columns' sums of squares (p.norm).
void store_rows(uint row0, uint row_step) {
    float scale[NC];
    [[unroll]] for (uint c = 0; c < NC; ++c) scale[c] = p.norm != 0u ? inversesqrt(ssq[c] / float(p.K) + p.eps) : 1.0;
    [[unroll]] for (uint j = 0; j < R; ++j) {
        const uint row = row0 + j * row_step;
        if (row >= p.M) break;
        [[unroll]] for (uint c = 0; c < NC; ++c)
            if (c < p.N) write_y(y_index(p.col0 + c, p.y_row0 + row), acc[c * R + j] * scale[c]);
    }
}

#ifdef GROUP8
// Paired gate/up epilogues: the group's rows 0-3 are gate rows, 4-7 the matching up rows (the
// host pads nothing here: M is a multiple of 8), written as 4 outputs act(gate) * up at Y row
// (y_row0 + row0) / 2 + j of an (N, y_stride = M / 2) matrix.
void store_pairs(uint row0) {
    [[unroll]] for (uint c = 0; c < NC; ++c) {
        if (c >= p.N) break;
        const float sc = p.norm != 0u ? inversesqrt(ssq[c] / float(p.K) + p.eps) : 1.0;
        [[unroll]] for (uint j = 0; j < 4u; ++j) {
            const float gate = acc[c * R + j] * sc, up = acc[c * R + j + 4u] * sc;
            const float a = p.epilogue == MATMUL_EPI_SILU_PAIRS ? act_silu(gate) : act_gelu(gate);
            y[(p.col0 + c) * p.y_stride + ((p.y_row0 + row0) >> 1) + j] = a * up;
        }
    }
}
#endif

void main() {
    const uint row0 = linear_group_id() * ROWS_PER_WG;
#ifdef USE_SUBGROUP
    for (uint r = gl_SubgroupID; r < ROWS_PER_WG; r += gl_NumSubgroups) {
        const uint row = row0 + r;
        if (row >= p.M) break;  // uniform across the subgroup
        dot_rows(row, 0u, gl_SubgroupInvocationID, gl_SubgroupSize);  // R == 1
        [[unroll]] for (uint c = 0; c < NC; ++c) acc[c] = subgroupAdd(acc[c]);
        if (p.norm != 0u) [[unroll]] for (uint c = 0; c < NC; ++c) ssq[c] = subgroupAdd(ssq[c]);
        if (subgroupElect()) store_rows(row, 0u);
    }
#elif defined(GROUP8)
    // Rows row + j for j < 8: the invocation's row group.
    const uint row = row0 + 8u * gl_LocalInvocationIndex;
    if (row >= p.M) return;
    dot_rows(row, 1u, 0u, 1u);
    if (p.epilogue >= MATMUL_EPI_SILU_PAIRS) store_pairs(row);
    else store_rows(row, 1u);
#else
    // Rows row0 + i + j * WG_SIZE for j < R (ROWS_PER_WG = R * WG_SIZE).
    const uint row = row0 + gl_LocalInvocationIndex;
    if (row >= p.M) return;
    dot_rows(row, WG_SIZE, 0u, 1u);
    store_rows(row, WG_SIZE);
#endif
}
