#include "vk/capabilities.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "common/error.hpp"

namespace vks::vk {

const char* device_type_name(VkPhysicalDeviceType t) {
    switch (t) {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
        case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
        default: return "other";
    }
}

std::string api_version_string(uint32_t v) {
    return strfmt("%u.%u.%u", VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v), VK_API_VERSION_PATCH(v));
}

static bool has_extension(const std::vector<VkExtensionProperties>& exts, const char* name) {
    for (const auto& e : exts)
        if (!std::strcmp(e.extensionName, name)) return true;
    return false;
}

Capabilities query_capabilities(VkInstance, VkPhysicalDevice pd) {
    Capabilities c;
    VkPhysicalDeviceProperties props{};
    vkGetPhysicalDeviceProperties(pd, &props);
    c.name = props.deviceName;
    c.type = props.deviceType;
    c.vendor_id = props.vendorID;
    c.device_id = props.deviceID;
    c.api_version = props.apiVersion;
    c.driver_version = props.driverVersion;
    std::memcpy(c.pipeline_cache_uuid, props.pipelineCacheUUID, VK_UUID_SIZE);

    uint32_t n_ext = 0;
    vkEnumerateDeviceExtensionProperties(pd, nullptr, &n_ext, nullptr);
    std::vector<VkExtensionProperties> exts(n_ext);
    vkEnumerateDeviceExtensionProperties(pd, nullptr, &n_ext, exts.data());

    const bool v12 = props.apiVersion >= VK_API_VERSION_1_2;
    const bool v13 = props.apiVersion >= VK_API_VERSION_1_3;

    // Properties chain: subgroup (1.1), driver (1.2), subgroup size control (1.3).
    VkPhysicalDeviceSubgroupProperties sg{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceDriverProperties drv{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceSubgroupSizeControlProperties sgc{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES};
    VkPhysicalDeviceShaderIntegerDotProductProperties dotp{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_PROPERTIES};
    VkPhysicalDeviceProperties2 props2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    props2.pNext = &sg;
    void** tail = &sg.pNext;
    if (v12 || has_extension(exts, VK_KHR_DRIVER_PROPERTIES_EXTENSION_NAME)) { *tail = &drv; tail = &drv.pNext; }
    if (v13 || has_extension(exts, VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME)) { *tail = &sgc; tail = &sgc.pNext; }
    if (v13 || has_extension(exts, VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME)) { *tail = &dotp; tail = &dotp.pNext; }
    vkGetPhysicalDeviceProperties2(pd, &props2);

    c.driver_name = drv.driverName;
    c.driver_info = drv.driverInfo;
    c.subgroup_size = sg.subgroupSize;
    c.min_subgroup_size = sgc.minSubgroupSize ? sgc.minSubgroupSize : sg.subgroupSize;
    c.max_subgroup_size = sgc.maxSubgroupSize ? sgc.maxSubgroupSize : sg.subgroupSize;
    c.subgroup_in_compute = (sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0;
    c.subgroup_basic = (sg.supportedOperations & VK_SUBGROUP_FEATURE_BASIC_BIT) != 0;
    c.subgroup_arithmetic = (sg.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) != 0;
    c.subgroup_shuffle = (sg.supportedOperations & VK_SUBGROUP_FEATURE_SHUFFLE_BIT) != 0;
    c.int_dot_accelerated = dotp.integerDotProduct4x8BitPackedSignedAccelerated == VK_TRUE;

    // Features chain.
    VkPhysicalDeviceShaderFloat16Int8Features f16i8{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
    VkPhysicalDevice16BitStorageFeatures s16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    VkPhysicalDevice8BitStorageFeatures s8{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES};
    VkPhysicalDeviceShaderIntegerDotProductFeatures dotf{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES};
    VkPhysicalDeviceSubgroupSizeControlFeatures sgcf{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES};
    VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    f2.pNext = &s16;
    tail = &s16.pNext;
    if (v12 || has_extension(exts, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME)) { *tail = &f16i8; tail = &f16i8.pNext; }
    if (v12 || has_extension(exts, VK_KHR_8BIT_STORAGE_EXTENSION_NAME)) { *tail = &s8; tail = &s8.pNext; }
    if (v13 || has_extension(exts, VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME)) { *tail = &dotf; tail = &dotf.pNext; }
    if (v13 || has_extension(exts, VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME)) { *tail = &sgcf; tail = &sgcf.pNext; }
    vkGetPhysicalDeviceFeatures2(pd, &f2);

    c.fp16 = f16i8.shaderFloat16;
    c.int8 = f16i8.shaderInt8;
    c.int16 = f2.features.shaderInt16;
    c.int64 = f2.features.shaderInt64;
    c.storage16 = s16.storageBuffer16BitAccess;
    c.storage8 = s8.storageBuffer8BitAccess;
    c.int_dot = dotf.shaderIntegerDotProduct;
    c.subgroup_size_control = sgcf.subgroupSizeControl && sgcf.computeFullSubgroups;
    if (has_extension(exts, "VK_KHR_cooperative_matrix")) {
        c.coopmat = true;
        c.coopmat_extension = "VK_KHR_cooperative_matrix";
    } else if (has_extension(exts, "VK_NV_cooperative_matrix")) {
        c.coopmat = true;
        c.coopmat_extension = "VK_NV_cooperative_matrix";
    }

    const VkPhysicalDeviceLimits& L = props.limits;
    c.max_storage_buffer_range = L.maxStorageBufferRange;
    c.min_storage_buffer_offset_alignment = std::max<uint64_t>(1, L.minStorageBufferOffsetAlignment);
    c.max_texel_buffer_elements = L.maxTexelBufferElements;
    c.min_texel_buffer_offset_alignment = std::max<uint64_t>(1, L.minTexelBufferOffsetAlignment);
    VkFormatProperties fp{};
    vkGetPhysicalDeviceFormatProperties(pd, VK_FORMAT_R32G32B32A32_UINT, &fp);
    c.texel_buffers = (fp.bufferFeatures & VK_FORMAT_FEATURE_UNIFORM_TEXEL_BUFFER_BIT) != 0 && c.max_texel_buffer_elements > 0;
    c.max_shared_memory = L.maxComputeSharedMemorySize;
    c.max_workgroup_invocations = L.maxComputeWorkGroupInvocations;
    for (int i = 0; i < 3; ++i) {
        c.max_workgroup_size[i] = L.maxComputeWorkGroupSize[i];
        c.max_workgroup_count[i] = L.maxComputeWorkGroupCount[i];
    }
    c.max_push_constants = L.maxPushConstantsSize;
    c.max_bound_descriptor_sets = L.maxBoundDescriptorSets;
    c.max_storage_buffers_per_stage = L.maxPerStageDescriptorStorageBuffers;
    c.timestamp_period_ns = L.timestampPeriod;
    c.timestamps = L.timestampComputeAndGraphics == VK_TRUE;

    VkPhysicalDeviceMaintenance3Properties m3{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceProperties2 p3{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    p3.pNext = &m3;
    vkGetPhysicalDeviceProperties2(pd, &p3);
    c.max_memory_allocation = m3.maxMemoryAllocationSize;

    VkPhysicalDeviceMemoryProperties mem{};
    vkGetPhysicalDeviceMemoryProperties(pd, &mem);
    for (uint32_t i = 0; i < mem.memoryHeapCount; ++i)
        c.heaps.push_back({mem.memoryHeaps[i].size, (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0});
    for (uint32_t i = 0; i < mem.memoryTypeCount; ++i)
        c.memory_types.push_back({mem.memoryTypes[i].heapIndex, mem.memoryTypes[i].propertyFlags});
    return c;
}

// ---- restrictions ----------------------------------------------------------------------

namespace {

struct Profile {
    const char* name;
    const char* disable;  // VKS_DISABLE syntax
    const char* limits;   // VKS_LIMITS syntax
};

// Sources and reasoning for each profile are in docs/DESIGN.md ("Capability profiles").
const Profile k_profiles[] = {
    {"baseline", "fp16,int8,int_dot,subgroup,coopmat,storage8",
     "max_binding=134217728,shared=16384,wg_invocations=128,wg_count=65535,texel_elements=65536"},
    {"mali", "int_dot,coopmat", "max_binding=134217728,shared=32768,wg_invocations=512,subgroup=16"},
    {"adreno", "int_dot,coopmat", "max_binding=134217728,shared=32768,wg_invocations=1024,subgroup=64"},
    {"intel_igpu", "coopmat", "max_binding=1073741824,shared=65536,wg_invocations=1024,subgroup=32"},
    {"amd_desktop", "coopmat", "max_binding=4294967295,shared=65536,wg_invocations=1024,subgroup=64"},
    {"nvidia_desktop", "", "max_binding=4294967295,shared=49152,wg_invocations=1024,subgroup=32"},
    {"moltenvk", "int8,int_dot,coopmat,storage8", "max_binding=1073741824,shared=32768,wg_invocations=1024,subgroup=32"},
};

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    while (!s.empty()) {
        size_t p = s.find(sep);
        std::string_view part = s.substr(0, p);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
        if (!part.empty()) out.push_back(part);
        if (p == std::string_view::npos) break;
        s.remove_prefix(p + 1);
    }
    return out;
}

uint64_t parse_size(std::string_view key, std::string_view v) {
    uint64_t mult = 1;
    if (!v.empty() && (v.back() == 'k' || v.back() == 'K')) mult = 1024, v.remove_suffix(1);
    else if (!v.empty() && (v.back() == 'm' || v.back() == 'M')) mult = 1024 * 1024, v.remove_suffix(1);
    else if (!v.empty() && (v.back() == 'g' || v.back() == 'G')) mult = 1024ull * 1024 * 1024, v.remove_suffix(1);
    if (v.empty()) fail(Status::invalid_argument, "VKS_LIMITS: '%.*s' has no value", int(key.size()), key.data());
    uint64_t x = 0;
    for (char ch : v) {
        if (ch < '0' || ch > '9' || x > (UINT64_MAX - 9) / 10)
            fail(Status::invalid_argument, "VKS_LIMITS: bad number '%.*s' for '%.*s'", int(v.size()), v.data(),
                 int(key.size()), key.data());
        x = x * 10 + uint64_t(ch - '0');
    }
    if (x == 0) fail(Status::invalid_argument, "VKS_LIMITS: '%.*s' must be > 0", int(key.size()), key.data());
    return x * mult;
}

template <class T>
void lower(T& field, uint64_t v) {
    if (uint64_t(field) > v) field = T(v);
}

void apply_disable(Capabilities& c, std::string_view list) {
    for (auto name : split(list, ',')) {
        if (name == "fp16") c.fp16 = false;
        else if (name == "int8") c.int8 = false, c.int_dot = false, c.int_dot_accelerated = false;
        else if (name == "int_dot") c.int_dot = false, c.int_dot_accelerated = false;
        else if (name == "subgroup")
            c.subgroup_arithmetic = c.subgroup_shuffle = c.subgroup_basic = false, c.subgroup_size_control = false;
        else if (name == "coopmat") c.coopmat = false, c.coopmat_extension.clear();
        else if (name == "storage8") c.storage8 = false;
        else if (name == "storage16") c.storage16 = false;
        else if (name == "texel") c.texel_buffers = false;
        else
            fail(Status::invalid_argument,
                 "VKS_DISABLE: unknown feature '%.*s' (known: fp16,int8,int_dot,subgroup,coopmat,storage8,storage16,texel)",
                 int(name.size()), name.data());
        c.restrictions.push_back("disable " + std::string(name));
    }
}

void apply_limits(Capabilities& c, std::string_view list) {
    for (auto item : split(list, ',')) {
        size_t eq = item.find('=');
        if (eq == std::string_view::npos)
            fail(Status::invalid_argument, "VKS_LIMITS: '%.*s' is not key=value", int(item.size()), item.data());
        std::string_view key = item.substr(0, eq), val = item.substr(eq + 1);
        uint64_t v = parse_size(key, val);
        if (key == "max_binding") lower(c.max_storage_buffer_range, v);
        else if (key == "shared") lower(c.max_shared_memory, v);
        else if (key == "wg_invocations") {
            lower(c.max_workgroup_invocations, v);
            for (auto& s : c.max_workgroup_size) lower(s, v);
        } else if (key == "wg_count") {
            for (auto& s : c.max_workgroup_count) lower(s, v);
        } else if (key == "device_memory") {
            c.device_memory_budget = c.device_memory_budget ? std::min(c.device_memory_budget, v) : v;
        } else if (key == "texel_elements") {
            lower(c.max_texel_buffer_elements, v);
        } else if (key == "max_allocation") {
            lower(c.max_memory_allocation, v);
        } else if (key == "subgroup") {
            // A profile's typical subgroup size: informational only, the device's real size is used by shaders.
            continue;
        } else {
            fail(Status::invalid_argument,
                 "VKS_LIMITS: unknown limit '%.*s' (known: max_binding, shared, wg_invocations, wg_count, "
                 "device_memory, max_allocation, texel_elements)",
                 int(key.size()), key.data());
        }
        c.restrictions.push_back("limit " + std::string(item));
    }
    // Storage-buffer bindings must stay 4-byte multiples.
    c.max_storage_buffer_range &= ~uint64_t(3);
}

}  // namespace

std::vector<std::string> profile_names() {
    std::vector<std::string> out;
    for (const auto& p : k_profiles) out.push_back(p.name);
    return out;
}

void apply_restrictions(Capabilities& c, const char* profile, const char* disable, const char* limits) {
    if (profile && *profile && std::strcmp(profile, "default") != 0) {
        const Profile* found = nullptr;
        for (const auto& p : k_profiles)
            if (!std::strcmp(p.name, profile)) found = &p;
        if (!found) {
            std::string names;
            for (const auto& p : k_profiles) names += std::string(names.empty() ? "" : ", ") + p.name;
            fail(Status::invalid_argument, "VKS_PROFILE: unknown profile '%s' (known: default, %s)", profile, names.c_str());
        }
        c.restrictions.push_back(std::string("profile ") + found->name);
        apply_disable(c, found->disable);
        apply_limits(c, found->limits);
    }
    if (disable) apply_disable(c, disable);
    if (limits) apply_limits(c, limits);
}

void apply_environment(Capabilities& c) {
    apply_restrictions(c, std::getenv("VKS_PROFILE"), std::getenv("VKS_DISABLE"), std::getenv("VKS_LIMITS"));
}

}  // namespace vks::vk
