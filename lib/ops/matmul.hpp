#pragma once
// Y = W · X against weights in any GGUF block type: the decode matrix-vector path (matvec,
// 1..8 columns per dispatch, shaders/matvec.comp) and the prefill tiled path (matmul_tiled,
// shared-memory tiles, shaders/matmul.comp). Accumulation is f32 in every variant.
//
// Shapes: W (M, K) rows of GGUF blocks; X (N, K) f32, one column of K per token;
//         Y (N, M) f32: Y[n][m] = sum_k W[m][k] * X[n][k].
//
// Device weight layout (made by upload_weight from the raw GGUF rows, read by
// shaders/matmul_load.glsl). The rows are split into chunks so that no chunk's buffer exceeds
// caps.max_binding_bytes() (maxStorageBufferRange, 128 MiB on lavapipe) or the allocation limit;
// each chunk is one buffer of uint32 words and one dispatch:
//   [0, n_padded * row_words)      the chunk's blocks (GGUF blocks; 32-element sub-blocks
//                                  for float types), each starting at a word boundary
//   [d_offset, ...)                split types only: f16 factor d of every block, two per word
// Blocks and d factors are stored in row groups (WeightTensor::group_rows = G, a power of two):
// block b of chunk row r is block number ((r / G) * blocks_per_row + b) * G + r % G, so the G
// rows of a group have their block b side by side. G = 1 is plain row-major; CPU devices use
// G = 8 (default_row_group): there each SIMD lane walks its own row, and the 8 lanes' loads of
// one block then read one contiguous stretch instead of 8 places a row apart (measured ~2x
// for weights streamed from memory, docs/BENCHMARKS.md). Chunks hold whole groups: n_padded is
// n_rows rounded up to G, with zero rows.
// Per type:
//   F32, F16, BF16   rows zero-padded to a multiple of 32 elements (row_words = 32, 16, 16
//                    per 32 elements); no d array
//   Q4_1 (20 B), Q5_1 (24 B), Q4_K (144 B), Q5_K (176 B)
//                    GGUF blocks copied unchanged (already multiples of 4 bytes)
//   Q4_0 (18 B), Q5_0 (22 B), Q8_0 (34 B), Q6_K (210 B): "split" types. Their block size is
//                    only a multiple of 2, so a GGUF row is not word-aligned block by block.
//                    Upload moves the f16 d (first field; last field for Q6_K) to the d array
//                    and keeps the other bytes of each block in order (16, 20, 32, 208 B).
//                    Same total bytes as the file, every load a plain aligned uint load.
// Every chunk buffer is padded to whole 16-byte texels. With uniform texel buffers
// (caps.texel_buffers) chunks are also capped at caps.max_texel_view_bytes() when a row fits
// (WeightTensor::texel): the _tb variants bind a chunk as one texel view (uvec4 texels) and read
// the SAME layout through texelFetch; blocks of F32/F16/BF16, Q4_0, Q8_0 and the K-quants start
// on texel boundaries, Q4_1 / Q5_0 / Q5_1 blocks (20/20/24 B) are read as two texels + select
// (or, by the _tbg variants, as one run of texels for a whole 8-row group).
#include <cstdint>
#include <string>
#include <vector>

#include "ops/kernels.hpp"
#include "quant/quant.hpp"
#include "shaders/params.h"

namespace vks::ops {

// One buffer of rows [row_begin, row_begin + n_rows) in the device layout above.
struct WeightChunk {
    vk::Buffer buffer;
    uint32_t row_begin = 0;
    uint32_t n_rows = 0;
    uint32_t d_offset = 0;  // in words; 0 when the type has no split d array
};

// A weight matrix on the device. Move-only (owns buffers); must not outlive its Device.
struct WeightTensor {
    quant::Type type = quant::Type::F32;
    uint32_t n_rows = 0;     // M
    uint32_t n_cols = 0;     // K
    uint32_t row_words = 0;  // words per row in each chunk's row region
    bool texel = false;      // every chunk fits one texel view (the _tb variants can bind it)
    uint32_t group_rows = 1; // rows stored in groups of this many (a power of two; see above)
    bool paired = false;     // made by upload_paired_weight: every 8 rows are 4 gate + 4 up rows
    std::vector<WeightChunk> chunks;

