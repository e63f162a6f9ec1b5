// vkstream bench -m MODEL [--prompt-tokens N] [--decode-tokens N] [--sink S] [--window W] [--profile] [--json]
// End-to-end speed on one model: prefill tokens/s on an N-token prompt, decode tokens/s (and
// latency percentiles) over M greedy tokens, the decode's effective weight bandwidth (weight
// bytes read per token x tokens/s) and, in the same run, the device's copy bandwidth.
// --profile then repeats the prefill and decode in a second session that times every dispatch
// (device timestamps) and prints the device time per shader variant, per token; with --json
// the output is one JSON object per line: the summary, then the prefill and decode profiles.
// --no-fusion runs the unfused graph (separate norm, add and GLU dispatches) for comparison.
// --synthetic uses a tiny random Q4_1 model instead of -m (for tests).
// --first-token: time from process start to the first generated token, cold and warm caches
// (cmd_bench_first_token.cpp; the prompt is 16 tokens unless --prompt-tokens says otherwise).
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "commands.hpp"
#include "json.hpp"
#include "options.hpp"
#include "ops/kernels.hpp"
#include "shaders/params.h"
#include "vk/shader_registry.hpp"

namespace vks::cli {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Seconds per one of the `n_dispatches` dispatches of a recorded `cmd`: best of three
// submissions after a warm-up.
double best_seconds_per_dispatch(vk::Commands& cmd, int n_dispatches) {
    cmd.submit();  // warm-up
    double best = 1e30;
    for (int r = 0; r < 3; ++r) {
        auto t0 = Clock::now();
        cmd.submit();
        best = std::min(best, seconds_since(t0) / n_dispatches);
    }
    return best;
}

// Copy bandwidth (read + write bytes per second) of a trivial copy shader, 64 MiB or the
// binding limit, best of a few repeats of 8 dispatches in one submission.
double copy_bandwidth(engine::Model& m, const char* variant) {
    vk::Device& dev = m.device();
    ops::Kernels& k = m.kernels();
    if (!shaders::find(variant)) return 0;
    const uint64_t bytes = std::min<uint64_t>(64ull << 20, dev.caps().max_binding_bytes()) & ~uint64_t(15);
    vk::Buffer src(dev, bytes, vk::BufferKind::device, "copy_src"), dst(dev, bytes, vk::BufferKind::device, "copy_dst");
    src.fill_zero();
    const uint32_t wg = k.wg_size(64);
    const vk::Pipeline& pipe = k.pipeline(variant, {wg});
    shader::CopyParams p{uint32_t(bytes / 4)};
    const ops::Grid g = ops::grid_for(std::min<uint64_t>(4096, (p.n_words + wg - 1) / wg), dev.caps());
    vk::Commands cmd(dev);
    cmd.begin();
    for (int i = 0; i < 8; ++i) {
        cmd.dispatch(pipe, {src, dst}, p, g.x, g.y);
        cmd.barrier();
    }
    cmd.end();
    return 2.0 * double(bytes) / best_seconds_per_dispatch(cmd, 8) * 1e-9;
}

// Fixed cost of one tiny dispatch (one workgroup copying 64 words) in microseconds, 256 of
// them in one submission: {without barriers, with a barrier after each}. A decode step is a few
// hundred dispatches, so on devices where this is large (CPU devices) it bounds decode speed.
std::pair<double, double> dispatch_overhead_us(engine::Model& m) {
    vk::Device& dev = m.device();
    ops::Kernels& k = m.kernels();
    if (!shaders::find("copy_u32")) return {0, 0};
    vk::Buffer src(dev, 256, vk::BufferKind::device, "tiny_src"), dst(dev, 256, vk::BufferKind::device, "tiny_dst");
    src.fill_zero();
    const vk::Pipeline& pipe = k.pipeline("copy_u32", {k.wg_size(64)});
    shader::CopyParams p{64};
    auto time_one = [&](bool barriers) {
        vk::Commands cmd(dev);
        cmd.begin();
        for (int i = 0; i < 256; ++i) {
            cmd.dispatch(pipe, {src, dst}, p, 1);
            if (barriers) cmd.barrier();
        }
        cmd.end();
        return best_seconds_per_dispatch(cmd, 256) * 1e6;
    };
    return {time_one(false), time_one(true)};
}

std::vector<int32_t> bench_prompt(const engine::Model& m, uint32_t n) {
    static const char* text =
        "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in "
        "want of a wife. However little known the feelings or views of such a man may be on his first entering a "
        "neighbourhood, this truth is so well fixed in the minds of the surrounding families, that he is considered "
        "the rightful property of some one or other of their daughters. ";
    std::vector<int32_t> ids = m.tokenizer().encode("", true, false);
    while (ids.size() < n) {
        auto more = m.tokenizer().encode(text, false, false);
        ids.insert(ids.end(), more.begin(), more.end());
    }
    ids.resize(n);
    return ids;
}

// One profiled pass: the same prompt and decode length in a session that times every dispatch.
void profile_pass(const std::shared_ptr<engine::Model>& model, engine::SessionConfig cfg,
                  const std::vector<int32_t>& prompt, uint32_t n_decode, bool json) {
    cfg.profile = true;
    engine::Session s(model, cfg);
    auto run = [&] {
        s.feed(prompt);
        for (uint32_t i = 0; i < n_decode; ++i) {
            int32_t t = s.sample();
            s.feed({&t, 1});
        }
    };
    run();  // warm-up: pipelines compiled, recordings made
    s.reset();
    s.clear_profiles();
    run();
    auto table = [&](const char* what, const engine::OpProfile& p) {
        std::vector<std::pair<std::string, engine::OpProfile::Op>> ops(p.ops.begin(), p.ops.end());
        std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.second.ns > b.second.ns; });
        const double total = p.total_ns(), per_token = p.tokens ? 1e-6 / double(p.tokens) : 0;
        uint64_t calls = 0;
        for (const auto& op : ops) calls += op.second.calls;
        if (json) {
            Json j;
            j.begin_object().kv("profile", what).kv("tokens", p.tokens).kv("steps", p.steps);
            j.kv("device_ms_per_token", total * per_token).kv("dispatches_per_step", p.steps ? double(calls) / p.steps : 0.0);
            j.key("ops").begin_array();
            for (const auto& [name, op] : ops)
                j.begin_object().kv("pipeline", name).kv("calls_per_step", double(op.calls) / p.steps)
                    .kv("ms_per_token", op.ns * per_token).kv("us_per_call", op.ns / op.calls * 1e-3).end_object();
            j.end_array().end_object();
            std::printf("%s\n", j.str().c_str());
            return;
        }
        std::printf("\n%s profile: %.2f ms of device time per token, %.0f dispatches per step (%llu steps, %llu tokens)\n",
                    what, total * per_token, p.steps ? double(calls) / p.steps : 0.0, (unsigned long long)p.steps,
                    (unsigned long long)p.tokens);
        std::printf("  %-28s %10s %12s %12s %7s\n", "pipeline", "calls/step", "ms/token", "us/call", "share");
        for (const auto& [name, op] : ops)
            std::printf("  %-28s %10.1f %12.3f %12.1f %6.1f%%\n", name.c_str(), double(op.calls) / p.steps,
                        op.ns * per_token, op.ns / op.calls * 1e-3, total > 0 ? 100.0 * op.ns / total : 0.0);
    };
    if (s.decode_profile().ops.empty()) {
        std::fprintf(stderr, "vkstream bench: --profile: the device has no timestamps; nothing was timed\n");
        return;
    }
    table("prefill", s.prefill_profile());
    table("decode", s.decode_profile());
}

}  // namespace

