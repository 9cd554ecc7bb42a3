/*
 * quickstart.c: Strata from C in one page.
 *
 * Build (from the repository root, after `swift build`):
 *
 *     cc -std=c11 -Wall -Wextra -Werror -I include examples/c/quickstart.c \
 *        -L .build/debug -lstrata -Wl,-rpath,"$PWD/.build/debug" -o quickstart
 *     ./quickstart
 *
 * Everything crosses the C ABI as JSON text in and JSON text out. Every call
 * returns a strata_status (STRATA_OK is 0); on failure strata_error_last()
 * says what went wrong. Strings the library hands back are freed with
 * strata_string_free().
 */
#include <stdio.h>
#include <stdlib.h>

#include <strata/strata.h>

/* Prints a failed call's status name and message; returns 1 so main can exit with it. */
static int report(const char *what, strata_status status)
{
    /* Read the message first: it is only valid until the next Strata call on this thread. */
    const char *message = strata_error_last();
    fprintf(stderr, "%s failed: %s (%d): %s\n", what, strata_status_name(status), (int)status, message);
    return 1;
}

int main(void)
{
    printf("Strata %s, ABI %u.%u\n", strata_version(), (unsigned)(strata_abi_version() >> 16),
           (unsigned)(strata_abi_version() & 0xffff));

    /* 1. Open the embedded default: in-memory store, hashing embedder, no files, no network. */
    strata_engine *engine = NULL;
    strata_status status = strata_engine_open(&engine, NULL);
    if (status != STRATA_OK) return report("strata_engine_open", status);

    /* 2. Store a few memories in one atomic batch, with metadata and scopes.
     *    A scope places a memory in the agent tree ("org/planner" is a child of "org").
     *    "shared" lets the parent and children see it; "global" lets everyone. */
    char *answer = NULL;
    status = strata_engine_store(engine,
        "{\"items\": ["
        "  {\"content\": \"Alice prefers green tea in the morning\","
        "   \"metadata\": {\"user\": \"alice\", \"topic\": \"drinks\"}, \"scope\": \"org/planner\"},"
        "  {\"content\": \"Bob drinks black coffee, no sugar\","
        "   \"metadata\": {\"user\": \"bob\", \"topic\": \"drinks\"}, \"scope\": \"org/planner\"},"
        "  {\"content\": \"The team stand-up is at 9:30 every weekday\","
        "   \"metadata\": {\"topic\": \"meetings\"}, \"scope\": \"org\", \"visibility\": \"shared\"},"
        "  {\"content\": \"The office is closed on public holidays\","
        "   \"scope\": \"org/hr\", \"visibility\": \"global\", \"importance\": 0.9}"
        "]}",
        &answer);
    if (status != STRATA_OK) {
        strata_engine_close(engine);
        return report("strata_engine_store", status);
    }
    printf("stored: %s\n", answer); /* {"deduplicated":[],"ids":["m-...", ...]} */
    strata_string_free(answer);

    /* 3. Recall as the planner: hybrid vector + keyword search, fused, then weighted by
     *    recency, importance and access. Each hit reports every part of its score in
     *    "scores": vector, keyword, fused, recency, importance, access. */
    status = strata_engine_recall(engine, "{\"query\": \"what does Alice like to drink?\", \"k\": 3, \"scope\": \"org/planner\"}",
                                  &answer);
    if (status != STRATA_OK) {
        strata_engine_close(engine);
        return report("strata_engine_recall", status);
    }
    printf("recall: %s\n", answer);
    strata_string_free(answer);

    /* 4. The same, restricted by a metadata filter. */
    status = strata_engine_recall(engine, "{\"query\": \"morning drinks\", \"k\": 3, \"filter\": {\"user\": \"bob\"}}", &answer);
    if (status != STRATA_OK) {
        strata_engine_close(engine);
        return report("strata_engine_recall (filtered)", status);
    }
    printf("recall with filter: %s\n", answer);
    strata_string_free(answer);

    /* 5. Errors: an unknown id is STRATA_ERR_NOT_FOUND, and the message names it.
     *    On failure *out_json is NULL and nothing stored before the call changed. */
    status = strata_engine_get(engine, "{\"id\": \"m-does-not-exist\"}", &answer);
    const char *message = strata_error_last(); /* copy it if you need it after another call */
    printf("expected error: %s (%d): %s\n", strata_status_name(status), (int)status, message);
    if (status != STRATA_ERR_NOT_FOUND || answer != NULL) {
        strata_engine_close(engine);
        return 1;
    }

    /* 6. Counts and configuration. */
    status = strata_engine_stats(engine, NULL, &answer);
    if (status != STRATA_OK) {
        strata_engine_close(engine);
        return report("strata_engine_stats", status);
    }
    printf("stats: %s\n", answer);
    strata_string_free(answer);

    /* 7. Close: releases everything the engine holds. */
    strata_engine_close(engine);
    return 0;
}
