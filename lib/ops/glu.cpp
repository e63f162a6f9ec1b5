#include "ops/glu.hpp"

#include <algorithm>

#include "shaders/params.h"

namespace vks::ops {

void glu(Kernels& k, vk::Commands& cmd, GluKind kind, vk::BufferRange gate, vk::BufferRange up, vk::BufferRange out,
         uint32_t n) {
    const uint32_t wg = k.wg_size();
    shader::GluParams p{n};
    Grid g = grid_for(std::min<uint64_t>((uint64_t(n) + wg - 1) / wg, 1024), k.caps());
    cmd.dispatch(k.pipeline(kind == GluKind::silu ? "silu_glu_f32" : "gelu_glu_f32", {wg}), {gate, up, out}, p, g.x, g.y);
}

}  // namespace vks::ops
