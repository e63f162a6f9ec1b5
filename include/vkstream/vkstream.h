/*
 * vkstream.h — the one public header of vkstream (C99, no C++).
 *
 * vkstream runs GGUF language models on any Vulkan device and streams for ever in constant
 * memory: the first n_sink tokens' keys and values stay cached for good (attention sinks), the
 * rest live in a rolling window of n_window slots, and positions are assigned inside the cache.
 *
 * Usage:
 *
 *     vks_model* model = NULL;
 *     vks_model_params mp = vks_model_default_params();
 *     if (vks_model_load("SmolLM2-135M-Instruct.Q4_1.gguf", &mp, &model) != VKS_OK) {
 *         fprintf(stderr, "%s\n", vks_last_error());
 *         return 1;
 *     }
 *     vks_session* s = NULL;
 *     vks_session_params sp = vks_session_default_params();   // 4 sinks, window = context - 4
 *     vks_session_create(model, &sp, &s);
 *
 *     int32_t ids[512]; size_t n = 0;
 *     vks_tokenize(model, "Once upon a time", -1, 1, 0, ids, 512, &n);
 *     vks_session_feed(s, ids, n);                           // prefill
 *     vks_session_generate(s, 100, on_token, NULL);          // streams pieces to on_token
 *
 *     vks_session_free(s);
 *     vks_model_free(model);
 *
 * Errors: every function that can fail returns a vks_status; VKS_OK is 0. The message for the
 * last failure on the calling thread is vks_last_error(). No function calls exit() or abort(),
 * and a failed call leaves its objects usable. Arguments are checked before any work, so a
 * rejected call changes nothing. A feed stopped part-way (cancelled between chunks) keeps the
 * chunks it completed: vks_session_get_stats() tells how far the stream got. After
 * VKS_ERR_DEVICE_LOST, free the session (and model) and create new ones.
 *
 * Threading: vks_model and vks_session objects may be used from any thread, but one session
 * must not be used by two threads at once (calls on *different* sessions, even of the same
 * model, may run concurrently). vks_session_cancel() is the exception: it may be called from
 * any thread at any time. vks_last_error() is per thread.
 *
 * Lifetime: a session holds a reference to its model. vks_model_free() on a model that still
 * has sessions only drops the caller's reference; the model is destroyed with its last session.
 *
 * Params structs start with struct_size: get them from vks_*_default_params() and change the
 * fields you need. A struct_size the library does not know is rejected (VKS_ERR_INVALID_ARGUMENT).
 */
#ifndef VKSTREAM_H
#define VKSTREAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define VKS_API __declspec(dllimport)
#elif defined(__GNUC__)
#define VKS_API __attribute__((visibility("default")))
#else
#define VKS_API
#endif

#define VKS_VERSION_MAJOR 0
#define VKS_VERSION_MINOR 1
#define VKS_VERSION_PATCH 0

/** Status codes. Stable: values are never renumbered. */
typedef enum vks_status {
    VKS_OK = 0,                        /**< success */
    VKS_ERR_INVALID_ARGUMENT = 1,      /**< a NULL, size, range, token id or struct_size the call does not accept */
    VKS_ERR_IO = 2,                    /**< a file could not be opened, read or written */
    VKS_ERR_BAD_FORMAT = 3,            /**< a file is malformed: GGUF, session state */
    VKS_ERR_UNSUPPORTED = 4,           /**< valid input vkstream does not support: architecture, tensor type, RoPE scaling */
    VKS_ERR_OUT_OF_HOST_MEMORY = 5,    /**< host allocation failed */
    VKS_ERR_OUT_OF_DEVICE_MEMORY = 6,  /**< device allocation failed or the device memory limit was reached */
    VKS_ERR_DEVICE_LOST = 7,           /**< the Vulkan device was lost: free the session and create a new one */
    VKS_ERR_VULKAN = 8,                /**< another Vulkan error (the message names the call) */
    VKS_ERR_FEATURE_MISSING = 9,       /**< no Vulkan device, or the device lacks a feature this needs */
    VKS_ERR_CANCELLED = 10,            /**< a callback or vks_session_cancel() stopped the call */
    VKS_ERR_CONTEXT_FULL = 11,         /**< a session without eviction (n_window = 0 policy "dense") is full */
    VKS_ERR_INTERNAL = 12,             /**< a bug in vkstream; please report the message */
    VKS_ERR_BUFFER_TOO_SMALL = 13      /**< the caller's buffer is too small; the size needed was written */
} vks_status;

