#pragma once
// A recorded command buffer of compute dispatches. Descriptor sets are allocated from pools
// owned by this object and live as long as the recording, so a recording can be submitted
// again and again without re-recording (the decode step is recorded once and replayed).
//
//   vk::Commands cmd(device);
//   cmd.begin();
//   cmd.dispatch(pipeline, {x, w, y}, params, n_groups);
//   cmd.barrier();            // writes above are visible to dispatches below
//   ...
//   cmd.end();
//   cmd.submit();             // blocks until done; results are host-visible
#include <vulkan/vulkan.h>

#include <cstdint>
#include <initializer_list>
#include <set>
#include <span>
#include <tuple>
#include <vector>

#include "vk/buffer.hpp"
#include "vk/pipeline.hpp"

namespace vks::vk {

class Commands {
public:
    explicit Commands(Device& device, uint32_t n_timestamps = 0);
    // A plan, not a recording: every call is checked as usual but nothing reaches Vulkan (no
    // command buffer, no descriptor sets), and dispatch() accepts pipelines not built yet.
    // ops::Kernels uses it to learn which pipelines a graph needs before building them all at
    // once (Kernels::collect).
    struct DryRun {};
    Commands(Device& device, DryRun);
    bool dry() const { return dry_; }
    // A plan's dispatches, one per distinct (pipeline, push constants): lavapipe compiles a
    // pipeline again for every distinct set of the push-constant values it inlines into loop
    // bounds and branches (Mesa's "inlinable uniforms"), so a warm-up must replay the values.
    // llvmpipe also keys the code on properties of the bound buffers (measured: whether a
    // texel buffer's size is a power of two, and more that depends on the sizes), so the plan
    // keeps each binding's buffer, and its buffer size, offset and range.
    struct PlannedBinding {
        const Buffer* buffer;
        uint64_t buffer_size, offset, range;
        auto key() const { return std::make_tuple(buffer_size, offset, range); }
    };
    struct Planned {
        const Pipeline* pipeline;
        std::vector<uint8_t> push;
        std::vector<PlannedBinding> bindings;
    };
    const std::vector<Planned>& planned() const { return planned_; }
    ~Commands();
    Commands(const Commands&) = delete;
    Commands& operator=(const Commands&) = delete;

    void begin();  // resets any previous recording (and its descriptor sets)

    // Binds `buffers` to bindings 0..n-1, pushes `push` (its size must fit the pipeline's push
    // range) and dispatches. Checks every binding against the device's per-binding range and
    // offset alignment, and the group counts against maxComputeWorkGroupCount: ops must split
    // work so these hold, and a violation is an internal error, never a driver crash.
    void dispatch(const Pipeline& p, std::initializer_list<BufferRange> buffers, const void* push, uint32_t push_size,
                  uint32_t gx, uint32_t gy = 1, uint32_t gz = 1);
    template <class P>
    void dispatch(const Pipeline& p, std::initializer_list<BufferRange> buffers, const P& push, uint32_t gx,
                  uint32_t gy = 1, uint32_t gz = 1) {
        dispatch(p, buffers, &push, uint32_t(sizeof(P)), gx, gy, gz);
    }
    // The same with the bindings in a span (a list that depends on the variant).
    template <class P>
    void dispatch_span(const Pipeline& p, std::span<const BufferRange> buffers, const P& push, uint32_t gx,
                       uint32_t gy = 1, uint32_t gz = 1) {
        dispatch_impl(p, buffers, &push, uint32_t(sizeof(P)), gx, gy, gz, false);
    }

    // Binds `buffers` and records a dispatch of zero workgroups: it runs nothing, but a driver
    // that compiles a pipeline's code at its first use (lavapipe: LLVM, in the queue thread, for
    // the bound state and these push-constant values, see Planned) compiles it when this is
    // submitted. `push` is zero-padded to the pipeline's push range.
    void dispatch_empty(const Pipeline& p, std::span<const BufferRange> buffers, std::span<const uint8_t> push = {});

    void barrier();  // compute/transfer writes -> compute/transfer reads and writes
    void copy(const Buffer& src, VkDeviceSize src_offset, const Buffer& dst, VkDeviceSize dst_offset, VkDeviceSize n);
    void fill(const Buffer& dst, VkDeviceSize offset, VkDeviceSize n, uint32_t value);
    void timestamp(uint32_t index);  // no-op when the device has no timestamps

    // Per-dispatch timing (a profile): call before begin(); each of the first `capacity`
    // dispatches of a recording is followed by a timestamp, so after a submit dispatch_times()
    // gives the device time from the end of the previous dispatch (or the start of the
    // recording) to the end of this one, including any copy or barrier in between. Where a
    // device overlaps independent dispatches the split between them is approximate; the total is
    // not. Returns false (and times nothing) when the device has no timestamps.
    bool enable_dispatch_timing(uint32_t capacity);
    struct DispatchTime {
        const char* pipeline;  // Pipeline::name() of the dispatch (valid while the pipeline lives)
        double ns;
    };
    std::vector<DispatchTime> dispatch_times() const;  // empty when timing is off

    void end();       // adds the final device -> host barrier
    void submit(bool counted = true);  // submit and wait; may be called repeatedly after end() (counted: Device::submit_and_wait)

    // Nanoseconds between two timestamps of the last submission (0 if unsupported).
    double elapsed_ns(uint32_t from, uint32_t to) const;
    uint32_t n_dispatches() const { return n_dispatches_; }
    bool recording() const { return recording_; }

private:
    VkDescriptorSet allocate_set(VkDescriptorSetLayout layout);
    void dispatch_impl(const Pipeline& p, std::span<const BufferRange> buffers, const void* push, uint32_t push_size,
                       uint32_t gx, uint32_t gy, uint32_t gz, bool empty);

    Device& device_;
    VkCommandPool cmd_pool_ = VK_NULL_HANDLE;  // owned: one pool per recording (thread safety)
    VkCommandBuffer cmd_ = VK_NULL_HANDLE;
    std::vector<VkDescriptorPool> pools_;
    uint32_t sets_in_last_pool_ = 0;
    VkQueryPool queries_ = VK_NULL_HANDLE;
    uint32_t n_timestamps_ = 0;
    uint32_t n_dispatches_ = 0;
    VkQueryPool dispatch_queries_ = VK_NULL_HANDLE;  // enable_dispatch_timing: 1 + capacity timestamps
    uint32_t dispatch_capacity_ = 0;
    std::vector<const char*> timed_names_;           // pipeline of each timed dispatch
    bool recording_ = false, ended_ = false;
    bool dry_ = false;
    std::vector<Planned> planned_;
    std::set<std::tuple<const Pipeline*, std::vector<uint8_t>, std::vector<std::tuple<uint64_t, uint64_t, uint64_t>>>> planned_keys_;
};

}  // namespace vks::vk
