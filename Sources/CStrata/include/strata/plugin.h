/*
 * strata/plugin.h: how a shared library provides backends to Strata.
 *
 * A plugin is a shared library that exports exactly one symbol:
 *
 *     const strata_plugin_descriptor *strata_plugin_entry(const strata_host_api *host);
 *
 * The host calls it once, right after loading the file, and keeps the host
 * table alive for as long as the plugin stays loaded (plugins are never
 * unloaded). The descriptor it returns must stay valid as long as well
 * (typically a static const struct). Plugins never link against host symbols:
 * everything they need from the host is in the host table.
 *
 * Versioning: every struct starts with struct_size and only ever grows at the
 * end. A plugin sets abi_version to STRATA_ABI_VERSION; the host refuses a
 * plugin whose major differs or whose minor is newer than the host's, with an
 * error naming the file and both versions.
 *
 * Identification (since ABI 1.4): loading a shared library runs its
 * constructors, so the host reads a plugin file before it loads it. A plugin
 * carries one ELF note, which a C plugin declares once at file scope with
 *
 *     STRATA_PLUGIN_NOTE;
 *
 * and the host refuses, without loading it, a file that is not an ELF shared
 * object, carries no such note, or whose note names another ABI major or a
 * newer minor. The host also refuses a file, or a folder holding it, that is
 * writable by other users or owned by a user other than the one running the
 * host (or root), and loads a plugin found by name only from a folder the
 * user chose: see "Trust" in the README.
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

/** What a factory makes. Values are fixed. */
typedef enum strata_seam_kind {
    STRATA_SEAM_VECTOR_STORE = 1,  /**< vtable: strata_vector_store_vtable (vector_store.h) */
    STRATA_SEAM_EMBEDDER = 2,      /**< vtable: strata_embedder_vtable (embedder.h) */
    STRATA_SEAM_SUMMARIZER = 3,    /**< vtable: strata_summarizer_vtable (summarizer.h) */
    STRATA_SEAM_MEMORY_KERNEL = 4  /**< vtable: strata_memory_kernel_vtable (memory_kernel.h) */
} strata_seam_kind;

/** Flags a vtable sets in its `flags` field. */
enum {
    /** Instances may be called from several threads at once. Without it the host serializes calls per instance. */
    STRATA_INSTANCE_THREAD_SAFE = 1u << 0
};

/** Log levels for strata_host_api.log. */
enum {
    STRATA_LOG_DEBUG = 0,
    STRATA_LOG_INFO = 1,
    STRATA_LOG_WARNING = 2,
    STRATA_LOG_ERROR = 3
};

/** A compiled metadata filter owned by the host; borrowed by the plugin for one call. */
typedef struct strata_filter strata_filter;

/**
 * What the host offers a plugin. Passed to strata_plugin_entry; valid until
 * the process exits. All functions are [thread-safe].
 */
typedef struct strata_host_api {
    uint32_t struct_size;   /**< sizeof(strata_host_api) as the host knows it. */
    uint32_t abi_version;   /**< The host's STRATA_ABI_VERSION. */

    /** Writes a line to the host's log. `plugin` and `message` are borrowed UTF-8. */
    void (*log)(int32_t level, const char *plugin, const char *message);

    /**
     * Records the error message for the current call on this thread and returns
     * `status` unchanged, so a plugin can write `return host->fail(STRATA_ERR_IO, "...")`.
     * The host prefixes the message with the plugin's name.
     */
    strata_status (*fail)(strata_status status, const char *message);

    /**
     * Tests a memory record against a filter: 1 if it matches, 0 if not,
     * a negative strata_status if record_json is not a JSON object.
     * `record_json` is the record's JSON as given to the store (see vector_store.h).
     */
    int32_t (*filter_matches)(const strata_filter *filter, const char *record_json);

    /**
     * The filter as canonical JSON over record fields (metadata keys appear as
     * "metadata.<key>"), for stores that translate filters into their own query
     * language. Borrowed: valid as long as the filter.
     */
    const char *(*filter_json)(const strata_filter *filter);
} strata_host_api;

/** One thing a plugin can make. */
typedef struct strata_factory {
    uint32_t struct_size;    /**< sizeof(strata_factory). */
    uint32_t kind;           /**< A strata_seam_kind. */
    const char *name;        /**< Backend name the configuration uses, e.g. "sqlite". */
    const void *vtable;      /**< Points to the seam's vtable struct for `kind`. */
} strata_factory;

/** What strata_plugin_entry returns. */
typedef struct strata_plugin_descriptor {
    uint32_t struct_size;              /**< sizeof(strata_plugin_descriptor). */
    uint32_t abi_version;              /**< STRATA_ABI_VERSION the plugin was built against. */
    const char *name;                  /**< Plugin name, e.g. "memory". */
    const char *version;               /**< Plugin version, e.g. "1.0.0". */
    const char *description;           /**< One line for `strata plugins`. May be NULL. */
    size_t factory_count;              /**< Entries in `factories`. */
    const strata_factory *factories;   /**< The backends this plugin provides. */
} strata_plugin_descriptor;

/** The type of the one symbol a plugin exports. */
typedef const strata_plugin_descriptor *(*strata_plugin_entry_fn)(const strata_host_api *host);

/** The name of that symbol. */
#define STRATA_PLUGIN_ENTRY_SYMBOL "strata_plugin_entry"

/**
 * The ELF note that identifies a plugin file without running it (ABI 1.4):
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
