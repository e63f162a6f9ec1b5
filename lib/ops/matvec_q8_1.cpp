#include "ops/matvec_q8_1.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <tuple>

#include "common/error.hpp"
#include "common/file_io.hpp"

namespace vks::ops {

namespace {
using quant::Type;
}  // namespace

bool matvec_q8_1_type(Type t) {
    return t == Type::Q4_0 || t == Type::Q4_1 || t == Type::Q5_0 || t == Type::Q5_1 || t == Type::Q8_0 || t == Type::Q4_K ||
           t == Type::Q5_K || t == Type::Q6_K;
}

std::string matvec_q8_1_variant_name(Type t) {
    switch (t) {
        case Type::Q4_0: return "matvec_q4_0_q8_1";
        case Type::Q4_1: return "matvec_q4_1_q8_1";
        case Type::Q5_0: return "matvec_q5_0_q8_1";
        case Type::Q5_1: return "matvec_q5_1_q8_1";
        case Type::Q8_0: return "matvec_q8_0_q8_1";
        case Type::Q4_K: return "matvec_q4_k_q8_1";
        case Type::Q5_K: return "matvec_q5_k_q8_1";
        case Type::Q6_K: return "matvec_q6_k_q8_1";
        default: fail(Status::unsupported, "matvec_q8_1: no integer-dot kernel for %s", quant::info(t).name);
    }
}

bool matvec_q8_1_supported(const vk::Capabilities& caps, const WeightTensor& w) {
    // K % 32 == 0 for the quantized activations; the weight type's own block (256 for the
    // K-quants) divides K for any tensor upload_weight accepted.
    return caps.int_dot && matvec_q8_1_type(w.type) && w.n_cols % 32 == 0 && w.n_cols % quant::info(w.type).block_size == 0 &&
           !w.paired;
}

void quantize_q8_1(Kernels& k, vk::Commands& cmd, vk::BufferRange x, vk::BufferRange xq, uint32_t n_cols, uint32_t K,
                   const vk::Buffer* norm, float eps) {
    if (n_cols == 0 || K == 0 || K % 32 != 0)
        fail(Status::invalid_argument, "quantize_q8_1: need n_cols >= 1 and K a positive multiple of 32 (got %u, %u)", n_cols, K);
    if (x.resolved_size() < uint64_t(n_cols) * K * 4)
        fail(Status::invalid_argument, "quantize_q8_1: X holds %llu bytes, (%u, %u) f32 needs %llu",
             (unsigned long long)x.resolved_size(), n_cols, K, (unsigned long long)(uint64_t(n_cols) * K * 4));
    if (xq.resolved_size() < q8_1_bytes(n_cols, K))
        fail(Status::invalid_argument, "quantize_q8_1: XQ holds %llu bytes, needs %llu", (unsigned long long)xq.resolved_size(),
             (unsigned long long)q8_1_bytes(n_cols, K));
    if (norm && norm->size() < uint64_t(K) * 4)
        fail(Status::invalid_argument, "quantize_q8_1: norm weight holds %llu bytes, K=%u floats need %llu",
             (unsigned long long)norm->size(), K, (unsigned long long)K * 4);
    const uint32_t wg = k.wg_size(64);
    const vk::Pipeline& pipe = k.pipeline("quantize_q8_1", {wg});
    shader::QuantizeQ8_1Params p{K, n_cols, norm ? 1u : 0u, eps};
    const vk::BufferRange g = norm ? vk::BufferRange(*norm, 0, uint64_t(K) * 4) : x;
    cmd.dispatch(pipe, {x, xq, g}, p, (n_cols + wg - 1) / wg);
}

namespace {

// Checks shared by matvec_q8_1 and matvec_q8_1_x (what either kernel can run at all).
void check_int_dot_product(const vk::Capabilities& caps, const char* what, const WeightTensor& w, vk::BufferRange y,
                           uint32_t n_cols, const MatmulFusion& fusion) {
    if (!caps.int_dot) fail(Status::feature_missing, "%s: the device has no integer dot product (shaderIntegerDotProduct)", what);
    if (!matvec_q8_1_supported(caps, w))
        fail(Status::unsupported, "%s: no integer-dot kernel for %s (%u x %u)%s", what, quant::info(w.type).name, w.n_rows,
             w.n_cols, w.paired ? " paired gate/up" : "");
    if (fusion.epilogue == Epilogue::silu_pairs || fusion.epilogue == Epilogue::gelu_pairs)
        fail(Status::unsupported, "%s: no paired gate/up epilogue", what);
    if (n_cols == 0) fail(Status::invalid_argument, "%s: n_cols must be >= 1", what);
    if (y.resolved_size() < detail::matmul_y_floats(w, n_cols, fusion) * 4)
        fail(Status::invalid_argument, "%s: Y holds %llu bytes, too few for (%u, %u) outputs", what,
             (unsigned long long)y.resolved_size(), n_cols, w.n_rows);
}

// Column slots of a dispatch of n columns (as the float matvec: 1 or 8 compiled).
uint32_t slots_for(uint32_t n) { return n == 1 ? 1u : 8u; }

// Shared memory of the _x variant: slots * K / 32 blocks of 10 words, and the reduction's scratch.
uint64_t x_shared_bytes(uint32_t slots, uint32_t K, uint32_t wg) { return uint64_t(slots) * (K / 32) * 10 * 4 + uint64_t(wg) * 4; }

}  // namespace

bool matvec_q8_1_quantizes_x(Kernels& k, uint32_t n_cols, uint32_t K) {
    if (n_cols == 0 || K == 0 || K % 32 != 0) return false;
    if (const char* e = std::getenv("VKS_INT_DOT_PROLOGUE"); e && std::strcmp(e, "0") == 0) return false;
    return x_shared_bytes(slots_for(std::min(n_cols, k_matvec_max_cols)), K, k.wg_size(64)) <= k.caps().max_shared_memory;
}

void matvec_q8_1(Kernels& k, vk::Commands& cmd, const WeightTensor& w, vk::BufferRange xq, vk::BufferRange y,
                 uint32_t n_cols, const MatmulFusion& fusion) {
    const auto& caps = k.caps();
    check_int_dot_product(caps, "matvec_q8_1", w, y, n_cols, fusion);
    if (fusion.norm) fail(Status::invalid_argument, "matvec_q8_1: the norm belongs to quantize_q8_1");
    if (xq.resolved_size() < q8_1_bytes(n_cols, w.n_cols))
        fail(Status::invalid_argument, "matvec_q8_1: XQ holds %llu bytes, needs %llu", (unsigned long long)xq.resolved_size(),
             (unsigned long long)q8_1_bytes(n_cols, w.n_cols));
    const uint32_t wg = k.wg_size(64);
    for (uint32_t col0 = 0; col0 < n_cols; col0 += k_matvec_max_cols) {
        const uint32_t n = std::min(k_matvec_max_cols, n_cols - col0);
        const vk::Pipeline& pipe = k.pipeline(matvec_q8_1_variant_name(w.type), {wg, slots_for(n)});
        for (const auto& c : w.chunks) {
            const auto p = detail::matmul_params(w, c, n, col0, fusion);
            const Grid g = grid_for((c.n_rows + wg - 1) / wg, caps);
            cmd.dispatch(pipe, {vk::BufferRange(c.buffer), xq, y}, p, g.x, g.y);
        }
    }
}

void matvec_q8_1_x(Kernels& k, vk::Commands& cmd, const WeightTensor& w, vk::BufferRange x, vk::BufferRange y,
                   uint32_t n_cols, const MatmulFusion& fusion) {
    const auto& caps = k.caps();
    check_int_dot_product(caps, "matvec_q8_1_x", w, y, n_cols, fusion);
    const uint32_t K = w.n_cols;
    if (!matvec_q8_1_quantizes_x(k, n_cols, K))
        fail(Status::unsupported, "matvec_q8_1_x: %u columns of K = %u as Q8_1 blocks exceed the device's %u bytes of shared memory",
             std::min(n_cols, k_matvec_max_cols), K, caps.max_shared_memory);
    if (x.resolved_size() < uint64_t(n_cols) * K * 4)
        fail(Status::invalid_argument, "matvec_q8_1_x: X holds %llu bytes, (%u, %u) f32 needs %llu", (unsigned long long)x.resolved_size(),
             n_cols, K, (unsigned long long)(uint64_t(n_cols) * K * 4));
    if (fusion.norm && fusion.norm->size() < uint64_t(K) * 4)
        fail(Status::invalid_argument, "matvec_q8_1_x: norm weight holds %llu bytes, K=%u floats need %llu",
             (unsigned long long)fusion.norm->size(), K, (unsigned long long)K * 4);
    const uint32_t wg = k.wg_size(64);
    const vk::BufferRange gb = fusion.norm ? vk::BufferRange(*fusion.norm, 0, uint64_t(K) * 4) : x;
    for (uint32_t col0 = 0; col0 < n_cols; col0 += k_matvec_max_cols) {
        const uint32_t n = std::min(k_matvec_max_cols, n_cols - col0), slots = slots_for(n);
        const vk::Pipeline& pipe = k.pipeline(matvec_q8_1_variant_name(w.type) + "_x", {wg, slots, slots * (K / 32)});
        for (const auto& c : w.chunks) {
            const auto p = detail::matmul_params(w, c, n, col0, fusion);
            const Grid g = grid_for((c.n_rows + wg - 1) / wg, caps);
            cmd.dispatch(pipe, {vk::BufferRange(c.buffer), x, y, gb}, p, g.x, g.y);
        }
    }
}

void matvec_q8_1_from_f32(Kernels& k, vk::Commands& cmd, const WeightTensor& w, vk::BufferRange x, const vk::Buffer* xq,
                          vk::BufferRange y, uint32_t n_cols, const MatmulFusion& fusion) {
    if (matvec_q8_1_quantizes_x(k, n_cols, w.n_cols)) return matvec_q8_1_x(k, cmd, w, x, y, n_cols, fusion);
    if (!xq) fail(Status::internal, "matvec_q8_1_from_f32: the blocks do not fit shared memory and no XQ scratch was given");
    const vk::BufferRange xqr(*xq, 0, q8_1_bytes(n_cols, w.n_cols));
    quantize_q8_1(k, cmd, x, xqr, n_cols, w.n_cols, fusion.norm, fusion.norm_eps);
    cmd.barrier();
    MatmulFusion f = fusion;
    f.norm = nullptr;
    matvec_q8_1(k, cmd, w, xqr, y, n_cols, f);
}

bool quantize_shared_input(Kernels& k, vk::Commands& cmd, std::initializer_list<const WeightTensor*> ws, vk::BufferRange x,
                           uint32_t n_cols, MatmulFusion& f) {
    f.xq_ready = false;
    int n_int = 0;
    uint32_t K = 0;
    for (const WeightTensor* w : ws) {
        if (!matmul_needs_xq(k, *w, n_cols, f)) continue;  // float path, or quantizes X in its own prologue
        if (n_int > 0 && w->n_cols != K)
            fail(Status::invalid_argument, "quantize_shared_input: products of one input differ in K (%u, %u)", K, w->n_cols);
        K = w->n_cols;
        ++n_int;
    }
    if (n_int < 2) return false;  // one product quantizes for itself at no extra cost
    quantize_q8_1(k, cmd, x, vk::BufferRange(*f.xq_scratch, 0, q8_1_bytes(n_cols, K)), n_cols, K, f.norm, f.norm_eps);
    cmd.barrier();
    f.xq_ready = true;
    return true;
}

namespace {

// Measured choices, per device (vendor, device id, pipeline cache UUID) and (type, M, K): in
// memory for the process, and in a file per device next to the pipeline cache, so the tuning
// run is paid once per device and driver build, not once per process.
std::mutex g_choice_mutex;
std::map<std::tuple<std::string, int, uint32_t, uint32_t>, bool> g_choices;
std::set<std::string> g_loaded;  // devices whose file was read

std::string device_key(const vk::Capabilities& c) {
    std::string s = strfmt("%04x-%04x-", c.vendor_id, c.device_id);
    for (uint8_t b : c.pipeline_cache_uuid) s += strfmt("%02x", b);
    return s;
}

// The device's tuning file: "" when the pipeline cache is off (DeviceOptions, VKS_CACHE_DIR=off).
std::string tuning_path(const vk::Device& dev, const std::string& key) {
    const std::string& pc = dev.pipeline_cache_path();
    if (pc.empty()) return "";
    return std::filesystem::path(pc).parent_path().string() + "/tuning-int_dot-" + key + ".txt";
}

// Format: one line per shape, "<ggml type name> <M> <K> int_dot|float". Unknown or malformed
// lines are ignored (the shape is measured again), so a damaged file costs time, never errors.
// Called with g_choice_mutex held.
void load_choices(const vk::Device& dev, const std::string& key) {
    if (!g_loaded.insert(key).second) return;
    const std::string path = tuning_path(dev, key);
    if (path.empty()) return;
    std::ifstream f(path);
    std::string line;
    while (std::getline(f, line)) {
        char tname[16], choice[16];
        unsigned M = 0, K = 0;
        if (std::sscanf(line.c_str(), "%15s %u %u %15s", tname, &M, &K, choice) != 4) continue;
        for (Type t : {Type::Q4_0, Type::Q4_1, Type::Q5_0, Type::Q5_1, Type::Q8_0, Type::Q4_K, Type::Q5_K, Type::Q6_K})
            if (std::strcmp(quant::info(t).name, tname) == 0 && (std::strcmp(choice, "int_dot") == 0 || std::strcmp(choice, "float") == 0))
                g_choices[std::make_tuple(key, int(t), uint32_t(M), uint32_t(K))] = std::strcmp(choice, "int_dot") == 0;
    }
}

// Rewrites the device's file with all of its choices (atomic replace; failures are ignored: the
// choice still holds for this process). Called with g_choice_mutex held.
void save_choices(const vk::Device& dev, const std::string& key) {
    const std::string path = tuning_path(dev, key);
    if (path.empty()) return;
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    try {
        write_file_atomic(path, [&](std::FILE* f) {
            for (const auto& [k, v] : g_choices)
                if (std::get<0>(k) == key)
                    std::fprintf(f, "%s %u %u %s\n", quant::info(Type(std::get<1>(k))).name, std::get<2>(k), std::get<3>(k),
                                 v ? "int_dot" : "float");
        });
    } catch (const Error&) {
    }
}

// Best of 3 submissions (after one warm-up) of a recording with `reps` products, per product.
double time_per_product(vk::Commands& cmd, int reps) {
    cmd.submit(false);
    double best = 1e30;
    for (int r = 0; r < 3; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        cmd.submit(false);
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best / reps;
}

}  // namespace

bool choose_int_dot(Kernels& k, Type t, uint32_t M, uint32_t K) {
    const auto& caps = k.caps();
    if (!caps.int_dot || !matvec_q8_1_type(t) || K % 32 != 0 || K % quant::info(t).block_size != 0 || M == 0) return false;
    if (const char* e = std::getenv("VKS_MATVEC")) {
        if (std::strcmp(e, "int_dot") == 0) return true;
        if (std::strcmp(e, "float") == 0) return false;
    }
    // Where the driver says the 4 x 8-bit dot is not accelerated (lavapipe: emulated), the
    // integer path cannot win and measuring it would cost start-up time (two more pipelines to
    // compile); VKS_MATVEC=measure measures anyway.
    const char* e = std::getenv("VKS_MATVEC");
    if (!caps.int_dot_accelerated && !(e && std::strcmp(e, "measure") == 0)) return false;
    const std::string dkey = device_key(caps);
    const auto key = std::make_tuple(dkey, int(t), M, K);
    {
        std::lock_guard<std::mutex> lock(g_choice_mutex);
        load_choices(k.device(), dkey);
        if (auto it = g_choices.find(key); it != g_choices.end()) return it->second;
    }
    Kernels::Suspend really_run;  // also when called while a plan is recorded
    // A synthetic matrix of the same type and shape (zero bytes: the speed does not depend on
    // the values), one column, both paths.
    vk::Device& dev = k.device();
    std::vector<uint8_t> rows(quant::row_bytes(t, K) * M, 0);
    WeightTensor w = upload_weight(dev, t, rows.data(), M, K, "tune_w");
    vk::Buffer x(dev, uint64_t(K) * 4, vk::BufferKind::device, "tune_x"), y(dev, uint64_t(M) * 4, vk::BufferKind::device, "tune_y");
    vk::Buffer xq(dev, q8_1_bytes(1, K), vk::BufferKind::device, "tune_xq");
    x.fill_zero();
    const int reps = 8;
    vk::Commands f(dev), i(dev);
    f.begin();
    for (int r = 0; r < reps; ++r) matvec(k, f, w, vk::BufferRange(x), vk::BufferRange(y), 1), f.barrier();
    f.end();
    i.begin();  // as matmul() records it: one _x dispatch, or the quantize dispatch and the product
    for (int r = 0; r < reps; ++r) matvec_q8_1_from_f32(k, i, w, vk::BufferRange(x), &xq, vk::BufferRange(y), 1), i.barrier();
    i.end();
    const double t_float = time_per_product(f, reps), t_int = time_per_product(i, reps);
    const bool use_int = t_int < t_float;
    std::lock_guard<std::mutex> lock(g_choice_mutex);
    g_choices[key] = use_int;
    save_choices(dev, dkey);
    return use_int;
}

std::string int_dot_tuning_path(Kernels& k) { return tuning_path(k.device(), device_key(k.caps())); }

void forget_int_dot_choices() {
    std::lock_guard<std::mutex> lock(g_choice_mutex);
    g_choices.clear();
    g_loaded.clear();
}

}  // namespace vks::ops
