// The server's slots identify the text their cache holds by length + SHA-256 (apps/server
// slots.hpp, "Transcript"), so a conversation that never ends keeps a slot's memory constant.
#include <doctest/doctest.h>

#include <string>

#include "server/sha256.hpp"
#include "server/slots.hpp"

using vks::server::prefix_digests;
using vks::server::Sha256;
using vks::server::Transcript;

TEST_CASE("sha256: FIPS 180-4 test vectors, in one piece and split at every byte") {
    CHECK(Sha256::hex(Sha256::of("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(Sha256::hex(Sha256::of("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";  // 448 bits
    const std::string want = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
    CHECK(Sha256::hex(Sha256::of(two_blocks)) == want);
    for (size_t cut = 0; cut <= two_blocks.size(); ++cut) {
        Sha256 h;
        h.update(std::string_view(two_blocks).substr(0, cut));
        h.digest();  // taking a digest midway must not disturb the running state
        h.update(std::string_view(two_blocks).substr(cut));
        CHECK(Sha256::hex(h.digest()) == want);
    }
    Sha256 million;
    const std::string a1000(1000, 'a');
    for (int i = 0; i < 1000; ++i) million.update(a1000);
    CHECK(Sha256::hex(million.digest()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    Sha256::Digest back{};
    CHECK(Sha256::from_hex(want, back));
    CHECK(Sha256::hex(back) == want);
    CHECK_FALSE(Sha256::from_hex(want.substr(1), back));
    std::string upper = want;
    upper[0] = 'G';
    CHECK_FALSE(Sha256::from_hex(upper, back));
}

TEST_CASE("transcript: a conversation of many turns keeps a fixed size and still matches its continuation") {
    // A long conversation: 2000 turns of ~60 bytes (~120 KB of text, far past any cache window).
    Transcript t;
    std::string whole;  // the client's side: it resends everything
    for (int turn = 0; turn < 2000; ++turn) {
        const std::string piece = "<|im_start|>user\nturn " + std::to_string(turn) + "<|im_end|>\n<|im_start|>assistant\nok";
        t.append(piece);
        whole += piece;
    }
    // The slot's record holds no heap storage: its size is the type's, whatever the text's length.
    static_assert(sizeof(Transcript) <= 160, "a Transcript is a fixed-size hash state");
    CHECK(t.size() == whole.size());
    const std::string next = whole + "<|im_end|>\n<|im_start|>user\nmore";
    auto d = prefix_digests(next, {t.size()});
    REQUIRE(d.count(t.size()) == 1);
    CHECK(d[t.size()] == t.digest());  // the continuation matches
    // One changed byte anywhere in the earlier text, or a shorter prompt, does not.
    for (size_t pos : {size_t(0), whole.size() / 2, whole.size() - 1}) {
        std::string edited = next;
        edited[pos] ^= 1;
        CHECK(prefix_digests(edited, {t.size()})[t.size()] != t.digest());
    }
    CHECK(prefix_digests(whole.substr(0, whole.size() - 1), {t.size()}).count(t.size()) == 0);
    // Several lengths in one pass, each the digest of that prefix; duplicates and lengths past
    // the text are fine.
    const auto many = prefix_digests(next, {100, 5, 100, t.size(), next.size() + 1, 0});
    CHECK(many.size() == 4);
    CHECK(many.at(0) == Sha256::of(""));
    CHECK(many.at(5) == Sha256::of(next.substr(0, 5)));
    CHECK(many.at(100) == Sha256::of(next.substr(0, 100)));
    t.clear();
    CHECK(t.empty());
    CHECK(t.digest() == Sha256::of(""));
}
