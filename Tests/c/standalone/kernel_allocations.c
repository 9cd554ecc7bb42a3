/*
 * Checks that a memory-kernel step allocates nothing once warm (issue 5: "no allocation per
 * step"). malloc and its relatives are defined here, so they take the place of libc's in the
 * whole process, libstrata and the plugin included, and count calls made while `counting` is
 * set; each kernel then runs 10 warm-up steps and 100 counted steps and sequences.
 *
 * OpenBLAS is told to use one thread (run.sh sets OPENBLAS_NUM_THREADS=1): its threaded
 * matrix products allocate a little per call at large sizes, which is OpenBLAS's, not ours.
 * A separate program, not part of strata_c_tests, because it replaces malloc.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strata/strata.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static atomic_long allocations;
static atomic_int counting;

void *malloc(size_t n) { if (counting) allocations++; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { if (counting) allocations++; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { if (counting) allocations++; return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t align, size_t n) { if (counting) allocations++; return __libc_memalign(align, n); }
void *aligned_alloc(size_t align, size_t n) { if (counting) allocations++; return __libc_memalign(align, n); }
int posix_memalign(void **out, size_t align, size_t n)
{
    if (counting) allocations++;
    *out = __libc_memalign(align, n);
    return *out ? 0 : 12;
}

static int check(const char *type, size_t batch)
{
    char config[160];
    snprintf(config, sizeof config, "{\"type\": \"%s\", \"memory_dim\": 64, \"seed\": 1}", type);
    strata_kernel *k = NULL;
    if (strata_kernel_open(&k, config) != STRATA_OK) {
        fprintf(stderr, "%s: %s\n", type, strata_error_last());
        return 1;
    }
    const size_t d = strata_kernel_dimension(k), s = strata_kernel_state_size(k), steps = 4;
    float *state = calloc(batch * s, sizeof(float)), *hidden = calloc(steps * batch * d, sizeof(float));
    float *read = calloc(steps * batch * d, sizeof(float)), *logs = calloc(steps * batch * 4, sizeof(float));
    float *done = calloc(steps * batch, sizeof(float));
    for (size_t i = 0; i < steps * batch * d; i++) hidden[i] = (float)(i % 13) * 0.05f - 0.3f;
    done[batch / 2] = 1;
    int failed = strata_kernel_initial_state(k, batch, state) != STRATA_OK;
    for (int t = 0; t < 10 && !failed; t++) {
        failed |= strata_kernel_step(k, batch, state, hidden, done, read, logs) != STRATA_OK;
        failed |= strata_kernel_sequence(k, steps, batch, state, hidden, done, read, logs) != STRATA_OK;
    }
    allocations = 0;
    counting = 1;
    for (int t = 0; t < 100 && !failed; t++) {
        failed |= strata_kernel_step(k, batch, state, hidden, done, read, logs) != STRATA_OK;
        failed |= strata_kernel_sequence(k, steps, batch, state, hidden, done, read, logs) != STRATA_OK;
    }
    counting = 0;
    long counted = allocations;
    printf("%-8s batch %2zu: %ld allocations in 100 steps and 100 sequences of %zu%s\n", type, batch, counted, steps,
           failed ? " (a call failed)" : "");
    free(done);
    free(logs);
    free(read);
    free(hidden);
    free(state);
    strata_kernel_close(k);
    return failed || counted != 0;
}

int main(void)
{
    const char *types[] = {"pmm", "slot", "kv", "ring", "fractal"};
    int bad = 0;
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        bad += check(types[i], 1);
        bad += check(types[i], 32);
    }
    printf(bad ? "kernel allocations: %d FAILED\n" : "kernel allocations: none per step%.0d\n", bad);
    return bad != 0;
}
