// Sink-preserving windowed attention over the circular cache vs the literal StreamingLLM
// reference (lib/ref/attention), decode and chunked prefill, across ring wrap-around.
//
// Tolerances. With f16_exact streams (K/V rounded to f16-representable values before both the
// reference and the device see them) the f16 cache is lossless, so the only differences are f32
// vs double arithmetic and the float cos/sin table vs double angles: per-token NMSE <= 1e-9
// (observed ~1e-13..1e-12 on lavapipe). With raw f32 K/V the cache rounds each stored value with
// relative error <= 2^-11, a per-element NMSE of ~1e-7 on V and small score perturbations:
// bound 1e-5 (observed ~1e-7).
#include <doctest/doctest.h>

#include "attention_harness.hpp"
#include <algorithm>
#include <memory>

#include "common/error.hpp"
#include "ops/attention_bench.hpp"
#include "support/gpu.hpp"

using namespace vks;
using test::AttnCase;

namespace {

constexpr double kExactNmse = 1e-9;
constexpr double kExactMaxAbs = 1e-4;
constexpr double kLossyNmse = 1e-5;

// Runs the stream through the device in chunks of `chunk` and checks every token's output.
void check_stream(const AttnCase& c, uint64_t n_tokens, uint32_t chunk, uint32_t seed, bool causal = false) {
    CAPTURE(c.describe());
    CAPTURE(n_tokens);
    CAPTURE(chunk);
    CAPTURE(seed);
    const test::Stream s = test::make_stream(c, n_tokens, seed);
    const std::vector<float> want = test::reference_outputs(c, s, causal);
    const std::vector<float> got = test::device_outputs(c, s, chunk);
    const test::Worst w = test::compare_per_token(got, want, n_tokens, size_t(c.n_head) * c.head_dim);
    MESSAGE("worst nmse " << w.nmse << " at t=" << w.t << ", max abs " << w.max_abs);
    const double bound = c.f16_exact ? kExactNmse : kLossyNmse;
    CHECK_MESSAGE(w.nmse <= bound, "token " << w.t << " nmse " << w.nmse << " > " << bound);
    if (c.f16_exact) CHECK(w.max_abs <= kExactMaxAbs);
}

using Variant = ops::AttentionConfig::Variant;
using Reads = ops::AttentionConfig::Reads;

}  // namespace

// Each scenario runs as four test cases, one per kernel variant, whatever the device would pick:
// portable and subgroup work splits, each with storage-buffer and texel-buffer reads (the subgroup
// ones where the device has subgroup arithmetic, the texel ones where it has texel buffers).
#define ATTN_CASE(FN, TITLE)                                                                   \
    static void FN(Variant variant, Reads reads);                                              \
    TEST_CASE_FIXTURE(test::GpuTest, "attention[portable]: " TITLE) { FN(Variant::portable, Reads::ssbo); } \
    TEST_CASE_FIXTURE(test::GpuTest, "attention[subgroup]: " TITLE) {                          \
        if (!test::gpu().device->caps().subgroup_reduce())                                     \
            VKS_SKIP("device has no subgroup arithmetic in compute");                          \
        FN(Variant::subgroup, Reads::ssbo);                                                    \
    }                                                                                          \
    TEST_CASE_FIXTURE(test::GpuTest, "attention[portable_tb]: " TITLE) {                       \
        if (!test::gpu().device->caps().texel_buffers) VKS_SKIP("device has no texel buffers"); \
        FN(Variant::portable, Reads::texel);                                                   \
    }                                                                                          \
    TEST_CASE_FIXTURE(test::GpuTest, "attention[subgroup_tb]: " TITLE) {                       \
        if (!test::gpu().device->caps().subgroup_reduce())                                     \
            VKS_SKIP("device has no subgroup arithmetic in compute");                          \
        if (!test::gpu().device->caps().texel_buffers) VKS_SKIP("device has no texel buffers"); \
        FN(Variant::subgroup, Reads::texel);                                                   \
    }                                                                                          \
    static void FN(Variant variant, Reads reads)

