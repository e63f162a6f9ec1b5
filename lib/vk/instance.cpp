#include "vk/instance.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "vk/check.hpp"

namespace vks::vk {

bool validation_requested_by_env() {
    const char* v = std::getenv("VKS_VALIDATE");
    return v && *v && std::strcmp(v, "0") != 0;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL on_debug_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                       VkDebugUtilsMessageTypeFlagsEXT,
                                                       const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
    if (severity < VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) return VK_FALSE;
    auto* log = static_cast<ValidationLog*>(user);
    log->n_messages.fetch_add(1);
    try {  // a C callback: nothing may leave it
        std::string msg = strfmt("[vulkan %s] %s", severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT ? "error" : "warning",
                                 data && data->pMessage ? data->pMessage : "(no message)");
        {
            std::lock_guard<std::mutex> lock(log->mutex);
            if (log->messages.size() < 64) log->messages.push_back(msg);
        }
        std::fprintf(stderr, "%s\n", msg.c_str());
    } catch (...) {
        std::fprintf(stderr, "[vulkan error] (a validation message; out of host memory to show it)\n");
    }
    return VK_FALSE;
}

static bool layer_available(const char* name) {
    uint32_t n = 0;
    vkEnumerateInstanceLayerProperties(&n, nullptr);
    std::vector<VkLayerProperties> layers(n);
    vkEnumerateInstanceLayerProperties(&n, layers.data());
    for (const auto& l : layers)
        if (!std::strcmp(l.layerName, name)) return true;
    return false;
}

Instance::Instance(InstanceOptions opts) {
    const bool validation = opts.validation || validation_requested_by_env();
    uint32_t loader_version = VK_API_VERSION_1_0;
    if (auto fn = reinterpret_cast<PFN_vkEnumerateInstanceVersion>(vkGetInstanceProcAddr(nullptr, "vkEnumerateInstanceVersion")))
        fn(&loader_version);
    if (loader_version < VK_API_VERSION_1_1)
        fail(Status::feature_missing, "the Vulkan loader supports only %s; vkstream needs Vulkan 1.1 or later",
             api_version_string(loader_version).c_str());

    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.pApplicationName = "vkstream";
    app.pEngineName = "vkstream";
    app.apiVersion = std::min<uint32_t>(loader_version, VK_API_VERSION_1_3);

    std::vector<const char*> layers, extensions;
    VkDebugUtilsMessengerCreateInfoEXT dbg{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
    if (validation) {
        if (!layer_available("VK_LAYER_KHRONOS_validation"))
            fail(Status::feature_missing,
                 "validation requested but VK_LAYER_KHRONOS_validation is not installed "
                 "(Debian package: vulkan-validationlayers)");
        layers.push_back("VK_LAYER_KHRONOS_validation");
        extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
        log_ = std::make_unique<ValidationLog>();
        dbg.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
        dbg.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                          VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
        dbg.pfnUserCallback = on_debug_message;
        dbg.pUserData = log_.get();
    }
    (void)opts.print_messages;

    VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    ci.pApplicationInfo = &app;
    ci.enabledLayerCount = uint32_t(layers.size());
    ci.ppEnabledLayerNames = layers.data();
    ci.enabledExtensionCount = uint32_t(extensions.size());
    ci.ppEnabledExtensionNames = extensions.data();
    if (validation) ci.pNext = &dbg;  // also catch messages from vkCreateInstance itself
    const VkResult created = vkCreateInstance(&ci, nullptr, &instance_);
    // The loader answers INCOMPATIBLE_DRIVER when it finds no driver at all (none installed, or
    // VK_ICD_FILENAMES / VK_DRIVER_FILES pointing nowhere): say that, not just the code.
    if (created == VK_ERROR_INCOMPATIBLE_DRIVER)
        fail(Status::feature_missing,
             "no Vulkan driver found (vkCreateInstance: VK_ERROR_INCOMPATIBLE_DRIVER): install one, e.g. the Debian "
             "package mesa-vulkan-drivers for lavapipe on the CPU, or your GPU vendor's driver");
    ::vks::vk::check(created, "vkCreateInstance");

    try {
        if (validation) {
            auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
                vkGetInstanceProcAddr(instance_, "vkCreateDebugUtilsMessengerEXT"));
            if (!create) fail(Status::feature_missing, "vkCreateDebugUtilsMessengerEXT is not available");
            VKS_VK(create(instance_, &dbg, nullptr, &messenger_));
        }
        uint32_t n = 0;
        VKS_VK(vkEnumeratePhysicalDevices(instance_, &n, nullptr));
        physical_.resize(n);
        VKS_VK(vkEnumeratePhysicalDevices(instance_, &n, physical_.data()));
        physical_.resize(n);
        for (VkPhysicalDevice pd : physical_) {
            Capabilities c = query_capabilities(instance_, pd);
            apply_environment(c);
            caps_.push_back(std::move(c));
        }
    } catch (...) {
        destroy();
        throw;
    }
}

void Instance::destroy() noexcept {
    if (messenger_ != VK_NULL_HANDLE) {
        auto destroy_fn = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
        if (destroy_fn) destroy_fn(instance_, messenger_, nullptr);
        messenger_ = VK_NULL_HANDLE;
    }
    if (instance_ != VK_NULL_HANDLE) vkDestroyInstance(instance_, nullptr);
    instance_ = VK_NULL_HANDLE;
}

Instance::~Instance() { destroy(); }

Instance::Instance(Instance&& o) noexcept
    : instance_(o.instance_), messenger_(o.messenger_), log_(std::move(o.log_)), physical_(std::move(o.physical_)),
      caps_(std::move(o.caps_)) {
    o.instance_ = VK_NULL_HANDLE;
    o.messenger_ = VK_NULL_HANDLE;
}

Instance& Instance::operator=(Instance&& o) noexcept {
    if (this != &o) {
        destroy();
        instance_ = o.instance_;
        messenger_ = o.messenger_;
        log_ = std::move(o.log_);
        physical_ = std::move(o.physical_);
        caps_ = std::move(o.caps_);
        o.instance_ = VK_NULL_HANDLE;
        o.messenger_ = VK_NULL_HANDLE;
    }
    return *this;
}

static int type_rank(VkPhysicalDeviceType t) {
    switch (t) {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
        case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
        default: return 4;
    }
}

size_t Instance::select_device(const char* spec) const {
    if (caps_.empty()) fail(Status::feature_missing, "no Vulkan device found (is a driver such as mesa-vulkan-drivers installed?)");
    if (!spec) spec = std::getenv("VKS_DEVICE");
    if (spec && *spec) {
        char* end = nullptr;
        unsigned long idx = std::strtoul(spec, &end, 10);
        if (end && *end == '\0') {
            if (idx >= caps_.size())
                fail(Status::invalid_argument, "VKS_DEVICE=%s: there are only %zu Vulkan device(s)", spec, caps_.size());
            return idx;
        }
        for (size_t i = 0; i < caps_.size(); ++i)
            if (caps_[i].name.find(spec) != std::string::npos) return i;
        fail(Status::invalid_argument, "VKS_DEVICE=%s matches no device name", spec);
    }
    size_t best = 0;
    for (size_t i = 1; i < caps_.size(); ++i)
        if (type_rank(caps_[i].type) < type_rank(caps_[best].type)) best = i;
    return best;
}

std::string Instance::selection_reason(size_t index) const {
    const char* spec = std::getenv("VKS_DEVICE");
    if (spec && *spec) return strfmt("chosen by VKS_DEVICE=%s", spec);
    return strfmt("first %s device (preference: discrete > integrated > virtual > cpu)",
                  device_type_name(caps_.at(index).type));
}

std::vector<std::string> Instance::validation_messages() const {
    if (!log_) return {};
    std::lock_guard<std::mutex> lock(log_->mutex);
    return log_->messages;
}

int Instance::take_validation_messages() {
    if (!log_) return 0;
    std::lock_guard<std::mutex> lock(log_->mutex);
    log_->messages.clear();
    return log_->n_messages.exchange(0);
}

}  // namespace vks::vk
