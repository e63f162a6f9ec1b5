// Quantized matvec / tiled matmul shaders against ref::matmul (double accumulation on the same
// dequantized weights). Dequantization is exact in f32 on both sides, so the only difference
// is the kernels' f32 accumulation order: worst NMSE per type 4e-14..7e-13 on lavapipe. Bound for every
// type: NMSE <= 1e-9 (F32: the issue's 1e-6 is far looser) and max |err| <= 1e-4 * (1 + max |ref|).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "ops/matmul.hpp"
#include "quant/quant.hpp"
#include "ref/matmul.hpp"
#include "support/gpu.hpp"

using namespace vks;
using quant::Type;
using test::gpu;

namespace {

constexpr double k_nmse_bound = 1e-9;
double g_worst_nmse = 0;  // over the cases of the current type, reported by run_type

struct Problem {
    std::vector<uint8_t> w;   // (M rows of GGUF bytes)
    std::vector<float> x;     // (N, K)
    std::vector<float> ref;   // (N, M)
};

Problem make_problem(Type t, uint32_t M, uint32_t K, uint32_t N, uint32_t seed) {
    Problem pr;
    // Weights with a per-row scale spread so blocks get different d factors.
    std::vector<float> wf = test::random_floats(size_t(M) * K, seed, -1.0f, 1.0f);
    for (uint32_t m = 0; m < M; ++m)
        for (uint32_t k = 0; k < K; ++k) wf[size_t(m) * K + k] *= 0.25f + float((m * 7 + k / 32) % 5);
    const size_t rb = quant::row_bytes(t, K);
    pr.w.resize(rb * M);
    for (uint32_t m = 0; m < M; ++m) quant::quantize_row(t, wf.data() + size_t(m) * K, pr.w.data() + rb * m, K);
    pr.x = test::random_floats(size_t(N) * K, seed + 1, -1.0f, 1.0f);
    pr.ref.resize(size_t(N) * M);
    ref::matmul(t, pr.w.data(), pr.x.data(), pr.ref.data(), M, K, N);
    return pr;
}

enum class Path { matvec_portable, matvec_sg, matvec_tb, matvec_sg_tb, tiled };
const char* path_name(Path p) {
    switch (p) {
        case Path::matvec_portable: return "matvec";
        case Path::matvec_sg: return "matvec_sg";
        case Path::matvec_tb: return "matvec_tb";
        case Path::matvec_sg_tb: return "matvec_sg_tb";
        default: return "tiled";
    }
}
ops::MatmulVariant variant_of(Path p) {
    switch (p) {
        case Path::matvec_sg: return ops::MatmulVariant::subgroup;
        case Path::matvec_tb: return ops::MatmulVariant::portable_texel;
        case Path::matvec_sg_tb: return ops::MatmulVariant::subgroup_texel;
        default: return ops::MatmulVariant::portable;
    }
}

// row_group / max_chunk: upload_weight's layout options (0 = the device's defaults).
void check_case(Type t, uint32_t M, uint32_t K, uint32_t N, uint32_t seed, Path path, uint32_t row_group = 0,
                uint64_t max_chunk = 0) {
    const std::string what = std::string(quant::info(t).name) + " " + path_name(path) + " M=" + std::to_string(M) +
                             " N=" + std::to_string(N) + " K=" + std::to_string(K) + " seed=" + std::to_string(seed) +
                             (row_group ? " row_group=" + std::to_string(row_group) : "") +
                             (max_chunk ? " max_chunk=" + std::to_string(max_chunk) : "");
    CAPTURE(what);
    Problem pr = make_problem(t, M, K, N, seed);
    auto& g = gpu();
    ops::WeightTensor w = ops::upload_weight(*g.device, t, pr.w.data(), M, K, "w", max_chunk, row_group);
    if (row_group) CHECK_MESSAGE((max_chunk ? w.group_rows < row_group : w.group_rows == row_group), what << ": group_rows " << w.group_rows);
    if (max_chunk) CHECK_MESSAGE(w.chunks.size() > 1, what << ": expected several chunks");
    vk::Buffer x = test::upload(pr.x, "x");
    vk::Buffer y = test::guarded_buffer(size_t(N) * M, "y");
    test::run([&](vk::Commands& cmd) {
        if (path == Path::tiled) ops::matmul_tiled(*g.kernels, cmd, w, x, y, N);
        else ops::matvec(*g.kernels, cmd, w, x, y, N, variant_of(path));
    });
    std::vector<float> got = test::read_guarded(y, size_t(N) * M);
    const double e = test::nmse(got.data(), pr.ref.data(), got.size());
    double ref_max = 0;
    for (float v : pr.ref) ref_max = std::max(ref_max, double(std::fabs(v)));
    const double mad = test::max_abs_diff(got.data(), pr.ref.data(), got.size());
    g_worst_nmse = std::max(g_worst_nmse, e);
    CHECK_MESSAGE(e <= k_nmse_bound, what << ": NMSE " << e);
    CHECK_MESSAGE(mad <= 1e-4 * (1 + ref_max), what << ": max |err| " << mad << " (max |ref| " << ref_max << ")");
}

bool have_subgroups() { return gpu().device->caps().subgroup_reduce(); }
bool have_texel() { return gpu().device->caps().texel_buffers; }

struct Shape {
    uint32_t M, K;
};

// Shapes per type family: M straddles 8 (lavapipe subgroup), 64 (matvec workgroup / tile) and
// primes; K straddles the block size (and for float types the 32-element sub-block).
std::vector<Shape> shapes_for(Type t) {
    const uint32_t bs = quant::info(t).block_size;
    if (bs == 1)  // F32 / F16 / BF16: any K, tails of the 32-element sub-block
        return {{1, 1}, {3, 7}, {7, 31}, {8, 32}, {15, 33}, {16, 3}, {31, 255}, {33, 257}, {64, 64},
                {65, 96}, {127, 61}, {255, 100}, {257, 129}};
    if (bs == 32)
        return {{1, 32}, {3, 64}, {7, 96}, {8, 256}, {15, 32}, {16, 288}, {31, 128}, {33, 224},
                {64, 64}, {65, 416}, {127, 32}, {255, 96}, {256, 256}, {257, 160}};
    return {{1, 256}, {3, 512}, {8, 256}, {15, 768}, {16, 256}, {33, 512}, {64, 256}, {127, 256}, {257, 512}};
}

// full_n: every column count 1..9 (9 = a group of 8 then 1) on every 4th shape; otherwise
// 1 and 3 or 4 columns (column slots 1 and 4: lavapipe takes seconds to build the large
// 8-slot pipelines cold, and the slot logic is type-independent).
void run_type(Type t, uint32_t seed, bool full_n = false) {
    const bool sg = have_subgroups(), tb = have_texel();
    g_worst_nmse = 0;
    const auto shapes = shapes_for(t);
    for (size_t i = 0; i < shapes.size(); ++i) {
        const auto [M, K] = shapes[i];
        std::vector<uint32_t> ns = {1u, uint32_t(3 + i % 2)};
        if (full_n && i % 4 == 0) ns = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        for (uint32_t N : ns) {
            check_case(t, M, K, N, seed + uint32_t(i), Path::matvec_portable);
            if (sg) check_case(t, M, K, N, seed + uint32_t(i), Path::matvec_sg);
            // Texel variants: X columns must be whole texels (the automatic choice falls back
            // to the SSBO variant otherwise; checked in "texel fallback" below).
            if (tb && K % 4 == 0) {
                check_case(t, M, K, N, seed + uint32_t(i), Path::matvec_tb);
                if (sg) check_case(t, M, K, N, seed + uint32_t(i), Path::matvec_sg_tb);
            }
        }
    }
    // The tiled path: edges of the 64 x 64 tile in M and N.
    const std::vector<Shape> tiled = {{shapes[1].M, shapes[1].K}, {65, shapes.back().K}, {shapes.back().M, shapes[4].K}};
    const uint32_t ns[] = {1, 17, 64, 100};
    for (size_t i = 0; i < tiled.size(); ++i)
        for (size_t j = 0; j < 4; ++j)
            if (i == 0 || j % 2 == (i % 2)) check_case(t, tiled[i].M, tiled[i].K, ns[j], seed + 100 + uint32_t(i), Path::tiled);
    // Where weights are stored in groups of 8 rows (CPU devices), the portable texel path of the
    // affine types is the row-group-owning _tbg shader: make sure it is what ran.
    if (tb && ops::default_row_group(gpu().device->caps()) == 8 && ops::has_group8_variant(t))
        CHECK(gpu().kernels->has_pipeline(ops::matvec_variant_name(t, false, true, true)));
    MESSAGE(std::string(quant::info(t).name) << ": worst NMSE " << g_worst_nmse
                                             << (sg ? " (portable, _sg" : " (portable") << (tb ? ", their _tb" : "") << " and tiled)");
}

}  // namespace

