#pragma once
// Host side of the kernels: the pipeline cache of one device and the variant choices.
// Every op family has lib/ops/<family>.{hpp,cpp} (bindings, push constants, dispatch sizes),
// shaders/<family>.comp, lib/ref/<family>.{hpp,cpp} and tests/kernels/test_<family>.cpp.
#include <cstdint>
#include <map>
#include <memory>
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

// Workgroup size for 1-D kernels: `want`, halved until the device (profile) allows it.
uint32_t workgroup_size(const vk::Capabilities& caps, uint32_t want);

class Kernels {
public:
    explicit Kernels(vk::Device& device) : device_(device) {}
    vk::Device& device() const { return device_; }
    const vk::Capabilities& caps() const { return device_.caps(); }

    // Pipeline for `variant` with specialization constants `spec`, created and built on first
    // use, except on a thread inside a Collect scope: there it is created without being built
    // (vk::Pipeline build_now = false), for a plan recorded into vk::Commands::DryRun.
    const vk::Pipeline& pipeline(const std::string& variant, const std::vector<uint32_t>& spec = {});

    // While alive, pipeline() calls on this thread for this Kernels only create pipelines.
    class Collect {
    public:
        explicit Collect(Kernels& k);
        ~Collect();
        Collect(const Collect&) = delete;
        Collect& operator=(const Collect&) = delete;

    private:
        const Kernels* prev_;
    };
    // While alive, this thread builds pipelines on use even inside a Collect scope (for work
    // that must really run while a plan is recorded, e.g. ops::choose_int_dot's measurement).
    class Suspend {
    public:
        Suspend();
        ~Suspend();
        Suspend(const Suspend&) = delete;
        Suspend& operator=(const Suspend&) = delete;

    private:
        const Kernels* prev_;
    };

    // Builds every pipeline created but not yet built, on up to n_threads threads (0: the
    // hardware's), and on devices that compile a pipeline's code at its first dispatch rather
    // than at creation (CPU devices: lavapipe compiles with LLVM in its queue thread, one
    // pipeline after another) also dispatches each once with zero workgroups: on this device
    // from one thread, and on one extra logical device per other thread, whose compiled code
    // reaches this device through the driver's shader cache (Mesa's disk cache; without one the
    // extra devices only cost time on otherwise idle cores). Best effort: a failure leaves the
    // pipeline to be built at first use, where its error is reported. VKS_PRECOMPILE=0 turns the
    // parallel part off (the pipelines are then built one by one here).
    // Returns how many pipelines were built.
    // `plan`: the dispatches of a vk::Commands::DryRun recording; each is replayed as an empty
    // dispatch with its push constants (see vk::Commands::Planned) on the devices above.
    size_t build_pending(const std::vector<vk::Commands::Planned>& plan, unsigned n_threads = 0);

    // Whether a pipeline of `variant` (any specialization) was created: lets tests check which
    // variant a call actually ran.
    bool has_pipeline(const std::string& variant);
    // Pipelines created so far (built or not): lets tests check that a plan covered a graph.
    size_t n_pipelines();

    // workgroup_size on this device (default: 256).
    uint32_t wg_size(uint32_t want = 256) const { return workgroup_size(caps(), want); }
    bool use_subgroups() const;
    // Tests run the portable (no-subgroup) variants on purpose, whatever the device supports.
    void allow_subgroups(bool allow) { allow_subgroups_ = allow; }

private:
    struct Entry {
        vk::Pipeline pipe;
        std::once_flag built;  // pipe.build() runs once, whichever thread gets there first
    };
    bool allow_subgroups_ = true;
    vk::Device& device_;
    std::mutex mutex_;  // guards cache_ (the map; entries are built under their once_flag)
    std::map<std::pair<std::string, std::vector<uint32_t>>, std::unique_ptr<Entry>> cache_;
};

// All variant choices the kernels make on this device.
std::vector<VariantChoice> describe_variants(const vk::Capabilities& caps);

}  // namespace vks::ops
