#define _POSIX_C_SOURCE 200809L
/* The memory-kernel face (strata/kernel.h): a kernel through libstrata-tensor.so,
 * step and sequence agreeing, state files, and the error paths. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tests.h"

static const char *const ring = "{\"type\": \"ring\", \"memory_dim\": 8, \"buffer_size\": 4, \"seed\": 2}";

void kernel__opens_and_describes_itself(void)
{
    strata_kernel *k = NULL;
    REQUIRE_STATUS(strata_kernel_open(&k, ring), STRATA_OK);
    CHECK(strata_kernel_dimension(k) == 8, "dimension %zu", strata_kernel_dimension(k));
    CHECK(strata_kernel_state_size(k) == 4 * 8 + 4 + 1, "state size %zu", strata_kernel_state_size(k));
    CHECK(strata_kernel_log_count(k) == 4, "log count %zu", strata_kernel_log_count(k));
    char *info = NULL;
    if (CHECK_STATUS(strata_kernel_info(k, &info), STRATA_OK)) {
        CHECK_CONTAINS(info, "\"type\":\"ring\"");
        CHECK_CONTAINS(info, "\"logs\":[\"write_strength\",\"read_entropy\",\"overwrite_conflict\",\"usage_mean\"]");
        CHECK_CONTAINS(info, "\"parameters\":144");
    }
    strata_string_free(info);
    strata_kernel_close(k);
    strata_kernel_close(NULL);
    CHECK(strata_kernel_dimension(NULL) == 0, "NULL has no dimension");
}

void kernel__bad_configs_name_the_culprit(void)
{
    strata_kernel *k = (strata_kernel *)1;
    CHECK_STATUS(strata_kernel_open(&k, "{\"type\": \"ring\", \"memory_dim\": 8, \"colour\": 3}"), STRATA_ERR_INVALID_CONFIG);
    CHECK(k == NULL, "out must be NULL after a failure");
    CHECK_CONTAINS(last_message, "colour");
    CHECK_STATUS(strata_kernel_open(&k, "{\"type\": \"tape\", \"memory_dim\": 8}"), STRATA_ERR_INVALID_CONFIG);
    CHECK_CONTAINS(last_message, "tape");
    CHECK_STATUS(strata_kernel_open(&k, "{\"type\": \"ring\"}"), STRATA_ERR_INVALID_CONFIG);
    CHECK_CONTAINS(last_message, "memory_dim");
    CHECK_STATUS(strata_kernel_open(&k, "{\"type\": \"ring\", \"memory_dim\": 8, \"weights\": \"/nonexistent/w.safetensors\"}"),
                 STRATA_ERR_IO);
    CHECK_CONTAINS(last_message, "/nonexistent/w.safetensors");
    CHECK_STATUS(strata_kernel_open(&k, "{\"type\": \"ring\", \"memory_dim\": 8, \"plugin\": \"no-such-plugin\"}"), STRATA_ERR_PLUGIN);
    CHECK_CONTAINS(last_message, "no-such-plugin");
}

void kernel__sequence_equals_steps_and_state_files_round_trip(void)
{
    strata_kernel *k = NULL;
    REQUIRE_STATUS(strata_kernel_open(&k, ring), STRATA_OK);
    enum { B = 3, T = 6, D = 8 };
    const size_t s = strata_kernel_state_size(k);
    float *a = calloc(B * s, sizeof(float)), *b = calloc(B * s, sizeof(float)), *c = calloc(B * s, sizeof(float));
    float hidden[T * B * D], masks[T * B], read_steps[T * B * D], read_seq[T * B * D];
    for (int i = 0; i < T * B * D; i++) hidden[i] = cosf((float)i * 0.37f);
    for (int i = 0; i < T * B; i++) masks[i] = (i % 7 == 3) ? 1.0f : 0.0f;
    REQUIRE(a && b && c, "out of memory");
    CHECK_STATUS(strata_kernel_initial_state(k, B, a), STRATA_OK);
    CHECK_STATUS(strata_kernel_initial_state(k, B, b), STRATA_OK);
    for (int t = 0; t < T; t++) {
        CHECK_STATUS(strata_kernel_step(k, B, a, hidden + t * B * D, masks + t * B, read_steps + t * B * D, NULL), STRATA_OK);
    }
    CHECK_STATUS(strata_kernel_sequence(k, T, B, b, hidden, masks, read_seq, NULL), STRATA_OK);
    CHECK(memcmp(read_steps, read_seq, sizeof read_seq) == 0, "sequence reads differ from step reads");
    CHECK(memcmp(a, b, B * s * sizeof(float)) == 0, "sequence state differs from step state");

    char path[] = "/tmp/strata-c-kernel-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0, "mkstemp failed");
    CHECK_STATUS(strata_kernel_save_state(k, path, B, a), STRATA_OK);
    CHECK_STATUS(strata_kernel_load_state(k, path, B, c), STRATA_OK);
    CHECK(memcmp(a, c, B * s * sizeof(float)) == 0, "loaded state differs");
    memset(c, 0, B * s * sizeof(float));
    CHECK_STATUS(strata_kernel_load_state(k, path, B - 1, c), STRATA_ERR_DIMENSION);
    CHECK_CONTAINS(last_message, "[2, 37]");
    CHECK(c[0] == 0.0f, "a failed load wrote into the state");

    CHECK_STATUS(strata_kernel_save_weights(k, path), STRATA_OK);
    char config[256];
    snprintf(config, sizeof config, "{\"type\": \"ring\", \"memory_dim\": 8, \"buffer_size\": 4, \"weights\": \"%s\"}", path);
    strata_kernel *loaded = NULL;
    CHECK_STATUS(strata_kernel_open(&loaded, config), STRATA_OK);
    strata_kernel_close(loaded);
    snprintf(config, sizeof config, "{\"type\": \"ring\", \"memory_dim\": 16, \"weights\": \"%s\"}", path);
    CHECK_STATUS(strata_kernel_open(&loaded, config), STRATA_ERR_DIMENSION);
    CHECK_CONTAINS(last_message, "ring.");
    remove(path);

    CHECK_STATUS(strata_kernel_step(k, 0, a, hidden, NULL, read_steps, NULL), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(strata_kernel_step(k, B, NULL, hidden, NULL, read_steps, NULL), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(last_message, "state");
    CHECK_STATUS(strata_kernel_reset(k, B, a, NULL), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(strata_kernel_step(NULL, B, a, hidden, NULL, read_steps, NULL), STRATA_ERR_INVALID_ARGUMENT);
    free(a);
    free(b);
    free(c);
    strata_kernel_close(k);
}
