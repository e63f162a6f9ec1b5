#pragma once
// Host side of the kernels: the pipeline cache of one device and the variant choices.
// Every op family has lib/ops/<family>.{hpp,cpp} (bindings, push constants, dispatch sizes),
// shaders/<family>.comp, lib/ref/<family>.{hpp,cpp} and tests/kernels/test_<family>.cpp.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "vk/commands.hpp"
#include "vk/device.hpp"
#include "vk/pipeline.hpp"

namespace vks::ops {

// Workgroup grid for `n_groups` independent groups: x up to the device limit, the rest on y.
// Shaders recover the flat index with linear_group_id() (shaders/common.glsl).
struct Grid {
    uint32_t x = 1, y = 1;
};
Grid grid_for(uint64_t n_groups, const vk::Capabilities& caps);

// One chosen variant, for `vkstream info` and the docs.
struct VariantChoice {
    std::string op;       // e.g. "rms_norm"
    std::string variant;  // e.g. "rms_norm_f32_sg"
    std::string why;      // e.g. "subgroup arithmetic in compute"
};

class Kernels {
public:
    explicit Kernels(vk::Device& device) : device_(device) {}
    vk::Device& device() const { return device_; }
    const vk::Capabilities& caps() const { return device_.caps(); }

    // Pipeline for `variant` with specialization constants `spec`, created on first use.
    const vk::Pipeline& pipeline(const std::string& variant, const std::vector<uint32_t>& spec = {});

    // Whether a pipeline of `variant` (any specialization) was created: lets tests check which
    // variant a call actually ran.
    bool has_pipeline(const std::string& variant);

    // Workgroup size for 1-D kernels: 256, or less where the device (profile) allows less.
    uint32_t wg_size(uint32_t want = 256) const;
    bool use_subgroups() const;
    // Tests run the portable (no-subgroup) variants on purpose, whatever the device supports.
    void allow_subgroups(bool allow) { allow_subgroups_ = allow; }

private:
    bool allow_subgroups_ = true;
    vk::Device& device_;
    std::mutex mutex_;  // guards cache_
    std::map<std::pair<std::string, std::vector<uint32_t>>, vk::Pipeline> cache_;
};

// All variant choices the kernels make on this device.
std::vector<VariantChoice> describe_variants(const vk::Capabilities& caps);

}  // namespace vks::ops
