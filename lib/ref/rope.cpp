#include "ref/rope.hpp"

#include <cmath>

#include "common/error.hpp"

namespace vks::ref {

void rope_check(uint32_t head_dim, const RopeConfig& rope) {
    if (head_dim == 0) fail(Status::invalid_argument, "rope: head_dim must be > 0");
    const uint32_t d = rope.rotated_dims(head_dim);
    if (d % 2 != 0 || d > head_dim)
        fail(Status::invalid_argument, "rope: rotated dims %u must be even and <= head_dim %u", d, head_dim);
    if (!(rope.theta_base > 0.0f) || !std::isfinite(rope.theta_base))
        fail(Status::invalid_argument, "rope: theta_base must be finite and > 0 (got %g)", double(rope.theta_base));
    if (!(rope.freq_scale > 0.0f) || !std::isfinite(rope.freq_scale))
        fail(Status::invalid_argument, "rope: freq_scale must be finite and > 0 (got %g)", double(rope.freq_scale));
}

double rope_angle(uint64_t pos, uint32_t i, uint32_t head_dim, const RopeConfig& rope) {
    const double d = rope.rotated_dims(head_dim);
    const double inv_freq = std::pow(double(rope.theta_base), -2.0 * double(i) / d);
    return double(pos) * double(rope.freq_scale) * inv_freq;
}

namespace {

// Indices of the two elements of pair i.
void pair_indices(uint32_t i, uint32_t n_rot, RopeStyle style, uint32_t& a, uint32_t& b) {
    if (style == RopeStyle::normal) {
        a = 2 * i;
        b = 2 * i + 1;
    } else {
        a = i;
        b = i + n_rot / 2;
    }
}

void rotate_pair(float* x, uint32_t a, uint32_t b, double c, double s) {
    const double x0 = x[a], x1 = x[b];
    x[a] = float(x0 * c - x1 * s);
    x[b] = float(x0 * s + x1 * c);
}

}  // namespace

void rope_apply(float* x, uint64_t pos, uint32_t head_dim, const RopeConfig& rope) {
    rope_check(head_dim, rope);
    const uint32_t n_rot = rope.rotated_dims(head_dim);
    for (uint32_t i = 0; i < n_rot / 2; ++i) {
        const double angle = rope_angle(pos, i, head_dim, rope);
        uint32_t a = 0, b = 0;
        pair_indices(i, n_rot, rope.style, a, b);
        rotate_pair(x, a, b, std::cos(angle), std::sin(angle));
    }
}

void rope_apply_heads(float* x, uint32_t n_heads, uint64_t pos, uint32_t head_dim, const RopeConfig& rope) {
    for (uint32_t h = 0; h < n_heads; ++h) rope_apply(x + size_t(h) * head_dim, pos, head_dim, rope);
}

RopeTable rope_table(uint32_t n_pos, uint32_t head_dim, const RopeConfig& rope) {
    rope_check(head_dim, rope);
    RopeTable t;
    t.n_pos = n_pos;
    t.n_pairs = rope.rotated_dims(head_dim) / 2;
    t.cos.resize(size_t(n_pos) * t.n_pairs);
    t.sin.resize(size_t(n_pos) * t.n_pairs);
    for (uint32_t p = 0; p < n_pos; ++p) {
        for (uint32_t i = 0; i < t.n_pairs; ++i) {
            const double angle = rope_angle(p, i, head_dim, rope);
            t.cos[size_t(p) * t.n_pairs + i] = float(std::cos(angle));
            t.sin[size_t(p) * t.n_pairs + i] = float(std::sin(angle));
        }
    }
    return t;
}

void rope_apply_table(float* x, uint32_t pos, const RopeTable& table, uint32_t head_dim, const RopeConfig& rope) {
    rope_check(head_dim, rope);
    const uint32_t n_rot = rope.rotated_dims(head_dim);
    if (pos >= table.n_pos)
        fail(Status::invalid_argument, "rope: position %u outside the table (%u positions)", pos, table.n_pos);
    if (table.n_pairs != n_rot / 2)
        fail(Status::invalid_argument, "rope: table has %u pairs, params rotate %u", table.n_pairs, n_rot / 2);
    for (uint32_t i = 0; i < table.n_pairs; ++i) {
        uint32_t a = 0, b = 0;
        pair_indices(i, n_rot, rope.style, a, b);
        const size_t k = size_t(pos) * table.n_pairs + i;
        rotate_pair(x, a, b, table.cos[k], table.sin[k]);
    }
}

}  // namespace vks::ref
