#include "ops/softmax.hpp"

#include "shaders/params.h"

namespace vks::ops {

void softmax(Kernels& k, vk::Commands& cmd, vk::BufferRange x, vk::BufferRange out, uint32_t n_rows, uint32_t n_cols,
             float scale) {
    uint32_t wg = k.wg_size(n_cols >= 256 ? 256 : 64);
    shader::SoftmaxParams p{n_cols, n_rows, scale};
    Grid g = grid_for(n_rows, k.caps());
    cmd.dispatch(k.pipeline(k.use_subgroups() ? "softmax_f32_sg" : "softmax_f32", {wg}), {x, out}, p, g.x, g.y);
}

}  // namespace vks::ops
