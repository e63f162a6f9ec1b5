#include "ops/kernels.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "ops/attention.hpp"
#include "ops/matmul.hpp"

namespace vks::ops {

Grid grid_for(uint64_t n_groups, const vk::Capabilities& caps) {
    Grid g;
    const uint64_t max_x = caps.max_workgroup_count[0], max_y = caps.max_workgroup_count[1];
    if (n_groups <= max_x) {
        g.x = uint32_t(std::max<uint64_t>(n_groups, 1));
        return g;
    }
    g.x = uint32_t(max_x);
    uint64_t y = (n_groups + max_x - 1) / max_x;
    if (y > max_y) fail(Status::unsupported, "%llu workgroups exceed the device's %llu x %llu grid",
                        (unsigned long long)n_groups, (unsigned long long)max_x, (unsigned long long)max_y);
    g.y = uint32_t(y);
    return g;
}

const vk::Pipeline& Kernels::pipeline(const std::string& variant, const std::vector<uint32_t>& spec) {
    // Sessions of one model record on their own threads: the map is shared, so lock it. std::map
    // references stay valid after later inserts, so the returned reference needs no lock.
    std::lock_guard<std::mutex> lock(mutex_);
    auto key = std::make_pair(variant, spec);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    return cache_.emplace(key, vk::Pipeline(device_, variant, spec)).first->second;
}

bool Kernels::has_pipeline(const std::string& variant) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [key, pipe] : cache_)
        if (key.first == variant) return true;
    return false;
}

uint32_t Kernels::wg_size(uint32_t want) const {
    uint32_t limit = std::min(caps().max_workgroup_invocations, caps().max_workgroup_size[0]);
    uint32_t wg = want;
    while (wg > limit) wg /= 2;
    return std::max<uint32_t>(wg, 1);
}

bool Kernels::use_subgroups() const { return allow_subgroups_ && caps().subgroup_reduce(); }

std::vector<VariantChoice> describe_variants(const vk::Capabilities& caps) {
    std::vector<VariantChoice> out;
    const bool sg = caps.subgroup_reduce();
    const char* why = sg ? "subgroup arithmetic in compute stages" : "no subgroup arithmetic: shared-memory tree";
    out.push_back({"rms_norm", sg ? "rms_norm_f32_sg" : "rms_norm_f32", why});
    out.push_back({"softmax", sg ? "softmax_f32_sg" : "softmax_f32", why});
    out.push_back({"add/mul", "add_f32/mul_f32", "portable"});
    out.push_back({"glu", "silu_glu_f32/gelu_glu_f32", "portable"});
    for (auto& v : describe_attention_variants(caps)) out.push_back(std::move(v));
    for (auto& v : describe_matmul_variants(caps)) out.push_back(std::move(v));
    return out;
}

}  // namespace vks::ops
