#include "strata_simd.h"

#include <float.h>
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

/* ln x for a positive normal float, also with only arithmetic and bit moves: Cephes' logf,
 * x = m 2^e with m in [sqrt(1/2), sqrt(2)), then a degree-9 polynomial in m - 1. */
static inline float strata_logf(float x)
{
    int32_t bits;
    memcpy(&bits, &x, 4);
    float e = (float)((bits >> 23) - 126);
    bits = (bits & 0x007fffff) | 0x3f000000; /* the mantissa, as a float in [0.5, 1) */
    float m;
    memcpy(&m, &bits, 4);
    const int low = m < 0.707106781186547524f;
    e = low ? e - 1.0f : e;
    m = low ? m + m - 1.0f : m - 1.0f;
    const float z = m * m;
    float y = 7.0376836292e-2f;
    y = y * m - 1.1514610310e-1f;
    y = y * m + 1.1676998740e-1f;
    y = y * m - 1.2420140846e-1f;
    y = y * m + 1.4249322787e-1f;
    y = y * m - 1.6668057665e-1f;
    y = y * m + 2.0000714765e-1f;
    y = y * m - 2.4999993993e-1f;
    y = y * m + 3.3333331174e-1f;
    y = y * m * z;
    y += e * -2.12194440e-4f;
    y += -0.5f * z;
    return m + y + e * 0.693359375f;
}

CLONES void strata_simd_softmax(float *v, size_t n)
{
    float top = -INFINITY;
    for (size_t i = 0; i < n; i++) top = v[i] > top ? v[i] : top;
    if (top == -INFINITY) {
        for (size_t i = 0; i < n; i++) v[i] = 0;
        return;
    }
    float acc[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) {
            const float x = v[i + l];
            const float e = x - top < -87.3f ? 0.0f : strata_expf(x - top); /* −∞ and underflow: 0 */
            v[i + l] = e;
            acc[l] += e;
        }
    float total = 0;
    for (int l = 0; l < 16; l++) total += acc[l];
    for (; i < n; i++) {
        const float e = v[i] - top < -87.3f ? 0.0f : strata_expf(v[i] - top);
        v[i] = e;
        total += e;
    }
    const float inverse = 1.0f / total;
    for (size_t j = 0; j < n; j++) v[j] *= inverse;
}

CLONES float strata_simd_entropy(const float *p, size_t n)
{
    float acc[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) {
            const float x = p[i + l];
            acc[l] += x >= FLT_MIN ? x * strata_logf(x) : 0.0f;
        }
    float h = 0;
    for (int l = 0; l < 16; l++) h += acc[l];
    for (; i < n; i++) h += p[i] >= FLT_MIN ? p[i] * strata_logf(p[i]) : 0.0f;
    return -h;
}

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

/* Two rows against four vectors at a time: each 16-float chunk of a row is loaded once for four
 * products and each chunk of a vector once for two, so the loop runs on multiply-adds rather
 * than loads. Every product keeps strata_simd_dot's order (16 lanes, then summed in lane order,
 * then the tail), so its result is the same bits as strata_simd_dot's. */
static inline float strata_lanes_sum(const float *acc)
{
    float s = 0;
    for (int l = 0; l < 16; l++) s += acc[l];
    return s;
}

/* 16 floats as one vector (GCC and Clang), loaded from any float address. */
typedef float strata_v16 __attribute__((vector_size(64), aligned(4)));

/* Rows i..i+3 against vectors k..k+3: 16 accumulators, each chunk of a row and of a vector
 * loaded once for four products (half the loads per multiply-add of the 2 x 4 block below:
 * 3.0 against 3.7 ms for PMM's 256 x 64 slots x 8 heads x 1024 on two cores here). With `next`,
 * each step also prefetches (into L2) the same chunk of the four rows at `next`, the next block:
 * four rows of d floats read side by side are four short streams (one 4 KiB page each at
 * d 1024), which the hardware prefetcher does not get ahead of. PMM's scores pass over a 67 MB
 * state took 2.5 instead of 3.2-3.5 ms on two cores (a C model of the pass, 5 rounds, twice). */
