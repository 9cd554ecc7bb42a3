#include "strata_graph.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#if defined(__x86_64__)
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

/* Four independent 16-lane sums (64 floats a step): one sum would make every multiply-add wait
 * for the one before (4 cycles each), and a 384-float row would take 24 dependent steps. Rows the
 * search reads are often in cache already (neighbours of neighbours), so that chain, not memory,
 * was the limit. */
static inline __attribute__((always_inline)) float strata_l2sq_body(const float *a, const float *b, size_t n)
{
    float acc[64] = {0};
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        for (int k = 0; k < 64; k++) {
            const float t = a[i + k] - b[i + k];
            acc[k] += t * t;
        }
    }
    for (; i + 16 <= n; i += 16) {
        for (int k = 0; k < 16; k++) {
            const float t = a[i + k] - b[i + k];
            acc[k] += t * t;
        }
    }
    float s = 0;
    for (int k = 0; k < 64; k++) s += acc[k];
    for (; i < n; i++) {
        const float t = a[i] - b[i];
        s += t * t;
    }
    return s;
}

static inline __attribute__((always_inline)) float strata_dot_body(const float *a, const float *b, size_t n)
{
    float acc[64] = {0};
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        for (int k = 0; k < 64; k++) acc[k] += a[i + k] * b[i + k];
    }
    for (; i + 16 <= n; i += 16) {
        for (int k = 0; k < 16; k++) acc[k] += a[i + k] * b[i + k];
    }
    float s = 0;
    for (int k = 0; k < 64; k++) s += acc[k];
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

CLONES float strata_simd_l2sq(const float *a, const float *b, size_t n)
{
    return strata_l2sq_body(a, b, n);
}

/* Every cache line of a row. Measured on the 2-core Xeon (100k x 384, ef 48, one thread): whole
 * rows four ahead 7,306 QPS, two ahead 7,180, one ahead 6,752; the first eight lines two ahead
 * 6,199; the first two lines only (leaving the rest to the core's streaming prefetcher) 5,926; no
 * prefetch 4,429. More requests than the core's line-fill buffers make the prefetch instructions
 * wait, but the waits overlap misses that would otherwise come one after another. */
static inline void strata_prefetch_row(const float *row, size_t d)
{
    const char *p = (const char *)row;
    const size_t bytes = d * sizeof(float);
    for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(p + off, 0, 3);
}

CLONES void strata_graph_distances(const float *q, const float *base, size_t d, const uint32_t *ids, size_t count,
                                   int l2, float *out)
{
    for (size_t i = 0; i < count && i < 4; i++) strata_prefetch_row(base + (size_t)ids[i] * d, d);
    for (size_t i = 0; i < count; i++) {
        if (i + 4 < count) strata_prefetch_row(base + (size_t)ids[i + 4] * d, d);
        const float *row = base + (size_t)ids[i] * d;
        out[i] = l2 ? strata_l2sq_body(q, row, d) : -strata_dot_body(q, row, d);
    }
}

/* Compressed rows (HNSWCodes): a walk reads a quarter (int8) or a half (fp16) of the bytes a float
 * row takes, and the float rows are read again only for the few nodes re-ranked at the end. */

static inline void strata_prefetch_bytes(const void *row, size_t bytes)
{
    const char *p = (const char *)row;
    for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(p + off, 0, 3);
}

/* Σ w[i]·c[i] over d codes, in 64 independent sums (see strata_dot_body). */
static inline __attribute__((always_inline)) float strata_dot_u8_body(const float *w, const uint8_t *c, size_t d)
{
    float acc[64] = {0};
    size_t i = 0;
    for (; i + 64 <= d; i += 64) {
        for (int k = 0; k < 64; k++) acc[k] += w[i + k] * (float)c[i + k];
    }
    for (; i + 16 <= d; i += 16) {
        for (int k = 0; k < 16; k++) acc[k] += w[i + k] * (float)c[i + k];
    }
    float s = 0;
    for (int k = 0; k < 64; k++) s += acc[k];
    for (; i < d; i++) s += w[i] * (float)c[i];
    return s;
}

CLONES void strata_graph_distances_u8(const float *w, float a, const uint8_t *codes, size_t stride, size_t d,
                                      const float *row_term, const uint32_t *ids, size_t count, float *out)
{
    for (size_t i = 0; i < count && i < 4; i++) strata_prefetch_bytes(codes + (size_t)ids[i] * stride, d);
    for (size_t i = 0; i < count; i++) {
        if (i + 4 < count) strata_prefetch_bytes(codes + (size_t)ids[i + 4] * stride, d);
        const uint32_t r = ids[i];
        float s = a + strata_dot_u8_body(w, codes + (size_t)r * stride, d);
        if (row_term) s += row_term[r];
        out[i] = s;
    }
}

static inline __attribute__((always_inline)) float strata_dot_f16_body(const float *q, const _Float16 *h, size_t d)
{
    float acc[64] = {0};
    size_t i = 0;
    for (; i + 64 <= d; i += 64) {
        for (int k = 0; k < 64; k++) acc[k] += q[i + k] * (float)h[i + k];
    }
    for (; i + 16 <= d; i += 16) {
        for (int k = 0; k < 16; k++) acc[k] += q[i + k] * (float)h[i + k];
    }
    float s = 0;
    for (int k = 0; k < 64; k++) s += acc[k];
    for (; i < d; i++) s += q[i] * (float)h[i];
    return s;
}

