#include "server/serve.hpp"

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include "common/error.hpp"
#include "engine/generate.hpp"
#include "kv/cache_types.hpp"
#include "quant/quant.hpp"
#include "server/chat_page.hpp"
#include "server/metrics.hpp"
#include "server/slots.hpp"

namespace vks::server {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

bool same_secret(const std::string& a, const std::string& b) {  // no early exit on the first difference
    unsigned diff = unsigned(a.size() ^ b.size());
    for (size_t i = 0; i < a.size(); ++i) diff |= unsigned(uint8_t(a[i]) ^ uint8_t(i < b.size() ? b[i] : 0));
    return diff == 0;
}

// A Content-Length value; anything that is not a plain decimal number counts as too large.
uint64_t declared_length(const std::string& v) {
    if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) return UINT64_MAX;
    return std::strtoull(v.c_str(), nullptr, 10);
}

void send_json(httplib::Response& res, int status, const json& j) {
    res.status = status;
    res.set_content(j.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

class Server {
public:
    Server(std::shared_ptr<engine::Model> model, const ServeOptions& o)
        : model_(std::move(model)), o_(o), tok_(model_->tokenizer()),
          slots_(model_, session_config(o), o.parallel, o.sessions_dir, o.max_queue), http_(o.connection) {
        model_id_ = o.model_id.empty() ? std::filesystem::path(model_->path()).stem().string() : o.model_id;
        created_ = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                       .count();
        routes();
    }

    int run();

private:
    static engine::SessionConfig session_config(const ServeOptions& o) {
        engine::SessionConfig c = o.session;
        c.sampling.repeat_last_n = o.limits.max_repeat_last_n;  // the history a request's penalties may look at
        return c;
    }

    // Every API handler goes through here: the key, then the handler; any error becomes JSON.
    template <class F>
    httplib::Server::Handler api(F f) {
        return [this, f](const httplib::Request& req, httplib::Response& res) {
            try {
                if (!o_.api_key.empty()) {
                    const std::string h = req.get_header_value("Authorization");
                    if (!same_secret(h, "Bearer " + o_.api_key))
                        throw ApiError(401, "missing or wrong API key: send 'Authorization: Bearer KEY'",
                                       "authentication_error", "", "invalid_api_key");
                }
                f(req, res);
            } catch (const ApiError& e) {
                // A refused request may leave body bytes unread: close instead of parsing them.
                if (e.status == 401 || e.status == 413 || e.code == "unreadable_body")
                    if (GuardedStream* c = current_connection()) c->close_after_response();
                send_json(res, e.status, error_body(e));
            } catch (const Error& e) {
                const int st = e.status() == Status::invalid_argument ? 400 : 500;
                send_json(res, st, error_body(st, e.what(), st == 400 ? "invalid_request_error" : "server_error"));
            } catch (const std::exception& e) {
                send_json(res, 500, error_body(500, std::string("internal error: ") + e.what(), "server_error"));
            }
            metrics_.add_request(res.status < 0 ? 200 : res.status);
        };
    }

    // POST handlers read the body themselves: httplib would parse one sent as
    // application/x-www-form-urlencoded (what `curl -d` sends) as form fields, and refuse it with
    // 413 past 8 KiB. f(req, res, body).
    template <class F>
    httplib::Server::HandlerWithContentReader api_post(F f) {
        return [this, f](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
            api([&](const httplib::Request& q, httplib::Response& r) {
                const std::string declared = q.get_header_value("Content-Length");
                const bool over = !declared.empty() && declared_length(declared) > o_.max_body_bytes;
                std::string body;
                bool too_big = over;  // refused before a byte of it is read
                const bool ok = over || reader([&](const char* data, size_t n) {
                    if (body.size() + n > o_.max_body_bytes) return !(too_big = true);
                    body.append(data, n);
                    return true;
                });
                if (too_big)
                    throw ApiError(413, "the body is larger than this server takes (" + std::to_string(o_.max_body_bytes) +
                                            " bytes)");
                if (!ok) throw ApiError(400, "the body could not be read", "invalid_request_error", "", "unreadable_body");
                f(q, r, body);
            })(req, res);
        };
    }

    void routes();
    void completion(const httplib::Request& req, httplib::Response& res, const std::string& body, bool chat);
    json models() const;
    // An info metric naming the KV cache's element types (--cache-type-k/-v): its value is 1.
    std::string cache_type_metric() const {
        const kv::CacheTypes& t = o_.session.cache_types;
        return std::string("# HELP vkstream_kv_cache_type_info The KV cache's element types (value 1).\n"
                           "# TYPE vkstream_kv_cache_type_info gauge\n") +
               "vkstream_kv_cache_type_info{k=\"" + quant::info(t.k).name + "\",v=\"" + quant::info(t.v).name +
               "\",f16_sinks=\"" + (t.quantized() && t.f16_sinks ? "true" : "false") + "\"} 1\n";
    }

    std::shared_ptr<engine::Model> model_;
    ServeOptions o_;
    const tokenizer::Tokenizer& tok_;
    SlotPool slots_;
    Metrics metrics_;
    GuardedServer http_;
    std::string model_id_;
    int64_t created_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<uint64_t> next_id_{0};
};

json Server::models() const {
    const auto& d = model_->desc();
    return {{"object", "list"},
            {"data",
             {{{"id", model_id_},
               {"object", "model"},
               {"created", created_},
               {"owned_by", "vkstream"},
               {"meta",
                {{"architecture", model::arch_name(d.arch)},
                 {"n_params", model_->n_params()},
                 {"n_vocab", d.n_vocab},
                 {"n_ctx_train", d.n_ctx_train},
                 {"n_sink", o_.session.n_sink},
                 {"cache_capacity", slots_.cache_fill()[0].second},
                 {"cache_type_k", quant::info(o_.session.cache_types.k).name},
                 {"cache_type_v", quant::info(o_.session.cache_types.v).name},
                 {"slots", slots_.n_slots()}}}}}}};
}

// A generation request holds its slot through this; the slot goes back when the last owner
// (the handler, or the stream provider httplib keeps after the handler returns) lets go.
struct Job {
    SlotPool* pool = nullptr;
    SlotPool::Lease lease;
    bool keep = false;  // the slot's cache and text agree: keep (and save) the conversation
    CompletionRequest req;
    std::string id;
    int64_t created = 0;
    size_t prompt_tokens = 0, prompt_fed = 0;
    double prompt_ms = 0;
    ~Job() {
        if (lease.slot) pool->release(*lease.slot, keep);
    }
};

void Server::completion(const httplib::Request&, httplib::Response& res, const std::string& body, bool chat) {
    auto job = std::make_shared<Job>();
    job->pool = &slots_;
    job->req = parse_completion(parse_body(body), chat, model_->chat_format(), o_.limits, o_.session.sampling);
    CompletionRequest& cr = job->req;
    if (!cr.model.empty() && cr.model != model_id_)
        throw ApiError(404, "the model '" + cr.model + "' does not exist; this server serves '" + model_id_ + "'",
                       "invalid_request_error", "model", "model_not_found");
    // The whole prompt is tokenized for the usage figures, even when only its new part will be
    // fed. The length limit applies to that new part (below): the cache rolls, so a conversation
    // may grow without end; what a request may not do is ask for more prefill work than the limit.
    const std::vector<int32_t> full = tok_.encode(cr.prompt, true, true);
    if (full.empty())
        throw ApiError(400, "the prompt is empty and the model has no BOS token to start from", "invalid_request_error",
                       "prompt");
    if (!cr.seeded) cr.sampling.seed = std::random_device{}() * 0x9E3779B97F4A7C15ull + next_id_.load();
    job->id = std::string(chat ? "chatcmpl-" : "cmpl-") + std::to_string(created_) + "-" +
              std::to_string(next_id_.fetch_add(1));
    job->created =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    job->prompt_tokens = full.size();

    GuardedStream* conn = current_connection();
    auto gone = [conn, this] { return stopping_.load() || (conn && conn->client_gone()); };
    job->lease = slots_.acquire(cr.prompt, gone);
    if (!job->lease.slot) return;  // the client left while queued: nobody to answer
    Slot& slot = *job->lease.slot;
    engine::Session& s = *slot.session;

    // Feed only what the slot's cache does not hold yet, a chunk at a time so that a client that
    // leaves during a long prefill is noticed.
    const auto t0 = Clock::now();
    const std::string delta = cr.prompt.substr(job->lease.reused);
    const std::vector<int32_t> ids = tok_.encode(delta, job->lease.reused == 0, true);
    if (int64_t(ids.size()) > o_.limits.max_prompt_tokens) {
        job->keep = true;  // nothing was fed: the slot's cache and text still agree, keep them
        throw ApiError(400,
                       "the prompt has " + std::to_string(ids.size()) + " tokens to feed" +
                           (job->lease.reused ? " beyond the conversation this server holds" : "") +
                           "; this server feeds at most " + std::to_string(o_.limits.max_prompt_tokens) +
                           " per request",
                       "invalid_request_error", chat ? "messages" : "prompt", "context_length_exceeded");
    }
    for (size_t done = 0; done < ids.size();) {
        if (gone()) return;  // Job's destructor resets the slot (keep is false)
        const size_t n = std::min<size_t>(ids.size() - done, s.config().n_batch);
        s.feed({ids.data() + done, n});
        done += n;
        slot.n_cached.store(s.n_cached());
    }
    slot.text.append(delta);
    job->keep = true;
    job->prompt_fed = ids.size();
    job->prompt_ms = ms_since(t0);
    metrics_.add_prompt_tokens(ids.size(), full.size() > ids.size() ? full.size() - ids.size() : 0);
    if (!s.has_logits()) throw ApiError(400, "nothing to generate from: the prompt fed no token");
    s.sampler() = engine::Sampler(cr.sampling);

    // Runs the generation; on_text gets each piece of text, false from it stops (client gone).
    // Returns the finish reason, or nullptr when the client left.
    auto generate = [this, job, gone](const std::function<bool(std::string_view)>& on_text, json& timings,
                                      int64_t& n_out) -> const char* {
        Slot& slot = *job->lease.slot;
        engine::Session& s = *slot.session;
        engine::GenerateOptions opt;
        opt.max_tokens = job->req.max_tokens;
        opt.stop = job->req.stop;
        opt.cancel = &stopping_;
        bool left = false;
        const auto t0 = Clock::now();
        engine::GenerateResult r;
        try {
            r = engine::generate(s, opt, [&](int32_t t, std::string_view text) {
                if (t >= 0) metrics_.add_generated(1);
                if (!text.empty() && !on_text(text)) return !(left = true);
                if (gone()) return !(left = true);
                return true;
            });
        } catch (...) {
            job->keep = false;  // the cache may hold tokens the text does not: start the slot afresh
            throw;
        }
        slot.text.append(tok_.decode(r.fed, true));
        slot.n_cached.store(s.n_cached());
        n_out = r.n_tokens;
        const double gen_ms = ms_since(t0);
        timings = {{"prompt_n", job->prompt_fed},
                   {"prompt_cached", job->prompt_tokens > job->prompt_fed ? job->prompt_tokens - job->prompt_fed : 0},
                   {"prompt_ms", job->prompt_ms},
                   {"predicted_n", r.n_tokens},
                   {"predicted_ms", gen_ms},
                   {"predicted_per_second", gen_ms > 0 ? 1000.0 * double(r.n_tokens) / gen_ms : 0.0},
                   {"n_past", s.n_past()},
                   {"cache_n", s.n_cached()},
                   {"cache_capacity", s.cache().max_capacity()},
                   {"slot", slot.id},
                   {"restored", job->lease.restored}};
        if (left || r.finish == engine::FinishReason::cancelled) return nullptr;
        return finish_reason(r.finish == engine::FinishReason::length);
    };
    auto usage = [job](int64_t n_out) {
        const size_t cached = job->prompt_tokens > job->prompt_fed ? job->prompt_tokens - job->prompt_fed : 0;
        return json{{"prompt_tokens", job->prompt_tokens},
                    {"completion_tokens", n_out},
                    {"total_tokens", int64_t(job->prompt_tokens) + n_out},
                    {"prompt_tokens_details", {{"cached_tokens", cached}}}};
    };
    const char* object = chat ? "chat.completion" : "text_completion";
    const std::string model_id = model_id_;

    if (!cr.stream) {
        std::string text;
        json timings;
        int64_t n_out = 0;
        const char* finish = generate([&](std::string_view t) { return text.append(t), true; }, timings, n_out);
        if (!finish) return;  // nobody to answer
        json choice = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", finish}};
        if (chat) choice["message"] = {{"role", "assistant"}, {"content", text}};
        else choice["text"] = text;
        send_json(res, 200,
                  {{"id", job->id}, {"object", object}, {"created", job->created}, {"model", model_id},
                   {"choices", json::array({choice})}, {"usage", usage(n_out)}, {"timings", timings}});
        return;
    }

    // Server-sent events: `data: {chunk}` frames, one id; the first delta carries the role, the
    // last the finish_reason; a usage chunk if asked; then `data: [DONE]`.
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider(
        "text/event-stream", [job, generate, usage, chat, model_id](size_t, httplib::DataSink& sink) {
            const std::string chunk_object = chat ? "chat.completion.chunk" : "text_completion";
            auto frame = [&](json choices, const json* extra = nullptr) {
                json c = {{"id", job->id}, {"object", chunk_object}, {"created", job->created}, {"model", model_id},
                          {"choices", std::move(choices)}};
                if (extra) c.update(*extra);
                const std::string s = "data: " + c.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
                return sink.write(s.data(), s.size());
            };
            auto piece = [&](std::string_view text, const json& finish) {
                json ch = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", finish}};
                if (chat) ch["delta"] = text.empty() && !finish.is_null() ? json::object() : json{{"content", text}};
                else ch["text"] = text;
                return frame(json::array({ch}));
            };
            if (chat) {
                json first = {{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"logprobs", nullptr},
                              {"finish_reason", nullptr}};
                if (!frame(json::array({first}))) return false;
            }
            json timings;
            int64_t n_out = 0;
            const char* finish = nullptr;
            try {
                finish = generate([&](std::string_view t) { return piece(t, nullptr); }, timings, n_out);
            } catch (const std::exception& e) {
                // Headers are gone: the error travels as an event, as OpenAI's API does.
                const std::string s = "data: " + error_body(500, e.what(), "server_error").dump() + "\n\n";
                sink.write(s.data(), s.size());
                return false;
            }
            if (!finish) return false;  // the client left
            json ch = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", finish}};
            if (chat) ch["delta"] = json::object();
            else ch["text"] = "";
            const json extra = {{"timings", timings}};
            if (!frame(json::array({ch}), &extra)) return false;
            if (job->req.include_usage) {
                const json u = {{"usage", usage(n_out)}};
                if (!frame(json::array(), &u)) return false;
            }
            static const char done[] = "data: [DONE]\n\n";
            sink.write(done, sizeof done - 1);
            sink.done();
            return true;
        });
}

void Server::routes() {
    http_.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
        send_json(res, 200,
                  {{"status", "ok"}, {"slots_idle", slots_.n_slots() - slots_.active()},
                   {"slots_processing", slots_.active()}});
    });
    auto page = [](const httplib::Request&, httplib::Response& res) {
        res.set_content(reinterpret_cast<const char*>(k_chat_page), sizeof k_chat_page, "text/html; charset=utf-8");
        res.set_header("Cache-Control", "no-cache");
    };
    http_.Get("/", page);
    http_.Get("/index.html", page);
    http_.Get("/v1/models", api([this](const httplib::Request&, httplib::Response& res) { send_json(res, 200, models()); }));
    http_.Get("/models", api([this](const httplib::Request&, httplib::Response& res) { send_json(res, 200, models()); }));
    http_.Get("/metrics", api([this](const httplib::Request&, httplib::Response& res) {
        res.set_content(metrics_.render(slots_, model_->weight_bytes()) + cache_type_metric(), "text/plain; version=0.0.4");
    }));
    using Req = httplib::Request;
    using Res = httplib::Response;
    http_.Post("/v1/chat/completions",
               api_post([this](const Req& q, Res& r, const std::string& b) { completion(q, r, b, true); }));
    http_.Post("/v1/completions",
               api_post([this](const Req& q, Res& r, const std::string& b) { completion(q, r, b, false); }));
    http_.Post("/tokenize", api_post([this](const Req&, Res& res, const std::string& body) {
        json b = parse_body(body);
        if (!b.contains("content") || !b["content"].is_string())
            throw ApiError(400, "'content' must be a string", "invalid_request_error", "content");
        bool add_special = false;
        if (b.contains("add_special")) {
            if (!b["add_special"].is_boolean())
                throw ApiError(400, "'add_special' must be true or false", "invalid_request_error", "add_special");
            add_special = b["add_special"].get<bool>();
        }
        send_json(res, 200, {{"tokens", tok_.encode(b["content"].get<std::string>(), add_special, true)}});
    }));
    http_.Post("/detokenize", api_post([this](const Req&, Res& res, const std::string& body) {
        json b = parse_body(body);
        if (!b.contains("tokens") || !b["tokens"].is_array())
            throw ApiError(400, "'tokens' must be an array of token ids", "invalid_request_error", "tokens");
        std::vector<int32_t> ids;
        for (const json& t : b["tokens"]) {
            if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= tok_.n_vocab())
                throw ApiError(400,
                               "'tokens' holds " + t.dump() + ", not a token id in [0, " +
                                   std::to_string(tok_.n_vocab()) + ")",
                               "invalid_request_error", "tokens");
            ids.push_back(int32_t(t.get<int64_t>()));
        }
        send_json(res, 200, {{"content", tok_.decode(ids)}});
    }));
    // Errors httplib answers itself (no route, 413 body too large, a malformed request, 408...)
    // and any handler that set an error status without a body: a JSON error object.
    http_.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        // httplib's own errors (a malformed request, a body over the limit) may leave unread
        // bytes behind: answer, then close rather than parse them as the next request.
        if (res.status != 404 && res.status != 405)
            if (GuardedStream* c = current_connection()) c->close_after_response();
        const std::string msg =
            res.status == 404   ? "no such endpoint"
            : res.status == 413 ? "the body is larger than this server takes (" + std::to_string(o_.max_body_bytes) +
                                      " bytes)"
            : res.status == 405 ? "method not allowed"
                                : "bad request";
        send_json(res, res.status,
                  error_body(res.status, msg, res.status == 404 ? "not_found_error" : "invalid_request_error"));
        if (res.status != 404) metrics_.add_request(res.status);
        return httplib::Server::HandlerResponse::Handled;
    }));
    http_.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        send_json(res, 500, error_body(500, "internal error", "server_error"));
    });
    http_.set_payload_max_length(o_.max_body_bytes);
    http_.set_logger([](const httplib::Request& req, const httplib::Response& res) {
        std::fprintf(stderr, "serve: %s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
    });
    // Threads: every slot, every queued request and some for /health, /metrics and slow clients.
    const size_t threads = size_t(o_.parallel + o_.max_queue + 8);
    http_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
}

