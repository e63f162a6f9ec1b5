#pragma once
// Storage buffers (RAII, move-only). A Buffer lives in device-local memory; when that memory is
// also host-visible (integrated GPUs, lavapipe, resizable BAR) it is mapped and uploads are a
// memcpy, otherwise uploads and readbacks go through a host-visible staging buffer.
#include <vulkan/vulkan.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "vk/device.hpp"

namespace vks::vk {

enum class BufferKind {
    device,   // storage buffer, device-local preferred
    staging,  // host-visible, transfer source/destination
    shared,   // storage buffer the host maps: small per-step inputs and outputs (token inputs,
              // step parameters, logits), so a replayed decode step needs one submission and no
              // staging copies; device-local when the device offers such memory (UMA, ReBAR)
};

class Buffer {
public:
    Buffer() = default;
    Buffer(Device& device, VkDeviceSize size, BufferKind kind = BufferKind::device, std::string name = {});
    ~Buffer();
    Buffer(Buffer&& o) noexcept;
    Buffer& operator=(Buffer&& o) noexcept;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;

    VkBuffer handle() const { return buffer_; }
    VkDeviceSize size() const { return size_; }
    VkDeviceSize allocation_size() const { return alloc_size_; }
    void* mapped() const { return mapped_; }  // nullptr when not host-visible
    const std::string& name() const { return name_; }
    explicit operator bool() const { return buffer_ != VK_NULL_HANDLE; }

    // Copies host data into [offset, offset + n) / out of it. Blocking.
    void upload(const void* src, VkDeviceSize n, VkDeviceSize offset = 0);
    void download(void* dst, VkDeviceSize n, VkDeviceSize offset = 0) const;
    void fill_zero();

    // A uniform-texel-buffer view (R32G32B32A32_UINT texels) of [offset, offset + n), created on
    // first use and owned by the buffer. `n` must be a multiple of 16.
    VkBufferView texel_view(VkDeviceSize offset, VkDeviceSize n) const;

private:
    void destroy() noexcept;

    Device* device_ = nullptr;
    VkBuffer buffer_ = VK_NULL_HANDLE;
    VkDeviceMemory memory_ = VK_NULL_HANDLE;
    VkDeviceSize size_ = 0, alloc_size_ = 0;
    void* mapped_ = nullptr;
    bool coherent_ = true;
    std::string name_;
    struct Views {
        std::mutex mutex;
        std::map<std::pair<VkDeviceSize, VkDeviceSize>, VkBufferView> by_range;
    };
    mutable std::unique_ptr<Views> views_;
};

// A slice of a buffer bound to one shader binding.
struct BufferRange {
    const Buffer* buffer = nullptr;
    VkDeviceSize offset = 0;
    VkDeviceSize size = VK_WHOLE_SIZE;  // resolved to buffer->size() - offset

    BufferRange() = default;
    BufferRange(const Buffer& b) : buffer(&b) {}  // NOLINT: implicit on purpose
    BufferRange(const Buffer& b, VkDeviceSize off, VkDeviceSize n) : buffer(&b), offset(off), size(n) {}
    VkDeviceSize resolved_size() const { return size == VK_WHOLE_SIZE ? buffer->size() - offset : size; }
};

}  // namespace vks::vk
