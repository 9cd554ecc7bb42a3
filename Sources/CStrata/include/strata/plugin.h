/*
 * strata/plugin.h: how a shared library provides backends to Strata.
 *
 * A plugin is a shared library that exports exactly one symbol:
 *
 *     const strata_plugin_descriptor *strata_plugin_entry(const strata_host_api *host);
 *
 * The host calls it once per file and process, right after loading the file,
 * and keeps the host table alive for as long as the plugin stays loaded
 * (plugins are never unloaded). The descriptor it returns must stay valid as
 * long as well (typically a static const struct). Plugins never link against
 * host symbols: everything they need from the host is in the host table.
 * docs/plugins.md walks through a complete vector store in C.
 *
 * Versioning: every struct starts with struct_size and only ever grows at the
 * end. A plugin sets abi_version to STRATA_ABI_VERSION; the host refuses a
 * plugin whose major differs or whose minor is newer than the host's, with an
 * error naming the file and both versions. The host reads a vtable only as far
 * as its struct_size reaches: a function appended after the ABI a plugin was
 * built against is treated as NULL. Each appended member says in which minor it
 * appeared, always in the words "Since ABI 1.N."; a member without that mark
 * has been there from ABI 1.0.
 *
 * Finding the file. A configuration names a backend as
 * {"backend": BACKEND, "plugin": NAME, "options": {...}}. A NAME holding a "/"
 * or ending in ".so" is a path, used as is. Any other NAME is looked for as
 * libstrata-NAME.so (then strata-NAME.so, libNAME.so, NAME.so) in each folder
 * of, in order: the configuration's "plugin_dirs", the environment variable
 * STRATA_PLUGIN_PATH (colon-separated), "trusted_plugin_dirs" in the user's
 * settings file, the folder of libstrata.so (or of the strata executable),
 * /usr/local/lib/strata/plugins, /usr/lib/strata/plugins. The first file found
 * is the plugin (found in a folder that is not trusted, it is refused, not
 * skipped); "backend" then picks the factory of that name and seam.
 *
 * Trust. Loading a shared library runs its constructors, so the host reads a
 * plugin file before it loads it. A plugin carries one ELF note, which a C
 * plugin declares once at file scope with
 *
 *     STRATA_PLUGIN_NOTE;
 *
 * and the host refuses, without loading it, a file that is not an ELF shared
 * object, carries no such note, or whose note names another ABI major or a
 * newer minor (see strata_plugin_note). The host also refuses a file,
 * or a folder holding it, that is writable by other users or owned by a user
 * other than the one running the host (or root), and loads a plugin found by
 * name only from a folder the user chose: see "Trust" in the README.
 *
 * Options. Each seam's create (or create_with_host) receives `config_json`:
 * one JSON object, UTF-8, NUL-terminated, borrowed for the call. It is the
 * "options" object of the backend's configuration ({} when there is none),
 * with these changes made by the host:
 *   - vector store: "dimension" (an integer, the embedder's dimension) and
 *     "metric" ("cosine", "dot" or "l2"; "cosine" when the options have none)
 *     are set beside the backend's own options, replacing any the options
 *     had. The engine refuses any other metric before calling create; a
 *     store refuses one anyway (`strata plugin check` calls create directly).
 *   - vector store, after create refused the configured "dimension" with
 *     STRATA_ERR_INVALID_CONFIG or STRATA_ERR_DIMENSION: the engine calls
 *     create once more with "dimension_as_stored": true added, to read the
 *     embedding space the store records (the history of "strata:space") and
 *     name it in its error. A store that keeps vectors between processes may
 *     take the key: it then opens the existing store for reading only, with
 *     the dimension the store holds instead of "dimension", changes no file
 *     and creates none (a missing store fails); the host calls only history
 *     and destroy on that instance. A store without the key refuses it as
 *     any unknown key, and the engine reports the first refusal as it is.
 *   - memory kernel used as the engine's working kernel: "memory_dim" (the
 *     embedder's dimension) is added when the options do not have it.
 *   - a "path" string option that does not start with "/", in a configuration
 *     read from a file, is made absolute against that file's folder (for the
 *     store, each tier's store, the embedder and the summarizer).
 *   - embedders, summarizers and other kernels get the options unchanged.
 * The text is compact JSON; do not depend on the order of its keys. Values of
 * the backend's own options may be any JSON (strings, numbers, objects, ...).
 * A backend refuses a key it does not know with STRATA_ERR_INVALID_CONFIG and
 * a message naming the key, so that a typo is never silently ignored, and a
 * bad value with STRATA_ERR_INVALID_CONFIG naming the key and the value.
 *
 * Failures. A fallible vtable function returns STRATA_OK or a negative
 * STRATA_ERR_* (status.h); any other non-zero value reaches the caller as
 * STRATA_ERR_BACKEND. Before returning a failure it calls host->fail with a
 * message naming the culprit (the key, the id, the position, the file), on
 * the thread of the call. A failure changes nothing the store holds, unless a
 * function says otherwise.
 *
 * Ownership. Everything the host passes in (strings, arrays, vectors, the
 * filter) is borrowed for the duration of the call: copy what you keep.
 * Everything a plugin hands back goes through a host callback and is borrowed
 * by the host for that callback only: no memory changes hands, and no free
 * function is ever exported. Output buffers (an embedder's `out`, a kernel's
 * state) are owned by the caller and sized by the host.
 *
 * Callbacks the host passes (strata_record_fn, strata_hit_fn,
 * strata_history_fn, strata_snapshot_fn, strata_finding_fn, strata_text_fn)
 * may be called only during the call that received them, on the thread of
 * that call. They never call back into the same instance. A callback that
 * returns non-zero asks to stop: the plugin makes no further call of it and
 * returns STRATA_OK (not an error).
 *
 * Re-entrance. From inside any vtable call, and from inside a callback, a
 * plugin may call the functions of the host table and nothing else of Strata:
 * never the engine API (strata_engine_* of engine.h), which may wait for the
 * lock the host holds around the very call the plugin is in (a deadlock).
 *
 * Threads. Each vtable has `flags`. Without STRATA_INSTANCE_THREAD_SAFE the
 * host makes one call at a time per instance (different instances may still
 * be called at once from different threads). With it, any function may be
 * called from many threads at once on one instance, and the instance does its
 * own locking. create and create_with_host may run at the same time for
 * different instances, so a plugin keeps no unguarded static state; destroy
 * runs once per instance, with no other call on it during or after. The thread
 * tags below say what holds for each function: [per instance] follows `flags`
 * as just said; [thread-safe] may be called from any thread at any time.
 */
