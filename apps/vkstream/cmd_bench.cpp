// vkstream bench: a dispatcher over benchmark modes.
//   --kernels   matvec bandwidth / tiled matmul GFLOP/s per weight type, against the device's
//               copy bandwidth measured in the same run (shaders/copy.comp).
//   -m MODEL    end-to-end prefill/decode (cmd_bench_model.cpp).
// Timing: GPU timestamps when the device has them, else wall clock around one submission;
// either way many dispatches are recorded into one command buffer (barriers between them, as
// in a real decode step), and the matvec is repeated until one measurement takes >= ~100 ms.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "commands.hpp"
#include "json.hpp"
#include "common/error.hpp"
#include "kv/cache_types.hpp"
#include "ops/attention_bench.hpp"
#include "ops/matvec_q8_1.hpp"
#include "ops/matmul.hpp"
#include "ops/yardsticks.hpp"
#include "quant/quant.hpp"
#include "shaders/params.h"
#include "vk/buffer.hpp"
#include "vk/commands.hpp"
#include "vk/device.hpp"
#include "vk/instance.hpp"

namespace vks::cli {

namespace {

using quant::Type;

struct BenchOptions {
    bool kernels = false, json = false, quick = false;
    std::string model;
    std::vector<Type> types;
    std::string shapes = "all";  // all | 4096 | smollm
    ops::MatmulVariant variant = ops::MatmulVariant::auto_;
    bool matmul = true;
    bool attention = true;  // decode attention vs cache size and vs stream length
    kv::CacheTypes cache_types;  // --cache-type-k / --cache-type-v for the attention rows
    bool tiled = false;  // force the shared-memory tiled kernel for the matmul column
};

struct Shape {
    const char* name;
    uint32_t M, K;
};

// SmolLM2-135M: hidden 576, ffn 1536, vocab 49152, 9 heads x 64, 3 kv heads.
const Shape k_shapes_4096[] = {{"4096x4096", 4096, 4096}};
const Shape k_shapes_smollm[] = {{"q/o 576x576", 576, 576},     {"k/v 192x576", 192, 576},
                                 {"gate/up 1536x576", 1536, 576}, {"down 576x1536", 576, 1536},
                                 {"lm_head 49152x576", 49152, 576}};

const Type k_all_types[] = {Type::F32,  Type::F16,  Type::BF16, Type::Q4_0, Type::Q4_1, Type::Q5_0,
                            Type::Q5_1, Type::Q8_0, Type::Q4_K, Type::Q5_K, Type::Q6_K};

class Timer {
public:
    Timer(vk::Device& dev) : dev_(dev) {}
    bool gpu() const { return dev_.caps().timestamps; }
    // Records body(cmd) between two timestamps, submits, returns seconds.
    template <class F>
    double time(F&& body) {
        vk::Commands cmd(dev_, 2);
        cmd.begin();
        cmd.timestamp(0);
        body(cmd);
        cmd.timestamp(1);
        cmd.end();
        auto t0 = std::chrono::steady_clock::now();
        cmd.submit();
        double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (std::getenv("VKS_BENCH_DEBUG")) std::fprintf(stderr, "wall %.6f s, timestamps %.6f s\n", wall, cmd.elapsed_ns(0, 1) * 1e-9);
        return gpu() ? cmd.elapsed_ns(0, 1) * 1e-9 : wall;
    }

private:
    vk::Device& dev_;
};

// Runs warm(cmd) once (lavapipe compiles a pipeline on its first dispatch, inside the timed
// region), then repeats one(cmd) with barriers until a measurement takes >= target seconds;
// returns seconds per repetition.
template <class W, class F>
double per_op(Timer& timer, double target, uint32_t max_reps, W&& warm, F&& one) {
    timer.time([&](vk::Commands& c) { warm(c); });
    uint32_t reps = 1;
    for (;;) {
        double t = timer.time([&](vk::Commands& c) {
            for (uint32_t i = 0; i < reps; ++i) {
                one(c);
                c.barrier();
            }
        });
        if (t >= target || reps >= max_reps) return t / reps;
        const double want = t > 0 ? target / t * reps * 1.2 : reps * 10.0;
        reps = uint32_t(std::min<double>(max_reps, std::max<double>(reps * 2.0, want)));
    }
}

// Weight rows for benchmarking: 16 distinct quantized rows, repeated (speed does not depend on
// the values, and quantizing 16M elements with the K-quant search would take seconds).
std::vector<uint8_t> bench_weights(Type t, uint32_t M, uint32_t K) {
    const size_t rb = quant::row_bytes(t, K);
    const uint32_t n_distinct = std::min<uint32_t>(16, M);
    std::vector<uint8_t> w(rb * M);
    std::vector<float> row(K);
    uint32_t s = 12345;
    for (uint32_t r = 0; r < n_distinct; ++r) {
        for (auto& v : row) {
            s = s * 1664525u + 1013904223u;
            v = float(int32_t(s >> 8) - (1 << 23)) / float(1 << 23);
        }
        quant::quantize_row(t, row.data(), w.data() + rb * r, K);
    }
    for (uint32_t r = n_distinct; r < M; ++r) std::memcpy(w.data() + rb * r, w.data() + rb * (r % n_distinct), rb);
    return w;
}

struct Result {
    Type type;
    const Shape* shape;
    double matvec_s = 0, matvec_gbps = 0;
    double cold_s = 0, cold_gbps = 0;  // weights streamed from memory, not from the CPU caches
    double matmul_s = 0, matmul_gflops = 0;
    // The integer-dot path (ops::matvec_q8_1) on one column, its quantize dispatch included;
    // 0 where the type or device has none. int_dot_chosen: what ops::choose_int_dot answers.
    double int_dot_s = 0, int_dot_gbps = 0;
    bool int_dot_chosen = false;
};

int bench_kernels(const BenchOptions& o) {
    vk::Instance instance;
    vk::Device device(instance);
    ops::Kernels k(device);
    const auto& caps = device.caps();
    Timer timer(device);
    const double target = o.quick ? 0.02 : 0.1;
    const uint32_t mm_cols = 512;

    // Copy bandwidth: 64 MiB (or the binding limit) source -> destination, read + write bytes.
    // Measured before and after the kernels (shared machines drift); percentages use the higher.
    // Three yardsticks: copy_u32 (SSBO reads, what the SSBO matvec variants use), copy_tb
    // (texel reads, uvec4 SSBO stores) and read_tb (texel reads only, read bytes). The matvec
    // "% of copy" uses the copy of the same read path (copy_tb for the _tb variants), so it
    // compares like with like; on lavapipe texel reads are ~10x SSBO reads.
    const uint64_t copy_bytes = std::min<uint64_t>(64ull << 20, caps.max_binding_bytes()) & ~uint64_t(15);
    const uint64_t tb_bytes = std::min<uint64_t>(copy_bytes, caps.max_texel_view_bytes());
    auto measure_copy = [&](const char* kernel) {
        const bool texel = std::strcmp(kernel, "copy_u32") != 0;
        const uint64_t bytes = texel ? tb_bytes : copy_bytes;
        vk::Buffer src(device, bytes, vk::BufferKind::device, "copy_src");
        vk::Buffer dst(device, bytes, vk::BufferKind::device, "copy_dst");
        src.fill_zero();
        const uint32_t wg = k.wg_size(64);
        const vk::Pipeline& pipe = k.pipeline(kernel, {wg});
        shader::CopyParams p{uint32_t(bytes / 4)};
        // Enough invocations for any device, each copying a strided stretch.
        const uint32_t per_step = texel ? 4 : 1;
        const ops::Grid g = ops::grid_for(std::min<uint64_t>(4096, (p.n_words / per_step + wg - 1) / wg), caps);
        auto copy = [&](vk::Commands& c) { c.dispatch(pipe, {src, dst}, p, g.x, g.y); };
        const double s = per_op(timer, target, 1000, copy, copy);
        return (std::strcmp(kernel, "read_tb") == 0 ? 1.0 : 2.0) * double(bytes) / s * 1e-9;
    };
    const bool tb_used = o.variant == ops::MatmulVariant::portable_texel || o.variant == ops::MatmulVariant::subgroup_texel ||
                         (o.variant == ops::MatmulVariant::auto_ && caps.texel_buffers);
    const char* yard = tb_used ? "copy_tb" : "copy_u32";
    const double copy_gbps_start = measure_copy(yard);
    double copy_gbps = copy_gbps_start;
    const double copy_u32_gbps = tb_used ? measure_copy("copy_u32") : copy_gbps_start;
    const double read_tb_gbps = caps.texel_buffers ? measure_copy("read_tb") : 0.0;
    // Arithmetic peak (ops::fma_peak: independent vec4 FMA chains, no memory traffic): what the
    // matmul GFLOP/s is compared against. 256 workgroups of 64 keep any device's cores busy.
    const double peak_gflops = [&] {
        const uint32_t n_inv = 256 * 64, n_iter = 2048;
        vk::Buffer out(device, uint64_t(n_inv) * 4, vk::BufferKind::device, "fma_out");
        auto run = [&](vk::Commands& c) { ops::fma_peak(k, c, out, n_inv, n_iter); };
        return ops::fma_peak_flops(n_inv, n_iter) / per_op(timer, target, 1000, run, run) * 1e-9;
    }();
    std::vector<const Shape*> shapes;
    if (o.shapes == "all" || o.shapes == "4096") shapes.push_back(&k_shapes_4096[0]);
    if (o.shapes == "all" || o.shapes == "smollm")
        for (const auto& s : k_shapes_smollm) shapes.push_back(&s);

    std::vector<Result> results;
    for (Type t : o.types) {
        for (const Shape* sh : shapes) {
            if (sh->K % quant::info(t).block_size != 0) {  // e.g. K-quants need K % 256 == 0
                if (!o.json)
                    std::printf("%-5s %-18s  n/a (K %% %u != 0)\n", quant::info(t).name, sh->name, quant::info(t).block_size);
                continue;
            }
            Result r{t, sh};
            const auto raw = bench_weights(t, sh->M, sh->K);
            ops::WeightTensor w = ops::upload_weight(device, t, raw.data(), sh->M, sh->K, "bench_w");
            const double wbytes = double(raw.size());
            vk::Buffer x(device, uint64_t(mm_cols) * sh->K * 4, vk::BufferKind::device, "x");
            vk::Buffer y(device, uint64_t(mm_cols) * sh->M * 4, vk::BufferKind::device, "y");
            x.fill_zero();
            auto mv = [&](vk::Commands& c) { ops::matvec(k, c, w, x, y, 1, o.variant); };
            r.matvec_s = per_op(timer, target, 100000, mv, mv);
            r.matvec_gbps = wbytes / r.matvec_s * 1e-9;
            {
                // Cold: a decode step streams every weight once, so on a CPU device (and on GPUs
                // with large caches) a small matrix repeated back to back is served from cache and
                // measures something decode never sees. Cycle through copies worth >= 96 MiB.
                const uint32_t copies = uint32_t(std::clamp<double>(std::ceil((96.0 * (1 << 20)) / wbytes), 2.0, 256.0));
                std::vector<ops::WeightTensor> ws;
                for (uint32_t i = 0; i < copies; ++i) ws.push_back(ops::upload_weight(device, t, raw.data(), sh->M, sh->K, "bench_cold"));
                auto all = [&](vk::Commands& c) {
                    for (const auto& wi : ws) {
                        ops::matvec(k, c, wi, x, y, 1, o.variant);
                        c.barrier();
                    }
                };
                r.cold_s = per_op(timer, target, 1000, all, all) / copies;
                r.cold_gbps = wbytes / r.cold_s * 1e-9;
            }
            if (ops::matvec_q8_1_supported(caps, w)) {
                // Side by side with the float matvec above: same matrix, one column, the
                // activation quantization included as the model records it (in the _x kernel's
                // prologue where it fits shared memory, else a dispatch of its own).
                vk::Buffer xq(device, ops::q8_1_bytes(1, sh->K), vk::BufferKind::device, "xq");
                auto iq = [&](vk::Commands& c) { ops::matvec_q8_1_from_f32(k, c, w, x, &xq, y, 1); };
                r.int_dot_s = per_op(timer, target, 100000, iq, iq);
                r.int_dot_gbps = wbytes / r.int_dot_s * 1e-9;
                r.int_dot_chosen = ops::choose_int_dot(k, t, sh->M, sh->K);
            }
            if (o.matmul) {
                // Warm-up on 64 columns builds the same pipelines as the full 512.
                auto mm = [&](uint32_t n) {
                    return [&, n](vk::Commands& c) {
                        if (o.tiled) ops::matmul_tiled(k, c, w, x, y, n);
                        else ops::matmul(k, c, w, x, y, n);
                    };
                };
                r.matmul_s = per_op(timer, o.quick ? 0.0 : target, o.quick ? 1 : 100, mm(64), mm(mm_cols));
                r.matmul_gflops = 2.0 * sh->M * double(sh->K) * mm_cols / r.matmul_s * 1e-9;
            }
            results.push_back(r);
            if (!o.json) {
                std::printf("%-5s %-18s  matvec %9.1f us %7.2f GB/s (%3.0f%% of copy), cold %9.1f us %7.2f GB/s",
                            quant::info(t).name, sh->name, r.matvec_s * 1e6, r.matvec_gbps, 100.0 * r.matvec_gbps / copy_gbps,
                            r.cold_s * 1e6, r.cold_gbps);
                if (r.int_dot_s > 0)
                    std::printf("   int-dot %9.1f us %7.2f GB/s (%s)", r.int_dot_s * 1e6, r.int_dot_gbps,
                                r.int_dot_chosen ? "chosen" : "not chosen");
                if (o.matmul) std::printf("   matmul x%u %9.2f ms %7.2f GFLOP/s", mm_cols, r.matmul_s * 1e3, r.matmul_gflops);
                std::printf("\n");
                std::fflush(stdout);
            }
        }
    }

    // Decode attention (+ kv_store) on the SmolLM2 shape (9 heads, 3 KV heads, head_dim 64, 4
    // sinks): against the cache size with the cache full (should grow linearly), and against
    // the stream length at a fixed 1024-slot cache (should stay flat: the ring never grows).
    struct AttnRow {
        const char* axis;
        uint32_t capacity;
        uint64_t stream;
        ops::AttentionBenchResult r;
    };
    std::vector<AttnRow> attn;
    if (o.attention) {
        ops::AttentionBenchShape shape;
        shape.n_head = 9;
        shape.n_head_kv = 3;
        shape.head_dim = 64;
        shape.n_iters = o.quick ? 3 : 10;
        shape.types = o.cache_types;
        for (uint32_t cap : {256u, 512u, 1024u, 2048u, 4096u, 8192u, 16384u})
            attn.push_back({"cache", cap, cap, ops::bench_attention_decode_detailed(k, cap, cap, shape)});
        for (uint64_t len : {1000ull, 10000ull, 100000ull, 1000000ull})
            attn.push_back({"stream", 1024, len, ops::bench_attention_decode_detailed(k, 1024, len, shape)});
        if (!o.json) {
            std::printf("\ndecode attention + kv_store, SmolLM2 shape (9 heads, 3 KV heads, head_dim 64, 4 sinks), cache %s:\n"
                        "%-7s %8s %12s %8s %12s %10s\n", kv::describe(o.cache_types).c_str(), "axis", "cache", "stream", "keys",
                        "ms/step", "KV GB/s");
            for (const auto& a : attn)
                std::printf("%-7s %8u %12llu %8u %12.3f %10.2f\n", a.axis, a.capacity, (unsigned long long)a.stream,
                            a.r.n_visible, a.r.seconds_per_step * 1e3, a.r.gbytes_per_s);
        }
    }

    const double copy_gbps_end = measure_copy(yard);
    copy_gbps = std::max(copy_gbps_start, copy_gbps_end);
    const char* timing = timer.gpu() ? "gpu_timestamps" : "wall_clock";
    const char* variant = o.variant == ops::MatmulVariant::auto_ ? "auto"
                        : o.variant == ops::MatmulVariant::subgroup ? "subgroup"
                        : o.variant == ops::MatmulVariant::portable_texel ? "portable_tb"
                        : o.variant == ops::MatmulVariant::subgroup_texel ? "subgroup_tb" : "portable";
    if (o.json) {
        // Figures keep the precision the text output shows (decimals), so runs diff cleanly.
        auto dec = [](double v, int places) {
            const double f = std::pow(10.0, places);
            return std::isfinite(v) ? ojson(std::round(v * f) / f) : ojson(nullptr);
        };
        ojson j;
        j["device"] = caps.name;
        j["driver"] = caps.driver_info;
        j["timing"] = timing;
        j["matvec_variant"] = variant;
        j["copy_kernel"] = yard;
        j["copy_u32_gbps"] = dec(copy_u32_gbps, 3);
        j["read_tb_gbps"] = dec(read_tb_gbps, 3);
        j["fma_peak_gflops"] = dec(peak_gflops, 3);
        j["copy_bytes"] = uint64_t(tb_used ? tb_bytes : copy_bytes);
        j["copy_gbps_start"] = dec(copy_gbps_start, 3);
        j["copy_gbps_end"] = dec(copy_gbps_end, 3);
        j["copy_gbps"] = dec(copy_gbps, 3);
        j["matmul_columns"] = mm_cols;
        j["matmul_path"] = o.tiled || !ops::matmul_uses_matvec(caps, mm_cols) ? "tiled" : "matvec_8_columns";
        j["results"] = ojson::array();
        for (const auto& r : results) {
            ojson e = {{"type", quant::info(r.type).name}, {"shape", r.shape->name}, {"M", r.shape->M}, {"K", r.shape->K},
                       {"matvec_us", dec(r.matvec_s * 1e6, 3)}, {"matvec_gbps", dec(r.matvec_gbps, 3)},
                       {"matvec_pct_of_copy", dec(100.0 * r.matvec_gbps / copy_gbps, 1)},
                       {"matvec_cold_us", dec(r.cold_s * 1e6, 3)}, {"matvec_cold_gbps", dec(r.cold_gbps, 3)}};
            if (r.int_dot_s > 0) {
                e["int_dot_us"] = dec(r.int_dot_s * 1e6, 3);
                e["int_dot_gbps"] = dec(r.int_dot_gbps, 3);
                e["int_dot_chosen"] = r.int_dot_chosen;
            }
            if (o.matmul) {
                e["matmul_ms"] = dec(r.matmul_s * 1e3, 3);
                e["matmul_gflops"] = dec(r.matmul_gflops, 3);
                e["matmul_pct_of_peak"] = dec(100.0 * r.matmul_gflops / peak_gflops, 1);
            }
            j["results"].push_back(std::move(e));
        }
        j["attention_cache_type_k"] = quant::info(o.cache_types.k).name;
        j["attention_cache_type_v"] = quant::info(o.cache_types.v).name;
        j["attention_cache_rotate"] = o.cache_types.hadamard;
        j["attention"] = ojson::array();
        for (const auto& a : attn)
            j["attention"].push_back({{"axis", a.axis}, {"capacity", a.capacity}, {"stream_length", uint64_t(a.stream)},
                                      {"visible_keys", a.r.n_visible}, {"ms_per_step", dec(a.r.seconds_per_step * 1e3, 4)},
                                      {"kv_gbps", dec(a.r.gbytes_per_s, 3)}});
        std::printf("%s\n", to_json_text(j, 2).c_str());
    } else {
        std::printf("\nsummary (%% of the higher copy bandwidth; %% of the FMA peak)\n%-5s %-18s %12s %9s %8s %10s %9s %12s %10s %7s\n",
                    "type", "shape", "matvec us", "GB/s", "% copy", "cold us", "cold GB/s", "matmul ms", "GFLOP/s", "% peak");
        for (const auto& r : results) {
            std::printf("%-5s %-18s %12.1f %9.3f %7.0f%% %10.1f %9.3f", quant::info(r.type).name, r.shape->name,
                        r.matvec_s * 1e6, r.matvec_gbps, 100.0 * r.matvec_gbps / copy_gbps, r.cold_s * 1e6, r.cold_gbps);
            if (o.matmul) std::printf(" %12.1f %10.2f %6.1f%%", r.matmul_s * 1e3, r.matmul_gflops, 100.0 * r.matmul_gflops / peak_gflops);
            std::printf("\n");
        }
        std::printf("\ndevice: %s (%s)\ntiming: %s; matvec variant: %s\n", caps.name.c_str(), caps.driver_info.c_str(),
                    timing, variant);
        std::printf("copy bandwidth (%s, %llu MiB, read + write): %.2f GB/s before, %.2f GB/s after the kernels"
                    " (the %% of copy yardstick: same read path as the matvec variant)\n",
                    yard, (unsigned long long)((tb_used ? tb_bytes : copy_bytes) >> 20), copy_gbps_start, copy_gbps_end);
        std::printf("other yardsticks: copy_u32 (SSBO reads) %.2f GB/s; read_tb (texel reads only) %.2f GB/s\n",
                    copy_u32_gbps, read_tb_gbps);
        std::printf("arithmetic peak: %.1f GFLOP/s (fma_peak: 16384 invocations x 8 vec4 FMA chains, no memory traffic)\n",
                    peak_gflops);
        std::printf("matvec: 1 column, GB/s = GGUF weight bytes / time, the same matrix back to back (cached on CPU devices);\n"
                    "cold: the same, cycling through copies worth >= 96 MiB (weights from memory, as in a decode step)\n");
        std::printf("matmul: %u columns, %s\n", mm_cols,
                    o.tiled ? "shared-memory tiled kernel (forced)"
                    : ops::matmul_uses_matvec(caps, mm_cols) ? "ops::matmul = matvec in groups of 8 columns on this device"
                                                             : "ops::matmul = shared-memory tiled kernel");
    }
    return 0;
}

void bench_usage() {
    std::fprintf(stderr,
                 "usage: vkstream bench --kernels [--json] [--quick] [--types q4_0,f16,...] [--shapes all|4096|smollm]\n"
                 "                      [--matvec-variant auto|portable|subgroup|portable_tb|subgroup_tb] [--no-matmul] [--no-attention] [--tiled]\n"
                 "                      [--cache-type-k f16|q8_0|q4_0] [--cache-type-v f16|q8_0|q4_0] [--cache-rotate]   (attention rows)\n"
                 "       vkstream bench -m MODEL [--prompt-tokens N] [--decode-tokens N] [--window W] [--json]\n");
}

}  // namespace

int cmd_bench(const Args& args) {
    // -m MODEL: the end-to-end benchmark has options of its own (cmd_bench_model.cpp).
    for (const auto& a : args)
        if (a == "-m" || a == "--model" || a == "--synthetic") return bench_model(args);
    BenchOptions o;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&]() -> const std::string& {
            if (i + 1 >= args.size()) fail(Status::invalid_argument, "bench: %s needs a value", a.c_str());
            return args[++i];
        };
        if (a == "--kernels") o.kernels = true;
        else if (a == "--json") o.json = true;
        else if (a == "--quick") o.quick = true;
        else if (a == "--no-matmul") o.matmul = false;
        else if (a == "--no-attention") o.attention = false;
        else if (a == "--cache-type-k" || a == "--cache-type-v") {
            const std::string& v = value();
            const auto t = kv::parse_cache_type(v);
            if (!t) fail(Status::invalid_argument, "bench: %s must be f16, q8_0 or q4_0, not '%s'", a.c_str(), v.c_str());
            (a == "--cache-type-k" ? o.cache_types.k : o.cache_types.v) = *t;
        }
        else if (a == "--cache-rotate") o.cache_types.hadamard = o.cache_types.f16_sinks = true;  // as sessions
        else if (a == "--tiled") o.tiled = true;
        else if (a == "-m" || a == "--model") o.model = value();
        else if (a == "--shapes") {
            o.shapes = value();
            if (o.shapes != "all" && o.shapes != "4096" && o.shapes != "smollm")
                fail(Status::invalid_argument, "bench: --shapes must be all, 4096 or smollm, not '%s'", o.shapes.c_str());
        } else if (a == "--matvec-variant") {
            const std::string& v = value();
            if (v == "auto") o.variant = ops::MatmulVariant::auto_;
            else if (v == "portable") o.variant = ops::MatmulVariant::portable;
            else if (v == "subgroup") o.variant = ops::MatmulVariant::subgroup;
            else if (v == "portable_tb") o.variant = ops::MatmulVariant::portable_texel;
            else if (v == "subgroup_tb") o.variant = ops::MatmulVariant::subgroup_texel;
            else fail(Status::invalid_argument, "bench: --matvec-variant must be auto, portable, subgroup, portable_tb or subgroup_tb");
        } else if (a == "--types") {
            std::string list = value();
            size_t p = 0;
            while (p <= list.size()) {
                size_t q = list.find(',', p);
                std::string name = list.substr(p, q == std::string::npos ? std::string::npos : q - p);
                auto t = quant::parse_type(name);
                if (!t || !ops::matmul_supports(*t))
                    fail(Status::invalid_argument, "bench: unknown or unsupported weight type '%s'", name.c_str());
                o.types.push_back(*t);
                if (q == std::string::npos) break;
                p = q + 1;
            }
        } else if (a == "-h" || a == "--help") {
            bench_usage();
            return 0;
        } else {
            bench_usage();
            fail(Status::invalid_argument, "bench: unknown argument '%s'", a.c_str());
        }
    }
    if (o.types.empty()) o.types.assign(std::begin(k_all_types), std::end(k_all_types));
    if (o.kernels) return bench_kernels(o);
    if (!o.model.empty()) return bench_model(args);
    bench_usage();
    return 2;
}

}  // namespace vks::cli
