/*
 * Tests/c/standalone/threads_stress.c: many threads on one engine through include/strata/engine.h,
 * built with -fsanitize=thread or -fsanitize=address against a libstrata.so built the same way
 * (scripts/sanitize). Not in the C suite: it needs a sanitized library.
 *
 *     threads_stress LIBDIR FOLDER [ROUNDS]
 *
 * For the in-memory store and for a SQLite store in FOLDER (libstrata-sqlite.so from LIBDIR),
 * THREADS threads each store, recall, update and forget their own pinned memories, and store
 * unpinned ones for the lifecycle, while one of them also metabolizes and asks for stats. Then
 * every memory a thread kept must read back with its last content, and every one it forgot
 * must be gone; the SQLite store is closed and reopened and checked again. Last, a SQLite store
 * with an HNSW index is filled, closed (which saves the index image beside it) and reopened
 * mapped, and THREADS threads recall from it at once: through the searches answered from the
 * mapping, the load of its rows on a thread of the plugin's own, and the search that takes the
 * loaded rows in (plugins/sqlite/SQLiteRowLoad.swift). Every recall must find hits.
 * Prints "threads_stress: ok" and exits 0, or names what broke and exits 1.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <strata/engine.h>
#include <strata/strata.h>

enum { THREADS = 8, MAX_ROUNDS = 400 };

static int rounds = 40;

typedef struct worker {
    strata_engine *engine;
    int index;
    char ids[MAX_ROUNDS][64];
    int version[MAX_ROUNDS]; /* last content version written; -1 once forgotten */
    int failures;
} worker;

static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

#define FAIL(w, ...)                                                                   \
    do {                                                                               \
        pthread_mutex_lock(&print_lock);                                               \
        fprintf(stderr, "threads_stress: thread %d: ", (w)->index);                    \
        fprintf(stderr, __VA_ARGS__);                                                  \
        fprintf(stderr, " (%s)\n", strata_error_last());                       \
        pthread_mutex_unlock(&print_lock);                                             \
        (w)->failures++;                                                               \
    } while (0)

/* The value of "id" in an answer {"id":"..."}. */
static int answer_id(const char *json, char *id, size_t size)
{
    const char *at = json ? strstr(json, "\"id\":\"") : NULL;
    if (!at) return 0;
    at += 6;
    const char *end = strchr(at, '"');
    if (!end || (size_t)(end - at) >= size) return 0;
    memcpy(id, at, (size_t)(end - at));
    id[end - at] = 0;
    return 1;
}

static void *run(void *arg)
{
    worker *w = arg;
    char request[512];
    for (int i = 0; i < rounds; i++) {
        char *out = NULL;
        /* A pinned memory of this thread: the lifecycle never touches it. */
        snprintf(request, sizeof request,
                 "{\"content\": \"thread %d memory %d version 0\", \"pinned\": true, \"metadata\": {\"t\": %d, \"i\": %d}}",
                 w->index, i, w->index, i);
        if (strata_engine_store(w->engine, request, &out) != STRATA_OK || !answer_id(out, w->ids[i], sizeof w->ids[i])) {
            FAIL(w, "store %d: %s", i, out ? out : "(null)");
            strata_string_free(out);
            continue;
        }
        strata_string_free(out);
        w->version[i] = 0;

        /* An unpinned one, for metabolize to move, compress or prune. */
        snprintf(request, sizeof request, "{\"content\": \"loose note %d of thread %d\", \"importance\": 0.1}", i, w->index);
        if (strata_engine_store(w->engine, request, &out) != STRATA_OK) FAIL(w, "store loose %d", i);
        strata_string_free(out);

        snprintf(request, sizeof request, "{\"query\": \"thread %d memory\", \"k\": 5, \"filter\": {\"t\": %d}}", w->index, w->index);
        if (strata_engine_recall(w->engine, request, &out) != STRATA_OK) FAIL(w, "recall %d", i);
        else if (strstr(out, "\"hits\":[]") != NULL) FAIL(w, "recall %d found none of its own memories: %s", i, out);
        strata_string_free(out);

        /* Update an earlier memory of this thread. */
        int j = i / 2;
        if (w->version[j] >= 0) {
            snprintf(request, sizeof request, "{\"id\": \"%s\", \"content\": \"thread %d memory %d version %d\"}", w->ids[j], w->index, j,
                     w->version[j] + 1);
            if (strata_engine_update(w->engine, request, &out) != STRATA_OK) FAIL(w, "update %s", w->ids[j]);
            else w->version[j]++;
            strata_string_free(out);
        }

        /* Forget every third one. */
        if (i % 3 == 2) {
            int k = i - 1;
            if (w->version[k] >= 0) {
                snprintf(request, sizeof request, "{\"id\": \"%s\"}", w->ids[k]);
                if (strata_engine_forget(w->engine, request, &out) != STRATA_OK) FAIL(w, "forget %s", w->ids[k]);
                else w->version[k] = -1;
                strata_string_free(out);
            }
        }

        if (w->index == 0 && i % 8 == 0) {
            if (strata_engine_metabolize(w->engine, "{}", &out) != STRATA_OK) FAIL(w, "metabolize at %d", i);
            strata_string_free(out);
        }
        if (w->index == 1 && i % 8 == 0) {
            if (strata_engine_stats(w->engine, NULL, &out) != STRATA_OK) FAIL(w, "stats at %d", i);
            strata_string_free(out);
        }
        if (w->index == 2 && i % 10 == 0) {
            snprintf(request, sizeof request, "{\"id\": \"%s\"}", w->ids[i]);
            if (strata_engine_history(w->engine, request, &out) != STRATA_OK) FAIL(w, "history %s", w->ids[i]);
            strata_string_free(out);
        }
    }
    return NULL;
}

