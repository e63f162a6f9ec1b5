#pragma once
// Helpers of the C API tests: only the public header, no library internals.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "vkstream/vkstream.h"

namespace capi {

// The synthetic model written by make_capi_model (CTest fixture capi_model; the path is
// compiled in because doctest_discover_tests passes only one ENVIRONMENT entry).
inline std::string model_path() { return VKS_CAPI_TEST_MODEL; }

inline vks_model* load() {
    vks_model* m = nullptr;
    vks_model_params mp = vks_model_default_params();
    vks_status st = vks_model_load(model_path().c_str(), &mp, &m);
    REQUIRE_MESSAGE(st == VKS_OK, std::string(vks_last_error()));
    return m;
}

inline vks_session* session(vks_model* m, uint32_t n_sink = 4, uint32_t n_window = 60) {
    vks_session_params sp = vks_session_default_params();
    sp.n_sink = n_sink;
    sp.n_window = n_window;
    sp.sampling.temperature = 0;  // greedy: reproducible across threads and processes
    vks_session* s = nullptr;
    vks_status st = vks_session_create(m, &sp, &s);
    REQUIRE_MESSAGE(st == VKS_OK, std::string(vks_last_error()));
    return s;
}

// Feeds `prompt`, then generates n tokens greedily without stopping at end tokens.
inline std::vector<int32_t> greedy(vks_session* s, const std::vector<int32_t>& prompt, int n) {
    REQUIRE(vks_session_feed(s, prompt.data(), prompt.size()) == VKS_OK);
    std::vector<int32_t> out;
    for (int i = 0; i < n; ++i) {
        int32_t t = -1;
        REQUIRE(vks_session_sample(s, &t) == VKS_OK);
        REQUIRE(vks_session_feed(s, &t, 1) == VKS_OK);
        out.push_back(t);
    }
    return out;
}

// Sets an environment variable for the life of the object (the library reads VKS_LIMITS and
// the test hooks when a model is loaded).
// Sets an environment variable for a scope, then restores its previous value (or absence).
struct ScopedEnv {
    std::string name, old;
    bool had = false;
    ScopedEnv(const char* n, const char* v) : name(n) {
        if (const char* o = std::getenv(n)) old = o, had = true;
        setenv(n, v, 1);
    }
    ~ScopedEnv() {
        if (had) setenv(name.c_str(), old.c_str(), 1);
        else unsetenv(name.c_str());
    }
};

}  // namespace capi
