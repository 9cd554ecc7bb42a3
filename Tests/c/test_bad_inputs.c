/*
 * Tests/c/test_bad_inputs.c: the one table of bad inputs (Tests/bad_inputs.json) through the C ABI.
 *
 * Tests/c/run.sh turns the table into bad_inputs_table.h (Tests/c/bad_inputs.py) before
 * compiling. For every row whose faces include "c": open the embedded default engine (in
 * memory, dimension 256), store the seed memories, apply the row, and check the returned
 * status, that *out_json is NULL, that strata_error_last() holds every culprit string, and
 * that the store is unchanged (the count, and each seed memory's get and history answers).
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tests.h"

typedef struct {
    const char *name;
    const char *verb;
    const char *request; /* the request text, NULL for "open" */
    const char *config;  /* the configuration text for "open", else NULL */
    int vector_count;
    int vector_dimension; /* 0: the engine's */
    int vector_row;       /* the vector whose first elements are values */
    float fill;
    int value_count;
    float values[8];
    strata_status status;
    const char *culprits[4];
} bad_input_row;

#include "bad_inputs_table.h"

enum { SEEDS = sizeof bad_input_seed / sizeof bad_input_seed[0], ROWS = sizeof bad_input_rows / sizeof bad_input_rows[0] };
enum { DIMENSION = 256 };

/* text with {id0}.. replaced by the seed ids and {plugins} by plugin_dir; caller frees. */
static char *substitute(const char *text, char ids[SEEDS][64])
{
    size_t cap = strlen(text) + 64 * SEEDS * 8 + strlen(plugin_dir) * 4 + 1, n = 0;
    char *out = malloc(cap);
    if (out == NULL) return NULL;
    for (const char *at = text; *at != '\0';) {
        const char *with = NULL;
        size_t skip = 0;
        char key[16];
        for (int i = 0; i < SEEDS && with == NULL; i++) {
            snprintf(key, sizeof key, "{id%d}", i);
            if (strncmp(at, key, strlen(key)) == 0) with = ids[i], skip = strlen(key);
        }
        if (with == NULL && strncmp(at, "{plugins}", 9) == 0) with = plugin_dir, skip = 9;
        if (with != NULL && n + strlen(with) < cap) {
            memcpy(out + n, with, strlen(with));
            n += strlen(with);
            at += skip;
        } else if (n + 1 < cap) {
            out[n++] = *at++;
        } else {
            break;
        }
    }
    out[n] = '\0';
    return out;
}

/* What must not change: the count, then each seed memory's get and history answers. Caller frees. */
static char *store_state(strata_engine *engine, char ids[SEEDS][64])
{
    size_t cap = 1 << 16, n = 0;
    char *state = malloc(cap);
    if (state == NULL) return NULL;
    n += (size_t)snprintf(state, cap, "memories %lld\n", (long long)memory_count(engine));
    for (int i = 0; i < SEEDS; i++) {
        const char *request = fmt("{\"id\":\"%s\"}", ids[i]);
        char *got = NULL, *history = NULL;
        strata_status a = strata_engine_get(engine, request, &got);
        strata_status b = strata_engine_history(engine, request, &history);
        if (n < cap) {
            n += (size_t)snprintf(state + n, cap - n, "%d %s\n%d %s\n", (int)a, got != NULL ? got : "-", (int)b,
                                  history != NULL ? history : "-");
        }
        strata_string_free(got);
        strata_string_free(history);
    }
    return state;
}