#ifndef STRATA_PLUGIN_H
#define STRATA_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"
#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What a factory makes. Values are fixed forever. */
typedef enum strata_seam_kind {
    STRATA_SEAM_VECTOR_STORE = 1,  /**< vtable: strata_vector_store_vtable (vector_store.h) */
    STRATA_SEAM_EMBEDDER = 2,      /**< vtable: strata_embedder_vtable (embedder.h) */
    STRATA_SEAM_SUMMARIZER = 3,    /**< vtable: strata_summarizer_vtable (summarizer.h) */
    STRATA_SEAM_MEMORY_KERNEL = 4  /**< vtable: strata_memory_kernel_vtable (memory_kernel.h) */
} strata_seam_kind;

/** Flags a vtable sets in its `flags` field. */
enum {
    /**
     * Every function of the vtable may be called from several threads at once
     * on one instance; the plugin locks what it shares. Without it the host
     * makes one call at a time per instance. `strata plugin check` runs many
     * threads on one instance of a store that sets it.
     */
    STRATA_INSTANCE_THREAD_SAFE = 1u << 0
};

/**
 * Log levels for strata_host_api.log. Lines below the level in the environment
 * variable STRATA_LOG (a number; default STRATA_LOG_WARNING) are dropped.
 */
enum {
    STRATA_LOG_DEBUG = 0,
    STRATA_LOG_INFO = 1,
    STRATA_LOG_WARNING = 2,
    STRATA_LOG_ERROR = 3
};

/**
 * A compiled metadata filter owned by the host; borrowed by the plugin for the
 * one call that received it. Opaque: read it only through
 * host->filter_matches and host->filter_json.
 */
typedef struct strata_filter strata_filter;

/**
 * What the host offers a plugin. Passed to strata_plugin_entry and to every
 * create_with_host; the same table, valid until the process exits, so a
 * plugin may keep the pointer. Every function here is [thread-safe] and may be
 * called from inside any vtable call or callback. None of them is ever NULL.
 */
