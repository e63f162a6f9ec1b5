#include "server/api.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"

namespace vks::server {

namespace {

[[noreturn]] void bad(const std::string& param, const std::string& message) {
    throw ApiError(400, message, "invalid_request_error", param);
}

// A field that is absent or null counts as not given.
const json* field(const json& body, const char* name) {
    auto it = body.find(name);
    if (it == body.end() || it->is_null()) return nullptr;
    return &*it;
}

double number(const json& v, const char* name, double lo, double hi) {
    if (!v.is_number()) bad(name, std::string("'") + name + "' must be a number");
    double d = v.get<double>();
    if (!(d >= lo && d <= hi))
        bad(name, std::string("'") + name + "' is " + v.dump() + ", outside [" + json(lo).dump() + ", " + json(hi).dump() + "]");
    return d;
}

int64_t integer(const json& v, const char* name, int64_t lo, int64_t hi) {
    if (!v.is_number_integer()) bad(name, std::string("'") + name + "' must be an integer");
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX))
        bad(name, std::string("'") + name + "' is too large");
    int64_t i = v.get<int64_t>();
    if (i < lo || i > hi)
        bad(name, std::string("'") + name + "' is " + std::to_string(i) + ", outside [" + std::to_string(lo) + ", " +
                      std::to_string(hi) + "]");
    return i;
}

bool boolean(const json& v, const char* name) {
    if (!v.is_boolean()) bad(name, std::string("'") + name + "' must be true or false");
    return v.get<bool>();
}

// Message content: a string, or an array of {"type": "text", "text": ...} parts (joined).
std::string content_text(const json& c, size_t i) {
    const std::string param = "messages[" + std::to_string(i) + "].content";
    if (c.is_null()) return {};
    if (c.is_string()) return c.get<std::string>();
    if (!c.is_array()) bad(param, "'" + param + "' must be a string or an array of text parts");
    std::string out;
    for (const json& part : c) {
        if (!part.is_object() || part.value("type", json()) != "text" || !part.contains("text") || !part["text"].is_string())
            bad(param, "'" + param + "': only parts of type \"text\" with a string \"text\" are supported");
        out += part["text"].get<std::string>();
    }
    return out;
}

}  // namespace

json error_body(const ApiError& e) {
    json err = {{"message", e.what()}, {"type", e.type}, {"param", nullptr}, {"code", nullptr}};
    if (!e.param.empty()) err["param"] = e.param;
    if (!e.code.empty()) err["code"] = e.code;
    return {{"error", err}};
}

json error_body(int status, const std::string& message, const std::string& type) {
    return error_body(ApiError(status, message, type));
}

json parse_body(const std::string& body) {
    json j;
    try {
        j = json::parse(body);  // also rejects invalid UTF-8 in strings
    } catch (const json::exception& e) {
        throw ApiError(400, std::string("the body is not valid JSON: ") + e.what());
    }
    if (!j.is_object()) throw ApiError(400, "the body must be a JSON object");
    return j;
}

const char* finish_reason(bool length) { return length ? "length" : "stop"; }

