// How matvec.comp and matmul.comp write a result r to Y[idx] (MatmulParams::epilogue):
// a plain store, or an element-wise op fused into the store (a residual add, a gated linear
// unit), each saving a dispatch and a pass over Y. Needs `y[]` (read-write) and `p`.
// y_index places an element when the output is split into segments (MatmulParams::seg1).
#include "activation.glsl"

// Y index of (column, row of the whole tensor), with the output segments of MatmulParams.
uint y_index(uint col, uint row) {
    if (p.seg1 == 0u) return col * p.y_stride + row;
    if (row < p.seg1) return col * p.seg1 + row;
    if (row < p.seg2) return p.y_off1 + col * (p.seg2 - p.seg1) + (row - p.seg1);
    return p.y_off2 + col * (p.y_stride - p.seg2) + (row - p.seg2);
}

void write_y(uint idx, float r) {
    if (p.epilogue == MATMUL_EPI_ADD) {
        r += y[idx];
    } else if (p.epilogue == MATMUL_EPI_SILU_GLU) {
        r *= act_silu(y[idx]);
    } else if (p.epilogue == MATMUL_EPI_GELU_GLU) {
        r *= act_gelu(y[idx]);
    }
    y[idx] = r;
}
