/*
 * examples/c/kernel.c: a memory kernel in a learning loop, from C.
 *
 * Opens a Ring kernel (a buffer of the last 8 hidden states read by attention),
 * runs 50 steps for a batch of 4 streams with an episode ending now and then,
 * prints the logs, saves the state and loads it back.
 *
 *     cc -std=c11 -I include examples/c/kernel.c -L .build/debug -lstrata \
 *        -Wl,-rpath,$PWD/.build/debug -lm -o kernel && ./kernel
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strata/strata.h>

#define BATCH 4
#define STEPS 50

static int fail(const char *what)
{
    fprintf(stderr, "%s failed: %s\n", what, strata_error_last());
    return 1;
}

int main(void)
{
    strata_kernel *kernel = NULL;
    if (strata_kernel_open(&kernel, "{\"type\": \"ring\", \"memory_dim\": 32, \"buffer_size\": 8, \"seed\": 1}") != STRATA_OK) {
        return fail("strata_kernel_open");
    }
    char *info = NULL;
    if (strata_kernel_info(kernel, &info) != STRATA_OK) return fail("strata_kernel_info");
    printf("kernel: %s\n", info);
    strata_string_free(info);

    const size_t d = strata_kernel_dimension(kernel), s = strata_kernel_state_size(kernel);
    const size_t logs_per_row = strata_kernel_log_count(kernel);
    float *state = malloc(sizeof(float) * BATCH * s);
    float *hidden = malloc(sizeof(float) * BATCH * d);
    float *read = malloc(sizeof(float) * BATCH * d);
    float *logs = malloc(sizeof(float) * BATCH * logs_per_row);
    float done[BATCH];
    if (!state || !hidden || !read || !logs) return 1;
    if (strata_kernel_initial_state(kernel, BATCH, state) != STRATA_OK) return fail("strata_kernel_initial_state");

    for (int t = 0; t < STEPS; t++) {
        for (size_t i = 0; i < BATCH * d; i++) hidden[i] = sinf((float)(t * 7 + (int)i) * 0.1f);
        for (int b = 0; b < BATCH; b++) done[b] = (t > 0 && (t + b) % 20 == 0) ? 1.0f : 0.0f;  /* episodes end */
        if (strata_kernel_step(kernel, BATCH, state, hidden, done, read, logs) != STRATA_OK) return fail("strata_kernel_step");
        if (t % 10 == 9) {
            printf("step %2d, row 0: write_strength %.2f  read_entropy %.3f  overwrite_conflict %.3f  usage_mean %.2f\n",
                   t + 1, logs[0], logs[1], logs[2], logs[3]);
        }
    }

    /* A bad call names its culprit and changes nothing. */
    if (strata_kernel_step(kernel, BATCH, state, NULL, NULL, read, NULL) != STRATA_ERR_INVALID_ARGUMENT) return 1;
    printf("expected error: %s\n", strata_error_last());

    const char *path = "/tmp/strata-kernel-example.safetensors";
    float *again = malloc(sizeof(float) * BATCH * s);
    if (!again) return 1;
    if (strata_kernel_save_state(kernel, path, BATCH, state) != STRATA_OK) return fail("strata_kernel_save_state");
    if (strata_kernel_load_state(kernel, path, BATCH, again) != STRATA_OK) return fail("strata_kernel_load_state");
    printf("state saved and loaded back: %s\n", memcmp(state, again, sizeof(float) * BATCH * s) == 0 ? "identical" : "DIFFERENT");
    remove(path);

    free(again);
    free(logs);
    free(read);
    free(hidden);
    free(state);
    strata_kernel_close(kernel);
    return 0;
}
