// The C API under faults and misuse: device memory exhaustion, cancellation, session churn,
// model lifetime, concurrent sessions, device loss. Each failure must come back as a status
// with a message, and the library must stay usable afterwards. Also run under LeakSanitizer
// (tools/ci_sanitize.sh), which checks nothing leaks on these paths.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "capi_fixtures.hpp"

namespace {

const std::vector<int32_t> k_prompt = {0, 72, 101, 108, 108, 111};  // BOS + bytes

std::string status_and_message(vks_status st) {
    return std::string(vks_status_string(st)) + ": " + vks_last_error();
}

}  // namespace

TEST_CASE("C API: out of device memory on model load and on session create, and the library stays usable") {
    {
        capi::ScopedEnv limit("VKS_LIMITS", "device_memory=64k");
        vks_model* m = reinterpret_cast<vks_model*>(0x1);
        vks_status st = vks_model_load(capi::model_path().c_str(), nullptr, &m);
        CHECK_MESSAGE(st == VKS_ERR_OUT_OF_DEVICE_MEMORY, status_and_message(st));
        CHECK(m == nullptr);
        CHECK(std::strstr(vks_last_error(), "device memory") != nullptr);
    }
    // Enough for the weights (and the load's scratch), not for a session's 4 MiB KV cache
    // (2 layers x 4096 slots by default).
    vks_model* m = capi::load();
    vks_model_info info;
    info.struct_size = sizeof info;
    REQUIRE(vks_model_get_info(m, &info) == VKS_OK);
    vks_model_free(m);
    {
        std::string budget = "device_memory=" + std::to_string(info.weight_bytes + (5u << 19));
        capi::ScopedEnv limit("VKS_LIMITS", budget.c_str());
        m = capi::load();
        vks_session* s = reinterpret_cast<vks_session*>(0x1);
        vks_session_params sp = vks_session_default_params();
        vks_status st = vks_session_create(m, &sp, &s);
        CHECK_MESSAGE(st == VKS_ERR_OUT_OF_DEVICE_MEMORY, status_and_message(st));
        CHECK(s == nullptr);
        CHECK(std::strlen(vks_last_error()) > 0);
        // The same model still makes a small session (small cache, small prefill chunks).
        sp.n_window = 28;
        sp.n_batch = 8;
        sp.sampling.temperature = 0;
        REQUIRE_MESSAGE(vks_session_create(m, &sp, &s) == VKS_OK, std::string(vks_last_error()));
        CHECK(capi::greedy(s, k_prompt, 4).size() == 4);
        vks_session_free(s);
        vks_model_free(m);
    }
    // No limit: a later load and a full-size session work.
    m = capi::load();
    vks_session* s = nullptr;
    vks_session_params sp = vks_session_default_params();
    REQUIRE_MESSAGE(vks_session_create(m, &sp, &s) == VKS_OK, std::string(vks_last_error()));
    REQUIRE(vks_session_feed(s, k_prompt.data(), k_prompt.size()) == VKS_OK);
    vks_session_free(s);
    vks_model_free(m);
}

TEST_CASE("C API: no Vulkan driver is VKS_ERR_FEATURE_MISSING with a message that says so, and a later load works") {
    {
        // (Validation off here: with no driver the loader reports its own errors through the
        // validation messenger, which the test harness would count as validation failures.)
        capi::ScopedEnv no_validation("VKS_VALIDATE", "0");
        capi::ScopedEnv icd("VK_ICD_FILENAMES", "/nonexistent/vkstream-test-icd.json");
        capi::ScopedEnv drivers("VK_DRIVER_FILES", "/nonexistent/vkstream-test-icd.json");
        vks_model* m = reinterpret_cast<vks_model*>(0x1);
        vks_status st = vks_model_load(capi::model_path().c_str(), nullptr, &m);
        CHECK_MESSAGE(st == VKS_ERR_FEATURE_MISSING, status_and_message(st));
        CHECK(m == nullptr);
        CHECK_MESSAGE(std::strstr(vks_last_error(), "no Vulkan driver found") != nullptr, vks_last_error());
    }
    vks_model* m = capi::load();
    vks_session* s = nullptr;
    vks_session_params sp = vks_session_default_params();
    sp.sampling.temperature = 0;
    REQUIRE_MESSAGE(vks_session_create(m, &sp, &s) == VKS_OK, std::string(vks_last_error()));
    CHECK(capi::greedy(s, k_prompt, 2).size() == 2);
    vks_session_free(s);
    vks_model_free(m);
}

