#pragma once
// The test device: one Vulkan instance (validation layer on) and device per test process,
// plus buffers with guard words for catching out-of-bounds writes.
#include <cstdint>
#include <memory>
#include <vector>

#include "ops/kernels.hpp"
#include "support/test_support.hpp"
#include "vk/buffer.hpp"
#include "vk/commands.hpp"
#include "vk/device.hpp"
#include "vk/instance.hpp"

namespace vks::test {

struct Gpu {
    vk::Instance instance;
    std::unique_ptr<vk::Device> device;
    std::unique_ptr<ops::Kernels> kernels;
};

// Created on first use with validation enabled; the device follows VKS_DEVICE / VKS_PROFILE.
Gpu& gpu();

constexpr uint32_t kGuardWords = 64;
constexpr uint32_t kGuardPattern = 0x7fc0dead;  // a NaN payload no kernel produces

// A device buffer of `n` floats followed by kGuardWords guard words.
vk::Buffer guarded_buffer(size_t n, const char* name = "out");
// A device buffer initialised from `data` (no guard).
vk::Buffer upload(const std::vector<float>& data, const char* name = "in");
vk::Buffer upload_bytes(const void* data, size_t n_bytes, const char* name = "in");
// Reads the first n floats; CHECKs that the guard words after them are intact.
std::vector<float> read_guarded(const vk::Buffer& buf, size_t n);

// Records `record(cmd)` into a fresh command buffer, submits it and waits.
template <class F>
void run(F&& record) {
    vk::Commands cmd(*gpu().device);
    cmd.begin();
    record(cmd);
    cmd.end();
    cmd.submit();
}

// Fixture: fails the test case if it produced any validation message.
struct GpuTest {
    GpuTest();
    ~GpuTest();
    int messages_at_start = 0;
};

}  // namespace vks::test
