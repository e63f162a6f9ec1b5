#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "common/error.hpp"
#include "ops/matvec_q8_1.hpp"
#include "quant/quant.hpp"
#include "ref/matmul.hpp"
#include "ref/matvec_q8_1.hpp"
#include "support/gpu.hpp"

using namespace vks;
using quant::Type;
using test::gpu;

namespace {

// Tolerances. Against ref::matvec_q8_1 on the same Q8_1 blocks (uploaded, so both sides see
// identical integers): the integer dots are exact, only the f32 scaling and the f32 sum over
// blocks differ from the double reference: |err| <= 1e-5 * sum over blocks of |terms|, checked
// as NMSE <= 1e-10. Against the float reference (ref::matmul on X itself), the activation
// quantization error (about 1/254 of each block's largest |x|) shows: NMSE <= 1e-3.
constexpr double kTightNmse = 1e-10, kLooseNmse = 1e-3;

struct Case {
    std::vector<uint8_t> w;
    std::vector<float> x;
};

Case make_case(Type t, uint32_t M, uint32_t K, uint32_t N, uint32_t seed) {
    Case c;
    auto wf = test::random_floats(size_t(M) * K, seed, -1.0f, 1.0f);
    for (uint32_t m = 0; m < M; ++m)
        for (uint32_t k = 0; k < K; ++k) wf[size_t(m) * K + k] *= 0.25f + float((m * 7 + k / 32) % 5);
    const size_t rb = quant::row_bytes(t, K);
    c.w.resize(rb * M);
    for (uint32_t m = 0; m < M; ++m) quant::quantize_row(t, wf.data() + size_t(m) * K, c.w.data() + rb * m, K);
    c.x = test::random_floats(size_t(N) * K, seed + 1, -2.0f, 2.0f);
    return c;
}

}  // namespace

TEST_CASE_FIXTURE(test::GpuTest, "matvec_q8_1 (integer dot) matches its reference tightly and the float product loosely") {
    auto& k = *gpu().kernels;
    if (!k.caps().int_dot) {
        MESSAGE("SKIPPED: the device has no integer dot product (shaderIntegerDotProduct); nothing tested");
        return;
    }
    const Type types[] = {Type::Q4_0, Type::Q4_1, Type::Q5_0, Type::Q5_1, Type::Q8_0, Type::Q4_K, Type::Q5_K, Type::Q6_K};
    const uint32_t Ms[] = {1, 7, 64, 65, 257};
    const std::vector<uint32_t> Ks_legacy = {32, 96, 416}, Ks_k = {256, 768};  // K-quants: super-blocks of 256
    const uint32_t Ns[] = {1, 3, 8, 9};
    for (Type t : types)
        for (uint32_t row_group : {1u, 8u})
            for (uint32_t M : Ms)
                for (uint32_t K : quant::info(t).block_size == 256 ? Ks_k : Ks_legacy)
                    for (uint32_t N : Ns) {
                        if (row_group == 8 && N != 1 && M != 65) continue;  // the layout, not the columns, is under test
                        CAPTURE(quant::info(t).name);
                        CAPTURE(row_group);
                        CAPTURE(M);
                        CAPTURE(K);
                        CAPTURE(N);
                        const Case c = make_case(t, M, K, N, M * 31 + K + N);
                        const auto xq = ref::quantize_q8_1(c.x.data(), N, K);
                        std::vector<float> tight(size_t(N) * M), loose(size_t(N) * M);
                        ref::matvec_q8_1(t, c.w.data(), xq, tight.data(), M, K, N);
                        ref::matmul(t, c.w.data(), c.x.data(), loose.data(), M, K, N);
                        const auto packed = ref::pack_q8_1(xq);
                        ops::WeightTensor w = ops::upload_weight(*gpu().device, t, c.w.data(), M, K, "w", 0, row_group);
                        vk::Buffer dxq = test::upload_bytes(packed.data(), packed.size() * 4), dx = test::upload(c.x);
                        vk::Buffer xq2(*gpu().device, ops::q8_1_bytes(N, K), vk::BufferKind::device, "xq");
                        vk::Buffer y1 = test::guarded_buffer(size_t(N) * M), y2 = test::guarded_buffer(size_t(N) * M);
                        const uint64_t yb = uint64_t(N) * M * 4;
                        test::run([&](vk::Commands& cmd) {
                            // On the reference's blocks, and through the device's own quantization.
                            ops::matvec_q8_1(k, cmd, w, vk::BufferRange(dxq), vk::BufferRange(y1, 0, yb), N);
                            ops::quantize_q8_1(k, cmd, vk::BufferRange(dx), vk::BufferRange(xq2), N, K);
                            cmd.barrier();
                            ops::matvec_q8_1(k, cmd, w, vk::BufferRange(xq2), vk::BufferRange(y2, 0, yb), N);
                        });
                        const auto got1 = test::read_guarded(y1, size_t(N) * M), got2 = test::read_guarded(y2, size_t(N) * M);
                        CHECK(test::nmse(got1.data(), tight.data(), tight.size()) <= kTightNmse);
                        CHECK(test::nmse(got2.data(), loose.data(), loose.size()) <= kLooseNmse);
                    }
}

