/*
 * strata/embedder.h: the embedder seam: texts in, vectors out.
 */
#ifndef STRATA_EMBEDDER_H
#define STRATA_EMBEDDER_H

#include <stddef.h>
#include <stdint.h>

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The functions of an embedder. `self` is what create returned. Unless
 * STRATA_INSTANCE_THREAD_SAFE is set, the host calls one function at a time
 * per instance.
 */
typedef struct strata_embedder_vtable {
    uint32_t struct_size;   /**< sizeof(strata_embedder_vtable). */
    uint32_t flags;         /**< STRATA_INSTANCE_THREAD_SAFE or 0. */

    /** Makes an embedder from its JSON options; unknown options are STRATA_ERR_INVALID_CONFIG. */
    strata_status (*create)(const char *config_json, void **out_self);

    /** Frees it. */
    void (*destroy)(void *self);

    /** Floats per vector. Constant for the life of the instance. */
    size_t (*dimension)(void *self);

    /**
     * A stable id of the model and its settings, stored with every memory so
     * vectors of different models are never compared. Borrowed; valid as long as `self`.
     */
    const char *(*model_id)(void *self);

    /**
     * Embeds `count` UTF-8 texts into `out`, count * dimension floats,
     * row-major, caller-owned. Vectors must be finite.
     */
    strata_status (*embed)(void *self, const char *const *texts, size_t count, float *out);

    /*
     * Since ABI 1.5.
     */

    /**
     * `create` with the host table, so an instance can keep it and a plugin
     * needs no global. When non-NULL the host calls it instead of `create`,
     * which may then be NULL.
     */
    strata_status (*create_with_host)(const strata_host_api *host, const char *config_json, void **out_self);
} strata_embedder_vtable;

/** sizeof an ABI 1.4 embedder vtable (no create_with_host). */
#define STRATA_EMBEDDER_VTABLE_SIZE_1_4 (offsetof(strata_embedder_vtable, create_with_host))

#ifdef __cplusplus
}
#endif

#endif /* STRATA_EMBEDDER_H */
