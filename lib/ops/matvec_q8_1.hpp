#pragma once
// The integer-dot decode path: X quantized to Q8_1 blocks (8-bit, a scale and a sum per 32
// values; shaders/quantize_q8_1.comp), then Y = W · X with packed 4 x int8 dot products
// (shaders/matvec_q8_1.comp) for the legacy weight types Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and the
// K-quants Q4_K, Q5_K, Q6_K.
// References: lib/ref/quantize_q8_1.hpp, lib/ref/matvec_q8_1.hpp. Results differ from the float
// path by the activation quantization (8 bits per value, ~0.4 % of the block's largest |x|).
//
// Needs caps.int_dot (shaderIntegerDotProduct, enabled on the device when the driver has it;
// VKS_DISABLE=int_dot and the baseline profile turn it off). Whether it is faster than the
// float matvec on a device is measured, not assumed: see choose_matvec_path.
#include <cstdint>
#include <initializer_list>
#include <string>

#include "ops/matmul.hpp"

namespace vks::ops {

// Whether matvec_q8_1 runs W of this type and shape on this device (caps.int_dot, a legacy type
// or Q4_K/Q5_K/Q6_K, K a multiple of the type's block, not a paired gate/up tensor).
bool matvec_q8_1_supported(const vk::Capabilities& caps, const WeightTensor& w);
bool matvec_q8_1_type(quant::Type t);
std::string matvec_q8_1_variant_name(quant::Type t);

// Bytes of (n_cols, K) activations as Q8_1 blocks: 48 per 32 values.
inline uint64_t q8_1_bytes(uint32_t n_cols, uint32_t K) { return uint64_t(n_cols) * (K / 32) * 48; }

// xq = Q8_1 blocks of X (n_cols, K) f32, K % 32 == 0; with `norm` (K floats) each column is
// RMS-normalized first, x * norm / sqrt(mean(x^2) + eps), like MatmulFusion::norm.
void quantize_q8_1(Kernels& k, vk::Commands& cmd, vk::BufferRange x, vk::BufferRange xq, uint32_t n_cols, uint32_t K,
                   const vk::Buffer* norm = nullptr, float eps = 0.0f);

// y = W · X for X given as xq (quantize_q8_1 of n_cols columns). fusion: epilogues and output
// segments as in matvec; fusion.norm must be null (give the norm to quantize_q8_1); the paired
// epilogues are not supported. Throws feature_missing without caps.int_dot, unsupported for
// other weight types or shapes.
void matvec_q8_1(Kernels& k, vk::Commands& cmd, const WeightTensor& w, vk::BufferRange xq, vk::BufferRange y,
                 uint32_t n_cols, const MatmulFusion& fusion = {});

// Whether matvec_q8_1_x runs n_cols columns of K: the Q8_1 blocks of one dispatch's columns (1,
// or 8 slots for 2..8 and more) fit the device's shared memory. VKS_INT_DOT_PROLOGUE=0 says no
// (the two-dispatch form everywhere, for comparison).
bool matvec_q8_1_quantizes_x(Kernels& k, uint32_t n_cols, uint32_t K);

// y = W · X from f32 X in one dispatch per 8 columns: the _x kernels quantize X (with
// fusion.norm, RMS-normalizing it first) in their prologue, each workgroup into its shared
// memory, so no quantize_q8_1 dispatch and no XQ buffer. Epilogues and segments as matvec_q8_1.
// Throws unsupported where matvec_q8_1_quantizes_x says no.
void matvec_q8_1_x(Kernels& k, vk::Commands& cmd, const WeightTensor& w, vk::BufferRange x, vk::BufferRange y,
                   uint32_t n_cols, const MatmulFusion& fusion = {});

// The integer-dot product from f32 X as ops::matmul records it: matvec_q8_1_x where it fits,
// else quantize_q8_1 into xq (needed then), a barrier and matvec_q8_1.
void matvec_q8_1_from_f32(Kernels& k, vk::Commands& cmd, const WeightTensor& w, vk::BufferRange x, const vk::Buffer* xq,
                          vk::BufferRange y, uint32_t n_cols, const MatmulFusion& fusion = {});

// Which decode path is faster for W's type and shape on this device, by measurement: both
// paths are timed once (best of 3 submissions of 8 products on a synthetic matrix of the same
// type and shape, the integer path as matvec_q8_1_from_f32 records it) and the answer is cached
// per device (vendor, device id, pipeline cache UUID) and shape, for the process and in a file
// next to the device's pipeline cache (tuning-int_dot-<device>.txt; none when that cache is
// off), so later processes on the same device and driver skip the measurement. Where the
// driver reports the packed 8-bit dot as not accelerated (lavapipe) the float path is taken
// without measuring (the measurement would cost start-up compilations for a known loser);
// VKS_MATVEC=measure measures anyway, VKS_MATVEC=int_dot / float force a path (int_dot only
// where supported). Returns true for the integer-dot path.
bool choose_int_dot(Kernels& k, quant::Type t, uint32_t M, uint32_t K);

// Several products of one input (q, k, v; gate, up) that would each quantize it: where at least
// two of `ws` need a quantized X with `f` (matmul_needs_xq: the integer-dot path where the
// blocks do not fit the _x kernel's shared memory), X is quantized once
// here (with f.norm), followed by a barrier, and f.xq_ready is set so that those products skip
// their own quantize dispatch (float-path products of the group still read X). Returns whether
// it quantized. K: the common column count of ws.
bool quantize_shared_input(Kernels& k, vk::Commands& cmd, std::initializer_list<const WeightTensor*> ws, vk::BufferRange x,
                           uint32_t n_cols, MatmulFusion& f);

// The file choose_int_dot keeps this device's choices in ("" when the pipeline cache is off),
// and, for tests, forgetting the in-memory choices so that the next call reads the file again.
std::string int_dot_tuning_path(Kernels& k);
void forget_int_dot_choices();

}  // namespace vks::ops
