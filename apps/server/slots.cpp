#include "server/slots.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "server/api.hpp"

namespace vks::server {

namespace fs = std::filesystem;

namespace {

std::string new_conv_id() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)rng());
    return buf;
}

SavedText saved_text(const json& j) {
    SavedText t;
    if (j.contains("text")) {  // the older index: the text itself
        const std::string text = j.at("text").get<std::string>();
        t.size = text.size();
        t.digest = Sha256::of(text);
        return t;
    }
    t.size = j.at("size").get<uint64_t>();
    if (!Sha256::from_hex(j.at("sha256").get<std::string>(), t.digest))
        fail(Status::bad_format, "'sha256' is not 64 lowercase hex digits");
    return t;
}

bool valid_conv_id(const std::string& s) {
    if (s.size() != 16) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

std::vector<uint8_t> read_bytes(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    if (!f) fail(Status::io_error, "cannot open '%s'", p.c_str());
    std::vector<uint8_t> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (f.bad()) fail(Status::io_error, "cannot read '%s'", p.c_str());
    return b;
}

}  // namespace

std::map<uint64_t, Sha256::Digest> prefix_digests(std::string_view text, std::vector<uint64_t> lengths) {
    std::sort(lengths.begin(), lengths.end());
    std::map<uint64_t, Sha256::Digest> out;
    Sha256 h;
    for (uint64_t n : lengths) {
        if (n > text.size()) break;
        if (out.count(n)) continue;
        h.update(text.substr(h.size(), n - h.size()));
        out[n] = h.digest();
    }
    return out;
}

SlotPool::SlotPool(std::shared_ptr<engine::Model> model, const engine::SessionConfig& cfg, int n_slots,
                   std::string sessions_dir, int max_queue)
    : model_(std::move(model)), dir_(std::move(sessions_dir)), max_queue_(max_queue) {
    for (int i = 0; i < n_slots; ++i) {
        auto s = std::make_unique<Slot>();
        s->id = i;
        s->session = std::make_unique<engine::Session>(model_, cfg);
        // Commit the cache and scratch memory now (lavapipe backs device memory with malloc'd
        // pages that become resident at first write): otherwise RSS climbs by the caches' size as
        // the conversations fill them, and an out-of-memory would show under load.
        s->session->commit_memory();
        s->capacity = s->session->cache().max_capacity();
        slots_.push_back(std::move(s));
    }
    if (!dir_.empty()) {
        std::error_code ec;
        fs::create_directories(dir_, ec);
        if (ec) fail(Status::io_error, "cannot create the sessions folder '%s': %s", dir_.c_str(), ec.message().c_str());
        load_index();
    }
}

// Each saved conversation is <id>.state (Session::save_state) and <id>.json (the size and SHA-256
// of the text its cache holds; an index written before digests, with the text itself, is read
// too). A pair that does not parse is left alone and reported once.
void SlotPool::load_index() {
    for (const auto& e : fs::directory_iterator(dir_)) {
        if (e.path().extension() != ".json" || !valid_conv_id(e.path().stem().string())) continue;
        try {
            std::ifstream f(e.path());
            json j = json::parse(f);
            if (!fs::exists(fs::path(dir_) / (e.path().stem().string() + ".state"))) continue;
            saved_[e.path().stem().string()] = saved_text(j);
        } catch (const std::exception& ex) {
            std::fprintf(stderr, "serve: ignoring %s: %s\n", e.path().c_str(), ex.what());
        }
    }
    if (!saved_.empty()) std::fprintf(stderr, "serve: %zu saved conversation(s) in %s\n", saved_.size(), dir_.c_str());
}

void SlotPool::save(Slot& slot) {
    if (slot.conv_id.empty()) slot.conv_id = new_conv_id();
    const fs::path base = fs::path(dir_) / slot.conv_id;
    const std::vector<uint8_t> blob = slot.session->save_state();
    // Each file is replaced atomically; if the process dies between the two, the index and the
    // state disagree on n_past and restore() refuses the pair (the request is then served fresh).
    write_file_atomic(base.string() + ".state", [&](std::FILE* f) { std::fwrite(blob.data(), 1, blob.size(), f); });
    const std::string idx = json{{"size", slot.text.size()},
                                 {"sha256", Sha256::hex(slot.text.digest())},
                                 {"n_past", slot.session->n_past()}}
                                .dump();
    write_file_atomic(base.string() + ".json", [&](std::FILE* f) { std::fwrite(idx.data(), 1, idx.size(), f); });
}

bool SlotPool::restore(Slot& slot, const std::string& conv_id, std::string_view prompt) {
    const fs::path base = fs::path(dir_) / conv_id;
    try {
        std::ifstream f(base.string() + ".json");
        json j = json::parse(f);
        slot.session->load_state(read_bytes(base.string() + ".state"));
        if (slot.session->n_past() != j.at("n_past").get<uint64_t>())
            fail(Status::bad_format, "state and index disagree (%llu tokens vs %llu)",
                 (unsigned long long)slot.session->n_past(), (unsigned long long)j.at("n_past").get<uint64_t>());
        // The index has only the digest; the conversation was chosen because the prompt starts
        // with its text, so the prompt re-creates the hash state that later text continues.
        const SavedText t = saved_text(j);
        if (t.size > prompt.size() || Sha256::of(prompt.substr(0, t.size)) != t.digest)
            fail(Status::bad_format, "the index changed since the conversation was chosen");
        slot.text.clear();
        slot.text.append(prompt.substr(0, t.size));
        slot.conv_id = conv_id;
        return true;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "serve: cannot restore conversation %s: %s\n", conv_id.c_str(), e.what());
        slot.session->reset();
        slot.text.clear();
        slot.conv_id.clear();
        return false;
    }
}

