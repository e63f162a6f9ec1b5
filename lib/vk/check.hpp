#pragma once
// Every Vulkan call that can fail goes through VKS_VK: a failing VkResult becomes a vks::Error
// naming the call and the result (out-of-memory and device-lost get their own statuses).
#include <vulkan/vulkan.h>

#include "common/error.hpp"

namespace vks::vk {

const char* result_name(VkResult r);
Status status_of(VkResult r);
void check(VkResult r, const char* call);  // throws vks::Error unless r == VK_SUCCESS

}  // namespace vks::vk

#define VKS_VK(call) ::vks::vk::check((call), #call)