TEST_CASE_FIXTURE(test::GpuTest, "matvec_q8_1_x (X quantized in the prologue) matches the reference, with and without the norm") {
    auto& k = *gpu().kernels;
    if (!k.caps().int_dot) {
        MESSAGE("SKIPPED: the device has no integer dot product (shaderIntegerDotProduct); nothing tested");
        return;
    }
    // Without the norm the prologue's blocks are quantize_q8_1's (same code, same rounding): the
    // reference on the same blocks holds tightly. With it, the sum of squares is added in another
    // order than the reference's, so a value within a rounding error of a half-integer may take
    // the other code (quantize_q8_1's test: at most 0.1 % of them, by 1); one such flip moves
    // every row by d_x * a_w, hence the looser bound.
    const Type types[] = {Type::Q4_0, Type::Q4_1, Type::Q5_0, Type::Q5_1, Type::Q8_0, Type::Q4_K, Type::Q5_K, Type::Q6_K};
    const std::vector<uint32_t> Ks_legacy = {32, 416}, Ks_k = {256, 768};
    for (Type t : types)
        for (uint32_t M : {1u, 65u, 257u})  // one workgroup; a second one with one live row; several
            for (uint32_t K : quant::info(t).block_size == 256 ? Ks_k : Ks_legacy)
                for (uint32_t N : {1u, 3u, 9u})  // one slot; 8 slots, partly used; two dispatches
                    for (bool norm : {false, true}) {
                        CAPTURE(quant::info(t).name);
                        CAPTURE(M);
                        CAPTURE(K);
                        CAPTURE(N);
                        CAPTURE(norm);
                        REQUIRE(ops::matvec_q8_1_quantizes_x(k, N, K));
                        const Case c = make_case(t, M, K, N, M * 13 + K + N + norm);
                        const auto g = test::random_floats(K, K + 7, 0.5f, 1.5f);
                        const float eps = 1e-5f;
                        const auto xq = ref::quantize_q8_1(c.x.data(), N, K, norm ? g.data() : nullptr, eps);
                        std::vector<float> want(size_t(N) * M);
                        ref::matvec_q8_1(t, c.w.data(), xq, want.data(), M, K, N);
                        ops::WeightTensor w = ops::upload_weight(*gpu().device, t, c.w.data(), M, K, "w");
                        vk::Buffer dx = test::upload(c.x), dg = test::upload(g);
                        vk::Buffer y = test::guarded_buffer(size_t(N) * M);
                        ops::MatmulFusion f;
                        if (norm) f.norm = &dg, f.norm_eps = eps;
                        test::run([&](vk::Commands& cmd) {
                            ops::matvec_q8_1_x(k, cmd, w, vk::BufferRange(dx), vk::BufferRange(y, 0, uint64_t(N) * M * 4), N, f);
                        });
                        const auto got = test::read_guarded(y, size_t(N) * M);
                        CHECK(test::nmse(got.data(), want.data(), want.size()) <= (norm ? 1e-4 : kTightNmse));
                    }
}

