/*
 * bench/engine_bench.c: engine throughput through the C ABI (libstrata.so).
 *
 * The C face of `strata bench engine` (Swift) and bench/python_bench.py: the same
 * configuration, sizes, batch size and query count, so the three can be compared.
 *
 *   cc -O2 -I include bench/engine_bench.c -L .build/release -lstrata \
 *      -Wl,-rpath,$PWD/.build/release -lm -o .build/engine_bench
 *   .build/engine_bench [--n 10000,100000] [--text-n 10000] [--seconds 2] [--json]
 *
 * Measures: the cost of one call (strata_abi_version; strata_engine_recall_vector on a
 * 1-memory engine), strata_engine_store_vectors in batches of 1000 (memories/s) and
 * strata_engine_recall_vector one query at a time (QPS, k 10) at each size, and text
 * strata_engine_store / strata_engine_recall (hashing embedder) at --text-n memories.
 * A measurement, not a test: it exits 0 unless a call fails.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strata/strata.h"

static const char *CONFIG =
    "{\"embedder\": {\"backend\": \"hashing\", \"options\": {\"dimension\": 384}}, "
    "\"dedupe\": {\"enabled\": false}, \"recall\": {\"track_access\": false}}";
enum { DIM = 384, BATCH = 1000, QUERIES = 100, STORE_PASSES = 3 /* store figures: best of 3 fresh engines */,
       RATE_WINDOWS = 3 /* recall figures: best of 3 windows */ };

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void check(strata_status s, const char *what) {
    if (s != STRATA_OK) {
        fprintf(stderr, "engine_bench: %s failed: %s: %s\n", what, strata_status_name(s), strata_error_last());
        exit(1);
    }
}

