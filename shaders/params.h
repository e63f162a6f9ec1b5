// Push-constant blocks shared by C++ (lib/ops) and GLSL (shaders/*.comp): one definition, so
// the two sides cannot drift. Only 32-bit scalars, so std430 and C layouts agree.
#ifndef VKS_SHADERS_PARAMS_H
#define VKS_SHADERS_PARAMS_H

// The cache/RoPE contract (visibility rule), compiled by both sides.
#include "../lib/kv/contract.h"

#ifdef __cplusplus
#include <cstdint>
namespace vks::shader {
using uint = uint32_t;
#endif

// elementwise.comp: out[i] = a[i] OP b[i % n_b] for i in [0, n)
struct BinaryParams {
    uint n;    // elements in a and out
    uint n_b;  // elements in b (== n, or a row length that b broadcasts over)
};

// glu.comp: out[i] = act(gate[i]) * up[i]
struct GluParams {
    uint n;
};

// rms_norm.comp: one workgroup per row of n_cols; out = x / sqrt(mean(x^2) + eps) * w, or with
// accumulate != 0 out += that (Gemma 3's post-attention / post-FFN norm and its residual add).
struct RmsNormParams {
    uint n_cols;
    uint n_rows;
    float eps;
    uint has_weight;
    uint accumulate;
    uint n_rows_a;    // rms_norm_pair: rows of the first range (0: one range of n_rows rows)
    uint b_offset;    // rms_norm_pair: first element of the second range, weighted by w2
};

// softmax.comp: one workgroup per row, in place or out of place
struct SoftmaxParams {
    uint n_cols;
    uint n_rows;
    float scale;  // logits are multiplied by scale before the softmax
};


// ---- matmul family (matvec.comp, matmul.comp; host side lib/ops/matmul.cpp) -------------
// One dispatch covers one chunk of weight rows (a binding of its own) and N columns of X/Y.
struct MatmulParams {
    uint M;          // weight rows in this chunk
    uint K;          // elements per row (= per column of X)
    uint N;          // columns of X / Y in this dispatch
    uint n_sub;      // 32-element sub-blocks per row: ceil(K / 32)
    uint d_offset;   // word offset of the chunk's f16 d array (Q4_0, Q5_0, Q8_0, Q6_K), else 0
    uint group_shift;// rows are stored in groups of 2^group_shift (WeightTensor::group_rows)
    uint y_stride;   // floats per column of Y (rows of the whole tensor)
    uint y_row0;     // Y row of the chunk's first row
    uint col0;       // first X / Y column of this dispatch
    uint epilogue;   // MATMUL_EPI_*: how the result is written to Y
    uint norm;       // matvec only: 1 = RMS-normalize each X column first, x * g / rms(x) (binding 3)
    float eps;       // the norm's epsilon
    // Output segments (a fused q/k/v projection): rows [0, seg1) of the whole tensor are written
    // as an (N, seg1) matrix at Y[0], rows [seg1, seg2) as an (N, seg2 - seg1) matrix at Y[y_off1],
    // rows [seg2, y_stride) as an (N, y_stride - seg2) matrix at Y[y_off2]. seg1 == 0: one
    // (N, y_stride) matrix, the plain layout.
    uint seg1;
    uint seg2;
    uint y_off1;
    uint y_off2;
};

// MatmulParams::epilogue. Every Y element is read and written by one invocation only.
#define MATMUL_EPI_STORE 0u     // y = r
#define MATMUL_EPI_ADD 1u       // y = y + r            (a residual add)
#define MATMUL_EPI_SILU_GLU 2u  // y = silu(y) * r      (Y holds the gate; r is the up projection)
#define MATMUL_EPI_GELU_GLU 3u  // y = gelu(y) * r
// Paired gate/up weights (matvec GROUP8 only): in each 8-row group rows 0-3 are gate rows and
// rows 4-7 the matching up rows; Y is (N, M / 2) with y = act(gate) * up (y_stride = M / 2).
#define MATMUL_EPI_SILU_PAIRS 4u
#define MATMUL_EPI_GELU_PAIRS 5u

// quantize_q8_1.comp: X (N, K) f32 -> Q8_1 blocks (lib/ref/quantize_q8_1.hpp has the layout)
struct QuantizeQ8_1Params {
    uint K;          // elements per column, a multiple of 32
    uint N;          // columns
    uint norm;       // 1 = RMS-normalize each column with weight g (binding 2) first
    float eps;
};

// copy.comp: dst[i] = src[i], i < n_words (bandwidth yardstick for the benchmarks)
struct CopyParams {
    uint n_words;
};

// fma_peak.comp: per invocation, 8 vec4 FMA chains of n_iter steps (arithmetic yardstick)
struct FmaPeakParams {
    uint n_invocations;
    uint n_iter;
};

// ---- attention / kv cache (attention.comp, attention_combine.comp, kv_store.comp) -----------
// Per-step values live in a small storage buffer ("step params", lib/kv/cache.hpp), NOT in push
// constants, so a recorded decode command buffer is replayed as the stream index advances: the
// host rewrites the record before each submit. One record per chunk recorded in a command buffer.
// The record is the 32-bit chunk form of kv::chunk_params(t0) (lib/kv/sink_view.hpp) for one
// group of layers with the same cache shape (kv::Cache::step_record picks the record).
struct AttnStep {
    uint t0_clamped;  // min(t0, capacity)
    uint t0_ring;     // (t0 - n_sink) mod n_window when t0 >= n_sink, else 0
    uint pad0;
    uint pad1;
};

// Word offsets of the quantized regions of one layer's K and V buffers (kv::RowLayout; 0 for f16):
// scales, f16 sink rows, and how many rows (n_sink * n_head_kv) are kept in f16 (0: none).
struct KvLayout {
    uint k_scale_off;
    uint v_scale_off;
    uint k_sink_off;
    uint v_sink_off;
    uint sink_rows;
};

// attention.comp (one invocation per (query i, head h, split s), s fastest) and attention_sg.comp
// (one workgroup per (query i, block of heads, split s)).
struct AttnParams {
    uint n_tokens;    // queries in the chunk (1 for decode)
    uint n_head;
    uint n_head_kv;
    uint n_sink;
    uint n_window;
    uint n_splits;    // splits of each query's visible range; 1 = write the output directly
    uint step_index;  // record of the step-params buffer
    uint n_rot;       // rotated dims (even; multiple of 4 for neox)
    float scale;      // score scale (1/sqrt(head_dim) by default)
    uint has_sinks;   // learned per-head sink logits bound at binding 7
    uint store_new;   // 1 (decode, n_tokens == 1): also store the token's K/V in its ring slot
                      // through bindings 10 and 11 (the ring again, writable), as kv_store would
                      // (f16 caches only: a quantized cache stores with kv_quant.comp)
    KvLayout kv;      // the ring's quantized regions (variants with K_Q* / V_Q* defines)
};

// attention_combine.comp: one workgroup per (query i, head h): merges n_splits partials.
struct AttnCombineParams {
    uint n_rows;      // n_tokens * n_head
    uint n_head;
    uint n_splits;
    uint has_sinks;
};

// kv_store.comp: one invocation per (token i, kv head, word of 2 halves).
struct KvStoreParams {
    uint n_tokens;
    uint row_words;   // n_head_kv * head_dim / 2: words of one token's K (or V)
    uint n_sink;
    uint n_window;
    uint step_index;
    uint n_words;     // n_tokens * n_head_kv * head_dim / 2
};

// kv_quant.comp: one invocation per (token i, kv head, pair of 32-element blocks) of a chunk's
// fresh K/V, for a cache with a quantized K or V (types by -D, as in kv_quant.glsl).
struct KvQuantParams {
    uint n_tokens;
    uint n_head_kv;
    uint head_dim;
    uint n_sink;
    uint n_window;
    uint step_index;
    uint round;       // 1: write every fresh row back as the cache will return it (k_new / v_new)
    uint store;       // 1: store the chunk's surviving rows into their ring slots
    uint n_items;     // n_tokens * n_head_kv * pairs per row (HADAMARD: n_tokens * n_head_kv)
    uint rotated;     // HADAMARD: 1 when k_new / v_new already hold rotated rows (an earlier round)
    KvLayout kv;
};

#ifdef __cplusplus
}  // namespace vks::shader
#endif
#endif
