#include "vk/pipeline.hpp"

#include <algorithm>
#include <map>

#include "vk/check.hpp"
#include "vk/shader_registry.hpp"

namespace vks::vk {

namespace {
// SPIR-V opcodes and enums used by reflect() (SPIR-V spec, section 3).
constexpr uint32_t kOpDecorate = 71, kOpVariable = 59;
constexpr uint32_t kDecorationSpecId = 1, kDecorationBinding = 33, kDecorationDescriptorSet = 34;
constexpr uint32_t kStorageClassUniformConstant = 0, kStorageClassUniform = 2, kStorageClassPushConstant = 9,
                   kStorageClassStorageBuffer = 12;
constexpr uint32_t kOpTypePointer = 32, kOpTypeImage = 25, kOpTypeSampledImage = 27;
constexpr uint32_t kDimBuffer = 5;
}  // namespace

ShaderInterface reflect(std::span<const uint32_t> spirv, const char* name) {
    if (spirv.size() < 5 || spirv[0] != 0x07230203u) fail(Status::internal, "shader %s: not a SPIR-V module", name);
    std::map<uint32_t, uint32_t> binding, set;          // id -> decoration value
    std::map<uint32_t, uint32_t> pointer_class;         // pointer type id -> storage class
    std::map<uint32_t, uint32_t> pointee;               // pointer type id -> pointee type id
    std::map<uint32_t, uint32_t> sampled_image;         // sampled image type id -> image type id
    std::map<uint32_t, uint32_t> image_dim;             // image type id -> Dim
    std::map<uint32_t, uint32_t> var_type;              // variable id -> pointer type id
    std::vector<std::pair<uint32_t, uint32_t>> vars;    // (id, storage class)
    ShaderInterface out;
    for (size_t i = 5; i < spirv.size();) {
        uint32_t op = spirv[i] & 0xffffu, len = spirv[i] >> 16;
        if (len == 0 || i + len > spirv.size()) fail(Status::internal, "shader %s: malformed SPIR-V", name);
        if (op == kOpDecorate && len >= 4) {
            uint32_t id = spirv[i + 1], dec = spirv[i + 2], val = spirv[i + 3];
            if (dec == kDecorationBinding) binding[id] = val;
            if (dec == kDecorationDescriptorSet) set[id] = val;
            if (dec == kDecorationSpecId) out.n_spec_constants = std::max(out.n_spec_constants, val + 1);
        } else if (op == kOpTypePointer && len >= 4) {
            pointer_class[spirv[i + 1]] = spirv[i + 2];
            pointee[spirv[i + 1]] = spirv[i + 3];
        } else if (op == kOpTypeSampledImage && len >= 3) {
            sampled_image[spirv[i + 1]] = spirv[i + 2];
        } else if (op == kOpTypeImage && len >= 4) {
            image_dim[spirv[i + 1]] = spirv[i + 3];
        } else if (op == kOpVariable && len >= 4) {
            vars.emplace_back(spirv[i + 2], spirv[i + 3]);
            var_type[spirv[i + 2]] = spirv[i + 1];
        }
        i += len;
    }
    std::map<uint32_t, VkDescriptorType> types;
    for (auto [id, cls] : vars) {
        if (cls == kStorageClassPushConstant) out.uses_push_constants = true;
        auto b = binding.find(id);
        if (b == binding.end()) continue;
        if (set.count(id) && set[id] != 0) fail(Status::internal, "shader %s: descriptor set %u is not supported", name, set[id]);
        VkDescriptorType type = VK_DESCRIPTOR_TYPE_MAX_ENUM;
        if (cls == kStorageClassStorageBuffer) {
            type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        } else if (cls == kStorageClassUniformConstant) {
            auto img = sampled_image.find(pointee[var_type[id]]);
            if (img != sampled_image.end() && image_dim.count(img->second) && image_dim[img->second] == kDimBuffer)
                type = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
        }
        if (type == VK_DESCRIPTOR_TYPE_MAX_ENUM)
            fail(Status::internal,
                 "shader %s: binding %u is neither a storage buffer nor a uniform texel buffer (usamplerBuffer)", name,
                 b->second);
        // Several declarations may alias one binding (e.g. uint[] and uvec4[] views of a buffer),
        // as long as they agree on the descriptor type.
        if (types.count(b->second) && types[b->second] != type)
            fail(Status::internal, "shader %s: binding %u declared with two descriptor types", name, b->second);
        types[b->second] = type;
        out.n_bindings = std::max(out.n_bindings, b->second + 1);
    }
    out.types.assign(out.n_bindings, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER);
    for (uint32_t i = 0; i < out.n_bindings; ++i) {
        if (!types.count(i)) fail(Status::internal, "shader %s: bindings must be dense; %u is missing", name, i);
        out.types[i] = types[i];
    }
    return out;
}

Pipeline::Pipeline(Device& device, const std::string& variant, std::span<const uint32_t> spec, bool build_now)
    : device_(&device), name_(variant), spec_(spec.begin(), spec.end()) {
    const shaders::Entry* entry = shaders::find(variant);
    if (!entry) fail(Status::internal, "no shader variant named '%s' is embedded in this build", variant.c_str());
    std::span<const uint32_t> words(entry->words, entry->n_words);
    iface_ = reflect(words, entry->name);
    if (spec.size() > iface_.n_spec_constants && iface_.n_spec_constants > 0)
        fail(Status::internal, "shader %s: %zu specialization constants given, module declares %u", variant.c_str(),
             spec.size(), iface_.n_spec_constants);
    if (iface_.n_bindings > device.caps().max_storage_buffers_per_stage)
        fail(Status::feature_missing, "shader %s needs %u storage buffers; the device allows %u", variant.c_str(),
             iface_.n_bindings, device.caps().max_storage_buffers_per_stage);
    push_bytes_ = iface_.uses_push_constants ? std::min<uint32_t>(128, device.caps().max_push_constants) : 0;
    VkDevice dev = device.handle();
    try {
        VkShaderModuleCreateInfo smci{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
        smci.codeSize = entry->n_words * 4;
        smci.pCode = entry->words;
        VKS_VK(vkCreateShaderModule(dev, &smci, nullptr, &module_));

        std::vector<VkDescriptorSetLayoutBinding> bindings(iface_.n_bindings);
        for (uint32_t b = 0; b < iface_.n_bindings; ++b) {
            bindings[b].binding = b;
            bindings[b].descriptorType = iface_.types[b];
            bindings[b].descriptorCount = 1;
            bindings[b].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
        }
        VkDescriptorSetLayoutCreateInfo dslci{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
        dslci.bindingCount = uint32_t(bindings.size());
        dslci.pBindings = bindings.data();
        VKS_VK(vkCreateDescriptorSetLayout(dev, &dslci, nullptr, &set_layout_));

        VkPushConstantRange pcr{VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes_};
        VkPipelineLayoutCreateInfo plci{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
        plci.setLayoutCount = 1;
        plci.pSetLayouts = &set_layout_;
        plci.pushConstantRangeCount = push_bytes_ ? 1 : 0;
        plci.pPushConstantRanges = push_bytes_ ? &pcr : nullptr;
        VKS_VK(vkCreatePipelineLayout(dev, &plci, nullptr, &layout_));
        if (build_now) build();
    } catch (...) {
        destroy();
        throw;
    }
}

void Pipeline::build() {
    if (pipeline_ || !device_) return;
    std::vector<VkSpecializationMapEntry> map(spec_.size());
    for (uint32_t i = 0; i < spec_.size(); ++i) map[i] = {i, i * 4, 4};
    VkSpecializationInfo si{uint32_t(map.size()), map.data(), spec_.size() * 4, spec_.data()};
    VkComputePipelineCreateInfo cpci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
    cpci.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
    cpci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    cpci.stage.module = module_;
    cpci.stage.pName = "main";
    cpci.stage.pSpecializationInfo = spec_.empty() ? nullptr : &si;
    cpci.layout = layout_;
    VKS_VK(vkCreateComputePipelines(device_->handle(), device_->pipeline_cache(), 1, &cpci, nullptr, &pipeline_));
}

void Pipeline::destroy() noexcept {
    if (!device_) return;
    VkDevice dev = device_->handle();
    if (pipeline_) vkDestroyPipeline(dev, pipeline_, nullptr);
    if (layout_) vkDestroyPipelineLayout(dev, layout_, nullptr);
    if (set_layout_) vkDestroyDescriptorSetLayout(dev, set_layout_, nullptr);
    if (module_) vkDestroyShaderModule(dev, module_, nullptr);
    pipeline_ = VK_NULL_HANDLE;
    layout_ = VK_NULL_HANDLE;
    set_layout_ = VK_NULL_HANDLE;
    module_ = VK_NULL_HANDLE;
}

Pipeline::~Pipeline() { destroy(); }

Pipeline::Pipeline(Pipeline&& o) noexcept { *this = std::move(o); }

Pipeline& Pipeline::operator=(Pipeline&& o) noexcept {
    if (this != &o) {
        destroy();
        device_ = o.device_;
        name_ = std::move(o.name_);
        spec_ = std::move(o.spec_);
        iface_ = o.iface_;
        push_bytes_ = o.push_bytes_;
        module_ = o.module_;
        set_layout_ = o.set_layout_;
        layout_ = o.layout_;
        pipeline_ = o.pipeline_;
        o.device_ = nullptr;
        o.module_ = VK_NULL_HANDLE;
        o.set_layout_ = VK_NULL_HANDLE;
        o.layout_ = VK_NULL_HANDLE;
        o.pipeline_ = VK_NULL_HANDLE;
    }
    return *this;
}

}  // namespace vks::vk
