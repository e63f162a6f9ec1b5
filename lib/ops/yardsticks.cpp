#include "ops/yardsticks.hpp"

#include "common/error.hpp"
#include "shaders/params.h"

namespace vks::ops {

void fma_peak(Kernels& k, vk::Commands& cmd, vk::BufferRange out, uint32_t n_invocations, uint32_t n_iter) {
    if (n_invocations == 0) fail(Status::invalid_argument, "fma_peak: no invocations");
    if (out.resolved_size() < uint64_t(n_invocations) * 4)
        fail(Status::invalid_argument, "fma_peak: output holds %llu bytes, %u invocations need %llu",
             (unsigned long long)out.resolved_size(), n_invocations, (unsigned long long)n_invocations * 4);
    const uint32_t wg = k.wg_size(64);
    shader::FmaPeakParams p{n_invocations, n_iter};
    const Grid g = grid_for((uint64_t(n_invocations) + wg - 1) / wg, k.caps());
    cmd.dispatch(k.pipeline("fma_peak_f32", {wg}), {out}, p, g.x, g.y);
}

}  // namespace vks::ops