    uint64_t device_bytes() const;  // sum of the chunks' buffer sizes
};

// Types the matmul family handles (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K).
bool matmul_supports(quant::Type t);

// Converts M rows of raw GGUF data (`rows`: M * quant::row_bytes(type, K) bytes, back to back,
// any alignment) into the device layout. K must be a multiple of the type's block size.
// max_chunk_bytes: 0 = the device's limits; smaller values force more chunks (tests).
// row_group: rows per group of the layout (a power of two); 0 = default_row_group(caps).
// Throws invalid_argument (unsupported type, bad K, M == 0, bad row_group) or unsupported (a
// single row does not fit one binding).
WeightTensor upload_weight(vk::Device& device, quant::Type type, const void* rows, uint32_t M, uint32_t K,
                           const std::string& name = "weight", uint64_t max_chunk_bytes = 0, uint32_t row_group = 0);
// 8 on CPU devices, 1 (plain row-major) elsewhere.
uint32_t default_row_group(const vk::Capabilities& caps);

// A feed-forward gate and up projection (M rows each, K columns, same type) as one tensor of
// 2M rows whose every 8 rows are gate rows 4i..4i+3 then up rows 4i..4i+3, in groups of 8: with
// the epilogue silu_pairs / gelu_pairs one matvec gives act(gate) * up (a plain store gives the
// interleaved products, which glu_paired turns into the same). Only where
// paired_gate_up_supported; throws unsupported otherwise.
WeightTensor upload_paired_weight(vk::Device& device, quant::Type type, const void* gate, const void* up, uint32_t M,
                                  uint32_t K, const std::string& name = "gate_up");
// Whether this device runs the paired epilogue (CPU devices with texel buffers: the _tbg
// variants) for an (M, K) gate/up pair of `type`.
bool paired_gate_up_supported(const vk::Capabilities& caps, quant::Type type, uint32_t M, uint32_t K);

// Which shader variant runs. auto_: the choice describe_matmul_variants reports.
// *_texel: the _tb shaders (weights and X read as uniform texel buffers); matvec() says when
// they cannot run.
enum class MatmulVariant { auto_, portable, subgroup, portable_texel, subgroup_texel };

// Work fused into a matmul so a decode step needs fewer dispatches (shaders/matvec.comp):
//   epilogue: how the result r meets Y: store (y = r), add (y += r: a residual add), or a gated
//             linear unit (y = act(y) * r: Y holds the gate projection, W is the up projection).
//   norm:     matvec only (matmul_fuses_norm): X columns are RMS-normalized with this weight
//             (K floats) first, x * norm / sqrt(mean(x^2) + norm_eps), exactly as ops::rms_norm
//             followed by the matmul, without the normed copy of X.
// X must not alias Y.
//   segments: Y is written as up to three separate matrices, so one product of row-stacked
//             weights (q, k and v as one tensor) leaves each part where its reader wants it:
//             rows [0, seg1) as an (N, seg1) matrix at Y float 0, rows [seg1, seg2) as an
//             (N, seg2 - seg1) matrix at Y float off1, rows [seg2, M) as an (N, M - seg2) matrix at
//             Y float off2. seg1 == 0 (default): one (N, M) matrix. Otherwise 0 < seg1 < seg2 < M and
//             the three matrices must not overlap (checked).
//   silu_pairs / gelu_pairs: W is a paired gate/up tensor (upload_paired_weight) and Y, (N, M / 2),
//             gets act(gate) * up in one matvec (the _tbg variants only; others throw unsupported).
enum class Epilogue : uint32_t { store = 0, add = 1, silu_glu = 2, gelu_glu = 3, silu_pairs = 4, gelu_pairs = 5 };
struct OutputSegments {
    uint32_t seg1 = 0, seg2 = 0;
    uint32_t off1 = 0, off2 = 0;  // in floats from the start of the Y binding
};
//   xq_scratch: given (at least q8_1_bytes(n_cols, K)), matmul() may take the integer-dot path
//             (ops/matvec_q8_1.hpp) where choose_int_dot picks it for W: one matvec_q8_1_x
//             dispatch quantizing X (and taking the norm) in its prologue where the blocks fit
//             shared memory, else a quantize_q8_1 into xq_scratch and a matvec_q8_1.
//   xq_ready: xq_scratch already holds quantize_q8_1(X, norm) for these n_cols columns (written
//             by ops::quantize_shared_input for several products of one input): the integer-dot
//             path skips its quantize dispatch; the float path ignores it.
struct MatmulFusion {
    Epilogue epilogue = Epilogue::store;
    const vk::Buffer* norm = nullptr;
    float norm_eps = 0.0f;
    OutputSegments segments;
    const vk::Buffer* xq_scratch = nullptr;
    bool xq_ready = false;
};

// Whether matmul(k, cmd, w, x, y, n_cols, fusion) takes the integer-dot path (n_cols on the
// matvec path: <= 8, or any on CPU devices; xq_scratch given and large enough; matvec_q8_1
// supports W; choose_int_dot picks it for W's type and shape, measured on one column).
bool matmul_takes_int_dot(Kernels& k, const WeightTensor& w, uint32_t n_cols, const MatmulFusion& fusion);
// ... and needs X quantized into xq_scratch first (the _x kernel's blocks do not fit shared memory).
bool matmul_needs_xq(Kernels& k, const WeightTensor& w, uint32_t n_cols, const MatmulFusion& fusion);

// Decode path: y[n][m] for n < n_cols. x: (n_cols, K) f32, y: (n_cols, M) f32 (or the segments; both whole
// bindings starting at column 0). Any n_cols >= 1: groups of up to 8 columns per dispatch.
// variant subgroup on a device without subgroup arithmetic throws feature_missing; a texel variant
// throws feature_missing without texel buffers and unsupported where the call's shapes rule it out.
void matvec(Kernels& k, vk::Commands& cmd, const WeightTensor& w, vk::BufferRange x, vk::BufferRange y,
            uint32_t n_cols, MatmulVariant variant = MatmulVariant::auto_, const MatmulFusion& fusion = {});

// Prefill path: same contract, shared-memory tiles (64 x 64, or 32 x 32 where shared memory or
// workgroup size is short). Good from about 16 columns up. Epilogues only (no fused norm).
void matmul_tiled(Kernels& k, vk::Commands& cmd, const WeightTensor& w, vk::BufferRange x, vk::BufferRange y,
                  uint32_t n_cols, const MatmulFusion& fusion = {});

// Picks matvec for n_cols <= k_matvec_max_cols (and for any n_cols on CPU devices, where
// shared-memory tiles are slow), the tiled path above.
constexpr uint32_t k_matvec_max_cols = 8;
bool matmul_uses_matvec(const vk::Capabilities& caps, uint32_t n_cols);
// Columns per matvec dispatch (its column slots) for an n_cols product: 1 for one column, else
// k_matvec_max_cols, except on CPU devices below k_matvec_wide_min columns, where it is
// k_matvec_narrow_cols. There every pipeline is compiled at its first dispatch, and the 8-slot
// float matvec costs ~3.6 s of LLVM (one compile on the critical path of a cold first token) where
// the 4-slot one costs ~1 s, while prompts of 64-512 tokens run 10-30 % faster with 8 slots
// (docs/BENCHMARKS.md, "Column slots"): short prompts (a first question, a chat turn) take the
// narrow pipeline, longer ones the wide one, compiled at their first use.
// A rule on n_cols alone, so the same call always runs the same arithmetic.
constexpr uint32_t k_matvec_narrow_cols = 4;
constexpr uint32_t k_matvec_wide_min = 32;
uint32_t matvec_group_columns(const vk::Capabilities& caps, uint32_t n_cols);
// Whether matmul() can take MatmulFusion::norm for n_cols columns (the matvec path can).
inline bool matmul_fuses_norm(const vk::Capabilities& caps, uint32_t n_cols) { return matmul_uses_matvec(caps, n_cols); }
// fusion.norm where !matmul_fuses_norm is an internal error: callers normalize first then.
void matmul(Kernels& k, vk::Commands& cmd, const WeightTensor& w, vk::BufferRange x, vk::BufferRange y,
            uint32_t n_cols, const MatmulFusion& fusion = {});

// Variant names (for tests and the benchmark).
// group8: the _tbg form (portable texel variant, weights in groups of 8 rows, an invocation
// owns a group); only for the types has_group8_variant accepts.
std::string matvec_variant_name(quant::Type t, bool subgroup, bool texel = false, bool group8 = false);
bool has_group8_variant(quant::Type t);
std::string matmul_variant_name(quant::Type t);

// For the other files of the matmul family (matvec_q8_1.cpp): the push constants of one chunk's
// dispatch, and the Y floats that (n_cols, M) outputs with `f`'s segments reach (checked).
namespace detail {
shader::MatmulParams matmul_params(const WeightTensor& w, const WeightChunk& c, uint32_t n, uint32_t col0,
                                   const MatmulFusion& f);
uint64_t matmul_y_floats(const WeightTensor& w, uint32_t n_cols, const MatmulFusion& f);
}  // namespace detail

// One row per type: the matvec variant `matvec` uses on this device and why, then the tiled one.
std::vector<VariantChoice> describe_matmul_variants(const vk::Capabilities& caps);

}  // namespace vks::ops