ATTN_CASE(causal_when_window_covers_stream, "window >= stream equals plain causal attention") {
    AttnCase c;
    c.variant = variant;
    c.reads = reads;
    c.n_sink = 4;
    c.n_window = 64;
    for (uint32_t chunk : {1u, 7u, 60u}) check_stream(c, 60, chunk, 11, /*causal=*/true);
    c.n_sink = 0;
    c.n_window = 60;  // exactly the stream length
    check_stream(c, 60, 1, 12, true);
}

ATTN_CASE(decode_matches_reference, "10*window+3 tokens one at a time match StreamingLLM at every step") {
    AttnCase c;
    c.variant = variant;
    c.reads = reads;
    c.n_sink = 4;
    c.n_window = 16;
    for (uint32_t splits : {0u, 1u, 3u, 20u}) {
        c.n_splits = splits;
        check_stream(c, 10 * c.n_window + 3, 1, 21);
    }
}

ATTN_CASE(chunked_equals_one_at_a_time, "chunked prefill gives the same outputs as one at a time") {
    AttnCase c;
    c.variant = variant;
    c.reads = reads;
    c.n_sink = 4;
    c.n_window = 16;
    const uint64_t n_tokens = 10 * c.n_window + 3;
    const test::Stream s = test::make_stream(c, n_tokens, 31);
    const size_t row = size_t(c.n_head) * c.head_dim;
    const std::vector<float> want = test::reference_outputs(c, s);
    for (uint32_t splits : {1u, 0u}) {
        c.n_splits = splits;
        const std::vector<float> one = test::device_outputs(c, s, 1);
        for (uint32_t chunk : {1u, 7u, c.n_window - 1, c.n_window, 3 * c.n_window}) {
            CAPTURE(c.describe());
            CAPTURE(chunk);
            const std::vector<float> got = test::device_outputs(c, s, chunk);
            const test::Worst vs_one = test::compare_per_token(got, one, n_tokens, row);
            const test::Worst vs_ref = test::compare_per_token(got, want, n_tokens, row);
            MESSAGE("chunk " << chunk << ": vs one-at-a-time nmse " << vs_one.nmse << " (max abs " << vs_one.max_abs
                             << "), vs reference " << vs_ref.nmse);
            // Same splits and lossless storage: the same arithmetic on the same values.
            CHECK_MESSAGE(vs_one.nmse <= (splits == 1 ? 1e-12 : 1e-10), "token " << vs_one.t);
            CHECK_MESSAGE(vs_ref.nmse <= kExactNmse, "token " << vs_ref.t);
        }
    }
}

ATTN_CASE(window_only, "window-only policy (n_sink = 0)") {
    AttnCase c;
    c.variant = variant;
    c.reads = reads;
    c.n_sink = 0;
    c.n_window = 16;
    for (uint32_t chunk : {1u, 5u, 40u}) check_stream(c, 3 * c.n_window + 7, chunk, 41);
}

ATTN_CASE(learned_sinks, "learned per-head sink logits") {
    AttnCase c;
    c.variant = variant;
    c.reads = reads;
    c.n_sink = 4;
    c.n_window = 16;
    c.learned_sinks = true;
    for (uint32_t splits : {1u, 0u, 5u})
        for (uint32_t chunk : {1u, 9u}) {
            c.n_splits = splits;
            check_stream(c, 2 * c.n_window + 9, chunk, 51);
        }
    // The sink term must matter: outputs differ from the same case without it.
    AttnCase plain = c;
    plain.learned_sinks = false;
    const test::Stream s = test::make_stream(c, 20, 52);
    const std::vector<float> with = test::device_outputs(c, s, 1), without = test::device_outputs(plain, s, 1);
    CHECK(test::nmse(with.data(), without.data(), with.size()) > 1e-3);
}