namespace {

struct CancelFromCallback {
    vks_session* s = nullptr;
    int n = 0;
};

int cancel_on_third(int32_t, const char*, size_t, void* user) {
    auto* c = static_cast<CancelFromCallback*>(user);
    if (++c->n == 3) vks_session_cancel(c->s);
    return 0;
}

struct CancelFromThread {
    std::atomic<int> n{0};
    std::atomic<bool> cancel_sent{false};
};

int wait_for_cancel(int32_t, const char*, size_t, void* user) {
    auto* c = static_cast<CancelFromThread*>(user);
    c->n.fetch_add(1);
    // Hold the generation after the first token until the other thread has cancelled, so the
    // cancel lands mid-generation whatever the thread timing.
    while (!c->cancel_sent.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return 0;
}

int ignore_token(int32_t, const char*, size_t, void*) { return 0; }

}  // namespace

TEST_CASE("C API: generation is cancelled from the token callback and from another thread") {
    vks_model* m = capi::load();
    vks_session* s = capi::session(m);
    REQUIRE(vks_session_feed(s, k_prompt.data(), k_prompt.size()) == VKS_OK);

    CancelFromCallback cb{s, 0};
    vks_status st = vks_session_generate(s, 100, cancel_on_third, &cb);
    CHECK_MESSAGE(st == VKS_ERR_CANCELLED, status_and_message(st));
    CHECK(cb.n == 3);
    vks_session_stats stats;
    stats.struct_size = sizeof stats;
    REQUIRE(vks_session_get_stats(s, &stats) == VKS_OK);
    CHECK(stats.n_past == k_prompt.size() + 3);

    CancelFromThread ct;
    std::thread canceller([&] {
        while (ct.n.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        vks_session_cancel(s);
        ct.cancel_sent.store(true);
    });
    st = vks_session_generate(s, -1, wait_for_cancel, &ct);  // -1: only the cancel stops it
    canceller.join();
    CHECK_MESSAGE(st == VKS_ERR_CANCELLED, status_and_message(st));
    CHECK(ct.n.load() == 1);
    // Still usable: a cancel is consumed by the call it stopped.
    CHECK(vks_session_generate(s, 2, ignore_token, nullptr) == VKS_OK);
    REQUIRE(vks_session_get_stats(s, &stats) == VKS_OK);
    CHECK(stats.n_past == k_prompt.size() + 3 + 1 + 2);
    vks_session_free(s);
    vks_model_free(m);
}

TEST_CASE("C API: 50 sessions created and destroyed in a loop all work") {
    vks_model* m = capi::load();
    std::vector<int32_t> first;
    for (int i = 0; i < 50; ++i) {
        vks_session* s = capi::session(m, 4, 12);
        std::vector<int32_t> got = capi::greedy(s, k_prompt, 2);
        if (i == 0) first = got;
        CHECK_MESSAGE(got == first, "session " << i);
        vks_session_free(s);
    }
    vks_model_free(m);
}

TEST_CASE("C API: a model freed while a session holds it stays alive until the session is freed") {
    vks_model* m = capi::load();
    vks_session* ref = capi::session(m);
    std::vector<int32_t> want = capi::greedy(ref, k_prompt, 8);
    vks_session_free(ref);

    vks_session* s = capi::session(m);
    vks_model_free(m);  // drops only the caller's reference
    std::vector<int32_t> got = capi::greedy(s, k_prompt, 8);
    CHECK(got == want);
    vks_session_stats stats;
    stats.struct_size = sizeof stats;
    CHECK(vks_session_get_stats(s, &stats) == VKS_OK);
    vks_session_free(s);  // the model goes with it (LeakSanitizer checks)
}

TEST_CASE("C API: concurrent sessions of one model on 3 threads produce the sequential tokens") {
    vks_model* m = capi::load();
    const std::vector<std::vector<int32_t>> prompts = {
        {0, 72, 101, 108}, {0, 87, 111, 114, 108, 100}, {0, 49, 50, 51, 52, 53, 54, 55, 56}};
    const int n_gen = 24;
    std::vector<std::vector<int32_t>> sequential;
    for (const auto& p : prompts) {
        vks_session* s = capi::session(m, 2, 14);  // capacity 16: the ring wraps
        sequential.push_back(capi::greedy(s, p, n_gen));
        vks_session_free(s);
    }
    std::vector<vks_session*> sessions;
    for (size_t i = 0; i < prompts.size(); ++i) sessions.push_back(capi::session(m, 2, 14));
    std::vector<std::vector<int32_t>> parallel(prompts.size());
    std::vector<vks_status> status(prompts.size(), VKS_OK);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < prompts.size(); ++i) {
        threads.emplace_back([&, i] {
            // No doctest assertions off the main thread: record and check afterwards.
            vks_session* s = sessions[i];
            status[i] = vks_session_feed(s, prompts[i].data(), prompts[i].size());
            for (int k = 0; k < n_gen && status[i] == VKS_OK; ++k) {
                int32_t t = -1;
                status[i] = vks_session_sample(s, &t);
                if (status[i] == VKS_OK) status[i] = vks_session_feed(s, &t, 1);
                parallel[i].push_back(t);
            }
        });
    }
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < prompts.size(); ++i) {
        CAPTURE(i);
        CHECK(status[i] == VKS_OK);
        CHECK(parallel[i] == sequential[i]);
        vks_session_free(sessions[i]);
    }
    vks_model_free(m);
}

