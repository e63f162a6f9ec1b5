/* The C side of the Python package's logits test: loads MODEL, creates a session with
 * n_sink/n_window/n_batch, feeds the token ids given on the command line and writes the
 * next-token logits (n_vocab float32, host byte order) to OUT. The Python test does the same
 * through the package and compares the two bit for bit.
 * usage: vks_capi_logits MODEL OUT N_SINK N_WINDOW N_BATCH TOKEN... */
#include <stdio.h>
#include <stdlib.h>

#include "vkstream/vkstream.h"

static int fail(const char* what) {
    fprintf(stderr, "vks_capi_logits: %s: %s\n", what, vks_last_error());
    return 1;
}

int main(int argc, char** argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: vks_capi_logits MODEL OUT N_SINK N_WINDOW N_BATCH TOKEN...\n");
        return 2;
    }
    vks_model* model = NULL;
    if (vks_model_load(argv[1], NULL, &model) != VKS_OK) return fail("load");
    vks_model_info info;
    info.struct_size = sizeof info;
    if (vks_model_get_info(model, &info) != VKS_OK) return fail("info");

    vks_session_params sp = vks_session_default_params();
    sp.n_sink = (uint32_t)strtoul(argv[3], NULL, 10);
    sp.n_window = (uint32_t)strtoul(argv[4], NULL, 10);
    sp.n_batch = (uint32_t)strtoul(argv[5], NULL, 10);
    vks_session* s = NULL;
    if (vks_session_create(model, &sp, &s) != VKS_OK) return fail("session");

    size_t n = (size_t)(argc - 6);
    int32_t* ids = malloc(n * sizeof *ids);
    float* logits = malloc(info.n_vocab * sizeof *logits);
    if (!ids || !logits) return 1;
    for (size_t i = 0; i < n; ++i) ids[i] = (int32_t)strtol(argv[6 + i], NULL, 10);
    if (vks_session_feed(s, ids, n) != VKS_OK) return fail("feed");
    if (vks_session_logits(s, logits, info.n_vocab) != VKS_OK) return fail("logits");

    FILE* f = fopen(argv[2], "wb");
    if (!f || fwrite(logits, sizeof *logits, info.n_vocab, f) != info.n_vocab || fclose(f) != 0) {
        fprintf(stderr, "vks_capi_logits: cannot write %s\n", argv[2]);
        return 1;
    }
    free(ids);
    free(logits);
    vks_session_free(s);
    vks_model_free(model);
    return 0;
}
