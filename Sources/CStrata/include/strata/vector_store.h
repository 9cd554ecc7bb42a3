/*
 * strata/vector_store.h: the vector-store seam.
 *
 * A vector store keeps memory records (id, JSON, vector) and finds the
 * nearest records to a query vector. Records cross as strata_record; results
 * are handed to a host callback that copies what it needs before returning,
 * so no memory ever changes hands.
 *
 * The record JSON is an object with at least: "id", "content", "metadata"
 * (object), "scope", "parent_scope", "visibility", "tier", "category",
 * "importance", "created_at", "updated_at", "accessed_at", "access_count".
 * A store may index any of these; it must give the same JSON back verbatim.
 */
#ifndef STRATA_VECTOR_STORE_H
#define STRATA_VECTOR_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A memory record. Every pointer is borrowed for the call or callback only. */
typedef struct strata_record {
    uint32_t struct_size;   /**< sizeof(strata_record). */
    const char *id;         /**< UTF-8, NUL-terminated. */
    const char *json;       /**< The record as a JSON object, UTF-8, NUL-terminated. */
    const float *vector;    /**< `dimension` floats. */
    size_t dimension;       /**< Equals the store's dimension. */
} strata_record;

/**
 * Record `i` of an array of records the host passes (upsert, commit).
 * Arrays of structs that begin with struct_size are strided by the first
 * element's struct_size, never by the plugin's sizeof: a newer host may pass
 * longer structs, whose fields the plugin does not know, and every element of
 * one array has the same struct_size.
 */
#define STRATA_RECORD_AT(records, i) \
    ((const strata_record *)(const void *)((const char *)(records) + (size_t)(i) * (records)[0].struct_size))

/** Receives one record; return 0 to go on, non-zero to stop early. */
typedef int32_t (*strata_record_fn)(void *context, const strata_record *record);

/**
 * Receives one search hit, best first; `score` is higher for closer records
 * (cosine and dot: the similarity; l2: minus the squared distance).
 * Return 0 to go on, non-zero to stop.
 */
typedef int32_t (*strata_hit_fn)(void *context, const strata_record *record, float score);

/** Receives one history row as JSON (see strata_change); return 0 to go on, non-zero to stop. */
typedef int32_t (*strata_history_fn)(void *context, const char *json);

/**
 * One atomic change (since ABI 1.1): records to insert or replace, ids to
 * remove, and history rows to append. A store that keeps history writes all
 * three in one transaction, so after a crash either the whole change is there
 * or none of it.
 *
 * A history row is a JSON object {"event": "ADD"|"UPDATE"|"DELETE",
 * "memory_id", "at" (ISO-8601), "old" (record or null), "new" (record or
 * null), "reason"}; the store gives it back verbatim, in the order appended.
 */
typedef struct strata_change {
    uint32_t struct_size;              /**< sizeof(strata_change). */
    const strata_record *upserts;      /**< `upsert_count` records; NULL when 0. */
    size_t upsert_count;
    const char *const *removals;       /**< `removal_count` ids; unknown ids are skipped. */
    size_t removal_count;
    const char *const *history;        /**< `history_count` JSON rows. */
    size_t history_count;
    /**
     * The "memory_id" of each history row, `history_count` ids in the order of
     * `history`, so a store need not parse the JSON to index rows by memory.
     * Since ABI 1.5: read it only when struct_size covers it
     * (STRATA_CHANGE_HAS_HISTORY_IDS); NULL when history_count is 0.
     */
    const char *const *history_ids;
} strata_change;

/** Whether `change` (a const strata_change *) carries history_ids (since ABI 1.5). */
#define STRATA_CHANGE_HAS_HISTORY_IDS(change) \
    ((change)->struct_size >= offsetof(strata_change, history_ids) + sizeof(const char *const *))

