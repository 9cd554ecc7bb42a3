/*
 * strata/memory_kernel.h: the memory-kernel seam, for learning loops.
 *
 * A memory kernel carries a float32 state from step to step for a batch of
 * B independent streams. All tensors are row-major float32 buffers owned by
 * the caller; a kernel allocates nothing per step.
 */
#ifndef STRATA_MEMORY_KERNEL_H
#define STRATA_MEMORY_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The functions of a memory kernel. */
typedef struct strata_memory_kernel_vtable {
    uint32_t struct_size;   /**< sizeof(strata_memory_kernel_vtable). */
    uint32_t flags;         /**< STRATA_INSTANCE_THREAD_SAFE or 0. */

    /** Makes a kernel from its JSON description, e.g. {"type": "pmm", "memory_dim": 256, ...}. */
    strata_status (*create)(const char *config_json, void **out_self);

    /** Frees it. */
    void (*destroy)(void *self);

    /** Width D of the hidden input and of the read output. */
    size_t (*dimension)(void *self);

    /** Floats of state per batch row. */
    size_t (*state_size)(void *self);

    /** Number of log values per batch row written by step, in the order of log_name. */
    size_t (*log_count)(void *self);

    /** Name of log value `index`, e.g. "write_strength". Static or valid as long as `self`. */
    const char *(*log_name)(void *self, size_t index);

    /** Number of trainable parameters. */
    uint64_t (*parameter_count)(void *self);

    /** Writes the initial state of `batch` rows into `state` (batch * state_size floats). */
    strata_status (*initial_state)(void *self, size_t batch, float *state);

    /**
     * One step: reads hidden[batch x D], rows whose done_mask is non-zero are
     * reset before the step (done_mask may be NULL), updates `state` in place,
     * writes read[batch x D] and logs[batch x log_count] (logs may be NULL).
     */
    strata_status (*step)(void *self, size_t batch, float *state, const float *hidden,
                          const float *done_mask, float *read, float *logs);

    /** Resets the rows whose keep_mask is 0 to the initial state; rows with non-zero keep_mask stay. */
    strata_status (*reset)(void *self, size_t batch, float *state, const float *keep_mask);

    /* ---- ABI 1.3: appended; NULL (or a shorter struct_size) means not provided ---- */

    /**
     * `steps` steps at once: hidden[steps x batch x D], done_masks[steps x batch]
     * (may be NULL; a row is reset before the step where its mask is non-zero),
     * read[steps x batch x D], logs[steps x batch x log_count] (may be NULL).
     * Equivalent to calling step once per time step; NULL makes the host do that.
     */
    strata_status (*sequence)(void *self, size_t steps, size_t batch, float *state, const float *hidden,
                              const float *done_masks, float *read, float *logs);

    /** Writes the kernel's weights to a safetensors file at `path` (NULL: not supported). */
    strata_status (*write_weights)(void *self, const char *path);

    /*
     * Since ABI 1.5.
     */

    /**
     * `create` with the host table, so an instance can keep it and a plugin
     * needs no global. When non-NULL the host calls it instead of `create`,
     * which may then be NULL.
     */
    strata_status (*create_with_host)(const strata_host_api *host, const char *config_json, void **out_self);
} strata_memory_kernel_vtable;

/** The size of the vtable at ABI 1.2, before `sequence` and `write_weights`. */
#define STRATA_MEMORY_KERNEL_VTABLE_SIZE_1_2 (offsetof(strata_memory_kernel_vtable, sequence))

/** sizeof an ABI 1.4 memory kernel vtable (no create_with_host). */
#define STRATA_MEMORY_KERNEL_VTABLE_SIZE_1_4 (offsetof(strata_memory_kernel_vtable, create_with_host))

#ifdef __cplusplus
}
#endif

#endif /* STRATA_MEMORY_KERNEL_H */