static inline __attribute__((always_inline)) void strata_dots_4x4(const float *rows, size_t count, const float *vectors, size_t d,
                                                                  size_t i, size_t k, float *out, const float *next)
{
    const size_t body = d / 16 * 16;
    const float *r[4] = {rows + i * d, rows + (i + 1) * d, rows + (i + 2) * d, rows + (i + 3) * d};
    const float *v[4] = {vectors + k * d, vectors + (k + 1) * d, vectors + (k + 2) * d, vectors + (k + 3) * d};
    strata_v16 acc[4][4];
    for (int p = 0; p < 4; p++)
        for (int q = 0; q < 4; q++) acc[p][q] = (strata_v16){0};
    for (size_t j = 0; j < body; j += 16) {
        strata_v16 x[4], y[4];
        if (next)
            for (int p = 0; p < 4; p++) __builtin_prefetch(next + p * d + j, 0, 2);
        for (int p = 0; p < 4; p++) x[p] = *(const strata_v16 *)(r[p] + j);
        for (int q = 0; q < 4; q++) y[q] = *(const strata_v16 *)(v[q] + j);
        for (int p = 0; p < 4; p++)
            for (int q = 0; q < 4; q++) acc[p][q] += x[p] * y[q];
    }
    for (int p = 0; p < 4; p++)
        for (int q = 0; q < 4; q++) {
            float lanes[16];
            memcpy(lanes, &acc[p][q], sizeof lanes);
            float s = strata_lanes_sum(lanes);
            for (size_t j = body; j < d; j++) s += r[p][j] * v[q][j];
            out[(k + q) * count + i + p] = s;
        }
}

/* out[i] = rows[i] · v for `count` rows, eight rows side by side: one query against many rows
 * (an exact scan) is a chain of dependent multiply-adds per row, and eight chains keep the
 * multiply-add units busy (16 lanes, then summed in lane order, then the tail: strata_simd_dot's
 * bits). For rows in cache: 1.3-1.6x the speed of one row after another on 2k and 10k rows of
 * 384 floats here. Rows streamed from memory ran half as fast this way (eight short streams a
 * block, which the hardware prefetcher does not follow; rows in order are one stream), so a scan
 * of more rows than the cache holds calls strata_simd_dot row after row instead. */
static inline __attribute__((always_inline)) void strata_dots_rows(const float *rows, size_t count, const float *v, size_t d,
                                                                   float *out)
{
    const size_t body = d / 16 * 16;
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const float *r = rows + i * d;
        strata_v16 acc[8];
        for (int p = 0; p < 8; p++) acc[p] = (strata_v16){0};
        for (size_t j = 0; j < body; j += 16) {
            const strata_v16 y = *(const strata_v16 *)(v + j);
            for (int p = 0; p < 8; p++) acc[p] += *(const strata_v16 *)(r + p * d + j) * y;
        }
        for (int p = 0; p < 8; p++) {
            float lanes[16];
            memcpy(lanes, &acc[p], sizeof lanes);
            float s = strata_lanes_sum(lanes);
            for (size_t j = body; j < d; j++) s += r[p * d + j] * v[j];
            out[i + p] = s;
        }
    }
    for (; i < count; i++) out[i] = strata_simd_dot(rows + i * d, v, d);
}

