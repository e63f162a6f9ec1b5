#include "ops/glu.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "shaders/params.h"

namespace vks::ops {

void glu(Kernels& k, vk::Commands& cmd, GluKind kind, vk::BufferRange gate, vk::BufferRange up, vk::BufferRange out,
         uint32_t n) {
    const uint32_t wg = k.wg_size();
    shader::GluParams p{n};
    Grid g = grid_for(std::min<uint64_t>((uint64_t(n) + wg - 1) / wg, 1024), k.caps());
    cmd.dispatch(k.pipeline(kind == GluKind::silu ? "silu_glu_f32" : "gelu_glu_f32", {wg}), {gate, up, out}, p, g.x, g.y);
}

void glu_paired(Kernels& k, vk::Commands& cmd, GluKind kind, vk::BufferRange in, vk::BufferRange out, uint32_t n) {
    if (n % 4 != 0) fail(Status::invalid_argument, "glu_paired: n = %u is not a multiple of 4", n);
    const uint32_t wg = k.wg_size();
    shader::GluParams p{n};
    Grid g = grid_for(std::min<uint64_t>((uint64_t(n) + wg - 1) / wg, 1024), k.caps());
    cmd.dispatch(k.pipeline(kind == GluKind::silu ? "silu_glu_paired_f32" : "gelu_glu_paired_f32", {wg}), {in, in, out}, p,
                 g.x, g.y);
}

}  // namespace vks::ops
