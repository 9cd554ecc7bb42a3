/*
 * The per-token steps of the MiniLM (BERT) encoder that are not matrix products: embedding
 * lookup, residual + LayerNorm, exact GELU, attention within one sentence, mean pooling with
 * L2 normalisation. Internal to libstrata-minilm.so (not exported: the plugin's version script
 * keeps only strata_plugin_entry). Built with -O3 whatever the build configuration, like
 * CStrataSIMD, so a debug build of the plugin is not 20 times slower than a release one.
 *
 * Every function runs on the calling thread, allocates nothing and keeps no state; arrays are
 * row-major float32 and must not overlap unless said.
 */
#ifndef MINILM_OPS_H
#define MINILM_OPS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * out[t] = LayerNorm(word[ids[t]] + position[t] + type0) for t < len, dim floats per row
 * (gamma, beta, eps as BertEmbeddings.LayerNorm).
 */
void minilm_embed(const int32_t *ids, size_t len, const float *word, const float *position, const float *type0,
                  const float *gamma, const float *beta, float eps, size_t dim, float *out);

/* x[r] = LayerNorm(x[r] + y[r]) for r < rows (row strides dim). */
void minilm_add_layernorm(float *x, const float *y, size_t rows, size_t dim, const float *gamma, const float *beta,
                          float eps);

/* x[i] = x[i] · Φ(x[i]) = 0.5 · x[i] · (1 + erf(x[i] / √2)) for i < count: the exact GELU. */
void minilm_gelu(float *x, size_t count);

/*
 * Self-attention of one sentence of len tokens, heads of head_dim: qkv holds, for each token
 * (rows ld_qkv floats apart), the query, key and value projections side by side (heads · head_dim
 * floats each, head h at h · head_dim). Writes head h of token i's context, softmax(q kᵀ /
 * √head_dim) v, to ctx[i · ld_ctx + h · head_dim ...], for h in [h0, h1). scratch holds
 * len · len + 2 · L · head_dim floats, L being len rounded up to a multiple of 16, and head_dim
 * must be a multiple of 16 (the products' panel width).
 */
void minilm_attention(const float *qkv, size_t len, size_t ld_qkv, size_t heads, size_t head_dim, size_t h0,
                      size_t h1, float *ctx, size_t ld_ctx, float *scratch);

/* out = the mean of x's len rows (dim floats each), divided by its L2 norm (by 1e-12 at least). */
void minilm_mean_pool_normalize(const float *x, size_t len, size_t dim, float *out);

#ifdef __cplusplus
}
#endif

#endif