CLONES void strata_simd_dots(const float *rows, size_t count, const float *vectors, size_t nvec, size_t d, float *out)
{
    const size_t body = d / 16 * 16;
    if (nvec < 4) {
        for (size_t k = 0; k < nvec; k++) strata_dots_rows(rows, count, vectors + k * d, d, out + k * count);
        return;
    }
    size_t i = 0;
    for (; i + 4 <= count && nvec >= 4; i += 4) {
        size_t k = 0;
        for (; k + 4 <= nvec; k += 4)
            strata_dots_4x4(rows, count, vectors, d, i, k, out, k == 0 && i + 8 <= count ? rows + (i + 4) * d : NULL);
        for (; k < nvec; k++)
            for (size_t p = 0; p < 4; p++) out[k * count + i + p] = strata_simd_dot(rows + (i + p) * d, vectors + k * d, d);
    }
    for (; i + 2 <= count; i += 2) {
        const float *r0 = rows + i * d, *r1 = r0 + d;
        size_t k = 0;
        for (; k + 4 <= nvec; k += 4) {
            const float *v0 = vectors + k * d, *v1 = v0 + d, *v2 = v1 + d, *v3 = v2 + d;
            float a00[16] = {0}, a01[16] = {0}, a02[16] = {0}, a03[16] = {0};
            float a10[16] = {0}, a11[16] = {0}, a12[16] = {0}, a13[16] = {0};
            for (size_t j = 0; j < body; j += 16) {
                for (int l = 0; l < 16; l++) {
                    const float x0 = r0[j + l], x1 = r1[j + l];
                    const float y0 = v0[j + l], y1 = v1[j + l], y2 = v2[j + l], y3 = v3[j + l];
                    a00[l] += x0 * y0;
                    a01[l] += x0 * y1;
                    a02[l] += x0 * y2;
                    a03[l] += x0 * y3;
                    a10[l] += x1 * y0;
                    a11[l] += x1 * y1;
                    a12[l] += x1 * y2;
                    a13[l] += x1 * y3;
                }
            }
            float s[8] = {strata_lanes_sum(a00), strata_lanes_sum(a01), strata_lanes_sum(a02), strata_lanes_sum(a03),
                          strata_lanes_sum(a10), strata_lanes_sum(a11), strata_lanes_sum(a12), strata_lanes_sum(a13)};
            for (size_t j = body; j < d; j++) {
                s[0] += r0[j] * v0[j];
                s[1] += r0[j] * v1[j];
                s[2] += r0[j] * v2[j];
                s[3] += r0[j] * v3[j];
                s[4] += r1[j] * v0[j];
                s[5] += r1[j] * v1[j];
                s[6] += r1[j] * v2[j];
                s[7] += r1[j] * v3[j];
            }
            for (int v = 0; v < 4; v++) {
                out[(k + v) * count + i] = s[v];
                out[(k + v) * count + i + 1] = s[4 + v];
            }
        }
        for (; k < nvec; k++) {
            out[k * count + i] = strata_simd_dot(r0, vectors + k * d, d);
            out[k * count + i + 1] = strata_simd_dot(r1, vectors + k * d, d);
        }
    }
    for (; i < count; i++) {
        for (size_t k = 0; k < nvec; k++) out[k * count + i] = strata_simd_dot(rows + i * d, vectors + k * d, d);
    }
}

/* out[j] += w[0] r[0][j] + ... + w[3] r[3][j]: four rows per pass over out, so out is loaded and
 * stored once for four rows instead of once per row (eight at a time measured the same). */
static inline __attribute__((always_inline)) void strata_add4(const float *const *r, const float *w, float *out, size_t d)
{
    for (size_t j = 0; j < d; j++) {
        float a = out[j];
        for (int k = 0; k < 4; k++) a += w[k] * r[k][j];
        out[j] = a;
    }
}

CLONES void strata_simd_weighted_sum(const float *weights, const float *rows, size_t n, size_t d, float *out)
{
    for (size_t j = 0; j < d; j++) out[j] = 0;
    const float *r[4];
    float w[4];
    int held = 0;
    for (size_t i = 0; i < n; i++) {
        if (weights[i] == 0) continue;
        r[held] = rows + i * d;
        w[held] = weights[i];
        if (++held == 4) {
            strata_add4(r, w, out, d);
            held = 0;
        }
    }
    for (int h = 0; h < held; h++) strata_simd_axpy(w[h], r[h], out, d);
}

CLONES void strata_simd_attend(const float *q, const float *rows, const float *mask, size_t n, size_t d, float scale,
                               float *weights, float *out)
{
    for (size_t i = 0; i < n; i++) {
        if (mask && mask[i] == 0) {
            weights[i] = -INFINITY;
            continue;
        }
        weights[i] = strata_simd_dot(q, rows + i * d, d) * scale;
    }
    strata_simd_softmax(weights, n);
    strata_simd_weighted_sum(weights, rows, n, d, out);
}
