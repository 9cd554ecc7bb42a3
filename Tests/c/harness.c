/*
 * Tests/c/harness.c: the harness, shared helpers and main() of the Strata C tests.
 *
 * Usage: strata_c_tests [--plugins DIR] [NAME-SUBSTRING ...]
 *
 *   --plugins DIR   folder of the built plugins (libstrata-flat.so, abi_mismatch.so,
 *                   ...); default: $STRATA_TEST_PLUGIN_DIR, else ".build/c".
 *   NAME-SUBSTRING  run only the tests whose name contains one of them.
 *
 * Prints each failed check as file:line, and ends with exactly one line
 * "N passed, M failed". Exits 1 if M > 0 (or on a usage error), else 0.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests.h"

/* ---- the checks --------------------------------------------------------- */

_Thread_local char last_message[2048];

static const char *current_test = "(none)";
static atomic_int current_failures;

int harness_check(int ok, const char *file, int line, const char *expr, const char *format, ...)
{
    if (ok) return 1;
    char message[4096];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    /* One fprintf per failure so lines from several threads do not interleave mid-line. */
    fprintf(stderr, "%s:%d: %s: CHECK(%s) failed: %s\n", file, line, current_test, expr, message);
    atomic_fetch_add(&current_failures, 1);
    return 0;
}

strata_status harness_call(strata_status status)
{
    /* Runs right after the call returned, before any other Strata call on this thread. */
    const char *m = strata_error_last();
    snprintf(last_message, sizeof last_message, "%s", m != NULL ? m : "(NULL)");
    return status;
}

int harness_check_status(strata_status got, strata_status expected, const char *file, int line, const char *expr)
{
    if (got == expected) return 1;
    return harness_check(0, file, line, expr, "expected %s (%d), got %s (%d); strata_error_last(): \"%s\"",
                         strata_status_name(expected), (int)expected, strata_status_name(got), (int)got, last_message);
}

/* ---- helpers ------------------------------------------------------------ */

const char *plugin_dir = ".build/c";

const char *fmt(const char *format, ...)
{
    static _Thread_local char buffers[8][4096];
    static _Thread_local unsigned next;
    char *out = buffers[next++ % 8];
    va_list args;
    va_start(args, format);
    vsnprintf(out, sizeof buffers[0], format, args);
    va_end(args);
    return out;
}

const char *plugin_path(const char *file)
{
    return fmt("%s/%s", plugin_dir, file);
}

strata_engine *open_engine(const char *config_json, const char *file, int line)
{
    strata_engine *engine = NULL;
    strata_status status = harness_call(strata_engine_open(&engine, config_json));
    harness_check(status == STRATA_OK && engine != NULL, file, line, "strata_engine_open",
                  "open failed with %s: \"%s\" (config: %s)", strata_status_name(status), last_message,
                  config_json != NULL ? config_json : "NULL");
    return status == STRATA_OK ? engine : NULL;
}

int64_t memory_count(strata_engine *engine)
{
    char *out = NULL;
    if (strata_engine_stats(engine, NULL, &out) != STRATA_OK || out == NULL) return -1;
    const char *at = strstr(out, "\"memories\":");
    int64_t n = at != NULL ? strtoll(at + strlen("\"memories\":"), NULL, 10) : -1;
    strata_string_free(out);
    return n;
}

int json_string(const char *json, const char *key, char *out, size_t size)
{
    char pattern[256];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *at = json != NULL ? strstr(json, pattern) : NULL;
    if (at == NULL || size == 0) return 0;
    at += strlen(pattern);
    size_t n = 0;
    while (*at != '\0' && *at != '"' && n + 1 < size) {
        if (*at == '\\' && at[1] != '\0' && n + 2 < size) out[n++] = *at++;
        out[n++] = *at++;
    }
    out[n] = '\0';
    return *at == '"';
}

strata_status store_one(strata_engine *engine, const char *request_json, char *id, size_t id_size)
{
    char *out = NULL;
    strata_status status = harness_call(strata_engine_store(engine, request_json, &out));
    if (id != NULL && id_size > 0) {
        id[0] = '\0';
        if (status == STRATA_OK) json_string(out, "id", id, id_size);
    }
    strata_string_free(out);
    return status;
}

