// The Vulkan runtime itself: validation messenger, errors, buffers, pipeline cache, limits.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

#include "support/gpu.hpp"
#include "vk/check.hpp"
#include "vk/shader_registry.hpp"

using namespace vks;
using vks::test::gpu;

TEST_CASE("the validation messenger catches a deliberately invalid call") {
    auto& g = gpu();
    REQUIRE(g.instance.validation_enabled());
    int before = g.instance.validation_message_count();
    // Invalid on purpose: a buffer of size 0 violates VUID-VkBufferCreateInfo-size-00912.
    VkBufferCreateInfo bci{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bci.size = 0;
    bci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
    VkBuffer buf = VK_NULL_HANDLE;
    VkResult r = vkCreateBuffer(g.device->handle(), &bci, nullptr, &buf);
    if (r == VK_SUCCESS && buf) vkDestroyBuffer(g.device->handle(), buf, nullptr);
    int after = g.instance.validation_message_count();
    CHECK(after > before);
    // Expected messages: take them so the process-wide check does not fail this run.
    g.instance.take_validation_messages();
}

TEST_CASE_FIXTURE(test::GpuTest, "a failing VkResult becomes a typed error naming the call") {
    try {
        VKS_VK(VK_ERROR_OUT_OF_DEVICE_MEMORY);
        FAIL("no throw");
    } catch (const Error& e) {
        CHECK(e.status() == Status::out_of_device_memory);
        CHECK(std::string(e.what()).find("VK_ERROR_OUT_OF_DEVICE_MEMORY") != std::string::npos);
        CHECK(std::string(e.what()).find("VK_ERROR_OUT_OF_DEVICE_MEMORY") != std::string::npos);
    }
    CHECK_THROWS_AS(VKS_VK(VK_ERROR_DEVICE_LOST), Error);
    try {
        VKS_VK(VK_ERROR_DEVICE_LOST);
    } catch (const Error& e) {
        CHECK(e.status() == Status::device_lost);
    }
}

TEST_CASE_FIXTURE(test::GpuTest, "buffers round-trip data and count device memory") {
    auto& dev = *gpu().device;
    uint64_t before = dev.bytes_allocated();
    {
        std::vector<float> data = test::random_floats(1000, 7);
        vk::Buffer b = test::upload(data);
        CHECK(dev.bytes_allocated() >= before + 4000);
        std::vector<float> back(1000);
        b.download(back.data(), 4000);
        CHECK(back == data);
        CHECK_THROWS_AS(b.upload(data.data(), 4004), Error);
        vk::Buffer moved = std::move(b);
        CHECK(!b);
        CHECK(moved.size() == 4000);
    }
    CHECK(dev.bytes_allocated() == before);
}

TEST_CASE("a device memory budget turns over-allocation into out_of_device_memory") {
    vk::Capabilities c = gpu().device->caps();
    vk::apply_restrictions(c, nullptr, nullptr, "device_memory=1M");
    CHECK(c.device_memory_budget == 1024 * 1024);
    // A separate device with the limit applied through the environment.
    setenv("VKS_LIMITS", "device_memory=1M", 1);
    vk::Instance inst(vk::InstanceOptions{true});
    unsetenv("VKS_LIMITS");
    vk::Device dev(inst, vk::DeviceOptions{SIZE_MAX, "off"});
    vk::Buffer ok(dev, 512 * 1024);
    try {
        vk::Buffer too_much(dev, 768 * 1024);
        FAIL("allocation over budget succeeded");
    } catch (const Error& e) {
        CHECK(e.status() == Status::out_of_device_memory);
    }
    vk::Buffer still_ok(dev, 256 * 1024);  // the failure lost nothing
    CHECK(inst.validation_message_count() == 0);
}

TEST_CASE("restrictions: unknown names are errors, limits only go down, profiles exist") {
    vk::Capabilities c = gpu().device->caps();
    CHECK_THROWS_AS(vk::apply_restrictions(c, nullptr, "fp17", nullptr), Error);
    CHECK_THROWS_AS(vk::apply_restrictions(c, nullptr, nullptr, "shared=abc"), Error);
    CHECK_THROWS_AS(vk::apply_restrictions(c, "no_such_profile", nullptr, nullptr), Error);
    vk::Capabilities b = gpu().device->caps();
    vk::apply_restrictions(b, "baseline", nullptr, nullptr);
    CHECK_FALSE(b.fp16);
    CHECK_FALSE(b.subgroup_reduce());
    CHECK(b.max_shared_memory <= 16384);
    CHECK(b.max_workgroup_invocations <= 128);
    CHECK(b.max_storage_buffer_range <= 128ull << 20);
    vk::Capabilities up = gpu().device->caps();
    uint64_t real = up.max_storage_buffer_range;
    vk::apply_restrictions(up, nullptr, nullptr, "max_binding=64G");
    CHECK(up.max_storage_buffer_range == real);
}

TEST_CASE("every embedded shader reflects to storage buffers only") {
    for (const auto& e : shaders::all()) {
        CAPTURE(e.name);
        vk::ShaderInterface i = vk::reflect({e.words, e.n_words}, e.name);
        CHECK(i.n_bindings >= 1);
    }
}

TEST_CASE("the pipeline cache is written to disk and reused") {
    namespace fs = std::filesystem;
    fs::path dir = fs::temp_directory_path() / ("vks-pcache-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    std::string path;
    {
        vk::Instance inst(vk::InstanceOptions{true});
        vk::Device dev(inst, vk::DeviceOptions{SIZE_MAX, dir.string()});
        vk::Pipeline p(dev, "rms_norm_f32", std::vector<uint32_t>{64});
        path = dev.pipeline_cache_path();
        CHECK(inst.validation_message_count() == 0);
    }
    REQUIRE(fs::exists(path));
    CHECK(fs::file_size(path) > 16);
    {
        // Reload it; then a corrupt cache file is ignored rather than handed to the driver.
        vk::Instance inst(vk::InstanceOptions{true});
        { vk::Device dev(inst, vk::DeviceOptions{SIZE_MAX, dir.string()}); }
        { std::FILE* f = std::fopen(path.c_str(), "wb"); std::fputs("garbage", f); std::fclose(f); }
        vk::Device dev(inst, vk::DeviceOptions{SIZE_MAX, dir.string()});
        vk::Pipeline p(dev, "softmax_f32", std::vector<uint32_t>{64});
        CHECK(inst.validation_message_count() == 0);
    }
    fs::remove_all(dir);
}

TEST_CASE("an unknown shader variant is an error, not a crash") {
    CHECK_THROWS_AS(vk::Pipeline(*gpu().device, "no_such_kernel"), Error);
}
