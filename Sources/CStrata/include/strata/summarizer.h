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
} strata_summarizer_vtable;

#ifdef __cplusplus
}
#endif

#endif /* STRATA_SUMMARIZER_H */
