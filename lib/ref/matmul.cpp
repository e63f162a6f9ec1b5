// Reference matmul: dequantize one weight row at a time, accumulate in double. Deliberately
// naive (no tiling, no threads) so it is obviously right; shaders are tested against it.
#include "ref/matmul.hpp"

#include <vector>

#include "common/error.hpp"

namespace vks::ref {

void matmul(quant::Type wtype, const void* W, const float* X, float* Y, int64_t M, int64_t K, int64_t N) {
    if (M < 0 || K < 0 || N < 0)
        fail(Status::invalid_argument, "ref::matmul: negative size M=%lld K=%lld N=%lld", (long long)M,
             (long long)K, (long long)N);
    const quant::TypeInfo& wi = quant::info(wtype);
    if (K % wi.block_size != 0)
        fail(Status::invalid_argument, "ref::matmul: K=%lld is not a multiple of the %s block size %u", (long long)K,
             wi.name, wi.block_size);
    const size_t w_row_bytes = quant::row_bytes(wtype, K);
    const auto* w_rows = static_cast<const uint8_t*>(W);
    std::vector<float> w_row(static_cast<size_t>(K));  // (K) one dequantized weight row
    for (int64_t m = 0; m < M; ++m) {
        quant::dequantize_row(wtype, w_rows + size_t(m) * w_row_bytes, w_row.data(), K);
        for (int64_t n = 0; n < N; ++n) {
            const float* x = X + n * K;  // (K)
            double acc = 0;
            for (int64_t k = 0; k < K; ++k) acc += double(w_row[size_t(k)]) * double(x[k]);
            Y[n * M + m] = float(acc);
        }
    }
}

}  // namespace vks::ref
