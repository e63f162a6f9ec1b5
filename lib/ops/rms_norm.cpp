#include "ops/rms_norm.hpp"

#include "common/error.hpp"
#include "ops/matvec_q8_1.hpp"
#include "shaders/params.h"

namespace vks::ops {

namespace {

// Power of two (the shared-memory tree needs it); small rows don't need 256 lanes. On a CPU device
// with subgroups a row is one subgroup: lavapipe runs a workgroup of one SIMD vector as one job,
// where 256 invocations are 32 vectors that switch at each of the reduction's barriers (measured
// on Gemma 3, whose q/k heads and post-norms are rows of 256 and 640: the norms' share of a
// 64-token prefill fell from ~16 % to ~4 %, docs/BENCHMARKS.md).
uint32_t wg_for(Kernels& k, uint32_t n_cols) {
    const vk::Capabilities& caps = k.caps();
    if (caps.type == VK_PHYSICAL_DEVICE_TYPE_CPU && k.use_subgroups() && caps.subgroup_size >= 1 &&
        caps.subgroup_size_control && caps.min_subgroup_size == caps.max_subgroup_size)
        return k.wg_size(caps.subgroup_size);
    return k.wg_size(n_cols >= 256 ? 256 : 64);
}

void record(Kernels& k, vk::Commands& cmd, vk::BufferRange x, const vk::BufferRange* weight, vk::BufferRange out,
            uint32_t n_rows, uint32_t n_cols, float eps, bool accumulate) {
    if (n_cols == 0) fail(Status::invalid_argument, "rms_norm: n_cols must be > 0");
    uint32_t wg = wg_for(k, n_cols);
    shader::RmsNormParams p{n_cols, n_rows, eps, weight ? 1u : 0u, accumulate ? 1u : 0u, 0u, 0u};
    Grid g = grid_for(n_rows, k.caps());
    const char* variant = k.use_subgroups() ? "rms_norm_f32_sg" : "rms_norm_f32";
    const vk::BufferRange w = weight ? *weight : x;
    cmd.dispatch(k.pipeline(variant, {wg}), {x, w, out, w}, p, g.x, g.y);
}

}  // namespace

void rms_norm(Kernels& k, vk::Commands& cmd, vk::BufferRange x, const vk::BufferRange* weight, vk::BufferRange out,
              uint32_t n_rows, uint32_t n_cols, float eps) {
    record(k, cmd, x, weight, out, n_rows, n_cols, eps, false);
}

void rms_norm_pair(Kernels& k, vk::Commands& cmd, vk::BufferRange a, vk::BufferRange weight_a, uint32_t rows_a,
                   vk::BufferRange b, vk::BufferRange weight_b, uint32_t rows_b, uint32_t n_cols, float eps) {
    if (n_cols == 0 || rows_a == 0 || rows_b == 0)
        fail(Status::invalid_argument, "rms_norm_pair: need n_cols, rows_a and rows_b > 0 (got %u, %u, %u)", n_cols, rows_a,
             rows_b);
    if (!a.buffer || a.buffer != b.buffer) fail(Status::invalid_argument, "rms_norm_pair: a and b must be ranges of one buffer");
    const uint64_t bytes_a = uint64_t(rows_a) * n_cols * 4, bytes_b = uint64_t(rows_b) * n_cols * 4;
    if (a.resolved_size() < bytes_a || b.resolved_size() < bytes_b)
        fail(Status::invalid_argument, "rms_norm_pair: a or b holds fewer than %u rows of %u floats", rows_a, n_cols);
    if (b.offset < a.offset + bytes_a || (b.offset - a.offset) % 4 != 0 || (b.offset - a.offset) / 4 > UINT32_MAX)
        fail(Status::invalid_argument, "rms_norm_pair: b must start after a's rows, a whole number of floats on");
    if (weight_a.resolved_size() < uint64_t(n_cols) * 4 || weight_b.resolved_size() < uint64_t(n_cols) * 4)
        fail(Status::invalid_argument, "rms_norm_pair: each weight needs %u floats", n_cols);
    const uint32_t b_offset = uint32_t((b.offset - a.offset) / 4);
    const vk::BufferRange both(*a.buffer, a.offset, b.offset + bytes_b - a.offset);
    shader::RmsNormParams p{n_cols, rows_a + rows_b, eps, 1u, 0u, rows_a, b_offset};
    const Grid g = grid_for(uint64_t(rows_a) + rows_b, k.caps());
    const char* variant = k.use_subgroups() ? "rms_norm_f32_sg" : "rms_norm_f32";
    cmd.dispatch(k.pipeline(variant, {wg_for(k, n_cols)}), {both, weight_a, both, weight_b}, p, g.x, g.y);
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
    shader::RmsNormParams p{n_cols, n_rows, eps, weight ? 1u : 0u, 1u, 0u, 0u};
    Grid g = grid_for(n_rows, k.caps());
    const char* variant = k.use_subgroups() ? "rms_norm_add_q8_1_sg" : "rms_norm_add_q8_1";
    cmd.dispatch(k.pipeline(variant, {wg}), {x, weight ? *weight : x, out, next_weight, xq}, p, g.x, g.y);
}

}  // namespace vks::ops
