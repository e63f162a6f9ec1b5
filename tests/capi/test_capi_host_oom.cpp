// Host memory exhaustion through the C API. This test binary replaces the global operator new
// with one that can be told to fail the N-th allocation made on the calling thread; each call
// below is swept over N = 0, 1, 2, ... until it no longer allocates that many times. Every
// attempt must return VKS_OK or VKS_ERR_OUT_OF_HOST_MEMORY with a message (never crash or
// terminate), and the same model and session must give the normal result afterwards.
// Only calls that build no pipelines are swept: pipeline compilation runs in the driver's
// compiler, whose own allocations are not vkstream's to handle.
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "capi_fixtures.hpp"

// operator delete below frees what this file's operator new got from malloc; GCC cannot see
// that pairing through the replacement and warns.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
std::atomic<long> g_allocations{0};  // every operator new in the process, any thread
thread_local long g_countdown = -1;  // allocations still let through before one fails; < 0: off
thread_local bool g_fired = false;   // the armed failure happened

void arm(long n) {
    g_fired = false;
    g_countdown = n;
}
bool disarm() {
    g_countdown = -1;
    return g_fired;
}
}  // namespace

void* operator new(std::size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (g_countdown >= 0 && g_countdown-- == 0) {
        g_fired = true;
        throw std::bad_alloc();
    }
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
// Every other plain and array form goes through the two above, so that whatever a sanitizer
// runtime would otherwise supply never frees what this file allocated, or the other way round.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return ::operator new(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return ::operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

constexpr long kMaxSweep = 20000;

// Sweeps `call` (returns its status; must be repeatable) over every allocation it makes, then
// checks `same_as_normal` after each failure. Returns how many allocations the call makes.
template <class Call, class Check>
long sweep(const char* what, Call&& call, Check&& same_as_normal) {
    for (long n = 0; n < kMaxSweep; ++n) {
        arm(n);
        const vks_status st = call();
        if (!disarm()) {
            CHECK_MESSAGE(st == VKS_OK, what, ": ", vks_last_error());
            CHECK_MESSAGE(same_as_normal(), what, ": unarmed result differs");
            return n;
        }
        if (st != VKS_ERR_OUT_OF_HOST_MEMORY) {
            FAIL_CHECK(what, ": allocation ", n, " failed but the call returned ", vks_status_string(st), ": ",
                       vks_last_error());
            return n;
        }
        CHECK(std::strstr(vks_last_error(), "out of host memory") != nullptr);
        if (!same_as_normal()) {
            FAIL_CHECK(what, ": after allocation ", n, " failed, the next normal call gives another result");
            return n;
        }
    }
    FAIL_CHECK(what, ": still allocating after ", kMaxSweep, " allocations");
    return kMaxSweep;
}

}  // namespace

TEST_CASE("C API: a failed host allocation is VKS_ERR_OUT_OF_HOST_MEMORY at every point of tokenize, detokenize and chat_render") {
    vks_model* m = capi::load();
    const char* text = "Hello, world: caf\xc3\xa9 \xe2\x82\xac 12345 <tag>\n\n  spaces";
    std::vector<int32_t> ids(512);
    size_t n_ids = 0;
    auto tokenize = [&] { return vks_tokenize(m, text, -1, 1, 0, ids.data(), ids.size(), &n_ids); };
    REQUIRE(tokenize() == VKS_OK);
    const std::vector<int32_t> want(ids.begin(), ids.begin() + n_ids);
    auto tokens_same = [&] { return tokenize() == VKS_OK && std::vector<int32_t>(ids.begin(), ids.begin() + n_ids) == want; };
    const long n_tok = sweep("vks_tokenize", tokenize, tokens_same);
    MESSAGE("vks_tokenize: ", n_tok, " allocations swept");
    CHECK(n_tok > 0);  // the sweep reached the library's allocations

    std::vector<char> buf(4096);
    size_t n_bytes = 0;
    auto detok = [&] { return vks_detokenize(m, want.data(), want.size(), 0, buf.data(), buf.size(), &n_bytes); };
    REQUIRE(detok() == VKS_OK);
    const std::string text_back(buf.data(), n_bytes);
    auto detok_same = [&] { return detok() == VKS_OK && std::string(buf.data(), n_bytes) == text_back; };
    CHECK(sweep("vks_detokenize", detok, detok_same) > 0);

    const char* roles[] = {"system", "user", "assistant", "user"};
    const char* contents[] = {"Be brief.", "Hi there", "Hello!", "What is 2 + 2?"};
    auto render = [&] { return vks_chat_render(m, roles, contents, 4, 1, buf.data(), buf.size(), &n_bytes); };
    REQUIRE(render() == VKS_OK);
    const std::string chat(buf.data(), n_bytes);
    auto render_same = [&] { return render() == VKS_OK && std::string(buf.data(), n_bytes) == chat; };
    CHECK(sweep("vks_chat_render", render, render_same) > 0);
    vks_model_free(m);
}

TEST_CASE("C API: after warm-up, reset, feed and sample allocate no host memory at all") {
    // The steady state of a stream (decode steps, resets) cannot run out of host memory: it
    // allocates nothing, on any thread. (The sweep above covers the calls that do allocate.)
    // Without the validation layer, which allocates on every Vulkan call it checks.
    capi::ScopedEnv no_validation("VKS_VALIDATE", "0");
    vks_model* m = capi::load();
    vks_session* s = capi::session(m);
    const std::vector<int32_t> prompt = {0, 72, 101, 108, 108, 111};
    const std::vector<int32_t> want = capi::greedy(s, prompt, 3);  // warm-up: pipelines, buffers
    std::vector<int32_t> got;
    got.reserve(3);
    REQUIRE(vks_session_reset(s) == VKS_OK);
    const long before = g_allocations.load();
    bool ok = vks_session_feed(s, prompt.data(), prompt.size()) == VKS_OK;
    for (int i = 0; ok && i < 3; ++i) {
        int32_t t = -1;
        ok = vks_session_sample(s, &t) == VKS_OK && vks_session_feed(s, &t, 1) == VKS_OK;
        got.push_back(t);  // (capacity reserved: no allocation)
    }
    ok = ok && vks_session_reset(s) == VKS_OK;
    const long made = g_allocations.load() - before;
    CHECK_MESSAGE(ok, vks_last_error());
    CHECK(got == want);
    CHECK_MESSAGE(made == 0, made, " host allocations in reset + feed + sample after warm-up");
    vks_session_free(s);
    vks_model_free(m);
}
