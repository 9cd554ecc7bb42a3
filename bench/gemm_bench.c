/*
 * The packed-weight sgemm (Sources/CStrataSIMD/gemm.c) next to OpenBLAS's cblas_sgemm, on the
 * shapes the memory kernels' linear layers have: y [M x N] = x [M x K] · Wᵀ, W [N x K].
 *
 *   cc -O2 -Wall -I Sources/CStrataSIMD/include bench/gemm_bench.c Sources/CStrataSIMD/gemm.c \
 *      -lopenblas -lpthread -lm -o .build/gemm_bench && .build/gemm_bench [rounds]
 *
 * Per shape, four ways, interleaved round by round (this VM's speed moves between minutes), best
 * round of `rounds` (default 7), each round timing enough calls for ~20 ms and keeping the mean:
 *   packed 1T   strata_gemm_packed over all columns on the calling thread.
 *   packed 2T   the calling thread takes columns [0, h) and one other, already running thread
 *               [h, N) (h a multiple of 16, about N/2); the other thread spins on a counter, so
 *               each call pays a real hand-off: publish the job, the worker sees it, both
 *               compute, the caller spins until the worker's "done". That is what a caller's
 *               own pool costs at best; thread creation is not counted (a pool lives long).
 *   packed 2T wake  the same split, but the other thread sleeps on a condition variable between
 *               calls and is woken each time (what a pool whose threads block costs).
 *               Both 2T ways keep a product of one panel (N <= 16) on the calling thread.
 *   blas 1T/2T  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, x, K, W, K,
 *               0, y, N), the call TensorMath.linear makes, with openblas_set_num_threads(1|2).
 * No bias on either side (TensorMath.linear copies the bias into y first and passes beta 1).
 * Before timing, each shape's packed result is compared with OpenBLAS's (largest difference).
 * The one-off packing time is printed too. GFLOP/s = 2·M·N·K / time. First, the bound: one core
 * running FMAs on registers only (24 independent chains, nothing from memory).
 */
#include "strata_gemm.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void openblas_set_num_threads(int);

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

struct job {
    const float *x, *packed;
    float *y;
    size_t m, n, k, n0, n1;
};

/* The second thread: spins until `go` moves, runs its half, bumps `done`. */
static struct {
    _Atomic unsigned long go, done;
    _Atomic int quit;
    struct job job;
} pool;

static void *worker(void *arg)
{
    (void)arg;
    unsigned long seen = 0;
    for (;;) {
        unsigned long g;
        while ((g = atomic_load_explicit(&pool.go, memory_order_acquire)) == seen) {
            if (atomic_load_explicit(&pool.quit, memory_order_relaxed)) return NULL;
            cpu_relax();
        }
        seen = g;
        const struct job *j = &pool.job;
        strata_gemm_packed(j->x, j->m, j->k, j->k, j->packed, j->n, NULL, j->y, j->n, j->n0, j->n1, 0);
        atomic_store_explicit(&pool.done, g, memory_order_release);
    }
}

/* The same worker asleep between calls: woken through a condition variable. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned long go;
} sleeper = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

static void *sleeping_worker(void *arg)
{
    (void)arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&sleeper.mu);
    for (;;) {
        while (sleeper.go == seen && !atomic_load(&pool.quit)) pthread_cond_wait(&sleeper.cv, &sleeper.mu);
        if (atomic_load(&pool.quit)) break;
        seen = sleeper.go;
        pthread_mutex_unlock(&sleeper.mu);
        const struct job *j = &pool.job;
        strata_gemm_packed(j->x, j->m, j->k, j->k, j->packed, j->n, NULL, j->y, j->n, j->n0, j->n1, 0);
        atomic_store_explicit(&pool.done, seen, memory_order_release);
        pthread_mutex_lock(&sleeper.mu);
    }
    pthread_mutex_unlock(&sleeper.mu);
    return NULL;
}

static size_t half_columns(size_t n)
{
    const size_t pw = strata_gemm_panel_width();
    const size_t h = (n / 2 + pw - 1) / pw * pw;
    return h > n ? n : h;
}

static void packed_2t_wake(const float *x, size_t m, size_t n, size_t k, const float *packed, float *y)
{
    const size_t h = half_columns(n);
    if (h == n && n > 0) { /* one panel: nothing to hand over, a caller keeps it */
        strata_gemm_packed(x, m, k, k, packed, n, NULL, y, n, 0, n, 0);
        return;
    }
    pool.job = (struct job){x, packed, y, m, n, k, h, n};
    pthread_mutex_lock(&sleeper.mu);
    const unsigned long g = ++sleeper.go;
    pthread_cond_signal(&sleeper.cv);
    pthread_mutex_unlock(&sleeper.mu);
    strata_gemm_packed(x, m, k, k, packed, n, NULL, y, n, 0, h, 0);
    while (atomic_load_explicit(&pool.done, memory_order_acquire) != g) cpu_relax();
}

