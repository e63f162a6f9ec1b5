#pragma once
// Shared option parsing for the model-running subcommands (run, chat, bench, perplexity, soak).
#include <cstdint>
#include <string>

#include "commands.hpp"
#include "engine/session.hpp"
#include "model/synthetic.hpp"

namespace vks::cli {

struct ModelArgs {
    std::string model;         // -m
    std::string prompt;        // -p
    std::string file;          // -f
    int64_t n_predict = 128;   // -n (-1: for ever)
    engine::SessionConfig session;
    bool greedy = false;
    bool json = false;
    bool verbose = false;
};

// Parses the common flags; unknown flags are an error unless `extra` takes them
// (extra returns the number of arguments it consumed, 0 if not its flag).
template <class Extra>
bool parse_model_args(const Args& args, ModelArgs& out, std::string& error, Extra&& extra);
bool parse_model_args(const Args& args, ModelArgs& out, std::string& error);

const char* model_args_help();

// Loads the model with a progress bar on stderr.
std::shared_ptr<engine::Model> load_model_with_progress(const std::string& path);

// --synthetic: writes a random model of this shape to a temporary file, loads it and unlinks
// the file at once (the mapping keeps the data), so nothing is left behind even if killed.
std::shared_ptr<engine::Model> load_synthetic_model(const model::SyntheticConfig& config);

}  // namespace vks::cli

#include "options_impl.hpp"
