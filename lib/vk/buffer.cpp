#include "vk/buffer.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "vk/check.hpp"

namespace vks::vk {

Buffer::Buffer(Device& device, VkDeviceSize size, BufferKind kind, std::string name)
    : device_(&device), size_(size), name_(std::move(name)) {
    if (size == 0) fail(Status::invalid_argument, "buffer '%s': size 0", name_.c_str());
    VkBufferCreateInfo bci{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bci.size = size;
    bci.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    if (kind != BufferKind::staging) bci.usage |= VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
    if (kind != BufferKind::staging && device.caps().texel_buffers) bci.usage |= VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT;
    bci.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    VKS_VK(vkCreateBuffer(device.handle(), &bci, nullptr, &buffer_));
    try {
        VkMemoryRequirements req{};
        vkGetBufferMemoryRequirements(device.handle(), buffer_, &req);
        VkMemoryPropertyFlags got = 0;
        if (kind == BufferKind::device)
            memory_ = device.allocate(req, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0, &got);
        else if (kind == BufferKind::shared)
            memory_ = device.allocate(req, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                      VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, &got);
        else
            memory_ = device.allocate(req, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
                                      VK_MEMORY_PROPERTY_HOST_COHERENT_BIT | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, &got);
        alloc_size_ = req.size;
        VKS_VK(vkBindBufferMemory(device.handle(), buffer_, memory_, 0));
        if (got & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
            VKS_VK(vkMapMemory(device.handle(), memory_, 0, VK_WHOLE_SIZE, 0, &mapped_));
            coherent_ = (got & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) != 0;
        }
    } catch (...) {
        destroy();
        throw;
    }
}

void Buffer::destroy() noexcept {
    if (!device_) return;
    if (views_)
        for (auto& [range, view] : views_->by_range) vkDestroyBufferView(device_->handle(), view, nullptr);
    views_.reset();
    if (buffer_) vkDestroyBuffer(device_->handle(), buffer_, nullptr);
    if (memory_) device_->free(memory_, alloc_size_);
    buffer_ = VK_NULL_HANDLE;
    memory_ = VK_NULL_HANDLE;
    mapped_ = nullptr;
}

Buffer::~Buffer() { destroy(); }

Buffer::Buffer(Buffer&& o) noexcept { *this = std::move(o); }

Buffer& Buffer::operator=(Buffer&& o) noexcept {
    if (this != &o) {
        destroy();
        device_ = o.device_;
        buffer_ = o.buffer_;
        memory_ = o.memory_;
        size_ = o.size_;
        alloc_size_ = o.alloc_size_;
        mapped_ = o.mapped_;
        coherent_ = o.coherent_;
        name_ = std::move(o.name_);
        views_ = std::move(o.views_);
        o.device_ = nullptr;
        o.buffer_ = VK_NULL_HANDLE;
        o.memory_ = VK_NULL_HANDLE;
        o.mapped_ = nullptr;
    }
    return *this;
}

namespace {

// One-shot transfer through a staging buffer for memory the host cannot map.
void staged_copy(Device& dev, const Buffer& dst_or_src, VkDeviceSize offset, VkDeviceSize n, const void* up, void* down) {
    const VkDeviceSize chunk = std::min<VkDeviceSize>(n, 64ull << 20);
    Buffer staging(dev, chunk, BufferKind::staging, "staging");
    // A transient pool of our own: command pools are externally synchronized, and uploads may
    // run on several threads (one per session) at once.
    VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pci.flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT;
    pci.queueFamilyIndex = dev.queue_family();
    VkCommandPool pool = VK_NULL_HANDLE;
    VKS_VK(vkCreateCommandPool(dev.handle(), &pci, nullptr, &pool));
    struct Free {
        Device& d;
        VkCommandPool p;
        ~Free() { vkDestroyCommandPool(d.handle(), p, nullptr); }  // frees its command buffer too
    } free_pool{dev, pool};
    VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    ai.commandPool = pool;
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    VKS_VK(vkAllocateCommandBuffers(dev.handle(), &ai, &cmd));
    for (VkDeviceSize done = 0; done < n; done += chunk) {
        VkDeviceSize len = std::min(chunk, n - done);
        if (up) std::memcpy(staging.mapped(), static_cast<const char*>(up) + done, len);
        VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
        bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
        VKS_VK(vkBeginCommandBuffer(cmd, &bi));
        VkBufferCopy region{};
        region.size = len;
        if (up) {
            region.dstOffset = offset + done;
            vkCmdCopyBuffer(cmd, staging.handle(), dst_or_src.handle(), 1, &region);
        } else {
            region.srcOffset = offset + done;
            vkCmdCopyBuffer(cmd, dst_or_src.handle(), staging.handle(), 1, &region);
        }
        VKS_VK(vkEndCommandBuffer(cmd));
        dev.submit_and_wait(cmd);
        if (down) std::memcpy(static_cast<char*>(down) + done, staging.mapped(), len);
    }
}

}  // namespace

void Buffer::upload(const void* src, VkDeviceSize n, VkDeviceSize offset) {
    if (offset > size_ || n > size_ - offset)
        fail(Status::internal, "upload of %llu bytes at %llu overflows buffer '%s' (%llu bytes)", (unsigned long long)n,
             (unsigned long long)offset, name_.c_str(), (unsigned long long)size_);
    if (n == 0) return;
    if (mapped_) {
        std::memcpy(static_cast<char*>(mapped_) + offset, src, n);
        if (!coherent_) {
            VkMappedMemoryRange r{VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE};
            r.memory = memory_;
            r.size = VK_WHOLE_SIZE;
            VKS_VK(vkFlushMappedMemoryRanges(device_->handle(), 1, &r));
        }
        return;
    }
    staged_copy(*device_, *this, offset, n, src, nullptr);
}

void Buffer::download(void* dst, VkDeviceSize n, VkDeviceSize offset) const {
    if (offset > size_ || n > size_ - offset)
        fail(Status::internal, "download of %llu bytes at %llu overflows buffer '%s' (%llu bytes)",
             (unsigned long long)n, (unsigned long long)offset, name_.c_str(), (unsigned long long)size_);
    if (n == 0) return;
    if (mapped_) {
        if (!coherent_) {
            VkMappedMemoryRange r{VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE};
            r.memory = memory_;
            r.size = VK_WHOLE_SIZE;
            VKS_VK(vkInvalidateMappedMemoryRanges(device_->handle(), 1, &r));
        }
        std::memcpy(dst, static_cast<const char*>(mapped_) + offset, n);
        return;
    }
    staged_copy(*device_, *this, offset, n, nullptr, dst);
}

void Buffer::fill_zero() {
    std::vector<char> zeros(std::min<VkDeviceSize>(size_, 16ull << 20), 0);
    for (VkDeviceSize off = 0; off < size_; off += zeros.size())
        upload(zeros.data(), std::min<VkDeviceSize>(zeros.size(), size_ - off), off);
}

VkBufferView Buffer::texel_view(VkDeviceSize offset, VkDeviceSize n) const {
    if (!device_ || !device_->caps().texel_buffers)
        fail(Status::internal, "buffer '%s': texel views are not available on this device", name_.c_str());
    if (n % 16 || offset > size_ || n > size_ - offset || n == 0)
        fail(Status::internal, "buffer '%s': texel view [%llu, +%llu) is not a whole number of 16-byte texels inside it",
             name_.c_str(), (unsigned long long)offset, (unsigned long long)n);
    if (!views_) views_ = std::make_unique<Views>();
    std::lock_guard<std::mutex> lock(views_->mutex);
    auto key = std::make_pair(offset, n);
    auto it = views_->by_range.find(key);
    if (it != views_->by_range.end()) return it->second;
    VkBufferViewCreateInfo ci{VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO};
    ci.buffer = buffer_;
    ci.format = VK_FORMAT_R32G32B32A32_UINT;
    ci.offset = offset;
    ci.range = n;
    VkBufferView view = VK_NULL_HANDLE;
    VKS_VK(vkCreateBufferView(device_->handle(), &ci, nullptr, &view));
    views_->by_range.emplace(key, view);
    return view;
}

}  // namespace vks::vk