TEST_CASE("C API: device loss mid-generation is VKS_ERR_DEVICE_LOST and a new model and session work afterwards") {
    std::vector<int32_t> want;
    {
        vks_model* m = capi::load();
        vks_session* s = capi::session(m);
        want = capi::greedy(s, k_prompt, 6);
        vks_session_free(s);
        vks_model_free(m);
    }
    vks_model* m = nullptr;
    {
        // The 4th queue submission on the next device fails as a lost device (test hook).
        capi::ScopedEnv hook("VKS_TEST_DEVICE_LOSS_AFTER", "4");
        m = capi::load();
    }
    vks_session* s = capi::session(m);
    vks_status st = vks_session_feed(s, k_prompt.data(), k_prompt.size());
    if (st == VKS_OK) st = vks_session_generate(s, 20, ignore_token, nullptr);
    CHECK_MESSAGE(st == VKS_ERR_DEVICE_LOST, status_and_message(st));
    CHECK(std::strstr(vks_last_error(), "DEVICE_LOST") != nullptr);
    // Later calls fail fast with the same status.
    int32_t t = 1;
    st = vks_session_feed(s, &t, 1);
    CHECK_MESSAGE(st == VKS_ERR_DEVICE_LOST, status_and_message(st));
    vks_session_free(s);
    vks_model_free(m);

    m = capi::load();
    s = capi::session(m);
    CHECK(capi::greedy(s, k_prompt, 6) == want);
    vks_session_free(s);
    vks_model_free(m);
}

TEST_CASE("C API: a model load cancelled from the progress callback is VKS_ERR_CANCELLED, and a later load works") {
    struct Progress {
        int calls = 0;
        int cancel_at = 0;
        float last = -1;
    };
    auto on_progress = [](float fraction, void* user) -> int {
        auto* p = static_cast<Progress*>(user);
        p->last = fraction;
        return ++p->calls >= p->cancel_at ? 1 : 0;
    };
    for (int cancel_at : {1, 3}) {
        CAPTURE(cancel_at);
        Progress p;
        p.cancel_at = cancel_at;
        vks_model_params mp = vks_model_default_params();
        mp.progress = on_progress;
        mp.progress_user_data = &p;
        vks_model* m = reinterpret_cast<vks_model*>(&p);  // must be set to NULL
        vks_status st = vks_model_load(capi::model_path().c_str(), &mp, &m);
        CHECK_MESSAGE(st == VKS_ERR_CANCELLED, status_and_message(st));
        CHECK(m == nullptr);
        CHECK(p.calls == cancel_at);
        CHECK(std::string(vks_last_error()).find("cancel") != std::string::npos);
    }
    // A load that is not cancelled reports progress up to 1 and works.
    Progress p;
    p.cancel_at = 1 << 30;
    vks_model_params mp = vks_model_default_params();
    mp.progress = on_progress;
    mp.progress_user_data = &p;
    vks_model* m = nullptr;
    REQUIRE(vks_model_load(capi::model_path().c_str(), &mp, &m) == VKS_OK);
    CHECK(p.calls >= 2);
    CHECK(p.last == doctest::Approx(1.0f));
    vks_session* s = capi::session(m);
    CHECK(capi::greedy(s, k_prompt, 4).size() == 4);
    vks_session_free(s);
    vks_model_free(m);
}