size_t count_occurrences(const char *text, const char *needle)
{
    size_t n = 0, len = strlen(needle);
    if (text == NULL || len == 0) return 0;
    for (const char *at = strstr(text, needle); at != NULL; at = strstr(at + len, needle)) n++;
    return n;
}

/*
 * Hits are written with sorted keys: "category", "content", "id", "metadata", ...
 * so each hit's "id" is the first "id" inside it; the tests never put an "id"
 * key in metadata or the text "\"id\":\"" in content.
 */
int hit_rank(const char *answer, const char *id)
{
    const char *at = answer != NULL ? strstr(answer, "\"hits\":[") : NULL;
    char pattern[256];
    snprintf(pattern, sizeof pattern, "\"id\":\"%s\"", id);
    for (int rank = 0; at != NULL; rank++) {
        at = strstr(at, "\"id\":\"");
        if (at == NULL) return -1;
        if (strncmp(at, pattern, strlen(pattern)) == 0) return rank;
        at += 6;
    }
    return -1;
}

int hit_count(const char *answer)
{
    const char *at = answer != NULL ? strstr(answer, "\"hits\":[") : NULL;
    return at != NULL ? (int)count_occurrences(at, "\"id\":\"") : -1;
}

const char *hit_field(const char *answer, const char *id, const char *field)
{
    char pattern[256];
    snprintf(pattern, sizeof pattern, "\"id\":\"%s\"", id);
    const char *at = answer != NULL ? strstr(answer, pattern) : NULL;
    if (at == NULL) return NULL;
    snprintf(pattern, sizeof pattern, "\"%s\":", field);
    at = strstr(at, pattern);
    return at != NULL ? at + strlen(pattern) : NULL;
}

char *recall(strata_engine *engine, const char *request_json)
{
    char *out = NULL;
    strata_status status = harness_call(strata_engine_recall(engine, request_json, &out));
    if (status != STRATA_OK) {
        harness_check(0, __FILE__, __LINE__, "recall", "recall %s failed with %s: \"%s\"", request_json,
                      strata_status_name(status), last_message);
        return NULL;
    }
    return out;
}

float random_float(uint64_t *state)
{
    /* xorshift64*: deterministic, good enough for test vectors. */
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    uint64_t bits = (x * 0x2545F4914F6CDD1DULL) >> 40; /* 24 bits */
    return (float)bits / (float)(1u << 23) - 1.0f;
}

/* ---- main --------------------------------------------------------------- */

typedef struct test_entry {
    const char *name;
    void (*run)(void);
} test_entry;

#define STRATA_TEST_ENTRY(name) {#name, name},
static const test_entry all_tests[] = {STRATA_TESTS(STRATA_TEST_ENTRY)};

static int selected(const char *name, int argc, char **argv, int first)
{
    if (first >= argc) return 1;
    for (int i = first; i < argc; i++) {
        if (strstr(name, argv[i]) != NULL) return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int first = 1;
    const char *env = getenv("STRATA_TEST_PLUGIN_DIR");
    if (env != NULL && env[0] != '\0') plugin_dir = env;
    if (argc >= 2 && strcmp(argv[1], "--plugins") == 0) {
        if (argc < 3) {
            fprintf(stderr, "usage: %s [--plugins DIR] [NAME-SUBSTRING ...]\n", argv[0]);
            return 1;
        }
        plugin_dir = argv[2];
        first = 3;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof all_tests / sizeof all_tests[0]; i++) {
        if (!selected(all_tests[i].name, argc, argv, first)) continue;
        current_test = all_tests[i].name;
        atomic_store(&current_failures, 0);
        all_tests[i].run();
        fflush(stderr);
        if (atomic_load(&current_failures) == 0) {
            passed++;
            printf("ok   %s\n", all_tests[i].name);
        } else {
            failed++;
            printf("FAIL %s\n", all_tests[i].name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed > 0 ? 1 : 0;
}
