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

/** Σ a[i] · b[i]. */
float strata_simd_dot(const float *a, const float *b, size_t n);

/** y[i] += alpha · x[i]. */
void strata_simd_axpy(float alpha, const float *x, float *y, size_t n);

/** y[i] = (1 − t) · y[i] + t · x[i]. */
void strata_simd_lerp(float t, const float *x, float *y, size_t n);

#endif
