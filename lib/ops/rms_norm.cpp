#include "ops/rms_norm.hpp"

#include "common/error.hpp"
#include "ops/matvec_q8_1.hpp"
#include "shaders/params.h"

namespace vks::ops {

namespace {

// Power of two (the shared-memory tree needs it); small rows don't need 256 lanes.
uint32_t wg_for(Kernels& k, uint32_t n_cols) { return k.wg_size(n_cols >= 256 ? 256 : 64); }

void record(Kernels& k, vk::Commands& cmd, vk::BufferRange x, const vk::BufferRange* weight, vk::BufferRange out,
            uint32_t n_rows, uint32_t n_cols, float eps, bool accumulate) {
    if (n_cols == 0) fail(Status::invalid_argument, "rms_norm: n_cols must be > 0");
    uint32_t wg = wg_for(k, n_cols);
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

void rms_norm_add_q8_1(Kernels& k, vk::Commands& cmd, vk::BufferRange x, const vk::BufferRange* weight,
                       vk::BufferRange out, uint32_t n_rows, uint32_t n_cols, float eps, vk::BufferRange next_weight,
                       vk::BufferRange xq) {
    if (x.buffer == out.buffer && x.offset == out.offset)
        fail(Status::invalid_argument, "rms_norm_add_q8_1: out must not alias x");
    if (n_rows == 0 || n_cols == 0 || n_cols % 32 != 0)
        fail(Status::invalid_argument, "rms_norm_add_q8_1: need n_rows >= 1 and n_cols a positive multiple of 32 (got %u, %u)",
             n_rows, n_cols);
    if (xq.resolved_size() < q8_1_bytes(n_rows, n_cols))
        fail(Status::invalid_argument, "rms_norm_add_q8_1: XQ holds %llu bytes, needs %llu", (unsigned long long)xq.resolved_size(),
             (unsigned long long)q8_1_bytes(n_rows, n_cols));
    if (next_weight.resolved_size() < uint64_t(n_cols) * 4)
        fail(Status::invalid_argument, "rms_norm_add_q8_1: the next norm weight holds %llu bytes, %u floats need %llu",
             (unsigned long long)next_weight.resolved_size(), n_cols, (unsigned long long)n_cols * 4);
    const uint32_t wg = wg_for(k, n_cols);
    shader::RmsNormParams p{n_cols, n_rows, eps, weight ? 1u : 0u, 1u};
    Grid g = grid_for(n_rows, k.caps());
    const char* variant = k.use_subgroups() ? "rms_norm_add_q8_1_sg" : "rms_norm_add_q8_1";
    cmd.dispatch(k.pipeline(variant, {wg}), {x, weight ? *weight : x, out, next_weight, xq}, p, g.x, g.y);
}

}  // namespace vks::ops
