/*
 * strata/summarizer.h: the summarizer seam: several texts in, one summary out.
 * A remote LLM, a local model or an extractive algorithm sits behind it.
 *
 * plugin.h says how a plugin is found and loaded, how the options reach
 * create (a summarizer gets its "options" object unchanged), and the rules
 * every seam follows (failures, ownership, re-entrance, threads).
 *
 * Thread tags: [per instance] means one call at a time per instance unless the
 * vtable sets STRATA_INSTANCE_THREAD_SAFE (plugin.h, "Threads").
 */
#ifndef STRATA_SUMMARIZER_H
#define STRATA_SUMMARIZER_H

#include <stddef.h>
#include <stdint.h>

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Receives the summary, valid UTF-8, NUL-terminated, borrowed for the callback
 * only (the host copies it). Called only during summarize, on its thread.
 */
typedef void (*strata_text_fn)(void *context, const char *text);

/**
 * The functions of a summarizer. `self` is what create returned. Required:
 * create or create_with_host, destroy, summarize; the host refuses a vtable
 * that leaves one of them NULL.
 */
typedef struct strata_summarizer_vtable {
    uint32_t struct_size;   /**< sizeof(strata_summarizer_vtable) of the ABI the plugin was built for. */
    uint32_t flags;         /**< STRATA_INSTANCE_THREAD_SAFE or 0. */

    /**
     * Makes a summarizer from its JSON options.
     *
     * @param[in]  config_json  the backend's "options" object as written in
     *                          the configuration ({} when none), borrowed.
     * @param[out] out_self     receives the instance; not read on failure.
     * @return STRATA_OK; STRATA_ERR_INVALID_CONFIG naming an unknown key or a
     *         bad value; STRATA_ERR_INVALID_ARGUMENT for a NULL argument;
     *         STRATA_ERR_IO; STRATA_ERR_BACKEND.
     * [thread-safe] May run at the same time for different instances. Not
     * called when create_with_host is non-NULL.
     */
    strata_status (*create)(const char *config_json, void **out_self);

    /** Frees it. Called once per instance, with no other call on it during or after. */
    void (*destroy)(void *self);

    /**
     * Summarizes `count` texts into at most `max_chars` characters (Unicode
     * scalar values, not bytes) and hands the summary, valid UTF-8, to `fn`
     * exactly once on success and never on failure. The host uses the text of
     * the last call of fn, and fails a summarize that returns STRATA_OK
     * without calling fn with STRATA_ERR_BACKEND.
     *
     * @param[in] texts      `count` UTF-8, NUL-terminated texts, borrowed.
     * @param[in] count      texts to summarize; 0 succeeds with a (possibly
     *                       empty) summary.
     * @param[in] max_chars  the longest summary, in characters; 0: the
     *                       summarizer's own default.
     * @param[in] fn         receives the summary.
     * @param[in] context    passed to fn.
     * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for NULL texts with a
     *         non-zero count, a NULL text or a NULL fn; STRATA_ERR_IO for a
     *         failed network call; STRATA_ERR_BACKEND for any other failure
     *         of the model.
     * [per instance] May be slow (a remote model): the engine calls it
     * without holding up its other verbs.
     */
    strata_status (*summarize)(void *self, const char *const *texts, size_t count, size_t max_chars,
                               strata_text_fn fn, void *context);

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
} strata_summarizer_vtable;

/** sizeof an ABI 1.4 summarizer vtable (no create_with_host). */
#define STRATA_SUMMARIZER_VTABLE_SIZE_1_4 (offsetof(strata_summarizer_vtable, create_with_host))

#ifdef __cplusplus
}
#endif

#endif /* STRATA_SUMMARIZER_H */