TEST_CASE_FIXTURE(test::GpuTest, "matmul f32 weights") { run_type(Type::F32, 1000); }
TEST_CASE_FIXTURE(test::GpuTest, "matmul f16 weights") { run_type(Type::F16, 1100); }
TEST_CASE_FIXTURE(test::GpuTest, "matmul bf16 weights") { run_type(Type::BF16, 1200); }
TEST_CASE_FIXTURE(test::GpuTest, "matmul q4_0 weights") { run_type(Type::Q4_0, 1300, true); }
TEST_CASE_FIXTURE(test::GpuTest, "matmul q4_1 weights") { run_type(Type::Q4_1, 1400); }
TEST_CASE_FIXTURE(test::GpuTest, "matmul q5_0 weights") { run_type(Type::Q5_0, 1500); }
TEST_CASE_FIXTURE(test::GpuTest, "matmul q5_1 weights") { run_type(Type::Q5_1, 1600); }
TEST_CASE_FIXTURE(test::GpuTest, "matmul q8_0 weights") { run_type(Type::Q8_0, 1700); }
TEST_CASE_FIXTURE(test::GpuTest, "matmul q4_K weights") { run_type(Type::Q4_K, 1800); }
TEST_CASE_FIXTURE(test::GpuTest, "matmul q5_K weights") { run_type(Type::Q5_K, 1900); }
TEST_CASE_FIXTURE(test::GpuTest, "matmul q6_K weights") { run_type(Type::Q6_K, 2000); }