TEST_CASE_FIXTURE(test::GpuTest, "matmul on the integer-dot path is one dispatch where the blocks fit shared memory") {
    auto& k = *gpu().kernels;
    if (!k.caps().int_dot) {
        MESSAGE("SKIPPED: the device has no integer dot product; nothing tested");
        return;
    }
    const char* old = std::getenv("VKS_MATVEC");
    const std::string saved = old ? old : "";
    setenv("VKS_MATVEC", "int_dot", 1);
    const uint32_t M = 70, K = 96, N = 2;
    const Case c = make_case(Type::Q4_0, M, K, N, 3);
    const auto y0 = test::random_floats(size_t(N) * M, 4);
    const auto xq = ref::quantize_q8_1(c.x.data(), N, K);
    std::vector<float> want(size_t(N) * M);
    ref::matvec_q8_1(Type::Q4_0, c.w.data(), xq, want.data(), M, K, N);
    for (size_t i = 0; i < want.size(); ++i) want[i] += y0[i];
    ops::WeightTensor w = ops::upload_weight(*gpu().device, Type::Q4_0, c.w.data(), M, K, "w");
    vk::Buffer dx = test::upload(c.x), scratch(*gpu().device, ops::q8_1_bytes(N, K), vk::BufferKind::device, "xq");
    for (const char* prologue : {"1", "0"}) {  // the one-dispatch form, then the two-dispatch form for comparison
        CAPTURE(prologue);
        setenv("VKS_INT_DOT_PROLOGUE", prologue, 1);
        vk::Buffer y = test::upload(y0);
        ops::MatmulFusion f;
        f.epilogue = ops::Epilogue::add;
        f.xq_scratch = &scratch;
        CHECK(ops::matmul_takes_int_dot(k, w, N, f));
        CHECK(ops::matmul_needs_xq(k, w, N, f) == (prologue[0] == '0'));
        vk::Commands cmd(*gpu().device);
        cmd.enable_dispatch_timing(8);
        cmd.begin();
        ops::matmul(k, cmd, w, vk::BufferRange(dx), vk::BufferRange(y), N, f);
        cmd.end();
        cmd.submit();
        CHECK(cmd.dispatch_times().size() == (prologue[0] == '0' ? 2u : 1u));
        std::vector<float> got(size_t(N) * M);
        y.download(got.data(), got.size() * 4);
        CHECK(test::nmse(got.data(), want.data(), want.size()) <= kTightNmse);
    }
    unsetenv("VKS_INT_DOT_PROLOGUE");
    if (old) setenv("VKS_MATVEC", saved.c_str(), 1);
    else unsetenv("VKS_MATVEC");
}

TEST_CASE_FIXTURE(test::GpuTest, "matvec_q8_1 epilogues and output segments match the plain store") {
    auto& k = *gpu().kernels;
    if (!k.caps().int_dot) {
        MESSAGE("SKIPPED: the device has no integer dot product; nothing tested");
        return;
    }
    const uint32_t M = 48, K = 64, N = 2;
    const Case c = make_case(Type::Q4_1, M, K, N, 5);
    const auto xq = ref::quantize_q8_1(c.x.data(), N, K);
    std::vector<float> r(size_t(N) * M);
    ref::matvec_q8_1(Type::Q4_1, c.w.data(), xq, r.data(), M, K, N);
    const auto packed = ref::pack_q8_1(xq);
    ops::WeightTensor w = ops::upload_weight(*gpu().device, Type::Q4_1, c.w.data(), M, K, "w");
    vk::Buffer dxq = test::upload_bytes(packed.data(), packed.size() * 4);
    // add: y = y0 + r
    const auto y0 = test::random_floats(size_t(N) * M, 9);
    vk::Buffer y = test::upload(y0);
    ops::MatmulFusion add;
    add.epilogue = ops::Epilogue::add;
    test::run([&](vk::Commands& cmd) { ops::matvec_q8_1(k, cmd, w, vk::BufferRange(dxq), vk::BufferRange(y), N, add); });
    std::vector<float> got(size_t(N) * M), want(size_t(N) * M);
    y.download(got.data(), got.size() * 4);
    for (size_t i = 0; i < want.size(); ++i) want[i] = y0[i] + r[i];
    CHECK(test::nmse(got.data(), want.data(), want.size()) <= kTightNmse);
    // segments: rows [0, 16) at 0, [16, 32) at float 64, [32, 48) at float 128
    ops::MatmulFusion seg;
    seg.segments = {16, 32, 64, 128};
    vk::Buffer ys = test::upload(std::vector<float>(128 + 16 * N, 0.0f));
    test::run([&](vk::Commands& cmd) { ops::matvec_q8_1(k, cmd, w, vk::BufferRange(dxq), vk::BufferRange(ys), N, seg); });
    std::vector<float> gs(128 + 16 * N);
    ys.download(gs.data(), gs.size() * 4);
    double err = 0;
    for (uint32_t n = 0; n < N; ++n)
        for (uint32_t m = 0; m < M; ++m) {
            const float v = m < 16 ? gs[n * 16 + m] : m < 32 ? gs[64 + n * 16 + (m - 16)] : gs[128 + n * 16 + (m - 32)];
            err = std::max(err, double(std::fabs(v - r[size_t(n) * M + m])));
        }
    CHECK(err <= 1e-4);
}

