#pragma once
// Shared test helpers: skips, seeded random data, error metrics, the test device.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace vks::test {

extern int g_cases_started;

// Records the current test case as skipped with a reason (see VKS_SKIP).
void mark_skipped(const std::string& reason);
const std::vector<std::string>& skipped_cases();

// Number of Vulkan validation messages seen by this process (0 when no device was created).
int validation_message_count();

// Deterministic random data.
std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f);

// Normalized mean squared error: sum (got-ref)^2 / sum ref^2 (0 when both are all zero).
double nmse(const float* got, const float* ref, size_t n);
double max_abs_diff(const float* got, const float* ref, size_t n);

}  // namespace vks::test

// Ends the current test case as skipped (not passed): use when a device feature is missing.
#define VKS_SKIP(reason)                        \
    do {                                        \
        ::vks::test::mark_skipped(reason);      \
        MESSAGE("SKIPPED: " << (reason));       \
        return;                                 \
    } while (0)