/** Short English name of a status ("ok", "invalid argument", ...). Never NULL. */
VKS_API const char* vks_status_string(vks_status status);

/** Library version as "MAJOR.MINOR.PATCH". */
VKS_API const char* vks_version(void);

/** Message of the last failed call on this thread ("" if none). Valid until the next call. */
VKS_API const char* vks_last_error(void);

/* ---- devices -------------------------------------------------------------------------- */

typedef struct vks_device_info {
    size_t struct_size;      /**< set to sizeof(vks_device_info) before the call */
    char name[256];          /**< device name */
    char type[16];           /**< "discrete", "integrated", "virtual", "cpu", "other" */
    uint32_t api_version;    /**< VK_MAKE_API_VERSION encoding */
    uint64_t memory_bytes;   /**< largest device-local heap */
    int selected;            /**< 1 for the device vks_model_load() picks by default */
} vks_device_info;

/** Number of Vulkan devices. */
VKS_API vks_status vks_device_count(size_t* count);
/** Information about device `index` (0 .. count-1). info->struct_size must be set. */
VKS_API vks_status vks_device_get_info(size_t index, vks_device_info* info);

/* ---- models --------------------------------------------------------------------------- */

typedef struct vks_model vks_model;

/** Progress of a model load: fraction in [0, 1]. Return non-zero to cancel the load. */
typedef int (*vks_progress_fn)(float fraction, void* user_data);

typedef struct vks_model_params {
    size_t struct_size;
    int32_t device_index;      /**< -1: automatic (VKS_DEVICE, else discrete > integrated > virtual > cpu) */
    vks_progress_fn progress;  /**< optional; called during weight upload */
    void* progress_user_data;
    int validation;            /**< 1: enable the Vulkan validation layer (debugging) */
} vks_model_params;

VKS_API vks_model_params vks_model_default_params(void);

/** Loads a GGUF model and uploads its weights to the device. On failure *model is NULL. */
VKS_API vks_status vks_model_load(const char* path, const vks_model_params* params, vks_model** model);
/** Drops the caller's reference (see Lifetime above). NULL is ignored. */
VKS_API void vks_model_free(vks_model* model);

typedef struct vks_model_info {
    size_t struct_size;
    char architecture[32];     /**< "llama", "qwen2", ... */
    char name[128];            /**< general.name, or "" */
    uint32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, head_dim;
    uint32_t n_ctx_train;      /**< trained context length */
    uint64_t n_params;
    uint64_t weight_bytes;     /**< bytes of weights on the device */
    int32_t bos, eos;          /**< -1 if none */
} vks_model_info;

VKS_API vks_status vks_model_get_info(const vks_model* model, vks_model_info* info);

/* ---- tokens --------------------------------------------------------------------------- */

/**
 * Tokenizes `text` (`text_len` bytes, or -1 for NUL-terminated) into `tokens`.
 * add_special: prepend BOS (and append EOS) as the model's metadata asks.
 * parse_special: recognise control tokens written in the text (e.g. "<|im_start|>").
 * Writes the number of tokens to *n_tokens; if it exceeds `capacity`, nothing is written to
 * `tokens` and VKS_ERR_BUFFER_TOO_SMALL is returned with *n_tokens set to the size needed.
 */
VKS_API vks_status vks_tokenize(const vks_model* model, const char* text, ptrdiff_t text_len, int add_special,
                                int parse_special, int32_t* tokens, size_t capacity, size_t* n_tokens);

/**
 * Writes the UTF-8 text of `tokens` into `buf` (not NUL-terminated) and its length to *n_bytes.
 * Control tokens are rendered only if render_special. If the text exceeds `capacity`,
 * returns VKS_ERR_BUFFER_TOO_SMALL with *n_bytes set to the size needed. A token id outside
 * [0, n_vocab) is VKS_ERR_INVALID_ARGUMENT.
 */
