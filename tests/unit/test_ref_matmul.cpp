// ref::matmul against a naive float loop (F32 weights) and against dequantize + loop (Q8_0).
#include <doctest/doctest.h>

#include <vector>

#include "common/error.hpp"
#include "quant/quant.hpp"
#include "ref/matmul.hpp"
#include "support/test_support.hpp"

using namespace vks;

namespace {
// Y[n][m] = sum_k W[m][k] * X[n][k], written independently in the most direct way.
std::vector<float> naive(const std::vector<float>& W, const std::vector<float>& X, int64_t M, int64_t K, int64_t N) {
    std::vector<float> Y(size_t(N * M));
    for (int64_t n = 0; n < N; ++n)
        for (int64_t m = 0; m < M; ++m) {
            double s = 0;
            for (int64_t k = 0; k < K; ++k) s += double(W[size_t(m * K + k)]) * double(X[size_t(n * K + k)]);
            Y[size_t(n * M + m)] = float(s);
        }
    return Y;
}
}  // namespace

TEST_CASE("ref::matmul F32 equals a naive loop over prime shapes") {
    const int64_t shapes[][3] = {{1, 1, 1}, {7, 13, 3}, {17, 31, 5}, {3, 64, 1}, {29, 37, 11}};
    uint32_t seed = 5;
    for (const auto& s : shapes) {
        const int64_t M = s[0], K = s[1], N = s[2];
        CAPTURE(M);
        CAPTURE(K);
        CAPTURE(N);
        const auto W = test::random_floats(size_t(M * K), seed++);  // (M, K)
        const auto X = test::random_floats(size_t(N * K), seed++);  // (N, K)
        std::vector<float> Y(size_t(N * M), -1.0f);                  // (N, M)
        ref::matmul(quant::Type::F32, W.data(), X.data(), Y.data(), M, K, N);
        const auto want = naive(W, X, M, K, N);
        CHECK(test::max_abs_diff(Y.data(), want.data(), Y.size()) == 0.0);
    }
}

TEST_CASE("ref::matmul on Q8_0 weights equals naive loop on the dequantized weights") {
    const int64_t M = 13, K = 96, N = 4;
    const auto Wf = test::random_floats(size_t(M * K), 21);
    std::vector<uint8_t> Wq(size_t(M) * quant::row_bytes(quant::Type::Q8_0, K));
    for (int64_t m = 0; m < M; ++m)
        quant::quantize_row(quant::Type::Q8_0, Wf.data() + m * K, Wq.data() + m * quant::row_bytes(quant::Type::Q8_0, K), K);
    std::vector<float> Wd(size_t(M * K));
    quant::dequantize_row(quant::Type::Q8_0, Wq.data(), Wd.data(), M * K);  // rows are back to back
    const auto X = test::random_floats(size_t(N * K), 22);
    std::vector<float> Y(size_t(N * M));
    ref::matmul(quant::Type::Q8_0, Wq.data(), X.data(), Y.data(), M, K, N);
    const auto want = naive(Wd, X, M, K, N);
    CHECK(test::max_abs_diff(Y.data(), want.data(), Y.size()) == 0.0);
    // And it is close to the unquantized product.
    const auto exact = naive(Wf, X, M, K, N);
    CHECK(test::nmse(Y.data(), exact.data(), Y.size()) < 1e-3);
}

TEST_CASE("ref::matmul rejects K that is not whole blocks and negative sizes") {
    std::vector<float> buf(4096, 0.0f);
    CHECK_THROWS_AS(ref::matmul(quant::Type::Q4_0, buf.data(), buf.data(), buf.data(), 2, 48, 1), Error);
    CHECK_THROWS_AS(ref::matmul(quant::Type::F32, buf.data(), buf.data(), buf.data(), -1, 4, 1), Error);
}