TEST_CASE("C API: state files: an unwritable path, a missing file and a damaged file are errors, the old file survives") {
    vks_model* m = capi::load();
    vks_session* s = capi::session(m);
    capi::greedy(s, k_prompt, 3);
    const std::string dir = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
    const std::string path = dir + "/vks-capi-state-" + std::to_string(::getpid()) + ".bin";

    // Unwritable: a folder that does not exist. IO, and nothing is created.
    vks_status st = vks_session_save(s, "/nonexistent-vks-dir/state.bin");
    CHECK_MESSAGE(st == VKS_ERR_IO, status_and_message(st));
    CHECK(std::string(vks_last_error()).find("/nonexistent-vks-dir/") != std::string::npos);

    // Missing file: IO, session unchanged.
    vks_session_stats before;
    before.struct_size = sizeof before;
    REQUIRE(vks_session_get_stats(s, &before) == VKS_OK);
    st = vks_session_load(s, (path + ".missing").c_str());
    CHECK_MESSAGE(st == VKS_ERR_IO, status_and_message(st));
    vks_session_stats after;
    after.struct_size = sizeof after;
    REQUIRE(vks_session_get_stats(s, &after) == VKS_OK);
    CHECK(after.n_past == before.n_past);

    // A good save, then a failed save over it (target is a folder): the old file is intact
    // and no temporary is left next to it.
    REQUIRE(vks_session_save(s, path.c_str()) == VKS_OK);
    std::FILE* f = std::fopen(path.c_str(), "rb");
    REQUIRE(f);
    std::vector<char> saved(1 << 22);
    saved.resize(std::fread(saved.data(), 1, saved.size(), f));
    std::fclose(f);
    CHECK(saved.size() > 16);
    const std::string as_dir = path + ".d";
    REQUIRE(::mkdir(as_dir.c_str(), 0700) == 0);
    st = vks_session_save(s, as_dir.c_str());
    CHECK_MESSAGE(st == VKS_ERR_IO, status_and_message(st));
    f = std::fopen(path.c_str(), "rb");
    REQUIRE(f);
    std::vector<char> again(saved.size() + 1);
    again.resize(std::fread(again.data(), 1, again.size(), f));
    std::fclose(f);
    CHECK(again == saved);
    size_t leftovers = 0;
    if (DIR* d = ::opendir(dir.c_str())) {
        const std::string prefix = "vks-capi-state-" + std::to_string(::getpid()) + ".bin.d.tmp";
        while (dirent* e = ::readdir(d)) leftovers += std::strncmp(e->d_name, prefix.c_str(), prefix.size()) == 0;
        ::closedir(d);
    }
    CHECK(leftovers == 0);

    // A damaged copy (one byte flipped) is BAD_FORMAT and changes nothing; the saved one loads.
    const std::string damaged = path + ".damaged";
    std::vector<char> bad = saved;
    bad[bad.size() / 2] ^= 0x10;
    f = std::fopen(damaged.c_str(), "wb");
    REQUIRE(f);
    std::fwrite(bad.data(), 1, bad.size(), f);
    std::fclose(f);
    capi::greedy(s, {65}, 2);
    REQUIRE(vks_session_get_stats(s, &before) == VKS_OK);
    st = vks_session_load(s, damaged.c_str());
    CHECK_MESSAGE(st == VKS_ERR_BAD_FORMAT, status_and_message(st));
    REQUIRE(vks_session_get_stats(s, &after) == VKS_OK);
    CHECK(after.n_past == before.n_past);
    CHECK(vks_session_load(s, path.c_str()) == VKS_OK);
    REQUIRE(vks_session_get_stats(s, &after) == VKS_OK);
    CHECK(after.n_past == k_prompt.size() + 3);

    std::remove(path.c_str());
    std::remove(damaged.c_str());
    ::rmdir(as_dir.c_str());
    vks_session_free(s);
    vks_model_free(m);
}
