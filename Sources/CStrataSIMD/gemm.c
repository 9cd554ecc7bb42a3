/*
 * Small-M sgemm against weights packed once (see include/strata_gemm.h for the
 * layout and the contract).
 *
 * Structure: the driver walks the columns [n0, n1) in strips of up to S panels
 * (16 columns each), and each strip in blocks of up to R rows, and hands each
 * R x 16·S tile to a microkernel that keeps the whole tile in registers for a
 * run of KC steps of k (FMA of a broadcast x[r][kk] by the 16 packed weights of
 * each panel), then writes it to y. For k > KC the next run reloads the tile
 * from y, so every element is still one chain of fmas in kk order (storing a
 * float and loading it back is exact) and the result does not depend on the
 * blocking. Paths:
 *
 *   AVX-512  R = 8, S = 3: 24 zmm accumulators + 3 weights + 1 broadcast.
 *   AVX2     R = 6, S = 1: 12 ymm accumulators (two per panel) + 2 + 1.
 *   plain C  one row and one panel at a time, fmaf.
 *
 * The blocks of rows are balanced (m = 33 with R = 8 gives 7, 7, 7, 6, 6) so no
 * block is left with a single row when it can be avoided.
 */
#include "strata_gemm.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define PANEL 16

/* Steps of k per run of a tile. Measured on the Zen 4 VM (bench/gemm_bench.c shapes plus K = 1024
 * and 2048): runs of 64 and 128 steps (the strip's weights in L1) cost 5-15%, 256 to unbounded
 * came out within the VM's noise of each other (~90-105 GFLOP/s on one core; the weights stream
 * from L2 fast enough for 8 rows). 1024 keeps a 48-column strip's run at 192 KB, inside L2 on
 * any x86 with AVX2, for any k, and reloads the tile from y once per 1024 steps. */
#ifndef KC
#define KC 1024
#endif

size_t strata_gemm_panel_width(void) { return PANEL; }

size_t strata_gemm_packed_floats(size_t n, size_t k) { return (n + PANEL - 1) / PANEL * PANEL * k; }

/* A panel is written one 64-byte line (its 16 columns at one step of k) at a time, gathered from
 * the 16 rows that read in order: writing each column down the panel instead touched a line per
 * float, 16 times over. MiniLM's 43 MB of products packed in 6.6-6.8 ms instead of 10.4 into
 * memory already faulted in (clang -O3, AMD EPYC; the same values in the same places). */
void strata_gemm_pack(const float *w, size_t n, size_t k, float *packed)
{
    const size_t panels = (n + PANEL - 1) / PANEL;
    for (size_t p = 0; p < panels; p++) {
        float *dst = packed + p * PANEL * k;
        const size_t live = n - p * PANEL < PANEL ? n - p * PANEL : PANEL;
        const float *src[PANEL];
        for (size_t c = 0; c < PANEL; c++) src[c] = c < live ? w + (p * PANEL + c) * k : NULL;
        if (live == PANEL) {
            for (size_t kk = 0; kk < k; kk++) {
                float line[PANEL];
                for (size_t c = 0; c < PANEL; c++) line[c] = src[c][kk];
                memcpy(dst + kk * PANEL, line, sizeof line);
            }
        } else {  /* the last panel, part zeros */
            for (size_t kk = 0; kk < k; kk++)
                for (size_t c = 0; c < PANEL; c++) dst[kk * PANEL + c] = c < live ? src[c][kk] : 0.0f;
        }
    }
}

/* One tile: rows x[0..R), the panels starting at b (pstride floats apart), kc steps of k.
 * col is the first column of the first panel; lo and hi bound the columns written.
 * load_y: the tile starts from y (a later run of k, or accumulate); bias (first run only)
 * is added to that start, or is the start. */
struct tile {
    const float *x;
    size_t ldx;
    size_t kc;
    const float *b;
    size_t pstride;
    float *y;
    size_t ldy;
    size_t col, lo, hi;
    const float *bias;
    int load_y;
};

