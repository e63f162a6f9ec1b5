#version 450
#extension GL_GOOGLE_include_directive : require
// Tiled matrix-matrix product for prefill: Y[c][row] = sum_k W[row][k] * X[c][k].
// One workgroup computes a BM x BN tile of Y (BM weight rows x BN columns); each of its
// WG = BM*BN/16 invocations owns a 4 x 4 block of outputs (rows tx + i*BM/4, columns
// ty + j*BN/4). K is walked in 32-element sub-blocks: the workgroup dequantizes BM sub-blocks
// of W and loads BN x 32 floats of X into shared memory, then every invocation does 32 rank-1
// updates of its 4 x 4 block from shared memory. Accumulation: f32. The result is written
// through an epilogue (matmul_epilogue.glsl); p.norm is not supported here (the host checks).
// Shared memory: (BM + BN) * 33 * 4 bytes (64 x 64: 16.9 KB, 32 x 32: 8.4 KB).
#include "common.glsl"
#include "params.h"

layout(constant_id = 0) const uint BM = 64;
layout(constant_id = 1) const uint BN = 64;
layout(constant_id = 2) const uint WG_SIZE = 256;  // BM * BN / 16
layout(local_size_x_id = 2) in;

layout(push_constant) uniform Push { MatmulParams p; };
layout(std430, binding = 0) readonly buffer W { uint wq[]; };     // device weight layout
layout(std430, binding = 1) readonly buffer X { float x[]; };     // (N, K)
layout(std430, binding = 2) buffer Y { float y[]; };              // (N, y_stride)

#include "dequant.glsl"
#include "matmul_epilogue.glsl"
#include "matmul_load.glsl"

// +1 column of padding so the 32 floats of consecutive rows start in different banks.
shared float ws[BM][33];  // dequantized W sub-blocks
shared float xs[BN][33];  // X slices

void main() {
    const uint tiles_m = (p.M + BM - 1u) / BM;
    const uint g = linear_group_id();
    const uint tm = g % tiles_m, tn = g / tiles_m;
    if (tn * BN >= p.N) return;  // whole workgroup: safe before barriers
    const uint t = gl_LocalInvocationIndex;
    const uint tx = t % (BM / 4u), ty = t / (BM / 4u);

    float acc[4][4];
    [[unroll]] for (uint i = 0; i < 4u; ++i)
        [[unroll]] for (uint j = 0; j < 4u; ++j) acc[i][j] = 0.0;

    for (uint s = 0; s < p.n_sub; ++s) {
        for (uint r = t; r < BM; r += WG_SIZE) {
            const uint row = tm * BM + r;
            vec4 v[8];
            if (row < p.M) {
                load_sub32(row, s, v);
            } else {
                [[unroll]] for (uint i = 0; i < 8u; ++i) v[i] = vec4(0.0);
            }
            [[unroll]] for (uint i = 0; i < 8u; ++i)
                [[unroll]] for (uint e = 0; e < 4u; ++e) ws[r][4u * i + e] = v[i][e];
        }
        for (uint i = t; i < BN * 32u; i += WG_SIZE) {
            const uint c = i / 32u, kk = i % 32u;
            const uint col = tn * BN + c, k = 32u * s + kk;
            xs[c][kk] = (col < p.N && k < p.K) ? x[(p.col0 + col) * p.K + k] : 0.0;
        }
        barrier();
        for (uint kk = 0; kk < 32u; ++kk) {
            float a[4], b[4];
            [[unroll]] for (uint i = 0; i < 4u; ++i) a[i] = ws[tx + i * (BM / 4u)][kk];
            [[unroll]] for (uint j = 0; j < 4u; ++j) b[j] = xs[ty + j * (BN / 4u)][kk];
            [[unroll]] for (uint i = 0; i < 4u; ++i)
                [[unroll]] for (uint j = 0; j < 4u; ++j) acc[i][j] += a[i] * b[j];
        }
        barrier();
    }

    [[unroll]] for (uint j = 0; j < 4u; ++j) {
        const uint col = tn * BN + ty + j * (BN / 4u);
        if (col >= p.N) continue;
        [[unroll]] for (uint i = 0; i < 4u; ++i) {
            const uint row = tm * BM + tx + i * (BM / 4u);
            if (row < p.M) write_y(y_index(p.col0 + col, p.y_row0 + row), acc[i][j]);
        }
    }
}
