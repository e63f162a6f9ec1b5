// vkstream info [--json]: every Vulkan device, its features and limits (after VKS_PROFILE /
// VKS_DISABLE / VKS_LIMITS), which one would be selected, and the kernel variants chosen on it.
// vkstream info -m MODEL [--sink N] [--window N] [--json]: the KV cache a session of that model
// would hold, by layer kind (engine::kv_layout), without a device.
#include <cstdio>
#include <cstring>

#include "commands.hpp"
#include "engine/kv_layout.hpp"
#include "gguf/reader.hpp"
#include "common/error.hpp"
#include "json.hpp"
#include "ops/kernels.hpp"
#include "vk/instance.hpp"

namespace vks::cli {

namespace {

std::string mib(uint64_t b) { return strfmt("%.1f MiB", double(b) / (1024.0 * 1024.0)); }

void print_text(const vk::Instance& inst, size_t selected) {
    const auto& all = inst.capabilities();
    std::printf("vkstream %s: %zu Vulkan device(s)\n", VKS_VERSION_STRING, all.size());
    for (size_t i = 0; i < all.size(); ++i) {
        const vk::Capabilities& c = all[i];
        std::printf("\n[%zu] %s%s\n", i, c.name.c_str(), i == selected ? "   <- selected" : "");
        std::printf("    type %s, Vulkan %s, driver %s %s, vendor 0x%04x device 0x%04x\n", vk::device_type_name(c.type),
                    vk::api_version_string(c.api_version).c_str(), c.driver_name.c_str(), c.driver_info.c_str(),
                    c.vendor_id, c.device_id);
        std::printf("    arithmetic: fp16 %s, int8 %s, int16 %s, int64 %s, integer dot %s%s\n", c.fp16 ? "yes" : "no",
                    c.int8 ? "yes" : "no", c.int16 ? "yes" : "no", c.int64 ? "yes" : "no", c.int_dot ? "yes" : "no",
                    c.int_dot ? (c.int_dot_accelerated ? " (accelerated)" : " (not accelerated)") : "");
        std::printf("    storage: 8-bit %s, 16-bit %s; cooperative matrix: %s\n", c.storage8 ? "yes" : "no",
                    c.storage16 ? "yes" : "no", c.coopmat ? c.coopmat_extension.c_str() : "no");
        std::printf("    subgroup: size %u (min %u, max %u), compute %s, basic %s, arithmetic %s, shuffle %s, size control %s\n",
                    c.subgroup_size, c.min_subgroup_size, c.max_subgroup_size, c.subgroup_in_compute ? "yes" : "no",
                    c.subgroup_basic ? "yes" : "no", c.subgroup_arithmetic ? "yes" : "no",
                    c.subgroup_shuffle ? "yes" : "no", c.subgroup_size_control ? "yes" : "no");
        std::printf("    limits: storage buffer range %s, max allocation %s, shared memory %u B, workgroup invocations %u,\n"
                    "            workgroup size %u x %u x %u, workgroup count %u x %u x %u, push constants %u B\n",
                    mib(c.max_storage_buffer_range).c_str(), mib(c.max_memory_allocation).c_str(), c.max_shared_memory,
                    c.max_workgroup_invocations, c.max_workgroup_size[0], c.max_workgroup_size[1],
                    c.max_workgroup_size[2], c.max_workgroup_count[0], c.max_workgroup_count[1],
                    c.max_workgroup_count[2], c.max_push_constants);
        std::printf("    texel buffers (uvec4 texelFetch): %s, max %llu texels, offset alignment %llu\n",
                    c.texel_buffers ? "yes" : "no", (unsigned long long)c.max_texel_buffer_elements,
                    (unsigned long long)c.min_texel_buffer_offset_alignment);
        std::printf("    memory heaps:");
        for (const auto& h : c.heaps) std::printf(" %s%s", mib(h.size).c_str(), h.device_local ? " (device-local)" : "");
        std::printf("\n    timestamps: %s (period %.2f ns)\n", c.timestamps ? "yes" : "no", c.timestamp_period_ns);
        if (!c.restrictions.empty()) {
            std::printf("    effective profile (restricted from the environment):");
            for (const auto& r : c.restrictions) std::printf(" [%s]", r.c_str());
            std::printf("\n");
        } else {
            std::printf("    effective profile: as reported by the driver\n");
        }
        if (i == selected) {
            std::printf("    selection: %s\n    kernels on this device:\n", inst.selection_reason(i).c_str());
            for (const auto& v : ops::describe_variants(c))
                std::printf("      %-14s %-34s %s\n", v.op.c_str(), v.variant.c_str(), v.why.c_str());
        }
    }
}

void print_json(const vk::Instance& inst, size_t selected) {
    Json j;
    j.begin_object().kv("version", VKS_VERSION_STRING).kv("selected", uint64_t(selected));
    j.key("selection_reason").value(inst.selection_reason(selected));
    j.key("devices").begin_array();
    const auto& all = inst.capabilities();
    for (size_t i = 0; i < all.size(); ++i) {
        const vk::Capabilities& c = all[i];
        j.begin_object();
        j.kv("index", uint64_t(i)).kv("name", c.name).kv("type", vk::device_type_name(c.type));
        j.kv("api_version", vk::api_version_string(c.api_version)).kv("driver", c.driver_name + " " + c.driver_info);
        j.kv("vendor_id", c.vendor_id).kv("device_id", c.device_id);
        j.key("features").begin_object();
        j.kv("fp16", c.fp16).kv("int8", c.int8).kv("int16", c.int16).kv("int64", c.int64);
        j.kv("storage8", c.storage8).kv("storage16", c.storage16);
        j.kv("integer_dot_product", c.int_dot).kv("integer_dot_product_accelerated", c.int_dot_accelerated);
        j.kv("cooperative_matrix", c.coopmat ? c.coopmat_extension : std::string());
        j.kv("uniform_texel_buffers", c.texel_buffers);
        j.end_object();
        j.key("subgroup").begin_object();
        j.kv("size", c.subgroup_size).kv("min_size", c.min_subgroup_size).kv("max_size", c.max_subgroup_size);
        j.kv("compute", c.subgroup_in_compute).kv("basic", c.subgroup_basic).kv("arithmetic", c.subgroup_arithmetic);
        j.kv("shuffle", c.subgroup_shuffle).kv("size_control", c.subgroup_size_control);
        j.end_object();
        j.key("limits").begin_object();
        j.kv("max_storage_buffer_range", c.max_storage_buffer_range).kv("max_memory_allocation", c.max_memory_allocation);
        j.kv("max_compute_shared_memory", c.max_shared_memory).kv("max_workgroup_invocations", c.max_workgroup_invocations);
        j.key("max_workgroup_size").begin_array();
        for (uint32_t v : c.max_workgroup_size) j.value(v);
        j.end_array().key("max_workgroup_count").begin_array();
        for (uint32_t v : c.max_workgroup_count) j.value(v);
        j.end_array();
        j.kv("max_texel_buffer_elements", c.max_texel_buffer_elements);
        j.kv("max_push_constants", c.max_push_constants).kv("min_storage_buffer_offset_alignment",
                                                            c.min_storage_buffer_offset_alignment);
        j.kv("timestamps", c.timestamps).kv("timestamp_period_ns", double(c.timestamp_period_ns));
        j.end_object();
        j.key("memory_heaps").begin_array();
        for (const auto& h : c.heaps) j.begin_object().kv("size", h.size).kv("device_local", h.device_local).end_object();
        j.end_array();
        j.key("restrictions").begin_array();
        for (const auto& r : c.restrictions) j.value(r);
        j.end_array();
        j.kv("selected", i == selected);
        if (i == selected) {
            j.key("kernels").begin_array();
            for (const auto& v : ops::describe_variants(c))
                j.begin_object().kv("op", v.op).kv("variant", v.variant).kv("why", v.why).end_object();
            j.end_array();
        }
        j.end_object();
    }
    j.end_array().end_object();
    std::printf("%s\n", j.str().c_str());
}

}  // namespace

// `info -m MODEL`: the KV cache a session would hold, by layer kind (no device needed).
int print_kv_layout(const std::string& path, uint32_t n_sink, uint32_t n_window, bool json) {
    gguf::File f = gguf::File::open(path);
    const model::Description d = model::Description::from_gguf(f);
    if (n_window == 0) {  // as engine::SessionConfig
        const uint32_t ctx = d.n_ctx_train ? d.n_ctx_train : 4096;
        if (ctx <= n_sink) fail(Status::invalid_argument, "n_sink %u leaves no window in a %u-token context", n_sink, ctx);
        n_window = ctx - n_sink;
    }
    const engine::KvLayout k = engine::kv_layout(d, n_sink, n_window);
    if (json) {
        Json j;
        j.begin_object();
        j.kv("model", path).kv("n_sink", n_sink).kv("n_window", n_window);
        j.kv("n_global_layers", k.n_global).kv("global_slots", k.global_slots).kv("global_kv_bytes", k.global_bytes);
        j.kv("n_local_layers", k.n_local).kv("local_slots", k.local_slots).kv("local_kv_bytes", k.local_bytes);
        j.kv("kv_bytes", k.bytes()).kv("all_layers_full_window_bytes", k.all_global_bytes);
        j.end_object();
        std::printf("%s\n", j.str().c_str());
        return 0;
    }
    std::printf("KV cache of %s with %u sinks + %u window (f16):\n", path.c_str(), n_sink, n_window);
    std::printf("  global layers: %u x %u slots = %.2f MiB\n", k.n_global, k.global_slots,
                double(k.global_bytes) / (1 << 20));
    if (k.n_local)
        std::printf("  local (sliding-window) layers: %u x %u slots = %.2f MiB\n", k.n_local, k.local_slots,
                    double(k.local_bytes) / (1 << 20));
    std::printf("  total %.2f MiB = %.1f%% of a full window on every layer (%.2f MiB)\n", double(k.bytes()) / (1 << 20),
                100.0 * k.ratio_to_all_global(), double(k.all_global_bytes) / (1 << 20));
    return 0;
}

int cmd_info(const Args& args) {
    bool json = false;
    std::string model_path;
    uint32_t n_sink = 4, n_window = 0;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        const bool has_value = i + 1 < args.size();
        if (a == "--json") json = true;
        else if ((a == "-m" || a == "--model") && has_value) model_path = args[++i];
        else if (a == "--sink" && has_value) n_sink = uint32_t(std::stoul(args[++i]));
        else if (a == "--window" && has_value) n_window = uint32_t(std::stoul(args[++i]));
        else {
            std::fprintf(stderr, "usage: vkstream info [--json] [-m MODEL [--sink N] [--window N]]\n");
            return 2;
        }
    }
    if (!model_path.empty()) return print_kv_layout(model_path, n_sink, n_window, json);
    vk::Instance inst;
    size_t selected = inst.select_device();
    if (json) print_json(inst, selected);
    else print_text(inst, selected);
    return 0;
}

}  // namespace vks::cli
