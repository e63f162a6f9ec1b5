#include "engine/generate.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "tokenizer/tokenizer.hpp"

namespace vks::engine {

const char* finish_reason_name(FinishReason r) {
    switch (r) {
        case FinishReason::length: return "length";
        case FinishReason::end_token: return "end_token";
        case FinishReason::stop: return "stop";
        case FinishReason::callback: return "callback";
        case FinishReason::cancelled: return "cancelled";
    }
    return "unknown";
}

StopMatcher::StopMatcher(std::vector<std::string> stops) {
    for (std::string& s : stops)
        if (!s.empty()) stops_.push_back(std::move(s));
}

std::string StopMatcher::push(std::string_view text) {
    if (found_) return {};
    held_.append(text);
    // The earliest stop string wins (then the longest at that position).
    size_t at = std::string::npos, len = 0;
    for (const std::string& s : stops_) {
        size_t p = held_.find(s);
        if (p != std::string::npos && (p < at || (p == at && s.size() > len))) at = p, len = s.size();
    }
    if (at != std::string::npos) {
        found_ = true;
        std::string out = held_.substr(0, at);
        held_.clear();
        return out;
    }
    // Hold back the longest tail that is a proper prefix of a stop string. Stop strings are whole
    // UTF-8, so such a tail starts on a character boundary and what is released stays whole.
    size_t keep = 0;
    for (const std::string& s : stops_) {
        for (size_t n = std::min(s.size() - 1, held_.size()); n > keep; --n) {
            if (held_.compare(held_.size() - n, n, s, 0, n) == 0) {
                keep = n;
                break;
            }
        }
    }
    std::string out = held_.substr(0, held_.size() - keep);
    held_.erase(0, held_.size() - keep);
    return out;
}

std::string StopMatcher::finish() {
    std::string out;
    if (!found_) out.swap(held_);
    held_.clear();
    return out;
}

GenerateResult generate(Session& session, const GenerateOptions& options, const TokenCallback& on_token) {
    if (!session.has_logits()) fail(Status::invalid_argument, "nothing to continue from: feed a prompt first");
    const tokenizer::Tokenizer& tok = session.model().tokenizer();
    tokenizer::Detokenizer detok(tok, options.render_special);
    StopMatcher stops(options.stop);
    GenerateResult r;
    // Both flags are consumed, so a request made during this call does not linger for the next.
    auto cancel_requested = [&] {
        bool a = session.take_cancel();
        bool b = options.cancel && options.cancel->load();
        return a || b;
    };
    auto report = [&](int32_t t, std::string_view text) { return on_token ? on_token(t, text) : true; };

    for (;;) {
        if (options.max_tokens >= 0 && r.n_tokens >= options.max_tokens) {
            r.finish = FinishReason::length;
            break;
        }
        if (cancel_requested()) {
            r.finish = FinishReason::cancelled;
            break;
        }
        const int32_t t = session.sample();
        ++r.n_tokens;
        const bool end = options.stop_at_end_token && tok.is_eog(t);
        const std::string text = stops.push(detok.feed(t));
        const bool stop = stops.found();
        // Feed, then report: a token the callback sees is in the cache (all but an ending token
        // under !feed_final), so a cancel or stop from the callback leaves a consistent stream.
        if (!(end || stop) || options.feed_final) {
            try {
                session.feed({&t, 1});
            } catch (const Error& e) {
                if (e.status() != Status::cancelled) throw;
                r.finish = FinishReason::cancelled;  // a cancel that arrived between our check and the feed
                break;
            }
            r.fed.push_back(t);
        }
        const bool go_on = report(t, text);
        if (stop) {
            r.finish = FinishReason::stop;
            break;
        }
        if (end) {
            r.finish = FinishReason::end_token;
            break;
        }
        if (!go_on) {
            r.finish = FinishReason::callback;
            break;
        }
    }
    // The detokenizer's flush, then whatever the stop matcher still holds (unless a stop string
    // already ended the text: then everything after it is dropped). A cancelled call stops at once.
    if (r.finish == FinishReason::cancelled) return r;
    std::string rest = stops.push(detok.flush());
    if (stops.found()) r.finish = FinishReason::stop;
    rest += stops.finish();
    if (!rest.empty()) report(-1, rest);
    return r;
}

}  // namespace vks::engine
