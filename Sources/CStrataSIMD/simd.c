#include "strata_simd.h"

/* Each function is built three times; the loader picks the best the CPU runs. The dot keeps 16
 * independent partial sums so the loop vectorises without reassociating one sum (no fast-math). */
#if defined(__x86_64__)
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES /* other CPUs: one build, as the compiler's default target vectorises it */
#endif

CLONES float strata_simd_dot(const float *a, const float *b, size_t n)
{
    float acc[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int k = 0; k < 16; k++) acc[k] += a[i + k] * b[i + k];
    }
    float s = 0;
    for (int k = 0; k < 16; k++) s += acc[k];
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

CLONES void strata_simd_axpy(float alpha, const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

CLONES void strata_simd_lerp(float t, const float *x, float *y, size_t n)
{
    const float keep = 1.0f - t;
    for (size_t i = 0; i < n; i++) y[i] = keep * y[i] + t * x[i];
}

CLONES void strata_simd_scale(float alpha, float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] *= alpha;
}

CLONES void strata_simd_read_lerp(float weight, float t, const float *x, float *y, float *out, size_t n)
{
    const float keep = 1.0f - t;
    for (size_t i = 0; i < n; i++) {
        const float old = y[i];
        out[i] += weight * old;
        y[i] = keep * old + t * x[i];
    }
}
