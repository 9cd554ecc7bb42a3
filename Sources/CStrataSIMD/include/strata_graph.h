/*
 * The memory-bound inner steps of a graph index search (StrataBackends' HNSW):
 * distances from one query to a list of rows picked by number, with the next
 * rows prefetched, and a spin lock per node for parallel inserts; and handing a
 * build's freed scratch back to the kernel.
 */
#ifndef STRATA_GRAPH_H
#define STRATA_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "strata_simd.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

/** Σ (a[i] − b[i])², 16 independent partial sums (like strata_simd_dot). */
float strata_simd_l2sq(const float *a, const float *b, size_t n);

/** out[i] = the distance from q to row ids[i] of base (rows of d floats, row r at base + r·d):
 *  −(q · row) when l2 is 0 (cosine on normalised rows, and dot), Σ (q − row)² when l2 is 1.
 *  Smaller is closer either way. While one row is scored, the whole of the row four ahead is
 *  prefetched: the rows are scattered in RAM, so each one is a cache miss that the hardware
 *  prefetcher cannot predict, and asking for it early overlaps the misses with arithmetic. */
void strata_graph_distances(const float *q, const float *base, size_t d, const uint32_t *ids, size_t count,
                            int l2, float *out);

/** Distances on int8 codes (HNSWCodes): out[i] = a + Σ_j w[j]·c[j] (+ row_term[ids[i]] when
 *  row_term is not NULL), where c is row ids[i] of `codes` (d bytes, rows `stride` bytes apart).
 *  The caller folds each dimension's offset and step, and the metric, into w, a and row_term, so
 *  one kernel serves −q·x and ‖q − x‖². Smaller is closer. Rows four ahead are prefetched. */
void strata_graph_distances_u8(const float *w, float a, const uint8_t *codes, size_t stride, size_t d,
                               const float *row_term, const uint32_t *ids, size_t count, float *out);

/** 1 when this CPU runs strata_graph_distances_u8s8 with AVX-512 VNNI (checked once). */
int strata_graph_has_vnni(void);

/** Like strata_graph_distances_u8 with the weights quantised to int8: out[i] = a + scale·Σ wq[j]·c[j]
 *  (+ row_term). AVX-512 VNNI where the CPU has it (strata_graph_has_vnni), plain C otherwise
 *  (callers use the float-weight kernel then). */
void strata_graph_distances_u8s8(const int8_t *wq, float scale, float a, const uint8_t *codes, size_t stride, size_t d,
                                 const float *row_term, const uint32_t *ids, size_t count, float *out);

/** out[j] = clamp(round((x[j] − offset[j]) · inverse_step[j]), 0, 255): a row's int8 codes. */
void strata_encode_u8(const float *x, const float *offset, const float *inverse_step, size_t d, uint8_t *out);

/** Distances on fp16 codes (IEEE binary16 bit patterns, rows `stride` bytes apart): like
 *  strata_graph_distances with each row widened to float as it is read. */
void strata_graph_distances_f16(const float *q, const uint16_t *codes, size_t stride, size_t d,
                                const uint32_t *ids, size_t count, int l2, float *out);

/** Asks for the first cache lines of row `row` (d floats) into the cache. */
static inline void strata_graph_prefetch(const float *base, size_t d, uint32_t row)
{
    const char *p = (const char *)(base + (size_t)row * d);
    __builtin_prefetch(p, 0, 3);
    __builtin_prefetch(p + 64, 0, 3);
}

/** A word read and written by several threads without a lock (where a node's layer-0 list
 *  lives, read for a prefetch while a parallel insert may move the list): relaxed atomics, a
 *  plain move on x86, and no data race for ThreadSanitizer. */
static inline uint32_t strata_load_relaxed_u32(const uint32_t *word)
{
    return __atomic_load_n(word, __ATOMIC_RELAXED);
}

static inline void strata_store_relaxed_u32(uint32_t *word, uint32_t value)
{
    __atomic_store_n(word, value, __ATOMIC_RELAXED);
}

/** Asks for a node's neighbour list (its first two cache lines) into the cache. */
static inline void strata_graph_prefetch_list(const void *list)
{
    __builtin_prefetch(list, 0, 3);
    __builtin_prefetch((const char *)list + 64, 0, 3);
}

/** Takes a spin lock held in *word (0 free, 1 held). For short critical sections only (a node's
 *  neighbour list, a few hundred nanoseconds). */
static inline void strata_spin_lock(uint32_t *word)
{
    while (__atomic_exchange_n(word, 1u, __ATOMIC_ACQUIRE) != 0u) {
        while (__atomic_load_n(word, __ATOMIC_RELAXED) != 0u) strata_cpu_relax();
    }
}

/** Adds 1 to *counter and returns the value before (sequentially consistent): hands out work
 *  items to threads. */
static inline long strata_fetch_add(long *counter)
{
    return __atomic_fetch_add(counter, 1L, __ATOMIC_SEQ_CST);
}

/** Releases a lock taken by strata_spin_lock. */
static inline void strata_spin_unlock(uint32_t *word)
{
    __atomic_store_n(word, 0u, __ATOMIC_RELEASE);
}

/** Hands the pages of freed heap memory back to the kernel: glibc's malloc_trim(0), which
 *  releases free memory at the top of every arena and, since glibc 2.8, whole free pages inside
 *  them (madvise). Without glibc it does nothing. A graph build frees its scratch (the threads'
 *  arenas, the per-row tables' earlier sizes) but malloc keeps those pages resident: 3.4 MB
 *  after a 100,000-row build. Costs a walk over the heap's free chunks: call it after a build, not per
 *  call. [thread-safe] */
static inline void strata_heap_trim(void)
{
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

#endif
