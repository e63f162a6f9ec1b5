// vks_session_params across header versions: vks_session_params_init writes no byte past the
// size it is given, refuses sizes no header ever had, and the exported vks_session_default_params
// (for programs built with the headers that declared it) keeps the layout those programs have.
#include <cstddef>
#include <cstring>
#include <dlfcn.h>
#include <string>

#include "capi/capi_fixtures.hpp"

namespace {
// vks_session_params as the headers before cache_rotate laid it out.
struct session_params_v2 {
    size_t struct_size;
    uint32_t n_sink, n_window, n_batch;
    int dense;
    vks_sampler_params sampling;
    int32_t cache_type_k, cache_type_v;
};
}  // namespace

TEST_CASE("C API: vks_session_params_init fills the defaults of every header's struct and writes nothing past it") {
    const size_t v1 = offsetof(vks_session_params, cache_type_k);
    const size_t v2 = offsetof(vks_session_params, cache_rotate);
    vks_session_params full;
    REQUIRE(vks_session_params_init(&full, sizeof full) == VKS_OK);
    CHECK(full.struct_size == sizeof full);
    for (size_t size : {v1, v2, sizeof(vks_session_params)}) {
        CAPTURE(size);
        unsigned char buf[sizeof(vks_session_params) + 32];
        std::memset(buf, 0xAB, sizeof buf);
        auto* p = reinterpret_cast<vks_session_params*>(buf);
        REQUIRE_MESSAGE(vks_session_params_init(p, size) == VKS_OK, std::string(vks_last_error()));
        CHECK(p->struct_size == size);
        CHECK(p->n_sink == 4);
        CHECK(p->n_batch == 256);
        CHECK(p->sampling.top_p == full.sampling.top_p);
        CHECK(p->sampling.temperature == full.sampling.temperature);
        CHECK(std::memcmp(buf + sizeof(size_t), reinterpret_cast<const unsigned char*>(&full) + sizeof(size_t),
                          size - sizeof(size_t)) == 0);  // the same defaults, field for field
        for (size_t i = size; i < sizeof buf; ++i) REQUIRE_MESSAGE(buf[i] == 0xAB, "byte " << i << " written");
        if (size > v1) CHECK(p->cache_type_k == VKS_CACHE_F16);
        if (size > v2) CHECK(p->cache_rotate == 0);
    }
    vks_session_params p;
    std::memset(&p, 0xAB, sizeof p);
    for (size_t bad : {size_t(0), v1 - 4, v2 + 4, sizeof(vks_session_params) + 8}) {
        CAPTURE(bad);
        CHECK(vks_session_params_init(&p, bad) == VKS_ERR_INVALID_ARGUMENT);
        CHECK(std::string(vks_last_error()).find("struct_size") != std::string::npos);
    }
    CHECK(p.struct_size == 0xABABABABABABABABull);  // a refused call wrote nothing
    CHECK(vks_session_params_init(nullptr, sizeof p) == VKS_ERR_INVALID_ARGUMENT);
    // The header's inline default is the init of this header's size.
    const vks_session_params d = vks_session_default_params();
    CHECK(d.struct_size == sizeof(vks_session_params));
    CHECK(d.n_batch == 256);
}

TEST_CASE("C API: the exported vks_session_default_params keeps the layout of the headers that declared it") {
    // What a program built with those headers calls: the library's symbol, by value, with room
    // for the older struct only.
    using old_fn = session_params_v2 (*)();
    void* sym = dlsym(RTLD_DEFAULT, "vks_session_default_params");
    REQUIRE(sym != nullptr);
    auto fn = reinterpret_cast<old_fn>(sym);
    static_assert(sizeof(session_params_v2) == offsetof(vks_session_params, cache_rotate), "the older layout");
    const session_params_v2 old = fn();
    CHECK(old.struct_size == sizeof(session_params_v2));
    CHECK(old.n_sink == 4);
    CHECK(old.n_batch == 256);
    CHECK(old.cache_type_k == VKS_CACHE_F16);
    CHECK(old.cache_type_v == VKS_CACHE_F16);
    // ... and a session created from it works, with the fields it lacks at their defaults.
    vks_model* m = capi::load();
    session_params_v2 sp = old;
    sp.n_window = 60;
    sp.cache_type_k = VKS_CACHE_Q8_0;
    vks_session* s = nullptr;
    REQUIRE_MESSAGE(vks_session_create(m, reinterpret_cast<const vks_session_params*>(&sp), &s) == VKS_OK,
                    std::string(vks_last_error()));
    vks_session_free(s);
    vks_model_free(m);
}