TEST_CASE_FIXTURE(test::GpuTest, "matmul: every row-group layout gives the reference result") {
    // The device layout stores rows in groups (1 = row-major, the GPU default; 8 on CPU devices);
    // every path reads it through the same block_idx. Row counts around and below the group,
    // float tails (K % 32 != 0), a split-d type, a 2-word-aligned type and K-quants; then groups
    // cut down by tiny chunks (a chunk smaller than a group shrinks the group).
    const bool sg = have_subgroups(), tb = have_texel();
    struct Case {
        Type t;
        uint32_t K;
    };
    const Case cases[] = {{Type::F32, 100}, {Type::F16, 64}, {Type::Q4_0, 64}, {Type::Q4_1, 96},
                          {Type::Q5_1, 64}, {Type::Q8_0, 32}, {Type::Q4_K, 256}, {Type::Q6_K, 256}};
    uint32_t seed = 3000;
    for (const Case& c : cases) {
        for (uint32_t group : {1u, 2u, 8u, 32u}) {
            for (uint32_t M : {1u, 13u, 203u}) {
                ++seed;
                check_case(c.t, M, c.K, 3, seed, Path::matvec_portable, group);
                if (sg) check_case(c.t, M, c.K, 1, seed, Path::matvec_sg, group);
                if (tb && c.K % 4 == 0) check_case(c.t, M, c.K, 2, seed, Path::matvec_tb, group);
                if (tb && sg && c.K % 4 == 0) check_case(c.t, M, c.K, 1, seed, Path::matvec_sg_tb, group);
                if (M > 1) check_case(c.t, M, c.K, 17, seed, Path::tiled, group);
            }
        }
        // Chunks of ~5 rows: groups of 8 or 32 cannot fit and shrink to 4.
        const uint64_t row_bytes = quant::row_bytes(c.t, c.K) + 8;
        check_case(c.t, 203, c.K, 3, ++seed, Path::matvec_portable, 8, row_bytes * 5 + 32);
        check_case(c.t, 203, c.K, 17, ++seed, Path::tiled, 32, row_bytes * 5 + 32);
    }
    CHECK_THROWS_AS(ops::upload_weight(*gpu().device, Type::F32, std::vector<float>(64).data(), 2, 32, "w", 0, 3), Error);
}