/* SplitMix64 and Box-Muller: random unit vectors. */
static uint64_t rng_state = 42;
static uint64_t next_u64(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double uniform(void) { return ((double)(next_u64() >> 11) + 0.5) / 9007199254740992.0; }
static float *unit_vectors(size_t rows) {
    float *v = malloc(rows * DIM * sizeof(float));
    if (!v) { fprintf(stderr, "engine_bench: out of memory\n"); exit(1); }
    for (size_t r = 0; r < rows; r++) {
        double norm = 0;
        for (size_t j = 0; j < DIM; j += 2) {
            double radius = sqrt(-2 * log(uniform())), angle = 2 * M_PI * uniform();
            double a = radius * cos(angle), b = radius * sin(angle);
            v[r * DIM + j] = (float)a;
            v[r * DIM + j + 1] = (float)b;
            norm += a * a + b * b;
        }
        for (size_t j = 0; j < DIM; j++) v[r * DIM + j] = (float)(v[r * DIM + j] / sqrt(norm));
    }
    return v;
}

static strata_engine *open_engine(void) {
    strata_engine *e = NULL;
    check(strata_engine_open(&e, CONFIG), "strata_engine_open");
    return e;
}

static void store_vectors(strata_engine *e, const float *v, size_t count) {
    char *out = NULL;
    check(strata_engine_store_vectors(e, NULL, v, count, DIM, &out), "strata_engine_store_vectors");
    strata_string_free(out);
}

static const char *RECALL_REQUEST = "{\"k\": 10}";

/* Calls body(engine, i, context) in RATE_WINDOWS windows, each until seconds / RATE_WINDOWS passed
 * and at least minimum / RATE_WINDOWS calls; returns the best window's calls/s. */
typedef void (*bench_body)(strata_engine *e, long i, const void *context);
static double best_rate(strata_engine *e, bench_body body, const void *context, double seconds, long minimum) {
    long calls = 0, window_minimum = minimum / RATE_WINDOWS > 0 ? minimum / RATE_WINDOWS : 1;
    double best = 0;
    for (int w = 0; w < RATE_WINDOWS; w++) {
        double t0 = now(), elapsed;
        long window = 0;
        do {
            body(e, calls++, context);
            window++;
            elapsed = now() - t0;
        } while (elapsed < seconds / RATE_WINDOWS || window < window_minimum);
        if ((double)window / elapsed > best) best = (double)window / elapsed;
    }
    return best;
}

static void recall_vector_once(strata_engine *e, long i, const void *context) {
    const float *queries = context;
    char *out = NULL;
    check(strata_engine_recall_vector(e, RECALL_REQUEST, queries + (i % QUERIES) * DIM, DIM, &out),
          "strata_engine_recall_vector");
    strata_string_free(out);
}

static void recall_text_once(strata_engine *e, long i, const void *context) {
    (void)context;
    char request[96], *out = NULL;
    snprintf(request, sizeof request, "{\"query\": \"topic %ld word%ld\", \"k\": 10}", i % 97, i % 1013);
    check(strata_engine_recall(e, request, &out), "strata_engine_recall");
    strata_string_free(out);
}

/* Recalls query vectors in turn; returns the best window's calls/s. */
static double recall_vector_rate(strata_engine *e, const float *queries, double seconds, long minimum) {
    return best_rate(e, recall_vector_once, queries, seconds, minimum);
}

/* The text of memory i and query j: the same formula as the Swift and Python faces. */
static void content(char *buf, size_t size, long i) {
    snprintf(buf, size, "note %ld about topic %ld with word%ld and word%ld at site %ld", i, i % 97, i % 1013,
             (i * 7) % 2003, i % 31);
}

static int json_output = 0;
static int rows_printed = 0;
static void report(const char *name, long n, double value, const char *unit) {
    if (json_output) {
        printf("%s    {\"measurement\": \"%s\", \"n\": %ld, \"value\": %.2f, \"unit\": \"%s\"}", rows_printed ? ",\n" : "",
               name, n, value, unit);
    } else {
        printf("%-28s %9ld  %12.1f %s\n", name, n, value, unit);
    }
    rows_printed++;
    fflush(stdout);
}

int main(int argc, char **argv) {
    long sizes[16] = {10000, 100000};
    int nsizes = 2;
    long text_n = 10000;
    double seconds = 2.0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            json_output = 1;
        } else if (!strcmp(argv[i], "--n") && i + 1 < argc) {
            nsizes = 0;
            for (char *p = argv[++i]; *p && nsizes < 16;) {
                sizes[nsizes++] = strtol(p, &p, 10);
                if (*p == ',') p++;
            }
        } else if (!strcmp(argv[i], "--text-n") && i + 1 < argc) {
            text_n = strtol(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            seconds = strtod(argv[++i], NULL);
        } else {
            fprintf(stderr, "usage: engine_bench [--n 10000,100000] [--text-n 10000] [--seconds 2] [--json]\n");
            return 64;
        }
    }
    if (json_output) {
        printf("{\"face\": \"c\", \"library\": \"%s\", \"results\": [\n", strata_version());
    } else {
        printf("engine_bench (C ABI, libstrata %s, ABI %u)\n", strata_version(), strata_abi_version());
        printf("%-28s %9s  %12s\n", "measurement", "n", "rate");
    }
    float *queries = unit_vectors(QUERIES);

    /* The cost of one call: a trivial export, then a recall on a 1-memory engine. */
    {
        volatile uint32_t sink = 0;
        long calls = 20000000;
        double t0 = now();
        for (long i = 0; i < calls; i++) sink += strata_abi_version();
        report("strata_abi_version (ns)", 0, (now() - t0) / (double)calls * 1e9, "ns/call");
        (void)sink;
        strata_engine *e = open_engine();
        store_vectors(e, queries, 1);
        report("recall_vector 1 row (ns)", 1, 1e9 / recall_vector_rate(e, queries, seconds / 2, 1000), "ns/call");
        strata_engine_close(e);
    }

    for (int s = 0; s < nsizes; s++) {
        long n = sizes[s];
        strata_engine *e = NULL;
        float *data = unit_vectors((size_t)n);
        double best = 1e300;
        for (int pass = 0; pass < STORE_PASSES; pass++) {
            strata_engine_close(e);
            e = open_engine();
            double t0 = now();
            for (long at = 0; at < n; at += BATCH) {
                long count = n - at < BATCH ? n - at : BATCH;
                store_vectors(e, data + at * DIM, (size_t)count);
            }
            double t = now() - t0;
            if (t < best) best = t;
        }
        report("store_vectors", n, (double)n / best, "memories/s");
        recall_vector_rate(e, queries, 0, 1); /* warm-up */
        report("recall_vector", n, recall_vector_rate(e, queries, seconds, 10), "QPS");
        strata_engine_close(e);
        free(data);
    }

    if (text_n > 0) {
        strata_engine *e = NULL;
        size_t cap = 64 + (size_t)BATCH * 128;
        char *request = malloc(cap), item[160];
        double best = 1e300, t0;
        for (int pass = 0; pass < STORE_PASSES; pass++) {
        strata_engine_close(e);
        e = open_engine();
        t0 = now();
        for (long at = 0; at < text_n; at += BATCH) {
            size_t len = (size_t)snprintf(request, cap, "{\"items\": [");
            for (long i = at; i < at + BATCH && i < text_n; i++) {
                content(item, sizeof item, i);
                len += (size_t)snprintf(request + len, cap - len, "%s{\"content\": \"%s\"}", i > at ? ", " : "", item);
            }
            snprintf(request + len, cap - len, "]}");
            char *out = NULL;
            check(strata_engine_store(e, request, &out), "strata_engine_store");
            strata_string_free(out);
        }
        double t = now() - t0;
        if (t < best) best = t;
        }
        report("store text", text_n, (double)text_n / best, "memories/s");
        report("recall text", text_n, best_rate(e, recall_text_once, NULL, seconds, 10), "QPS");
        free(request);
        strata_engine_close(e);
    }
    free(queries);
    if (json_output) printf("\n]}\n");
    return 0;
}
