#include <doctest/doctest.h>

#include "common/error.hpp"

using namespace vks;

TEST_CASE("fail() throws an Error carrying its status and formatted message") {
    try {
        fail(Status::bad_format, "tensor '%s' at offset %zu", "blk.0.attn_q.weight", size_t(1234));
        FAIL("fail() returned");
    } catch (const Error& e) {
        CHECK(e.status() == Status::bad_format);
        CHECK(std::string(e.what()) == "tensor 'blk.0.attn_q.weight' at offset 1234");
    }
}

TEST_CASE("every status has a distinct name") {
    for (int a = 0; a <= int(Status::internal); ++a)
        for (int b = a + 1; b <= int(Status::internal); ++b)
            CHECK(std::string(status_name(Status(a))) != status_name(Status(b)));
}
