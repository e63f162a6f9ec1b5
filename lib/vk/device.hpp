#pragma once
// The logical device: one compute queue, a command pool, memory accounting, an on-disk
// pipeline cache, and the effective capabilities every kernel choice reads. RAII, move-only
// through unique_ptr (Buffers and Pipelines keep a Device* and must not outlive it).
#include <vulkan/vulkan.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "vk/capabilities.hpp"
#include "vk/instance.hpp"

namespace vks::vk {

struct DeviceOptions {
    size_t physical_index = SIZE_MAX;  // SIZE_MAX: Instance::select_device()
    std::string pipeline_cache_dir;    // "" = VKS_CACHE_DIR, else $XDG_CACHE_HOME/vkstream, else ~/.cache/vkstream; "off" disables
};

class Device {
public:
    // `instance` must outlive the device.
    Device(const Instance& instance, DeviceOptions opts = {});
    ~Device();
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    VkDevice handle() const { return device_; }
    VkPhysicalDevice physical() const { return physical_; }
    VkQueue queue() const { return queue_; }
    uint32_t queue_family() const { return queue_family_; }
    VkCommandPool command_pool() const { return pool_; }
    VkPipelineCache pipeline_cache() const { return pipeline_cache_; }
    const Capabilities& caps() const { return caps_; }
    const Instance& instance() const { return *instance_; }
    size_t physical_index() const { return physical_index_; }
    const std::string& pipeline_cache_path() const { return cache_path_; }

    // Memory: picks a type with `required` flags (preferring `preferred`), counts bytes against
    // the heap size and the VKS_LIMITS device_memory budget. Throws out_of_device_memory.
    VkDeviceMemory allocate(const VkMemoryRequirements& req, VkMemoryPropertyFlags required,
                            VkMemoryPropertyFlags preferred, VkMemoryPropertyFlags* got_flags);
    void free(VkDeviceMemory mem, VkDeviceSize size) noexcept;
    uint64_t bytes_allocated() const {
        std::lock_guard<std::mutex> lock(mem_mutex_);
        return bytes_allocated_;
    }
    uint64_t peak_bytes_allocated() const {
        std::lock_guard<std::mutex> lock(mem_mutex_);
        return peak_bytes_;
    }

    // Submits one command buffer and waits for it. Device loss (real or injected for tests)
    // becomes Status::device_lost; the device then refuses further submissions.
    // counted = false: not counted by the device-loss test hook (pipeline warm-up submissions,
    // which tests should not have to know about).
    void submit_and_wait(VkCommandBuffer cmd, bool counted = true);
    bool lost() const { return lost_; }
    // Test hook: the n-th submission from now fails as if the device were lost (0 = off).
    void inject_device_loss_after(uint32_t n_submits) { inject_after_ = n_submits; }

    // Writes the pipeline cache to disk now (also done by the destructor). Atomic: temp + rename.
    void save_pipeline_cache() noexcept;

private:
    const Instance* instance_ = nullptr;
    size_t physical_index_ = 0;
    VkPhysicalDevice physical_ = VK_NULL_HANDLE;
    Capabilities caps_;
    VkDevice device_ = VK_NULL_HANDLE;
    VkQueue queue_ = VK_NULL_HANDLE;
    uint32_t queue_family_ = 0;
    VkCommandPool pool_ = VK_NULL_HANDLE;
    VkFence fence_ = VK_NULL_HANDLE;
    VkPipelineCache pipeline_cache_ = VK_NULL_HANDLE;
    std::string cache_path_;
    mutable std::mutex mem_mutex_;
    std::mutex queue_mutex_;
    uint64_t bytes_allocated_ = 0;
    uint64_t peak_bytes_ = 0;
    bool lost_ = false;
    uint32_t inject_after_ = 0;
};

}  // namespace vks::vk
