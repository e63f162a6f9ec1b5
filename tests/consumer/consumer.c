#include <stdio.h>
#include <string.h>
#include <vkstream/vkstream.h>

int main(void) {
    vks_model* m = NULL;
    vks_status st = vks_model_load("/nonexistent/model.gguf", NULL, &m);
    /* A missing file is an i/o error with a message, and the library stays usable. */
    if (st != VKS_ERR_IO || m != NULL || strlen(vks_last_error()) == 0) {
        fprintf(stderr, "unexpected: %d %s\n", (int)st, vks_last_error());
        return 1;
    }
    printf("vkstream %s: %s\n", vks_version(), vks_status_string(st));
    return 0;
}