static void stop_sleeper(pthread_t th)
{
    pthread_mutex_lock(&sleeper.mu);
    atomic_store(&pool.quit, 1);
    pthread_cond_signal(&sleeper.cv);
    pthread_mutex_unlock(&sleeper.mu);
    pthread_join(th, NULL);
}

static void packed_2t(const float *x, size_t m, size_t n, size_t k, const float *packed, float *y)
{
    const size_t h = half_columns(n);
    if (h == n && n > 0) { /* one panel: nothing to hand over, a caller keeps it */
        strata_gemm_packed(x, m, k, k, packed, n, NULL, y, n, 0, n, 0);
        return;
    }
    pool.job = (struct job){x, packed, y, m, n, k, h, n};
    const unsigned long g = atomic_load_explicit(&pool.go, memory_order_relaxed) + 1;
    atomic_store_explicit(&pool.go, g, memory_order_release);
    strata_gemm_packed(x, m, k, k, packed, n, NULL, y, n, 0, h, 0);
    while (atomic_load_explicit(&pool.done, memory_order_acquire) != g) cpu_relax();
}

enum { PACKED_1T, PACKED_2T, PACKED_2T_WAKE, BLAS_1T, BLAS_2T, WAYS };
static const char *names[WAYS] = {"packed 1T", "packed 2T", "packed 2T wake", "OpenBLAS 1T", "OpenBLAS 2T"};

static double time_way(int way, const float *x, const float *w, const float *packed, float *y, size_t m, size_t n,
                       size_t k, int iters)
{
    pthread_t th;
    if (way == PACKED_2T) {
        atomic_store(&pool.quit, 0);
        pool.go = pool.done = 0;
        pthread_create(&th, NULL, worker, NULL);
        packed_2t(x, m, n, k, packed, y); /* the worker is up and spinning */
    }
    if (way == PACKED_2T_WAKE) {
        atomic_store(&pool.quit, 0);
        pool.done = 0;
        sleeper.go = 0;
        pthread_create(&th, NULL, sleeping_worker, NULL);
        packed_2t_wake(x, m, n, k, packed, y);
    }
    if (way == BLAS_1T) openblas_set_num_threads(1);
    if (way == BLAS_2T) openblas_set_num_threads(2);
    if (way >= BLAS_1T) /* warm: OpenBLAS starts its threads and buffers on first use */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1, x, (int)k, w, (int)k, 0, y,
                    (int)n);
    if (way == PACKED_1T) strata_gemm_packed(x, m, k, k, packed, n, NULL, y, n, 0, n, 0);
    const double t0 = now();
    for (int i = 0; i < iters; i++) {
        switch (way) {
        case PACKED_1T: strata_gemm_packed(x, m, k, k, packed, n, NULL, y, n, 0, n, 0); break;
        case PACKED_2T: packed_2t(x, m, n, k, packed, y); break;
        case PACKED_2T_WAKE: packed_2t_wake(x, m, n, k, packed, y); break;
        default:
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1, x, (int)k, w, (int)k, 0,
                        y, (int)n);
        }
    }
    const double t = (now() - t0) / iters;
    if (way == PACKED_2T) {
        atomic_store(&pool.quit, 1);
        pthread_join(th, NULL);
    }
    if (way == PACKED_2T_WAKE) stop_sleeper(th);
    if (way == BLAS_2T) {
        /* OpenBLAS's idle threads keep spinning (sched_yield) for a while after a call; let
         * them go to sleep so they do not share the cores with the next measurement. */
        openblas_set_num_threads(1);
        usleep(300000);
    }
    return t;
}

/* The bare hand-off: both threads doing nothing (an empty column range each). */
static double handoff_cost(int wake)
{
    pthread_t th;
    atomic_store(&pool.quit, 0);
    pool.go = pool.done = 0;
    sleeper.go = 0;
    pthread_create(&th, NULL, wake ? sleeping_worker : worker, NULL);
    double best = 1e9;
    for (int round = 0; round < 7; round++) {
        const int iters = wake ? 2000 : 20000;
        const double t0 = now();
        for (int i = 0; i < iters; i++) (wake ? packed_2t_wake : packed_2t)(NULL, 0, 0, 0, NULL, NULL);
        const double t = (now() - t0) / iters;
        if (t < best) best = t;
    }
    if (wake) {
        stop_sleeper(th);
    } else {
        atomic_store(&pool.quit, 1);
        pthread_join(th, NULL);
    }
    return best;
}

/* One core's FMA bound: 24 independent chains of vfmadd on registers (AVX-512 when the CPU has it,
 * else AVX2), nothing from memory. 0 on other CPUs. */