VKS_API vks_status vks_detokenize(const vks_model* model, const int32_t* tokens, size_t n_tokens, int render_special,
                                  char* buf, size_t capacity, size_t* n_bytes);

/** 1 if `token` ends a generation turn (EOS, <|im_end|>, <|eot_id|>, ...), else 0. */
VKS_API int vks_token_is_end(const vks_model* model, int32_t token);

/**
 * Renders a chat with the model's chat template (ChatML, Llama 2, Llama 3 and Gemma styles;
 * others fall back to ChatML). roles[i] is "system", "user" or "assistant". Output as for
 * vks_detokenize (VKS_ERR_BUFFER_TOO_SMALL with the size needed).
 */
VKS_API vks_status vks_chat_render(const vks_model* model, const char* const* roles, const char* const* contents,
                                   size_t n_messages, int add_generation_prompt, char* buf, size_t capacity,
                                   size_t* n_bytes);

/* ---- sessions ------------------------------------------------------------------------- */

typedef struct vks_session vks_session;

typedef struct vks_sampler_params {
    float temperature;     /**< 0: greedy */
    int32_t top_k;         /**< 0: off */
    float top_p;           /**< 1: off */
    float min_p;           /**< 0: off */
    float repeat_penalty;  /**< 1: off */
    int32_t repeat_last_n; /**< how many recent tokens the penalty looks at */
    uint64_t seed;         /**< same seed, same tokens */
} vks_sampler_params;

/** Element type of the KV cache (vks_session_params.cache_type_k / cache_type_v). Quantized types
 *  use blocks of 32 along the head dimension (head size a multiple of 32). */
typedef enum vks_cache_type {
    VKS_CACHE_F16 = 0,   /**< default: 2 bytes per element */
    VKS_CACHE_Q8_0 = 1,  /**< 8-bit, one f16 scale per 32 elements: about 53% of f16 */
    VKS_CACHE_Q4_0 = 2   /**< 4-bit, one f16 scale per 32 elements: about 28% of f16 */
} vks_cache_type;

typedef struct vks_session_params {
    size_t struct_size;
    uint32_t n_sink;           /**< tokens kept for good at the start of the cache (default 4) */
    uint32_t n_window;         /**< rolling window (default: trained context - n_sink) */
    uint32_t n_batch;          /**< prefill chunk size (default 256) */
    int dense;                 /**< 1: never evict; feeding past n_sink + n_window is VKS_ERR_CONTEXT_FULL */
    vks_sampler_params sampling;
    /* Appended fields: a struct_size that ends before them (a caller built with an older header)
     * is accepted, and they keep their defaults. */
    int32_t cache_type_k;      /**< vks_cache_type of the keys (default VKS_CACHE_F16) */
    int32_t cache_type_v;      /**< vks_cache_type of the values (default VKS_CACHE_F16) */
    /* Appended after the cache types (the same rule: an older struct_size keeps the default). */
    int32_t cache_rotate;      /**< 1: Hadamard-rotate the quantized K/V rows over the head before quantizing,
                                    keys centred and scaled per channel by a calibration run at creation, and
                                    the sink tokens' rows kept in f16 (head size a power of two, at most 256);
                                    0 (default): off */
} vks_session_params;

/**
 * Fills *params with the defaults for a struct of struct_size bytes: sizeof(vks_session_params)
 * of the caller's header, or the size of an older header's struct (then only the fields that
 * struct has are written). Sets params->struct_size. Any other size is VKS_ERR_INVALID_ARGUMENT.
 */
VKS_API vks_status vks_session_params_init(vks_session_params* params, size_t struct_size);

#ifndef VKS_BUILDING_LIBRARY
/**
 * The defaults of this header's struct. Inline on purpose: the struct's size is compiled into the
 * caller, so a program built with this header keeps working with a later library that appends
 * fields (a by-value return would have the library write its own, larger struct into the
 * caller's smaller one). The library still exports a function of this name, frozen at the layout
 * before cache_rotate, for programs built with the headers that declared it.
 */
static inline vks_session_params vks_session_default_params(void) {
    vks_session_params p;
    vks_session_params_init(&p, sizeof p);
    return p;
}
#endif

