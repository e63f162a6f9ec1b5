#pragma once
// Compute pipelines built from an embedded SPIR-V variant (shaders/variants.txt). The
// descriptor-set layout is derived from the module itself (SPIR-V reflection), so bindings are
// written once, in the shader. Two kinds of binding exist: storage buffers, and uniform texel
// buffers of 16-byte uvec4 texels (texelFetch): on CPU devices (lavapipe) a texel fetch is a
// vector gather while a storage-buffer load is a per-lane loop, ~20x slower for streaming reads. Tuning knobs are specialization constants (constant_id 0, 1, ...);
// per-dispatch sizes are push constants (structs in shaders/params.h, shared with GLSL).
#include <vulkan/vulkan.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vk/device.hpp"

namespace vks::vk {

struct ShaderInterface {
    uint32_t n_bindings = 0;         // bindings 0..n-1 at set 0
    // Per binding: VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, or VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER
    // (a `usamplerBuffer` read with texelFetch; always viewed as R32G32B32A32_UINT texels).
    std::vector<VkDescriptorType> types;
    bool uses_push_constants = false;
    uint32_t n_spec_constants = 0;   // highest SpecId + 1
};

// Parses just enough SPIR-V to learn the interface. Throws Status::internal on modules that use
// anything but storage buffers and uniform texel buffers in descriptor set 0.
ShaderInterface reflect(std::span<const uint32_t> spirv, const char* name);

class Pipeline {
public:
    Pipeline() = default;
    // `spec` holds specialization constants for constant_id 0..spec.size()-1 (32-bit each).
    // build_now = false stops before vkCreateComputePipelines (the expensive step: the driver
    // compiles there, or, on lavapipe, translates to NIR): the shader module and layouts exist,
    // so commands can be planned against interface(), and build() finishes it later, possibly on
    // another thread (ops::Kernels builds many at once).
    Pipeline(Device& device, const std::string& variant, std::span<const uint32_t> spec = {}, bool build_now = true);
    ~Pipeline();
    Pipeline(Pipeline&& o) noexcept;
    Pipeline& operator=(Pipeline&& o) noexcept;
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    // Creates the VkPipeline if it does not exist yet. Not thread-safe for one object (callers
    // serialize per pipeline); different pipelines may be built concurrently (the device's
    // pipeline cache is internally synchronized: it is created without
    // VK_PIPELINE_CACHE_CREATE_EXTERNALLY_SYNCHRONIZED_BIT).
    void build();
    bool built() const { return pipeline_ != VK_NULL_HANDLE; }

    VkPipeline handle() const { return pipeline_; }
    VkPipelineLayout layout() const { return layout_; }
    VkDescriptorSetLayout set_layout() const { return set_layout_; }
    const ShaderInterface& interface() const { return iface_; }
    uint32_t push_constant_bytes() const { return push_bytes_; }
    const std::string& name() const { return name_; }
    const std::vector<uint32_t>& spec() const { return spec_; }
    explicit operator bool() const { return pipeline_ != VK_NULL_HANDLE; }

private:
    void destroy() noexcept;

    Device* device_ = nullptr;
    std::string name_;
    std::vector<uint32_t> spec_;  // kept for build()
    ShaderInterface iface_;
    uint32_t push_bytes_ = 0;
    VkShaderModule module_ = VK_NULL_HANDLE;
    VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
    VkPipelineLayout layout_ = VK_NULL_HANDLE;
    VkPipeline pipeline_ = VK_NULL_HANDLE;
};

}  // namespace vks::vk