int bench_model(const Args& in_args) {
    Args args = in_args;
    const bool synthetic = std::find(args.begin(), args.end(), "--synthetic") != args.end();
    if (synthetic) args.insert(args.begin(), {"-m", "(synthetic)"});
    ModelArgs o;
    uint32_t n_prompt = 512, n_decode = 128;
    bool profile = false, first_token = false, prompt_given = false;
    uint32_t first_token_child = 0;  // the prompt length, in the child process of --first-token
    o.session.n_window = 1020;
    o.session.sampling.temperature = 0;
    std::string error;
    bool ok = parse_model_args(args, o, error, [&](const Args& a, size_t i) -> size_t {
        auto num = [&](uint32_t& v) -> size_t {
            int64_t x = 0;
            if (i + 1 >= a.size() || !detail::to_i64(a[i + 1], x) || x < 1 || x > 1000000) {
                error = a[i] + " needs a number from 1 to 1000000";
                return 0;
            }
            v = uint32_t(x);
            return 2;
        };
        if (a[i] == "--prompt-tokens") return (prompt_given = true), num(n_prompt);
        if (a[i] == "--first-token") return (first_token = true), 1;
        if (a[i] == "--first-token-child") return num(first_token_child);
        if (a[i] == "--decode-tokens") return num(n_decode);
        if (a[i] == "--profile") return (profile = true), 1;
        if (a[i] == "--no-fusion") return (o.session.fuse = false), 1;
        if (a[i] == "--synthetic") return 1;
        return 0;
    });
    if (!ok) {
        std::fprintf(stderr, "vkstream bench: %s\nusage: vkstream bench -m MODEL [--prompt-tokens 512] [--decode-tokens 128] "
                             "[--sink 4] [--window 1020] [--batch 256] [--cache-type-k T] [--cache-type-v T] [--cache-rotate] [--profile] [--no-fusion] [--first-token] [--json]\n"
                             "       vkstream bench --synthetic [options]   (a tiny random Q4_1 model instead of -m)\n", error.c_str());
        return 2;
    }
    if (first_token_child) return bench_first_token_child(o.model, first_token_child);
    if (first_token && !synthetic) return bench_first_token(o.model, prompt_given ? n_prompt : 16, o.json);
    model::SyntheticConfig sc;  // --synthetic: llama, 2 layers, n_embd 256, byte-sized vocabulary
    sc.n_vocab = 320;
    sc.weight_type = quant::Type::Q4_1;
    auto model = synthetic ? load_synthetic_model(sc) : load_model_with_progress(o.model);
    engine::Session session(model, o.session);
    const auto prompt = bench_prompt(*model, n_prompt);

    // Warm-up: pipelines and recordings for the chunk sizes used below, then a fresh stream.
    session.feed(prompt);
    for (int i = 0; i < 3; ++i) {
        int32_t t = session.sample();
        session.feed({&t, 1});
    }
    session.reset();

    auto t0 = Clock::now();
    session.feed(prompt);
    const double prefill_s = seconds_since(t0);
    std::vector<double> lat;
    auto t1 = Clock::now();
    for (uint32_t i = 0; i < n_decode; ++i) {
        auto ts = Clock::now();
        int32_t t = session.sample();
        session.feed({&t, 1});
        lat.push_back(seconds_since(ts));
    }
    const double decode_s = seconds_since(t1);
    std::sort(lat.begin(), lat.end());
    const double p50 = lat[lat.size() / 2] * 1e3, p99 = lat[std::min(lat.size() - 1, lat.size() * 99 / 100)] * 1e3;
    const double prefill_tps = n_prompt / prefill_s, decode_tps = n_decode / decode_s;
    const double weight_gb = double(model->weight_bytes()) * 1e-9;
    const double decode_gbps = weight_gb * decode_tps;
    const double copy_ssbo = copy_bandwidth(*model, "copy_u32");
    const double copy_texel = copy_bandwidth(*model, "copy_tb");
    const double copy_best = std::max(copy_ssbo, copy_texel);
    const auto [dispatch_us, dispatch_barrier_us] = dispatch_overhead_us(*model);
    const auto& caps = model->device().caps();

    if (o.json) {
        Json j;
        j.begin_object().kv("model", o.model).kv("device", caps.name).kv("version", VKS_VERSION_STRING);
        j.kv("n_sink", session.config().n_sink).kv("n_window", session.config().n_window).kv("n_batch", session.config().n_batch);
        j.kv("prompt_tokens", n_prompt).kv("prefill_tokens_per_s", prefill_tps);
        j.kv("decode_tokens", n_decode).kv("decode_tokens_per_s", decode_tps);
        j.kv("decode_ms_p50", p50).kv("decode_ms_p99", p99);
        j.kv("weight_bytes", model->weight_bytes()).kv("decode_weight_gbps", decode_gbps);
        j.kv("copy_gbps_ssbo", copy_ssbo).kv("copy_gbps_texel", copy_texel);
        j.kv("decode_pct_of_copy", copy_best > 0 ? 100.0 * decode_gbps / copy_best : 0.0);
        j.kv("kv_bytes", session.kv_bytes());
        j.kv("cache_type_k", quant::info(session.config().cache_types.k).name);
        j.kv("cache_type_v", quant::info(session.config().cache_types.v).name);
        j.kv("cache_rotate", session.config().cache_types.hadamard);
        j.kv("kv_bytes_per_token", session.cache().bytes_per_token());
        j.kv("dispatch_us", dispatch_us).kv("dispatch_with_barrier_us", dispatch_barrier_us);
        j.end_object();
        std::printf("%s\n", j.str().c_str());
    } else {
        std::printf("model    %s (%s, %.1f MiB of weights on the device)\n", o.model.c_str(),
                    model::arch_name(model->desc().arch), double(model->weight_bytes()) / (1 << 20));
        std::printf("device   %s\n", caps.name.c_str());
        std::printf("cache    %u sinks + %u window, %.1f MiB KV (%s, %llu bytes per token), chunks of %u\n",
                    session.config().n_sink, session.config().n_window, double(session.kv_bytes()) / (1 << 20),
                    kv::describe(session.config().cache_types).c_str(),
                    (unsigned long long)session.cache().bytes_per_token(), session.config().n_batch);
        std::printf("prefill  %u tokens in %.2f s: %.1f tokens/s\n", n_prompt, prefill_s, prefill_tps);
        std::printf("decode   %u tokens in %.2f s: %.1f tokens/s (p50 %.1f ms, p99 %.1f ms per token)\n", n_decode,
                    decode_s, decode_tps, p50, p99);
        std::printf("weights  %.2f GB/s effective during decode", decode_gbps);
        if (copy_best > 0) std::printf(" = %.0f%% of copy bandwidth", 100.0 * decode_gbps / copy_best);
        std::printf("\ncopy     %.2f GB/s (storage buffers)", copy_ssbo);
        if (copy_texel > 0) std::printf(", %.2f GB/s (texel buffers)", copy_texel);
        std::printf("\n");
        std::printf("dispatch %.1f us per tiny dispatch, %.1f us with a barrier after each\n", dispatch_us,
                    dispatch_barrier_us);
    }
    if (profile) profile_pass(model, session.config(), prompt, n_decode, o.json);
    return 0;
}

}  // namespace vks::cli
