/*
 * strata/summarizer.h: the summarizer seam: several texts in, one summary out.
 * A remote LLM, a local model or an extractive algorithm sits behind it.
 */
#ifndef STRATA_SUMMARIZER_H
#define STRATA_SUMMARIZER_H

#include <stddef.h>
#include <stdint.h>

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Receives the summary, UTF-8, borrowed for the callback only. */
typedef void (*strata_text_fn)(void *context, const char *text);

/** The functions of a summarizer. */
typedef struct strata_summarizer_vtable {
    uint32_t struct_size;   /**< sizeof(strata_summarizer_vtable). */
    uint32_t flags;         /**< STRATA_INSTANCE_THREAD_SAFE or 0. */

    /** Makes a summarizer from its JSON options. */
    strata_status (*create)(const char *config_json, void **out_self);

    /** Frees it. */
    void (*destroy)(void *self);

    /**
     * Summarizes `count` UTF-8 texts into at most `max_chars` characters (0:
     * the summarizer's own default) and hands the summary to `fn` exactly once
     * on success.
     */
    strata_status (*summarize)(void *self, const char *const *texts, size_t count, size_t max_chars,
                               strata_text_fn fn, void *context);

    /*
     * Since ABI 1.5.
     */

    /**
     * `create` with the host table, so an instance can keep it and a plugin
     * needs no global. When non-NULL the host calls it instead of `create`,
     * which may then be NULL.
     */
    strata_status (*create_with_host)(const strata_host_api *host, const char *config_json, void **out_self);
} strata_summarizer_vtable;

/** sizeof an ABI 1.4 summarizer vtable (no create_with_host). */
#define STRATA_SUMMARIZER_VTABLE_SIZE_1_4 (offsetof(strata_summarizer_vtable, create_with_host))

#ifdef __cplusplus
}
#endif

#endif /* STRATA_SUMMARIZER_H */