/* Bit q of the result: column col + q lies in [lo, hi). */
static inline uint32_t panel_mask(size_t col, size_t lo, size_t hi)
{
    size_t s = lo > col ? lo - col : 0;
    size_t e = hi < col + PANEL ? hi - col : PANEL;
    if (s >= e) return 0;
    return (uint32_t)((((uint32_t)1 << (e - s)) - 1) << s);
}

/* ---- plain C ---------------------------------------------------------------------------- */

static void tile_c(const struct tile *t, size_t rows, size_t panels)
{
    for (size_t q = 0; q < panels; q++) {
        const size_t col = t->col + q * PANEL;
        const uint32_t mask = panel_mask(col, t->lo, t->hi);
        const float *b = t->b + q * t->pstride;
        for (size_t r = 0; r < rows; r++) {
            float acc[PANEL];
            float *yr = t->y + r * t->ldy + col;
            for (int c = 0; c < PANEL; c++) {
                float s = 0.0f;
                if (mask >> c & 1) {
                    if (t->load_y) s = yr[c];
                    if (t->bias) s = t->load_y ? s + t->bias[col + c] : t->bias[col + c];
                }
                acc[c] = s;
            }
            const float *xr = t->x + r * t->ldx;
            for (size_t kk = 0; kk < t->kc; kk++) {
                const float a = xr[kk];
                const float *bk = b + kk * PANEL;
                for (int c = 0; c < PANEL; c++) acc[c] = fmaf(a, bk[c], acc[c]);
            }
            for (int c = 0; c < PANEL; c++)
                if (mask >> c & 1) yr[c] = acc[c];
        }
    }
}

/* ---- AVX-512 ---------------------------------------------------------------------------- */

#if defined(__x86_64__)
/* The loops over the tile's rows and panels must unroll fully (the accumulators then live in
 * registers): GCC at -O2 leaves them rolled, with the tile on the stack, 3x slower. */
#define UNROLL _Pragma("GCC unroll 8")

#define T512 "avx512f,avx2,fma"

static inline __attribute__((always_inline, target(T512))) void tile_512(const struct tile *t, const int R,
                                                                          const int S)
{
    __m512 acc[8][3];
    __mmask16 mk[3];
    UNROLL
    for (int q = 0; q < S; q++) mk[q] = (__mmask16)panel_mask(t->col + q * PANEL, t->lo, t->hi);
    UNROLL
    for (int r = 0; r < R; r++) {
        UNROLL
        for (int q = 0; q < S; q++) {
            const float *yq = t->y + r * t->ldy + t->col + q * PANEL;
            __m512 s = t->load_y ? _mm512_maskz_loadu_ps(mk[q], yq) : _mm512_setzero_ps();
            if (t->bias) {
                __m512 bv = _mm512_maskz_loadu_ps(mk[q], t->bias + t->col + q * PANEL);
                s = t->load_y ? _mm512_add_ps(s, bv) : bv;
            }
            acc[r][q] = s;
        }
    }
    const float *xr[8];
    UNROLL
    for (int r = 0; r < R; r++) xr[r] = t->x + r * t->ldx;
    const float *b = t->b;
    const size_t ps = t->pstride;
    for (size_t kk = 0; kk < t->kc; kk++) {
        __m512 bv[3];
        UNROLL
        for (int q = 0; q < S; q++) bv[q] = _mm512_loadu_ps(b + q * ps);
        b += PANEL;
        UNROLL
        for (int r = 0; r < R; r++) {
            const __m512 a = _mm512_set1_ps(xr[r][kk]);
            UNROLL
            for (int q = 0; q < S; q++) acc[r][q] = _mm512_fmadd_ps(a, bv[q], acc[r][q]);
        }
    }
    UNROLL
    for (int r = 0; r < R; r++) {
        UNROLL
        for (int q = 0; q < S; q++) {
            float *yq = t->y + r * t->ldy + t->col + q * PANEL;
            if (mk[q] == 0xFFFF)
                _mm512_storeu_ps(yq, acc[r][q]);
            else
                _mm512_mask_storeu_ps(yq, mk[q], acc[r][q]);
        }
    }
}