CompletionRequest parse_completion(const json& body, bool chat, const tokenizer::ChatFormat& format,
                                   const Limits& limits, const engine::SamplerParams& defaults) {
    CompletionRequest r;
    r.chat = chat;
    r.sampling = defaults;
    r.sampling.repeat_last_n = std::min(r.sampling.repeat_last_n, limits.max_repeat_last_n);
    if (const json* v = field(body, "model")) {
        if (!v->is_string()) bad("model", "'model' must be a string");
        r.model = v->get<std::string>();
    }
    if (chat) {
        const json* m = field(body, "messages");
        if (!m) bad("messages", "'messages' is required");
        if (!m->is_array() || m->empty()) bad("messages", "'messages' must be a non-empty array");
        std::vector<tokenizer::ChatMessage> msgs;
        for (size_t i = 0; i < m->size(); ++i) {
            const json& msg = (*m)[i];
            const std::string p = "messages[" + std::to_string(i) + "]";
            if (!msg.is_object()) bad(p, "'" + p + "' must be an object");
            if (!msg.contains("role") || !msg["role"].is_string()) bad(p + ".role", "'" + p + ".role' must be a string");
            std::string role = msg["role"].get<std::string>();
            if (role == "developer") role = "system";  // OpenAI's newer name for it
            if (role != "system" && role != "user" && role != "assistant")
                bad(p + ".role", "'" + p + ".role' is \"" + role + "\": only system, user and assistant are supported");
            msgs.push_back({role, content_text(msg.value("content", json()), i)});
        }
        try {
            r.prompt = tokenizer::render_chat(format, msgs, true);
        } catch (const Error& e) {
            bad("messages", e.what());  // e.g. a system message that is not first, for templates that need that
        }
    } else {
        const json* p = field(body, "prompt");
        if (!p) bad("prompt", "'prompt' is required");
        if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) r.prompt = (*p)[0].get<std::string>();
        else if (p->is_string()) r.prompt = p->get<std::string>();
        else bad("prompt", "'prompt' must be a string (or an array of one string)");
    }
    if (const json* v = field(body, "n"); v && integer(*v, "n", 1, 1) != 1) bad("n", "only n = 1 is supported");
    if (const json* v = field(body, "stream")) r.stream = boolean(*v, "stream");
    if (const json* v = field(body, "stream_options")) {
        if (!v->is_object()) bad("stream_options", "'stream_options' must be an object");
        if (const json* u = field(*v, "include_usage")) r.include_usage = boolean(*u, "stream_options.include_usage");
    }
    r.max_tokens = limits.default_max_tokens;
    if (const json* v = field(body, "max_tokens")) r.max_tokens = integer(*v, "max_tokens", 0, limits.max_max_tokens);
    if (const json* v = field(body, "max_completion_tokens"))
        r.max_tokens = integer(*v, "max_completion_tokens", 0, limits.max_max_tokens);
    if (const json* v = field(body, "stop")) {
        std::vector<json> items;
        if (v->is_string()) items.push_back(*v);
        else if (v->is_array()) items.assign(v->begin(), v->end());
        else bad("stop", "'stop' must be a string or an array of strings");
        if (int(items.size()) > limits.max_stop) bad("stop", "at most " + std::to_string(limits.max_stop) + " stop strings");
        for (const json& s : items) {
            if (!s.is_string()) bad("stop", "'stop' must be a string or an array of strings");
            std::string str = s.get<std::string>();
            if (str.size() > limits.max_stop_bytes)
                bad("stop", "a stop string is longer than " + std::to_string(limits.max_stop_bytes) + " bytes");
            if (!str.empty()) r.stop.push_back(std::move(str));
        }
    }
    engine::SamplerParams& sp = r.sampling;
    if (const json* v = field(body, "temperature")) sp.temperature = float(number(*v, "temperature", 0.0, 2.0));
    if (const json* v = field(body, "top_p")) sp.top_p = float(number(*v, "top_p", 0.0, 1.0));
    if (const json* v = field(body, "top_k")) sp.top_k = int(integer(*v, "top_k", 0, INT32_MAX));
    if (const json* v = field(body, "min_p")) sp.min_p = float(number(*v, "min_p", 0.0, 1.0));
    if (const json* v = field(body, "presence_penalty"))
        sp.presence_penalty = float(number(*v, "presence_penalty", -2.0, 2.0));
    if (const json* v = field(body, "frequency_penalty"))
        sp.frequency_penalty = float(number(*v, "frequency_penalty", -2.0, 2.0));
    if (const json* v = field(body, "repeat_penalty")) sp.repeat_penalty = float(number(*v, "repeat_penalty", 1e-3, 100.0));
    if (const json* v = field(body, "repeat_last_n"))
        sp.repeat_last_n = int(integer(*v, "repeat_last_n", 0, limits.max_repeat_last_n));
    if (const json* v = field(body, "seed")) {
        sp.seed = uint64_t(integer(*v, "seed", INT64_MIN, INT64_MAX));
        r.seeded = true;
    }
    try {
        engine::Sampler check(sp);
    } catch (const Error& e) {
        bad("", e.what());
    }
    return r;
}

}  // namespace vks::server
