// Test entry point. Adds what doctest lacks:
//  * the test environment: VKS_VALIDATE=1 and VKS_CACHE_DIR=<build>/test-cache unless the caller
//    set them (CTest's ENVIRONMENT property cannot carry a list through doctest_discover_tests);
//  * a filter that matches nothing fails: a discovered name that does not select its test case
//    (a name CTest mangled) must not pass without running anything;
//  * honest skips: a test case that calls VKS_SKIP is listed as skipped; when every test case
//    that ran was skipped the process exits 77, which CTest reports as "Not Run (skipped)".
//  * a process-wide validation check: any Vulkan validation message fails the run.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>

#include "support/case_counter.hpp"
#include "support/test_support.hpp"

namespace {
using CaseCounter = vks::test::CaseCounter<&vks::test::g_cases_started>;
}  // namespace

DOCTEST_REGISTER_LISTENER("vks_case_counter", 1, CaseCounter);

int main(int argc, char** argv) {
    setenv("VKS_VALIDATE", "1", 0);
#ifdef VKS_TEST_CACHE_DIR
    setenv("VKS_CACHE_DIR", VKS_TEST_CACHE_DIR, 0);
#endif
    doctest::Context context(argc, argv);
    int rc = context.run();
    if (context.shouldExit()) return rc;
    if (vks::test::g_cases_started == 0) {
        std::fprintf(stderr, "FAILED: no test case matched the filter\n");
        return 1;
    }
    int n_validation = vks::test::validation_message_count();
    if (n_validation > 0) {
        std::fprintf(stderr, "FAILED: %d Vulkan validation message(s) during this run\n", n_validation);
        return 1;
    }
    const auto& skips = vks::test::skipped_cases();
    for (const auto& s : skips) std::printf("SKIPPED: %s\n", s.c_str());
    if (rc == 0 && !skips.empty() && int(skips.size()) >= vks::test::g_cases_started) return 77;
    return rc;
}