/* Every kept memory reads back with its last content; every forgotten one is gone. */
static int check(strata_engine *engine, worker *workers, const char *what)
{
    int bad = 0;
    for (int t = 0; t < THREADS; t++) {
        worker *w = &workers[t];
        for (int i = 0; i < rounds; i++) {
            if (w->ids[i][0] == 0) continue;
            char request[128], expected[128];
            char *out = NULL;
            snprintf(request, sizeof request, "{\"id\": \"%s\"}", w->ids[i]);
            strata_status s = strata_engine_get(engine, request, &out);
            if (w->version[i] < 0) {
                if (s != STRATA_ERR_NOT_FOUND) {
                    fprintf(stderr, "threads_stress: %s: forgotten %s is still there (status %d)\n", what, w->ids[i], (int)s);
                    bad++;
                }
            } else {
                snprintf(expected, sizeof expected, "\"content\":\"thread %d memory %d version %d\"", t, i, w->version[i]);
                if (s != STRATA_OK || strstr(out, expected) == NULL) {
                    fprintf(stderr, "threads_stress: %s: %s should hold %s, got status %d: %s\n", what, w->ids[i], expected, (int)s,
                            out ? out : strata_error_last());
                    bad++;
                }
            }
            strata_string_free(out);
        }
    }
    return bad;
}

/* Runs `body` on THREADS threads, each with its own worker of `workers` (cleared first), and
 * joins them: the failures they counted, one more if a thread could not be started (those that
 * were are joined all the same, so none outlives the engine). */
static int on_threads(strata_engine *engine, worker *workers, void *(*body)(void *))
{
    memset(workers, 0, sizeof(worker) * THREADS);
    pthread_t threads[THREADS];
    int started = 0, failures = 0;
    for (; started < THREADS; started++) {
        workers[started].engine = engine;
        workers[started].index = started;
        if (pthread_create(&threads[started], NULL, body, &workers[started]) != 0) {
            fprintf(stderr, "threads_stress: pthread_create failed for thread %d\n", started);
            failures++;
            break;
        }
    }
    for (int t = 0; t < started; t++) {
        pthread_join(threads[t], NULL);
        failures += workers[t].failures;
    }
    return failures;
}

static int stress(const char *config, const char *what, const char *reopen_config)
{
    strata_engine *engine = NULL;
    if (strata_engine_open(&engine, config) != STRATA_OK) {
        fprintf(stderr, "threads_stress: %s: cannot open: %s\n", what, strata_error_last());
        return 1;
    }
    static worker workers[THREADS];
    int failures = on_threads(engine, workers, run);
    failures += check(engine, workers, what);
    strata_engine_close(engine);
    if (reopen_config && failures == 0) {
        if (strata_engine_open(&engine, reopen_config) != STRATA_OK) {
            fprintf(stderr, "threads_stress: %s: cannot reopen: %s\n", what, strata_error_last());
            return 1;
        }
        failures += check(engine, workers, "reopened");
        strata_engine_close(engine);
    }
    printf("threads_stress: %s: %d threads x %d rounds, %d failures\n", what, THREADS, rounds, failures);
    return failures;
}