typedef struct strata_host_api {
    uint32_t struct_size;   /**< sizeof(strata_host_api) as the host knows it: read a member only if it is covered. */
    uint32_t abi_version;   /**< The host's STRATA_ABI_VERSION (same major as the plugin's, minor at least as new). */

    /**
     * Writes a line to the host's log (standard error), as
     * "strata [LEVEL] PLUGIN: MESSAGE".
     *
     * @param[in] level    a STRATA_LOG_* level; values outside 0...3 are clamped.
     * @param[in] plugin   the plugin's name, UTF-8, borrowed for the call;
     *                     NULL writes "plugin".
     * @param[in] message  UTF-8, borrowed for the call (the host copies it);
     *                     NULL writes an empty line.
     * [thread-safe] Never fails.
     */
    void (*log)(int32_t level, const char *plugin, const char *message);

    /**
     * Records the error message of the failing call on this thread and returns
     * `status` unchanged, so a plugin can write
     * `return host->fail(STRATA_ERR_IO, "...")`.
     *
     * Call it on the thread of the failing vtable call, before that call
     * returns the failure, and only then: the host reads the message right
     * after the call returns, and a later call of fail on the same thread
     * replaces it. The caller sees "plugin NAME: OPERATION: MESSAGE" (the host
     * adds the plugin's name and what it was doing).
     *
     * @param[in] status   the negative STRATA_ERR_* the call returns.
     * @param[in] message  what went wrong, naming the culprit, UTF-8. Copied
     *                     before fail returns: a stack buffer is fine. NULL is
     *                     accepted but leaves the failure without a message,
     *                     which `strata plugin check` reports (rule
     *                     failure.message).
     * @return `status`.
     * [thread-safe]
     */
    strata_status (*fail)(strata_status status, const char *message);

    /**
     * Tests a memory record against a filter, exactly as the engine's own
     * stores do (so a filter means the same on every store).
     *
     * @param[in] filter       the filter the call received; NULL matches every
     *                         record.
     * @param[in] record_json  the record's JSON as the host gave it to the store
     *                         (see vector_store.h), borrowed for the call.
     * @return 1 if it matches, 0 if not; a negative strata_status when
     *         record_json is NULL (STRATA_ERR_INVALID_ARGUMENT) or not valid
     *         JSON, which the plugin then fails its call with. The message of
     *         such a failure is recorded already, as `fail` would: return the
     *         status as it is (calling `fail` again replaces the message).
     * [thread-safe] Parses the JSON on each call: a store with many records
     * may prefer to translate filter_json into its own query language.
     */
    int32_t (*filter_matches)(const strata_filter *filter, const char *record_json);

    /**
     * The filter as canonical JSON over record fields (metadata keys appear as
     * "metadata.<key>"), for stores that translate filters into their own query
     * language.
     *
     * @param[in] filter  the filter the call received.
     * @return UTF-8 JSON owned by the host, valid as long as the filter (the
     *         call that received it); NULL when filter is NULL. Never free it.
     * [thread-safe]
     */
    const char *(*filter_json)(const strata_filter *filter);

    /*
     * Reading options without a JSON parser of the plugin's own. Since ABI 1.5.
     * A plugin that declares ABI 1.5 or newer always has them (a host never
     * loads a plugin built for a newer minor than its own); code that declares
     * an older abi_version checks STRATA_HOST_HAS_OPTIONS first.
     */

    /**
     * Checks that `options_json` is a JSON object whose keys are all among
     * `allowed`, so a typo in a configuration is an error, never ignored.
     *
     * @param[in] options_json  the options `create` received, borrowed.
     * @param[in] allowed       the keys the plugin knows, separated by spaces,
     *                          e.g. "dimension metric path"; borrowed.
     * @return STRATA_OK; STRATA_ERR_INVALID_CONFIG naming the first unknown key
     *         (in the order of the document) or saying the options are not a
     *         JSON object. The message is recorded as with `fail`, so create
     *         can return the status as it is.
     * [thread-safe]
     */
    strata_status (*options_check)(const char *options_json, const char *allowed);

    /**
     * Reads the number at `key` of the options object.
     *
     * @param[out] out  receives the number; untouched unless STRATA_OK.
     * @return STRATA_OK; STRATA_ERR_NOT_FOUND when the key is absent or null
     *         (no message recorded: a default applies); STRATA_ERR_INVALID_CONFIG
     *         naming the key when its value is not a number (message recorded).
     * [thread-safe]
     */
    strata_status (*option_number)(const char *options_json, const char *key, double *out);

    /**
     * Copies the string at `key` of the options object into `out`, NUL-terminated.
     *
     * @param[out] out       a buffer of `capacity` bytes, owned by the plugin.
     * @param[in]  capacity  its size in bytes, at least 1.
     * @return STRATA_OK; STRATA_ERR_NOT_FOUND when the key is absent or null
     *         (no message recorded); STRATA_ERR_INVALID_CONFIG naming the key when
     *         its value is not a string, or when the string and its NUL do not
     *         fit in `capacity` bytes (message recorded; `out` untouched).
     * [thread-safe]
     */
    strata_status (*option_string)(const char *options_json, const char *key, char *out, size_t capacity);
} strata_host_api;

