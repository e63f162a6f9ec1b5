// Fused matmul work (ops::MatmulFusion): the RMS norm taken on the way into matvec, and the
// epilogues (residual add, SiLU / GELU gated units), against the unfused reference: ref::rms_norm,
// then ref::matmul, then the element-wise op, in that order, with the initial Y read back as the
// residual or the gate. Each variant (portable, subgroup, their texel forms; tiled for the
// epilogues) on shapes around the block, sub-block and workgroup sizes, 1 and 3 columns (9 once).
// Bounds as in test_matmul.cpp: NMSE <= 1e-9, max |err| <= 1e-4 * (1 + max |ref|), guard words.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "ops/glu.hpp"
#include "ops/matmul.hpp"
#include "quant/quant.hpp"
#include "ref/glu.hpp"
#include "ref/matmul.hpp"
#include "ref/rms_norm.hpp"
#include "support/gpu.hpp"

using namespace vks;
using quant::Type;
using test::gpu;

namespace {

constexpr float k_eps = 1e-5f;

enum class Path { portable, subgroup, portable_texel, subgroup_texel, tiled };
const char* path_name(Path p) {
    switch (p) {
        case Path::portable: return "matvec";
        case Path::subgroup: return "matvec_sg";
        case Path::portable_texel: return "matvec_tb";
        case Path::subgroup_texel: return "matvec_sg_tb";
        default: return "tiled";
    }
}
const char* epilogue_name(ops::Epilogue e) {
    switch (e) {
        case ops::Epilogue::store: return "store";
        case ops::Epilogue::add: return "add";
        case ops::Epilogue::silu_glu: return "silu_glu";
        default: return "gelu_glu";
    }
}

void check_case(Type t, uint32_t M, uint32_t K, uint32_t N, uint32_t seed, Path path, bool norm, ops::Epilogue epi) {
    const std::string what = std::string(quant::info(t).name) + " " + path_name(path) + " norm=" + (norm ? "1" : "0") +
                             " epilogue=" + epilogue_name(epi) + " M=" + std::to_string(M) + " N=" + std::to_string(N) +
                             " K=" + std::to_string(K) + " seed=" + std::to_string(seed);
    CAPTURE(what);
    // Weights, X with a per-column scale (so the norm matters), the norm weight and Y's old value.
    std::vector<float> wf = test::random_floats(size_t(M) * K, seed, -1.0f, 1.0f);
    const size_t rb = quant::row_bytes(t, K);
    std::vector<uint8_t> wq(rb * M);
    for (uint32_t m = 0; m < M; ++m) quant::quantize_row(t, wf.data() + size_t(m) * K, wq.data() + rb * m, K);
    std::vector<float> x = test::random_floats(size_t(N) * K, seed + 1, -1.0f, 1.0f);
    for (uint32_t c = 0; c < N; ++c)
        for (uint32_t k = 0; k < K; ++k) x[size_t(c) * K + k] *= 0.1f + 3.0f * float(c % 4);
    std::vector<float> gw = test::random_floats(K, seed + 2, 0.5f, 1.5f);
    std::vector<float> y0 = test::random_floats(size_t(N) * M, seed + 3, -3.0f, 3.0f);

    // Reference: the unfused sequence.
    std::vector<float> xn = x;
    if (norm) ref::rms_norm(x.data(), gw.data(), xn.data(), N, K, k_eps);
    std::vector<float> r(size_t(N) * M), ref = r;
    ref::matmul(t, wq.data(), xn.data(), r.data(), M, K, N);
    for (size_t i = 0; i < r.size(); ++i) {
        switch (epi) {
            case ops::Epilogue::store: ref[i] = r[i]; break;
            case ops::Epilogue::add: ref[i] = y0[i] + r[i]; break;
            case ops::Epilogue::silu_glu: ref[i] = ref::silu(y0[i]) * r[i]; break;
            case ops::Epilogue::gelu_glu: ref[i] = ref::gelu_tanh(y0[i]) * r[i]; break;
            default: FAIL("paired epilogues have a test of their own"); break;
        }
    }

    auto& g = gpu();
    ops::WeightTensor w = ops::upload_weight(*g.device, t, wq.data(), M, K, "w");
    vk::Buffer xb = test::upload(x, "x"), gb = test::upload(gw, "norm");
    vk::Buffer y = test::guarded_buffer(size_t(N) * M, "y");
    y.upload(y0.data(), y0.size() * 4);
    ops::MatmulFusion f;
    f.epilogue = epi;
    f.norm = norm ? &gb : nullptr;
    f.norm_eps = k_eps;
    test::run([&](vk::Commands& cmd) {
        switch (path) {
            case Path::tiled: ops::matmul_tiled(*g.kernels, cmd, w, xb, y, N, f); break;
            case Path::portable: ops::matvec(*g.kernels, cmd, w, xb, y, N, ops::MatmulVariant::portable, f); break;
            case Path::subgroup: ops::matvec(*g.kernels, cmd, w, xb, y, N, ops::MatmulVariant::subgroup, f); break;
            case Path::portable_texel:
                ops::matvec(*g.kernels, cmd, w, xb, y, N, ops::MatmulVariant::portable_texel, f);
                break;
            case Path::subgroup_texel:
                ops::matvec(*g.kernels, cmd, w, xb, y, N, ops::MatmulVariant::subgroup_texel, f);
                break;
        }
    });
    std::vector<float> got = test::read_guarded(y, size_t(N) * M);
    double ref_max = 0;
    for (float v : ref) ref_max = std::max(ref_max, double(std::fabs(v)));
    const double e = test::nmse(got.data(), ref.data(), got.size());
    const double mad = test::max_abs_diff(got.data(), ref.data(), got.size());
    CHECK_MESSAGE(e <= 1e-9, what << ": NMSE " << e);
    CHECK_MESSAGE(mad <= 1e-4 * (1 + ref_max), what << ": max |err| " << mad << " (max |ref| " << ref_max << ")");
}

struct Shape {
    uint32_t M, K;
};

std::vector<Shape> shapes_for(Type t) {
    const uint32_t bs = quant::info(t).block_size;
    if (bs == 1) return {{1, 7}, {8, 32}, {33, 100}, {65, 257}};  // float types: K tails
    if (bs == 32) return {{1, 32}, {15, 96}, {64, 64}, {257, 576}};
    return {{3, 256}, {65, 512}};
}

void run_type(Type t, uint32_t seed) {
    const auto& caps = gpu().device->caps();
    const bool sg = caps.subgroup_reduce(), tb = caps.texel_buffers;
    const ops::Epilogue epis[] = {ops::Epilogue::store, ops::Epilogue::add, ops::Epilogue::silu_glu,
                                  ops::Epilogue::gelu_glu};
    const auto shapes = shapes_for(t);
    for (size_t i = 0; i < shapes.size(); ++i) {
        const auto [M, K] = shapes[i];
        for (uint32_t N : {1u, 3u}) {
            for (size_t e = 0; e < 4; ++e) {
                const bool norm = (i + e + N) % 2 == 0 || e == 0;  // every epilogue with and without the norm
                const uint32_t s = seed + uint32_t(i * 16 + e);
                check_case(t, M, K, N, s, Path::portable, norm, epis[e]);
                if (sg) check_case(t, M, K, N, s, Path::subgroup, norm, epis[e]);
                if (tb && K % 4 == 0) {
                    check_case(t, M, K, N, s, Path::portable_texel, norm, epis[e]);
                    if (sg) check_case(t, M, K, N, s, Path::subgroup_texel, !norm, epis[e]);
                }
            }
        }
    }
    // 9 columns (a group of 8, then 1) on the automatic choice: the 8-slot pipelines are slow to
    // build on lavapipe, and the column-slot logic does not depend on the fusion.
    const Path auto_path = tb && shapes[0].K % 4 == 0 ? Path::portable_texel : Path::portable;
    check_case(t, shapes[0].M, shapes[0].K, 9, seed + 80, auto_path, true, ops::Epilogue::add);
    // Tiled: epilogues only, across the 64 x 64 tile edges.
    for (size_t e = 0; e < 4; ++e) check_case(t, 65, shapes.back().K, 17 + uint32_t(e) * 30, seed + 90, Path::tiled, false, epis[e]);
}

}  // namespace

