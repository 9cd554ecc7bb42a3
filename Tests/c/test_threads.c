/*
 * Tests/c/test_threads.c: one engine used from several threads at once.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tests.h"

enum { THREADS = 4, PER_THREAD = 60 };

static const char *const words[] = {"amber", "basil", "cobalt", "delta", "ember", "fjord", "garnet", "harbor",
                                    "indigo", "juniper", "kelp", "lantern", "maple", "nectar", "onyx", "pepper"};

typedef struct worker {
    strata_engine *engine;
    int index;
    atomic_int *events;
} worker;

static void *run_worker(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        char content[128], request[512], id[64];
        /* Distinct words per memory: thread, item and a word pair. */
        snprintf(content, sizeof content, "thread%d item%d %s %s note", w->index, i, words[(w->index * 5 + i) % 16],
                 words[(i * 3 + 1) % 16]);
        snprintf(request, sizeof request, "{\"content\": \"%s\", \"metadata\": {\"thread\": %d, \"item\": %d}}", content,
                 w->index, i);
        CHECK_STATUS(store_one(w->engine, request, id, sizeof id), STRATA_OK);

        /* The exact text is the best match for both the vector and the keyword search. */
        char *out = NULL;
        snprintf(request, sizeof request, "{\"query\": \"%s\", \"k\": 5, \"filter\": {\"thread\": %d}}", content, w->index);
        if (CHECK_STATUS(strata_engine_recall(w->engine, request, &out), STRATA_OK)) {
            CHECK(hit_rank(out, id) == 0, "thread %d: the memory just stored is not first: %s", w->index, out);
            CHECK(strstr(out, fmt("\"thread\":%d", (w->index + 1) % THREADS)) == NULL, "filter leaked another thread: %s", out);
        }
        strata_string_free(out);

        /* The last error is per thread: a failure here is not seen by the other threads. */
        if (i % 10 == 0) {
            CHECK_STATUS(strata_engine_get(w->engine, fmt("{\"id\": \"m-missing-%d-%d\"}", w->index, i), &out), STRATA_ERR_NOT_FOUND);
            CHECK_CONTAINS(last_message, fmt("m-missing-%d-%d", w->index, i));
            CHECK_STATUS(strata_engine_stats(w->engine, NULL, &out), STRATA_OK);
            CHECK(strcmp(last_message, "") == 0, "after success: \"%s\"", last_message);
            strata_string_free(out);
        }
    }
    return NULL;
}

static void count_stored(void *user_data, const char *event_json)
{
    if (strstr(event_json, "\"type\":\"memory.stored\"") != NULL) atomic_fetch_add((atomic_int *)user_data, 1);
}

void threads__four_threads_store_and_recall_on_one_engine(void)
{
    /* Dedupe off: every store must add a memory, whatever the hashing embedder thinks.
     * No access tracking: ranks then depend on relevance only, not on earlier recalls. */
    strata_engine *engine = OPEN("{\"dedupe\": {\"enabled\": false}, \"recall\": {\"track_access\": false}}");
    REQUIRE(engine != NULL, "open");
    atomic_int events = 0;
    uint64_t subscription = 0;
    REQUIRE_STATUS(strata_engine_subscribe(engine, count_stored, &events, &subscription), STRATA_OK);

    pthread_t threads[THREADS];
    worker workers[THREADS];
    int started = 0;
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (worker){engine, t, &events};
        if (!CHECK(pthread_create(&threads[t], NULL, run_worker, &workers[t]) == 0, "pthread_create %d", t)) break;
        started++;
    }
    for (int t = 0; t < started; t++) pthread_join(threads[t], NULL);

    CHECK(memory_count(engine) == THREADS * PER_THREAD, "count %lld, expected %d", (long long)memory_count(engine),
          THREADS * PER_THREAD);
    CHECK(atomic_load(&events) == THREADS * PER_THREAD, "stored events %d, expected %d", atomic_load(&events),
          THREADS * PER_THREAD);
    char *out = NULL;
    if (CHECK_STATUS(strata_engine_stats(engine, NULL, &out), STRATA_OK)) {
        CHECK_CONTAINS(out, fmt("\"store\":%d", THREADS * PER_THREAD));
    }
    strata_string_free(out);
    CHECK_STATUS(strata_engine_unsubscribe(engine, subscription), STRATA_OK);
    strata_engine_close(engine);
}