TEST_CASE_FIXTURE(test::GpuTest, "matmul: narrow and wide column groups give the same columns") {
    // ops::matvec_group_columns: on CPU devices 2..31 columns run in groups of 4 slots and >= 32
    // in groups of 8 (elsewhere always 8). Every column must come out the same either way (a
    // prompt's tokens must not depend on the chunk they were in), and the wide group must match
    // the reference like the narrow one (run_type covers the narrow groups).
    const auto& caps = gpu().device->caps();
    CHECK(ops::matvec_group_columns(caps, 1) == 1);
    CHECK(ops::matvec_group_columns(caps, ops::k_matvec_wide_min) == ops::k_matvec_max_cols);
    const bool cpu = caps.type == VK_PHYSICAL_DEVICE_TYPE_CPU;
    CHECK(ops::matvec_group_columns(caps, ops::k_matvec_wide_min - 1) == (cpu ? ops::k_matvec_narrow_cols : ops::k_matvec_max_cols));
    auto& g = gpu();
    for (Type t : {Type::Q4_1, Type::F32}) {  // a row-group (_tbg) type and a float type
        const uint32_t M = 72, K = 256, N = ops::k_matvec_wide_min, seed = 4242;
        CAPTURE(quant::info(t).name);
        Problem pr = make_problem(t, M, K, N, seed);
        ops::WeightTensor w = ops::upload_weight(*g.device, t, pr.w.data(), M, K);
        vk::Buffer x = test::upload(pr.x, "x");
        auto product = [&](uint32_t n) {
            vk::Buffer y = test::guarded_buffer(size_t(n) * M, "y");
            test::run([&](vk::Commands& cmd) { ops::matvec(*g.kernels, cmd, w, x, y, n); });
            return test::read_guarded(y, size_t(n) * M);
        };
        const std::vector<float> wide = product(N), narrow = product(N - 1);
        CHECK(std::equal(narrow.begin(), narrow.end(), wide.begin()));
        const double e = test::nmse(wide.data(), pr.ref.data(), wide.size());
        CHECK_MESSAGE(e <= k_nmse_bound, "NMSE " << e);
    }
}

TEST_CASE_FIXTURE(test::GpuTest, "matmul: a weight larger than one binding is split by rows with identical results") {
    // A second device whose per-binding limit is 32 KiB (VKS_LIMITS, as a user would set it).
    setenv("VKS_LIMITS", "max_binding=32K", 1);
    vk::Instance inst(vk::InstanceOptions{true});
    unsetenv("VKS_LIMITS");
    vk::Device small(inst, vk::DeviceOptions{SIZE_MAX, "off"});
    REQUIRE(small.caps().max_binding_bytes() == 32 * 1024);
    ops::Kernels ks(small);
    auto& g = gpu();
    for (Type t : {Type::Q6_K, Type::F16}) {  // a split-d type and a padded-row type
        const uint32_t M = 203, K = 512, N = 3, seed = 77;
        CAPTURE(quant::info(t).name);
        Problem pr = make_problem(t, M, K, N, seed);
        ops::WeightTensor w_big = ops::upload_weight(*g.device, t, pr.w.data(), M, K);
        ops::WeightTensor w_small = ops::upload_weight(small, t, pr.w.data(), M, K);
        CHECK(w_big.chunks.size() == 1);
        CHECK(w_small.chunks.size() > 1);
        for (const auto& c : w_small.chunks) CHECK(c.buffer.size() <= 32 * 1024);
        for (uint32_t n : {N, 12u}) {
            // n <= 8: matvec; 12: the tiled kernel (ops::matmul would pick matvec on CPU devices).
            auto mm = [&](ops::Kernels& kk, vk::Commands& cmd, const ops::WeightTensor& w, vk::Buffer& xb,
                          vk::Buffer& yb) {
                if (n <= 8) ops::matvec(kk, cmd, w, xb, yb, n);
                else ops::matmul_tiled(kk, cmd, w, xb, yb, n);
            };
            std::vector<float> x = test::random_floats(size_t(n) * K, seed);
            vk::Buffer xb = test::upload(x), yb = test::guarded_buffer(size_t(n) * M);
            test::run([&](vk::Commands& cmd) { mm(*g.kernels, cmd, w_big, xb, yb); });
            std::vector<float> want = test::read_guarded(yb, size_t(n) * M);

            vk::Buffer xs(small, x.size() * 4), ys(small, size_t(n) * M * 4);
            xs.upload(x.data(), x.size() * 4);
            vk::Commands cmd(small);
            cmd.begin();
            mm(ks, cmd, w_small, xs, ys);
            cmd.end();
            cmd.submit();
            std::vector<float> got(size_t(n) * M);
            ys.download(got.data(), got.size() * 4);
            CHECK_MESSAGE(got == want, std::string(quant::info(t).name) << " N=" << n << ": chunked result differs");
        }
    }
    CHECK(inst.validation_message_count() == 0);
}

