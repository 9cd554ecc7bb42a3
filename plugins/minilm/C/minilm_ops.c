#include "minilm_ops.h"

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

void minilm_gelu(float *x, size_t count) {
    for (size_t i = 0; i < count; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

void minilm_attention(const float *qkv, size_t len, size_t ld_qkv, size_t heads, size_t head_dim, size_t h0,
                      size_t h1, float *ctx, size_t ld_ctx, float *scratch) {
    size_t width = heads * head_dim;
    float scale = 1.0f / sqrtf((float)head_dim);
    float *scores = scratch, *keys = scratch + len * len; /* keys: [head_dim x len], transposed */
    for (size_t h = h0; h < h1; h++) {
        size_t q0 = h * head_dim, k0 = width + h * head_dim, v0 = 2 * width + h * head_dim;
        for (size_t j = 0; j < len; j++)
            for (size_t d = 0; d < head_dim; d++) keys[d * len + j] = qkv[j * ld_qkv + k0 + d];
        for (size_t i = 0; i < len; i++) {
            const float *q = qkv + i * ld_qkv + q0;
            float *s = scores + i * len;
            for (size_t j = 0; j < len; j++) s[j] = 0;
            for (size_t d = 0; d < head_dim; d++) {
                float qd = q[d] * scale;
                const float *kd = keys + d * len;
                for (size_t j = 0; j < len; j++) s[j] += qd * kd[j];
            }
            float top = s[0];
            for (size_t j = 1; j < len; j++) top = s[j] > top ? s[j] : top;
            float total = 0;
            for (size_t j = 0; j < len; j++) {
                s[j] = expf(s[j] - top);
                total += s[j];
            }
            float inv = 1.0f / total;
            float *c = ctx + i * ld_ctx + h * head_dim;
            for (size_t d = 0; d < head_dim; d++) c[d] = 0;
            for (size_t j = 0; j < len; j++) {
                float p = s[j] * inv;
                const float *v = qkv + j * ld_qkv + v0;
                for (size_t d = 0; d < head_dim; d++) c[d] += p * v[d];
            }
        }
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
