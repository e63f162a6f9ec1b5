#pragma once
// Re-quantizes a GGUF model to another tensor type (the engine behind `vkstream quantize`).
//
// What the output keeps: every metadata key in the same order with the same value type and
// value (only general.file_type, when present, is changed to the LLAMA_FTYPE of the target),
// every tensor in the same order with the same name and shape, and the alignment.
// What changes, per tensor:
//   - 1-D tensors (norms, biases) become F32 (copied as-is when already F32);
//   - tensors of 2 or more dimensions become the target type; when the row length (ne[0]) is
//     not a multiple of the target's block size a compatible type is used instead (see
//     choose_tensor_type) and a note says so;
//   - a tensor that already has its output type is copied byte for byte (no second rounding);
//   - integer tensors (I8..I64) and F64 are copied unchanged, with a note;
//   - sources are dequantized to F32 row by row first; a source type lib/quant cannot decode
//     (IQ*, TQ*, MXFP4) fails with Status::unsupported naming the tensor.
// Output tensor data is held in memory until the file is written (about the output size).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gguf/reader.hpp"
#include "gguf/writer.hpp"
#include "quant/quant.hpp"

namespace vks::quant {

// True for the types a model can be re-quantized to: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1,
// Q8_0, Q2_K..Q6_K. (Q8_1 and Q8_K are matmul intermediates, not storage types.)
bool is_requantize_target(Type t);

// The llama.cpp file type id (general.file_type, enum llama_ftype) of a file whose 2-D tensors
// are `t`: ALL_F32 0, MOSTLY_F16 1, Q4_0 2, Q4_1 3, Q8_0 7, Q5_0 8, Q5_1 9, Q2_K 10, Q3_K_S 11,
// Q4_K_S 14, Q5_K_S 16, Q6_K 18, BF16 32. The K-quants map to the "_S" (small) ids because we
// give every 2-D tensor the same type, which is what the small variants mean.
// nullopt when t is not a requantize target.
std::optional<uint32_t> llama_file_type(Type t);

// Output type of one tensor (ggml type id) and why, for a run with target `target`.
struct TensorChoice {
    uint32_t type = 0;  // ggml type id of the output tensor
    bool copy = false;  // output bytes are the input bytes (type unchanged)
    std::string note;   // non-empty when the tensor does not get `target` for a reason worth telling
};
// Fallbacks when ne[0] % block_size(target) != 0, chosen to keep at least the target's bits:
// Q2_K/Q3_K -> Q4_0, Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, then F16 when ne[0] is not a
// multiple of 32 either (and legacy 32-blocks -> F16 directly).
// Throws Status::unsupported for a source type that cannot be decoded (IQ* etc.) and
// invalid_argument when target is not a requantize target.
TensorChoice choose_tensor_type(const gguf::TensorInfo& tensor, Type target);

struct RequantizeProgress {
    size_t n_tensors_done = 0;
    size_t n_tensors = 0;
    uint64_t n_elements_done = 0;  // over all tensors, copied ones included
    uint64_t n_elements = 0;
};

struct RequantizeOptions {
    Type target = Type::Q8_0;
    // Worker threads over row chunks of all tensors; 0 = std::thread::hardware_concurrency().
    int n_threads = 0;
    // Both callbacks run on the calling thread only. on_note gets one line per tensor that does
    // not get the target type (before any work starts); on_progress is called every ~100 ms
    // while working and once at the end with n_elements_done == n_elements.
    std::function<void(const std::string&)> on_note;
    std::function<void(const RequantizeProgress&)> on_progress;
};

struct RequantizeResult {
    struct Tensor {
        std::string name;
        uint32_t src_type = 0;
        uint32_t dst_type = 0;
        uint64_t src_bytes = 0;
        uint64_t dst_bytes = 0;
    };
    std::vector<Tensor> tensors;   // in file order
    std::vector<std::string> notes;  // same lines as on_note
    bool file_type_updated = false;  // general.file_type was present and rewritten
    int64_t old_file_type = -1;      // -1 when general.file_type is absent
    int64_t new_file_type = -1;
    uint64_t out_file_bytes = 0;     // requantize_file only: size of the written file
};

// Fills `out` (which must be empty: no metadata, no tensors) with `in` re-quantized to
// options.target; the caller then writes it. Tensors that are copied are added as views of
// `in`'s bytes, so `in` must stay open until `out` has been written.
RequantizeResult requantize(const gguf::File& in, gguf::Writer& out, const RequantizeOptions& options);

// File to file. Refuses (Status::invalid_argument) when out_path names the input file, by
// path or by identity (same device and inode: hard links, symlinks, "./x" vs "x"). The output
// is written to a temporary in the same folder, synced and renamed over out_path, then
// re-opened with the validating reader before returning.
RequantizeResult requantize_file(const std::string& in_path, const std::string& out_path,
                                 const RequantizeOptions& options);

}  // namespace vks::quant
