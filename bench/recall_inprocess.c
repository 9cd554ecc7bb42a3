/*
 * bench/recall_inprocess.c: the in-process side of the server's overhead (bench/server_peers.py).
 *
 * Opens a store folder's strata.json through libstrata.so and times each query through
 * strata_engine_recall_vector, the call `strata serve` makes for a vector recall, with the same
 * request JSON. Over HTTP, bench/loadgen.c times the same queries from the same C client, so the
 * difference of the two is what the server adds: neither side parses its answer on the clock.
 *
 *   cc -O2 -Wall -I include -o .build/recall_inprocess bench/recall_inprocess.c \
 *      -L .build/release -lstrata -Wl,-rpath,$PWD/.build/release
 *   .build/recall_inprocess FOLDER/strata.json QUERIES.f32 DIM REQUEST_JSON ANSWERS_OUT [GAP_US]
 *
 * QUERIES.f32 holds the query vectors, float32, row after row. One warm-up pass, then one timed
 * pass; each answer of the timed pass goes to ANSWERS_OUT as a 4-byte little-endian length and
 * its JSON (for recall@10). Prints one JSON object: queries, mean_us, p50_us, p99_us and
 * cpu_us (per query, this process, the sleeps' system calls included). Exits 1 when a call
 * fails, 2 on bad arguments.
 *
 * GAP_US > 0 sleeps that long before each timed call (off the clock), as a server's thread
 * sleeps between one connection's requests. On a virtual machine whose idle cores halt, a call
 * made right after its thread slept runs much slower than one of a back-to-back loop (cold
 * caches and translations after the core was given up), so a request/response server at one
 * connection is compared with both.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "strata/strata.h"

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

static double cpu_us(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 + (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void check(strata_status s, const char *what) {
    if (s != STRATA_OK) {
        fprintf(stderr, "recall_inprocess: %s failed: %s: %s\n", what, strata_status_name(s), strata_error_last());
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: recall_inprocess CONFIG QUERIES.f32 DIM REQUEST_JSON ANSWERS_OUT [GAP_US]\n");
        return 2;
    }
    long gap = argc == 7 ? atol(argv[6]) : 0;
    size_t dim = (size_t)atol(argv[3]);
    FILE *f = fopen(argv[2], "rb");
    if (!f || dim == 0) {
        fprintf(stderr, "recall_inprocess: cannot read %s with dimension %s\n", argv[2], argv[3]);
        return 2;
    }
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f) / (dim * sizeof(float));
    fseek(f, 0, SEEK_SET);
    float *queries = malloc(n * dim * sizeof(float));
    if (n == 0 || fread(queries, sizeof(float) * dim, n, f) != n) {
        fprintf(stderr, "recall_inprocess: %s holds no whole query of dimension %zu\n", argv[2], dim);
        return 2;
    }
    fclose(f);
    strata_engine *engine;
    check(strata_engine_open_file(&engine, argv[1]), "strata_engine_open_file");
    char *answer;
    for (size_t i = 0; i < n; i++) { /* warm-up, as the HTTP side gets */
        check(strata_engine_recall_vector(engine, argv[4], queries + i * dim, dim, &answer), "strata_engine_recall_vector");
        strata_string_free(answer);
    }
    FILE *out = fopen(argv[5], "wb");
    if (!out) {
        perror(argv[5]);
        return 1;
    }
    double *latencies = malloc(n * sizeof(double)), sum = 0;
    char **answers = malloc(n * sizeof(char *));
    double cpu = cpu_us();
    for (size_t i = 0; i < n; i++) {
        if (gap > 0) usleep((useconds_t)gap);
        double started = now_us();
        check(strata_engine_recall_vector(engine, argv[4], queries + i * dim, dim, &answers[i]), "strata_engine_recall_vector");
        latencies[i] = now_us() - started;
        sum += latencies[i];
    }
    cpu = cpu_us() - cpu;
    for (size_t i = 0; i < n; i++) {
        uint32_t length = (uint32_t)strlen(answers[i]);
        fwrite(&length, 4, 1, out);
        fwrite(answers[i], 1, length, out);
        strata_string_free(answers[i]);
    }
    if (fclose(out) != 0) {
        perror(argv[5]);
        return 1;
    }
    strata_engine_close(engine);
    qsort(latencies, n, sizeof(double), compare);
    printf("{\"queries\": %zu, \"mean_us\": %.3f, \"p50_us\": %.3f, \"p99_us\": %.3f, \"cpu_us\": %.3f}\n", n, sum / (double)n,
           latencies[n / 2], latencies[(size_t)((double)(n - 1) * 0.99)], cpu / (double)n);
    return 0;
}