TEST_CASE_FIXTURE(test::GpuTest, "matmul fusion: f32 weights") { run_type(Type::F32, 5000); }
TEST_CASE_FIXTURE(test::GpuTest, "matmul fusion: f16 weights") { run_type(Type::F16, 5100); }
TEST_CASE_FIXTURE(test::GpuTest, "matmul fusion: q4_0 weights") { run_type(Type::Q4_0, 5200); }
TEST_CASE_FIXTURE(test::GpuTest, "matmul fusion: q4_1 weights") { run_type(Type::Q4_1, 5300); }
TEST_CASE_FIXTURE(test::GpuTest, "matmul fusion: q8_0 weights") { run_type(Type::Q8_0, 5400); }
TEST_CASE_FIXTURE(test::GpuTest, "matmul fusion: q6_K weights") { run_type(Type::Q6_K, 5500); }

TEST_CASE_FIXTURE(test::GpuTest, "matmul fusion: misuse is a clear error") {
    auto& g = gpu();
    std::vector<float> wf = test::random_floats(64 * 32, 1);
    ops::WeightTensor w = ops::upload_weight(*g.device, Type::F32, wf.data(), 64, 32, "w");
    vk::Buffer x = test::upload(std::vector<float>(32 * 20, 1.0f), "x"), y = test::guarded_buffer(64 * 20, "y");
    vk::Buffer short_norm = test::upload(std::vector<float>(16, 1.0f), "short_norm");
    ops::MatmulFusion f;
    f.norm = &short_norm;
    try {
        test::run([&](vk::Commands& cmd) { ops::matvec(*g.kernels, cmd, w, x, y, 1, ops::MatmulVariant::auto_, f); });
        FAIL("a norm weight shorter than K was accepted");
    } catch (const Error& e) {
        CHECK(e.status() == Status::invalid_argument);
        CHECK(std::string(e.what()).find("short_norm") != std::string::npos);
    }
    vk::Buffer norm = test::upload(std::vector<float>(32, 1.0f), "norm");
    f.norm = &norm;
    try {
        test::run([&](vk::Commands& cmd) { ops::matmul_tiled(*g.kernels, cmd, w, x, y, 20, f); });
        FAIL("the tiled path accepted a fused norm");
    } catch (const Error& e) {
        CHECK(e.status() == Status::internal);
    }
}