/** Whether `host` (a const strata_host_api *) has options_check, option_number and option_string. Since ABI 1.5. */
#define STRATA_HOST_HAS_OPTIONS(host) \
    ((host)->struct_size >= offsetof(strata_host_api, option_string) + sizeof(void (*)(void)))

/** One thing a plugin can make: a backend of one seam, under one name. */
typedef struct strata_factory {
    uint32_t struct_size;    /**< sizeof(strata_factory). */
    uint32_t kind;           /**< A strata_seam_kind. */
    const char *name;        /**< Backend name the configuration's "backend" uses, e.g. "sqlite". Static UTF-8. */
    const void *vtable;      /**< Points to the seam's vtable struct for `kind`, static and constant. */
} strata_factory;

/** What strata_plugin_entry returns. */
typedef struct strata_plugin_descriptor {
    uint32_t struct_size;              /**< sizeof(strata_plugin_descriptor). */
    uint32_t abi_version;              /**< STRATA_ABI_VERSION the plugin was built against. */
    const char *name;                  /**< Plugin name, e.g. "memory". */
    const char *version;               /**< Plugin version, e.g. "1.0.0". */
    const char *description;           /**< One line for `strata plugins`. May be NULL. */
    size_t factory_count;              /**< Entries in `factories` (at most 1024). */
    const strata_factory *factories;   /**< The backends this plugin provides (strided by sizeof(strata_factory)). */
} strata_plugin_descriptor;

/**
 * The type of the one symbol a plugin exports.
 *
 * Called once per file and process, right after the file is loaded, while the
 * host's loader holds its lock: do only cheap work here (check the host table,
 * return the descriptor) and never call the engine API.
 *
 * @param[in] host  the host table, valid until the process exits; a plugin
 *                  built before ABI 1.5 keeps it in a global to reach it from
 *                  its vtables, one built for 1.5 gets it again in each
 *                  create_with_host.
 * @return the plugin's descriptor, valid until the process exits; NULL to
 *         refuse the host (e.g. another ABI major), which the host reports as
 *         STRATA_ERR_PLUGIN naming the file.
 */
typedef const strata_plugin_descriptor *(*strata_plugin_entry_fn)(const strata_host_api *host);

/** The name of that symbol. */
#define STRATA_PLUGIN_ENTRY_SYMBOL "strata_plugin_entry"

/**
 * The ELF note that identifies a plugin file without running it. Since ABI 1.4.
 * owner "Strata", type STRATA_PLUGIN_NOTE_TYPE, and a descriptor of two
 * 32-bit words, the ABI version the plugin was built against and flags (0).
 * This struct is the whole note as it sits in the file.
 */
typedef struct strata_plugin_note {
    uint32_t name_size;    /**< 7: the bytes of "Strata" with its NUL. */
    uint32_t desc_size;    /**< 8: abi_version and flags. */
    uint32_t type;         /**< STRATA_PLUGIN_NOTE_TYPE. */
    char name[8];          /**< "Strata", NUL-padded to a multiple of 4. */
    uint32_t abi_version;  /**< STRATA_ABI_VERSION the plugin was built against. */
    uint32_t flags;        /**< 0; reserved. */
} strata_plugin_note;

/** The note's type under the owner "Strata". */
#define STRATA_PLUGIN_NOTE_TYPE 1u
/** The section the note is placed in (an SHT_NOTE section, in a PT_NOTE segment). */
#define STRATA_PLUGIN_NOTE_SECTION ".note.strata.plugin"

/**
 * Declares the note, once per plugin, at file scope (GCC and Clang):
 * `STRATA_PLUGIN_NOTE;`. It adds 28 bytes of read-only data and no symbol.
 * The version must be the descriptor's `abi_version`: the host refuses a
 * plugin whose note and descriptor disagree.
 */
#define STRATA_PLUGIN_NOTE STRATA_PLUGIN_NOTE_FOR_ABI(STRATA_ABI_VERSION)

/** The note for a plugin whose descriptor says `abi` (tests of older ABIs). */
#define STRATA_PLUGIN_NOTE_FOR_ABI(abi)                                                  \
    __attribute__((section(STRATA_PLUGIN_NOTE_SECTION), used, aligned(4)))              \
    static const strata_plugin_note strata_plugin_note_ = {                              \
        7, 8, STRATA_PLUGIN_NOTE_TYPE, "Strata", (abi), 0}

#ifdef __cplusplus
}
#endif

#endif /* STRATA_PLUGIN_H */