#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx512f"))) static double fma_peak_512(void)
{
    __m512 a[24], b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(1e-4f);
    for (int i = 0; i < 24; i++) a[i] = _mm512_set1_ps(i * 1e-3f);
    const long iters = 2000000;
    double best = 1e9;
    for (int round = 0; round < 5; round++) {
        const double t0 = now();
        for (long i = 0; i < iters; i++) {
#pragma GCC unroll 24
            for (int j = 0; j < 24; j++) a[j] = _mm512_fmadd_ps(a[j], b, c);
            __asm__ volatile("" : "+v"(b));
        }
        const double t = now() - t0;
        if (t < best) best = t;
    }
    __m512 sum = a[0];
    for (int i = 1; i < 24; i++) sum = _mm512_add_ps(sum, a[i]);
    volatile float sink = _mm512_reduce_add_ps(sum);
    (void)sink;
    return iters * 24 * 32.0 / best;
}
__attribute__((target("avx2,fma"))) static double fma_peak_256(void)
{
    __m256 a[12], b = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(1e-4f);
    for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps(i * 1e-3f);
    const long iters = 4000000;
    double best = 1e9;
    for (int round = 0; round < 5; round++) {
        const double t0 = now();
        for (long i = 0; i < iters; i++) {
#pragma GCC unroll 12
            for (int j = 0; j < 12; j++) a[j] = _mm256_fmadd_ps(a[j], b, c);
            __asm__ volatile("" : "+x"(b));
        }
        const double t = now() - t0;
        if (t < best) best = t;
    }
    float out[8];
    __m256 sum = a[0];
    for (int i = 1; i < 12; i++) sum = _mm256_add_ps(sum, a[i]);
    _mm256_storeu_ps(out, sum);
    volatile float sink = out[0];
    (void)sink;
    return iters * 12 * 16.0 / best;
}
#endif

static double fma_peak(void)
{
#if defined(__x86_64__)
    if (strata_gemm_path() == STRATA_GEMM_PATH_AVX512) return fma_peak_512();
    if (strata_gemm_path() == STRATA_GEMM_PATH_AVX2) return fma_peak_256();
#endif
    return 0;
}

static unsigned long long rng = 0x9E3779B97F4A7C15ull;
static float uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 40) / 16777216.0 * 2 - 1);
}

static void *alloc64(size_t floats)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, floats * sizeof(float) + 64)) abort();
    return p;
}

int main(int argc, char **argv)
{
    const int rounds = argc > 1 ? atoi(argv[1]) : 7;
    static const size_t shapes[][3] = {{32, 256, 256},  {32, 768, 256},   {32, 1024, 512},  {32, 16, 256},
                                       {64, 1024, 256}, {256, 1024, 1024}, {256, 3072, 1024}};
    static const char *pathNames[] = {"plain C", "AVX2+FMA", "AVX-512"};
    printf("strata_gemm path: %s; %d rounds, best round; one empty 2-thread call (the hand-off alone): "
           "%.2f us spinning worker, %.2f us woken worker\n",
           pathNames[strata_gemm_path()], rounds, handoff_cost(0) * 1e6, handoff_cost(1) * 1e6);
    printf("one core's FMA bound (registers only): %.1f GFLOP/s\n", fma_peak() * 1e-9);
    printf("%-16s %9s |", "M x N x K", "pack us");
    for (int way = 0; way < WAYS; way++) printf(" %-19s", names[way]);
    printf(" | %s\n", "max |packed - blas|");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        float *x = alloc64(m * k), *w = alloc64(n * k), *y = alloc64(m * n), *ref = alloc64(m * n);
        float *packed = alloc64(strata_gemm_packed_floats(n, k));
        for (size_t i = 0; i < m * k; i++) x[i] = uniform();
        for (size_t i = 0; i < n * k; i++) w[i] = uniform();
        double pack = 1e9;
        for (int i = 0; i < 5; i++) {
            const double t0 = now();
            strata_gemm_pack(w, n, k, packed);
            const double t = now() - t0;
            if (t < pack) pack = t;
        }
        openblas_set_num_threads(1);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1, x, (int)k, w, (int)k, 0, ref,
                    (int)n);
        strata_gemm_packed(x, m, k, k, packed, n, NULL, y, n, 0, n, 0);
        double diff = 0;
        for (size_t i = 0; i < m * n; i++) diff = fmax(diff, fabs((double)y[i] - ref[i]));

        const double flops = 2.0 * m * n * k;
        int iters = (int)(0.02 * 80e9 / flops);
        if (iters < 3) iters = 3;
        double best[WAYS];
        for (int w8 = 0; w8 < WAYS; w8++) best[w8] = 1e9;
        for (int round = 0; round < rounds; round++) {
            for (int way = 0; way < WAYS; way++) {
                const double t = time_way(way, x, w, packed, y, m, n, k, iters);
                if (t < best[way]) best[way] = t;
            }
        }
        char label[32];
        snprintf(label, sizeof label, "%zu x %zu x %zu", m, n, k);
        printf("%-16s %9.1f |", label, pack * 1e6);
        for (int way = 0; way < WAYS; way++) printf(" %8.1f us %5.1f GF  ", best[way] * 1e6, flops / best[way] * 1e-9);
        printf(" | %.2g\n", diff);
        fflush(stdout);
        free(x);
        free(w);
        free(y);
        free(ref);
        free(packed);
    }
    return 0;
}
