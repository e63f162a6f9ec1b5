#pragma once
// The server's sessions ("slots"): N engine::Sessions of one model, each holding one
// conversation's cache. A request takes a free slot (or waits in a FIFO queue), preferring the
// slot whose cache already holds the start of its prompt: then only the new text is fed. With a
// sessions folder, every conversation is saved after each request (Session::save_state, written
// atomically) and a request that continues a saved one restores it into a slot, also after a
// restart.
//
// Matching is on text: a slot identifies the exact text its cache holds (the prompt text as fed,
// then the sampled tokens rendered with their special-token text), and a prompt that starts with
// that text is a continuation. Feeding only the delta is the same as `vkstream chat` does.
//
// The slot does not keep that text: a conversation that never ends would grow it without bound
// while the cache itself stays constant (it has long rolled past most of the text). A Transcript
// is the text's length and its SHA-256, updated as text is appended (a fixed 120 or so bytes
// whatever the length). "The prompt starts with it" is then "the prompt's first `size` bytes have
// that digest"; the prompt is in memory anyway and is hashed once for all candidates
// (prefix_digests). Saved conversations are indexed the same way (size + digest in <id>.json).
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/session.hpp"
#include "server/sha256.hpp"

namespace vks::server {

// The identity of a text that only grows: its length and SHA-256 (see above).
class Transcript {
public:
    void append(std::string_view text) { hash_.update(text); }
    void clear() { hash_.reset(); }
    uint64_t size() const { return hash_.size(); }
    bool empty() const { return size() == 0; }
    Sha256::Digest digest() const { return hash_.digest(); }

private:
    Sha256 hash_;
};

// The SHA-256 of text's first n bytes for every n in `lengths` that is at most text.size(); one
// pass over the text.
std::map<uint64_t, Sha256::Digest> prefix_digests(std::string_view text, std::vector<uint64_t> lengths);

// A saved conversation's index entry: what its cache holds.
struct SavedText {
    uint64_t size = 0;
    Sha256::Digest digest{};
};

struct Slot {
    int id = 0;
    std::unique_ptr<engine::Session> session;
    Transcript text;         // the text the cache holds (see above); empty: a fresh stream
    std::string conv_id;     // its name in the sessions folder ("" until first saved)
    uint64_t last_used = 0;  // for least-recently-used eviction
    bool busy = false;
    // For /metrics without touching a busy session: updated by the request that holds the slot.
    std::atomic<uint32_t> n_cached{0};
    uint32_t capacity = 0;
};

class SlotPool {
public:
    // sessions_dir empty: conversations live only in the slots. Creates every session now, so an
    // out-of-memory shows at start, not under load.
    SlotPool(std::shared_ptr<engine::Model> model, const engine::SessionConfig& cfg, int n_slots,
             std::string sessions_dir, int max_queue);

    struct Lease {
        Slot* slot = nullptr;
        size_t reused = 0;       // bytes of the prompt the cache already holds
        bool restored = false;   // loaded from the sessions folder
    };
    // Waits for a slot (first come, first served). `abandoned` is polled while waiting; when it
    // says true, the wait ends with no slot. Throws ApiError(503) when the queue is full.
    Lease acquire(const std::string& prompt, const std::function<bool()>& abandoned);
    // Gives the slot back. keep: the cache and `text` agree (the request ran to an end), and
    // with a sessions folder the conversation is saved first. !keep (an abandoned prefill, an
    // error): the slot is reset to an empty stream.
    void release(Slot& slot, bool keep);

    int n_slots() const { return int(slots_.size()); }
    int active() const { return active_.load(); }
    int queued() const { return queued_.load(); }
    uint64_t kv_bytes() const;
    uint64_t device_bytes() const;
    // n_cached and capacity of each slot (for /metrics).
    std::vector<std::pair<uint32_t, uint32_t>> cache_fill() const;
    // Saved conversations known (0 without a sessions folder).
    size_t n_saved() const;

private:
    void load_index();
    void save(Slot& slot);
    bool restore(Slot& slot, const std::string& conv_id, std::string_view prompt);

    std::shared_ptr<engine::Model> model_;
    std::vector<std::unique_ptr<Slot>> slots_;
    std::string dir_;
    int max_queue_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<uint64_t> waiting_;            // tickets, first in line first
    uint64_t next_ticket_ = 0, clock_ = 0;
    std::map<std::string, SavedText> saved_;  // conv_id -> the text its saved cache holds
    std::atomic<int> active_{0}, queued_{0};
};

}  // namespace vks::server
