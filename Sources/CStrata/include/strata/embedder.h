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
} strata_embedder_vtable;

#ifdef __cplusplus
}
#endif

#endif /* STRATA_EMBEDDER_H */
