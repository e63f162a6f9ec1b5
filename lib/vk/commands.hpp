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
#include <vector>

#include "vk/buffer.hpp"
#include "vk/pipeline.hpp"

namespace vks::vk {

class Commands {
public:
    explicit Commands(Device& device, uint32_t n_timestamps = 0);
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
    void submit();    // submit and wait; may be called repeatedly after end()

    // Nanoseconds between two timestamps of the last submission (0 if unsupported).
    double elapsed_ns(uint32_t from, uint32_t to) const;
    uint32_t n_dispatches() const { return n_dispatches_; }
    bool recording() const { return recording_; }

private:
    VkDescriptorSet allocate_set(VkDescriptorSetLayout layout);

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
};

}  // namespace vks::vk
