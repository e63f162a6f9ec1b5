#include "ops/attention_bench.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "common/error.hpp"
#include "kv/cache.hpp"
#include "ops/attention.hpp"

namespace vks::ops {

AttentionBenchResult bench_attention_decode_detailed(Kernels& k, uint32_t capacity, uint64_t stream_length,
                                                     const AttentionBenchShape& shape) {
    if (capacity <= shape.n_sink)
        fail(Status::invalid_argument, "attention bench: capacity %u must exceed n_sink %u", capacity, shape.n_sink);
    const uint32_t n = std::max(shape.n_tokens, 1u);
    if (stream_length < n)
        fail(Status::invalid_argument, "attention bench: stream_length %llu < chunk of %u tokens",
             (unsigned long long)stream_length, n);
    vk::Device& dev = k.device();
    kv::RopeConfig rope;
    rope.style = shape.style;
    kv::CacheConfig cc = kv::CacheConfig::uniform(1, kv::make_cache_shape(shape.n_sink, capacity - shape.n_sink), rope,
                                                  shape.n_head_kv, shape.head_dim);
    cc.types = shape.types;
    kv::Cache cache(dev, cc);

    AttentionConfig ac;
    ac.n_head = shape.n_head;
    ac.n_splits = shape.n_splits;
    ac.variant = shape.variant;
    ac.reads = shape.reads;
    const uint64_t q_bytes = uint64_t(n) * shape.n_head * shape.head_dim * 4;
    const uint64_t kv_bytes = uint64_t(n) * shape.n_head_kv * shape.head_dim * 4;
    vk::Buffer q(dev, q_bytes, vk::BufferKind::device, "bench.q");
    vk::Buffer kn(dev, kv_bytes, vk::BufferKind::device, "bench.k_new");
    vk::Buffer vn(dev, kv_bytes, vk::BufferKind::device, "bench.v_new");
    vk::Buffer out(dev, q_bytes, vk::BufferKind::device, "bench.out");
    vk::Buffer sinks(dev, uint64_t(shape.n_head) * 4, vk::BufferKind::device, "bench.sinks");
    vk::Buffer scratch(dev, std::max<uint64_t>(attention_scratch_bytes(cache, 0, n, ac), 4), vk::BufferKind::device,
                       "bench.scratch");
    if (shape.learned_sinks) ac.sink_logits = vk::BufferRange(sinks);

    // Contents do not change the work done; fill with small finite values (f16 0.0999 pairs).
    {
        vk::Commands init(dev);
        init.begin();
        init.fill(cache.k(0), 0, VK_WHOLE_SIZE, 0x2e662e66u);
        init.fill(cache.v(0), 0, VK_WHOLE_SIZE, 0x2e662e66u);
        init.fill(q, 0, VK_WHOLE_SIZE, 0x3dcccccdu);  // f32 0.1
        init.fill(kn, 0, VK_WHOLE_SIZE, 0x3dcccccdu);
        init.fill(vn, 0, VK_WHOLE_SIZE, 0x3dcccccdu);
        init.fill(sinks, 0, VK_WHOLE_SIZE, 0);
        init.end();
        init.submit();
    }
    const uint64_t t0 = stream_length - n;  // the chunk's last query is token stream_length - 1
    const kv::Step step = cache.set_step(0, t0, n);

    const uint32_t n_repeat = std::max(shape.n_repeat, 1u), n_iters = std::max(shape.n_iters, 1u);
    vk::Commands cmd(dev, 2);
    cmd.begin();
    cache.record_step_upload(cmd);
    cmd.timestamp(0);
    for (uint32_t r = 0; r < n_repeat; ++r) {
        attention_and_store(k, cmd, cache, 0, step, q, kn, vn, out, scratch, ac);
        cmd.barrier();
    }
    cmd.timestamp(1);
    cmd.end();
    cmd.submit();  // warm-up (pipeline creation happened at recording)

    double device_ns = 0.0;
    const auto start = std::chrono::steady_clock::now();
    for (uint32_t i = 0; i < n_iters; ++i) {
        cache.set_step(0, t0, n);  // what the engine does before every replay
        cmd.submit();
        device_ns += cmd.elapsed_ns(0, 1);
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    AttentionBenchResult r;
    r.seconds_per_step = wall / double(n_iters) / double(n_repeat);
    r.device_seconds_per_step = device_ns * 1e-9 / double(n_iters) / double(n_repeat);
    r.n_visible = kv::n_visible(stream_length - 1, cache.shape(0));
    r.n_splits = attention_splits(cache, 0, n, ac);
    r.cache_bytes = cache.bytes();
    // One query's K+V at the cache's bytes per token (f16: 2 bytes per element; q8_0 34/64 of it).
    const double bytes_read = double(r.n_visible) * double(kv::kv_bytes_per_token(shape.types, shape.n_head_kv, shape.head_dim));
    r.gbytes_per_s = bytes_read / r.seconds_per_step * 1e-9;
    return r;
}

double bench_attention_decode(Kernels& k, uint32_t capacity, uint64_t stream_length,
                              const AttentionBenchShape& shape) {
    return bench_attention_decode_detailed(k, capacity, stream_length, shape).seconds_per_step;
}

}  // namespace vks::ops
