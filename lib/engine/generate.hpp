#pragma once
// The one generation loop: sample, feed, detokenize, stop. The C API (vks_session_generate),
// `vkstream run`, `vkstream chat` and `vkstream serve` all go through engine::generate, so
// stop conditions, UTF-8 safety, the detokenizer flush and cancellation behave the same
// everywhere. Built on Session's public interface only.
//
//   engine::GenerateOptions opt;
//   opt.max_tokens = 100;
//   opt.stop = {"\n\n"};
//   auto r = engine::generate(session, opt, [](int32_t tok, std::string_view text) {
//       fwrite(text.data(), 1, text.size(), stdout);
//       return true;  // false: stop here
//   });
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/session.hpp"

namespace vks::engine {

enum class FinishReason {
    length,     // max_tokens sampled
    end_token,  // an end-of-generation token (Tokenizer::is_eog)
    stop,       // a stop string appeared in the text
    callback,   // the token callback returned false
    cancelled,  // Session::cancel() or GenerateOptions::cancel
};
const char* finish_reason_name(FinishReason r);

struct GenerateOptions {
    int64_t max_tokens = -1;        // < 0: no limit
    // Generation ends when the text contains one of these; the text from the stop string on is
    // never passed to the callback (text that could still become a stop string is held back).
    // Empty strings are ignored.
    std::vector<std::string> stop;
    bool stop_at_end_token = true;  // false: end-of-generation tokens are fed and generation goes on
    // Feed the token that ends generation (an end token or the one completing a stop string) so
    // the cache holds everything sampled and a conversation continues after it. Tokens that end
    // by max_tokens are always fed. false: the ending token is sampled and reported, not fed.
    bool feed_final = true;
    bool render_special = false;    // control tokens' text in the output (default: nothing)
    // Checked before every step, like Session::cancel(); may be set from any thread.
    const std::atomic<bool>* cancel = nullptr;
};

struct GenerateResult {
    FinishReason finish = FinishReason::length;
    int64_t n_tokens = 0;            // tokens sampled
    std::vector<int32_t> fed;        // the sampled tokens that were fed, in order
};

// Called once per sampled token, after it was fed (see feed_final), with the text it completes:
// whole UTF-8 characters only, possibly empty (an unfinished character, a control token, or text
// held back as a possible stop-string start). After the last token, any text still held (the
// detokenizer's flush: an unfinished character becomes U+FFFD; held-back text that did not become
// a stop string) comes in one more call with token -1, except after a cancellation. Return false
// to stop (FinishReason::callback).
using TokenCallback = std::function<bool(int32_t token, std::string_view text)>;

// Requires session.has_logits() (feed a prompt first): Status::invalid_argument otherwise.
// Errors from Session::feed propagate (the cache then holds what was fed before the error);
// a cancellation is a FinishReason, not an error.
GenerateResult generate(Session& session, const GenerateOptions& options, const TokenCallback& on_token);

// Stop-string matching over a growing text (exposed for tests): push() takes new text and
// returns what can be released now; `found` turns true when a stop string appears (the text
// before it is released, the rest dropped). finish() releases what is still held.
class StopMatcher {
public:
    explicit StopMatcher(std::vector<std::string> stops);
    std::string push(std::string_view text);
    std::string finish();
    bool found() const { return found_; }

private:
    std::vector<std::string> stops_;
    std::string held_;
    bool found_ = false;
};

}  // namespace vks::engine
