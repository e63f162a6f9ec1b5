// vks_session_params.cache_type_k / cache_type_v (appended fields): an old-size struct still
// works with f16 defaults, quantized caches run and take less memory, bad types are refused, and
// a saved state only loads into a session with the same cache types.
#include <cstddef>
#include <cstdio>
#include <string>
#include <unistd.h>

#include "capi/capi_fixtures.hpp"

namespace {

// vks_session_params as callers built with the header before the cache types were appended.
struct session_params_v1 {
    size_t struct_size;
    uint32_t n_sink;
    uint32_t n_window;
    uint32_t n_batch;
    int dense;
    vks_sampler_params sampling;
};

vks_session* create(vks_model* m, int32_t k, int32_t v) {
    vks_session_params sp = vks_session_default_params();
    sp.n_sink = 4;
    sp.n_window = 60;
    sp.sampling.temperature = 0;
    sp.cache_type_k = k;
    sp.cache_type_v = v;
    vks_session* s = nullptr;
    const vks_status st = vks_session_create(m, &sp, &s);
    REQUIRE_MESSAGE(st == VKS_OK, std::string(vks_last_error()));
    return s;
}

uint64_t kv_bytes(const vks_session* s) {
    vks_session_stats st = {};
    st.struct_size = sizeof st;
    REQUIRE(vks_session_get_stats(s, &st) == VKS_OK);
    return st.kv_bytes;
}

}  // namespace

TEST_CASE("C API: an old-size vks_session_params still creates a session, with an f16 cache") {
    vks_model* m = capi::load();
    CHECK(vks_session_default_params().cache_type_k == VKS_CACHE_F16);
    CHECK(vks_session_default_params().cache_type_v == VKS_CACHE_F16);
    const vks_session_params d = vks_session_default_params();
    session_params_v1 old;
    old.struct_size = sizeof old;
    old.n_sink = 4;
    old.n_window = 60;
    old.n_batch = d.n_batch;
    old.dense = 0;
    old.sampling = d.sampling;
    old.sampling.temperature = 0;
    vks_session* a = nullptr;
    REQUIRE_MESSAGE(vks_session_create(m, reinterpret_cast<const vks_session_params*>(&old), &a) == VKS_OK,
                    std::string(vks_last_error()));
    vks_session* b = capi::session(m);  // this header's struct, defaults
    const std::vector<int32_t> prompt = {1, 2, 3, 4, 5};
    CHECK(capi::greedy(a, prompt, 12) == capi::greedy(b, prompt, 12));
    CHECK(kv_bytes(a) == kv_bytes(b));
    vks_session_free(a);
    vks_session_free(b);
    vks_model_free(m);
}

TEST_CASE("C API: quantized cache types run, take less memory, and bad types are refused") {
    vks_model* m = capi::load();
    vks_session* f16 = create(m, VKS_CACHE_F16, VKS_CACHE_F16);
    vks_session* q8 = create(m, VKS_CACHE_Q8_0, VKS_CACHE_Q8_0);
    vks_session* q4 = create(m, VKS_CACHE_Q4_0, VKS_CACHE_Q8_0);
    CHECK(kv_bytes(q8) < kv_bytes(f16));
    CHECK(kv_bytes(q4) < kv_bytes(q8));
    const std::vector<int32_t> prompt = {7, 8, 9, 10, 11, 12, 13};
    CHECK(capi::greedy(q8, prompt, 70).size() == 70);  // 77 tokens: past the 64-slot cache
    CHECK(capi::greedy(q4, prompt, 70).size() == 70);

    vks_session_params sp = vks_session_default_params();
    vks_session* s = nullptr;
    sp.cache_type_k = 3;
    CHECK(vks_session_create(m, &sp, &s) == VKS_ERR_INVALID_ARGUMENT);
    CHECK(std::string(vks_last_error()).find("cache type 3") != std::string::npos);
    sp = vks_session_default_params();
    sp.cache_type_v = -1;
    CHECK(vks_session_create(m, &sp, &s) == VKS_ERR_INVALID_ARGUMENT);
    CHECK(s == nullptr);
    vks_session_free(f16);
    vks_session_free(q8);
    vks_session_free(q4);
    vks_model_free(m);
}

