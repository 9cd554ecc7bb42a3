/*
 * libstrata-minilm.so through its C vtable (what the engine calls): sentences/s of the minilm
 * embedder at batch 1 and 32, on ~13-token sentences (11 words, [CLS] and [SEP]) and ~128-token
 * ones, with `threads` 1 and 2.
 *
 *   swift build -c release --product strata-minilm
 *   cc -O2 -Wall -I include -I Sources/CStrataSIMD/include bench/minilm_bench.c Sources/CStrataSIMD/gemm.c \
 *      -ldl -lpthread -lm -o .build/minilm_bench
 *   .build/minilm_bench .build/release/libstrata-minilm.so [model_dir] [seconds]
 *
 * model_dir defaults to the plugin's own default (STRATA_MINILM_DIR, else the user's data
 * folder, where scripts/setup installs it). Each case: one warm-up call, then calls for
 * `seconds` (default 3), best of three such windows, cases interleaved. GFLOP/s counts the
 * encoder's products only: 2 x 1,769,472 multiply-adds per token per layer, 6 layers
 * (21.2 MFLOP a token), attention and everything else not counted.
 *
 * The bound, measured in the same run (interleaved with the cases): the packed sgemm
 * (strata_gemm_packed, the fastest sgemm on this machine, bench/gemm_bench.c) on the encoder's
 * largest product at batch 32 of short sentences, [416 x 384] · [1536 x 384]ᵀ, on 1 thread and
 * on 2 (each thread its half of the columns, looping on its own: no hand-off counted), best
 * window; "% bound" is the products' GFLOP/s over it.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strata/strata.h"
#include "strata_gemm.h"

#include <pthread.h>

static strata_status fail(strata_status status, const char *message) {
    fprintf(stderr, "minilm: %s\n", message);
    return status;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* The sgemm bound: threads each compute their half of the columns of one product, repeatedly. */
enum { BM = 416, BK = 384, BN = 1536 };
static float *bound_x, *bound_packed, *bound_y;
static double bound_seconds;
struct bound_part { size_t n0, n1; long calls; };

static void *bound_run(void *arg) {
    struct bound_part *p = arg;
    double start = now();
    do {
        strata_gemm_packed(bound_x, BM, BK, BK, bound_packed, BN, NULL, bound_y, BN, p->n0, p->n1, 0);
        p->calls++;
    } while (now() - start < bound_seconds);
    return NULL;
}

/* GFLOP/s of the packed sgemm on `threads` threads over bound_seconds. */
static double bound(int threads) {
    struct bound_part parts[2] = {{0, threads == 1 ? BN : BN / 2, 0}, {BN / 2, BN, 0}};
    pthread_t other;
    if (threads == 2) pthread_create(&other, NULL, bound_run, &parts[1]);
    bound_run(&parts[0]);
    if (threads == 2) pthread_join(other, NULL);
    double flops = 0;
    for (int t = 0; t < threads; t++) flops += 2.0 * BM * BK * (double)(parts[t].n1 - parts[t].n0) * parts[t].calls;
    return flops / bound_seconds / 1e9;
}

static const char *words[] = {
    "the", "agent", "remembers", "where", "alice", "parked", "her", "car", "before", "meeting", "with", "bob",
    "near", "station", "yesterday", "morning", "after", "coffee", "they", "talked", "about", "project", "atlas",
    "deadline", "friday", "budget", "review", "notes", "kept", "memory", "engine", "recall", "quickly",
};