// Every (GQA ratio, head dim) pair once; the rope pairing alternates so that every ratio and every
// head dim runs with both pairings (9 pipelines instead of 18: cold pipeline compiles on lavapipe
// dominate this test's time).
ATTN_CASE(gqa_head_dims_rope_styles, "GQA ratios 1, 3, 8 x head dims 64, 128, 256, both rope pairings") {
    const uint32_t ratios[] = {1, 3, 8}, dims[] = {64, 128, 256};
    for (uint32_t ri = 0; ri < 3; ++ri)
        for (uint32_t di = 0; di < 3; ++di) {
            const uint32_t ratio = ratios[ri], d = dims[di];
            const kv::RopeStyle style = (ri + di) % 2 ? kv::RopeStyle::neox : kv::RopeStyle::normal;
                AttnCase c;
                c.variant = variant;
                c.reads = reads;
                c.n_sink = 3;
                c.n_window = 12;
                c.n_head_kv = ratio == 8 ? 1 : 2;
                c.n_head = c.n_head_kv * ratio;
                c.head_dim = d;
                c.rope.style = style;
                c.rope.theta_base = d == 128 ? 500000.0f : 10000.0f;
                check_stream(c, 2 * c.n_window + 5, 1, 61 + d + ratio);
                check_stream(c, 2 * c.n_window + 5, 6, 61 + d + ratio);
            }
}

// A longer window: splits span many keys (the subgroup variant re-anchors its RoPE recurrence
// every 16 keys) and positions reach the hundreds.
ATTN_CASE(long_window, "long window (300 slots), splits spanning many keys") {
    AttnCase c;
    c.variant = variant;
    c.reads = reads;
    c.n_sink = 4;
    c.n_window = 296;
    c.head_dim = 128;
    c.rope.theta_base = 500000.0f;
    c.n_splits = 3;
    check_stream(c, 330, 85, 111);  // (the reference's per-key double-precision RoPE dominates)
}

ATTN_CASE(partial_rotary_linear_scaling, "partial rotary and linear rope scaling") {
    for (kv::RopeStyle style : {kv::RopeStyle::normal, kv::RopeStyle::neox}) {
        AttnCase c;
        c.variant = variant;
        c.reads = reads;
        c.n_window = 16;
        c.head_dim = 64;
        c.rope.n_rot = 32;
        c.rope.style = style;
        c.rope.freq_scale = 1.0f / 4.0f;  // linear factor 4
        check_stream(c, 40, 1, 71);
        check_stream(c, 40, 13, 71);
    }
}

ATTN_CASE(lossy_f16_storage, "f16 storage of raw f32 keys/values stays within the stated bound") {
    AttnCase c;
    c.variant = variant;
    c.reads = reads;
    c.n_window = 16;
    c.head_dim = 128;
    c.f16_exact = false;
    check_stream(c, 70, 1, 81);
    check_stream(c, 70, 16, 81);
}

TEST_CASE_FIXTURE(test::GpuTest, "attention[subgroup]: workgroups spanning several subgroups (shared-memory sums)") {
    const vk::Capabilities& caps = test::gpu().device->caps();
    if (!caps.subgroup_reduce()) VKS_SKIP("device has no subgroup arithmetic in compute");
    const uint32_t wg = std::min(4 * caps.subgroup_size, std::min(caps.max_workgroup_invocations, 128u));
    if (wg <= caps.subgroup_size) VKS_SKIP("subgroup size too large to form a multi-subgroup workgroup");
    AttnCase c;
    c.variant = Variant::subgroup;
    c.subgroup_workgroup = wg;
    c.n_window = 16;
    for (Reads reads : {Reads::ssbo, Reads::texel}) {
        if (reads == Reads::texel && !caps.texel_buffers) continue;  // (the ssbo pass still ran)
        c.reads = reads;
        for (uint32_t d : {64u, 256u}) {
            c.head_dim = d;
            check_stream(c, 2 * c.n_window + 3, 1, 101);
            check_stream(c, 2 * c.n_window + 3, 7, 101);
        }
    }
}

