#include "vk/commands.hpp"

#include <algorithm>
#include <cstring>

#include "vk/check.hpp"

namespace vks::vk {

static constexpr uint32_t kSetsPerPool = 256;
static constexpr uint32_t kMaxBindingsPerSet = 16;

// Each recording has its own command pool: a VkCommandPool (and every command buffer from it)
// must be externally synchronized, so sessions recording on different threads must not share one.
Commands::Commands(Device& device, uint32_t n_timestamps) : device_(device) {
    VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pci.queueFamilyIndex = device.queue_family();
    VKS_VK(vkCreateCommandPool(device.handle(), &pci, nullptr, &cmd_pool_));
    VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    ai.commandPool = cmd_pool_;
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    VkResult r = vkAllocateCommandBuffers(device.handle(), &ai, &cmd_);
    if (r == VK_SUCCESS && n_timestamps > 0 && device.caps().timestamps) {
        VkQueryPoolCreateInfo qci{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
        qci.queryType = VK_QUERY_TYPE_TIMESTAMP;
        qci.queryCount = n_timestamps;
        r = vkCreateQueryPool(device.handle(), &qci, nullptr, &queries_);
        n_timestamps_ = n_timestamps;
    }
    if (r != VK_SUCCESS) {
        vkDestroyCommandPool(device.handle(), cmd_pool_, nullptr);  // frees its command buffer
        check(r, cmd_ ? "vkCreateQueryPool" : "vkAllocateCommandBuffers");
    }
}

Commands::Commands(Device& device, DryRun) : device_(device), dry_(true) {}

Commands::~Commands() {
    if (dry_) return;
    VkDevice dev = device_.handle();
    for (VkDescriptorPool p : pools_) vkDestroyDescriptorPool(dev, p, nullptr);
    if (queries_) vkDestroyQueryPool(dev, queries_, nullptr);
    if (dispatch_queries_) vkDestroyQueryPool(dev, dispatch_queries_, nullptr);
    vkFreeCommandBuffers(dev, cmd_pool_, 1, &cmd_);
    vkDestroyCommandPool(dev, cmd_pool_, nullptr);
}

void Commands::begin() {
    n_dispatches_ = 0;
    if (dry_) {
        recording_ = true, ended_ = false;
        return;
    }
    VkDevice dev = device_.handle();
    for (VkDescriptorPool p : pools_) vkDestroyDescriptorPool(dev, p, nullptr);
    pools_.clear();
    sets_in_last_pool_ = 0;
    n_dispatches_ = 0;
    VKS_VK(vkResetCommandBuffer(cmd_, 0));
    VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    VKS_VK(vkBeginCommandBuffer(cmd_, &bi));
    if (queries_) vkCmdResetQueryPool(cmd_, queries_, 0, n_timestamps_);
    timed_names_.clear();
    if (dispatch_queries_) {
        vkCmdResetQueryPool(cmd_, dispatch_queries_, 0, dispatch_capacity_ + 1);
        vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, dispatch_queries_, 0);
    }
    recording_ = true;
    ended_ = false;
}

VkDescriptorSet Commands::allocate_set(VkDescriptorSetLayout layout) {
    if (pools_.empty() || sets_in_last_pool_ == kSetsPerPool) {
        VkDescriptorPoolSize sizes[2] = {{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kSetsPerPool * kMaxBindingsPerSet},
                                         {VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, kSetsPerPool * kMaxBindingsPerSet}};
        VkDescriptorPoolCreateInfo pci{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
        pci.maxSets = kSetsPerPool;
        pci.poolSizeCount = device_.caps().texel_buffers ? 2 : 1;
        pci.pPoolSizes = sizes;
        VkDescriptorPool pool = VK_NULL_HANDLE;
        VKS_VK(vkCreateDescriptorPool(device_.handle(), &pci, nullptr, &pool));
        pools_.push_back(pool);
        sets_in_last_pool_ = 0;
    }
    VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
    ai.descriptorPool = pools_.back();
    ai.descriptorSetCount = 1;
    ai.pSetLayouts = &layout;
    VkDescriptorSet set = VK_NULL_HANDLE;
    VKS_VK(vkAllocateDescriptorSets(device_.handle(), &ai, &set));
    ++sets_in_last_pool_;
    return set;
}

void Commands::dispatch(const Pipeline& p, std::initializer_list<BufferRange> buffers, const void* push,
                        uint32_t push_size, uint32_t gx, uint32_t gy, uint32_t gz) {
    dispatch_impl(p, std::span<const BufferRange>(buffers.begin(), buffers.size()), push, push_size, gx, gy, gz, false);
}

void Commands::dispatch_empty(const Pipeline& p, std::span<const BufferRange> buffers, std::span<const uint8_t> push) {
    uint8_t bytes[128] = {};  // push ranges are at most 128 bytes (Pipeline)
    std::memcpy(bytes, push.data(), std::min(push.size(), sizeof(bytes)));
    dispatch_impl(p, buffers, bytes, std::min<uint32_t>(p.push_constant_bytes(), sizeof(bytes)), 0, 1, 1, true);
}

void Commands::dispatch_impl(const Pipeline& p, std::span<const BufferRange> buffers, const void* push,
                             uint32_t push_size, uint32_t gx, uint32_t gy, uint32_t gz, bool empty) {
    if (!recording_) fail(Status::internal, "dispatch of %s outside begin()/end()", p.name().c_str());
    if (!dry_ && !p.built()) fail(Status::internal, "dispatch of %s: the pipeline was never built", p.name().c_str());
    const Capabilities& caps = device_.caps();
    if (buffers.size() != p.interface().n_bindings)
        fail(Status::internal, "dispatch of %s: %zu buffers bound, shader declares %u", p.name().c_str(), buffers.size(),
             p.interface().n_bindings);
    if (buffers.size() > kMaxBindingsPerSet) fail(Status::internal, "dispatch of %s: too many bindings", p.name().c_str());
    if (push_size > p.push_constant_bytes())
        fail(Status::internal, "dispatch of %s: %u bytes of push constants, range is %u", p.name().c_str(), push_size,
             p.push_constant_bytes());
    if (!empty && (gx == 0 || gy == 0 || gz == 0)) return;  // nothing to do
    if (gx > caps.max_workgroup_count[0] || gy > caps.max_workgroup_count[1] || gz > caps.max_workgroup_count[2])
        fail(Status::internal, "dispatch of %s: %u x %u x %u workgroups exceeds the device limit %u x %u x %u",
             p.name().c_str(), gx, gy, gz, caps.max_workgroup_count[0], caps.max_workgroup_count[1],
             caps.max_workgroup_count[2]);

    VkDescriptorBufferInfo infos[kMaxBindingsPerSet];
    VkBufferView views[kMaxBindingsPerSet];
    VkWriteDescriptorSet writes[kMaxBindingsPerSet];
    VkDescriptorSet set = dry_ ? VK_NULL_HANDLE : allocate_set(p.set_layout());
    uint32_t i = 0;
    for (const BufferRange& r : buffers) {
        if (!r.buffer || !*r.buffer) fail(Status::internal, "dispatch of %s: binding %u is empty", p.name().c_str(), i);
        VkDeviceSize n = r.resolved_size();
        if (r.offset > r.buffer->size() || n > r.buffer->size() - r.offset || n == 0)
            fail(Status::internal, "dispatch of %s: binding %u [%llu, +%llu) is outside buffer '%s' (%llu bytes)",
                 p.name().c_str(), i, (unsigned long long)r.offset, (unsigned long long)n, r.buffer->name().c_str(),
                 (unsigned long long)r.buffer->size());
        writes[i] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
        writes[i].dstSet = set;
        writes[i].dstBinding = i;
        writes[i].descriptorCount = 1;
        writes[i].descriptorType = p.interface().types[i];
        if (p.interface().types[i] == VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER) {
            if (n / 16 > caps.max_texel_buffer_elements)
                fail(Status::internal, "dispatch of %s: texel binding %u has %llu texels, over the limit of %llu",
                     p.name().c_str(), i, (unsigned long long)(n / 16), (unsigned long long)caps.max_texel_buffer_elements);
            if (r.offset % caps.min_texel_buffer_offset_alignment)
                fail(Status::internal, "dispatch of %s: texel binding %u offset %llu is not a multiple of %llu",
                     p.name().c_str(), i, (unsigned long long)r.offset,
                     (unsigned long long)caps.min_texel_buffer_offset_alignment);
            views[i] = dry_ ? VK_NULL_HANDLE : r.buffer->texel_view(r.offset, n);
            writes[i].pTexelBufferView = &views[i];
        } else {
            if (n > caps.max_binding_bytes())
                fail(Status::internal, "dispatch of %s: binding %u is %llu bytes, over the per-binding limit of %llu",
                     p.name().c_str(), i, (unsigned long long)n, (unsigned long long)caps.max_binding_bytes());
            if (r.offset % caps.min_storage_buffer_offset_alignment)
                fail(Status::internal, "dispatch of %s: binding %u offset %llu is not a multiple of %llu", p.name().c_str(),
                     i, (unsigned long long)r.offset, (unsigned long long)caps.min_storage_buffer_offset_alignment);
            infos[i] = {r.buffer->handle(), r.offset, n};
            writes[i].pBufferInfo = &infos[i];
        }
        ++i;
    }
    if (dry_) {
        ++n_dispatches_;
        std::vector<uint8_t> bytes(static_cast<const uint8_t*>(push), static_cast<const uint8_t*>(push) + push_size);
        std::vector<PlannedBinding> bindings;
        std::vector<std::tuple<uint64_t, uint64_t, uint64_t>> keys;
        for (const BufferRange& r : buffers) {
            bindings.push_back({r.buffer, r.buffer->size(), r.offset, r.resolved_size()});
            keys.push_back(bindings.back().key());
        }
        if (planned_keys_.emplace(&p, bytes, std::move(keys)).second)
            planned_.push_back({&p, std::move(bytes), std::move(bindings)});
        return;
    }
    vkUpdateDescriptorSets(device_.handle(), i, writes, 0, nullptr);
    vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p.handle());
    vkCmdBindDescriptorSets(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p.layout(), 0, 1, &set, 0, nullptr);
    if (push_size) vkCmdPushConstants(cmd_, p.layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, push_size, push);
    vkCmdDispatch(cmd_, gx, gy, gz);
    if (empty) return;
    ++n_dispatches_;
    if (dispatch_queries_ && timed_names_.size() < dispatch_capacity_) {
        timed_names_.push_back(p.name().c_str());
        vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, dispatch_queries_, uint32_t(timed_names_.size()));
    }
}