/* count sentences of `tokens_each` - 2 words each, varied. */
static char **sentences(int count, int words_each) {
    char **out = malloc(sizeof(char *) * count);
    int n = sizeof(words) / sizeof(words[0]);
    for (int s = 0; s < count; s++) {
        out[s] = calloc(1, 16 * words_each + 2);
        for (int w = 0; w < words_each; w++) {
            if (w) strcat(out[s], " ");
            strcat(out[s], words[(s * 7 + w * 3 + w * w) % n]);
        }
    }
    return out;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s libstrata-minilm.so [model_dir] [seconds]\n", argv[0]);
        return 2;
    }
    const char *dir = argc > 2 && argv[2][0] ? argv[2] : NULL;
    double seconds = argc > 3 ? atof(argv[3]) : 3;
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    strata_plugin_entry_fn entry = (strata_plugin_entry_fn)dlsym(lib, "strata_plugin_entry");
    static const strata_host_api host = {.struct_size = sizeof(strata_host_api), .abi_version = STRATA_ABI_VERSION, .fail = fail};
    const strata_plugin_descriptor *d = entry(&host);
    const strata_embedder_vtable *v = NULL;
    for (size_t i = 0; d && i < d->factory_count; i++)
        if (d->factories[i].kind == STRATA_SEAM_EMBEDDER) v = d->factories[i].vtable;
    if (!v) return fprintf(stderr, "no embedder in %s\n", argv[1]), 1;

    enum { THREADS = 2, SHAPES = 2, BATCHES = 2 };
    int batch_sizes[BATCHES] = {1, 32}, words_per[SHAPES] = {11, 126};
    void *embedders[THREADS];
    for (int t = 0; t < THREADS; t++) {
        char options[4096];
        if (dir) snprintf(options, sizeof options, "{\"threads\": %d, \"model_dir\": \"%s\"}", t + 1, dir);
        else snprintf(options, sizeof options, "{\"threads\": %d}", t + 1);
        if (v->create(options, &embedders[t]) != 0) return 1;
    }
    char **texts[SHAPES];
    for (int s = 0; s < SHAPES; s++) texts[s] = sentences(64, words_per[s]);
    float *out = malloc(sizeof(float) * 384 * 64);
    double best[THREADS][SHAPES][BATCHES] = {{{0}}}, best_bound[THREADS] = {0};
    bound_x = malloc(sizeof(float) * BM * BK);
    bound_y = malloc(sizeof(float) * BM * BN);
    float *w = malloc(sizeof(float) * BN * BK);
    bound_packed = malloc(sizeof(float) * strata_gemm_packed_floats(BN, BK));
    for (size_t i = 0; i < (size_t)BM * BK; i++) bound_x[i] = (float)(i % 17) * 0.01f;
    for (size_t i = 0; i < (size_t)BN * BK; i++) w[i] = (float)(i % 13) * 0.01f;
    strata_gemm_pack(w, BN, BK, bound_packed);
    bound_seconds = seconds / 6;
    for (int round = 0; round < 3; round++) {
        for (int t = 0; t < THREADS; t++) {
            double g = bound(t + 1);
            if (g > best_bound[t]) best_bound[t] = g;
        }
        for (int s = 0; s < SHAPES; s++)
            for (int b = 0; b < BATCHES; b++)
                for (int t = 0; t < THREADS; t++) {
                    int batch = batch_sizes[b];
                    v->embed(embedders[t], (const char *const *)texts[s], batch, out);
                    long calls = 0;
                    double start = now(), elapsed;
                    do {
                        if (v->embed(embedders[t], (const char *const *)texts[s] + (calls * batch) % (64 - batch + 1), batch, out))
                            return 1;
                        calls++;
                    } while ((elapsed = now() - start) < seconds / 3);
                    double rate = calls * batch / elapsed;
                    if (rate > best[t][s][b]) best[t][s][b] = rate;
                }
    }
    printf("bound: packed sgemm [%d x %d] x [%d x %d]^T: %.1f GFLOP/s on 1 thread, %.1f on 2\n", BM, BK, BN, BK,
           best_bound[0], best_bound[1]);
    printf("%-16s %6s %8s %14s %10s %10s %9s\n", "sentences", "batch", "threads", "sentences/s", "ms/call", "GFLOP/s", "% bound");
    for (int s = 0; s < SHAPES; s++)
        for (int b = 0; b < BATCHES; b++)
            for (int t = 0; t < THREADS; t++) {
                double rate = best[t][s][b], tokens = words_per[s] + 2;
                double gflops = rate * tokens * 2 * 1769472.0 * 6 / 1e9;
                printf("%3.0f tokens      %6d %8d %14.1f %10.2f %10.1f %8.1f%%\n", tokens, batch_sizes[b], t + 1, rate,
                       1e3 * batch_sizes[b] / rate, gflops, 100 * gflops / best_bound[t]);
            }
    for (int t = 0; t < THREADS; t++) v->destroy(embedders[t]);
    return 0;
}
