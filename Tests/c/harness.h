/*
 * Tests/c/harness.h: a tiny test harness for the Strata C tests.
 *
 *   CHECK(cond, fmt, ...)          records a failure (file:line, test, message) and goes on;
 *                                  evaluates to 1 if cond held, 0 if not.
 *   REQUIRE(cond, fmt, ...)        like CHECK, but returns from the test on failure.
 *   CHECK_STATUS(call, expected)   runs a Strata call, keeps a copy of strata_error_last()
 *                                  in last_message, and checks the status.
 *   REQUIRE_STATUS(call, expected) the same, returning from the test on failure.
 *   CHECK_CONTAINS(text, needle)   checks strstr(text, needle) != NULL (text may be NULL).
 *
 * A test is a `void name(void)` listed in tests.h; a test fails if any check in it
 * failed. main() prints one line per failed test and ends with exactly
 * "N passed, M failed" on a line of its own.
 */
#ifndef STRATA_C_TEST_HARNESS_H
#define STRATA_C_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include <strata/strata.h>

/* ---- checks ------------------------------------------------------------- */

int harness_check(int ok, const char *file, int line, const char *expr, const char *format, ...)
    __attribute__((format(printf, 5, 6)));
int harness_check_status(strata_status got, strata_status expected, const char *file, int line, const char *expr);
strata_status harness_call(strata_status status);

#define CHECK(cond, ...) harness_check(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)
#define REQUIRE(cond, ...) \
    do { \
        if (!CHECK(cond, __VA_ARGS__)) return; \
    } while (0)
#define CHECK_STATUS(call, expected) harness_check_status(harness_call(call), (expected), __FILE__, __LINE__, #call)
#define REQUIRE_STATUS(call, expected) \
    do { \
        if (!CHECK_STATUS(call, expected)) return; \
    } while (0)
#define CHECK_CONTAINS(text, needle) \
    CHECK((text) != NULL && strstr((text), (needle)) != NULL, "expected \"%s\" in: %s", (needle), \
          (text) != NULL ? (text) : "(null)")

/* The copy of strata_error_last() taken right after the last CHECK_STATUS call on this thread. */
extern _Thread_local char last_message[2048];

/* ---- fixtures and helpers (harness.c) ----------------------------------- */

/* Folder holding the built plugins: libstrata-flat.so and the Tests/fixtures/plugins ones. */
extern const char *plugin_dir;

/* "<plugin_dir>/<file>" in a rotating static buffer (several may be alive at once). */
const char *plugin_path(const char *file);

/* printf into a rotating static buffer (8 buffers of 4 KiB). */
const char *fmt(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* Opens an engine; on failure records a check failure and returns NULL. */
strata_engine *open_engine(const char *config_json, const char *file, int line);
#define OPEN(config) open_engine((config), __FILE__, __LINE__)

/* The "memories" count from strata_engine_stats, or -1 on failure. */
int64_t memory_count(strata_engine *engine);

/* Stores one memory from a request; copies the answer's "id" into id (may be NULL). Returns the status. */
strata_status store_one(strata_engine *engine, const char *request_json, char *id, size_t id_size);

/* Copies the string value of the first "key":"..." in json into out (escapes kept). 1 if found. */
int json_string(const char *json, const char *key, char *out, size_t size);

/* Number of non-overlapping occurrences of needle in text. */
size_t count_occurrences(const char *text, const char *needle);

/* Position of the hit with this id in a recall answer (0 = best), or -1 if absent. */
int hit_rank(const char *answer, const char *id);

/* Number of hits in a recall answer. */
int hit_count(const char *answer);

/* The text right after "field": inside the hit with this id (e.g. "null,..." for "keyword"), or NULL. */
const char *hit_field(const char *answer, const char *id, const char *field);

/* Runs a recall request and returns the answer (caller frees with strata_string_free), NULL on failure. */
char *recall(strata_engine *engine, const char *request_json);

/* A deterministic pseudo-random float in [-1, 1). */
float random_float(uint64_t *state);

#endif /* STRATA_C_TEST_HARNESS_H */
