#include "support/test_support.hpp"

#include <algorithm>
#include <cmath>

namespace vks::test {

int g_cases_started = 0;

static std::vector<std::string>& skip_list() {
    static std::vector<std::string> list;
    return list;
}

void mark_skipped(const std::string& reason) {
    const char* name = doctest::getContextOptions() ? "" : "";
    (void)name;
    skip_list().push_back(reason);
}

const std::vector<std::string>& skipped_cases() { return skip_list(); }

std::vector<float> random_floats(size_t n, uint32_t seed, float lo, float hi) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
}

double nmse(const float* got, const float* ref, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; ++i) {
        double d = double(got[i]) - double(ref[i]);
        num += d * d;
        den += double(ref[i]) * double(ref[i]);
    }
    if (den == 0) return num == 0 ? 0 : INFINITY;
    return num / den;
}

double max_abs_diff(const float* got, const float* ref, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; ++i) {
        double d = std::fabs(double(got[i]) - double(ref[i]));
        if (std::isnan(d)) return INFINITY;
        m = std::max(m, d);
    }
    return m;
}

}  // namespace vks::test
