/*
 * strata/embedder.h: the embedder seam: texts in, vectors out.
 *
 * plugin.h says how a plugin is found and loaded, how the options reach
 * create (an embedder gets its "options" object unchanged), and the rules
 * every seam follows (failures, ownership, re-entrance, threads).
 *
 * What `strata plugin check` holds an embedder to: a dimension >= 1 that never
 * changes; a non-empty model id, the same on every call and for every
 * instance made with the same options; the same text giving the same floats,
 * bit for bit; a batch giving what single calls give (within 1e-5); finite
 * vectors, also for "" and for a 100,000-character text (truncating is the
 * embedder's business); a batch of 0 texts being STRATA_OK and writing
 * nothing; every failure carrying a message; and, with
 * STRATA_INSTANCE_THREAD_SAFE, the same vectors from many threads at once.
 *
 * Thread tags: [per instance] means one call at a time per instance unless the
 * vtable sets STRATA_INSTANCE_THREAD_SAFE (plugin.h, "Threads").
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
 * per instance. Required: create or create_with_host, destroy, dimension,
 * model_id, embed; the host refuses a vtable that leaves one of them NULL.
 */
typedef struct strata_embedder_vtable {
    uint32_t struct_size;   /**< sizeof(strata_embedder_vtable) of the ABI the plugin was built for. */
    uint32_t flags;         /**< STRATA_INSTANCE_THREAD_SAFE or 0. */

    /**
     * Makes an embedder from its JSON options.
     *
     * @param[in]  config_json  the backend's "options" object as written in
     *                          the configuration ({} when none), borrowed.
     * @param[out] out_self     receives the instance; not read on failure.
     * @return STRATA_OK; STRATA_ERR_INVALID_CONFIG naming an unknown key or a
     *         bad value; STRATA_ERR_INVALID_ARGUMENT for a NULL argument;
     *         STRATA_ERR_IO when a model file cannot be read;
     *         STRATA_ERR_BACKEND (e.g. out of memory).
     * [thread-safe] May run at the same time for different instances. Not
     * called when create_with_host is non-NULL.
     */
    strata_status (*create)(const char *config_json, void **out_self);

    /** Frees it. Called once per instance, with no other call on it during or after. */
    void (*destroy)(void *self);

    /**
     * Floats per vector, 1 to 65536 (the host refuses an embedder outside
     * that with STRATA_ERR_PLUGIN). Constant for the life of the instance: the
     * host asks once, right after create.
     * [per instance] Never fails.
     */
    size_t (*dimension)(void *self);

    /**
     * A stable id of the model and its settings, stored with every memory so
     * vectors of different models are never compared: non-empty, UTF-8, the
     * same on every call and for every instance made with the same options.
     * Borrowed: valid as long as `self`. The host asks once, right after
     * create; NULL makes it use "plugin:PLUGIN/BACKEND".
     * [per instance] Never fails.
     */
    const char *(*model_id)(void *self);

    /**
     * Embeds `count` texts into `out`, row-major: row i is text i. Every
     * float written is finite; the same text gives the same floats, bit for
     * bit, alone or in any batch (within 1e-5).
     *
     * @param[in]  texts  `count` UTF-8, NUL-terminated texts, borrowed; ""
     *                    and very long texts are valid input.
     * @param[in]  count  texts to embed; 0 is STRATA_OK and writes nothing
     *                    (the host never passes 0).
     * @param[out] out    count * dimension floats, owned by the caller; on
     *                    failure its content is unspecified.
     * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for NULL texts, a NULL
     *         text or a NULL out; STRATA_ERR_IO for a failed network call or
     *         file read; STRATA_ERR_BACKEND for any other failure of the model.
     * [per instance]
     */
    strata_status (*embed)(void *self, const char *const *texts, size_t count, float *out);

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
} strata_embedder_vtable;

/** sizeof an ABI 1.4 embedder vtable (no create_with_host). */
#define STRATA_EMBEDDER_VTABLE_SIZE_1_4 (offsetof(strata_embedder_vtable, create_with_host))

#ifdef __cplusplus
}
#endif

#endif /* STRATA_EMBEDDER_H */
