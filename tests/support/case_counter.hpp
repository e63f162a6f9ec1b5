#pragma once
// A doctest listener that counts the test cases started, shared by the test mains
// (tests/support/test_main.cpp and tests/capi/capi_main.cpp): a run whose filter selected no
// case must fail, not pass having run nothing. Include it in exactly one file per executable,
// after doctest.h with DOCTEST_CONFIG_IMPLEMENT.
#include <doctest/doctest.h>

namespace vks::test {

template <int* Counter>
struct CaseCounter : doctest::IReporter {
    explicit CaseCounter(const doctest::ContextOptions&) {}
    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_run_end(const doctest::TestRunStats&) override {}
    void test_case_start(const doctest::TestCaseData&) override { ++*Counter; }
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_end(const doctest::CurrentTestCaseStats&) override {}
    void test_case_exception(const doctest::TestCaseException&) override {}
    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData&) override {}
    void log_message(const doctest::MessageData&) override {}
    void test_case_skipped(const doctest::TestCaseData&) override {}
};

}  // namespace vks::test