// The texel/storage choice: texel reads wherever the shape and the device's texel-element limit
// allow, storage buffers otherwise (checked against edited copies of the real caps, so every
// branch runs on every device).
TEST_CASE_FIXTURE(test::GpuTest, "attention: texel reads are chosen only where they fit") {
    vk::Device& dev = *test::gpu().device;
    vk::Capabilities caps = dev.caps();
    caps.texel_buffers = true;
    caps.max_texel_buffer_elements = 65536;  // the Vulkan minimum (baseline profile)
    auto make = [&](uint32_t window, uint32_t n_head_kv, uint32_t head_dim, uint32_t n_rot) {
        kv::RopeConfig rope;
        rope.n_rot = n_rot;
        return std::make_unique<kv::Cache>(
            dev, kv::CacheConfig::uniform(1, kv::make_cache_shape(4, window), rope, n_head_kv, head_dim));
    };
    ops::AttentionConfig ac;
    ac.variant = Variant::portable;
    ac.n_head = 8;
    const auto small = make(1020, 2, 64, 0);  // 1024 x 2 x 8 = 16384 texels per layer
    CHECK(ops::attention_texel_blocker(caps, *small, 0, 1, ac).empty());
    CHECK(ops::attention_variant(caps, *small, 0, 1, ac) == "attention_f16_f32_tb");
    // q of a 1100-token chunk: 1100 x 8 x 16 = 140800 texels > 65536.
    CHECK(!ops::attention_texel_blocker(caps, *small, 0, 1100, ac).empty());
    CHECK(ops::attention_variant(caps, *small, 0, 1100, ac) == "attention_f16_f32");
    ac.reads = Reads::ssbo;
    CHECK(ops::attention_variant(caps, *small, 0, 1, ac) == "attention_f16_f32");
    ac.reads = Reads::automatic;
    const auto big = make(8188, 2, 64, 0);  // 8192 x 2 x 8 = 131072 texels per layer
    CHECK(ops::attention_texel_blocker(caps, *big, 0, 1, ac).find("texels") != std::string::npos);
    CHECK(ops::attention_variant(caps, *big, 0, 1, ac) == "attention_f16_f32");
    ac.reads = Reads::texel;
    CHECK_THROWS_AS(ops::attention_variant(caps, *big, 0, 1, ac), Error);
    ac.reads = Reads::automatic;
    const auto odd_dim = make(60, 2, 36, 0);  // 36 % 8 != 0
    CHECK(ops::attention_variant(caps, *odd_dim, 0, 1, ac) == "attention_f16_f32");
    const auto partial = make(60, 2, 64, 8);  // n_rot 8 % 16 != 0
    CHECK(ops::attention_variant(caps, *partial, 0, 1, ac) == "attention_f16_f32");
    caps.texel_buffers = false;
    CHECK(ops::attention_variant(caps, *small, 0, 1, ac) == "attention_f16_f32");
    const auto rows = ops::describe_attention_variants(caps);
    REQUIRE(!rows.empty());
    CHECK(rows[0].variant.find("_tb") == std::string::npos);
}

// Whatever the device's texel limits (the baseline profile allows 65536 texels), a cache too large
// for a texel view still runs, through the storage-buffer variant, and matches the reference.
ATTN_CASE(large_cache_falls_back, "large cache (8196 slots) is correct whichever reads fit") {
    AttnCase c;
    c.variant = variant;
    c.reads = reads == Reads::texel ? Reads::automatic : reads;
    c.n_sink = 4;
    c.n_window = 8192;  // 8196 x 2 kv heads x 64 / 8 = 131136 texels per layer
    c.n_layer = 1;
    check_stream(c, 24, 1, 121, /*causal=*/true);
    check_stream(c, 24, 9, 121, /*causal=*/true);
}

TEST_CASE_FIXTURE(test::GpuTest, "attention: the decode bench hook runs and reports sane numbers") {
    ops::AttentionBenchShape sh;
    sh.n_head = 4;
    sh.n_head_kv = 2;
    sh.head_dim = 64;
    sh.n_iters = 2;
    sh.n_repeat = 2;
    const ops::AttentionBenchResult r = ops::bench_attention_decode_detailed(*test::gpu().kernels, 68, 1000, sh);
    CHECK(r.seconds_per_step > 0.0);
    CHECK(r.n_visible == 68);
    CHECK(r.n_splits >= 1);
    CHECK(r.cache_bytes >= 68ull * 2 * 64 * 2 * 2);
    CHECK(ops::bench_attention_decode(*test::gpu().kernels, 68, 10, sh) > 0.0);
    CHECK_THROWS_AS(ops::bench_attention_decode(*test::gpu().kernels, 4, 10, sh), Error);  // capacity <= n_sink
    sh.n_tokens = 5;  // a prefill chunk
    CHECK(ops::bench_attention_decode(*test::gpu().kernels, 68, 10, sh) > 0.0);
    CHECK_THROWS_AS(ops::bench_attention_decode(*test::gpu().kernels, 68, 4, sh), Error);  // stream < chunk
}

