/*
 * Small-M matrix products against a constant weight matrix packed once.
 *
 * The memory kernels' linear layers compute y = x · Wᵀ + b with W stored the
 * PyTorch way, [outputs x inputs] row-major, x [rows x inputs] and y
 * [rows x outputs]. The weights do not change between calls, so they are
 * rearranged once (strata_gemm_pack) into the order the inner loop reads them,
 * and every later product (strata_gemm_packed) reads that copy straight
 * through, with no per-call packing.
 *
 * Packed layout (the same whichever CPU code path runs, so a copy packed once
 * serves every path): the columns j of y (rows of W) are cut into panels of
 * strata_gemm_panel_width() = 16 consecutive columns. Panel p holds k groups of
 * 16 floats, group kk being W[16p + 0][kk], ..., W[16p + 15][kk]; the last panel
 * is padded with zero rows up to 16. Panels follow each other, 16·k floats
 * apart. The buffer needs no particular alignment; 64-byte alignment (one cache
 * line) is best.
 *
 * Code paths: on x86-64 the library picks, once, at the first call, an
 * AVX-512 path (8 rows x 48 columns per step), an AVX2+FMA path (6 rows x 16
 * columns) or a plain C path, by what the CPU runs. Other CPUs get the plain C
 * path.
 *
 * Determinism: every output element is computed in one fixed order that does
 * not depend on m, on the column range, on which block of rows or columns
 * it falls in, nor on the code path: start from s = the initial value (see
 * strata_gemm_packed), then s = fma(x[r][kk], W[j][kk], s) for kk = 0, 1, ...,
 * k − 1, each fma rounded once (fmaf). Splitting one product over threads by
 * columns, or over calls by rows, therefore gives bit-identical results to one
 * call over everything, on every CPU. (On an x86-64 CPU without FMA the plain C
 * path gets fmaf from the C library, in software: correct and identical, but
 * slow.)
 *
 * None of these functions allocates memory, starts threads or keeps state
 * other than the code path chosen.
 */
#ifndef STRATA_GEMM_H
#define STRATA_GEMM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
** Panel width.
**
** The number of consecutive output columns (rows of W) that share one panel of
** the packed layout: 16, on every CPU. A caller splitting one product over
** threads by column ranges [n0, n1) should cut at multiples of this value
** (the last range ending at n): a range that starts or ends inside a panel is
** still computed correctly, but the panel it shares with its neighbour is then
** computed by both.
*/
size_t strata_gemm_panel_width(void);

/*
** Size of a packed copy.
**
** The number of floats strata_gemm_pack writes for a weight matrix of n rows
** (outputs) and k columns (inputs): ceil(n / 16) · 16 · k. It is 0 when n or k
** is 0.
*/
size_t strata_gemm_packed_floats(size_t n, size_t k);

/*
** Pack a weight matrix.
**
** Reads w, row-major [n x k] (row j = the weights of output j, as PyTorch's
** nn.Linear stores them), and writes the packed copy described at the top of
** this file into packed, which must hold strata_gemm_packed_floats(n, k)
** floats (padding included: every float is written). w and packed must not
** overlap. Does nothing when n or k is 0.
*/
void strata_gemm_pack(const float *w, size_t n, size_t k, float *packed);

/*
** Multiply by packed weights.
**
** For every row r in [0, m) and column j in [n0, n1):
**
**     y[r·ldy + j] = init + Σ_{kk < k} x[r·ldx + kk] · W[j][kk]
**
** where W is the matrix that was packed into packed (n rows, k columns: the
** same n and k as given to strata_gemm_pack), and init is
**
**     accumulate and bias:   y[r·ldy + j] + bias[j]   (rounded once)
**     bias only:             bias[j]
**     accumulate only:       y[r·ldy + j]
**     neither:               0
**
** and the sum is taken in the order given at the top of this file, so each
** element comes out bit-identical whatever m, n0 and n1 the product is cut
** into. Elements of y outside rows [0, m) and columns [n0, n1) are neither read
** nor written, so calls on disjoint column ranges (or disjoint rows) may run
** at the same time on different threads with the same y.
**
** x is row-major [m x k] with row stride ldx ≥ k floats; y is row-major
** [m x n] with row stride ldy ≥ n floats (only columns below n1 are touched);
** bias is NULL or n floats. n1 is clamped to n; m == 0 or n0 ≥ n1 does
** nothing, and with k == 0 the result is init. x and bias must not overlap y
** (y is written while x is still being read).
**
** Runs on the calling thread only and allocates nothing: a caller with a
** thread pool splits [0, n) into ranges at multiples of
** strata_gemm_panel_width() and gives one range to each thread.
*/
void strata_gemm_packed(const float *x, size_t m, size_t k, size_t ldx,
                        const float *packed, size_t n, const float *bias,
                        float *y, size_t ldy, size_t n0, size_t n1, int accumulate);

/*
** Code paths, for tests and benchmarks.
**
** STRATA_GEMM_PATH_C is the plain C path (every CPU), STRATA_GEMM_PATH_AVX2 the
** AVX2+FMA path and STRATA_GEMM_PATH_AVX512 the AVX-512 path (x86-64 only).
*/
#define STRATA_GEMM_PATH_C 0
#define STRATA_GEMM_PATH_AVX2 1
#define STRATA_GEMM_PATH_AVX512 2

/*
** The code path strata_gemm_packed uses on this CPU: one of the
** STRATA_GEMM_PATH_* values.
*/
int strata_gemm_path(void);

/*
** strata_gemm_packed on a chosen code path.
**
** Same arguments and result as strata_gemm_packed, but runs the given
** STRATA_GEMM_PATH_* path instead of the one picked for the CPU; returns 0, or
** −1 without touching y when this CPU (or this build) cannot run that path.
** Meant for tests (every path gives the same bits) and benchmarks.
*/
int strata_gemm_packed_on_path(int path, const float *x, size_t m, size_t k, size_t ldx,
                               const float *packed, size_t n, const float *bias,
                               float *y, size_t ldy, size_t n0, size_t n1, int accumulate);

#ifdef __cplusplus
}
#endif

#endif
