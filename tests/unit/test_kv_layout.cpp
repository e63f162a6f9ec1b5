// engine::kv_layout: KV bytes by layer kind (Gemma 3's local layers keep only their sliding window).
#include <doctest/doctest.h>

#include "common/error.hpp"
#include "engine/kv_layout.hpp"
#include "gguf/reader.hpp"
#include "model/synthetic.hpp"
#include "support/models.hpp"
#include "support/test_support.hpp"

using namespace vks;

TEST_CASE("kv layout: local layers hold their window, global layers sinks + window") {
    model::SyntheticConfig c;
    c.gemma3 = true;
    c.n_layer = 6;
    c.swa_period = 3;  // layers 2 and 5 global
    c.sliding_window = 16;
    const std::vector<uint8_t> bytes = model::synthetic_model_bytes(c);
    gguf::File f = gguf::File::from_memory(bytes);
    const model::Description d = model::Description::from_gguf(f);
    const engine::KvLayout k = engine::kv_layout(d, 4, 1020);
    const uint64_t slot = 2ull * 2 * 64 * 2;  // K+V x n_head_kv 2 x head_dim 64 x f16
    CHECK(k.n_global == 2);
    CHECK(k.n_local == 4);
    CHECK(k.global_slots == 1024);
    CHECK(k.local_slots == 16);
    CHECK(k.global_bytes == 2 * 1024 * slot);
    CHECK(k.local_bytes == 4 * 16 * slot);
    CHECK(k.all_global_bytes == 6 * 1024 * slot);
    CHECK(k.ratio_to_all_global() == doctest::Approx((2.0 * 1024 + 4 * 16) / (6.0 * 1024)));
    CHECK_THROWS_AS(engine::kv_layout(d, 4, 15), Error);  // window below the sliding window

    c.gemma3 = false;  // llama: every layer global
    const std::vector<uint8_t> lb = model::synthetic_model_bytes(c);
    gguf::File lf = gguf::File::from_memory(lb);
    const engine::KvLayout l = engine::kv_layout(model::Description::from_gguf(lf), 4, 60);
    CHECK(l.n_local == 0);
    CHECK(l.bytes() == l.all_global_bytes);
}

// The figure docs/DESIGN.md states: gemma-3-270m with a 32k cache (4 sinks + 32764 window).
TEST_CASE("kv layout: gemma-3-270m at a 32k window") {
    const std::string path = test::gemma3_path();
    if (path.empty()) VKS_SKIP("gemma-3-270m not cached (tools/fetch_model.sh gemma3)");
    gguf::File f = gguf::File::open(path);
    const engine::KvLayout k = engine::kv_layout(model::Description::from_gguf(f), 4, 32764);
    CHECK(k.n_global == 3);
    CHECK(k.n_local == 15);
    CHECK(k.global_bytes == 3ull * 32768 * 1024);  // 1 kv head x 256 dims x f16 x (K, V) = 1 KiB a slot
    CHECK(k.local_bytes == 15ull * 512 * 1024);
    MESSAGE("gemma-3-270m, 32k window: " << k.bytes() / 1048576.0 << " MiB vs " << k.all_global_bytes / 1048576.0
                                         << " MiB, ratio " << k.ratio_to_all_global());
}
