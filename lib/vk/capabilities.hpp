#pragma once
// What a physical device can do, as queried, then narrowed by the environment
// (VKS_DISABLE=fp16,int8,int_dot,subgroup,coopmat,storage8,storage16,texel and
//  VKS_LIMITS=max_binding=BYTES,shared=BYTES,wg_invocations=N,wg_count=N,device_memory=BYTES,
//  texel_elements=N)
// or a named profile (VKS_PROFILE=baseline|...). Every kernel choice reads the *effective*
// capabilities, so a forced-down profile behaves exactly like a weaker device.
#include <vulkan/vulkan.h>

#include <cstdint>
#include <string>
#include <vector>

namespace vks::vk {

struct MemoryHeap {
    uint64_t size = 0;
    bool device_local = false;
};

struct MemoryType {
    uint32_t heap = 0;
    VkMemoryPropertyFlags flags = 0;
};

struct Capabilities {
    // identity
    std::string name;
    VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
    uint32_t vendor_id = 0, device_id = 0;
    uint32_t api_version = 0, driver_version = 0;
    std::string driver_name, driver_info;
    uint8_t pipeline_cache_uuid[VK_UUID_SIZE] = {};

    // arithmetic and storage features
    bool fp16 = false;          // shaderFloat16
    bool int8 = false;          // shaderInt8
    bool int16 = false;         // shaderInt16
    bool int64 = false;         // shaderInt64
    bool storage8 = false;      // storageBuffer8BitAccess
    bool storage16 = false;     // storageBuffer16BitAccess
    bool int_dot = false;       // shaderIntegerDotProduct (VK 1.3 / KHR_shader_integer_dot_product)
    bool int_dot_accelerated = false;  // 4x8-bit packed signed dot is hardware accelerated
    bool coopmat = false;       // VK_KHR/NV_cooperative_matrix present
    std::string coopmat_extension;

    // subgroups
    uint32_t subgroup_size = 1;
    uint32_t min_subgroup_size = 1, max_subgroup_size = 1;
    bool subgroup_basic = false, subgroup_arithmetic = false, subgroup_shuffle = false;
    bool subgroup_in_compute = false;
    bool subgroup_size_control = false;

    // limits
    uint64_t max_storage_buffer_range = 0;  // per binding
    uint64_t max_memory_allocation = 0;
    uint64_t min_storage_buffer_offset_alignment = 1;
    // Uniform texel buffers of R32G32B32A32_UINT texels (16 B): the fast read path on CPU devices.
    bool texel_buffers = false;
    uint64_t max_texel_buffer_elements = 0;
    uint64_t min_texel_buffer_offset_alignment = 1;
    uint32_t max_shared_memory = 0;
    uint32_t max_workgroup_invocations = 0;
    uint32_t max_workgroup_size[3] = {};
    uint32_t max_workgroup_count[3] = {};
    uint32_t max_push_constants = 0;
    uint32_t max_bound_descriptor_sets = 0;
    uint32_t max_storage_buffers_per_stage = 0;
    float timestamp_period_ns = 0;
    bool timestamps = false;

    std::vector<MemoryHeap> heaps;
    std::vector<MemoryType> memory_types;
    uint64_t device_memory_budget = 0;  // 0 = no artificial limit (VKS_LIMITS=device_memory=)

    // Which environment restrictions were applied (for `vkstream info`).
    std::vector<std::string> restrictions;

    bool subgroup_reduce() const { return subgroup_in_compute && subgroup_arithmetic && subgroup_basic; }
    uint64_t max_binding_bytes() const { return max_storage_buffer_range; }
    // Largest texel-buffer view in bytes (0 when texel buffers are off).
    uint64_t max_texel_view_bytes() const { return texel_buffers ? max_texel_buffer_elements * 16 : 0; }
};

const char* device_type_name(VkPhysicalDeviceType t);
std::string api_version_string(uint32_t v);

// Queries everything above from `pd` (instance must be Vulkan 1.1+).
Capabilities query_capabilities(VkInstance instance, VkPhysicalDevice pd);

// Applies VKS_PROFILE / VKS_DISABLE / VKS_LIMITS from the environment (or from the given
// strings, for tests). Unknown names are an invalid_argument error, not silently ignored.
void apply_restrictions(Capabilities& caps, const char* profile, const char* disable, const char* limits);
void apply_environment(Capabilities& caps);

// Named profiles mirroring real device classes (documented in docs/DESIGN.md).
std::vector<std::string> profile_names();

}  // namespace vks::vk
