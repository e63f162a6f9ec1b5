#pragma once
// The vkstream CLI: one file per subcommand (cmd_<name>.cpp), registered in main.cpp.
#include <string>
#include <vector>

namespace vks::cli {

using Args = std::vector<std::string>;  // arguments after the subcommand name

int cmd_info(const Args& args);
int cmd_inspect(const Args& args);
int cmd_quantize(const Args& args);
int cmd_run(const Args& args);
int cmd_chat(const Args& args);
int cmd_bench(const Args& args);  // cmd_bench.cpp: --kernels; -m MODEL goes to bench_model
int bench_model(const Args& args);  // cmd_bench_model.cpp
int bench_first_token(const std::string& model_path, uint32_t n_prompt, bool json);  // cmd_bench_first_token.cpp
int bench_first_token_child(const std::string& model_path, uint32_t n_prompt);
int cmd_soak(const Args& args);
int cmd_perplexity(const Args& args);
int cmd_serve(const Args& args);  // the server itself: apps/server

}  // namespace vks::cli