/* Recalls only, on a store reopened mapped. */
static void *recall_mapped(void *arg)
{
    worker *w = arg;
    char request[256];
    for (int i = 0; i < rounds / 2; i++) {
        char *out = NULL;
        snprintf(request, sizeof request, "{\"query\": \"mapped note %d about topic %d\", \"k\": 5}", (i * 37 + w->index * 101) % 3000,
                 (i + w->index) % 17);
        if (strata_engine_recall(w->engine, request, &out) != STRATA_OK) FAIL(w, "mapped recall %d", i);
        else if (strstr(out, "\"hits\":[]") != NULL) FAIL(w, "mapped recall %d found nothing: %s", i, out);
        strata_string_free(out);
    }
    return NULL;
}

static int mapped_stress(const char *libdir, const char *folder)
{
    char config[2048];
    snprintf(config, sizeof config,
             "{\"dedupe\": {\"enabled\": false}, \"store\": {\"backend\": \"sqlite\", \"plugin\": \"%s/libstrata-sqlite.so\", "
             "\"options\": {\"path\": \"%s/mapped.db\", \"index\": {\"type\": \"hnsw\", \"ef_search\": 32}}}}",
             libdir, folder);
    strata_engine *engine = NULL;
    if (strata_engine_open(&engine, config) != STRATA_OK) {
        fprintf(stderr, "threads_stress: mapped store: cannot open: %s\n", strata_error_last());
        return 1;
    }
    /* 3,000 memories in batches of 500 (a recall reads more than 2,000 rows by id in a few). */
    static char batch[500 * 96 + 64];
    for (int b = 0; b < 6; b++) {
        size_t at = (size_t)snprintf(batch, sizeof batch, "{\"items\": [");
        for (int i = 0; i < 500; i++) {
            int n = b * 500 + i;
            at += (size_t)snprintf(batch + at, sizeof batch - at, "%s{\"content\": \"mapped note %d about topic %d\"}", i ? ", " : "", n, n % 17);
        }
        snprintf(batch + at, sizeof batch - at, "]}");
        char *out = NULL;
        strata_status s = strata_engine_store(engine, batch, &out);
        strata_string_free(out);
        if (s != STRATA_OK) {
            fprintf(stderr, "threads_stress: mapped store: batch %d: %s\n", b, strata_error_last());
            strata_engine_close(engine);
            return 1;
        }
    }
    strata_engine_close(engine);
    if (strata_engine_open(&engine, config) != STRATA_OK) {
        fprintf(stderr, "threads_stress: mapped store: cannot reopen: %s\n", strata_error_last());
        return 1;
    }
    char *stats = NULL;
    int mapped_at_open = strata_engine_stats(engine, NULL, &stats) == STRATA_OK && strstr(stats, "\"mapped\":true") != NULL;
    strata_string_free(stats);
    int failures = mapped_at_open ? 0 : 1;
    if (!mapped_at_open) fprintf(stderr, "threads_stress: mapped store: the reopened store is not mapped\n");
    static worker workers[THREADS];
    failures += on_threads(engine, workers, recall_mapped);
    /* Then recalls until a search has taken the loaded rows in (the threads' reads started the
     * load): at most 10 s. */
    int loaded = 0;
    for (int tries = 0; tries < 200 && !loaded; tries++) {
        char *out = NULL;
        if (strata_engine_recall(engine, "{\"query\": \"mapped note 7 about topic 7\", \"k\": 5}", &out) != STRATA_OK) failures++;
        strata_string_free(out);
        loaded = strata_engine_stats(engine, NULL, &stats) == STRATA_OK && strstr(stats, "\"mapped\":false") != NULL;
        strata_string_free(stats);
        stats = NULL;
        if (!loaded) nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
    }
    if (!loaded) {
        fprintf(stderr, "threads_stress: mapped store: its rows never loaded\n");
        failures++;
    }
    strata_engine_close(engine);
    printf("threads_stress: mapped sqlite store: %d threads x %d recalls, rows loaded meanwhile, %d failures\n", THREADS, rounds / 2,
           failures);
    return failures;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: threads_stress LIBDIR FOLDER [ROUNDS]\n");
        return 2;
    }
    if (argc > 3) rounds = atoi(argv[3]);
    if (rounds < 3 || rounds > MAX_ROUNDS) rounds = 40;
    char config[2048];
    int failures = stress("{\"dedupe\": {\"enabled\": false}}", "memory store", NULL);
    snprintf(config, sizeof config,
             "{\"dedupe\": {\"enabled\": false}, \"store\": {\"backend\": \"sqlite\", \"plugin\": \"%s/libstrata-sqlite.so\", "
             "\"options\": {\"path\": \"%s/stress.db\"}}}",
             argv[1], argv[2]);
    failures += stress(config, "sqlite store", config);
    failures += mapped_stress(argv[1], argv[2]);
    if (failures) return 1;
    printf("threads_stress: ok\n");
    return 0;
}