#define TILE512(R, S)                                                                      \
    static __attribute__((noinline, target(T512))) void tile_512_##R##_##S(const struct tile *t) \
    {                                                                                      \
        tile_512(t, R, S);                                                                 \
    }
#define TILE512_ROWS(R) TILE512(R, 1) TILE512(R, 2) TILE512(R, 3)
TILE512_ROWS(1)
TILE512_ROWS(2)
TILE512_ROWS(3)
TILE512_ROWS(4)
TILE512_ROWS(5)
TILE512_ROWS(6)
TILE512_ROWS(7)
TILE512_ROWS(8)

typedef void (*tile_fn)(const struct tile *);

#define ROW512(R) {tile_512_##R##_1, tile_512_##R##_2, tile_512_##R##_3}
static const tile_fn tiles_512[8][3] = {ROW512(1), ROW512(2), ROW512(3), ROW512(4),
                                        ROW512(5), ROW512(6), ROW512(7), ROW512(8)};

/* ---- AVX2 + FMA ------------------------------------------------------------------------- */

#define T256 "avx2,fma"

static inline __attribute__((always_inline, target(T256))) void tile_256(const struct tile *t, const int R)
{
    __m256 acc[6][2];
    const uint32_t mask = panel_mask(t->col, t->lo, t->hi);
    const int full = mask == 0xFFFF;
    UNROLL
    for (int r = 0; r < R; r++) {
        float *yr = t->y + r * t->ldy + t->col;
        const float *br = t->bias ? t->bias + t->col : NULL;
        float ybuf[PANEL], bbuf[PANEL];
        if (!full) { /* copy the columns in range so nothing outside [lo, hi) is read */
            for (int c = 0; c < PANEL; c++) {
                ybuf[c] = (mask >> c & 1) && t->load_y ? yr[c] : 0.0f;
                bbuf[c] = (mask >> c & 1) && br ? br[c] : 0.0f;
            }
            yr = ybuf;
            br = br ? bbuf : NULL;
        }
        UNROLL
        for (int h = 0; h < 2; h++) {
            __m256 s = t->load_y ? _mm256_loadu_ps(yr + 8 * h) : _mm256_setzero_ps();
            if (br) {
                __m256 bv = _mm256_loadu_ps(br + 8 * h);
                s = t->load_y ? _mm256_add_ps(s, bv) : bv;
            }
            acc[r][h] = s;
        }
    }
    const float *xr[6];
    UNROLL
    for (int r = 0; r < R; r++) xr[r] = t->x + r * t->ldx;
    const float *b = t->b;
    for (size_t kk = 0; kk < t->kc; kk++) {
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        b += PANEL;
        UNROLL
        for (int r = 0; r < R; r++) {
            const __m256 a = _mm256_broadcast_ss(xr[r] + kk);
            acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
        }
    }
    UNROLL
    for (int r = 0; r < R; r++) {
        float *yr = t->y + r * t->ldy + t->col;
        if (full) {
            _mm256_storeu_ps(yr, acc[r][0]);
            _mm256_storeu_ps(yr + 8, acc[r][1]);
        } else {
            float out[PANEL];
            _mm256_storeu_ps(out, acc[r][0]);
            _mm256_storeu_ps(out + 8, acc[r][1]);
            for (int c = 0; c < PANEL; c++)
                if (mask >> c & 1) yr[c] = out[c];
        }
    }
}

#define TILE256(R) \
    static __attribute__((noinline, target(T256))) void tile_256_##R(const struct tile *t) { tile_256(t, R); }
TILE256(1)
TILE256(2)
TILE256(3)
TILE256(4)
TILE256(5)
TILE256(6)

static const tile_fn tiles_256[6] = {tile_256_1, tile_256_2, tile_256_3, tile_256_4, tile_256_5, tile_256_6};
#endif /* __x86_64__ */

/* ---- driver ----------------------------------------------------------------------------- */

