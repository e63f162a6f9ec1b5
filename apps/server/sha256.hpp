#pragma once
// SHA-256 (FIPS 180-4), incremental: the server identifies the text a slot's cache holds by its
// length and digest instead of keeping the text itself (see slots.hpp, "Transcript").
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vks::server {

class Sha256 {
public:
    using Digest = std::array<uint8_t, 32>;
    Sha256() { reset(); }
    void reset();
    void update(std::string_view data);
    // The digest of everything given so far; the object can go on taking data.
    Digest digest() const;
    uint64_t size() const { return n_bytes_; }

    static Digest of(std::string_view data) {
        Sha256 h;
        h.update(data);
        return h.digest();
    }
    static std::string hex(const Digest& d);
    // Parses 64 lowercase hex digits; false for anything else.
    static bool from_hex(const std::string& s, Digest& out);

private:
    void block(const uint8_t* p);  // one 64-byte block into state_
    std::array<uint32_t, 8> state_{};
    std::array<uint8_t, 64> buf_{};  // bytes of an unfinished block: n_bytes_ % 64 of them
    uint64_t n_bytes_ = 0;
};

}  // namespace vks::server
