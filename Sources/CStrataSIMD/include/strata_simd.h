/*
 * Vector loops for the memory kernels' per-row work, compiled for AVX-512,
 * AVX2+FMA and baseline x86-64 and chosen at load time by the CPU
 * (GCC/Clang function multi-versioning): the Swift build targets baseline
 * x86-64, whose SIMD types become 4-wide SSE.
 *
 * The matrix products against weights packed once are in strata_gemm.h.
 */
#ifndef STRATA_SIMD_H
#define STRATA_SIMD_H

#include <stddef.h>

/** A spin-wait hint (x86 `pause`): lets the sibling hyperthread and the hypervisor know the
 *  thread is only waiting. */
static inline void strata_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/** Σ a[i] · b[i]. */
float strata_simd_dot(const float *a, const float *b, size_t n);

/** out[k · count + i] = rows[i] · vectors[k] for the `count` rows and `nvec` vectors of `d`
 *  floats (rows and vectors each contiguous): every product the same bits as strata_simd_dot's,
 *  faster than calling it for each on rows in cache (each row chunk is loaded once for four
 *  vectors; with fewer than four vectors, eight rows are summed side by side). Rows streamed
 *  from memory against one vector go faster through strata_simd_dot row after row. */
void strata_simd_dots(const float *rows, size_t count, const float *vectors, size_t nvec, size_t d, float *out);

/** out = Σ weights[i] · rows[i] over the n rows of d floats whose weight is non-zero (rows with
 *  weight 0 are not read, so they may hold anything), four rows per pass over out. For rows
 *  already in the core's cache (strata_simd_attend's second pass): rows streamed from memory
 *  once go faster one after another (one stream the hardware prefetcher follows, as
 *  TensorMath.weightedSum does for KV's values) than four side by side. */
void strata_simd_weighted_sum(const float *weights, const float *rows, size_t n, size_t d, float *out);

/** Attention over `rows` (n rows of d floats) in two passes: weights = softmax of
 *  scale · q · rows[i] over the rows whose mask[i] is non-zero (all when mask is NULL; 0 for the
 *  others), then out = Σ weights[i] rows[i]. The second pass reads the rows again, from the
 *  core's cache when they fit (n·d floats, 256 KiB for 64 x 1024), four rows per pass over out.
 *  A single pass that rescales a running sum reads each row once but makes the sum wait on each
 *  row's score; over Ring's large state this form ran 1.0-1.4x faster (bench/attend_bench.c).
 *  With no row unmasked, weights and out are 0. */
void strata_simd_attend(const float *q, const float *rows, const float *mask, size_t n, size_t d, float scale,
                        float *weights, float *out);

/** y[i] += alpha · x[i]. */
void strata_simd_axpy(float alpha, const float *x, float *y, size_t n);

/** y[i] = (1 − t) · y[i] + t · x[i]. */
void strata_simd_lerp(float t, const float *x, float *y, size_t n);

/** x[i] *= alpha. */
void strata_simd_scale(float alpha, float *x, size_t n);

/** out[i] += weight · y[i], then y[i] = (1 − t) · y[i] + t · x[i]: a read of y and a write to
 *  it in one pass over memory (Slot's read and write of a slot). */
void strata_simd_read_lerp(float weight, float t, const float *x, float *y, float *out, size_t n);

/** v[i] = tanh(v[i]) (Cephes' method, within a few ulp of libm's tanhf). */
void strata_simd_tanh(float *v, size_t n);

/** v[i] = 1 / (1 + e^-v[i]). */
void strata_simd_sigmoid(float *v, size_t n);

/** Softmax of n values in place: e^(v[i] - max v) / Σ, with e^x as in strata_simd_tanh (within
 *  a few ulp of libm). Values more than 87.3 below the maximum, −∞ among them, give 0 (libm
 *  would give a subnormal below 1.2e-38); all −∞ (or n 0) gives all 0. */
void strata_simd_softmax(float *v, size_t n);

/** −Σ p[i] ln p[i] over n probabilities; values below FLT_MIN (0 among them) count 0. ln is
 *  Cephes' polynomial, within a few ulp of libm. */
float strata_simd_entropy(const float *p, size_t n);

/** One row of an LSTM cell (PyTorch's gate order) and a persistence blend, the fractal kernel's
 *  state work: with z = [zi, zf, zg, zo] (w each), c = σ(zf) c + σ(zi) tanh(zg), h = σ(zo)
 *  tanh(c), then m = m · keep + h · (1 − keep), copied to out. *change gets Σ |m_new − m_old|,
 *  *magnitude Σ |m_new|. z is overwritten (its activations). */
void strata_lstm_blend(float *z, float *c, float *h, float *m, const float *keep, float *out, size_t w,
                       float *change, float *magnitude);

#endif