/** Creates a session: allocates its whole KV cache now; it never grows afterwards. */
VKS_API vks_status vks_session_create(vks_model* model, const vks_session_params* params, vks_session** session);
VKS_API void vks_session_free(vks_session* session);

/**
 * Feeds tokens (prompt or forced continuation) through the model in chunks of n_batch. After
 * it returns, vks_session_logits() holds the next-token logits. Token ids must be in [0, n_vocab):
 * an id outside it is VKS_ERR_INVALID_ARGUMENT and nothing is fed. vks_session_cancel() stops it
 * between chunks with VKS_ERR_CANCELLED (completed chunks stay fed).
 */
VKS_API vks_status vks_session_feed(vks_session* session, const int32_t* tokens, size_t n_tokens);

/** Copies the current next-token logits (n_vocab floats) into `logits`. */
VKS_API vks_status vks_session_logits(const vks_session* session, float* logits, size_t capacity);

/** Samples the next token from the current logits with the session's sampler. Does not feed it. */
VKS_API vks_status vks_session_sample(vks_session* session, int32_t* token);

/**
 * Called for every generated token with its text piece (UTF-8, only whole characters; may be
 * empty while a character is incomplete). Return 0 to continue, non-zero to stop. If the last
 * token leaves a character unfinished, one more call with token -1 carries it as U+FFFD (the
 * detokenizer's flush; not after a cancellation), so the pieces add up to the whole text.
 */
typedef int (*vks_token_fn)(int32_t token, const char* piece, size_t piece_len, void* user_data);

/**
 * Samples and feeds up to `max_tokens` tokens (-1: no limit, until the callback stops, an end
 * token, or vks_session_cancel()), calling `on_token` for each. Stops after an end-of-turn token
 * (which is fed, and reported). Returns VKS_OK when it stops for max_tokens, an end token or the
 * callback, VKS_ERR_CANCELLED when vks_session_cancel() stopped it.
 */
VKS_API vks_status vks_session_generate(vks_session* session, int64_t max_tokens, vks_token_fn on_token,
                                        void* user_data);

/**
 * Asks a running feed/generate on `session` to stop soon. Safe from any thread. A request made
 * while no call is running stays pending and stops the next feed/generate at its first check
 * (so a cancel that races the start of a call is never lost).
 */
VKS_API void vks_session_cancel(vks_session* session);

typedef struct vks_session_stats {
    size_t struct_size;
    uint64_t n_past;           /**< tokens fed so far in the stream (unbounded) */
    uint32_t n_cached;         /**< tokens currently in the cache (<= n_sink + n_window) */
    uint32_t n_sink, n_window;
    uint64_t kv_bytes;         /**< device bytes of the KV cache (fixed at creation) */
    uint64_t device_bytes;     /**< all device bytes of this session (cache + scratch) */
    double prefill_tokens_per_s;
    double decode_tokens_per_s;
    uint64_t n_prefill_tokens, n_decode_tokens;
} vks_session_stats;

VKS_API vks_status vks_session_get_stats(const vks_session* session, vks_session_stats* stats);

/**
 * Saves the whole session state (cache, stream position, sampler state, recent tokens) to
 * `path`, atomically: the file appears complete or not at all.
 */
VKS_API vks_status vks_session_save(const vks_session* session, const char* path);

/**
 * Restores a state saved by vks_session_save() into `session`, which must use the same model
 * and the same n_sink/n_window and cache types. A truncated or corrupted file is
 * VKS_ERR_BAD_FORMAT, a state of another model, another n_sink/n_window or other cache types
 * (cache_type_k / cache_type_v) is VKS_ERR_INVALID_ARGUMENT, a state of another
 * format version is VKS_ERR_UNSUPPORTED; each leaves the session unchanged. A device failure
 * while the cache is copied in (VKS_ERR_DEVICE_LOST, VKS_ERR_OUT_OF_DEVICE_MEMORY) leaves the
 * session reset to an empty stream.
 */
VKS_API vks_status vks_session_load(vks_session* session, const char* path);

/** Forgets the stream: the cache is emptied and n_past is 0 (no reallocation). */
VKS_API vks_status vks_session_reset(vks_session* session);

#ifdef __cplusplus
}
#endif
#endif /* VKSTREAM_H */
