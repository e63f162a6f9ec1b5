#include "vk/check.hpp"

namespace vks::vk {

const char* result_name(VkResult r) {
    switch (r) {
#define VKS_CASE(x) \
    case x: return #x;
        VKS_CASE(VK_SUCCESS)
        VKS_CASE(VK_NOT_READY)
        VKS_CASE(VK_TIMEOUT)
        VKS_CASE(VK_INCOMPLETE)
        VKS_CASE(VK_ERROR_OUT_OF_HOST_MEMORY)
        VKS_CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY)
        VKS_CASE(VK_ERROR_INITIALIZATION_FAILED)
        VKS_CASE(VK_ERROR_DEVICE_LOST)
        VKS_CASE(VK_ERROR_MEMORY_MAP_FAILED)
        VKS_CASE(VK_ERROR_LAYER_NOT_PRESENT)
        VKS_CASE(VK_ERROR_EXTENSION_NOT_PRESENT)
        VKS_CASE(VK_ERROR_FEATURE_NOT_PRESENT)
        VKS_CASE(VK_ERROR_INCOMPATIBLE_DRIVER)
        VKS_CASE(VK_ERROR_TOO_MANY_OBJECTS)
        VKS_CASE(VK_ERROR_FORMAT_NOT_SUPPORTED)
        VKS_CASE(VK_ERROR_FRAGMENTED_POOL)
        VKS_CASE(VK_ERROR_UNKNOWN)
        VKS_CASE(VK_ERROR_OUT_OF_POOL_MEMORY)
        VKS_CASE(VK_ERROR_INVALID_EXTERNAL_HANDLE)
        VKS_CASE(VK_ERROR_FRAGMENTATION)
        VKS_CASE(VK_PIPELINE_COMPILE_REQUIRED)
#undef VKS_CASE
        default: return "VkResult(unknown)";
    }
}

Status status_of(VkResult r) {
    switch (r) {
        case VK_SUCCESS: return Status::ok;
        case VK_ERROR_OUT_OF_HOST_MEMORY: return Status::out_of_host_memory;
        case VK_ERROR_OUT_OF_DEVICE_MEMORY:
        case VK_ERROR_FRAGMENTATION:
        case VK_ERROR_TOO_MANY_OBJECTS: return Status::out_of_device_memory;
        case VK_ERROR_DEVICE_LOST: return Status::device_lost;
        case VK_ERROR_FEATURE_NOT_PRESENT:
        case VK_ERROR_EXTENSION_NOT_PRESENT:
        case VK_ERROR_LAYER_NOT_PRESENT:
        case VK_ERROR_INCOMPATIBLE_DRIVER: return Status::feature_missing;
        default: return Status::vulkan_error;
    }
}

void check(VkResult r, const char* call) {
    if (r == VK_SUCCESS) return;
    throw Error(status_of(r), strfmt("%s failed: %s (%d)", call, result_name(r), int(r)));
}

}  // namespace vks::vk
