#pragma once
// Counters for GET /metrics (Prometheus text format 0.0.4). Thread-safe: requests on many
// threads add to them while a scrape reads them.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

namespace vks::server {

class SlotPool;

class Metrics {
public:
    void add_request(int status);
    void add_prompt_tokens(uint64_t fed, uint64_t reused);
    void add_generated(uint64_t n);  // also feeds the tokens-per-second window

    // Generated tokens per second over the last `window` (all slots together).
    double tokens_per_second(std::chrono::seconds window = std::chrono::seconds(10));
    std::string render(const SlotPool& slots, uint64_t weight_bytes);

private:
    std::atomic<uint64_t> requests_ok_{0}, requests_client_error_{0}, requests_server_error_{0};
    std::atomic<uint64_t> prompt_fed_{0}, prompt_reused_{0}, generated_{0};
    std::mutex mu_;
    std::deque<std::pair<std::chrono::steady_clock::time_point, uint64_t>> recent_;  // (time, tokens) per add
};

}  // namespace vks::server
