// vkstream perplexity -m MODEL -f TEXT [--tokens N] --policy dense|window|sink|recompute ...
// Teacher-forced next-token NLL over the first N tokens of a text, with one-token-at-a-time
// semantics: the prediction of token i+1 sees exactly what a stream that decoded tokens 0..i
// one by one would have cached. Chunked feeding with every token's logits is identical in our
// engine (chunked prefill equals one-by-one, tests/e2e), so chunks are used for speed.
//
// Policies (the StreamingLLM paper's four):
//   dense      no eviction: one cache slot per token of the stream (the cache grows to N)
//   window     a rolling window, no sinks (n_sink 0)
//   sink       n_sink attention sinks + a rolling window (default 4 + 1020)
//   recompute  for each token, the KV of the last `window` tokens rebuilt from scratch
//              (reset, feed them as a chunk, read the last logits): O(window) per token
//
// --report-latency times every token from --decode-from on as a single decode step (recompute:
// one rebuild per token) and reports per-token latency at stream positions 1k, 10k, 100k, 1M.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <unistd.h>

#include "common/error.hpp"
#include "engine/perplexity.hpp"
#include "json.hpp"
#include "model/synthetic.hpp"
#include "options.hpp"
#include "tokenizer/tokenizer.hpp"

namespace vks::cli {

namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void on_sigint(int) { g_interrupted = 1; }

using Clock = std::chrono::steady_clock;

enum class Policy { dense, window, sink, recompute };

const char* policy_name(Policy p) {
    switch (p) {
        case Policy::dense: return "dense";
        case Policy::window: return "window";
        case Policy::sink: return "sink";
        case Policy::recompute: return "recompute";
    }
    return "?";
}

struct PplArgs {
    Policy policy = Policy::sink;
    int64_t n_tokens = -1;      // -1: the whole text
    std::string csv;
    bool report_latency = false;
    int64_t decode_from = -1;   // -1: 0 (recompute: the window)
    bool synthetic = false;
    bool kl_base = false;       // also run an f16-cache session and report KL(f16 || this cache)
};

const char* k_usage =
    "usage: vkstream perplexity -m MODEL -f TEXT [--tokens N] [--policy dense|window|sink|recompute]\n"
    "                           [--sink N] [--window N] [--batch N] [--csv FILE] [--json]\n"
    "  -f, --file PATH      text to evaluate (tokenized with BOS as the model's metadata asks)\n"
    "  --tokens N           evaluate the first N tokens (default: the whole text)\n"
    "  --policy P           dense: no eviction (cache = N slots); window: rolling window, no sinks;\n"
    "                       sink: sinks + rolling window (default); recompute: rebuild the last\n"
    "                       window tokens for every token (slow by design)\n"
    "  --sink N             sinks for --policy sink (default 4; other policies use none)\n"
    "  --window N           window (default 1020 for sink, 1024 for window and recompute)\n"
    "  --batch N            chunk size (default 256)\n"
    "  --csv FILE           per token: token index, NLL, running mean NLL, running PPL[, latency ms]\n"
    "  --json               summary as JSON on stdout\n"
    "  --report-latency     time every token from --decode-from on as one decode step\n"
    "  --decode-from P      first position timed with --report-latency (default 0; recompute: window)\n"
    "  --cache-type-k T, --cache-type-v T, --cache-sinks f16|same, --cache-rotate\n"
    "                       KV cache element types (f16, q8_0, q4_0), as for run\n"
    "  --kl-base            also feed the text through a second session with an f16 cache and report\n"
    "                       the mean KL divergence KL(f16 || this cache) per prediction (sink and\n"
    "                       window policies; the CSV gets a kl column)\n"
    "  --synthetic          use a tiny random model (2 layers, 256 wide, byte vocabulary) instead of -m\n";

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) fail(Status::io_error, "cannot open text file '%s'", path.c_str());
    std::ostringstream ss;
    ss << f.rdbuf();
    if (f.bad()) fail(Status::io_error, "cannot read text file '%s'", path.c_str());
    return ss.str();
}

