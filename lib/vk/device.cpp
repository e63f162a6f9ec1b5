#include "vk/device.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "common/file_io.hpp"
#include "vk/check.hpp"

namespace vks::vk {

namespace fs = std::filesystem;

static std::string default_cache_dir() {
    if (const char* d = std::getenv("VKS_CACHE_DIR"); d && *d) return d;
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/vkstream";
    if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/vkstream";
    return "";
}

static std::vector<char> read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return {};
    return std::vector<char>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// Only hand the driver a cache blob whose header matches this device; drivers are supposed to
// check, but a corrupt file should never be their problem.
static bool cache_header_matches(const std::vector<char>& blob, const Capabilities& caps) {
    if (blob.size() < 16 + VK_UUID_SIZE) return false;
    uint32_t hdr[4];
    std::memcpy(hdr, blob.data(), 16);
    return hdr[0] >= 16 + VK_UUID_SIZE && hdr[1] == VK_PIPELINE_CACHE_HEADER_VERSION_ONE && hdr[2] == caps.vendor_id &&
           hdr[3] == caps.device_id && std::memcmp(blob.data() + 16, caps.pipeline_cache_uuid, VK_UUID_SIZE) == 0;
}

Device::Device(const Instance& instance, DeviceOptions opts) : instance_(&instance) {
    physical_index_ = opts.physical_index == SIZE_MAX ? instance.select_device() : opts.physical_index;
    if (physical_index_ >= instance.physical_devices().size())
        fail(Status::invalid_argument, "device index %zu out of range (%zu devices)", physical_index_,
             instance.physical_devices().size());
    physical_ = instance.physical_devices()[physical_index_];
    caps_ = instance.capabilities()[physical_index_];
    // Test hook for programs that only see the C API (tests/capi): VKS_TEST_DEVICE_LOSS_AFTER=N
    // makes the N-th submission on this device fail as a lost device (see inject_device_loss_after).
    if (const char* n = std::getenv("VKS_TEST_DEVICE_LOSS_AFTER"); n && *n) inject_after_ = uint32_t(std::strtoul(n, nullptr, 10));
    if (caps_.api_version < VK_API_VERSION_1_1)
        fail(Status::feature_missing, "device '%s' supports Vulkan %s; vkstream needs 1.1 or later", caps_.name.c_str(),
             api_version_string(caps_.api_version).c_str());

    uint32_t n_fam = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(physical_, &n_fam, nullptr);
    std::vector<VkQueueFamilyProperties> fams(n_fam);
    vkGetPhysicalDeviceQueueFamilyProperties(physical_, &n_fam, fams.data());
    // Prefer a compute family without graphics (often a dedicated async-compute queue).
    int best = -1;
    for (uint32_t i = 0; i < n_fam; ++i) {
        if (!(fams[i].queueFlags & VK_QUEUE_COMPUTE_BIT)) continue;
        if (best < 0 || (!(fams[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) && (fams[best].queueFlags & VK_QUEUE_GRAPHICS_BIT)))
            best = int(i);
    }
    if (best < 0) fail(Status::feature_missing, "device '%s' has no compute queue", caps_.name.c_str());
    queue_family_ = uint32_t(best);
    caps_.timestamps = caps_.timestamps || fams[best].timestampValidBits > 0;
    if (fams[best].timestampValidBits == 0) caps_.timestamps = false;

    // Enable exactly the features the effective capabilities claim (a forced-down profile
    // enables less, so the validation layer catches a shader that uses a disabled feature).
    const bool v12 = caps_.api_version >= VK_API_VERSION_1_2;
    const bool v13 = caps_.api_version >= VK_API_VERSION_1_3;
    VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    f2.features.shaderInt16 = caps_.int16;
    f2.features.shaderInt64 = caps_.int64;
    VkPhysicalDevice16BitStorageFeatures s16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    s16.storageBuffer16BitAccess = caps_.storage16;
    VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    f12.shaderFloat16 = caps_.fp16;
    f12.shaderInt8 = caps_.int8;
    f12.storageBuffer8BitAccess = caps_.storage8;
    VkPhysicalDeviceVulkan13Features f13{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES};
    f13.shaderIntegerDotProduct = caps_.int_dot;
    f13.subgroupSizeControl = caps_.subgroup_size_control;
    f13.computeFullSubgroups = caps_.subgroup_size_control;
    f2.pNext = &s16;
    if (v12) {
        s16.pNext = &f12;
        if (v13) f12.pNext = &f13;
    } else {
        // Vulkan 1.1 device: 1.2 features would need their extensions; keep the 1.1 set.
        caps_.fp16 = caps_.int8 = caps_.storage8 = caps_.int_dot = false;
    }
    if (!v13) caps_.int_dot = caps_.subgroup_size_control = false;

    float priority = 1.0f;
    VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    qci.queueFamilyIndex = queue_family_;
    qci.queueCount = 1;
    qci.pQueuePriorities = &priority;
    VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    dci.pNext = &f2;
    dci.queueCreateInfoCount = 1;
    dci.pQueueCreateInfos = &qci;
    VKS_VK(vkCreateDevice(physical_, &dci, nullptr, &device_));
    vkGetDeviceQueue(device_, queue_family_, 0, &queue_);

    try {
        VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
        pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
        pci.queueFamilyIndex = queue_family_;
        VKS_VK(vkCreateCommandPool(device_, &pci, nullptr, &pool_));
        VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        VKS_VK(vkCreateFence(device_, &fci, nullptr, &fence_));

        std::string dir = opts.pipeline_cache_dir.empty() ? default_cache_dir() : opts.pipeline_cache_dir;
        std::vector<char> blob;
        if (!dir.empty() && dir != "off") {
            std::string uuid;
            for (uint8_t b : caps_.pipeline_cache_uuid) uuid += strfmt("%02x", b);
            cache_path_ = strfmt("%s/pipelines-%04x-%04x-%s.bin", dir.c_str(), caps_.vendor_id, caps_.device_id, uuid.c_str());
            blob = read_file(cache_path_);
            if (!cache_header_matches(blob, caps_)) blob.clear();
        }
        VkPipelineCacheCreateInfo cci{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
        cci.initialDataSize = blob.size();
        cci.pInitialData = blob.empty() ? nullptr : blob.data();
        VKS_VK(vkCreatePipelineCache(device_, &cci, nullptr, &pipeline_cache_));
    } catch (...) {
        if (fence_) vkDestroyFence(device_, fence_, nullptr);
        if (pool_) vkDestroyCommandPool(device_, pool_, nullptr);
        vkDestroyDevice(device_, nullptr);
        throw;
    }
}

void Device::save_pipeline_cache() noexcept {
    // Best effort: a cache that cannot be written is only a slower next start. Runs from the
    // destructor, so nothing (not even std::bad_alloc) may leave it.
    try {
        if (cache_path_.empty() || pipeline_cache_ == VK_NULL_HANDLE) return;
        size_t size = 0;
        if (vkGetPipelineCacheData(device_, pipeline_cache_, &size, nullptr) != VK_SUCCESS || size == 0) return;
        std::vector<char> data(size);
        if (vkGetPipelineCacheData(device_, pipeline_cache_, &size, data.data()) != VK_SUCCESS) return;
        std::error_code ec;
        fs::create_directories(fs::path(cache_path_).parent_path(), ec);
        write_file_atomic(cache_path_, [&](std::FILE* f) { std::fwrite(data.data(), 1, size, f); });
    } catch (...) {
    }
}

Device::~Device() {
    if (device_ == VK_NULL_HANDLE) return;
    vkDeviceWaitIdle(device_);
    save_pipeline_cache();
    vkDestroyPipelineCache(device_, pipeline_cache_, nullptr);
    vkDestroyFence(device_, fence_, nullptr);
    vkDestroyCommandPool(device_, pool_, nullptr);
    vkDestroyDevice(device_, nullptr);
}

VkDeviceMemory Device::allocate(const VkMemoryRequirements& req, VkMemoryPropertyFlags required,
                                VkMemoryPropertyFlags preferred, VkMemoryPropertyFlags* got_flags) {
    int chosen = -1;
    for (int pass = 0; pass < 2 && chosen < 0; ++pass) {
        VkMemoryPropertyFlags want = pass == 0 ? (required | preferred) : required;
        for (uint32_t i = 0; i < caps_.memory_types.size(); ++i) {
            if (!(req.memoryTypeBits & (1u << i))) continue;
            if ((caps_.memory_types[i].flags & want) == want) {
                chosen = int(i);
                break;
            }
        }
    }
    if (chosen < 0) fail(Status::feature_missing, "no memory type with flags 0x%x for a %llu-byte buffer", required,
                         (unsigned long long)req.size);
    if (req.size > caps_.max_memory_allocation && caps_.max_memory_allocation > 0)
        fail(Status::out_of_device_memory, "a %llu-byte allocation exceeds the device's maxMemoryAllocationSize (%llu)",
             (unsigned long long)req.size, (unsigned long long)caps_.max_memory_allocation);
    {
        // Check the budget and reserve the bytes in one step, so two threads cannot both pass.
        std::lock_guard<std::mutex> lock(mem_mutex_);
        if (caps_.device_memory_budget && bytes_allocated_ + req.size > caps_.device_memory_budget)
            fail(Status::out_of_device_memory,
                 "out of device memory: %llu bytes requested, %llu of the %llu-byte budget (VKS_LIMITS device_memory) in use",
                 (unsigned long long)req.size, (unsigned long long)bytes_allocated_,
                 (unsigned long long)caps_.device_memory_budget);
        bytes_allocated_ += req.size;
        if (bytes_allocated_ > peak_bytes_) peak_bytes_ = bytes_allocated_;
    }
    VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    ai.allocationSize = req.size;
    ai.memoryTypeIndex = uint32_t(chosen);
    VkDeviceMemory mem = VK_NULL_HANDLE;
    VkResult r = vkAllocateMemory(device_, &ai, nullptr, &mem);
    if (r != VK_SUCCESS) {
        uint64_t in_use = 0;
        {
            std::lock_guard<std::mutex> lock(mem_mutex_);
            bytes_allocated_ -= req.size;
            in_use = bytes_allocated_;
        }
        if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY)
            fail(Status::out_of_device_memory, "out of device memory allocating %llu bytes (%s); %llu bytes already in use",
                 (unsigned long long)req.size, result_name(r), (unsigned long long)in_use);
        VKS_VK(r);
    }
    if (got_flags) *got_flags = caps_.memory_types[chosen].flags;
    return mem;
}

void Device::free(VkDeviceMemory mem, VkDeviceSize size) noexcept {
    if (mem == VK_NULL_HANDLE) return;
    vkFreeMemory(device_, mem, nullptr);
    std::lock_guard<std::mutex> lock(mem_mutex_);
    bytes_allocated_ -= size;
}

void Device::submit_and_wait(VkCommandBuffer cmd, bool counted) {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    if (lost_) fail(Status::device_lost, "the Vulkan device was lost earlier; free the model and its sessions and load the model again");
    if (counted && inject_after_ > 0 && --inject_after_ == 0) {
        lost_ = true;
        fail(Status::device_lost, "vkQueueSubmit failed: VK_ERROR_DEVICE_LOST (injected by a test)");
    }
    VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.commandBufferCount = 1;
    si.pCommandBuffers = &cmd;
    const char* call = "vkQueueSubmit";
    VkResult r = vkQueueSubmit(queue_, 1, &si, fence_);
    if (r == VK_SUCCESS) {
        call = "vkWaitForFences";
        r = vkWaitForFences(device_, 1, &fence_, VK_TRUE, UINT64_MAX);
        vkResetFences(device_, 1, &fence_);
    }
    if (r == VK_ERROR_DEVICE_LOST) lost_ = true;
    check(r, call);
}

}  // namespace vks::vk
