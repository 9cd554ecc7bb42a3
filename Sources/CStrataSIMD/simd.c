#include "strata_simd.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

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

/* e^x, tanh and the logistic function with only arithmetic, selects and bit moves, so loops over
 * them vectorise (no libm calls). exp: Cephes' single-precision method, x = n ln 2 + r with a
 * degree-6 polynomial in r, times 2^n built in the exponent bits, x clamped to [-87.3, 88.3] so 2^n
 * stays a normal float. tanh: Cephes' odd polynomial below |x| 0.625 (full relative precision
 * near 0), 1 - 2 / (e^{2|x|} + 1) with the sign of x above. Within a few ulp of libm. */
static inline float strata_expf(float x)
{
    x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer in the low bits */
    float t = x * 1.44269504088896341f + magic;
    float n = t - magic;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    int32_t tb, mb;
    float m = magic;
    memcpy(&tb, &t, 4);
    memcpy(&mb, &m, 4);
    int32_t bits = ((tb - mb) + 127) << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    return p * scale;
}

static inline float strata_tanhf(float x)
{
    float a = x < 0 ? -x : x;
    float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = p * z * x + x;
    float large = 1.0f - 2.0f / (strata_expf(2.0f * a) + 1.0f);
    large = x < 0 ? -large : large;
    return a >= 0.625f ? large : small;
}

static inline float strata_sigmoidf(float x) { return 1.0f / (1.0f + strata_expf(-x)); }

CLONES void strata_simd_tanh(float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) v[i] = strata_tanhf(v[i]);
}

CLONES void strata_simd_sigmoid(float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) v[i] = strata_sigmoidf(v[i]);
}

CLONES void strata_lstm_blend(float *z, float *c, float *h, float *m, const float *keep, float *out, size_t w,
                              float *change, float *magnitude)
{
    /* Simple loops, one operation each, so every one vectorises. */
    for (size_t j = 0; j < 2 * w; j++) z[j] = strata_sigmoidf(z[j]); /* i, f */
    for (size_t j = 2 * w; j < 3 * w; j++) z[j] = strata_tanhf(z[j]); /* g */
    for (size_t j = 3 * w; j < 4 * w; j++) z[j] = strata_sigmoidf(z[j]); /* o */
    for (size_t j = 0; j < w; j++) {
        c[j] = z[w + j] * c[j] + z[j] * z[2 * w + j];
        h[j] = z[3 * w + j] * strata_tanhf(c[j]);
    }
    float dc[16] = {0}, dm[16] = {0};
    size_t j = 0;
    for (; j + 16 <= w; j += 16) {
        for (int l = 0; l < 16; l++) {
            const float blended = m[j + l] * keep[j + l] + h[j + l] * (1.0f - keep[j + l]);
            dc[l] += fabsf(blended - m[j + l]);
            dm[l] += fabsf(blended);
            m[j + l] = blended;
            out[j + l] = blended;
        }
    }
    float sc = 0, sm = 0;
    for (int l = 0; l < 16; l++) {
        sc += dc[l];
        sm += dm[l];
    }
    for (; j < w; j++) {
        const float blended = m[j] * keep[j] + h[j] * (1.0f - keep[j]);
        sc += fabsf(blended - m[j]);
        sm += fabsf(blended);
        m[j] = blended;
        out[j] = blended;
    }
    *change = sc;
    *magnitude = sm;
}
