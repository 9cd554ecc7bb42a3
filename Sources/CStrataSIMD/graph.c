#include "strata_graph.h"

#if defined(__x86_64__)
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

static inline __attribute__((always_inline)) float strata_l2sq_body(const float *a, const float *b, size_t n)
{
    float acc[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int k = 0; k < 16; k++) {
            const float t = a[i + k] - b[i + k];
            acc[k] += t * t;
        }
    }
    float s = 0;
    for (int k = 0; k < 16; k++) s += acc[k];
    for (; i < n; i++) {
        const float t = a[i] - b[i];
        s += t * t;
    }
    return s;
}

static inline __attribute__((always_inline)) float strata_dot_body(const float *a, const float *b, size_t n)
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

CLONES float strata_simd_l2sq(const float *a, const float *b, size_t n)
{
    return strata_l2sq_body(a, b, n);
}

static inline void strata_prefetch_row(const float *row, size_t d)
{
    const char *p = (const char *)row;
    const size_t bytes = d * sizeof(float);
    for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(p + off, 0, 3);
}

CLONES void strata_graph_distances(const float *q, const float *base, size_t d, const uint32_t *ids, size_t count,
                                   int l2, float *out)
{
    if (count > 0) strata_prefetch_row(base + (size_t)ids[0] * d, d);
    if (count > 1) strata_prefetch_row(base + (size_t)ids[1] * d, d);
    for (size_t i = 0; i < count; i++) {
        if (i + 2 < count) strata_prefetch_row(base + (size_t)ids[i + 2] * d, d);
        const float *row = base + (size_t)ids[i] * d;
        out[i] = l2 ? strata_l2sq_body(q, row, d) : -strata_dot_body(q, row, d);
    }
}