static strata_status apply(strata_engine *engine, const bad_input_row *row, char ids[SEEDS][64], char **out)
{
    if (strcmp(row->verb, "open") == 0) {
        char *config = substitute(row->config, ids);
        strata_engine *opened = NULL;
        strata_status status = harness_call(strata_engine_open(&opened, config));
        CHECK(opened == NULL, "%s: a failed open sets *out to NULL", row->name);
        strata_engine_close(opened);
        free(config);
        return status;
    }
    char *request = substitute(row->request, ids);
    strata_status status;
    if (strcmp(row->verb, "store_vectors") == 0 || strcmp(row->verb, "recall_vector") == 0) {
        size_t dimension = row->vector_dimension > 0 ? (size_t)row->vector_dimension : DIMENSION;
        size_t count = (size_t)row->vector_count;
        float *vectors = malloc(count * dimension * sizeof *vectors);
        for (size_t i = 0; i < count * dimension; i++) vectors[i] = row->fill;
        for (int j = 0; j < row->value_count; j++) vectors[(size_t)row->vector_row * dimension + (size_t)j] = row->values[j];
        if (row->verb[0] == 's') {
            status = harness_call(strata_engine_store_vectors(engine, request, vectors, count, dimension, out));
        } else {
            status = harness_call(strata_engine_recall_vector(engine, request, vectors, dimension, out));
        }
        free(vectors);
    } else {
        strata_status (*verb)(strata_engine *, const char *, char **) = NULL;
        if (strcmp(row->verb, "store") == 0) verb = strata_engine_store;
        else if (strcmp(row->verb, "recall") == 0) verb = strata_engine_recall;
        else if (strcmp(row->verb, "update") == 0) verb = strata_engine_update;
        else if (strcmp(row->verb, "forget") == 0) verb = strata_engine_forget;
        else if (strcmp(row->verb, "get") == 0) verb = strata_engine_get;
        else if (strcmp(row->verb, "history") == 0) verb = strata_engine_history;
        else if (strcmp(row->verb, "list") == 0) verb = strata_engine_list;
        CHECK(verb != NULL, "%s: no C form for verb %s", row->name, row->verb);
        status = verb != NULL ? harness_call(verb(engine, request, out)) : STRATA_OK;
    }
    free(request);
    return status;
}

void bad_inputs__every_row_fails_with_its_status_names_its_culprit_and_keeps_the_store(void)
{
    int failed_rows = 0;
    for (size_t r = 0; r < ROWS; r++) {
        const bad_input_row *row = &bad_input_rows[r];
        strata_engine *engine = OPEN(NULL);
        if (engine == NULL) return;
        char ids[SEEDS][64];
        int seeded = 1;
        for (int i = 0; i < SEEDS; i++) {
            seeded &= CHECK(store_one(engine, bad_input_seed[i], ids[i], sizeof ids[i]) == STRATA_OK, "seed %d: %s", i,
                            last_message);
        }
        if (!seeded) {
            strata_engine_close(engine);
            return;
        }
        char *before = store_state(engine, ids);

        char *out = (char *)"(untouched)";
        strata_status status = apply(engine, row, ids, &out);
        int ok = CHECK(status == row->status, "%s: expected %s, got %s: \"%s\"", row->name, strata_status_name(row->status),
                       strata_status_name(status), last_message);
        if (strcmp(row->verb, "open") != 0) {
            ok &= CHECK(out == NULL, "%s: *out_json must be NULL on failure", row->name);
            if (status == STRATA_OK) strata_string_free(out);
        }
        for (int c = 0; c < 4 && row->culprits[c] != NULL; c++) {
            ok &= CHECK(strstr(last_message, row->culprits[c]) != NULL, "%s: expected \"%s\" in: %s", row->name,
                        row->culprits[c], last_message);
        }
        char *after = store_state(engine, ids);
        ok &= CHECK(before != NULL && after != NULL && strcmp(before, after) == 0, "%s: the store changed:\n%s\nbecame\n%s",
                    row->name, before != NULL ? before : "(null)", after != NULL ? after : "(null)");
        free(before);
        free(after);
        strata_engine_close(engine);
        failed_rows += !ok;
    }
    CHECK(ROWS >= 40, "the table has %d C rows", (int)ROWS);
    if (failed_rows > 0) fprintf(stderr, "bad inputs: %d of %d rows failed\n", failed_rows, (int)ROWS);
}