/* maxRows x maxPanels tiles over rows [0, m) and columns [n0, n1), k in runs of KC. */
static void drive(int path, const float *x, size_t m, size_t k, size_t ldx, const float *packed, const float *bias,
                  float *y, size_t ldy, size_t n0, size_t n1, int accumulate)
{
    size_t maxRows = 1, maxPanels = 1;
    (void)path; /* only x86-64 has other paths */
#if defined(__x86_64__)
    if (path == STRATA_GEMM_PATH_AVX512) maxRows = 8, maxPanels = 3;
    if (path == STRATA_GEMM_PATH_AVX2) maxRows = 6;
#endif
    const size_t p0 = n0 / PANEL, p1 = (n1 + PANEL - 1) / PANEL;
    const size_t blocks = (m + maxRows - 1) / maxRows, base = m / blocks, extra = m % blocks;
    struct tile t;
    t.ldx = ldx;
    t.pstride = PANEL * k;
    t.ldy = ldy;
    t.lo = n0;
    t.hi = n1;
    size_t k0 = 0;
    do { /* at least once, so k == 0 still writes init */
        const size_t kc = k - k0 < KC ? k - k0 : KC;
        t.kc = kc;
        t.load_y = k0 > 0 || accumulate;
        t.bias = k0 == 0 ? bias : NULL;
        for (size_t p = p0; p < p1; p += maxPanels) {
            const size_t panels = p1 - p < maxPanels ? p1 - p : maxPanels;
            t.b = packed + p * PANEL * k + k0 * PANEL;
            t.col = p * PANEL;
            size_t r0 = 0;
            for (size_t blk = 0; blk < blocks; blk++) {
                const size_t rows = base + (blk < extra);
                t.x = x + r0 * ldx + k0;
                t.y = y + r0 * ldy;
#if defined(__x86_64__)
                if (path == STRATA_GEMM_PATH_AVX512)
                    tiles_512[rows - 1][panels - 1](&t);
                else if (path == STRATA_GEMM_PATH_AVX2)
                    tiles_256[rows - 1](&t);
                else
#endif
                    tile_c(&t, rows, panels);
                r0 += rows;
            }
        }
        k0 += kc;
    } while (k0 < k);
}

static int detect_path(void)
{
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return STRATA_GEMM_PATH_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return STRATA_GEMM_PATH_AVX2;
#endif
    return STRATA_GEMM_PATH_C;
}

int strata_gemm_path(void)
{
    static int chosen = -1; /* a race only computes the same value twice */
    int p = __atomic_load_n(&chosen, __ATOMIC_RELAXED);
    if (p < 0) {
        p = detect_path();
        __atomic_store_n(&chosen, p, __ATOMIC_RELAXED);
    }
    return p;
}

static int path_runs(int path)
{
    if (path == STRATA_GEMM_PATH_C) return 1;
#if defined(__x86_64__)
    const int best = strata_gemm_path();
    if (path == STRATA_GEMM_PATH_AVX512) return best == STRATA_GEMM_PATH_AVX512;
    if (path == STRATA_GEMM_PATH_AVX2) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
#endif
    return 0;
}

int strata_gemm_packed_on_path(int path, const float *x, size_t m, size_t k, size_t ldx, const float *packed,
                               size_t n, const float *bias, float *y, size_t ldy, size_t n0, size_t n1,
                               int accumulate)
{
    if (!path_runs(path)) return -1;
    if (n1 > n) n1 = n;
    if (m == 0 || n0 >= n1) return 0;
    drive(path, x, m, k, ldx, packed, bias, y, ldy, n0, n1, accumulate);
    return 0;
}

void strata_gemm_packed(const float *x, size_t m, size_t k, size_t ldx, const float *packed, size_t n,
                        const float *bias, float *y, size_t ldy, size_t n0, size_t n1, int accumulate)
{
    if (n1 > n) n1 = n;
    if (m == 0 || n0 >= n1) return;
    drive(strata_gemm_path(), x, m, k, ldx, packed, bias, y, ldy, n0, n1, accumulate);
}