static inline __attribute__((always_inline)) float strata_l2sq_f16_body(const float *q, const _Float16 *h, size_t d)
{
    float acc[64] = {0};
    size_t i = 0;
    for (; i + 64 <= d; i += 64) {
        for (int k = 0; k < 64; k++) {
            const float t = q[i + k] - (float)h[i + k];
            acc[k] += t * t;
        }
    }
    for (; i + 16 <= d; i += 16) {
        for (int k = 0; k < 16; k++) {
            const float t = q[i + k] - (float)h[i + k];
            acc[k] += t * t;
        }
    }
    float s = 0;
    for (int k = 0; k < 64; k++) s += acc[k];
    for (; i < d; i++) {
        const float t = q[i] - (float)h[i];
        s += t * t;
    }
    return s;
}

CLONES void strata_graph_distances_f16(const float *q, const uint16_t *codes, size_t stride, size_t d,
                                       const uint32_t *ids, size_t count, int l2, float *out)
{
    const char *base = (const char *)codes;
    for (size_t i = 0; i < count && i < 4; i++) strata_prefetch_bytes(base + (size_t)ids[i] * stride, d * 2);
    for (size_t i = 0; i < count; i++) {
        if (i + 4 < count) strata_prefetch_bytes(base + (size_t)ids[i + 4] * stride, d * 2);
        const _Float16 *row = (const _Float16 *)(base + (size_t)ids[i] * stride);
        out[i] = l2 ? strata_l2sq_f16_body(q, row, d) : -strata_dot_f16_body(q, row, d);
    }
}

/* int8 codes against a query quantised to int8 too, with AVX-512 VNNI: one vpdpbusd multiplies
 * 64 code bytes by 64 query bytes and adds them in groups of four, where widening each byte to a
 * float takes three instructions per 16. The walk's distances then carry the query's rounding
 * (1/254 of its largest weight per dimension) on top of the codes'; the re-ranking on the float
 * rows removes both from the answer. */
#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void strata_graph_distances_u8s8_vnni(const int8_t *wq, float scale, float a, const uint8_t *codes, size_t stride,
                                             size_t d, const float *row_term, const uint32_t *ids, size_t count, float *out)
{
    const size_t whole = d / 64 * 64;
    const __mmask64 tail = d == whole ? 0 : (~0ULL >> (64 - (d - whole)));
    for (size_t i = 0; i < count && i < 4; i++) strata_prefetch_bytes(codes + (size_t)ids[i] * stride, d);
    for (size_t i = 0; i < count; i++) {
        if (i + 4 < count) strata_prefetch_bytes(codes + (size_t)ids[i + 4] * stride, d);
        const uint32_t r = ids[i];
        const uint8_t *c = codes + (size_t)r * stride;
        __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
        size_t j = 0;
        for (; j + 128 <= whole; j += 128) {
            acc0 = _mm512_dpbusd_epi32(acc0, _mm512_loadu_si512(c + j), _mm512_loadu_si512(wq + j));
            acc1 = _mm512_dpbusd_epi32(acc1, _mm512_loadu_si512(c + j + 64), _mm512_loadu_si512(wq + j + 64));
        }
        if (j < whole) acc0 = _mm512_dpbusd_epi32(acc0, _mm512_loadu_si512(c + j), _mm512_loadu_si512(wq + j));
        if (tail) acc1 = _mm512_dpbusd_epi32(acc1, _mm512_maskz_loadu_epi8(tail, c + whole), _mm512_maskz_loadu_epi8(tail, wq + whole));
        const int sum = _mm512_reduce_add_epi32(_mm512_add_epi32(acc0, acc1));
        float s = a + scale * (float)sum;
        if (row_term) s += row_term[r];
        out[i] = s;
    }
}
#endif

int strata_graph_has_vnni(void)
{
#if defined(__x86_64__)
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") ? 1 : 0;
    }
    return known;
#else
    return 0;
#endif
}

void strata_graph_distances_u8s8(const int8_t *wq, float scale, float a, const uint8_t *codes, size_t stride, size_t d,
                                 const float *row_term, const uint32_t *ids, size_t count, float *out)
{
#if defined(__x86_64__)
    if (strata_graph_has_vnni()) {
        strata_graph_distances_u8s8_vnni(wq, scale, a, codes, stride, d, row_term, ids, count, out);
        return;
    }
#endif
    for (size_t i = 0; i < count; i++) {
        const uint8_t *c = codes + (size_t)ids[i] * stride;
        int32_t sum = 0;
        for (size_t j = 0; j < d; j++) sum += (int32_t)c[j] * (int32_t)wq[j];
        float s = a + scale * (float)sum;
        if (row_term) s += row_term[ids[i]];
        out[i] = s;
    }
}

CLONES void strata_encode_u8(const float *x, const float *offset, const float *inverse_step, size_t d, uint8_t *out)
{
    for (size_t j = 0; j < d; j++) {
        float v = (x[j] - offset[j]) * inverse_step[j] + 0.5f;
        v = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
        out[j] = (uint8_t)v;
    }
}
