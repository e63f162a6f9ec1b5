#pragma once
// The OpenAI-compatible request and response shapes of `vkstream serve`: parsing and checking
// request bodies (every field's type and range; unknown fields are ignored), and the JSON of
// responses, stream chunks and errors. No HTTP and no device here.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/sampler.hpp"
#include "tokenizer/chat_template.hpp"

namespace vks::server {

using json = nlohmann::json;

// An error the client caused (or a server condition it should see): HTTP status + OpenAI error
// object {"error": {"message", "type", "param", "code"}}.
struct ApiError : std::runtime_error {
    int status;
    std::string type, param, code;
    ApiError(int status, std::string message, std::string type = "invalid_request_error", std::string param = "",
             std::string code = "")
        : std::runtime_error(std::move(message)), status(status), type(std::move(type)), param(std::move(param)),
          code(std::move(code)) {}
};
json error_body(const ApiError& e);
json error_body(int status, const std::string& message, const std::string& type = "invalid_request_error");

// What the server allows; requests outside it get 400.
struct Limits {
    int64_t max_prompt_tokens = 32768;
    int64_t default_max_tokens = 4096;  // when a request gives none
    int64_t max_max_tokens = 1 << 20;
    int max_stop = 16;                  // stop strings per request
    size_t max_stop_bytes = 256;
    int max_repeat_last_n = 256;        // the server's sessions keep this much history
};

struct CompletionRequest {
    bool chat = false;                  // /v1/chat/completions (else /v1/completions)
    std::string prompt;                 // the text to continue (chat: the rendered conversation)
    std::string model;                  // as sent (may be empty)
    bool stream = false;
    bool include_usage = false;         // stream_options.include_usage
    int64_t max_tokens = 0;
    std::vector<std::string> stop;
    engine::SamplerParams sampling;
    bool seeded = false;                // the request gave a seed
};

// Parses and checks a /v1/chat/completions or /v1/completions body. Throws ApiError(400) naming
// the offending field. Sampling fields not given take `defaults`; the result is checked by
// constructing a Sampler.
CompletionRequest parse_completion(const json& body, bool chat, const tokenizer::ChatFormat& format,
                                   const Limits& limits, const engine::SamplerParams& defaults);

// The body as JSON: malformed JSON, invalid UTF-8 or a non-object is ApiError(400).
json parse_body(const std::string& body);

// OpenAI finish_reason for an engine finish ("stop" or "length").
const char* finish_reason(bool length);

}  // namespace vks::server