TEST_CASE_FIXTURE(test::GpuTest, "matvec_q8_1 refuses what it cannot run") {
    auto& k = *gpu().kernels;
    std::vector<uint8_t> rows(quant::row_bytes(Type::F16, 256) * 4, 0);
    ops::WeightTensor wk = ops::upload_weight(*gpu().device, Type::F16, rows.data(), 4, 256, "wk");
    vk::Buffer b(*gpu().device, 4096, vk::BufferKind::device, "b");
    vk::Commands cmd(*gpu().device);
    cmd.begin();
    // A float weight has no integer-dot kernel: unsupported (or feature_missing without int_dot).
    CHECK_THROWS_AS(ops::matvec_q8_1(k, cmd, wk, vk::BufferRange(b), vk::BufferRange(b), 1), Error);
    cmd.end();
    CHECK_FALSE(ops::choose_int_dot(k, Type::Q3_K, 4, 256));
    CHECK_FALSE(ops::choose_int_dot(k, Type::Q4_K, 4, 96));  // K not a whole number of super-blocks
    CHECK_FALSE(ops::matvec_q8_1_type(Type::F16));
    CHECK_FALSE(ops::matvec_q8_1_type(Type::Q3_K));
    CHECK(ops::matvec_q8_1_type(Type::Q6_K));
}

TEST_CASE_FIXTURE(test::GpuTest, "choose_int_dot measures once per device and shape and keeps the answer in a file") {
    auto& k = *gpu().kernels;
    if (!k.caps().int_dot) {
        MESSAGE("SKIPPED: the device has no integer dot product; nothing tested");
        return;
    }
    const std::string path = ops::int_dot_tuning_path(k);
    REQUIRE_FALSE(path.empty());  // the test environment sets VKS_CACHE_DIR
    std::remove(path.c_str());
    ops::forget_int_dot_choices();
    // Measure even where the driver reports the dot as not accelerated (lavapipe).
    const char* old = std::getenv("VKS_MATVEC");
    const std::string saved = old ? old : "";
    setenv("VKS_MATVEC", "measure", 1);
    const bool chosen = ops::choose_int_dot(k, Type::Q4_0, 40, 96);
    CHECK(ops::choose_int_dot(k, Type::Q4_0, 40, 96) == chosen);  // cached
    std::string text;
    {
        std::ifstream f(path);
        text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    CHECK(text == std::string("q4_0 40 96 ") + (chosen ? "int_dot" : "float") + "\n");
    // A new process (simulated: the memory forgotten) takes the file's answer without measuring:
    // plant the opposite answer and a damaged line, which is ignored.
    {
        std::ofstream f(path);
        f << "q4_0 40 96 " << (chosen ? "float" : "int_dot") << "\nq4_0 garbage\n";
    }
    ops::forget_int_dot_choices();
    CHECK(ops::choose_int_dot(k, Type::Q4_0, 40, 96) == !chosen);
    // The override wins over the file.
    setenv("VKS_MATVEC", chosen ? "int_dot" : "float", 1);
    CHECK(ops::choose_int_dot(k, Type::Q4_0, 40, 96) == chosen);
    if (old) setenv("VKS_MATVEC", saved.c_str(), 1);
    else unsetenv("VKS_MATVEC");
    std::remove(path.c_str());
    ops::forget_int_dot_choices();
}
