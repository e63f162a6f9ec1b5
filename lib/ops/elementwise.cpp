#include "ops/elementwise.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "shaders/params.h"

namespace vks::ops {

static void binary(Kernels& k, vk::Commands& cmd, const char* variant, vk::BufferRange a, vk::BufferRange b,
                   vk::BufferRange out, uint32_t n, uint32_t n_b) {
    if (n_b == 0 || n % n_b != 0) fail(Status::internal, "%s: n=%u is not a multiple of n_b=%u", variant, n, n_b);
    const uint32_t wg = k.wg_size();
    shader::BinaryParams p{n, n_b};
    // Grid-stride: at most 1024 workgroups, each loops over its share.
    Grid g = grid_for(std::min<uint64_t>((uint64_t(n) + wg - 1) / wg, 1024), k.caps());
    cmd.dispatch(k.pipeline(variant, {wg}), {a, b, out}, p, g.x, g.y);
}

void add(Kernels& k, vk::Commands& cmd, vk::BufferRange a, vk::BufferRange b, vk::BufferRange out, uint32_t n,
         uint32_t n_b) {
    binary(k, cmd, "add_f32", a, b, out, n, n_b);
}

void mul(Kernels& k, vk::Commands& cmd, vk::BufferRange a, vk::BufferRange b, vk::BufferRange out, uint32_t n,
         uint32_t n_b) {
    binary(k, cmd, "mul_f32", a, b, out, n, n_b);
}

}  // namespace vks::ops
