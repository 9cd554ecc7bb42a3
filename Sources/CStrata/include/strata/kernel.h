/*
 * strata/kernel.h: memory kernels for learning loops, from C.
 *
 * A kernel is a memory module with a float32 state carried from step to step
 * for a batch of B independent streams (seed 003's PMM, Slot, KV and Ring,
 * seed 000's fractal levels; docs/kernels.md gives each one's equations,
 * state layout and tensor names). It is described by one JSON object:
 *
 *     {"type": "pmm", "memory_dim": 256, "num_slots": 16, "num_heads": 4,
 *      "decay_rate": 0.99, "seed": 1}
 *
 * plus, optionally, "weights": "path.safetensors" (weights trained
 * elsewhere, PyTorch's nn.Linear layout), "threads", and the host's own keys
 * "plugin" (default "tensor": libstrata-tensor.so, found like any plugin) and
 * "plugin_dirs".
 *
 * Buffers: every tensor is a row-major float32 buffer owned by the caller:
 *   state      [B x state_size]      hidden, read  [B x D]
 *   done_mask  [B]  (non-zero: reset the row before the step; may be NULL)
 *   keep_mask  [B]  (zero: reset the row)
 *   logs       [B x log_count]  (may be NULL)
 * A step allocates nothing once the kernel has run one step of that batch size.
 *
 *     strata_kernel *k;
 *     if (strata_kernel_open(&k, "{\"type\": \"ring\", \"memory_dim\": 64}") != STRATA_OK) {
 *         fprintf(stderr, "%s\n", strata_error_last());
 *     }
 *     float *state = malloc(sizeof(float) * B * strata_kernel_state_size(k));
 *     strata_kernel_initial_state(k, B, state);
 *     strata_kernel_step(k, B, state, hidden, done, read, NULL);
 *
 * Threads: a kernel is [thread-safe]; calls with different state buffers may
 * run at once. Calls sharing one state buffer must not.
 */
#ifndef STRATA_KERNEL_H
#define STRATA_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An open memory kernel. */
typedef struct strata_kernel strata_kernel;

/**
 * Opens a kernel from its JSON description (see above).
 *
 * @param[out] out          the kernel; NULL on failure. Close it with strata_kernel_close().
 * @param[in]  config_json  the description, UTF-8 JSON.
 * @return STRATA_OK; STRATA_ERR_INVALID_CONFIG naming a bad or unknown key
 *         (or a weights file lacking a tensor, holding an extra one);
 *         STRATA_ERR_DIMENSION for a weights tensor of the wrong shape;
 *         STRATA_ERR_PLUGIN / STRATA_ERR_ABI_MISMATCH when the plugin cannot be
 *         loaded; STRATA_ERR_IO / STRATA_ERR_CORRUPT for an unreadable weights file.
 * Since ABI 1.3.
 */
strata_status strata_kernel_open(strata_kernel **out, const char *config_json);

/** Closes a kernel; NULL is a no-op. Must not race calls on the same kernel. */
void strata_kernel_close(strata_kernel *kernel);

/** Width D of hidden and read rows (0 for NULL). */
size_t strata_kernel_dimension(const strata_kernel *kernel);

/** Floats of state per batch row (0 for NULL). */
size_t strata_kernel_state_size(const strata_kernel *kernel);

/** Log values per batch row written by each step (0 for NULL). */
size_t strata_kernel_log_count(const strata_kernel *kernel);

/**
 * Describes the kernel: {"type", "dimension", "state_size", "logs": [names in
 * order], "parameters": count, "plugin"}. Free the answer with strata_string_free().
 */
strata_status strata_kernel_info(const strata_kernel *kernel, char **out_json);

/** Writes the initial state of `batch` rows into `state` [batch x state_size]. */
strata_status strata_kernel_initial_state(strata_kernel *kernel, size_t batch, float *state);

/**
 * One step for `batch` rows: rows whose done_mask is non-zero are reset
 * first; `state` is updated in place; read [batch x D] and logs
 * [batch x log_count] (NULL: not wanted) are written.
 * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for a NULL buffer or batch 0.
 */
strata_status strata_kernel_step(strata_kernel *kernel, size_t batch, float *state, const float *hidden,
                                 const float *done_mask, float *read, float *logs);

/**
 * `steps` steps at once: hidden [steps x batch x D], done_masks [steps x
 * batch] (may be NULL), read [steps x batch x D], logs [steps x batch x
 * log_count] (may be NULL). The same as `steps` calls of strata_kernel_step
 * (for the tensor plugin's kernels, the same bits), only faster: the products
 * of `hidden` alone run once for many steps' rows.
 */
strata_status strata_kernel_sequence(strata_kernel *kernel, size_t steps, size_t batch, float *state,
                                     const float *hidden, const float *done_masks, float *read, float *logs);

/** Resets the rows whose keep_mask is 0 to the initial state; the others stay. */
strata_status strata_kernel_reset(strata_kernel *kernel, size_t batch, float *state, const float *keep_mask);

/**
 * Saves `batch` rows of state to a safetensors file (tensor "state",
 * [batch, state_size]) with the kernel's description in its metadata.
 */
strata_status strata_kernel_save_state(strata_kernel *kernel, const char *path, size_t batch, const float *state);

/**
 * Loads a state saved by strata_kernel_save_state into `state` [batch x
 * state_size]. @return STRATA_ERR_DIMENSION when the file holds another batch
 * size or state size (the message names both); STRATA_ERR_CORRUPT for a
 * damaged file; nothing is written to `state` then.
 */
strata_status strata_kernel_load_state(strata_kernel *kernel, const char *path, size_t batch, float *state);

/** Writes the kernel's weights to a safetensors file (the tensor names of docs/kernels.md). */
strata_status strata_kernel_save_weights(strata_kernel *kernel, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* STRATA_KERNEL_H */