int Server::run() {
    // SIGINT/SIGTERM: stop accepting, cancel running generations, return. The signals are blocked
    // in every thread (block_stop_signals) and taken by one that waits for them.
    block_stop_signals();
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    signal(SIGPIPE, SIG_IGN);
    int port = o_.port;
    if (port == 0) port = http_.bind_to_any_port(o_.host);
    else if (!http_.bind_to_port(o_.host, port)) port = -1;
    if (port < 0) fail(Status::io_error, "cannot listen on %s:%d", o_.host.c_str(), o_.port);
    std::thread waiter([this, set] {
        int sig = 0;
        sigwait(&set, &sig);
        std::fprintf(stderr, "serve: %s, stopping\n", sig == SIGINT ? "interrupted" : "terminated");
        stopping_.store(true);
        http_.stop();
    });
    std::fprintf(stderr, "serve: %s on http://%s:%d/ (%d slot%s of %u sinks + %u window, %.1f MiB of KV: %s)%s\n",
                 model_id_.c_str(), o_.host.c_str(), port, slots_.n_slots(), slots_.n_slots() == 1 ? "" : "s",
                 o_.session.n_sink, slots_.cache_fill()[0].second - o_.session.n_sink, double(slots_.kv_bytes()) / (1 << 20),
                 kv::describe(o_.session.cache_types).c_str(), o_.api_key.empty() ? "" : ", API key required");
    const bool ok = http_.listen_after_bind();
    if (!stopping_.load()) pthread_kill(waiter.native_handle(), SIGTERM);  // listen failed by itself: end the waiter
    waiter.join();
    std::fprintf(stderr, "serve: stopped\n");
    return ok || stopping_.load() ? 0 : 1;
}

}  // namespace

void block_stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int run_server(std::shared_ptr<engine::Model> model, const ServeOptions& options) {
    if (options.parallel < 1) fail(Status::invalid_argument, "--parallel must be at least 1");
    Server s(std::move(model), options);
    return s.run();
}

}  // namespace vks::server