TEST_CASE_FIXTURE(test::GpuTest, "matmul fusion: output segments put each row range where asked") {
    // A row-stacked weight (as the engine's q/k/v tensor) written as three (N, rows) matrices at
    // chosen offsets, with gaps between them: every element must equal the plain product's
    // (same path, same chunking), the gaps must keep their fill, and an add epilogue must read the
    // old value at the segment position. Chunks of 11 rows cut across the segment boundaries.
    auto& g = gpu();
    const bool sg = g.device->caps().subgroup_reduce(), tb = g.device->caps().texel_buffers;
    const uint32_t M = 50, K = 64, seg1 = 24, seg2 = 37;
    const Type t = Type::Q8_0;
    std::vector<float> wf = test::random_floats(size_t(M) * K, 900, -1.0f, 1.0f);
    const size_t rb = quant::row_bytes(t, K);
    std::vector<uint8_t> wq(rb * M);
    for (uint32_t m = 0; m < M; ++m) quant::quantize_row(t, wf.data() + size_t(m) * K, wq.data() + rb * m, K);
    for (uint64_t chunk : {uint64_t(0), uint64_t(rb * 11 + 64)}) {
        ops::WeightTensor w = ops::upload_weight(*g.device, t, wq.data(), M, K, "w", chunk);
        for (Path path : {Path::portable, Path::subgroup, Path::portable_texel, Path::subgroup_texel, Path::tiled}) {
            if ((path == Path::subgroup || path == Path::subgroup_texel) && !sg) continue;
            if ((path == Path::portable_texel || path == Path::subgroup_texel) && !tb) continue;
            for (uint32_t N : {1u, 3u, 9u, 20u}) {
                if (path == Path::tiled ? N < 3 : N > 9) continue;
                for (ops::Epilogue epi : {ops::Epilogue::store, ops::Epilogue::add}) {
                    const std::string what = std::string(path_name(path)) + " N=" + std::to_string(N) + " chunks=" +
                                             std::to_string(w.chunks.size()) + " epilogue=" + epilogue_name(epi);
                    CAPTURE(what);
                    ops::OutputSegments sgm;
                    sgm.seg1 = seg1, sgm.seg2 = seg2;
                    sgm.off1 = N * seg1 + 5;             // a gap of 5 floats
                    sgm.off2 = sgm.off1 + N * (seg2 - seg1) + 64;  // and of 64
                    const size_t total = sgm.off2 + size_t(N) * (M - seg2);
                    auto place = [&](uint32_t c, uint32_t r) -> size_t {
                        if (r < seg1) return size_t(c) * seg1 + r;
                        if (r < seg2) return sgm.off1 + size_t(c) * (seg2 - seg1) + (r - seg1);
                        return sgm.off2 + size_t(c) * (M - seg2) + (r - seg2);
                    };
                    std::vector<float> x = test::random_floats(size_t(N) * K, 901 + N, -1.0f, 1.0f);
                    std::vector<float> old_plain = test::random_floats(size_t(N) * M, 902 + N, -1.0f, 1.0f);
                    std::vector<float> old_seg(total, 1234.5f);  // the gaps' fill
                    for (uint32_t c = 0; c < N; ++c)
                        for (uint32_t r = 0; r < M; ++r) old_seg[place(c, r)] = old_plain[size_t(c) * M + r];
                    vk::Buffer xb = test::upload(x, "x"), yp = test::upload(old_plain, "y_plain"),
                               ys = test::upload(old_seg, "y_segments");
                    ops::MatmulFusion plain, split;
                    plain.epilogue = split.epilogue = epi;
                    split.segments = sgm;
                    auto mm = [&](vk::Commands& cmd, vk::Buffer& y, const ops::MatmulFusion& f) {
                        if (path == Path::tiled) ops::matmul_tiled(*g.kernels, cmd, w, xb, y, N, f);
                        else ops::matvec(*g.kernels, cmd, w, xb, y, N,
                                         path == Path::subgroup         ? ops::MatmulVariant::subgroup
                                         : path == Path::portable_texel ? ops::MatmulVariant::portable_texel
                                         : path == Path::subgroup_texel ? ops::MatmulVariant::subgroup_texel
                                                                        : ops::MatmulVariant::portable,
                                         f);
                    };
                    test::run([&](vk::Commands& cmd) {
                        mm(cmd, yp, plain);
                        mm(cmd, ys, split);
                    });
                    std::vector<float> got_plain(size_t(N) * M), got_seg(total);
                    yp.download(got_plain.data(), got_plain.size() * 4);
                    ys.download(got_seg.data(), got_seg.size() * 4);
                    std::vector<float> want = old_seg;
                    for (uint32_t c = 0; c < N; ++c)
                        for (uint32_t r = 0; r < M; ++r) want[place(c, r)] = got_plain[size_t(c) * M + r];
                    CHECK_MESSAGE(got_seg == want, what << ": segmented output differs from the plain one");
                }
            }
        }
    }
    // Overlapping or malformed segments are refused before anything is recorded.
    ops::WeightTensor w = ops::upload_weight(*g.device, t, wq.data(), M, K, "w");
    vk::Buffer xb = test::upload(std::vector<float>(K, 1.0f), "x"), yb = test::guarded_buffer(4096, "y");
    for (ops::OutputSegments bad : {ops::OutputSegments{seg1, seg2, seg1 - 1, 100}, ops::OutputSegments{seg1, seg2, 100, 101},
                                    ops::OutputSegments{seg2, seg1, 100, 200}, ops::OutputSegments{seg1, M, 100, 200}}) {
        ops::MatmulFusion f;
        f.segments = bad;
        CHECK_THROWS_AS(test::run([&](vk::Commands& cmd) { ops::matvec(*g.kernels, cmd, w, xb, yb, 1, ops::MatmulVariant::auto_, f); }),
                        Error);
    }
}

