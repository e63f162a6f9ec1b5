#include "ops/rms_norm.hpp"

#include "shaders/params.h"

namespace vks::ops {

void rms_norm(Kernels& k, vk::Commands& cmd, vk::BufferRange x, const vk::BufferRange* weight, vk::BufferRange out,
              uint32_t n_rows, uint32_t n_cols, float eps) {
    // Power of two (the shared-memory tree needs it); small rows don't need 256 lanes.
    uint32_t wg = k.wg_size(n_cols >= 256 ? 256 : 64);
    shader::RmsNormParams p{n_cols, n_rows, eps, weight ? 1u : 0u};
    Grid g = grid_for(n_rows, k.caps());
    const char* variant = k.use_subgroups() ? "rms_norm_f32_sg" : "rms_norm_f32";
    cmd.dispatch(k.pipeline(variant, {wg}), {x, weight ? *weight : x, out}, p, g.x, g.y);
}

}  // namespace vks::ops
