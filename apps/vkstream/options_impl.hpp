#pragma once
#include <cstdlib>
#include <cerrno>
#include <optional>

#include "kv/cache_types.hpp"

namespace vks::cli {

namespace detail {
inline bool to_i64(const std::string& s, int64_t& v) {
    char* end = nullptr;
    errno = 0;
    long long x = std::strtoll(s.c_str(), &end, 10);
    if (errno || !end || *end || s.empty()) return false;
    v = x;
    return true;
}
inline bool to_f32(const std::string& s, float& v) {
    char* end = nullptr;
    errno = 0;
    float x = std::strtof(s.c_str(), &end);
    if (errno || !end || *end || s.empty()) return false;
    v = x;
    return true;
}
}  // namespace detail

template <class Extra>
bool parse_model_args(const Args& args, ModelArgs& o, std::string& error, Extra&& extra) {
    auto& sp = o.session.sampling;
    bool sinks_given = false;  // --cache-sinks: else a rotated cache keeps its sinks in f16
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto need = [&](const char* what) -> const std::string* {
            if (i + 1 >= args.size()) {
                error = a + " needs " + what;
                return nullptr;
            }
            return &args[++i];
        };
        int64_t iv = 0;
        float fv = 0;
        auto int_arg = [&](int64_t lo, int64_t hi) -> bool {
            const std::string* v = need("a number");
            if (!v) return false;
            if (!detail::to_i64(*v, iv) || iv < lo || iv > hi) {
                error = a + ": bad value '" + *v + "'";
                return false;
            }
            return true;
        };
        auto float_arg = [&]() -> bool {
            const std::string* v = need("a number");
            if (!v) return false;
            if (!detail::to_f32(*v, fv)) {
                error = a + ": bad value '" + *v + "'";
                return false;
            }
            return true;
        };
        if (a == "-m" || a == "--model") { auto v = need("a path"); if (!v) return false; o.model = *v; }
        else if (a == "-p" || a == "--prompt") { auto v = need("text"); if (!v) return false; o.prompt = *v; }
        else if (a == "-f" || a == "--file") { auto v = need("a path"); if (!v) return false; o.file = *v; }
        else if (a == "-n" || a == "--n-predict") { if (!int_arg(-1, INT64_MAX)) return false; o.n_predict = iv; }
        else if (a == "--sink") { if (!int_arg(0, 1 << 20)) return false; o.session.n_sink = uint32_t(iv); }
        else if (a == "--window") { if (!int_arg(1, 1 << 24)) return false; o.session.n_window = uint32_t(iv); }
        else if (a == "--batch") { if (!int_arg(1, 4096)) return false; o.session.n_batch = uint32_t(iv); }
        else if (a == "--cache-type-k" || a == "--cache-type-v") {
            auto v = need("f16, q8_0 or q4_0");
            if (!v) return false;
            const std::optional<quant::Type> t = kv::parse_cache_type(*v);
            if (!t) return error = a + ": '" + *v + "' is not f16, q8_0 or q4_0", false;
            (a == "--cache-type-k" ? o.session.cache_types.k : o.session.cache_types.v) = *t;
        }
        else if (a == "--cache-sinks") {
            auto v = need("f16 or same");
            if (!v) return false;
            if (*v != "f16" && *v != "same") return error = a + ": '" + *v + "' is not f16 or same", false;
            o.session.cache_types.f16_sinks = *v == "f16";
            sinks_given = true;
        }
        else if (a == "--cache-rotate") { o.session.cache_types.hadamard = true; }
        else if (a == "--temp") { if (!float_arg()) return false; sp.temperature = fv; }
        else if (a == "--top-k") { if (!int_arg(0, INT32_MAX)) return false; sp.top_k = int(iv); }
        else if (a == "--top-p") { if (!float_arg()) return false; sp.top_p = fv; }
        else if (a == "--min-p") { if (!float_arg()) return false; sp.min_p = fv; }
        else if (a == "--repeat-penalty") { if (!float_arg()) return false; sp.repeat_penalty = fv; }
        else if (a == "--seed") { if (!int_arg(0, INT64_MAX)) return false; sp.seed = uint64_t(iv); }
        else if (a == "--greedy") { o.greedy = true; sp.temperature = 0; }
        else if (a == "--json") { o.json = true; }
        else if (a == "-v" || a == "--verbose") { o.verbose = true; }
        else {
            size_t used = extra(args, i);
            if (used == 0) {
                if (error.empty()) error = "unknown option '" + a + "'";
                return false;
            }
            i += used - 1;
        }
    }
    // The calibrated rotation's default: sinks exact (docs/STREAMING.md, "Calibrated rotation").
    if (o.session.cache_types.hadamard && !sinks_given) o.session.cache_types.f16_sinks = true;
    if (o.model.empty()) {
        error = "no model: pass -m MODEL.gguf";
        return false;
    }
    return true;
}

}  // namespace vks::cli
