#pragma once
// Shared by the end-to-end tests: synthetic model files and comparison helpers.
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "engine/model.hpp"
#include "engine/session.hpp"
#include "model/synthetic.hpp"
#include "support/test_support.hpp"

namespace vks::test {

// Writes a synthetic model once per config into a temp dir and returns its path.
inline std::string synthetic_model_path(const model::SyntheticConfig& cfg, const std::string& tag) {
    namespace fs = std::filesystem;
    fs::path dir = fs::temp_directory_path() / ("vks-e2e-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    fs::path p = dir / (tag + ".gguf");
    if (!fs::exists(p)) model::write_synthetic_model(p.string(), cfg);
    return p.string();
}

inline std::shared_ptr<engine::Model> load_model(const std::string& path) {
    engine::ModelOptions mo;
    mo.validation = true;
    return engine::Model::load(path, mo);
}

// Fails the current test if the model's Vulkan instance saw any validation message.
inline void check_no_validation_messages(const engine::Model& m) {
    CHECK_MESSAGE(m.instance().validation_message_count() == 0,
                  m.instance().validation_message_count() << " Vulkan validation message(s)");
}

inline int32_t argmax(const std::vector<float>& v) {
    size_t best = 0;
    for (size_t i = 1; i < v.size(); ++i)
        if (v[i] > v[best]) best = i;
    return int32_t(best);
}

// n token ids drawn uniformly from [0, n_vocab), the same for the same seed.
inline std::vector<int32_t> random_tokens(size_t n, uint32_t n_vocab, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<int32_t> t(n);
    for (auto& x : t) x = int32_t(rng() % n_vocab);
    return t;
}

// Samples and feeds n tokens one at a time (the generation loop without text); returns them.
inline std::vector<int32_t> sample_and_feed(engine::Session& s, int n) {
    std::vector<int32_t> out;
    for (int i = 0; i < n; ++i) {
        int32_t t = s.sample();
        out.push_back(t);
        s.feed({&t, 1});
    }
    return out;
}

}  // namespace vks::test
