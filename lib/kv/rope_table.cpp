#include "kv/rope_table.hpp"

#include <cmath>

#include "common/error.hpp"

namespace vks::kv {

void RopeConfig::validate(uint32_t head_dim) const {
    const uint32_t d = rotated_dims(head_dim);
    if (head_dim == 0 || d % 2 != 0 || d > head_dim)
        fail(Status::invalid_argument, "rope: rotated dims %u must be even and <= head_dim %u", d, head_dim);
    if (!(theta_base > 0.0f) || !std::isfinite(theta_base))
        fail(Status::invalid_argument, "rope: theta_base must be finite and > 0 (got %g)", double(theta_base));
    if (!(freq_scale > 0.0f) || !std::isfinite(freq_scale))
        fail(Status::invalid_argument, "rope: freq_scale must be finite and > 0 (got %g)", double(freq_scale));
    if (style == RopeStyle::neox && d % 4 != 0)
        fail(Status::unsupported, "rope: neox pairing needs rotated dims %% 4 == 0 (got %u)", d);
}

std::vector<float> rope_cos_sin_table(uint32_t n_pos, uint32_t head_dim, const RopeConfig& rope) {
    rope.validate(head_dim);
    const uint32_t d = rope.rotated_dims(head_dim);
    const uint32_t n_pairs = d / 2;
    std::vector<float> t(size_t(n_pos) * n_pairs * 2);
    for (uint32_t pos = 0; pos < n_pos; ++pos) {
        for (uint32_t i = 0; i < n_pairs; ++i) {
            const double inv_freq = std::pow(double(rope.theta_base), -2.0 * double(i) / double(d));
            const double angle = double(pos) * double(rope.freq_scale) * inv_freq;
            t[(size_t(pos) * n_pairs + i) * 2] = float(std::cos(angle));
            t[(size_t(pos) * n_pairs + i) * 2 + 1] = float(std::sin(angle));
        }
    }
    return t;
}

}  // namespace vks::kv