TEST_CASE("C API: a state saved with a q8_0 cache loads only into a q8_0 session") {
    vks_model* m = capi::load();
    vks_session* a = create(m, VKS_CACHE_Q8_0, VKS_CACHE_Q8_0);
    capi::greedy(a, {3, 1, 4, 1, 5}, 8);
    const std::string path = "/tmp/vks-capi-kvq-" + std::to_string(getpid()) + ".state";
    REQUIRE(vks_session_save(a, path.c_str()) == VKS_OK);
    const std::vector<int32_t> more = capi::greedy(a, {9}, 8);

    vks_session* f16 = create(m, VKS_CACHE_F16, VKS_CACHE_F16);
    CHECK(vks_session_load(f16, path.c_str()) == VKS_ERR_INVALID_ARGUMENT);
    const std::string msg = vks_last_error();
    CHECK_MESSAGE(msg.find("k q8_0, v q8_0") != std::string::npos, msg);
    vks_session_stats st = {};
    st.struct_size = sizeof st;
    REQUIRE(vks_session_get_stats(f16, &st) == VKS_OK);
    CHECK(st.n_past == 0);  // unchanged

    vks_session* b = create(m, VKS_CACHE_Q8_0, VKS_CACHE_Q8_0);
    REQUIRE(vks_session_load(b, path.c_str()) == VKS_OK);
    CHECK(capi::greedy(b, {9}, 8) == more);
    std::remove(path.c_str());
    vks_session_free(a);
    vks_session_free(b);
    vks_session_free(f16);
    vks_model_free(m);
}

TEST_CASE("C API: cache_rotate (appended after the cache types) rotates a quantized cache, bad values are refused") {
    vks_model* m = capi::load();
    CHECK(vks_session_default_params().cache_rotate == 0);
    vks_session_params sp = vks_session_default_params();
    sp.n_sink = 4;
    sp.n_window = 60;
    sp.sampling.temperature = 0;
    sp.cache_type_k = VKS_CACHE_Q4_0;
    sp.cache_type_v = VKS_CACHE_Q4_0;
    sp.cache_rotate = 1;
    vks_session* rot = nullptr;
    REQUIRE_MESSAGE(vks_session_create(m, &sp, &rot) == VKS_OK, std::string(vks_last_error()));
    // A struct that ends before cache_rotate (the previous header): rotation off by default.
    sp.struct_size = offsetof(vks_session_params, cache_rotate);
    vks_session* plain = nullptr;
    REQUIRE_MESSAGE(vks_session_create(m, &sp, &plain) == VKS_OK, std::string(vks_last_error()));
    const std::vector<int32_t> prompt = {7, 8, 9, 10, 11, 12, 13};
    CHECK(capi::greedy(rot, prompt, 70).size() == 70);  // past the 64-slot cache
    // Same layout, other basis, plus the key transform (n_layer x n_kv x 2 x head_dim floats).
    CHECK(kv_bytes(rot) > kv_bytes(plain));
    CHECK(kv_bytes(rot) - kv_bytes(plain) <= 16384);

    // A state saved rotated does not load into the unrotated session (the flags differ).
    const std::string path = "/tmp/vks-capi-kvrot-" + std::to_string(getpid()) + ".state";
    REQUIRE(vks_session_save(rot, path.c_str()) == VKS_OK);
    CHECK(vks_session_load(plain, path.c_str()) == VKS_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE(std::string(vks_last_error()).find("hadamard") != std::string::npos, vks_last_error());
    std::remove(path.c_str());

    sp = vks_session_default_params();
    sp.cache_rotate = 2;
    vks_session* s = nullptr;
    CHECK(vks_session_create(m, &sp, &s) == VKS_ERR_INVALID_ARGUMENT);
    CHECK(s == nullptr);
    vks_session_free(rot);
    vks_session_free(plain);
    vks_model_free(m);
}