TEST_CASE_FIXTURE(test::GpuTest, "attention: scratch sizing covers every chunk length") {
    kv::Cache cache(*test::gpu().device, kv::CacheConfig::uniform(1, kv::make_cache_shape(4, 1020), {}, 3, 64));
    for (uint32_t forced : {0u, 5u})
        for (Variant v : {Variant::portable, Variant::automatic}) {
            ops::AttentionConfig ac;
            ac.n_head = 9;
            ac.n_splits = forced;
            ac.variant = v;
            CAPTURE(forced);
            CAPTURE(int(v));
            const uint64_t most = ops::attention_scratch_bytes_max(cache, 300, ac);
            uint32_t bad = 0, first_bad = 0;
            for (uint32_t n = 1; n <= 300; ++n) {
                const uint32_t s = ops::attention_splits(cache, 0, n, ac);
                const uint64_t b = ops::attention_scratch_bytes(cache, 0, n, ac);
                const bool ok = s >= 1 && s <= cache.capacity(0) && (!forced || s == forced) &&
                                b == (s > 1 ? uint64_t(n) * 9 * s * (64 + 2) * 4 : 0) && b <= most;
                if (!ok && bad++ == 0) first_bad = n;
            }
            CHECK_MESSAGE(bad == 0, bad << " chunk lengths with wrong splits/scratch, first n=" << first_bad);
        }
}

TEST_CASE_FIXTURE(test::GpuTest, "attention: bad shapes and unsupported rope configs are errors") {
    auto& g = *test::gpu().device;
    kv::CacheConfig cc = kv::CacheConfig::uniform(1, kv::make_cache_shape(4, 16), {}, 2, 64);
    kv::Cache cache(g, cc);
    ops::AttentionConfig ac;
    ac.n_head = 3;  // not a multiple of n_head_kv
    vk::Buffer b(g, 1 << 16, vk::BufferKind::device, "b");
    const kv::Step step = cache.set_step(0, 0, 1);
    vk::Commands cmd(g);
    cmd.begin();
    try {
        ops::attention(*test::gpu().kernels, cmd, cache, 0, step, b, b, b, b, b, ac);
        FAIL("no throw");
    } catch (const Error& e) {
        CHECK(e.status() == Status::invalid_argument);
    }
    ac.n_head = 4;
    CHECK_THROWS_AS(ops::attention(*test::gpu().kernels, cmd, cache, 1, step, b, b, b, b, b, ac), Error);  // layer
    vk::Buffer tiny(g, 16, vk::BufferKind::device, "tiny");
    CHECK_THROWS_AS(ops::attention(*test::gpu().kernels, cmd, cache, 0, step, tiny, b, b, b, b, ac), Error);
    CHECK_THROWS_AS(cache.set_step(cc.max_steps, 0, 1), Error);
    CHECK_THROWS_AS(cache.set_step(0, 0, 0), Error);
    cmd.end();

    cc.layers[0].rope.style = kv::RopeStyle::neox;
    cc.layers[0].rope.n_rot = 6;  // even but not a multiple of 4
    try {
        kv::Cache bad(g, cc);
        FAIL("no throw");
    } catch (const Error& e) {
        CHECK(e.status() == Status::unsupported);
    }
    cc.layers[0].rope.n_rot = 66;  // more than head_dim
    CHECK_THROWS_AS(kv::Cache(g, cc), Error);
    // (RoPE scaling types are parsed, and refused, by model::Description: test_model_description.)
}