/** Capability bits a store reports through `capabilities` (since ABI 1.1). */
enum {
    /** keyword_search is implemented for this instance. */
    STRATA_STORE_KEYWORD_SEARCH = 1u << 0,
    /** commit persists history rows and history() reads them back. */
    STRATA_STORE_HISTORY = 1u << 1,
    /** snapshot, snapshots and rollback are implemented for this instance (since ABI 1.2). */
    STRATA_STORE_SNAPSHOTS = 1u << 2,
    /**
     * Records survive the instance: after destroy, a create with the same
     * options sees every record and history row committed before (since ABI
     * 1.5). A store kept in memory, or in a temporary file, does not set it.
     */
    STRATA_STORE_PERSISTENT = 1u << 3
};

/**
 * Receives the description of one snapshot (since ABI 1.2) as a JSON object
 * {"name", "created_at" (ISO-8601), "memories" (records it holds), "bytes"
 * (its size on disk, or null when it is kept in memory)}. The string is
 * borrowed for the callback only. Return 0 to go on, non-zero to stop.
 */
typedef int32_t (*strata_snapshot_fn)(void *context, const char *json);

/**
 * Receives one damaged part of a store found by `salvage` (since ABI 1.4),
 * as a JSON object {"file", "location", "problem", "lost"?}, borrowed for the
 * call. Return 0 to go on, non-zero to stop.
 */
typedef int32_t (*strata_finding_fn)(void *context, const char *json);

/** A vector search. */
typedef struct strata_search_request {
    uint32_t struct_size;         /**< sizeof(strata_search_request). */
    const float *query;           /**< `dimension` floats. */
    size_t dimension;
    size_t k;                     /**< At most this many hits. */
    const strata_filter *filter;  /**< NULL: every record. Otherwise only matching records. */
} strata_search_request;

/**
 * The functions of a vector store. `self` is what create returned.
 * Unless the vtable sets STRATA_INSTANCE_THREAD_SAFE, the host calls one
 * function at a time per instance. On failure a function returns a negative
 * status after calling host->fail() with a message.
 */
