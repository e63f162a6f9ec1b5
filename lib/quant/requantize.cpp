// Re-quantization of whole GGUF files: per-tensor type choice, metadata copy, and a pool of
// std::threads that converts row chunks of every tensor (dequantize to F32, quantize to the
// output type). See requantize.hpp for the contract.
#include "quant/requantize.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include "common/error.hpp"
#include "gguf/tensor_types.hpp"

namespace vks::quant {

namespace {

constexpr const char* k_file_type_key = "general.file_type";
// Elements per work item: large enough that scheduling is noise, small enough that two
// threads stay balanced on the last big tensor and progress moves smoothly.
constexpr int64_t k_chunk_elements = int64_t(1) << 18;

bool is_passthrough_type(uint32_t id) {
    using gguf::TensorType;
    switch (static_cast<TensorType>(id)) {
        case TensorType::i8:
        case TensorType::i16:
        case TensorType::i32:
        case TensorType::i64:
        case TensorType::f64: return true;
        default: return false;
    }
}

// Type to use when ne[0] does not fit the target's blocks (see choose_tensor_type).
Type fallback_type(Type target, int64_t ne0) {
    const bool fits_32 = ne0 % 32 == 0;
    switch (target) {
        case Type::Q2_K:
        case Type::Q3_K: return fits_32 ? Type::Q4_0 : Type::F16;
        case Type::Q4_K: return fits_32 ? Type::Q5_0 : Type::F16;
        case Type::Q5_K: return fits_32 ? Type::Q5_1 : Type::F16;
        case Type::Q6_K: return fits_32 ? Type::Q8_0 : Type::F16;
        default: return Type::F16;
    }
}

uint32_t id_of(Type t) { return static_cast<uint32_t>(t); }

std::string name_of(uint32_t id) { return gguf::tensor_type_name(id); }

// Re-encodes general.file_type with the new id but the value type the file used.
void add_file_type(gguf::Writer& out, gguf::ValueType vt, uint32_t v) {
    using gguf::ValueType;
    switch (vt) {
        case ValueType::uint8: out.add_uint8(k_file_type_key, uint8_t(v)); return;
        case ValueType::int8: out.add_int8(k_file_type_key, int8_t(v)); return;
        case ValueType::uint16: out.add_uint16(k_file_type_key, uint16_t(v)); return;
        case ValueType::int16: out.add_int16(k_file_type_key, int16_t(v)); return;
        case ValueType::int32: out.add_int32(k_file_type_key, int32_t(v)); return;
        case ValueType::uint64: out.add_uint64(k_file_type_key, v); return;
        case ValueType::int64: out.add_int64(k_file_type_key, v); return;
        default: out.add_uint32(k_file_type_key, v); return;  // the reader only lets integers through
    }
}

// One tensor being converted. out_bytes is the output buffer (dst_row_bytes * n_rows).
struct Conversion {
    const gguf::TensorInfo* info = nullptr;
    Type src = Type::F32;
    Type dst = Type::F32;
    int64_t ne0 = 0;
    int64_t n_rows = 0;
    size_t src_row_bytes = 0;
    size_t dst_row_bytes = 0;
    std::vector<uint8_t> out_bytes;  // (n_rows, dst_row_bytes)
};

struct Job {
    size_t conversion;  // index into conversions
    int64_t row0;
    int64_t n_rows;
};

// Converts every job with n_threads threads (the calling thread is one of them, and the only
// one that calls on_progress). Rethrows the first worker exception after all threads stopped.
void run_jobs(std::vector<Conversion>& conversions, const std::vector<Job>& jobs, int n_threads,
              RequantizeProgress progress, const std::function<void(const RequantizeProgress&)>& on_progress) {
    std::vector<std::atomic<size_t>> chunks_left(conversions.size());
    for (auto& c : chunks_left) c.store(0);
    for (const Job& j : jobs) chunks_left[j.conversion].fetch_add(1);

    std::atomic<size_t> next_job{0};
    std::atomic<uint64_t> elements_done{progress.n_elements_done};
    std::atomic<size_t> tensors_done{progress.n_tensors_done};
    std::atomic<bool> failed{false};
    std::mutex error_mutex;
    std::exception_ptr error;

    auto report = [&] {
        progress.n_elements_done = elements_done.load();
        progress.n_tensors_done = tensors_done.load();
        on_progress(progress);
    };

    auto work = [&](bool is_caller) {
        std::vector<float> scratch;  // (n_rows * ne0) of the current job
        auto last_report = std::chrono::steady_clock::now();
        while (!failed.load(std::memory_order_relaxed)) {
            const size_t j = next_job.fetch_add(1);
            if (j >= jobs.size()) return;
            const Job& job = jobs[j];
            Conversion& c = conversions[job.conversion];
            const int64_t n = job.n_rows * c.ne0;
            try {
                scratch.resize(size_t(n));
                const uint8_t* src = c.info->data + size_t(job.row0) * c.src_row_bytes;
                uint8_t* dst = c.out_bytes.data() + size_t(job.row0) * c.dst_row_bytes;
                // Rows are whole blocks, so consecutive rows form one longer row for the codecs.
                dequantize_row(c.src, src, scratch.data(), n);
                quantize_row(c.dst, scratch.data(), dst, n);
            } catch (...) {
                std::lock_guard<std::mutex> lock(error_mutex);
                if (!error) error = std::current_exception();
                failed.store(true);
                return;
            }
            elements_done.fetch_add(uint64_t(n));
            if (chunks_left[job.conversion].fetch_sub(1) == 1) tensors_done.fetch_add(1);
            if (is_caller && on_progress) {
                const auto now = std::chrono::steady_clock::now();
                if (now - last_report >= std::chrono::milliseconds(100)) {
                    last_report = now;
                    report();
                }
            }
        }
    };

    std::vector<std::thread> threads;
    const int n_workers = std::max(1, std::min<int>(n_threads, int(std::min<size_t>(jobs.size(), 1024))));
    try {
        for (int i = 1; i < n_workers; ++i) threads.emplace_back(work, false);
    } catch (...) {
        failed.store(true);  // could not start a thread: stop the ones that did, then rethrow
        for (auto& t : threads) t.join();
        throw;
    }
    work(true);
    for (auto& t : threads) t.join();
    if (error) std::rethrow_exception(error);
    if (on_progress) report();
}

}  // namespace

bool is_requantize_target(Type t) {
    switch (t) {
        case Type::F32:
        case Type::F16:
        case Type::BF16:
        case Type::Q4_0:
        case Type::Q4_1:
        case Type::Q5_0:
        case Type::Q5_1:
        case Type::Q8_0:
        case Type::Q2_K:
        case Type::Q3_K:
        case Type::Q4_K:
        case Type::Q5_K:
        case Type::Q6_K: return true;
        default: return false;
    }
}

std::optional<uint32_t> llama_file_type(Type t) {
    switch (t) {
        case Type::F32: return 0;
        case Type::F16: return 1;
        case Type::Q4_0: return 2;
        case Type::Q4_1: return 3;
        case Type::Q8_0: return 7;
        case Type::Q5_0: return 8;
        case Type::Q5_1: return 9;
        case Type::Q2_K: return 10;
        case Type::Q3_K: return 11;  // Q3_K_S
        case Type::Q4_K: return 14;  // Q4_K_S
        case Type::Q5_K: return 16;  // Q5_K_S
        case Type::Q6_K: return 18;
        case Type::BF16: return 32;
        default: return std::nullopt;
    }
}

TensorChoice choose_tensor_type(const gguf::TensorInfo& tensor, Type target) {
    if (!is_requantize_target(target))
        fail(Status::invalid_argument, "%s is not a type models can be quantized to", name_of(id_of(target)).c_str());
    const std::string name(tensor.name);
    if (is_passthrough_type(tensor.type))
        return {tensor.type, true,
                strfmt("tensor '%s': %s kept as is (not a float weight)", name.c_str(), name_of(tensor.type).c_str())};
    if (find_type(tensor.type) == nullptr)
        fail(Status::unsupported, "tensor '%s' has type %s, which vkstream cannot dequantize", name.c_str(),
             name_of(tensor.type).c_str());

    TensorChoice choice;
    if (tensor.n_dims <= 1) {
        choice.type = id_of(Type::F32);  // norms and biases: tiny, and precision-sensitive
    } else if (tensor.ne[0] % info(target).block_size == 0) {
        choice.type = id_of(target);
    } else {
        const Type fb = fallback_type(target, tensor.ne[0]);
        choice.type = id_of(fb);
        choice.note = strfmt("tensor '%s': row length %lld is not a multiple of the %s block size %u, using %s",
                             name.c_str(), (long long)tensor.ne[0], name_of(id_of(target)).c_str(),
                             info(target).block_size, name_of(id_of(fb)).c_str());
    }
    choice.copy = choice.type == tensor.type;
    return choice;
}

RequantizeResult requantize(const gguf::File& in, gguf::Writer& out, const RequantizeOptions& options) {
    if (out.n_tensors() != 0)
        fail(Status::invalid_argument, "requantize: the output writer already holds %zu tensors", out.n_tensors());
    if (!is_requantize_target(options.target))
        fail(Status::invalid_argument, "%s is not a type models can be quantized to (use one of F32, F16, BF16, "
             "Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K)", name_of(id_of(options.target)).c_str());
    RequantizeResult result;

    // Plan every tensor first, so an unsupported type fails before any note or work.
    const auto& tensors = in.tensors();
    std::vector<TensorChoice> choices;
    choices.reserve(tensors.size());
    for (const gguf::TensorInfo& t : tensors) choices.push_back(choose_tensor_type(t, options.target));
    for (const TensorChoice& c : choices) {
        if (c.note.empty()) continue;
        result.notes.push_back(c.note);
        if (options.on_note) options.on_note(c.note);
    }

    // Metadata: same order, same types; the alignment key (if any) is copied in place.
    out.set_alignment(in.alignment(), /*write_key=*/false);
    const uint32_t new_ftype = *llama_file_type(options.target);
    for (const gguf::KeyValue& kv : in.metadata()) {
        if (kv.key == k_file_type_key && kv.value.is_integer()) {
            result.file_type_updated = true;
            result.old_file_type = kv.value.as_i64();
            result.new_file_type = new_ftype;
            add_file_type(out, kv.value.type(), new_ftype);
        } else {
            out.add_value(kv.key, kv.value);
        }
    }

    // Conversions and their row-chunk jobs.
    RequantizeProgress progress;
    progress.n_tensors = tensors.size();
    std::vector<Conversion> conversions;
    std::vector<size_t> conversion_of(tensors.size(), SIZE_MAX);
    std::vector<Job> jobs;
    for (size_t i = 0; i < tensors.size(); ++i) {
        const gguf::TensorInfo& t = tensors[i];
        progress.n_elements += uint64_t(t.n_elements());
        RequantizeResult::Tensor r{std::string(t.name), t.type, choices[i].type, t.n_bytes, t.n_bytes};
        if (choices[i].copy || t.n_elements() == 0) {
            progress.n_elements_done += uint64_t(t.n_elements());
            ++progress.n_tensors_done;
            result.tensors.push_back(std::move(r));
            continue;
        }
        Conversion c;
        c.info = &t;
        c.src = static_cast<Type>(t.type);
        c.dst = static_cast<Type>(choices[i].type);
        c.ne0 = t.ne[0];
        c.n_rows = t.n_elements() / t.ne[0];
        c.src_row_bytes = row_bytes(c.src, c.ne0);
        c.dst_row_bytes = row_bytes(c.dst, c.ne0);
        c.out_bytes.resize(c.dst_row_bytes * size_t(c.n_rows));
        r.dst_bytes = c.out_bytes.size();
        result.tensors.push_back(std::move(r));

        const int64_t rows_per_job = std::max<int64_t>(1, k_chunk_elements / c.ne0);
        for (int64_t row = 0; row < c.n_rows; row += rows_per_job)
            jobs.push_back({conversions.size(), row, std::min(rows_per_job, c.n_rows - row)});
        conversion_of[i] = conversions.size();
        conversions.push_back(std::move(c));
    }

    int n_threads = options.n_threads > 0 ? options.n_threads : int(std::thread::hardware_concurrency());
    run_jobs(conversions, jobs, std::max(1, n_threads), progress, options.on_progress);

    // Tensors in file order; converted ones hand their buffers to the writer.
    for (size_t i = 0; i < tensors.size(); ++i) {
        const gguf::TensorInfo& t = tensors[i];
        std::vector<int64_t> ne(t.ne, t.ne + t.n_dims);
        if (conversion_of[i] == SIZE_MAX)
            out.add_tensor_view(t.name, choices[i].type, std::move(ne), t.bytes());
        else
            out.add_tensor(t.name, choices[i].type, std::move(ne), std::move(conversions[conversion_of[i]].out_bytes));
    }
    return result;
}

RequantizeResult requantize_file(const std::string& in_path, const std::string& out_path,
                                 const RequantizeOptions& options) {
    if (in_path == out_path)
        fail(Status::invalid_argument, "output '%s' is the input file; write to a different path", out_path.c_str());
    struct stat in_st{}, out_st{};
    if (::stat(in_path.c_str(), &in_st) == 0 && ::stat(out_path.c_str(), &out_st) == 0 &&
        in_st.st_dev == out_st.st_dev && in_st.st_ino == out_st.st_ino)
        fail(Status::invalid_argument, "output '%s' is the same file as input '%s'; write to a different path",
             out_path.c_str(), in_path.c_str());

    const gguf::File in = gguf::File::open(in_path);
    gguf::Writer out(in.version());
    RequantizeResult result = requantize(in, out, options);
    out.write_file(out_path);  // temporary + fsync + rename

    // Re-read what we wrote: the reader validates every offset and size.
    const gguf::File check = gguf::File::open(out_path);
    if (check.tensors().size() != result.tensors.size() || check.metadata().size() != in.metadata().size())
        fail(Status::internal, "re-reading '%s' found %zu tensors and %zu keys, expected %zu and %zu",
             out_path.c_str(), check.tensors().size(), check.metadata().size(), result.tensors.size(),
             in.metadata().size());
    result.out_file_bytes = check.bytes().size();
    return result;
}

}  // namespace vks::quant