TEST_CASE_FIXTURE(test::GpuTest, "matmul fusion: a paired gate/up tensor gives act(gate) * up in one matvec") {
    // ops::upload_paired_weight interleaves gate and up rows 4 by 4 in 8-row groups; the paired
    // epilogues write act(gate) * up, and a plain store of the same product through glu_paired
    // gives the same. Reference: ref::rms_norm, ref::matmul of gate and up separately, then act.
    auto& g = gpu();
    struct Case {
        Type t;
        uint32_t M, K;
    };
    const Case cases[] = {{Type::Q4_0, 4, 32}, {Type::Q4_1, 12, 64}, {Type::Q5_0, 100, 96}, {Type::Q5_1, 36, 64},
                          {Type::Q8_0, 1536, 576}};
    uint32_t seed = 7000;
    for (const Case& c : cases) {
        std::vector<float> wg = test::random_floats(size_t(c.M) * c.K, ++seed), wu = test::random_floats(size_t(c.M) * c.K, ++seed);
        const size_t rb = quant::row_bytes(c.t, c.K);
        std::vector<uint8_t> gq(rb * c.M), uq(rb * c.M);
        for (uint32_t m = 0; m < c.M; ++m) {
            quant::quantize_row(c.t, wg.data() + size_t(m) * c.K, gq.data() + rb * m, c.K);
            quant::quantize_row(c.t, wu.data() + size_t(m) * c.K, uq.data() + rb * m, c.K);
        }
        if (!ops::paired_gate_up_supported(g.device->caps(), c.t, c.M, c.K)) {
            CHECK_THROWS_AS(ops::upload_paired_weight(*g.device, c.t, gq.data(), uq.data(), c.M, c.K), Error);
            continue;
        }
        ops::WeightTensor w = ops::upload_paired_weight(*g.device, c.t, gq.data(), uq.data(), c.M, c.K);
        CHECK(w.paired);
        CHECK(w.n_rows == 2 * c.M);
        for (uint32_t N : {1u, 3u, 9u}) {
            for (bool norm : {false, true}) {
                for (bool silu : {true, false}) {
                    const std::string what = std::string(quant::info(c.t).name) + " M=" + std::to_string(c.M) + " K=" +
                                             std::to_string(c.K) + " N=" + std::to_string(N) + (norm ? " norm" : "") +
                                             (silu ? " silu" : " gelu");
                    CAPTURE(what);
                    std::vector<float> x = test::random_floats(size_t(N) * c.K, ++seed, -1.0f, 1.0f);
                    std::vector<float> gw = test::random_floats(c.K, ++seed, 0.5f, 1.5f);
                    std::vector<float> xn = x;
                    if (norm) ref::rms_norm(x.data(), gw.data(), xn.data(), N, c.K, k_eps);
                    std::vector<float> rg(size_t(N) * c.M), ru(size_t(N) * c.M), ref(size_t(N) * c.M);
                    ref::matmul(c.t, gq.data(), xn.data(), rg.data(), c.M, c.K, N);
                    ref::matmul(c.t, uq.data(), xn.data(), ru.data(), c.M, c.K, N);
                    for (size_t i = 0; i < ref.size(); ++i) ref[i] = (silu ? ref::silu(rg[i]) : ref::gelu_tanh(rg[i])) * ru[i];

                    vk::Buffer xb = test::upload(x, "x"), gb = test::upload(gw, "norm");
                    vk::Buffer y = test::guarded_buffer(size_t(N) * c.M, "y"), y2 = test::guarded_buffer(size_t(N) * c.M, "y2");
                    vk::Buffer both = test::guarded_buffer(size_t(N) * 2 * c.M, "gate_up");
                    ops::MatmulFusion f, plain;
                    f.epilogue = silu ? ops::Epilogue::silu_pairs : ops::Epilogue::gelu_pairs;
                    f.norm = plain.norm = norm ? &gb : nullptr;
                    f.norm_eps = plain.norm_eps = k_eps;
                    const ops::GluKind kind = silu ? ops::GluKind::silu : ops::GluKind::gelu;
                    test::run([&](vk::Commands& cmd) {
                        ops::matmul(*g.kernels, cmd, w, xb, y, N, f);
                        ops::matmul(*g.kernels, cmd, w, xb, both, N, plain);
                        cmd.barrier();
                        ops::glu_paired(*g.kernels, cmd, kind, vk::BufferRange(both, 0, uint64_t(N) * 2 * c.M * 4),
                                        vk::BufferRange(y2, 0, uint64_t(N) * c.M * 4), N * c.M);
                    });
                    for (vk::Buffer* out : {&y, &y2}) {
                        std::vector<float> got = test::read_guarded(*out, size_t(N) * c.M);
                        double ref_max = 0;
                        for (float v : ref) ref_max = std::max(ref_max, double(std::fabs(v)));
                        const double e = test::nmse(got.data(), ref.data(), got.size());
                        const double mad = test::max_abs_diff(got.data(), ref.data(), got.size());
                        const char* which = out == &y ? "paired epilogue" : "store + glu_paired";
                        CHECK_MESSAGE(e <= 1e-9, what << " " << which << ": NMSE " << e);
                        CHECK_MESSAGE(mad <= 1e-4 * (1 + ref_max), what << " " << which << ": max |err| " << mad);
                    }
                }
            }
        }
        // Misuse: a paired tensor with another epilogue, a paired epilogue on a plain tensor or on
        // a path without it.
        vk::Buffer xb = test::upload(std::vector<float>(size_t(20) * c.K, 0.5f), "x"), y = test::guarded_buffer(size_t(40) * c.M);
        ops::MatmulFusion add, pairs;
        add.epilogue = ops::Epilogue::add;
        pairs.epilogue = ops::Epilogue::silu_pairs;
        CHECK_THROWS_AS(test::run([&](vk::Commands& cmd) { ops::matmul(*g.kernels, cmd, w, xb, y, 1, add); }), Error);
        CHECK_THROWS_AS(test::run([&](vk::Commands& cmd) { ops::matmul_tiled(*g.kernels, cmd, w, xb, y, 20, pairs); }), Error);
        CHECK_THROWS_AS(
            test::run([&](vk::Commands& cmd) { ops::matvec(*g.kernels, cmd, w, xb, y, 1, ops::MatmulVariant::portable, pairs); }),
            Error);
        ops::WeightTensor plain_w = ops::upload_weight(*g.device, c.t, gq.data(), c.M, c.K);
        CHECK_THROWS_AS(test::run([&](vk::Commands& cmd) { ops::matmul(*g.kernels, cmd, plain_w, xb, y, 1, pairs); }), Error);
    }
}
