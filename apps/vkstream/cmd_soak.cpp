// vkstream soak -m MODEL --tokens N [--sink S --window W] [--interval K] [--json] [--synthetic]
// Streams N tokens through one session (sampling at temperature 0.8 with a fixed seed, every
// sampled token fed back) and reports every K tokens: host RSS, device memory in use, decode
// latency (mean / p99 over the interval) and how many logits were NaN/Inf. ("rss" is anonymous
// RSS: the mmapped model's file pages are left out, see host_rss_bytes.) Exits 1 if any
// logit was not finite or memory grew: device bytes must stay exactly at their level after the
// first interval, host RSS within k_rss_slack of it (allocator noise; a leak of one small
// allocation per token would pass 4 MiB within the first ~100k tokens).
// --synthetic builds a tiny random model (n_embd 256, 1 layer, n_vocab 320) in a temp file, so
// a million-token run is feasible on a CPU device.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <unistd.h>

#include "json.hpp"
#include "model/synthetic.hpp"
#include "options.hpp"

namespace vks::cli {

namespace {

constexpr uint64_t k_rss_slack = 4ull << 20;

// Anonymous resident memory: RSS minus file-backed pages. The model file is mmapped and its
// token-embedding rows are read on first use of each token id, so file pages keep arriving for a
// while (Gemma 3's 262k-row, 178 MB table: several MiB over the first thousand tokens); they are
// page cache the kernel can drop, not a leak, and counting them made soak fail on gemma3.
uint64_t host_rss_bytes() {
    // /proc/self/statm: size resident shared text lib data dt (pages); shared = file-backed + shmem
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long long size = 0, resident = 0, shared = 0;
    int n = std::fscanf(f, "%llu %llu %llu", &size, &resident, &shared);
    std::fclose(f);
    return n == 3 && resident >= shared ? (resident - shared) * uint64_t(sysconf(_SC_PAGESIZE)) : 0;
}

struct Interval {
    uint64_t tokens = 0;       // done so far
    uint64_t rss = 0, device = 0;
    double mean_ms = 0, p99_ms = 0;
    uint64_t non_finite = 0;   // logits that were NaN or Inf in this interval
};

}  // namespace

int cmd_soak(const Args& in_args) {
    Args args = in_args;
    bool synthetic = std::find(args.begin(), args.end(), "--synthetic") != args.end();
    if (synthetic) args.insert(args.begin(), {"-m", "(synthetic)"});
    ModelArgs o;
    o.session.sampling.temperature = 0.8f;
    o.session.sampling.seed = 1234;
    int64_t n_tokens = 100000, interval = 0;
    std::string error;
    bool ok = parse_model_args(args, o, error, [&](const Args& a, size_t i) -> size_t {
        auto num = [&](int64_t& v) -> size_t {
            if (i + 1 >= a.size() || !detail::to_i64(a[i + 1], v) || v < 1) {
                error = a[i] + " needs a positive number";
                return 0;
            }
            return 2;
        };
        if (a[i] == "--tokens") return num(n_tokens);
        if (a[i] == "--interval") return num(interval);
        if (a[i] == "--synthetic") return 1;
        return 0;
    });
    if (!ok) {
        std::fprintf(stderr,
                     "vkstream soak: %s\nusage: vkstream soak (-m MODEL | --synthetic) [--tokens N] [--interval K] [options]\n%s"
                     "  --tokens N           tokens to stream (default 100000)\n"
                     "  --interval K         report every K tokens (default N/20)\n"
                     "  --synthetic          a tiny random model (n_embd 256, 1 layer, n_vocab 320) in a temp file\n",
                     error.c_str(), model_args_help());
        return 2;
    }
    if (interval == 0) interval = std::max<int64_t>(1, n_tokens / 20);
    model::SyntheticConfig c;
    c.n_embd = 256;
    c.n_layer = 1;
    c.n_vocab = 320;
    c.n_ff = 512;
    c.weight_type = quant::Type::Q4_0;
    auto model = synthetic ? load_synthetic_model(c) : load_model_with_progress(o.model);
    engine::Session session(model, o.session);
    const vk::Device& dev = model->device();
    std::fprintf(stderr, "soak: %lld tokens, %u sinks + %u window, temperature %.2f, seed %llu, report every %lld\n",
                 (long long)n_tokens, session.config().n_sink, session.config().n_window,
                 double(session.config().sampling.temperature), (unsigned long long)session.config().sampling.seed,
                 (long long)interval);
    int32_t t = model->tokenizer().bos() >= 0 ? model->tokenizer().bos() : 0;
    session.feed({&t, 1});

    std::vector<Interval> report;
    std::vector<double> lat;  // ms per decode step in this interval
    lat.reserve(size_t(interval));
    uint64_t non_finite = 0, total_non_finite = 0;
    using Clock = std::chrono::steady_clock;
    for (int64_t done = 1; done <= n_tokens; ++done) {
        for (float v : session.logits()) non_finite += !std::isfinite(v);
        t = session.sample();
        auto t0 = Clock::now();
        session.feed({&t, 1});
        lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (done % interval == 0 || done == n_tokens) {
            Interval iv;
            iv.tokens = uint64_t(done);
            iv.rss = host_rss_bytes();
            iv.device = dev.bytes_allocated();
            double sum = 0;
            for (double x : lat) sum += x;
            iv.mean_ms = sum / double(lat.size());
            size_t k = std::min(lat.size() - 1, size_t(double(lat.size()) * 0.99));
            std::nth_element(lat.begin(), lat.begin() + ptrdiff_t(k), lat.end());
            iv.p99_ms = lat[k];
            iv.non_finite = non_finite;
            total_non_finite += non_finite;
            non_finite = 0;
            lat.clear();
            report.push_back(iv);
            // The interval lines go to stdout, or to stderr with --json (stdout is the summary),
            // so a long run always shows its progress.
            std::fprintf(o.json ? stderr : stdout,
                         "%12llu tokens  rss %8.2f MiB  device %10llu B  decode mean %7.3f ms  p99 %7.3f ms  nan/inf %llu\n",
                         (unsigned long long)iv.tokens, double(iv.rss) / (1 << 20), (unsigned long long)iv.device,
                         iv.mean_ms, iv.p99_ms, (unsigned long long)iv.non_finite);
            std::fflush(o.json ? stderr : stdout);
        }
    }
    const Interval& first = report.front();
    bool device_grew = false, rss_grew = false;
    uint64_t max_rss = 0;
    for (const Interval& iv : report) {
        device_grew = device_grew || iv.device != first.device;
        rss_grew = rss_grew || iv.rss > first.rss + k_rss_slack;
        max_rss = std::max(max_rss, iv.rss);
    }
    const bool pass = total_non_finite == 0 && !device_grew && !rss_grew;
    if (o.json) {
        Json j;
        j.begin_object();
        j.key("model").value(synthetic ? std::string("synthetic") : o.model);
        j.key("device").value(dev.caps().name);
        j.key("tokens").value(uint64_t(n_tokens));
        j.key("n_sink").value(session.config().n_sink);
        j.key("n_window").value(session.config().n_window);
        j.key("intervals").begin_array();
        for (const Interval& iv : report) {
            j.begin_object();
            j.key("tokens").value(iv.tokens);
            j.key("rss_bytes").value(iv.rss);
            j.key("device_bytes").value(iv.device);
            j.key("decode_mean_ms").value(iv.mean_ms);
            j.key("decode_p99_ms").value(iv.p99_ms);
            j.key("non_finite_logits").value(iv.non_finite);
            j.end_object();
        }
        j.end_array();
        j.key("non_finite_logits").value(total_non_finite);
        j.key("device_memory_grew").value(device_grew);
        j.key("host_rss_grew").value(rss_grew);
        j.key("pass").value(pass);
        j.end_object();
        std::printf("%s\n", j.str().c_str());
    }
    std::fprintf(stderr, "soak: %s: %llu NaN/Inf logits, device memory %s (%llu B), host RSS %.2f -> max %.2f MiB%s\n",
                 pass ? "PASS" : "FAIL", (unsigned long long)total_non_finite, device_grew ? "GREW" : "flat",
                 (unsigned long long)first.device, double(first.rss) / (1 << 20), double(max_rss) / (1 << 20),
                 rss_grew ? " (GREW)" : "");
    return pass ? 0 : 1;
}

}  // namespace vks::cli
