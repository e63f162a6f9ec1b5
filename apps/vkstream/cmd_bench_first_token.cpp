// vkstream bench -m MODEL --first-token [--prompt-tokens N] [--json]
// Time from process start to the first generated token, with cold and with warm caches. The
// parent runs this program again as a child for each measurement (a start-up can only be
// measured in a fresh process) and takes the time from just before it spawns the child to the
// moment the child's line announcing the token arrives through a pipe, so exec, dynamic
// loading, model load, pipeline compilation, the prompt's prefill and the sampling all count.
//   cold:  MESA_SHADER_CACHE_DIR = a new empty folder (Mesa drivers' shader cache), and
//          VKS_CACHE_DIR=off (no vkstream pipeline cache).
//   warm:  the same two caches filled by a previous run (two runs after the cold one: the
//          first fills vkstream's pipeline cache, the second is reported).
// The child (--first-token-child) also reports its own phases: model load, session creation
// (which builds the pipelines, Session::prepare_pipelines) and prefill + sampling.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "commands.hpp"
#include "json.hpp"
#include "options.hpp"

namespace vks::cli {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Taken when the program's static objects are initialized, i.e. just before main().
const Clock::time_point g_process_start = Clock::now();

struct ChildResult {
    bool ok = false;
    double wall_s = 0;                         // parent's clock: spawn -> first-token line
    double load_s = 0, session_s = 0, first_s = 0;  // the child's phases
    double cpu_s = 0;  // the child's CPU time (user + system, all its threads, to its exit)
    int token = -1;
    std::string error;
};

// Runs `exe bench -m model --first-token-child N` with `env` added; reads its one result line.
ChildResult run_child(const std::string& exe, const std::string& model, uint32_t n_prompt,
                      const std::vector<std::pair<std::string, std::string>>& env) {
    ChildResult r;
    int fds[2];
    if (pipe(fds) != 0) {
        r.error = "pipe() failed";
        return r;
    }
    const std::string n = std::to_string(n_prompt);
    const auto t0 = Clock::now();
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]), close(fds[1]);
        r.error = "fork() failed";
        return r;
    }
    if (pid == 0) {  // child: only async-signal-safe work until exec
        dup2(fds[1], 1);
        close(fds[0]), close(fds[1]);
        for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
        const char* argv[] = {exe.c_str(), "bench", "-m", model.c_str(), "--first-token-child", n.c_str(), nullptr};
        execv(exe.c_str(), const_cast<char* const*>(argv));
        _exit(127);
    }
    close(fds[1]);
    std::string line;
    char c;
    while (read(fds[0], &c, 1) == 1 && c != '\n') line += c;
    r.wall_s = seconds_since(t0);
    // Drain the rest (the child exits after its line) and reap it.
    while (read(fds[0], &c, 1) == 1) {
    }
    close(fds[0]);
    int status = 0;
    struct rusage ru {};
    wait4(pid, &status, 0, &ru);
    r.cpu_s = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + 1e-6 * double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    if (std::sscanf(line.c_str(), "first-token %d %lf %lf %lf", &r.token, &r.load_s, &r.session_s, &r.first_s) == 4) {
        r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (!r.ok) r.error = "child exited with an error after its first token";
    } else {
        r.error = "child gave no first token (status " + std::to_string(status) + "): " + line;
    }
    return r;
}

}  // namespace

// The child: load, create a session, feed the prompt, sample; one line on stdout.
int bench_first_token_child(const std::string& model_path, uint32_t n_prompt) {
    const auto t_load = Clock::now();
    auto model = engine::Model::load(model_path);
    const double load_s = seconds_since(t_load);
    const auto t_session = Clock::now();
    engine::SessionConfig cfg;
    cfg.n_window = 1020;
    cfg.sampling.temperature = 0;
    engine::Session session(model, cfg);
    const double session_s = seconds_since(t_session);
    std::vector<int32_t> prompt = model->tokenizer().encode("", true, false);
    static const char* text =
        "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in "
        "want of a wife. However little known the feelings or views of such a man may be on his first entering a "
        "neighbourhood, this truth is so well fixed in the minds of the surrounding families. ";
    while (prompt.size() < n_prompt) {
        auto more = model->tokenizer().encode(text, false, false);
        prompt.insert(prompt.end(), more.begin(), more.end());
    }
    prompt.resize(n_prompt);
    session.feed(prompt);
    const int32_t token = session.sample();
    std::printf("first-token %d %.6f %.6f %.6f\n", token, load_s, session_s, seconds_since(g_process_start));
    std::fflush(stdout);
    return 0;
}

int bench_first_token(const std::string& model_path, uint32_t n_prompt, bool json) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const std::string exe = fs::read_symlink("/proc/self/exe", ec).string();
    if (ec || exe.empty()) {
        std::fprintf(stderr, "vkstream bench --first-token: cannot find this program's path (/proc/self/exe)\n");
        return 1;
    }
    char tmpl[] = "/tmp/vkstream-first-token-XXXXXX";
    if (!mkdtemp(tmpl)) {
        std::fprintf(stderr, "vkstream bench --first-token: cannot create a temporary folder\n");
        return 1;
    }
    const std::string dir = tmpl, mesa = dir + "/mesa", vks = dir + "/vkstream";
    fs::create_directories(mesa, ec);
    const ChildResult cold = run_child(exe, model_path, n_prompt, {{"MESA_SHADER_CACHE_DIR", mesa}, {"VKS_CACHE_DIR", "off"}});
    const ChildResult fill = run_child(exe, model_path, n_prompt, {{"MESA_SHADER_CACHE_DIR", mesa}, {"VKS_CACHE_DIR", vks}});
    const ChildResult warm = run_child(exe, model_path, n_prompt, {{"MESA_SHADER_CACHE_DIR", mesa}, {"VKS_CACHE_DIR", vks}});
    fs::remove_all(dir, ec);
    for (const ChildResult* r : {&cold, &fill, &warm})
        if (!r->ok) {
            std::fprintf(stderr, "vkstream bench --first-token: %s\n", r->error.c_str());
            return 1;
        }
    const unsigned cores = std::thread::hardware_concurrency();
    if (json) {
        Json j;
        j.begin_object().kv("model", model_path).kv("prompt_tokens", n_prompt).kv("cpu_threads", uint64_t(cores));
        auto one = [&](const char* name, const ChildResult& r) {
            j.key(name).begin_object().kv("first_token_s", r.wall_s).kv("load_s", r.load_s).kv("session_s", r.session_s)
                .kv("child_first_token_s", r.first_s).kv("cpu_s", r.cpu_s).kv("token", r.token).end_object();
        };
        one("cold", cold);
        one("warm", warm);
        one("warm_first", fill);
        j.end_object();
        std::printf("%s\n", j.str().c_str());
        return 0;
    }
    std::printf("first token, %u-token prompt, %u hardware threads (time from spawning a fresh process; CPU: the\n"
                "child's user + system time over all its threads, to its exit)\n", n_prompt, cores);
    auto line = [](const char* name, const ChildResult& r) {
        std::printf("  %-34s %6.2f s   (load %.2f s, session + pipelines %.2f s; CPU %.2f s; token %d)\n", name,
                    r.wall_s, r.load_s, r.session_s, r.cpu_s, r.token);
    };
    line("cold (empty driver cache, no vks)", cold);
    line("warm driver cache, empty vks cache", fill);
    line("warm (both caches)", warm);
    return 0;
}

}  // namespace vks::cli
