// Session::commit_memory (see session.hpp).
#include "engine/session.hpp"
#include "vk/commands.hpp"

namespace vks::engine {

void Session::commit_memory() {
    vk::Commands cmd(model_->device());
    cmd.begin();
    auto zero = [&](const vk::Buffer& b) {
        if (b) cmd.fill(b, 0, VK_WHOLE_SIZE, 0);
    };
    // The cache's K/V rows: their content never matters before they are written (visibility
    // follows n_past), so zeros are as good as anything. The RoPE tables and step records hold
    // data and are left alone (they were written at creation anyway).
    for (uint32_t l = 0; l < cache_->n_layer(); ++l) {
        zero(cache_->k(l));
        zero(cache_->v(l));
    }
    // Scratch: every step writes what it reads.
    for (const vk::Buffer* b : {&in_, &x_, &xn_, &qkv_, &attn_, &gate_, &tmp_, &up_, &last_, &logits_dev_,
                                &attn_scratch_, &xq_})
        zero(*b);
    cmd.end();
    cmd.submit();
    reset();
}

}  // namespace vks::engine