// The first n tokens of the text (all when n < 0). Tokenizes a prefix that grows until it holds
// n tokens, cut at a line end so the last needed token is not split by the cut.
std::vector<int32_t> tokenize_prefix(const tokenizer::Tokenizer& tok, const std::string& text, int64_t n) {
    if (n < 0) return tok.encode(text, true, false);
    size_t bytes = size_t(n) * 6 + 4096;
    for (;;) {
        size_t cut = text.size();
        if (bytes < text.size()) {
            size_t nl = text.rfind('\n', bytes);
            cut = (nl == std::string::npos || nl == 0) ? bytes : nl + 1;
        }
        std::vector<int32_t> ids = tok.encode(std::string_view(text).substr(0, cut), true, false);
        // +1 spare token: the cut may merge differently than the full text at its very end
        if (int64_t(ids.size()) > n || cut == text.size()) {
            if (int64_t(ids.size()) > n) ids.resize(size_t(n));
            return ids;
        }
        bytes *= 2;
    }
}

std::string fmt_duration(double s) {
    if (!std::isfinite(s) || s < 0) return "?";
    long t = long(s + 0.5);
    if (t >= 3600) return strfmt("%ldh%02ldm", t / 3600, (t / 60) % 60);
    if (t >= 60) return strfmt("%ldm%02lds", t / 60, t % 60);
    return strfmt("%lds", t);
}

// Progress on stderr: a redrawn line on a terminal, a line every 30 s otherwise (logs).
class Progress {
public:
    Progress(const char* label, uint64_t total) : label_(label), total_(total), tty_(isatty(2)), t0_(Clock::now()) {}
    void update(uint64_t done, double ppl, bool force = false) {
        auto now = Clock::now();
        double since = std::chrono::duration<double>(now - last_).count();
        if (!force && since < (tty_ ? 0.25 : 30.0)) return;
        if (force && printed_ && done == last_done_) return;  // this state is on screen already
        last_ = now;
        last_done_ = done;
        printed_ = true;
        double secs = std::chrono::duration<double>(now - t0_).count();
        double rate = secs > 0 ? double(done) / secs : 0;
        double eta = rate > 0 ? double(total_ - done) / rate : -1;
        std::fprintf(stderr, "%s[%s] %llu/%llu tokens (%.1f%%)  %.2f tokens/s  ppl %.4f  elapsed %s  ETA %s%s",
                     tty_ ? "\r" : "", label_, (unsigned long long)done, (unsigned long long)total_,
                     total_ ? 100.0 * double(done) / double(total_) : 100.0, rate, ppl, fmt_duration(secs).c_str(),
                     fmt_duration(eta).c_str(), tty_ ? "   " : "\n");
    }
    void finish() {
        if (tty_) std::fprintf(stderr, "\n");
    }
    double seconds() const { return std::chrono::duration<double>(Clock::now() - t0_).count(); }

private:
    const char* label_;
    uint64_t total_;
    bool tty_;
    Clock::time_point t0_, last_{};
    uint64_t last_done_ = 0;
    bool printed_ = false;
};

// Per-token results, streamed to the CSV as they come.
class Recorder {
public:
    Recorder(const std::string& csv_path, bool latency, uint64_t n_cache, bool kl = false)
        : latency_(latency), kl_(kl), n_cache_(n_cache) {
        if (!csv_path.empty()) {
            csv_ = std::fopen(csv_path.c_str(), "w");
            if (!csv_) fail(Status::io_error, "cannot write CSV file '%s'", csv_path.c_str());
            std::fprintf(csv_, "token,nll,mean_nll,ppl%s%s\n", latency ? ",latency_ms" : "", kl ? ",kl" : "");
        }
    }
    ~Recorder() {
        if (csv_) std::fclose(csv_);
    }
    // NLL of predicting stream token `index` (>= 1); latency_ms < 0: not timed.
    // kl: KL(f16 cache || this cache) of the prediction (with --kl-base).
    void add(uint64_t index, double nll, double latency_ms = -1, double kl = NAN) {
        acc_.add(nll);
        if (index > n_cache_) past_cache_.add(nll);  // its context no longer fits the cache
        if (kl_) kl_acc_.add(kl);
        if (csv_) {
            std::fprintf(csv_, "%llu,%.6f,%.6f,%.6f", (unsigned long long)index, nll, acc_.mean_nll(), acc_.ppl());
            if (latency_) std::fprintf(csv_, ",%.4f", latency_ms);
            if (kl_) std::fprintf(csv_, ",%.8f", kl);
            std::fprintf(csv_, "\n");
        }
        if (latency_ms >= 0) latencies_.push_back({index, latency_ms});
    }
    void flush() {
        if (csv_) std::fflush(csv_);
    }
    const engine::PerplexityAccumulator& all() const { return acc_; }
    const engine::PerplexityAccumulator& past_cache() const { return past_cache_; }
    const engine::PerplexityAccumulator& kl() const { return kl_acc_; }  // mean_nll() = mean KL
    const std::vector<std::pair<uint64_t, double>>& latencies() const { return latencies_; }

private:
    std::FILE* csv_ = nullptr;
    bool latency_, kl_;
    uint64_t n_cache_;
    engine::PerplexityAccumulator acc_, past_cache_, kl_acc_;
    std::vector<std::pair<uint64_t, double>> latencies_;
};

