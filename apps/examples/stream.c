/* A C99 program that uses vkstream through its header alone: loads a model and streams a
 * completion to stdout.  usage: vkstream_example MODEL.gguf [PROMPT] [N_TOKENS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vkstream/vkstream.h>

static int on_token(int32_t token, const char* piece, size_t len, void* user) {
    size_t* count = (size_t*)user;
    (void)token;
    fwrite(piece, 1, len, stdout);
    fflush(stdout);
    ++*count;
    return 0; /* keep going */
}

int main(int argc, char** argv) {
    const char* prompt = argc > 2 ? argv[2] : "The three primary colors are";
    long n_tokens = argc > 3 ? strtol(argv[3], NULL, 10) : 32;
    vks_model* model = NULL;
    vks_session* session = NULL;
    vks_model_params mp = vks_model_default_params();
    vks_session_params sp = vks_session_default_params();
    vks_session_stats stats;
    int32_t ids[1024];
    size_t n_ids = 0, produced = 0;
    vks_status st;

    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.gguf [PROMPT] [N_TOKENS]\n", argv[0]);
        return 2;
    }
    printf("vkstream %s\n", vks_version());
    st = vks_model_load(argv[1], &mp, &model);
    if (st != VKS_OK) {
        fprintf(stderr, "load failed: %s: %s\n", vks_status_string(st), vks_last_error());
        return 1;
    }
    sp.n_sink = 4;
    sp.n_window = 252; /* a small rolling window: memory stays fixed however long we go */
    sp.sampling.temperature = 0.0f;
    st = vks_session_create(model, &sp, &session);
    if (st == VKS_OK) st = vks_tokenize(model, prompt, -1, 1, 0, ids, sizeof ids / sizeof ids[0], &n_ids);
    if (st == VKS_OK) st = vks_session_feed(session, ids, n_ids);
    if (st == VKS_OK) {
        printf("%s", prompt);
        st = vks_session_generate(session, n_tokens, on_token, &produced);
        printf("\n");
    }
    if (st != VKS_OK) {
        fprintf(stderr, "failed: %s: %s\n", vks_status_string(st), vks_last_error());
        vks_session_free(session);
        vks_model_free(model);
        return 1;
    }
    stats.struct_size = sizeof stats;
    vks_session_get_stats(session, &stats);
    fprintf(stderr, "%lu tokens, %.1f tokens/s, KV cache %lu bytes\n", (unsigned long)produced,
            stats.decode_tokens_per_s, (unsigned long)stats.kv_bytes);
    vks_session_free(session);
    vks_model_free(model);
    return produced > 0 ? 0 : 1;
}
