// How matvec.comp and matmul.comp write a result r to Y[idx] (MatmulParams::epilogue):
// a plain store, or an element-wise op fused into the store (a residual add, a gated linear
// unit), each saving a dispatch and a pass over Y. Needs `y[]` (read-write) and `p`.
#include "activation.glsl"

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