struct LatencyProbe {
    uint64_t position;
    uint64_t n;
    double mean_ms, median_ms, min_ms;
};

// Latency statistics over the timed tokens in [p, p + span) for p in the probe positions.
std::vector<LatencyProbe> latency_probes(const std::vector<std::pair<uint64_t, double>>& lat, uint64_t first) {
    std::vector<LatencyProbe> out;
    if (lat.empty()) return out;
    const uint64_t span = 256;
    std::vector<uint64_t> starts = {first};
    for (uint64_t p : {1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull})
        if (p > first) starts.push_back(p);
    starts.push_back(lat.back().first + 1 > span ? lat.back().first + 1 - span : 0);  // the last span
    for (uint64_t p : starts) {
        std::vector<double> v;
        for (auto it = std::lower_bound(lat.begin(), lat.end(), std::make_pair(p, -1e300)); it != lat.end() && it->first < p + span; ++it)
            v.push_back(it->second);
        if (v.size() < span / 2) continue;  // not enough of the stream reached this position
        double sum = 0;
        for (double x : v) sum += x;
        std::sort(v.begin(), v.end());
        out.push_back({p, v.size(), sum / double(v.size()), v[v.size() / 2], v.front()});
    }
    return out;
}

model::SyntheticConfig synthetic_config() {
    model::SyntheticConfig sc;  // llama, 2 layers, n_embd 256, 4 heads (2 kv), n_ff 512, F32
    sc.n_vocab = 320;
    sc.context_length = 4096;
    return sc;
}

}  // namespace

