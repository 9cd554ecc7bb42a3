/*
 * bench/attend_bench.c: Ring's attention read (strata_simd_attend) over a large batch, next to
 * a plain streaming read of the same bytes, on two threads: how close the state pass of a
 * large step runs to what the memory delivers.
 *
 * Per row of the batch, a buffer of N x D floats (Ring's state at the large configuration:
 * B 256, N 64, D 1024, 67 MB; or B 1024, 268 MB, which no cache holds). Timed, interleaved,
 * best of the rounds:
 *   stream      strata_simd_dot of each row's buffer with itself (the bytes, nothing else)
 *   scores      the N scores per row only (the first of attend's two passes)
 *   attend      strata_simd_attend: scores, softmax, then the weighted sum from the core's cache
 *   one-pass    the one-pass form it replaced: each slot's score, then its share of the sum at
 *               once, with a running maximum rescaling the partial sum (below)
 *
 *   cc -O3 -I Sources/CStrataSIMD/include bench/attend_bench.c Sources/CStrataSIMD/simd.c \
 *      -lpthread -lm -o .build/attend_bench && .build/attend_bench [rounds] [batch]
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "strata_simd.h"

enum { N = 64, D = 1024, MODES = 4 };
static const char *names[MODES] = {"stream", "scores", "attend", "one-pass"};
static size_t batch;
static float *state, *queries, *weights, *reads;
static int mode;
static volatile float sink[2];

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The one-pass attention: the sum waits on each slot's score, and a new maximum rescales it. */
static void one_pass(const float *q, const float *rows, size_t n, size_t d, float scale, float *out)
{
    float top = -INFINITY, total = 0;
    for (size_t j = 0; j < d; j++) out[j] = 0;
    for (size_t i = 0; i < n; i++) {
        const float *row = rows + i * d;
        const float x = strata_simd_dot(q, row, d) * scale;
        if (x > top) {
            const float r = total > 0 ? expf(top - x) : 0;
            total *= r;
            strata_simd_scale(r, out, d);
            top = x;
        }
        const float w = expf(x - top);
        total += w;
        strata_simd_axpy(w, row, out, d);
    }
    strata_simd_scale(1.0f / total, out, d);
}

static void run_half(int half)
{
    const size_t lo = half * batch / 2, hi = (half + 1) * batch / 2, size = (size_t)N * D;
    const float scale = 1.0f / sqrtf((float)D);
    float s = 0;
    for (size_t b = lo; b < hi; b++) {
        const float *rows = state + b * size, *q = queries + b * D;
        switch (mode) {
        case 0: s += strata_simd_dot(rows, rows, size); break;
        case 1:
            for (size_t i = 0; i < N; i++) weights[b * N + i] = strata_simd_dot(q, rows + i * D, D);
            break;
        case 2: strata_simd_attend(q, rows, NULL, N, D, scale, weights + b * N, reads + b * D); break;
        default: one_pass(q, rows, N, D, scale, reads + b * D); break;
        }
    }
    sink[half] = s;
}

static pthread_barrier_t gate;
static volatile int done;

static void *second_half(void *unused)
{
    (void)unused;
    for (;;) {
        pthread_barrier_wait(&gate);
        if (done) return NULL;
        run_half(1);
        pthread_barrier_wait(&gate);
    }
}

int main(int argc, char **argv)
{
    const int rounds = argc > 1 ? atoi(argv[1]) : 8;
    batch = argc > 2 ? (size_t)atol(argv[2]) : 256;
    const size_t floats = batch * N * D;
    state = malloc(floats * sizeof(float));
    queries = malloc(batch * D * sizeof(float));
    weights = malloc(batch * N * sizeof(float));
    reads = malloc(batch * D * sizeof(float));
    if (!state || !queries || !weights || !reads) return 1;
    unsigned x = 1;
    for (size_t i = 0; i < floats; i++) state[i] = (float)((x = x * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
    for (size_t i = 0; i < batch * D; i++) queries[i] = (float)((x = x * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;

    pthread_t thread;
    pthread_barrier_init(&gate, NULL, 2);
    pthread_create(&thread, NULL, second_half, NULL);
    double best[MODES];
    for (int m = 0; m < MODES; m++) best[m] = INFINITY;
    for (int r = 0; r < rounds; r++)
        for (mode = 0; mode < MODES; mode++)
            for (int k = 0; k < 5; k++) {
                const double t = now();
                pthread_barrier_wait(&gate);
                run_half(0);
                pthread_barrier_wait(&gate);
                const double e = now() - t;
                if (e < best[mode]) best[mode] = e;
            }
    done = 1;
    pthread_barrier_wait(&gate);
    pthread_join(thread, NULL);

    const double bytes = (double)floats * sizeof(float);
    printf("batch %zu x %d slots x %d floats (%.0f MB), 2 threads, best of %d rounds x 5\n", batch, N, D, bytes / 1e6, rounds);
    for (int m = 0; m < MODES; m++)
        printf("%-9s %7.3f ms  %5.1f GB/s  %5.1f%% of stream\n", names[m], best[m] * 1e3, bytes / best[m] / 1e9,
               100 * best[0] / best[m]);
    /* The two attention forms read the same: the largest difference over the last row. */
    float two[D], one[D], w[N];
    const float scale = 1.0f / sqrtf((float)D);
    const float *rows = state + (batch - 1) * N * D, *q = queries + (batch - 1) * D;
    strata_simd_attend(q, rows, NULL, N, D, scale, w, two);
    one_pass(q, rows, N, D, scale, one);
    float diff = 0;
    for (int j = 0; j < D; j++) diff = fmaxf(diff, fabsf(two[j] - one[j]));
    printf("attend vs one-pass: max |read diff| %.2g\n", diff);
    return 0;
}
