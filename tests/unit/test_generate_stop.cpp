#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/generate.hpp"

using vks::engine::StopMatcher;

namespace {

// Feeds `pieces` one by one; returns everything released (push and finish).
std::string run(StopMatcher& m, const std::vector<std::string>& pieces) {
    std::string out;
    for (const std::string& p : pieces) out += m.push(p);
    return out + m.finish();
}

}  // namespace

TEST_CASE("stop strings: text before the stop is released, the rest dropped") {
    StopMatcher m({"END"});
    CHECK(run(m, {"hello ", "wor", "ld E", "N", "D and more"}) == "hello world ");
    CHECK(m.found());
}

TEST_CASE("stop strings: a possible start is held back until it cannot match") {
    StopMatcher m({"\n\n"});
    CHECK(m.push("a\n") == "a");   // "\n" may begin the stop string
    CHECK(m.push("b") == "\nb");   // it did not
    CHECK(!m.found());
    CHECK(m.push("\n") == "");
    CHECK(m.finish() == "\n");     // the end releases what is held
}

TEST_CASE("stop strings: the earliest of several wins, a stop split over many pieces is found") {
    StopMatcher m({"xyz", "cd"});
    CHECK(run(m, {"ab", "c", "dxyz"}) == "ab");
    StopMatcher m2({"<|user|>"});
    CHECK(run(m2, {"ok<", "|", "us", "er", "|>", "tail"}) == "ok");
}

TEST_CASE("stop strings: none or empty strings release everything at once") {
    StopMatcher m({});
    CHECK(m.push("abc") == "abc");
    StopMatcher e({""});
    CHECK(e.push("abc") == "abc");
    CHECK(!e.found());
}

TEST_CASE("stop strings: multi-byte characters are never split") {
    StopMatcher m({"é!"});  // "é" is two bytes
    CHECK(m.push("caf\xC3\xA9") == "caf");  // "é" held: it may start the stop
    CHECK(m.push("s") == "\xC3\xA9s");
    CHECK(run(m, {"\xC3\xA9", "!"}) == "");
    CHECK(m.found());
}