TEST_CASE_FIXTURE(test::GpuTest, "matmul: texel variants on small texel views (finer chunks) match the SSBO variant") {
    // A device whose texel views hold 1024 texels (16 KiB), as VKS_LIMITS would set it: the
    // weights are chunked to fit and the _tb result must equal the SSBO result of the same device.
    setenv("VKS_LIMITS", "texel_elements=1024", 1);
    vk::Instance inst(vk::InstanceOptions{true});
    unsetenv("VKS_LIMITS");
    vk::Device small(inst, vk::DeviceOptions{SIZE_MAX, "off"});
    if (!small.caps().texel_buffers) VKS_SKIP("device has no uniform texel buffers");
    ops::Kernels ks(small);
    for (Type t : {Type::Q4_1, Type::Q8_0, Type::F16}) {
        const uint32_t M = 203, K = 512, N = 3, seed = 78;
        CAPTURE(quant::info(t).name);
        Problem pr = make_problem(t, M, K, N, seed);
        ops::WeightTensor w = ops::upload_weight(small, t, pr.w.data(), M, K);
        CHECK(w.texel);
        CHECK(w.chunks.size() > 1);
        for (const auto& c : w.chunks) CHECK(c.buffer.size() <= 1024 * 16);
        vk::Buffer xs(small, pr.x.size() * 4);
        xs.upload(pr.x.data(), pr.x.size() * 4);
        std::vector<float> got[2];
        const ops::MatmulVariant vs[2] = {ops::MatmulVariant::portable, ops::MatmulVariant::portable_texel};
        for (int v = 0; v < 2; ++v) {
            vk::Buffer ys(small, size_t(N) * M * 4);
            vk::Commands cmd(small);
            cmd.begin();
            ops::matvec(ks, cmd, w, xs, ys, N, vs[v]);
            cmd.end();
            cmd.submit();
            got[v].resize(size_t(N) * M);
            ys.download(got[v].data(), got[v].size() * 4);
        }
        CHECK_MESSAGE(test::nmse(got[1].data(), pr.ref.data(), got[1].size()) <= k_nmse_bound,
                      quant::info(t).name << ": chunked texel result off the reference");
        CHECK_MESSAGE(test::max_abs_diff(got[0].data(), got[1].data(), got[0].size()) <= 1e-4,
                      quant::info(t).name << ": texel and SSBO variants differ");
    }
    CHECK(inst.validation_message_count() == 0);
}

TEST_CASE_FIXTURE(test::GpuTest, "matmul: texel fallback (K % 4 != 0) and explicit texel requests") {
    auto& g = gpu();
    if (!g.device->caps().texel_buffers) VKS_SKIP("device has no uniform texel buffers");
    const uint32_t M = 9, K = 7, N = 2;
    Problem pr = make_problem(Type::F32, M, K, N, 5);
    ops::WeightTensor w = ops::upload_weight(*g.device, Type::F32, pr.w.data(), M, K, "w");
    vk::Buffer x = test::upload(pr.x, "x");
    vk::Buffer y = test::guarded_buffer(size_t(N) * M, "y");
    test::run([&](vk::Commands& cmd) { ops::matvec(*g.kernels, cmd, w, x, y, N); });  // auto: SSBO
    std::vector<float> got = test::read_guarded(y, size_t(N) * M);
    CHECK(test::nmse(got.data(), pr.ref.data(), got.size()) <= k_nmse_bound);
    vk::Commands cmd(*g.device);
    cmd.begin();
    try {
        ops::matvec(*g.kernels, cmd, w, x, y, N, ops::MatmulVariant::portable_texel);
        FAIL("a texel variant was accepted for K % 4 != 0");
    } catch (const Error& e) {
        CHECK(e.status() == Status::unsupported);  // the call's shape, not a missing device feature
    }
    if (!g.device->caps().subgroup_reduce()) {  // e.g. VKS_PROFILE=baseline
        try {
            ops::matvec(*g.kernels, cmd, w, x, y, N, ops::MatmulVariant::subgroup);
            FAIL("a subgroup variant was accepted on a device without subgroup arithmetic");
        } catch (const Error& e) {
            CHECK(e.status() == Status::feature_missing);
        }
    }
    cmd.end();
}

TEST_CASE_FIXTURE(test::GpuTest, "matmul: bad shapes and types are clear errors") {
    auto& g = gpu();
    std::vector<uint8_t> w(quant::row_bytes(Type::Q4_0, 64) * 2);
    CHECK_THROWS_AS(ops::upload_weight(*g.device, Type::Q4_0, w.data(), 2, 48), Error);  // K not whole blocks
    CHECK_THROWS_AS(ops::upload_weight(*g.device, Type::Q2_K, w.data(), 1, 256), Error);  // no kernel
    ops::WeightTensor wt = ops::upload_weight(*g.device, Type::Q4_0, w.data(), 2, 64);
    vk::Buffer x = test::upload(std::vector<float>(64)), y = test::guarded_buffer(2);
    vk::Commands cmd(*g.device);
    cmd.begin();
    CHECK_THROWS_AS(ops::matvec(*g.kernels, cmd, wt, x, y, 2), Error);  // X holds one column only
    cmd.end();
    CHECK(ops::describe_matmul_variants(g.device->caps()).size() == 22);
}
