#pragma once
// `vkstream serve`: an OpenAI-compatible HTTP server over N sessions of one model
// (docs/DESIGN.md, "Server"). run_server blocks until SIGINT/SIGTERM.
#include <memory>
#include <string>

#include "engine/model.hpp"
#include "engine/session.hpp"
#include "server/api.hpp"
#include "server/http.hpp"

namespace vks::server {

struct ServeOptions {
    std::string host = "127.0.0.1";  // loopback unless told otherwise
    int port = 8080;                 // 0: any free port (the one taken is printed)
    int parallel = 1;                // slots: requests generating at the same time
    int max_queue = 64;              // requests waiting for a slot before 503
    std::string model_id;            // the name /v1/models gives (default: the file name)
    std::string sessions_dir;        // save conversations here (empty: don't)
    std::string api_key;             // non-empty: every endpoint but /health and the page needs it
    size_t max_body_bytes = 8u << 20;
    engine::SessionConfig session;
    Limits limits;
    ConnectionLimits connection;
};

// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts from now on (the
// Vulkan driver's too), so that run_server's signal thread alone receives them. Call it first.
void block_stop_signals();

int run_server(std::shared_ptr<engine::Model> model, const ServeOptions& options);

}  // namespace vks::server
