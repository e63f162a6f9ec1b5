#include "server/metrics.hpp"

#include <cstdio>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "server/slots.hpp"

namespace vks::server {

using Clock = std::chrono::steady_clock;

void Metrics::add_request(int status) {
    (status < 400 ? requests_ok_ : status < 500 ? requests_client_error_ : requests_server_error_).fetch_add(1);
}

void Metrics::add_prompt_tokens(uint64_t fed, uint64_t reused) {
    prompt_fed_.fetch_add(fed);
    prompt_reused_.fetch_add(reused);
}

void Metrics::add_generated(uint64_t n) {
    generated_.fetch_add(n);
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = Clock::now();
    recent_.emplace_back(now, n);
    while (!recent_.empty() && now - recent_.front().first > std::chrono::seconds(60)) recent_.pop_front();
}

double Metrics::tokens_per_second(std::chrono::seconds window) {
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = Clock::now();
    uint64_t n = 0;
    for (auto it = recent_.rbegin(); it != recent_.rend() && now - it->first <= window; ++it) n += it->second;
    return double(n) / double(window.count());
}

std::string Metrics::render(const SlotPool& slots, uint64_t weight_bytes) {
    std::string out;
    char line[256];
    auto metric = [&](const char* name, const char* type, const char* help, double value) {
        std::snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, value);
        out += line;
    };
    metric("vkstream_prompt_tokens_total", "counter", "Prompt tokens fed (prefilled).", double(prompt_fed_.load()));
    metric("vkstream_prompt_tokens_reused_total", "counter",
           "Prompt tokens not fed again because a slot's cache already held them.", double(prompt_reused_.load()));
    metric("vkstream_generated_tokens_total", "counter", "Tokens generated.", double(generated_.load()));
    metric("vkstream_generated_tokens_per_second", "gauge", "Tokens generated per second, all slots, last 10 s.",
           tokens_per_second());
    out += "# HELP vkstream_requests_total Requests answered, by status class.\n# TYPE vkstream_requests_total counter\n";
    std::snprintf(line, sizeof line, "vkstream_requests_total{class=\"2xx\"} %llu\n", (unsigned long long)requests_ok_.load());
    out += line;
    std::snprintf(line, sizeof line, "vkstream_requests_total{class=\"4xx\"} %llu\n",
                  (unsigned long long)requests_client_error_.load());
    out += line;
    std::snprintf(line, sizeof line, "vkstream_requests_total{class=\"5xx\"} %llu\n",
                  (unsigned long long)requests_server_error_.load());
    out += line;
    metric("vkstream_requests_active", "gauge", "Generation requests holding a slot.", slots.active());
    metric("vkstream_requests_queued", "gauge", "Generation requests waiting for a slot.", slots.queued());
    metric("vkstream_slots", "gauge", "Slots (sessions, --parallel).", slots.n_slots());
    metric("vkstream_kv_bytes", "gauge", "Device bytes of all slots' KV caches (fixed at start).", double(slots.kv_bytes()));
    metric("vkstream_device_bytes", "gauge", "Device bytes: weights plus every slot's cache and scratch.",
           double(weight_bytes + slots.device_bytes()));
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    // The C heap (glibc's mallinfo2, every arena): what is allocated against what the allocator
    // holds from the system. The gap is free memory kept in arenas (tools/serve_load.py soak
    // records both, so RSS growth can be told apart: live objects or allocator slack).
    const struct mallinfo2 mi = mallinfo2();
    metric("vkstream_host_heap_in_use_bytes", "gauge", "Host C heap bytes allocated (glibc mallinfo2).",
           double(mi.uordblks + mi.hblkhd));
    metric("vkstream_host_heap_system_bytes", "gauge", "Host C heap bytes taken from the system (glibc mallinfo2).",
           double(mi.arena + mi.hblkhd));
#endif
    metric("vkstream_saved_conversations", "gauge", "Conversations in the sessions folder.", double(slots.n_saved()));
    out += "# HELP vkstream_kv_cache_tokens Tokens in each slot's cache (at most its capacity).\n"
           "# TYPE vkstream_kv_cache_tokens gauge\n";
    const auto fill = slots.cache_fill();
    for (size_t i = 0; i < fill.size(); ++i) {
        std::snprintf(line, sizeof line, "vkstream_kv_cache_tokens{slot=\"%zu\"} %u\n", i, fill[i].first);
        out += line;
    }
    out += "# HELP vkstream_kv_cache_capacity Token capacity of each slot's cache (sinks + window).\n"
           "# TYPE vkstream_kv_cache_capacity gauge\n";
    for (size_t i = 0; i < fill.size(); ++i) {
        std::snprintf(line, sizeof line, "vkstream_kv_cache_capacity{slot=\"%zu\"} %u\n", i, fill[i].second);
        out += line;
    }
    return out;
}

}  // namespace vks::server
