#include "ops/matmul.hpp"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>

#include "common/error.hpp"
#include "ops/matvec_q8_1.hpp"
#include "shaders/params.h"

namespace vks::ops {

namespace {

using quant::Type;

// How a GGUF block maps to the device layout (see matmul.hpp).
struct Layout {
    uint32_t block_elems;   // elements per GGUF block (1 for float types)
    uint32_t block_bytes;   // GGUF bytes per block
    uint32_t d_pos;         // split types: byte offset of the f16 d inside the block
    bool split;             // d moved to the separate array
    bool is_float;          // rows padded to 32 elements
};

Layout layout_of(Type t) {
    const auto& inf = quant::info(t);
    Layout l{inf.block_size, inf.block_bytes, 0, false, false};
    switch (t) {
        case Type::F32: case Type::F16: case Type::BF16: l.is_float = true; break;
        case Type::Q4_0: case Type::Q5_0: case Type::Q8_0: l.split = true; break;
        case Type::Q6_K: l.split = true, l.d_pos = 208; break;
        default: break;
    }
    return l;
}

const char* type_tag(Type t) {
    switch (t) {
        case Type::F32: return "f32";
        case Type::F16: return "f16";
        case Type::BF16: return "bf16";
        case Type::Q4_0: return "q4_0";
        case Type::Q4_1: return "q4_1";
        case Type::Q5_0: return "q5_0";
        case Type::Q5_1: return "q5_1";
        case Type::Q8_0: return "q8_0";
        case Type::Q4_K: return "q4_k";
        case Type::Q5_K: return "q5_k";
        case Type::Q6_K: return "q6_k";
        default: return nullptr;
    }
}

uint32_t n_sub_of(uint32_t K) { return (K + 31) / 32; }

// Words per row of the row region.
uint32_t row_words_of(Type t, uint32_t K) {
    const Layout l = layout_of(t);
    if (l.is_float) return n_sub_of(K) * (t == Type::F32 ? 32 : 16);
    const uint32_t n_blocks = K / l.block_elems;
    const uint32_t kept = l.split ? l.block_bytes - 2 : l.block_bytes;
    return n_blocks * kept / 4;
}

// Blocks per row in the device layout: GGUF blocks, or 32-element sub-blocks for float types.
uint32_t n_blocks_of(Type t, uint32_t K) {
    const Layout l = layout_of(t);
    return l.is_float ? n_sub_of(K) : K / l.block_elems;
}

// shaders/matmul_load.glsl block_idx: rows in groups of `group` (a power of two), block-major
// inside a group.
uint64_t block_index(uint32_t row, uint32_t blk, uint32_t n_blocks, uint32_t group) {
    return (uint64_t(row / group) * n_blocks + blk) * group + row % group;
}

// Writes rows [r0, r0 + n) into `out` (chunk layout, zero-filled by the caller). src points at
// row 0 of the tensor.
void repack_rows(Type t, const uint8_t* src, uint32_t r0, uint32_t n, uint32_t K, uint32_t row_words,
                 uint32_t d_offset, uint32_t group, std::vector<uint32_t>& out) {
    const Layout l = layout_of(t);
    const size_t src_row = quant::row_bytes(t, K);
    const uint32_t n_blocks = n_blocks_of(t, K);
    const size_t block_out = size_t(row_words / n_blocks) * 4;  // device bytes per block
    uint8_t* dst = reinterpret_cast<uint8_t*>(out.data());
    for (uint32_t r = 0; r < n; ++r) {
        const uint8_t* s = src + size_t(r0 + r) * src_row;
        for (uint32_t b = 0; b < n_blocks; ++b) {
            const uint64_t bi = block_index(r, b, n_blocks, group);
            uint8_t* d = dst + bi * block_out;
            if (l.is_float) {  // a 32-element sub-block; the last may be short (zero padding stays)
                const size_t elem = src_row / K, first = size_t(b) * 32;
                std::memcpy(d, s + first * elem, std::min<size_t>(32, K - first) * elem);
            } else if (!l.split) {
                std::memcpy(d, s + size_t(b) * l.block_bytes, l.block_bytes);
            } else {
                const uint8_t* sb = s + size_t(b) * l.block_bytes;
                std::memcpy(d, l.d_pos == 0 ? sb + 2 : sb, l.block_bytes - 2);
                std::memcpy(dst + size_t(d_offset) * 4 + bi * 2, sb + l.d_pos, 2);
            }
        }
    }
}

// Floats of Y that (n_cols, M) outputs reach, with the fusion's segments (checked for overlap).
bool is_pairs(Epilogue e) { return e == Epilogue::silu_pairs || e == Epilogue::gelu_pairs; }

uint64_t y_floats_needed(const WeightTensor& w, uint32_t n_cols, const MatmulFusion& f) {
    const OutputSegments& s = f.segments;
    const uint64_t n = n_cols;
    if (is_pairs(f.epilogue)) return n * (w.n_rows / 2);
    if (s.seg1 == 0) return n * w.n_rows;
    if (!(s.seg1 < s.seg2 && s.seg2 < w.n_rows))
        fail(Status::invalid_argument, "matmul: output segments need 0 < seg1 < seg2 < M (got %u, %u, M=%u)", s.seg1, s.seg2,
             w.n_rows);
    const uint64_t end0 = n * s.seg1, end1 = s.off1 + n * (s.seg2 - s.seg1), end2 = s.off2 + n * (w.n_rows - s.seg2);
    if (s.off1 < end0 || s.off2 < end1)
        fail(Status::invalid_argument, "matmul: output segments overlap for %u columns (offsets %u, %u)", n_cols, s.off1,
             s.off2);
    return end2;
}

void check_xy(const WeightTensor& w, vk::BufferRange x, vk::BufferRange y, uint32_t n_cols, const MatmulFusion& f) {
    if (n_cols == 0) fail(Status::invalid_argument, "matmul: n_cols must be >= 1");
    if (w.chunks.empty()) fail(Status::invalid_argument, "matmul: weight tensor is empty");
    const uint64_t need_x = uint64_t(n_cols) * w.n_cols * 4, need_y = y_floats_needed(w, n_cols, f) * 4;
    if (x.resolved_size() < need_x)
        fail(Status::invalid_argument, "matmul: X binding holds %llu bytes, (N=%u, K=%u) f32 needs %llu",
             (unsigned long long)x.resolved_size(), n_cols, w.n_cols, (unsigned long long)need_x);
    if (y.resolved_size() < need_y)
        fail(Status::invalid_argument, "matmul: Y binding holds %llu bytes, (N=%u, M=%u) f32 outputs need %llu",
             (unsigned long long)y.resolved_size(), n_cols, w.n_rows, (unsigned long long)need_y);
}

shader::MatmulParams params_for(const WeightTensor& w, const WeightChunk& c, uint32_t n, uint32_t col0,
                                const MatmulFusion& f) {
    shader::MatmulParams p{};
    p.epilogue = uint32_t(f.epilogue);
    p.norm = f.norm ? 1u : 0u;
    p.eps = f.norm_eps;
    p.M = c.n_rows;
    p.K = w.n_cols;
    p.N = n;
    p.n_sub = n_sub_of(w.n_cols);
    p.d_offset = c.d_offset;
    p.group_shift = uint32_t(std::countr_zero(w.group_rows));
    p.y_stride = is_pairs(f.epilogue) ? w.n_rows / 2 : w.n_rows;
    p.y_row0 = c.row_begin;
    p.col0 = col0;
    p.seg1 = f.segments.seg1;
    p.seg2 = f.segments.seg2;
    p.y_off1 = f.segments.off1;
    p.y_off2 = f.segments.off2;
    return p;
}

// CPU devices (lavapipe, SwiftShader) run the portable one-row-per-invocation matvec faster
// than the subgroup one: its X loads are uniform (scalar) and it needs no reduction. Measured
// numbers are in docs/BENCHMARKS.md.

bool matvec_uses_subgroup(const vk::Capabilities& caps) {
    return caps.subgroup_reduce() && caps.type != VK_PHYSICAL_DEVICE_TYPE_CPU;
}

// Why the texel (_tb) variants cannot read this X / W, or nullptr when they can. X is bound
// per group of k_matvec_max_cols columns from column col0 on, so each group's offset must be
// texel-aligned and the group must fit one texel view.
const char* texel_blocker(const vk::Capabilities& caps, const WeightTensor& w, vk::BufferRange x, uint32_t n_cols) {
    if (!caps.texel_buffers) return "the device has no uniform texel buffers";
    if (!w.texel) return "the weight was uploaded in chunks that do not fit a texel view";
    if (w.n_cols % 4 != 0) return "K is not a multiple of 4 (X columns are not whole texels)";
    const uint64_t col_bytes = uint64_t(w.n_cols) * 4, align = caps.min_texel_buffer_offset_alignment;
    const uint32_t group = matvec_group_columns(caps, n_cols);
    if (x.offset % align != 0 || (n_cols > group && (col_bytes * group) % align != 0))
        return "X offset is not texel-view aligned";
    if (col_bytes * std::min(n_cols, k_matvec_max_cols) > caps.max_texel_view_bytes())
        return "8 columns of X exceed the texel view limit";
    return nullptr;
}

// Development knob for tuning (docs/BENCHMARKS.md): VKS_MATVEC_TUNE="wg,R" overrides the
// portable variants' workgroup size and rows per invocation. Not a user setting.
bool tune_override(uint32_t& wg, uint32_t& rows) {
    const char* e = std::getenv("VKS_MATVEC_TUNE");
    unsigned a = 0, b = 0;
    if (!e || std::sscanf(e, "%u,%u", &a, &b) != 2 || a == 0 || b == 0) return false;
    wg = a, rows = b;
    return true;
}

}  // namespace

namespace detail {
shader::MatmulParams matmul_params(const WeightTensor& w, const WeightChunk& c, uint32_t n, uint32_t col0,
                                   const MatmulFusion& f) {
    return params_for(w, c, n, col0, f);
}
uint64_t matmul_y_floats(const WeightTensor& w, uint32_t n_cols, const MatmulFusion& f) { return y_floats_needed(w, n_cols, f); }
}  // namespace detail

// On CPU devices shared memory and barriers cost per lane (lavapipe: the tiled kernel ran at
// ~0.3 GFLOP/s vs several GFLOP/s for matvec in groups of 8 columns), so prefill uses matvec.
uint32_t matvec_group_columns(const vk::Capabilities& caps, uint32_t n_cols) {
    if (n_cols <= 1) return 1;
    if (caps.type != VK_PHYSICAL_DEVICE_TYPE_CPU || n_cols >= k_matvec_wide_min) return k_matvec_max_cols;
    return k_matvec_narrow_cols;
}

bool matmul_uses_matvec(const vk::Capabilities& caps, uint32_t n_cols) {
    return n_cols <= k_matvec_max_cols || caps.type == VK_PHYSICAL_DEVICE_TYPE_CPU;
}

uint64_t WeightTensor::device_bytes() const {
    uint64_t s = 0;
    for (const auto& c : chunks) s += c.buffer.size();
    return s;
}

bool matmul_supports(Type t) { return type_tag(t) != nullptr; }

std::string matvec_variant_name(Type t, bool subgroup, bool texel, bool group8) {
    if (!matmul_supports(t)) fail(Status::unsupported, "matvec: no kernel for weight type %s", quant::info(t).name);
    if (group8 && (subgroup || !texel || !has_group8_variant(t)))
        fail(Status::internal, "matvec: no row-group variant for %s%s", quant::info(t).name, subgroup ? " (subgroup)" : "");
    return std::string("matvec_") + type_tag(t) + "_f32" + (subgroup ? "_sg" : "") + (texel ? "_tb" : "") + (group8 ? "g" : "");
}

bool has_group8_variant(Type t) {
    return t == Type::Q4_0 || t == Type::Q4_1 || t == Type::Q5_0 || t == Type::Q5_1 || t == Type::Q8_0;
}

std::string matmul_variant_name(Type t) {
    if (!matmul_supports(t)) fail(Status::unsupported, "matmul: no kernel for weight type %s", quant::info(t).name);
    return std::string("matmul_") + type_tag(t) + "_f32";
}

uint32_t default_row_group(const vk::Capabilities& caps) {
    // CPU devices: each SIMD lane walks its own rows, so 8 rows' blocks side by side make every
    // gather read one contiguous stretch (docs/DESIGN.md, "Weight layout"). GPUs: lanes walk
    // one row's blocks, which plain row-major keeps contiguous.
    return caps.type == VK_PHYSICAL_DEVICE_TYPE_CPU ? 8u : 1u;
}

WeightTensor upload_weight(vk::Device& device, Type type, const void* rows, uint32_t M, uint32_t K,
                           const std::string& name, uint64_t max_chunk_bytes, uint32_t row_group) {
    if (!matmul_supports(type))
        fail(Status::invalid_argument, "upload_weight %s: type %s has no matmul kernel", name.c_str(),
             quant::info(type).name);
    const Layout l = layout_of(type);
    if (M == 0 || K == 0 || K % l.block_elems != 0)
        fail(Status::invalid_argument, "upload_weight %s: shape (%u, %u) invalid for %s (K must be a positive multiple of %u)",
             name.c_str(), M, K, quant::info(type).name, l.block_elems);
    WeightTensor w;
    w.type = type;
    w.n_rows = M;
    w.n_cols = K;
    w.row_words = row_words_of(type, K);
    if (row_group == 0) row_group = default_row_group(device.caps());
    if (row_group > 256 || !std::has_single_bit(row_group))
        fail(Status::invalid_argument, "upload_weight %s: row group %u is not a power of two <= 256", name.c_str(), row_group);
    w.group_rows = row_group;
    const uint64_t d_bytes_per_row = l.split ? uint64_t(K / l.block_elems) * 2 : 0;
    const uint64_t row_bytes = uint64_t(w.row_words) * 4 + d_bytes_per_row;

    const auto& caps = device.caps();
    uint64_t limit = std::min<uint64_t>(caps.max_binding_bytes(), caps.max_memory_allocation ? caps.max_memory_allocation : UINT64_MAX);
    if (max_chunk_bytes) limit = std::min(limit, max_chunk_bytes);
    // The shaders index words with 32-bit uints.
    limit = std::min<uint64_t>(limit, uint64_t(UINT32_MAX) & ~uint64_t(3));
    // Chunks also fit one texel view when a row does (the _tb variants bind a whole chunk as
    // texels): finer chunks where the texel limit is small (65536 texels = 1 MiB minimum).
    const uint64_t texel_limit = caps.max_texel_view_bytes();
    if (texel_limit && row_bytes + 16 <= texel_limit) {
        limit = std::min(limit, texel_limit);
        w.texel = true;
    }
    // -16: room for the d array's rounding and the padding to whole 16-byte texels.
    if (row_bytes + 16 > limit)
        fail(Status::unsupported, "upload_weight %s: one row of %llu bytes exceeds the %llu-byte binding limit",
             name.c_str(), (unsigned long long)row_bytes, (unsigned long long)limit);
    // Chunks hold whole row groups (the last one padded with zero rows): a group must fit.
    const uint64_t fit = (limit - 16) / row_bytes;  // >= 1, checked above
    if (fit < w.group_rows) w.group_rows = uint32_t(std::bit_floor(fit));
    const uint32_t G = w.group_rows;
    const uint32_t rows_per_chunk = (uint64_t(M) + G - 1) / G * G <= fit ? M : uint32_t(std::min<uint64_t>(fit - fit % G, M));

    const uint8_t* src = static_cast<const uint8_t*>(rows);
    std::vector<uint32_t> staging;
    for (uint32_t r0 = 0; r0 < M; r0 += rows_per_chunk) {
        const uint32_t n = std::min(rows_per_chunk, M - r0);
        const uint64_t n_padded = (uint64_t(n) + G - 1) / G * G;  // whole row groups
        const uint64_t row_region = n_padded * w.row_words;
        // Buffers are whole 16-byte texels (zero padding at the end).
        const uint64_t n_words = (row_region + (d_bytes_per_row * n_padded + 3) / 4 + 3) & ~uint64_t(3);
        staging.assign(n_words, 0u);
        WeightChunk c;
        c.row_begin = r0;
        c.n_rows = n;
        c.d_offset = l.split ? uint32_t(row_region) : 0;
        repack_rows(type, src, r0, n, K, w.row_words, c.d_offset, G, staging);
        c.buffer = vk::Buffer(device, n_words * 4, vk::BufferKind::device,
                              w.chunks.empty() && r0 + n == M ? name : name + strfmt("[%u:%u]", r0, r0 + n));
        c.buffer.upload(staging.data(), n_words * 4);
        w.chunks.push_back(std::move(c));
    }
    return w;
}

bool paired_gate_up_supported(const vk::Capabilities& caps, Type type, uint32_t M, uint32_t K) {
    // The _tbg variant must be the one matvec picks for an X bound from offset 0 (texel_blocker):
    // K % 4 == 0 and each group of columns (matvec_group_columns: 4 or 8) texel-aligned.
    const uint64_t group_bytes = uint64_t(K) * 4 * k_matvec_max_cols;
    const uint64_t narrow_bytes = uint64_t(K) * 4 * k_matvec_narrow_cols;
    const uint64_t align = std::max<uint64_t>(caps.min_texel_buffer_offset_alignment, 1);
    return default_row_group(caps) == 8 && caps.texel_buffers && !matvec_uses_subgroup(caps) && has_group8_variant(type) &&
           M % 4 == 0 && K % 4 == 0 && group_bytes % align == 0 && narrow_bytes % align == 0 &&
           group_bytes <= caps.max_texel_view_bytes() && !std::getenv("VKS_MATVEC_TUNE");
}

WeightTensor upload_paired_weight(vk::Device& device, Type type, const void* gate, const void* up, uint32_t M, uint32_t K,
                                  const std::string& name) {
    if (!paired_gate_up_supported(device.caps(), type, M, K))
        fail(Status::unsupported, "upload_paired_weight %s: no paired gate/up kernel for %s (%u x %u) on this device",
             name.c_str(), quant::info(type).name, M, K);
    const size_t rb = quant::row_bytes(type, K);
    std::vector<uint8_t> rows(rb * 2 * M);
    const uint8_t* g = static_cast<const uint8_t*>(gate);
    const uint8_t* u = static_cast<const uint8_t*>(up);
    for (uint32_t i = 0; i < M; i += 4) {  // rows 8(i/4) .. +3: gate i .. i+3; +4 .. +7: up i .. i+3
        std::memcpy(rows.data() + size_t(2 * i) * rb, g + size_t(i) * rb, 4 * rb);
        std::memcpy(rows.data() + size_t(2 * i + 4) * rb, u + size_t(i) * rb, 4 * rb);
    }
    WeightTensor w = upload_weight(device, type, rows.data(), 2 * M, K, name, 0, 8);
    if (w.group_rows != 8 || !w.texel)
        fail(Status::unsupported, "upload_paired_weight %s: the tensor does not fit 8-row groups in texel views", name.c_str());
    w.paired = true;
    return w;
}

void check_fusion(const WeightTensor& w, const MatmulFusion& f) {
    if (uint32_t(f.epilogue) > uint32_t(Epilogue::gelu_pairs)) fail(Status::invalid_argument, "matmul: unknown epilogue");
    const bool pairs = is_pairs(f.epilogue);
    if (pairs && !w.paired)
        fail(Status::invalid_argument, "matmul: the paired gate/up epilogue needs a tensor from upload_paired_weight");
    if (w.paired && !pairs && f.epilogue != Epilogue::store)
        fail(Status::invalid_argument, "matmul: a paired gate/up tensor takes the paired epilogues or a plain store");
    if (pairs && f.segments.seg1 != 0) fail(Status::invalid_argument, "matmul: output segments and paired epilogues do not mix");
    if (f.norm && f.norm->size() < uint64_t(w.n_cols) * 4)
        fail(Status::invalid_argument, "matmul: norm weight '%s' holds %llu bytes, K=%u floats need %llu",
             f.norm->name().c_str(), (unsigned long long)f.norm->size(), w.n_cols, (unsigned long long)w.n_cols * 4);
}

void matvec(Kernels& k, vk::Commands& cmd, const WeightTensor& w, vk::BufferRange x, vk::BufferRange y,
            uint32_t n_cols, MatmulVariant variant, const MatmulFusion& fusion) {
    check_xy(w, x, y, n_cols, fusion);
    check_fusion(w, fusion);
    const auto& caps = k.caps();
    const bool want_sg = variant == MatmulVariant::subgroup || variant == MatmulVariant::subgroup_texel;
    bool sg = want_sg || (variant == MatmulVariant::auto_ && matvec_uses_subgroup(caps));
    if (sg && !caps.subgroup_reduce())
        fail(Status::feature_missing, "matvec: subgroup variant requested but the device has no subgroup arithmetic");
    const char* blocker = texel_blocker(caps, w, x, n_cols);
    const bool want_tb = variant == MatmulVariant::portable_texel || variant == MatmulVariant::subgroup_texel;
    // A device without texel buffers lacks a feature; the other blockers are this call's shapes.
    if (want_tb && blocker)
        fail(caps.texel_buffers ? Status::unsupported : Status::feature_missing, "matvec: texel variant requested but %s",
             blocker);
    const bool tb = want_tb || (variant == MatmulVariant::auto_ && !blocker);
    uint32_t wg = k.wg_size(64);
    // Portable: R rows per invocation share every X load. SSBO variant: R = 16; on lavapipe
    // each SSBO load is a per-lane loop, so loads, not bytes or registers, set the speed
    // (R = 1, 2, 4, 8, 16 and 4 for 8 columns were measured; docs/BENCHMARKS.md).
    // Texel variant: R = 8 (tuned on lavapipe, docs/BENCHMARKS.md).
    uint32_t rows_per_lane = sg ? 1 : tb ? 8 : 16;
    const bool tuned = !sg && tune_override(wg, rows_per_lane);
    // Weights in groups of 8 rows: the portable texel variant lets each invocation own a group
    // (the _tbg shaders, affine types), which fetches each texel of a block once for 8 rows.
    const bool group8 = tb && !sg && w.group_rows == 8 && rows_per_lane == 8 && has_group8_variant(w.type);
    const std::string name = matvec_variant_name(w.type, sg, tb, group8);
    if (is_pairs(fusion.epilogue) && !group8)
        fail(Status::unsupported, "matvec: the paired gate/up epilogue runs only on the row-group texel variant (_tbg), not %s",
             name.c_str());
    // Keep >= 8 workgroups where the matrix allows (CPU devices run one workgroup per thread).
    while (!tuned && !sg && wg > 8 && (w.n_rows + wg * rows_per_lane - 1) / (wg * rows_per_lane) < 8) wg /= 2;
    // The row-group variant uses one workgroup size (8: one SIMD batch on llvmpipe) for every
    // shape: a pipeline per (type, column slots) instead of per shape. On lavapipe each pipeline
    // costs seconds of LLVM compilation at its first dispatch (the slots = 8 Q4_1 variant ~3.6 s
    // of CPU, slots = 4 ~1 s: matvec_group_columns), so this takes the first token from three
    // such compiles to one (docs/BENCHMARKS.md, "First token"); decode speed is unchanged within
    // noise.
    if (group8 && !tuned) wg = 8;
    const uint32_t rows_per_wg = sg ? std::max<uint32_t>(1, wg / std::max<uint32_t>(1, caps.subgroup_size)) : wg * rows_per_lane;
    const uint32_t group = matvec_group_columns(caps, n_cols);
    for (uint32_t col0 = 0; col0 < n_cols; col0 += group) {
        const uint32_t n = std::min(group, n_cols - col0);
        // Column slots are compiled for 1 (decode), the group width and nothing else: every
        // pipeline is a compilation at start-up (seconds each on lavapipe). A short tail runs in
        // the group's slots (the unused ones cost ALU on one dispatch per chunk, not bandwidth).
        const uint32_t slots = n == 1 ? 1 : group;
        const vk::Pipeline& pipe = k.pipeline(name, {wg, rows_per_wg, slots, rows_per_lane});
        // Texel variant: X is bound from column col0 on (the shader indexes it from 0).
        const uint64_t col_bytes = uint64_t(w.n_cols) * 4;
        const vk::BufferRange xb = tb ? vk::BufferRange(*x.buffer, x.offset + col0 * col_bytes, n * col_bytes) : x;
        // Binding 3, the norm weight: X stands in when there is no norm (never read then).
        const vk::BufferRange gb = fusion.norm ? vk::BufferRange(*fusion.norm, 0, col_bytes) : xb;
        for (const auto& c : w.chunks) {
            const auto p = params_for(w, c, n, col0, fusion);
            const Grid g = grid_for((c.n_rows + rows_per_wg - 1) / rows_per_wg, caps);
            cmd.dispatch(pipe, {vk::BufferRange(c.buffer), xb, y, gb}, p, g.x, g.y);
        }
    }
}

void matmul_tiled(Kernels& k, vk::Commands& cmd, const WeightTensor& w, vk::BufferRange x, vk::BufferRange y,
                  uint32_t n_cols, const MatmulFusion& fusion) {
    check_xy(w, x, y, n_cols, fusion);
    check_fusion(w, fusion);
    if (fusion.norm) fail(Status::internal, "matmul_tiled: a fused norm is not supported (normalize X first)");
    if (is_pairs(fusion.epilogue)) fail(Status::unsupported, "matmul_tiled: no paired gate/up epilogue");
    const auto& caps = k.caps();
    uint32_t bm = 64, bn = 64;
    const uint32_t max_wg = std::min(caps.max_workgroup_invocations, caps.max_workgroup_size[0]);
    auto fits = [&](uint32_t m, uint32_t n) { return (m + n) * 33 * 4 <= caps.max_shared_memory && m * n / 16 <= max_wg; };
    if (!fits(bm, bn)) bm = bn = 32;
    if (!fits(bm, bn)) bm = 32, bn = 16;
    if (!fits(bm, bn)) fail(Status::unsupported, "matmul: device shared memory / workgroup size too small for 32 x 16 tiles");
    const uint32_t wg = bm * bn / 16;
    const vk::Pipeline& pipe = k.pipeline(matmul_variant_name(w.type), {bm, bn, wg});
    // Columns per dispatch: keep the grid and the column offset in range (one dispatch usually).
    const uint32_t cols_per_dispatch = 65536;
    for (uint32_t col0 = 0; col0 < n_cols; col0 += cols_per_dispatch) {
        const uint32_t n = std::min(cols_per_dispatch, n_cols - col0);
        for (const auto& c : w.chunks) {
            const auto p = params_for(w, c, n, col0, fusion);
            const uint64_t tiles = uint64_t((c.n_rows + bm - 1) / bm) * ((n + bn - 1) / bn);
            const Grid g = grid_for(tiles, caps);
            cmd.dispatch(pipe, {vk::BufferRange(c.buffer), x, y}, p, g.x, g.y);
        }
    }
}

bool matmul_takes_int_dot(Kernels& k, const WeightTensor& w, uint32_t n_cols, const MatmulFusion& fusion) {
    // Wherever matmul() would take the matvec path (decode; prefill too on CPU devices): the
    // integer matvec walks the columns in groups of 8 like the float one.
    return fusion.xq_scratch && matmul_uses_matvec(k.caps(), n_cols) && matvec_q8_1_supported(k.caps(), w) && !is_pairs(fusion.epilogue) &&
           fusion.xq_scratch->size() >= q8_1_bytes(n_cols, w.n_cols) && choose_int_dot(k, w.type, w.n_rows, w.n_cols);
}

bool matmul_needs_xq(Kernels& k, const WeightTensor& w, uint32_t n_cols, const MatmulFusion& fusion) {
    return matmul_takes_int_dot(k, w, n_cols, fusion) && !matvec_q8_1_quantizes_x(k, n_cols, w.n_cols);
}

void matmul(Kernels& k, vk::Commands& cmd, const WeightTensor& w, vk::BufferRange x, vk::BufferRange y,
            uint32_t n_cols, const MatmulFusion& fusion) {
    if (matmul_takes_int_dot(k, w, n_cols, fusion)) {
        if (!fusion.xq_ready) return matvec_q8_1_from_f32(k, cmd, w, x, fusion.xq_scratch, y, n_cols, fusion);
        MatmulFusion f = fusion;
        f.norm = nullptr;
        matvec_q8_1(k, cmd, w, vk::BufferRange(*fusion.xq_scratch, 0, q8_1_bytes(n_cols, w.n_cols)), y, n_cols, f);
        return;
    }
    if (matmul_uses_matvec(k.caps(), n_cols)) matvec(k, cmd, w, x, y, n_cols, MatmulVariant::auto_, fusion);
    else matmul_tiled(k, cmd, w, x, y, n_cols, fusion);
}

std::vector<VariantChoice> describe_matmul_variants(const vk::Capabilities& caps) {
    std::vector<VariantChoice> out;
    const bool sg = matvec_uses_subgroup(caps);
    const char* why = sg ? "subgroup arithmetic: one row per subgroup, subgroupAdd, no barriers"
                    : caps.subgroup_reduce() ? "CPU device: several rows per invocation (each X load serves all of them, no reduction) measured faster"
                                             : "no subgroup arithmetic: several rows per invocation, no reduction";
    const Type types[] = {Type::F32, Type::F16, Type::BF16, Type::Q4_0, Type::Q4_1, Type::Q5_0,
                          Type::Q5_1, Type::Q8_0, Type::Q4_K, Type::Q5_K, Type::Q6_K};
    const bool tb = caps.texel_buffers;
    const uint32_t group = default_row_group(caps);
    const std::string layout = group > 1 ? strfmt("; weights stored in groups of %u rows (one contiguous gather per block)", group)
                                         : std::string("; weights row-major");
    const std::string why_tb = (tb ? std::string(why) + "; weights and X as uniform texel buffers (texelFetch: vector "
                                                        "gathers on lavapipe, ~10x SSBO loads) when K % 4 == 0"
                                   : std::string(why) + "; storage-buffer loads (no uniform texel buffers)") + layout;
    const bool g8 = tb && !sg && group == 8;
    const std::string why_g8 = why_tb + "; each invocation owns a row group (every weight texel fetched once for 8 rows)";
    for (Type t : types) {
        const bool own = g8 && has_group8_variant(t);
        out.push_back({"matvec", matvec_variant_name(t, sg, tb, own), own ? why_g8 : why_tb});
    }
    const bool big = (64 + 64) * 33 * 4 <= caps.max_shared_memory && caps.max_workgroup_invocations >= 256;
    const bool cpu = matmul_uses_matvec(caps, k_matvec_max_cols + 1);
    for (Type t : types)
        out.push_back({"matmul (> 8 columns)", cpu ? matvec_variant_name(t, sg, tb, g8 && has_group8_variant(t)) : matmul_variant_name(t),
                       cpu ? "CPU device: matvec in groups of 8 columns (shared-memory tiles measured ~10-30x slower)"
                           : big ? "shared-memory tiles 64x64, f32 accumulation"
                                 : "shared-memory tiles 32x32 (limits), f32 accumulation"});
    return out;
}

}  // namespace vks::ops
