#pragma once
// The Vulkan instance (RAII, move-only), with the Khronos validation layer and a debug
// messenger when validation is requested (VKS_VALIDATE=1, always in tests). The messenger
// counts warnings and errors so tests can fail on any validation message.
#include <vulkan/vulkan.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "vk/capabilities.hpp"

namespace vks::vk {

struct ValidationLog {
    std::atomic<int> n_messages{0};
    std::mutex mutex;
    std::vector<std::string> messages;  // most recent first 64 kept
};

struct InstanceOptions {
    bool validation = false;  // also enabled by VKS_VALIDATE=1
    bool print_messages = true;  // echo validation messages to stderr
};

class Instance {
public:
    explicit Instance(InstanceOptions opts = {});
    ~Instance();
    Instance(Instance&&) noexcept;
    Instance& operator=(Instance&&) noexcept;
    Instance(const Instance&) = delete;
    Instance& operator=(const Instance&) = delete;

    VkInstance handle() const { return instance_; }
    bool validation_enabled() const { return messenger_ != VK_NULL_HANDLE; }

    // Physical devices in enumeration order, with their effective capabilities.
    const std::vector<VkPhysicalDevice>& physical_devices() const { return physical_; }
    const std::vector<Capabilities>& capabilities() const { return caps_; }

    // Index chosen by VKS_DEVICE (index or name substring) or by preference:
    // discrete > integrated > virtual > CPU > other. Throws if there is no device.
    size_t select_device(const char* override_spec = nullptr) const;
    std::string selection_reason(size_t index) const;

    // Validation messages seen so far (warnings and errors).
    int validation_message_count() const { return log_ ? log_->n_messages.load() : 0; }
    std::vector<std::string> validation_messages() const;
    // Returns the count and resets it (for tests that provoke a message on purpose).
    int take_validation_messages();

private:
    void destroy() noexcept;

    VkInstance instance_ = VK_NULL_HANDLE;
    VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
    std::unique_ptr<ValidationLog> log_;
    std::vector<VkPhysicalDevice> physical_;
    std::vector<Capabilities> caps_;
};

bool validation_requested_by_env();

}  // namespace vks::vk
