#include "support/gpu.hpp"

#include <cstring>

namespace vks::test {

static std::unique_ptr<Gpu> g_gpu;  // destroyed at exit: kernels, then device, then instance

Gpu& gpu() {
    if (!g_gpu) {
        auto p = std::make_unique<Gpu>(Gpu{vk::Instance(vk::InstanceOptions{true}), nullptr, nullptr});
        p->device = std::make_unique<vk::Device>(p->instance);
        p->kernels = std::make_unique<ops::Kernels>(*p->device);
        g_gpu = std::move(p);
    }
    return *g_gpu;
}

int validation_message_count() {
    // A process that never created the test device has seen no messages.
    return g_gpu ? g_gpu->instance.validation_message_count() : 0;
}

vk::Buffer guarded_buffer(size_t n, const char* name) {
    vk::Buffer b(*gpu().device, (n + kGuardWords) * 4, vk::BufferKind::device, name);
    std::vector<uint32_t> init(n + kGuardWords, kGuardPattern);
    b.upload(init.data(), init.size() * 4);
    return b;
}

vk::Buffer upload(const std::vector<float>& data, const char* name) {
    return upload_bytes(data.data(), data.size() * 4, name);
}

vk::Buffer upload_bytes(const void* data, size_t n_bytes, const char* name) {
    vk::Buffer b(*gpu().device, n_bytes ? n_bytes : 4, vk::BufferKind::device, name);
    if (n_bytes) b.upload(data, n_bytes);
    return b;
}

std::vector<float> read_guarded(const vk::Buffer& buf, size_t n) {
    std::vector<uint32_t> words(n + kGuardWords);
    buf.download(words.data(), words.size() * 4);
    size_t bad = 0;
    for (size_t i = n; i < n + kGuardWords; ++i) bad += words[i] != kGuardPattern;
    CHECK_MESSAGE(bad == 0, bad << " guard word(s) after " << n << " outputs were overwritten");
    std::vector<float> out(n);
    std::memcpy(out.data(), words.data(), n * 4);
    return out;
}

GpuTest::GpuTest() { messages_at_start = gpu().instance.validation_message_count(); }

GpuTest::~GpuTest() {
    int now = gpu().instance.validation_message_count();
    CHECK_MESSAGE(now == messages_at_start, (now - messages_at_start) << " Vulkan validation message(s) in this test");
}

}  // namespace vks::test