typedef struct strata_vector_store_vtable {
    uint32_t struct_size;   /**< sizeof(strata_vector_store_vtable). */
    uint32_t flags;         /**< STRATA_INSTANCE_THREAD_SAFE or 0. */

    /**
     * Makes a store. `config_json` is an object with at least "dimension"
     * (integer) and "metric" ("cosine", "dot" or "l2") plus the backend's own
     * options; an unknown option is STRATA_ERR_INVALID_CONFIG naming it.
     */
    strata_status (*create)(const char *config_json, void **out_self);

    /** Frees the store. Called once; no other call runs at the same time. */
    void (*destroy)(void *self);

    /** Inserts or replaces records, all or none. */
    strata_status (*upsert)(void *self, const strata_record *records, size_t count);

    /** Removes records by id; unknown ids are skipped. *out_removed counts the removed ones. */
    strata_status (*remove)(void *self, const char *const *ids, size_t count, size_t *out_removed);

    /** Finds one record by id and passes it to `fn`; STRATA_ERR_NOT_FOUND if absent. */
    strata_status (*get)(void *self, const char *id, strata_record_fn fn, void *context);

    /** Exact or approximate nearest neighbours, best first, honouring the filter exactly. */
    strata_status (*search)(void *self, const strata_search_request *request, strata_hit_fn fn, void *context);

    /**
     * Keyword (BM25) search over "content", best first, with the BM25 score.
     * May be NULL: the host then keeps its own keyword index.
     */
    strata_status (*keyword_search)(void *self, const char *query, size_t k, const strata_filter *filter,
                                    strata_hit_fn fn, void *context);

    /** Visits every record matching `filter` (NULL: all) in no particular order. */
    strata_status (*scan)(void *self, const strata_filter *filter, strata_record_fn fn, void *context);

    /** Number of records. */
    strata_status (*count)(void *self, uint64_t *out_count);

    /*
     * Appended in ABI 1.1. The host reads only what struct_size covers, so a
     * plugin built against ABI 1.0 (whose vtable ends at `count`) still loads;
     * the functions below are then treated as NULL.
     */

    /**
     * Applies a change atomically (see strata_change). May be NULL: the host
     * then calls upsert and remove, and keeps history itself in memory.
     * Required when `capabilities` reports STRATA_STORE_HISTORY.
     */
    strata_status (*commit)(void *self, const strata_change *change);

    /**
     * Passes every history row of memory `id` to `fn`, oldest first; an id
     * with no history is STRATA_OK with no call. May be NULL (no history kept).
     */
    strata_status (*history)(void *self, const char *id, strata_history_fn fn, void *context);

    /**
     * The STRATA_STORE_* bits this instance supports. May be NULL: the host
     * then assumes keyword search when keyword_search is non-NULL and history
     * when both commit and history are non-NULL.
     */
    uint32_t (*capabilities)(void *self);

    /*
     * Appended in ABI 1.2: named snapshots. A plugin built against ABI 1.1
     * (whose vtable ends at `capabilities`) still loads; the host then treats
     * these as NULL and answers STRATA_ERR_UNSUPPORTED for snapshots.
     *
     * A snapshot name is 1 to 64 bytes of A-Z a-z 0-9 '.' '_' '-'; any other
     * name is STRATA_ERR_INVALID_ARGUMENT naming it. The host checks names
     * before calling, and a store checks them again.
     *
     * Threads: as every function here (see `flags`). The host never calls
     * snapshot, rollback or delete_snapshot beside a writing function
     * (upsert, remove, commit) on the same instance; reads may run beside them.
     */

    /**
     * Saves a copy of every record (ids, JSON, vectors; not history) as
     * snapshot `name`, consistent with the commits that returned before the
     * call. A failed call leaves no snapshot behind.
     *
     * @param[in] self        the store.
     * @param[in] name        the snapshot's name, borrowed for the call.
     * @param[in] created_at  the creation time to record, ISO-8601 (the host's
     *                        clock), borrowed for the call.
     * @param[in] fn          receives the new snapshot's description once
     *                        (see strata_snapshot_fn); may be NULL.
     * @param[in] context     passed to fn.
     * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for a bad name;
     *         STRATA_ERR_CONFLICT when a snapshot `name` exists;
     *         STRATA_ERR_UNSUPPORTED when this instance keeps none (e.g. a
     *         temporary database); STRATA_ERR_IO.
     * May be NULL: no snapshots. Required when `capabilities` reports
     * STRATA_STORE_SNAPSHOTS.
     */
    strata_status (*snapshot)(void *self, const char *name, const char *created_at, strata_snapshot_fn fn,
                              void *context);

    /**
     * Passes the description of every snapshot to `fn`, in no particular
     * order (the host sorts them). No snapshot: STRATA_OK with no call.
     * @return STRATA_OK; STRATA_ERR_CORRUPT naming a damaged snapshot file;
     *         STRATA_ERR_IO.
     * May be NULL; required with STRATA_STORE_SNAPSHOTS.
     */
    strata_status (*snapshots)(void *self, strata_snapshot_fn fn, void *context);

    /**
     * Makes the records exactly those of snapshot `name` (same ids, same
     * JSON, vectors bit for bit) as one atomic change, visible to every
     * reader of the store afterwards. History is not rolled back: the store
     * appends one history row per record the rollback changes (ADD for one it
     * brings back, DELETE for one it removes, UPDATE for one it changes; "at"
     * is `at`, "reason" is "rollback to snapshot NAME"), in the same
     * transaction when it keeps history, and passes each row to `fn` in id
     * order. A rollback to the current state changes nothing and calls no fn.
     *
     * @param[in] name     the snapshot, borrowed for the call.
     * @param[in] at       the time of the rollback, ISO-8601, borrowed.
     * @param[in] fn       receives each history row (see strata_change), the
     *                     string borrowed for the callback; may be NULL.
     * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for a bad name;
     *         STRATA_ERR_NOT_FOUND naming an unknown snapshot;
     *         STRATA_ERR_CORRUPT naming a damaged or foreign snapshot file, in
     *         which case nothing changed; STRATA_ERR_IO.
     * May be NULL; required with STRATA_STORE_SNAPSHOTS.
     */
    strata_status (*rollback)(void *self, const char *name, const char *at, strata_history_fn fn, void *context);

    /**
     * Deletes snapshot `name`.
     * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT; STRATA_ERR_NOT_FOUND
     *         naming an unknown snapshot; STRATA_ERR_IO.
     * May be NULL even with STRATA_STORE_SNAPSHOTS: snapshots are then
     * deleted by hand (the host answers STRATA_ERR_UNSUPPORTED).
     */
    strata_status (*delete_snapshot)(void *self, const char *name);

    /*
     * Appended in ABI 1.4: damage reports and salvage. A plugin built against
     * ABI 1.3 or older (whose vtable ends at `delete_snapshot`) still loads;
     * the host then answers STRATA_ERR_UNSUPPORTED for `strata doctor` and
     * `strata salvage` on its stores.
     */

    /**
     * Reads the store that `config_json` describes (the options `create`
     * gets, "dimension" and "metric" included) without opening it for use and
     * without changing any of its files, even when they are damaged: for
     * `strata doctor` (fn NULL) and `strata salvage` (fn non-NULL).
     *
     * Each damaged part the store skips is described once to `finding_fn` as
     * a JSON object {"file", "location", "problem", "lost"?} (strings; the
     * string is borrowed for the callback). Then, when `record_fn` is
     * non-NULL, every memory the store can still read is passed to it once,
     * in its latest readable state (removed memories are not passed). A
     * callback returning non-zero stops the call, which then returns
     * STRATA_OK.
     *
     * @param[in] config_json  the store's options, borrowed for the call.
     * @param[in] record_fn    receives each readable record; may be NULL.
     * @param[in] finding_fn   receives each finding; may be NULL.
     * @param[in] context      passed to both callbacks.
     * @return STRATA_OK when the files could be read (with or without
     *         findings); STRATA_ERR_IO when they cannot be read at all (a
     *         missing file); STRATA_ERR_CORRUPT when nothing in them is
     *         recognisable as this store; STRATA_ERR_INVALID_CONFIG for bad
     *         options.
     * [thread-safe] May be called while no instance of the store is open, and
     * while one is: it takes no lock a writer holds.
     * May be NULL: no salvage.
     */
    strata_status (*salvage)(const char *config_json, strata_record_fn record_fn, strata_finding_fn finding_fn,
                             void *context);

    /*
     * Since ABI 1.5.
     */

    /**
     * `create` with the host table, so an instance can keep it and a plugin
     * needs no global. When non-NULL the host calls it instead of `create`,
     * which may then be NULL.
     */
    strata_status (*create_with_host)(const strata_host_api *host, const char *config_json, void **out_self);
} strata_vector_store_vtable;

/** sizeof an ABI 1.0 vector-store vtable: the smallest struct_size a host accepts. */
#define STRATA_VECTOR_STORE_VTABLE_SIZE_1_0 (offsetof(strata_vector_store_vtable, commit))
/** sizeof an ABI 1.1 vector-store vtable (no snapshots). */
#define STRATA_VECTOR_STORE_VTABLE_SIZE_1_1 (offsetof(strata_vector_store_vtable, snapshot))
/** sizeof an ABI 1.2 or 1.3 vector-store vtable (no salvage). */
#define STRATA_VECTOR_STORE_VTABLE_SIZE_1_3 (offsetof(strata_vector_store_vtable, salvage))
/** sizeof an ABI 1.4 vector-store vtable (no create_with_host). */
#define STRATA_VECTOR_STORE_VTABLE_SIZE_1_4 (offsetof(strata_vector_store_vtable, create_with_host))

#ifdef __cplusplus
}
#endif

#endif /* STRATA_VECTOR_STORE_H */
