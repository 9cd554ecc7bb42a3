/*
 * strata/memory_kernel.h: the memory-kernel seam, for learning loops.
 *
 * A memory kernel carries a float32 state from step to step for a batch of
 * B independent streams. All tensors are row-major float32 buffers owned by
 * the caller; a kernel allocates nothing per step. docs/kernels.md describes
 * the shipped kernels; kernel.h is the C API that drives one.
 *
 * plugin.h says how a plugin is found and loaded, how the options reach
 * create (a kernel used as the engine's working kernel gets "memory_dim", the
 * embedder's dimension, when its options lack it; others get their options
 * unchanged), and the rules every seam follows (failures, ownership,
 * re-entrance, threads).
 *
 * What the host has checked before a call: batch >= 1 (and steps >= 1); every
 * buffer holds exactly the floats its function names below (a wrong size is
 * STRATA_ERR_DIMENSION from the host, before the kernel is called). A kernel
 * still refuses a NULL buffer it needs, or a batch of 0, with
 * STRATA_ERR_INVALID_ARGUMENT, and writes only inside the sizes it declared
 * (`strata plugin check` puts guard floats around every buffer).
 *
 * Thread tags: [per instance] means one call at a time per instance unless the
 * vtable sets STRATA_INSTANCE_THREAD_SAFE (plugin.h, "Threads").
 */
#ifndef STRATA_MEMORY_KERNEL_H
#define STRATA_MEMORY_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The functions of a memory kernel. `self` is what create returned. Required:
 * create or create_with_host, destroy, dimension, state_size, log_count,
 * log_name, parameter_count, initial_state, step, reset; the host refuses a
 * vtable that leaves one of them NULL.
 */
typedef struct strata_memory_kernel_vtable {
    uint32_t struct_size;   /**< sizeof(strata_memory_kernel_vtable) of the ABI the plugin was built for. */
    uint32_t flags;         /**< STRATA_INSTANCE_THREAD_SAFE or 0. */

    /**
     * Makes a kernel from its JSON description, e.g. {"type": "pmm", "memory_dim": 256, ...}.
     *
     * @param[in]  config_json  the description, borrowed (see plugin.h,
     *                          "Options", for "memory_dim").
     * @param[out] out_self     receives the instance; not read on failure.
     * @return STRATA_OK; STRATA_ERR_INVALID_CONFIG naming an unknown key or a
     *         bad value; STRATA_ERR_INVALID_ARGUMENT for a NULL argument;
     *         STRATA_ERR_IO / STRATA_ERR_CORRUPT for an unreadable weights
     *         file; STRATA_ERR_DIMENSION for a weights tensor of the wrong
     *         shape; STRATA_ERR_BACKEND.
     * [thread-safe] May run at the same time for different instances. Not
     * called when create_with_host is non-NULL.
     */
    strata_status (*create)(const char *config_json, void **out_self);

    /** Frees it. Called once per instance, with no other call on it during or after. */
    void (*destroy)(void *self);

    /** Width D of the hidden input and of the read output, >= 1 and constant. [per instance] Never fails. */
    size_t (*dimension)(void *self);

    /** Floats of state per batch row, >= 1 and constant. [per instance] Never fails. */
    size_t (*state_size)(void *self);

    /** Number of log values per batch row written by step, in the order of log_name. [per instance] Never fails. */
    size_t (*log_count)(void *self);

    /**
     * Name of log value `index` (0 <= index < log_count), e.g.
     * "write_strength". Static or valid as long as `self`; NULL makes the host
     * call it "logINDEX". [per instance] Never fails.
     */
    const char *(*log_name)(void *self, size_t index);

    /** Number of trainable parameters. [per instance] Never fails. */
    uint64_t (*parameter_count)(void *self);

    /**
     * Writes the initial state of `batch` rows into `state`
     * (batch * state_size floats, all finite).
     * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for a NULL state or a
     *         batch of 0.
     * [per instance]
     */
    strata_status (*initial_state)(void *self, size_t batch, float *state);

    /**
     * One step: reads hidden[batch x D], rows whose done_mask is non-zero are
     * reset before the step (done_mask may be NULL), updates `state` in place,
     * writes read[batch x D] and logs[batch x log_count] (logs may be NULL).
     * Rows are independent: a row's outputs depend only on its own inputs. The
     * same inputs give the same outputs; every value written is finite.
     *
     * @param[in,out] state      batch * state_size floats.
     * @param[in]     hidden     batch * D floats.
     * @param[in]     done_mask  batch floats, or NULL (no reset).
     * @param[out]    read       batch * D floats.
     * @param[out]    logs       batch * log_count floats, or NULL.
     * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for a NULL state, hidden
     *         or read, or a batch of 0; STRATA_ERR_BACKEND.
     * [per instance]
     */
    strata_status (*step)(void *self, size_t batch, float *state, const float *hidden,
                          const float *done_mask, float *read, float *logs);

    /**
     * Resets the rows whose keep_mask is 0 to the initial state; rows with
     * non-zero keep_mask stay exactly as they are.
     * @param[in,out] state      batch * state_size floats.
     * @param[in]     keep_mask  batch floats.
     * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for a NULL state or
     *         keep_mask, or a batch of 0.
     * [per instance]
     */
    strata_status (*reset)(void *self, size_t batch, float *state, const float *keep_mask);

    /*
     * Since ABI 1.3. NULL, or a struct_size that ends before them, means not
     * provided.
     */

    /**
     * `steps` steps at once: hidden[steps x batch x D], done_masks[steps x batch]
     * (may be NULL; a row is reset before the step where its mask is non-zero),
     * read[steps x batch x D], logs[steps x batch x log_count] (may be NULL).
     * Equivalent to calling step once per time step (within 1e-5); NULL makes
     * the host do that.
     * @return as step; STRATA_ERR_INVALID_ARGUMENT also for 0 steps.
     * [per instance] Since ABI 1.3.
     */
    strata_status (*sequence)(void *self, size_t steps, size_t batch, float *state, const float *hidden,
                              const float *done_masks, float *read, float *logs);

    /**
     * Writes the kernel's weights to a safetensors file at `path` (UTF-8,
     * borrowed). NULL: not supported (the host answers STRATA_ERR_UNSUPPORTED).
     * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for a NULL path;
     *         STRATA_ERR_IO naming the file.
     * [per instance] Since ABI 1.3.
     */
    strata_status (*write_weights)(void *self, const char *path);

    /*
     * Since ABI 1.5.
     */

    /**
     * `create` with the host table, so an instance can keep it and a plugin
     * needs no global. When non-NULL the host calls it instead of `create`,
     * which may then be NULL (a source that also builds for an older ABI
     * fills `create` too).
     *
     * @param[in]  host         the host table strata_plugin_entry received;
     *                          valid until the process exits.
     * @param[in]  config_json  as for create.
     * @param[out] out_self     as for create.
     * @return as create.
     * [thread-safe] May run at the same time for different instances.
     * Since ABI 1.5.
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
