// Entry point of the C API tests (they link the shared library and doctest only). Like the
// other suites' main (tests/support/test_main.cpp), a run whose filter matched no test case
// fails: a CTest name that does not select its case must not pass without running anything.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "support/case_counter.hpp"

namespace {
int g_cases_started = 0;
using CaseCounter = vks::test::CaseCounter<&g_cases_started>;
}  // namespace

DOCTEST_REGISTER_LISTENER("vks_case_counter", 1, CaseCounter);

int main(int argc, char** argv) {
    doctest::Context context(argc, argv);
    int rc = context.run();
    if (context.shouldExit()) return rc;
    if (g_cases_started == 0) {
        std::fprintf(stderr, "FAILED: no test case matched the filter\n");
        return 1;
    }
    return rc;
}