SlotPool::Lease SlotPool::acquire(const std::string& prompt, const std::function<bool()>& abandoned) {
    std::unique_lock<std::mutex> lock(mu_);
    auto free_slot = [&] {
        for (auto& s : slots_)
            if (!s->busy) return true;
        return false;
    };
    if (!free_slot() && int(waiting_.size()) >= max_queue_)
        throw ApiError(503, "the server is busy: " + std::to_string(slots_.size()) + " requests running and " +
                                std::to_string(waiting_.size()) + " waiting",
                       "server_error", "", "server_busy");
    const uint64_t ticket = next_ticket_++;
    waiting_.push_back(ticket);
    queued_.fetch_add(1);
    while (!(waiting_.front() == ticket && free_slot())) {
        cv_.wait_for(lock, std::chrono::milliseconds(100));
        if (abandoned && abandoned()) {
            waiting_.erase(std::find(waiting_.begin(), waiting_.end(), ticket));
            queued_.fetch_sub(1);
            cv_.notify_all();
            return {};
        }
    }
    waiting_.pop_front();
    queued_.fetch_sub(1);

    // The prompt's prefixes at every length a free slot or a saved conversation holds, hashed in
    // one pass (this runs under the lock: a prompt is at most the body limit, and most slots
    // share few distinct lengths).
    std::vector<uint64_t> lengths;
    for (auto& s : slots_)
        if (!s->busy && !s->text.empty()) lengths.push_back(s->text.size());
    for (const auto& [id, t] : saved_) lengths.push_back(t.size);
    const auto prefix = prefix_digests(prompt, std::move(lengths));
    auto starts_with = [&](uint64_t size, const Sha256::Digest& d) {
        const auto it = prefix.find(size);
        return size > 0 && it != prefix.end() && it->second == d;
    };
    // 1. a free slot whose cache holds the start of the prompt (the longest such)
    Slot* best = nullptr;
    for (auto& s : slots_)
        if (!s->busy && (!best || s->text.size() > best->text.size()) && starts_with(s->text.size(), s->text.digest()))
            best = s.get();
    // 2. else a saved conversation the prompt continues, into the least recently used free slot
    std::string saved_id;
    if (!best) {
        uint64_t len = 0;
        for (const auto& [id, t] : saved_)
            if (t.size > len && starts_with(t.size, t.digest)) saved_id = id, len = t.size;
    }
    Lease lease;
    if (best) {
        lease.slot = best;
        lease.reused = best->text.size();
    } else {
        for (auto& s : slots_)  // empty slots first, then the least recently used
            if (!s->busy && (!lease.slot || (s->text.empty() && !lease.slot->text.empty()) ||
                             (s->text.empty() == lease.slot->text.empty() && s->last_used < lease.slot->last_used)))
                lease.slot = s.get();
    }
    lease.slot->busy = true;
    active_.fetch_add(1);
    cv_.notify_all();  // the next in line may find a slot too
    lock.unlock();

    Slot& slot = *lease.slot;
    if (!best) {
        slot.session->reset();
        slot.text.clear();
        slot.conv_id.clear();
        if (!saved_id.empty() && restore(slot, saved_id, prompt)) {
            lease.restored = true;
            lease.reused = slot.text.size();
        }
    }
    slot.n_cached.store(slot.session->n_cached());
    return lease;
}

void SlotPool::release(Slot& slot, bool keep) {
    if (!keep) {
        slot.session->reset();
        slot.text.clear();
        slot.conv_id.clear();
    } else if (!dir_.empty() && !slot.text.empty()) {
        try {
            save(slot);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "serve: cannot save the conversation of slot %d: %s\n", slot.id, e.what());
        }
    }
    slot.n_cached.store(slot.session->n_cached());
    std::lock_guard<std::mutex> lock(mu_);
    if (keep && !dir_.empty() && !slot.conv_id.empty()) saved_[slot.conv_id] = {slot.text.size(), slot.text.digest()};
    slot.busy = false;
    slot.last_used = ++clock_;
    active_.fetch_sub(1);
    cv_.notify_all();
}

uint64_t SlotPool::kv_bytes() const {
    uint64_t b = 0;
    for (const auto& s : slots_) b += s->session->kv_bytes();  // fixed at creation
    return b;
}

uint64_t SlotPool::device_bytes() const {
    uint64_t b = 0;
    for (const auto& s : slots_) b += s->session->device_bytes();
    return b;
}

std::vector<std::pair<uint32_t, uint32_t>> SlotPool::cache_fill() const {
    std::vector<std::pair<uint32_t, uint32_t>> v;
    for (const auto& s : slots_) v.emplace_back(s->n_cached.load(), s->capacity);
    return v;
}

size_t SlotPool::n_saved() const {
    std::lock_guard<std::mutex> lock(mu_);
    return saved_.size();
}

}  // namespace vks::server