bool Commands::enable_dispatch_timing(uint32_t capacity) {
    if (dry_) return false;
    if (recording_) fail(Status::internal, "enable_dispatch_timing() while recording");
    if (dispatch_queries_ || capacity == 0 || !device_.caps().timestamps) return dispatch_queries_ != VK_NULL_HANDLE;
    VkQueryPoolCreateInfo qci{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
    qci.queryType = VK_QUERY_TYPE_TIMESTAMP;
    qci.queryCount = capacity + 1;
    VKS_VK(vkCreateQueryPool(device_.handle(), &qci, nullptr, &dispatch_queries_));
    dispatch_capacity_ = capacity;
    return true;
}

std::vector<Commands::DispatchTime> Commands::dispatch_times() const {
    std::vector<DispatchTime> out;
    if (!dispatch_queries_ || timed_names_.empty() || !ended_) return out;
    std::vector<uint64_t> ts(timed_names_.size() + 1);
    if (vkGetQueryPoolResults(device_.handle(), dispatch_queries_, 0, uint32_t(ts.size()), ts.size() * sizeof(uint64_t),
                              ts.data(), sizeof(uint64_t), VK_QUERY_RESULT_64_BIT) != VK_SUCCESS)
        return out;
    const double period = device_.caps().timestamp_period_ns;
    out.reserve(timed_names_.size());
    for (size_t i = 0; i < timed_names_.size(); ++i)
        out.push_back({timed_names_[i], ts[i + 1] >= ts[i] ? double(ts[i + 1] - ts[i]) * period : 0.0});
    return out;
}

void Commands::barrier() {
    if (dry_) return;
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                       VK_ACCESS_TRANSFER_WRITE_BIT;
    const VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    vkCmdPipelineBarrier(cmd_, stages, stages, 0, 1, &mb, 0, nullptr, 0, nullptr);
}

void Commands::copy(const Buffer& src, VkDeviceSize so, const Buffer& dst, VkDeviceSize d, VkDeviceSize n) {
    if (so > src.size() || n > src.size() - so || d > dst.size() || n > dst.size() - d)
        fail(Status::internal, "copy of %llu bytes out of bounds ('%s' -> '%s')", (unsigned long long)n,
             src.name().c_str(), dst.name().c_str());
    if (dry_) return;
    VkBufferCopy region{so, d, n};
    vkCmdCopyBuffer(cmd_, src.handle(), dst.handle(), 1, &region);
}

void Commands::fill(const Buffer& dst, VkDeviceSize offset, VkDeviceSize n, uint32_t value) {
    if (dry_) return;
    vkCmdFillBuffer(cmd_, dst.handle(), offset, n, value);
}

void Commands::timestamp(uint32_t index) {
    if (dry_ || !queries_) return;
    if (index >= n_timestamps_) fail(Status::internal, "timestamp %u out of range (%u)", index, n_timestamps_);
    vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries_, index);
}

void Commands::end() {
    if (dry_) {
        recording_ = false, ended_ = true;
        return;
    }
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
    vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
    VKS_VK(vkEndCommandBuffer(cmd_));
    recording_ = false;
    ended_ = true;
}

void Commands::submit(bool counted) {
    if (!ended_) fail(Status::internal, "submit() before end()");
    if (dry_) fail(Status::internal, "submit() of a plan (Commands::DryRun)");
    device_.submit_and_wait(cmd_, counted);
}

double Commands::elapsed_ns(uint32_t from, uint32_t to) const {
    if (!queries_) return 0;
    uint64_t ts[2] = {};
    uint64_t a = 0, b = 0;
    if (vkGetQueryPoolResults(device_.handle(), queries_, from, 1, sizeof(uint64_t), &a, sizeof(uint64_t),
                              VK_QUERY_RESULT_64_BIT) != VK_SUCCESS ||
        vkGetQueryPoolResults(device_.handle(), queries_, to, 1, sizeof(uint64_t), &b, sizeof(uint64_t),
                              VK_QUERY_RESULT_64_BIT) != VK_SUCCESS)
        return 0;
    (void)ts;
    return double(b - a) * device_.caps().timestamp_period_ns;
}

}  // namespace vks::vk
