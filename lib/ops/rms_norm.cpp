#include "ops/rms_norm.hpp"

#include "common/error.hpp"
#include "shaders/params.h"

namespace vks::ops {

namespace {

void record(Kernels& k, vk::Commands& cmd, vk::BufferRange x, const vk::BufferRange* weight, vk::BufferRange out,
            uint32_t n_rows, uint32_t n_cols, float eps, bool accumulate) {
    if (n_cols == 0) fail(Status::invalid_argument, "rms_norm: n_cols must be > 0");
    // Power of two (the shared-memory tree needs it); small rows don't need 256 lanes.
    uint32_t wg = k.wg_size(n_cols >= 256 ? 256 : 64);
    shader::RmsNormParams p{n_cols, n_rows, eps, weight ? 1u : 0u, accumulate ? 1u : 0u};
    Grid g = grid_for(n_rows, k.caps());
    const char* variant = k.use_subgroups() ? "rms_norm_f32_sg" : "rms_norm_f32";
    cmd.dispatch(k.pipeline(variant, {wg}), {x, weight ? *weight : x, out}, p, g.x, g.y);
}

}  // namespace

void rms_norm(Kernels& k, vk::Commands& cmd, vk::BufferRange x, const vk::BufferRange* weight, vk::BufferRange out,
              uint32_t n_rows, uint32_t n_cols, float eps) {
    record(k, cmd, x, weight, out, n_rows, n_cols, eps, false);
}

void rms_norm_add(Kernels& k, vk::Commands& cmd, vk::BufferRange x, const vk::BufferRange* weight,
                  vk::BufferRange out, uint32_t n_rows, uint32_t n_cols, float eps) {
    if (x.buffer == out.buffer && x.offset == out.offset)
        fail(Status::invalid_argument, "rms_norm_add: out must not alias x");
    record(k, cmd, x, weight, out, n_rows, n_cols, eps, true);
}

}  // namespace vks::ops