int cmd_perplexity(const Args& args_in) {
    PplArgs p;
    bool sink_set = false, window_set = false;
    Args args = args_in;
    for (const auto& a : args) {
        if (a == "--sink") sink_set = true;
        if (a == "--window") window_set = true;
        if (a == "--synthetic") p.synthetic = true;
    }
    if (p.synthetic && std::find(args.begin(), args.end(), "-m") == args.end()) {
        args.push_back("-m");
        args.push_back("(synthetic)");
    }
    ModelArgs o;
    std::string error;
    bool ok = parse_model_args(args, o, error, [&](const Args& a, size_t i) -> size_t {
        auto need = [&]() -> const std::string* {
            if (i + 1 >= a.size()) {
                error = a[i] + " needs a value";
                return nullptr;
            }
            return &a[i + 1];
        };
        if (a[i] == "--policy") {
            const std::string* v = need();
            if (!v) return 0;
            if (*v == "dense") p.policy = Policy::dense;
            else if (*v == "window") p.policy = Policy::window;
            else if (*v == "sink") p.policy = Policy::sink;
            else if (*v == "recompute") p.policy = Policy::recompute;
            else return error = "--policy: '" + *v + "' is not dense, window, sink or recompute", 0;
            return 2;
        }
        if (a[i] == "--tokens" || a[i] == "--decode-from") {
            const std::string* v = need();
            if (!v) return 0;
            int64_t x = 0;
            if (!detail::to_i64(*v, x) || x < (a[i] == "--tokens" ? 2 : 0))
                return error = a[i] + ": bad value '" + *v + "'", 0;
            (a[i] == "--tokens" ? p.n_tokens : p.decode_from) = x;
            return 2;
        }
        if (a[i] == "--csv") {
            const std::string* v = need();
            if (!v) return 0;
            p.csv = *v;
            return 2;
        }
        if (a[i] == "--report-latency") return p.report_latency = true, 1;
        if (a[i] == "--kl-base") return p.kl_base = true, 1;
        if (a[i] == "--synthetic") return 1;
        return 0;
    });
    if (ok && o.file.empty()) ok = false, error = "no text: pass -f TEXT";
    if (ok && p.kl_base && (p.report_latency || p.policy == Policy::dense || p.policy == Policy::recompute))
        ok = false, error = "--kl-base works with --policy sink or window, without --report-latency";
    if (!ok) {
        std::fprintf(stderr, "vkstream perplexity: %s\n%s", error.c_str(), k_usage);
        return 2;
    }

    // The cache for each policy.
    engine::SessionConfig sc = o.session;
    uint32_t window = window_set ? sc.n_window : (p.policy == Policy::sink ? 1020u : 1024u);
    switch (p.policy) {
        case Policy::sink: sc.n_sink = sink_set ? sc.n_sink : 4; sc.n_window = window; break;
        case Policy::window: sc.n_sink = 0; sc.n_window = window; break;
        case Policy::recompute: sc.n_sink = 0; sc.n_window = window; sc.dense = true; break;
        case Policy::dense: sc.n_sink = 0; sc.dense = true; break;  // window set from N below
    }
    if (p.policy != Policy::sink && sink_set && o.session.n_sink != 0)
        std::fprintf(stderr, "vkstream perplexity: note: --sink is ignored by --policy %s (no sinks)\n", policy_name(p.policy));

    auto model = p.synthetic ? load_synthetic_model(synthetic_config()) : load_model_with_progress(o.model);
    const auto& tok = model->tokenizer();
    const uint32_t n_vocab = model->desc().n_vocab;
    auto t_tok = Clock::now();
    std::string text = read_file(o.file);
    std::vector<int32_t> tokens = tokenize_prefix(tok, text, p.n_tokens);
    text.clear();
    text.shrink_to_fit();
    if (tokens.size() < 2) fail(Status::invalid_argument, "the text has %zu tokens: at least 2 are needed", tokens.size());
    if (p.n_tokens > 0 && int64_t(tokens.size()) < p.n_tokens)
        std::fprintf(stderr, "vkstream perplexity: note: the text has only %zu tokens (asked for %lld)\n", tokens.size(),
                     (long long)p.n_tokens);
    const uint64_t N = tokens.size();
    std::fprintf(stderr, "text: %s, %llu tokens (BOS %s), tokenized in %.1f s\n", o.file.c_str(), (unsigned long long)N,
                 (tok.add_bos() && tok.bos() >= 0 && tokens[0] == tok.bos()) ? "first" : "none",
                 std::chrono::duration<double>(Clock::now() - t_tok).count());
    if (p.policy == Policy::dense) sc.n_window = uint32_t(std::min<uint64_t>(N, UINT32_MAX));

    std::unique_ptr<engine::Session> session;
    try {
        session = std::make_unique<engine::Session>(model, sc);
    } catch (const Error& e) {
        if (e.status() != Status::out_of_device_memory && e.status() != Status::unsupported) throw;
        const model::Description& d = model->desc();
        double per_token = 2.0 * d.n_layer * d.n_head_kv * d.head_dim * 2;  // K and V, f16
        std::fprintf(stderr,
                     "vkstream perplexity: cannot allocate a %s cache of %u slots (%.1f MiB of KV at %.1f KiB per token) on "
                     "%s: %s\n  %s\n",
                     policy_name(p.policy), sc.n_sink + sc.n_window, per_token * (sc.n_sink + sc.n_window) / (1 << 20),
                     per_token / 1024, model->device().caps().name.c_str(), e.what(),
                     p.policy == Policy::dense ? "the device cannot hold this stream densely; use fewer --tokens (or --policy sink)"
                                               : "use a smaller --window or --batch");
        return 1;
    }
    const engine::SessionConfig& cfg = session->config();
    const uint64_t n_cache = uint64_t(cfg.n_sink) + cfg.n_window;
    std::fprintf(stderr, "policy %s: %u sinks + %u window (%.1f MiB of KV: %s), chunks of %u\n", policy_name(p.policy),
                 cfg.n_sink, cfg.n_window, double(session->kv_bytes()) / (1 << 20),
                 kv::describe(cfg.cache_types).c_str(), cfg.n_batch);
    // --kl-base: the same stream through an f16 cache, chunk for chunk.
    std::unique_ptr<engine::Session> base;
    if (p.kl_base) {
        engine::SessionConfig bc = cfg;
        bc.cache_types = kv::CacheTypes{};
        base = std::make_unique<engine::Session>(model, bc);
    }
    std::vector<float> base_logits;
    engine::PerplexityAccumulator base_nll;  // the f16 session's NLL over the same predictions

    uint64_t decode_from = p.decode_from >= 0 ? uint64_t(p.decode_from) : (p.policy == Policy::recompute ? n_cache : 0);
    if (!p.report_latency) decode_from = N;  // nothing timed per token
    Recorder rec(p.csv, p.report_latency, p.policy == Policy::dense ? N : n_cache, p.kl_base);
    const uint64_t n_pred = N - 1;  // predictions: token i+1 from the logits after token i
    Progress prog(policy_name(p.policy), n_pred);
    std::signal(SIGINT, on_sigint);
    std::string stop_reason;
    uint64_t done = 0;  // predictions made: tokens 0..done fed
    std::vector<float> logits;
    std::vector<double> nll;
    try {
        // Phase 1: chunks with every token's logits. For recompute this covers the positions
        // whose context (the whole prefix) fits the window, where recompute equals dense.
        const uint64_t chunk_end =
            std::min<uint64_t>(p.policy == Policy::recompute ? std::min<uint64_t>(n_cache, decode_from) : decode_from, n_pred);
        while (done < chunk_end && !g_interrupted) {
            uint64_t n = std::min<uint64_t>(cfg.n_batch, chunk_end - done);
            logits.clear();
            session->feed(std::span<const int32_t>(tokens).subspan(done, n), &logits);
            nll.resize(n);
            engine::token_nlls(logits, n_vocab, std::span<const int32_t>(tokens).subspan(done + 1, n), nll);
            if (base) {
                base_logits.clear();
                base->feed(std::span<const int32_t>(tokens).subspan(done, n), &base_logits);
                std::vector<double> bn(n);
                engine::token_nlls(base_logits, n_vocab, std::span<const int32_t>(tokens).subspan(done + 1, n), bn);
                for (double x : bn) base_nll.add(x);
            }
            for (uint64_t j = 0; j < n; ++j) {
                const std::span<const float> row = std::span<const float>(logits).subspan(j * n_vocab, n_vocab);
                rec.add(done + 1 + j, nll[j], -1,
                        base ? engine::token_kl(std::span<const float>(base_logits).subspan(j * n_vocab, n_vocab), row)
                             : NAN);
            }
            done += n;
            rec.flush();
            prog.update(done, rec.all().ppl());
        }
        // Phase 2: one token at a time (timed), or one rebuild per token for recompute.
        if (p.policy == Policy::recompute && done < n_pred && done < n_cache) {
            // decode_from < window: the tokens before the window fills still equal dense
            while (done < std::min<uint64_t>(n_cache, n_pred) && !g_interrupted) {
                auto t0 = Clock::now();
                session->feed(std::span<const int32_t>(tokens).subspan(done, 1));
                double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
                rec.add(done + 1, engine::token_nll(session->logits(), tokens[done + 1]), ms);
                ++done;
                prog.update(done, rec.all().ppl());
            }
        }
        while (done < n_pred && !g_interrupted) {
            auto t0 = Clock::now();
            if (p.policy == Policy::recompute) {
                // context of the prediction after token `done`: the `window` tokens ending there
                session->reset();
                session->feed(std::span<const int32_t>(tokens).subspan(done + 1 - n_cache, n_cache));
            } else {
                session->feed(std::span<const int32_t>(tokens).subspan(done, 1));
            }
            double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
            rec.add(done + 1, engine::token_nll(session->logits(), tokens[done + 1]), p.report_latency ? ms : -1);
            ++done;
            if (done % 64 == 0) rec.flush();
            prog.update(done, rec.all().ppl());
        }
        if (g_interrupted) stop_reason = "interrupted";
    } catch (const Error& e) {
        if (e.status() == Status::invalid_argument || e.status() == Status::internal) throw;
        // device memory, device loss, a full dense cache: stop cleanly, keep what was measured
        stop_reason = strfmt("%s: %s", status_name(e.status()), e.what());
    }
    rec.flush();
    prog.update(done, rec.all().ppl(), true);
    prog.finish();
    const double secs = prog.seconds();
    if (!stop_reason.empty())
        std::fprintf(stderr, "vkstream perplexity: stopped after %llu of %llu predictions (stream position %llu): %s\n",
                     (unsigned long long)done, (unsigned long long)n_pred, (unsigned long long)done, stop_reason.c_str());

    const auto probes = latency_probes(rec.latencies(), decode_from);
    const double past_ppl = rec.past_cache().count() ? rec.past_cache().ppl() : NAN;
    if (o.json) {
        Json j;
        j.begin_object();
        j.kv("model", p.synthetic ? std::string("(synthetic)") : o.model).kv("text", o.file);
        j.kv("device", model->device().caps().name).kv("policy", policy_name(p.policy));
        j.kv("n_sink", cfg.n_sink).kv("n_window", cfg.n_window).kv("n_batch", cfg.n_batch);
        j.kv("n_tokens", N).kv("n_predicted", done).kv("complete", done == n_pred);
        if (!stop_reason.empty()) j.kv("stop_reason", stop_reason);
        j.kv("mean_nll", rec.all().mean_nll()).kv("ppl", rec.all().ppl());
        j.kv("n_predicted_past_cache", rec.past_cache().count()).kv("ppl_past_cache", past_ppl);
        j.kv("seconds", secs).kv("tokens_per_s", secs > 0 ? double(done) / secs : 0.0);
        j.kv("kv_bytes", session->kv_bytes());
        j.kv("cache_type_k", quant::info(cfg.cache_types.k).name).kv("cache_type_v", quant::info(cfg.cache_types.v).name);
        j.kv("cache_f16_sinks", cfg.cache_types.f16_sinks);
        j.kv("cache_rotate", cfg.cache_types.hadamard);
        j.kv("kv_bytes_per_token", session->cache().bytes_per_token());
        if (p.kl_base)
            j.kv("mean_kl", rec.kl().count() ? rec.kl().mean_nll() : NAN)
                .kv("n_kl", rec.kl().count())
                .kv("ppl_f16_cache", base_nll.count() ? base_nll.ppl() : NAN);
        if (p.report_latency) {
            j.kv("decode_from", decode_from);
            j.key("latency_ms").begin_array();
            for (const auto& pr : probes) {
                j.begin_object().kv("position", pr.position).kv("n", pr.n).kv("mean", pr.mean_ms);
                j.kv("median", pr.median_ms).kv("min", pr.min_ms).end_object();
            }
            j.end_array();
        }
        j.end_object();
        std::printf("%s\n", j.str().c_str());
    } else {
        std::printf("%s (%u sinks + %u window, %s): %llu predictions over %llu tokens, mean NLL %.5f, PPL %.4f", policy_name(p.policy),
                    cfg.n_sink, cfg.n_window, kv::describe(cfg.cache_types).c_str(), (unsigned long long)done,
                    (unsigned long long)N, rec.all().mean_nll(),
                    rec.all().ppl());
        if (rec.past_cache().count())
            std::printf(", PPL past the cache (%llu tokens) %.4f", (unsigned long long)rec.past_cache().count(), past_ppl);
        if (p.kl_base && rec.kl().count())
            std::printf(", mean KL vs an f16 cache %.6f (f16 cache PPL %.4f)", rec.kl().mean_nll(), base_nll.ppl());
        std::printf("%s\n%.1f s, %.2f tokens/s on %s\n", done == n_pred ? "" : " (partial)", secs,
                    secs > 0 ? double(done) / secs : 0.0, model->device().caps().name.c_str());
        for (const auto& pr : probes)
            std::printf("latency at position %llu: mean %.3f ms, median %.3f ms, min %.3f ms (%llu tokens)\n",
                        (unsigned long long)pr.position, pr.mean_ms, pr.median_ms, pr.min_ms, (unsigned long long)pr.n);
    }
    return done == n_pred ? 0 : 1;
}

}  // namespace vks::cli
