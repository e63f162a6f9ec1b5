// Every C API entry point rejects NULL pointers, bad sizes, unknown struct_size values and
// out-of-range token ids with VKS_ERR_INVALID_ARGUMENT and a message, and changes nothing.
#include <cstring>

#include "capi_fixtures.hpp"

namespace {

// The call was refused as an invalid argument, with a non-empty message.
#define CHECK_INVALID(call)                                                       \
    do {                                                                          \
        vks_status st_ = (call);                                                  \
        CHECK_MESSAGE(st_ == VKS_ERR_INVALID_ARGUMENT, #call " -> " << int(st_)); \
        CHECK_MESSAGE(std::strlen(vks_last_error()) > 0, #call " left no message"); \
    } while (0)

}  // namespace

TEST_CASE("C API: functions without a model reject bad arguments") {
    CHECK_INVALID(vks_device_count(nullptr));
    CHECK_INVALID(vks_device_get_info(0, nullptr));
    vks_device_info di;
    std::memset(&di, 0, sizeof di);
    di.struct_size = sizeof di + 1;
    CHECK_INVALID(vks_device_get_info(0, &di));
    di.struct_size = sizeof di;
    CHECK_INVALID(vks_device_get_info(size_t(1) << 20, &di));  // no such device

    vks_model* m = reinterpret_cast<vks_model*>(0x1);  // must be overwritten with NULL
    CHECK_INVALID(vks_model_load(nullptr, nullptr, &m));
    CHECK(m == nullptr);
    CHECK_INVALID(vks_model_load("x.gguf", nullptr, nullptr));
    vks_model_params mp = vks_model_default_params();
    mp.struct_size = 3;
    CHECK_INVALID(vks_model_load(capi::model_path().c_str(), &mp, &m));
    mp = vks_model_default_params();
    mp.device_index = -7;
    CHECK_INVALID(vks_model_load(capi::model_path().c_str(), &mp, &m));
    CHECK(m == nullptr);

    vks_session* s = reinterpret_cast<vks_session*>(0x1);
    CHECK_INVALID(vks_session_create(nullptr, nullptr, &s));
    CHECK(s == nullptr);
    CHECK(std::strcmp(vks_status_string(VKS_ERR_INVALID_ARGUMENT), "invalid argument") == 0);
    CHECK(std::strcmp(vks_status_string(vks_status(999)), "unknown status") == 0);
    vks_model_free(nullptr);    // documented: ignored
    vks_session_free(nullptr);
    vks_session_cancel(nullptr);
}

TEST_CASE("C API: model functions reject bad arguments") {
    vks_model* m = capi::load();
    vks_model_info info;
    std::memset(&info, 0, sizeof info);
    CHECK_INVALID(vks_model_get_info(m, &info));  // struct_size 0
    info.struct_size = sizeof info;
    CHECK_INVALID(vks_model_get_info(nullptr, &info));
    CHECK_INVALID(vks_model_get_info(m, nullptr));
    REQUIRE(vks_model_get_info(m, &info) == VKS_OK);

    int32_t ids[64];
    size_t n = 0;
    CHECK_INVALID(vks_tokenize(nullptr, "hi", -1, 0, 0, ids, 64, &n));
    CHECK_INVALID(vks_tokenize(m, nullptr, 2, 0, 0, ids, 64, &n));
    CHECK_INVALID(vks_tokenize(m, "hi", -1, 0, 0, nullptr, 64, &n));
    CHECK_INVALID(vks_tokenize(m, "hi", -1, 0, 0, ids, 64, nullptr));
    CHECK_INVALID(vks_tokenize(m, "hi", -2, 0, 0, ids, 64, &n));
    CHECK(vks_tokenize(m, "hello", -1, 0, 0, ids, 1, &n) == VKS_ERR_BUFFER_TOO_SMALL);
    CHECK(n > 1);

    char buf[64];
    const int32_t good[] = {40, 41};
    const int32_t bad_hi[] = {40, int32_t(info.n_vocab)};
    const int32_t bad_neg[] = {-1};
    CHECK_INVALID(vks_detokenize(nullptr, good, 2, 0, buf, 64, &n));
    CHECK_INVALID(vks_detokenize(m, nullptr, 2, 0, buf, 64, &n));
    CHECK_INVALID(vks_detokenize(m, good, 2, 0, nullptr, 64, &n));
    CHECK_INVALID(vks_detokenize(m, good, 2, 0, buf, 64, nullptr));
    CHECK_INVALID(vks_detokenize(m, bad_hi, 2, 0, buf, 64, &n));
    CHECK_INVALID(vks_detokenize(m, bad_neg, 1, 0, buf, 64, &n));

    CHECK(vks_token_is_end(nullptr, 0) == 0);
    CHECK(vks_token_is_end(m, -1) == 0);
    CHECK(vks_token_is_end(m, int32_t(info.n_vocab)) == 0);

    const char* roles[] = {"user"};
    const char* contents[] = {"hi"};
    const char* null_content[] = {nullptr};
    CHECK_INVALID(vks_chat_render(nullptr, roles, contents, 1, 1, buf, 64, &n));
    CHECK_INVALID(vks_chat_render(m, nullptr, contents, 1, 1, buf, 64, &n));
    CHECK_INVALID(vks_chat_render(m, roles, null_content, 1, 1, buf, 64, &n));
    CHECK_INVALID(vks_chat_render(m, roles, contents, 1, 1, nullptr, 64, &n));
    CHECK_INVALID(vks_chat_render(m, roles, contents, 1, 1, buf, 64, nullptr));

    vks_session* s = nullptr;
    vks_session_params sp = vks_session_default_params();
    sp.struct_size = sizeof sp - 4;  // neither this header's size nor the older one (tests/capi/test_capi_cache_types.cpp)
    CHECK_INVALID(vks_session_create(m, &sp, &s));
    sp.struct_size = sizeof sp + 8;
    CHECK_INVALID(vks_session_create(m, &sp, &s));
    sp = vks_session_default_params();
    sp.n_batch = 0;
    CHECK_INVALID(vks_session_create(m, &sp, &s));
    sp = vks_session_default_params();
    sp.n_batch = 5000;
    CHECK_INVALID(vks_session_create(m, &sp, &s));
    sp = vks_session_default_params();
    sp.sampling.repeat_last_n = -1;
    CHECK_INVALID(vks_session_create(m, &sp, &s));
    sp = vks_session_default_params();
    sp.n_sink = 5000;  // leaves no window in the 4096-token context
    CHECK_INVALID(vks_session_create(m, &sp, &s));
    CHECK_INVALID(vks_session_create(m, nullptr, nullptr));
    CHECK(s == nullptr);
    vks_model_free(m);
}

TEST_CASE("C API: session functions reject bad arguments and change nothing") {
    vks_model* m = capi::load();
    vks_session* s = capi::session(m);
    vks_model_info info;
    info.struct_size = sizeof info;
    REQUIRE(vks_model_get_info(m, &info) == VKS_OK);
    std::vector<float> logits(info.n_vocab);
    int32_t t = 0;
    // Nothing fed yet: no logits to read, sample or continue from.
    CHECK_INVALID(vks_session_logits(s, logits.data(), logits.size()));
    CHECK_INVALID(vks_session_sample(s, &t));
    CHECK_INVALID(vks_session_generate(s, 4, nullptr, nullptr));

    const int32_t bad[] = {1, 2, int32_t(info.n_vocab)};
    const int32_t neg[] = {-5};
    CHECK_INVALID(vks_session_feed(nullptr, bad, 2));
    CHECK_INVALID(vks_session_feed(s, nullptr, 3));
    CHECK_INVALID(vks_session_feed(s, bad, 3));
    CHECK_INVALID(vks_session_feed(s, neg, 1));
    vks_session_stats st;
    std::memset(&st, 0, sizeof st);
    CHECK_INVALID(vks_session_get_stats(s, &st));  // struct_size 0
    st.struct_size = sizeof st;
    CHECK_INVALID(vks_session_get_stats(nullptr, &st));
    CHECK_INVALID(vks_session_get_stats(s, nullptr));
    REQUIRE(vks_session_get_stats(s, &st) == VKS_OK);
    CHECK(st.n_past == 0);  // the refused feeds fed nothing

    REQUIRE(vks_session_feed(s, bad, 2) == VKS_OK);
    CHECK_INVALID(vks_session_logits(nullptr, logits.data(), logits.size()));
    CHECK_INVALID(vks_session_logits(s, nullptr, logits.size()));
    CHECK_INVALID(vks_session_logits(s, logits.data(), logits.size() - 1));
    CHECK_INVALID(vks_session_sample(nullptr, &t));
    CHECK_INVALID(vks_session_sample(s, nullptr));
    CHECK_INVALID(vks_session_generate(nullptr, 4, nullptr, nullptr));
    CHECK_INVALID(vks_session_generate(s, -2, nullptr, nullptr));
    CHECK_INVALID(vks_session_save(nullptr, "x"));
    CHECK_INVALID(vks_session_save(s, nullptr));
    CHECK_INVALID(vks_session_load(nullptr, "x"));
    CHECK_INVALID(vks_session_load(s, nullptr));
    CHECK_INVALID(vks_session_reset(nullptr));
    REQUIRE(vks_session_get_stats(s, &st) == VKS_OK);
    CHECK(st.n_past == 2);
    vks_session_free(s);
    vks_model_free(m);
}
