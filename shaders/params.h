// Push-constant blocks shared by C++ (lib/ops) and GLSL (shaders/*.comp): one definition, so
// the two sides cannot drift. Only 32-bit scalars, so std430 and C layouts agree.
#ifndef VKS_SHADERS_PARAMS_H
#define VKS_SHADERS_PARAMS_H

#ifdef __cplusplus
#include <cstdint>
namespace vks::shader {
using uint = uint32_t;
#endif

// elementwise.comp: out[i] = a[i] OP b[i % n_b] for i in [0, n)
struct BinaryParams {
    uint n;    // elements in a and out
    uint n_b;  // elements in b (== n, or a row length that b broadcasts over)
};

// glu.comp: out[i] = act(gate[i]) * up[i]
struct GluParams {
    uint n;
};

// rms_norm.comp: one workgroup per row of n_cols; out = x / sqrt(mean(x^2) + eps) * w
struct RmsNormParams {
    uint n_cols;
    uint n_rows;
    float eps;
    uint has_weight;
};

// softmax.comp: one workgroup per row, in place or out of place
struct SoftmaxParams {
    uint n_cols;
    uint n_rows;
    float scale;  // logits are multiplied by scale before the softmax
};

#ifdef __cplusplus
}  // namespace vks::shader
#endif
#endif