/* Several threads open and close their own engines at once. */
static void *open_close(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10; i++) {
        strata_engine *engine = NULL;
        if (!CHECK_STATUS(strata_engine_open(&engine, NULL), STRATA_OK)) return NULL;
        CHECK_STATUS(store_one(engine, "{\"content\": \"short lived\"}", NULL, 0), STRATA_OK);
        strata_engine_close(engine);
    }
    return NULL;
}

void threads__engines_open_and_close_concurrently(void)
{
    pthread_t threads[THREADS];
    int started = 0;
    for (int t = 0; t < THREADS; t++) {
        if (!CHECK(pthread_create(&threads[t], NULL, open_close, NULL) == 0, "pthread_create %d", t)) break;
        started++;
    }
    for (int t = 0; t < started; t++) pthread_join(threads[t], NULL);
}

/* Each thread stores, updates and forgets its own memories while the others recall. */
typedef struct churner {
    strata_engine *engine;
    int index;
} churner;

static void *churn(void *arg)
{
    churner *c = arg;
    for (int i = 0; i < 25; i++) {
        char keep[64], drop[64], *out = NULL;
        CHECK_STATUS(store_one(c->engine, fmt("{\"content\": \"keeper t%d n%d\", \"metadata\": {\"t\": %d}}", c->index, i, c->index),
                               keep, sizeof keep),
                     STRATA_OK);
        CHECK_STATUS(store_one(c->engine, fmt("{\"content\": \"dropper t%d n%d\", \"metadata\": {\"t\": %d}}", c->index, i, c->index),
                               drop, sizeof drop),
                     STRATA_OK);
        if (CHECK_STATUS(strata_engine_update(c->engine, fmt("{\"id\": \"%s\", \"content\": \"kept t%d n%d updated\"}", keep, c->index, i),
                                              &out),
                         STRATA_OK)) {
            strata_string_free(out);
        }
        if (CHECK_STATUS(strata_engine_forget(c->engine, fmt("{\"id\": \"%s\"}", drop), &out), STRATA_OK)) strata_string_free(out);
        if (CHECK_STATUS(strata_engine_recall(c->engine, fmt("{\"query\": \"kept t%d n%d\", \"k\": 3}", c->index, i), &out), STRATA_OK)) {
            CHECK(hit_rank(out, drop) < 0, "a forgotten memory was recalled");
            strata_string_free(out);
        }
    }
    return NULL;
}

static void churn_engine(const char *config)
{
    strata_engine *engine = OPEN(config);
    REQUIRE(engine != NULL, "open");
    pthread_t threads[THREADS];
    churner churners[THREADS];
    int started = 0;
    for (int t = 0; t < THREADS; t++) {
        churners[t] = (churner){engine, t};
        if (!CHECK(pthread_create(&threads[t], NULL, churn, &churners[t]) == 0, "pthread_create %d", t)) break;
        started++;
    }
    for (int t = 0; t < started; t++) pthread_join(threads[t], NULL);
    CHECK(memory_count(engine) == THREADS * 25, "count %lld, expected %d", (long long)memory_count(engine), THREADS * 25);
    for (int t = 0; t < THREADS; t++) {
        char *out = NULL;
        if (CHECK_STATUS(strata_engine_forget(engine, fmt("{\"filter\": {\"t\": %d}}", t), &out), STRATA_OK)) {
            CHECK(count_occurrences(out, "\"m-") == 25, "thread %d kept %zu memories", t, count_occurrences(out, "\"m-"));
        }
        strata_string_free(out);
    }
    CHECK(memory_count(engine) == 0, "count after forgetting all: %lld", (long long)memory_count(engine));
    strata_engine_close(engine);
}

void threads__concurrent_store_update_forget_keep_counts_right(void)
{
    churn_engine("{\"dedupe\": {\"enabled\": false}}");
}

void threads__c_flat_plugin_is_serialised_by_the_host(void)
{
    churn_engine(fmt("{\"dedupe\": {\"enabled\": false}, \"store\": {\"backend\": \"flat\", \"plugin\": \"%s\"}}",
                     plugin_path("libstrata-flat.so")));
}
