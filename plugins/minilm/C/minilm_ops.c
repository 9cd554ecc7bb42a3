#include "minilm_ops.h"

#include "strata_gemm.h"

#include <math.h>
#include <string.h>

/* Mean and variance in double: a row is a few hundred floats, and the reference (PyTorch's
 * layer_norm) reduces with more precision than a naive float sum. */
static void layernorm_row(float *x, size_t dim, const float *gamma, const float *beta, float eps) {
    double sum = 0;
    for (size_t i = 0; i < dim; i++) sum += x[i];
    double mean = sum / (double)dim, squares = 0;
    for (size_t i = 0; i < dim; i++) {
        double d = x[i] - mean;
        squares += d * d;
    }
    float m = (float)mean, inv = (float)(1.0 / sqrt(squares / (double)dim + (double)eps));
    for (size_t i = 0; i < dim; i++) x[i] = (x[i] - m) * inv * gamma[i] + beta[i];
}

void minilm_embed(const int32_t *ids, size_t len, const float *word, const float *position, const float *type0,
                  const float *gamma, const float *beta, float eps, size_t dim, float *out) {
    for (size_t t = 0; t < len; t++) {
        const float *w = word + (size_t)ids[t] * dim, *p = position + t * dim;
        float *o = out + t * dim;
        for (size_t i = 0; i < dim; i++) o[i] = w[i] + p[i] + type0[i];
        layernorm_row(o, dim, gamma, beta, eps);
    }
}

void minilm_add_layernorm(float *x, const float *y, size_t rows, size_t dim, const float *gamma, const float *beta,
                          float eps) {
    for (size_t r = 0; r < rows; r++) {
        float *xr = x + r * dim;
        const float *yr = y + r * dim;
        for (size_t i = 0; i < dim; i++) xr[i] += yr[i];
        layernorm_row(xr, dim, gamma, beta, eps);
    }
}

/* e^x for x in [-87, 0], in a form the compiler vectorizes (no libm call): x = n ln 2 + r with
 * |r| <= ln 2 / 2 (ln 2 split in two for Cody and Waite's exact reduction), e^r by its Taylor
 * polynomial to degree 7 (relative error below 2e-8 on that interval, under float's rounding),
 * then 2^n put in the exponent bits. */
static inline float exp_negative(float x) {
    x = x < -87.0f ? -87.0f : x;
    /* round to nearest by the 1.5 · 2^23 trick: no floorf call, which baseline x86-64 (no
     * SSE4.1 roundps) makes a call per element that stops vectorisation */
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* erf by Abramowitz and Stegun's 7.1.26 (absolute error at most 1.5e-7, about float's own
 * rounding near 1), the form PyTorch's vectorised CPU erf takes: erf(|x|) = 1 - t·P(t)·e^(-x²)
 * with t = 1 / (1 + 0.3275911 |x|). glibc's erff is exact to an ulp but a call per element:
 * 1,536 of them per token per layer took more time than the products. */
static inline float erf_fast(float x) {
    float a = x < 0 ? -x : x;
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float p = 1.061405429f;
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    float y = 1.0f - p * t * exp_negative(-a * a);
    return x < 0 ? -y : y;
}

#if defined(__x86_64__) && defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void minilm_gelu(float *x, size_t count) {
    for (size_t i = 0; i < count; i++) x[i] = 0.5f * x[i] * (1.0f + erf_fast(x[i] * 0.70710678118654752f));
}

/* Both products of a head on the packed sgemm (strata_gemm.h), whose AVX-512 / AVX2 tiles run
 * them several times faster than plain loops: scores = Q Kᵀ with K packed as the weights
 * (n = len outputs, k = head_dim inputs), then context = P V with Vᵀ packed (n = head_dim,
 * k = len). Packing a head's K and V costs 2 · len · head_dim floats of copying, small next to
 * the len² · head_dim multiply-adds of each product. */
#if defined(__x86_64__) && defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void minilm_attention(const float *qkv, size_t len, size_t ld_qkv, size_t heads, size_t head_dim, size_t h0,
                      size_t h1, float *ctx, size_t ld_ctx, float *scratch) {
    size_t width = heads * head_dim;
    float scale = 1.0f / sqrtf((float)head_dim);
    float *scores = scratch;                                  /* len x len */
    float *plain = scores + len * len;                        /* len x head_dim or head_dim x len */
    float *packed = plain + len * head_dim;                   /* strata_gemm_packed_floats(len, head_dim) */
    for (size_t h = h0; h < h1; h++) {
        size_t q0 = h * head_dim, k0 = width + h * head_dim, v0 = 2 * width + h * head_dim;
        for (size_t j = 0; j < len; j++) memcpy(plain + j * head_dim, qkv + j * ld_qkv + k0, head_dim * sizeof(float));
        strata_gemm_pack(plain, len, head_dim, packed);
        strata_gemm_packed(qkv + q0, len, head_dim, ld_qkv, packed, len, NULL, scores, len, 0, len, 0);
        for (size_t i = 0; i < len; i++) {
            float *row = scores + i * len;
            float top = row[0];
            for (size_t j = 1; j < len; j++) top = row[j] > top ? row[j] : top;
            /* the exponentials apart from the sum: a float sum in one loop with them would keep
             * the loop scalar (the compiler may not reorder the additions) */
            for (size_t j = 0; j < len; j++) row[j] = exp_negative((row[j] - top) * scale);
            float total = 0;
            for (size_t j = 0; j < len; j++) total += row[j];
            float inv = 1.0f / total;
            for (size_t j = 0; j < len; j++) row[j] *= inv;
        }
        for (size_t j = 0; j < len; j++)
            for (size_t d = 0; d < head_dim; d++) plain[d * len + j] = qkv[j * ld_qkv + v0 + d];
        strata_gemm_pack(plain, head_dim, len, packed);
        strata_gemm_packed(scores, len, len, len, packed, head_dim, NULL, ctx + h * head_dim, ld_ctx, 0, head_dim, 0);
    }
}

void minilm_mean_pool_normalize(const float *x, size_t len, size_t dim, float *out) {
    for (size_t i = 0; i < dim; i++) out[i] = 0;
    for (size_t t = 0; t < len; t++)
        for (size_t i = 0; i < dim; i++) out[i] += x[t * dim + i];
    double norm = 0;
    for (size_t i = 0; i < dim; i++) {
        out[i] /= (float)len;
        norm += (double)out[i] * out[i];
    }
    float inv = (float)(1.0 / fmax(sqrt(norm), 1e-12));
    for (size_t i = 0; i < dim; i++) out[i] *= inv;
}
