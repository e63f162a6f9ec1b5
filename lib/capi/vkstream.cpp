// The C API: a thin layer over engine::Model / engine::Session. Every entry point catches every
// exception and turns it into a vks_status plus a per-thread message; nothing escapes to C.
#include "vkstream/vkstream.h"

#include <cerrno>
#include <cstddef>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <new>
#include <string>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "engine/generate.hpp"
#include "engine/model.hpp"
#include "engine/session.hpp"
#include "tokenizer/chat_template.hpp"
#include "vk/instance.hpp"

// A handle is one reference to the model; sessions hold their own (engine::Session keeps a
// shared_ptr), so freeing the handle while sessions live only drops the caller's reference.
struct vks_model {
    std::shared_ptr<vks::engine::Model> model;
};

struct vks_session {
    std::unique_ptr<vks::engine::Session> session;
};

namespace {

thread_local std::string g_last_error;

vks_status to_status(vks::Status s) { return static_cast<vks_status>(static_cast<int>(s)); }

// Records the message for vks_last_error(). Never throws: if even the message cannot be stored
// (out of host memory), the status still goes back and the message is left empty.
vks_status set_error(vks_status st, const char* msg) noexcept {
    try {
        g_last_error = msg;
    } catch (...) {
        g_last_error.clear();
    }
    return st;
}

// printf-style set_error, formatted into a fixed buffer so that argument checks made outside
// guarded() allocate nothing that could throw (messages longer than the buffer are cut).
[[gnu::format(printf, 2, 3)]] vks_status set_errorf(vks_status st, const char* fmt, ...) noexcept {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return set_error(st, buf);
}

template <class F>
vks_status guarded(F&& f) {
    try {
        g_last_error.clear();  // noexcept
        return f();
    } catch (const vks::Error& e) {
        return set_error(to_status(e.status()), e.what());
    } catch (const std::bad_alloc&) {
        return set_error(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    } catch (const std::exception& e) {
        return set_errorf(VKS_ERR_INTERNAL, "internal error: %s", e.what());
    } catch (...) {
        return set_error(VKS_ERR_INTERNAL, "internal error: unknown exception");
    }
}

#define VKS_REQUIRE(cond, ...)                                                \
    do {                                                                      \
        if (!(cond)) return set_errorf(VKS_ERR_INVALID_ARGUMENT, __VA_ARGS__); \
    } while (0)

vks_status write_out(const std::string& s, char* buf, size_t capacity, size_t* n_bytes) {
    *n_bytes = s.size();
    if (s.size() > capacity)
        return set_errorf(VKS_ERR_BUFFER_TOO_SMALL, "%zu bytes needed, buffer holds %zu", s.size(), capacity);
    if (!s.empty()) std::memcpy(buf, s.data(), s.size());
    return VKS_OK;
}

void copy_str(char* dst, size_t cap, const std::string& s) {
    size_t n = std::min(cap - 1, s.size());
    std::memcpy(dst, s.data(), n);
    dst[n] = '\0';
}

}  // namespace

extern "C" {

const char* vks_status_string(vks_status status) {
    if (status == VKS_ERR_BUFFER_TOO_SMALL) return "buffer too small";
    int v = static_cast<int>(status);
    if (v < 0 || v > static_cast<int>(vks::Status::internal)) return "unknown status";
    return vks::status_name(static_cast<vks::Status>(v));
}

const char* vks_version(void) { return VKS_VERSION_STRING; }

const char* vks_last_error(void) { return g_last_error.c_str(); }

vks_status vks_device_count(size_t* count) {
    VKS_REQUIRE(count, "count is NULL");
    return guarded([&] {
        vks::vk::Instance inst;
        *count = inst.capabilities().size();
        return VKS_OK;
    });
}

vks_status vks_device_get_info(size_t index, vks_device_info* info) {
    VKS_REQUIRE(info, "info is NULL");
    VKS_REQUIRE(info->struct_size == sizeof(vks_device_info), "info->struct_size is %zu, expected %zu",
                info->struct_size, sizeof(vks_device_info));
    return guarded([&] {
        vks::vk::Instance inst;
        const auto& caps = inst.capabilities();
        if (index >= caps.size())
            return set_errorf(VKS_ERR_INVALID_ARGUMENT, "device %zu of %zu", index, caps.size());
        const auto& c = caps[index];
        copy_str(info->name, sizeof info->name, c.name);
        copy_str(info->type, sizeof info->type, vks::vk::device_type_name(c.type));
        info->api_version = c.api_version;
        info->memory_bytes = 0;
        for (const auto& h : c.heaps)
            if (h.device_local && h.size > info->memory_bytes) info->memory_bytes = h.size;
        info->selected = inst.select_device() == index ? 1 : 0;
        return VKS_OK;
    });
}

vks_model_params vks_model_default_params(void) {
    vks_model_params p;
    std::memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.device_index = -1;
    return p;
}

vks_status vks_model_load(const char* path, const vks_model_params* params, vks_model** model) {
    VKS_REQUIRE(model, "model is NULL");
    *model = nullptr;
    VKS_REQUIRE(path, "path is NULL");
    vks_model_params p = vks_model_default_params();
    if (params) {
        VKS_REQUIRE(params->struct_size == sizeof(vks_model_params), "params->struct_size is %zu, expected %zu",
                    params->struct_size, sizeof(vks_model_params));
        p = *params;
    }
    VKS_REQUIRE(p.device_index >= -1, "device_index %d", int(p.device_index));
    return guarded([&] {
        vks::engine::ModelOptions mo;
        mo.device_index = p.device_index < 0 ? SIZE_MAX : size_t(p.device_index);
        mo.validation = p.validation != 0;
        if (p.progress) {
            vks_progress_fn fn = p.progress;
            void* user = p.progress_user_data;
            mo.progress = [fn, user](float f) { return fn(f, user) == 0; };
        }
        auto h = std::make_unique<vks_model>();
        h->model = vks::engine::Model::load(path, mo);
        *model = h.release();
        return VKS_OK;
    });
}

void vks_model_free(vks_model* model) { delete model; }

vks_status vks_model_get_info(const vks_model* model, vks_model_info* info) {
    VKS_REQUIRE(model && info, "NULL argument");
    VKS_REQUIRE(info->struct_size == sizeof(vks_model_info), "info->struct_size is %zu, expected %zu", info->struct_size,
                sizeof(vks_model_info));
    return guarded([&] {
        const auto& d = model->model->desc();
        copy_str(info->architecture, sizeof info->architecture, vks::model::arch_name(d.arch));
        copy_str(info->name, sizeof info->name, d.name);
        info->n_vocab = d.n_vocab;
        info->n_embd = d.n_embd;
        info->n_layer = d.n_layer;
        info->n_head = d.n_head;
        info->n_head_kv = d.n_head_kv;
        info->head_dim = d.head_dim;
        info->n_ctx_train = d.n_ctx_train;
        info->n_params = model->model->n_params();
        info->weight_bytes = model->model->weight_bytes();
        info->bos = model->model->tokenizer().bos();
        info->eos = model->model->tokenizer().eos();
        return VKS_OK;
    });
}

vks_status vks_tokenize(const vks_model* model, const char* text, ptrdiff_t text_len, int add_special,
                        int parse_special, int32_t* tokens, size_t capacity, size_t* n_tokens) {
    VKS_REQUIRE(model && n_tokens, "NULL argument");
    VKS_REQUIRE(text || text_len == 0, "text is NULL");
    VKS_REQUIRE(tokens || capacity == 0, "tokens is NULL with capacity %zu", capacity);
    VKS_REQUIRE(text_len >= -1, "text_len %td", text_len);
    return guarded([&] {
        size_t len = text_len < 0 ? std::strlen(text) : size_t(text_len);
        std::vector<int32_t> ids = model->model->tokenizer().encode(std::string_view(text ? text : "", len),
                                                                    add_special != 0, parse_special != 0);
        *n_tokens = ids.size();
        if (ids.size() > capacity)
            return set_errorf(VKS_ERR_BUFFER_TOO_SMALL, "%zu tokens, buffer holds %zu", ids.size(), capacity);
        if (!ids.empty()) std::memcpy(tokens, ids.data(), ids.size() * 4);
        return VKS_OK;
    });
}

vks_status vks_detokenize(const vks_model* model, const int32_t* tokens, size_t n_tokens, int render_special, char* buf,
                          size_t capacity, size_t* n_bytes) {
    VKS_REQUIRE(model && n_bytes, "NULL argument");
    VKS_REQUIRE(tokens || n_tokens == 0, "tokens is NULL");
    VKS_REQUIRE(buf || capacity == 0, "buf is NULL with capacity %zu", capacity);
    const uint32_t n_vocab = model->model->desc().n_vocab;
    for (size_t i = 0; i < n_tokens; ++i)
        VKS_REQUIRE(tokens[i] >= 0 && uint32_t(tokens[i]) < n_vocab, "token %zu: id %d is outside [0, %u)", i,
                    int(tokens[i]), n_vocab);
    return guarded([&] {
        std::vector<int32_t> ids(tokens, tokens + n_tokens);
        return write_out(model->model->tokenizer().decode(ids, render_special != 0), buf, capacity, n_bytes);
    });
}

int vks_token_is_end(const vks_model* model, int32_t token) {
    if (!model || token < 0 || uint32_t(token) >= model->model->desc().n_vocab) return 0;
    return model->model->tokenizer().is_eog(token) ? 1 : 0;
}

vks_status vks_chat_render(const vks_model* model, const char* const* roles, const char* const* contents,
                           size_t n_messages, int add_generation_prompt, char* buf, size_t capacity, size_t* n_bytes) {
    VKS_REQUIRE(model && n_bytes, "NULL argument");
    VKS_REQUIRE((roles && contents) || n_messages == 0, "roles/contents is NULL");
    VKS_REQUIRE(buf || capacity == 0, "buf is NULL with capacity %zu", capacity);
    for (size_t i = 0; i < n_messages; ++i) VKS_REQUIRE(roles[i] && contents[i], "message %zu has a NULL field", i);
    return guarded([&] {
        std::vector<vks::tokenizer::ChatMessage> msgs;
        for (size_t i = 0; i < n_messages; ++i) msgs.push_back({roles[i], contents[i]});
        return write_out(vks::tokenizer::render_chat(model->model->chat_format(), msgs, add_generation_prompt != 0),
                         buf, capacity, n_bytes);
    });
}

namespace {
// struct_size of vks_session_params before the cache types were appended (callers built with that
// header send it; the fields after it keep their defaults).
constexpr size_t kSessionParamsSizeV1 = offsetof(vks_session_params, cache_type_k);
// ... and before cache_rotate was appended.
constexpr size_t kSessionParamsSizeV2 = offsetof(vks_session_params, cache_rotate);

vks::quant::Type cache_type_of(int32_t t) {
    switch (t) {
        case VKS_CACHE_F16: return vks::quant::Type::F16;
        case VKS_CACHE_Q8_0: return vks::quant::Type::Q8_0;
        case VKS_CACHE_Q4_0: return vks::quant::Type::Q4_0;
        default: break;
    }
    vks::fail(vks::Status::invalid_argument, "cache type %d is not a vks_cache_type (0 f16, 1 q8_0, 2 q4_0)", int(t));
}
}  // namespace

namespace {
// The layout vks_session_default_params() returned by value before cache_rotate was appended:
// programs built with those headers call the exported symbol with room for this much.
struct SessionParamsV2 {
    size_t struct_size;
    uint32_t n_sink, n_window, n_batch;
    int dense;
    vks_sampler_params sampling;
    int32_t cache_type_k, cache_type_v;
};
static_assert(sizeof(SessionParamsV2) == kSessionParamsSizeV2, "the frozen layout must stay the V2 struct");
static_assert(offsetof(SessionParamsV2, cache_type_k) == kSessionParamsSizeV1, "the frozen layout must stay V2");

void fill_session_defaults(vks_session_params& p) {
    std::memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    vks::engine::SessionConfig c;
    p.n_sink = c.n_sink;
    p.n_window = 0;
    p.n_batch = c.n_batch;
    p.dense = 0;
    p.sampling.temperature = c.sampling.temperature;
    p.sampling.top_k = c.sampling.top_k;
    p.sampling.top_p = c.sampling.top_p;
    p.sampling.min_p = c.sampling.min_p;
    p.sampling.repeat_penalty = c.sampling.repeat_penalty;
    p.sampling.repeat_last_n = c.sampling.repeat_last_n;
    p.sampling.seed = c.sampling.seed;
    p.cache_type_k = VKS_CACHE_F16;
    p.cache_type_v = VKS_CACHE_F16;
    p.cache_rotate = 0;
}

bool known_session_params_size(size_t n) {
    return n == sizeof(vks_session_params) || n == kSessionParamsSizeV1 || n == kSessionParamsSizeV2;
}
}  // namespace

vks_status vks_session_params_init(vks_session_params* params, size_t struct_size) {
    VKS_REQUIRE(params, "params is NULL");
    VKS_REQUIRE(known_session_params_size(struct_size),
                "struct_size is %zu, expected %zu (or %zu or %zu from an older header)", struct_size,
                sizeof(vks_session_params), kSessionParamsSizeV1, kSessionParamsSizeV2);
    vks_session_params p;
    fill_session_defaults(p);
    p.struct_size = struct_size;
    std::memcpy(params, &p, struct_size);  // never past the caller's struct
    return VKS_OK;
}

// Exported for programs built with the headers that declared it as a library function (the
// header now has an inline of the same name over vks_session_params_init): frozen at their layout.
VKS_API SessionParamsV2 vks_session_default_params(void) {
    vks_session_params p;
    fill_session_defaults(p);
    p.struct_size = kSessionParamsSizeV2;
    SessionParamsV2 old;
    std::memcpy(&old, &p, sizeof old);
    return old;
}

vks_status vks_session_create(vks_model* model, const vks_session_params* params, vks_session** session) {
    VKS_REQUIRE(session, "session is NULL");
    *session = nullptr;
    VKS_REQUIRE(model, "model is NULL");
    vks_session_params p;
    fill_session_defaults(p);
    if (params) {
        VKS_REQUIRE(known_session_params_size(params->struct_size),
                    "params->struct_size is %zu, expected %zu (or %zu or %zu from an older header)", params->struct_size,
                    sizeof(vks_session_params), kSessionParamsSizeV1, kSessionParamsSizeV2);
        std::memcpy(&p, params, params->struct_size);  // older callers: the appended fields keep defaults
    }
    VKS_REQUIRE(p.n_batch >= 1 && p.n_batch <= 4096, "n_batch %u outside [1, 4096]", p.n_batch);
    VKS_REQUIRE(p.sampling.repeat_last_n >= 0, "repeat_last_n %d", int(p.sampling.repeat_last_n));
    return guarded([&] {
        vks::engine::SessionConfig c;
        c.n_sink = p.n_sink;
        c.n_window = p.n_window;
        c.n_batch = p.n_batch;
        c.dense = p.dense != 0;
        c.sampling.temperature = p.sampling.temperature;
        c.sampling.top_k = p.sampling.top_k;
        c.sampling.top_p = p.sampling.top_p;
        c.sampling.min_p = p.sampling.min_p;
        c.sampling.repeat_penalty = p.sampling.repeat_penalty;
        c.sampling.repeat_last_n = p.sampling.repeat_last_n;
        c.sampling.seed = p.sampling.seed;
        c.cache_types.k = cache_type_of(p.cache_type_k);
        c.cache_types.v = cache_type_of(p.cache_type_v);
        if (p.cache_rotate != 0 && p.cache_rotate != 1)
            vks::fail(vks::Status::invalid_argument, "cache_rotate is %d, expected 0 or 1", int(p.cache_rotate));
        c.cache_types.hadamard = p.cache_rotate == 1;
        c.cache_types.f16_sinks = c.cache_types.hadamard;  // the calibrated rotation keeps its sinks exact
        auto h = std::make_unique<vks_session>();
        h->session = std::make_unique<vks::engine::Session>(model->model, c);
        *session = h.release();
        return VKS_OK;
    });
}

void vks_session_free(vks_session* session) { delete session; }

vks_status vks_session_feed(vks_session* session, const int32_t* tokens, size_t n_tokens) {
    VKS_REQUIRE(session, "session is NULL");
    VKS_REQUIRE(tokens || n_tokens == 0, "tokens is NULL");
    return guarded([&] {
        session->session->feed({tokens, n_tokens});
        return VKS_OK;
    });
}

vks_status vks_session_logits(const vks_session* session, float* logits, size_t capacity) {
    VKS_REQUIRE(session && logits, "NULL argument");
    auto l = session->session->logits();
    VKS_REQUIRE(capacity >= l.size(), "capacity %zu < n_vocab %zu", capacity, l.size());
    VKS_REQUIRE(session->session->has_logits(), "no logits yet: feed at least one token");
    std::memcpy(logits, l.data(), l.size() * 4);
    return VKS_OK;
}

vks_status vks_session_sample(vks_session* session, int32_t* token) {
    VKS_REQUIRE(session && token, "NULL argument");
    VKS_REQUIRE(session->session->has_logits(), "nothing to sample from: feed at least one token");
    return guarded([&] {
        *token = session->session->sample();
        return VKS_OK;
    });
}

vks_status vks_session_generate(vks_session* session, int64_t max_tokens, vks_token_fn on_token, void* user_data) {
    VKS_REQUIRE(session, "session is NULL");
    VKS_REQUIRE(max_tokens >= -1, "max_tokens %lld", (long long)max_tokens);
    VKS_REQUIRE(session->session->has_logits(), "nothing to continue from: feed a prompt first");
    return guarded([&] {
        // engine::generate: the loop run, chat and serve use (it also flushes the detokenizer:
        // a final call with token -1 carries an unfinished character as U+FFFD).
        vks::engine::GenerateOptions opt;
        opt.max_tokens = max_tokens;
        auto r = vks::engine::generate(*session->session, opt, [&](int32_t t, std::string_view piece) {
            return !on_token || on_token(t, piece.data(), piece.size(), user_data) == 0;
        });
        if (r.finish == vks::engine::FinishReason::cancelled) return set_error(VKS_ERR_CANCELLED, "generation cancelled");
        return VKS_OK;
    });
}

void vks_session_cancel(vks_session* session) {
    if (session) session->session->cancel();
}

vks_status vks_session_get_stats(const vks_session* session, vks_session_stats* stats) {
    VKS_REQUIRE(session && stats, "NULL argument");
    VKS_REQUIRE(stats->struct_size == sizeof(vks_session_stats), "stats->struct_size is %zu, expected %zu",
                stats->struct_size, sizeof(vks_session_stats));
    const auto& s = *session->session;
    stats->n_past = s.n_past();
    stats->n_cached = s.n_cached();
    stats->n_sink = s.config().n_sink;
    stats->n_window = s.config().n_window;
    stats->kv_bytes = s.kv_bytes();
    stats->device_bytes = s.device_bytes();
    stats->prefill_tokens_per_s = s.stats().prefill_tokens_per_s();
    stats->decode_tokens_per_s = s.stats().decode_tokens_per_s();
    stats->n_prefill_tokens = s.stats().n_prefill_tokens;
    stats->n_decode_tokens = s.stats().n_decode_tokens;
    return VKS_OK;
}

vks_status vks_session_save(const vks_session* session, const char* path) {
    VKS_REQUIRE(session && path, "NULL argument");
    return guarded([&] {
        const std::vector<uint8_t> blob = session->session->save_state();
        // Atomic (common/file_io): the file at `path` is the old one or the whole new one.
        vks::write_file_atomic(path, [&](std::FILE* f) { std::fwrite(blob.data(), 1, blob.size(), f); });
        return VKS_OK;
    });
}

vks_status vks_session_load(vks_session* session, const char* path) {
    VKS_REQUIRE(session && path, "NULL argument");
    return guarded([&] {
        std::ifstream f(path, std::ios::binary);
        if (!f) return set_errorf(VKS_ERR_IO, "cannot open '%s'", path);
        std::vector<uint8_t> blob((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        if (f.bad()) return set_errorf(VKS_ERR_IO, "cannot read '%s'", path);
        session->session->load_state(blob);
        return VKS_OK;
    });
}

vks_status vks_session_reset(vks_session* session) {
    VKS_REQUIRE(session, "session is NULL");
    return guarded([&] {
        session->session->reset();
        return VKS_OK;
    });
}

}  // extern "C"
