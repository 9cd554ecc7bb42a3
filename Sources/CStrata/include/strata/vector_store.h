/*
 * strata/vector_store.h: the vector-store seam.
 *
 * A vector store keeps memory records (id, JSON, vector) and finds the
 * nearest records to a query vector. Records cross as strata_record; results
 * are handed to a host callback that copies what it needs before returning,
 * so no memory ever changes hands. plugin.h says how a plugin is found and
 * loaded, how the options reach create, and the rules every seam follows
 * (failures, ownership, callbacks, re-entrance, threads); docs/plugins.md
 * builds a complete store in C.
 *
 * The record JSON is an object with at least: "id", "content", "metadata"
 * (object), "scope", "parent_scope", "visibility", "tier", "category",
 * "importance", "created_at", "updated_at", "accessed_at", "access_count".
 * A store may index any of these; it must give the same JSON back byte for
 * byte from get, search and scan.
 *
 * What the host has checked before it calls a store: every id and JSON is
 * non-NULL, NUL-terminated UTF-8; a record's JSON is an object whose "id"
 * equals the record's id; every vector, stored or query, has the store's
 * dimension and only finite floats, with a squared norm of at most
 * FLT_MAX / 4 (so no score overflows); k >= 1; snapshot names are valid; a
 * batch or a change is never empty. What a store checks anyway, before it
 * changes anything, because it is the last line before bytes on disk and
 * `strata plugin check` calls it directly:
 *   - a NULL pointer it needs: STRATA_ERR_INVALID_ARGUMENT;
 *   - a record or query whose `dimension` is not the store's:
 *     STRATA_ERR_DIMENSION;
 *   - a NaN or an infinity in a record or query: STRATA_ERR_INVALID_VECTOR.
 *
 * Scores are higher for closer records, under the "metric" create received:
 * cosine similarity (0 when either vector is zero: an all-zero vector is a
 * valid record and query, never STRATA_ERR_INVALID_VECTOR), the dot product,
 * or minus the squared L2 distance. A store that does not offer a metric refuses it at
 * create with STRATA_ERR_INVALID_CONFIG and a message.
 *
 * Thread tags: [per instance] means one call at a time per instance unless the
 * vtable sets STRATA_INSTANCE_THREAD_SAFE (plugin.h, "Threads").
 */
#ifndef STRATA_VECTOR_STORE_H
#define STRATA_VECTOR_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * A memory record. Passed in by the host (upsert, commit) and out by the store
 * (the callbacks of get, search, scan, salvage). Every pointer is borrowed for
 * the call or callback only: copy what you keep.
 */
typedef struct strata_record {
    /**
     * sizeof(strata_record) as the writer knows it. Records the host passes may
     * be longer than the plugin's struct (index arrays with STRATA_RECORD_AT);
     * a record a store passes to a callback has sizeof(strata_record) here.
     */
    uint32_t struct_size;
    const char *id;         /**< UTF-8, NUL-terminated. */
    const char *json;       /**< The record as a JSON object, UTF-8, NUL-terminated; kept byte for byte. */
    const float *vector;    /**< `dimension` floats. */
    /**
     * Floats in `vector`. From the host always the store's dimension (a store
     * checks it anyway: STRATA_ERR_DIMENSION); to a callback, the store's
     * dimension, or the host fails the call with STRATA_ERR_BACKEND.
     */
    size_t dimension;
} strata_record;

/**
 * Record `i` of an array of records the host passes (upsert, commit's
 * upserts). Arrays of structs that begin with struct_size are strided by the
 * first element's struct_size, never by the plugin's sizeof: a newer host may
 * pass longer structs, whose fields the plugin does not know, and every
 * element of one array has the same struct_size. Write
 * `STRATA_RECORD_AT(records, i)->id`, never `records[i].id`. A host passes
 * longer records only to a plugin built against ABI 1.5 or newer (an older
 * plugin indexes by sizeof and keeps working), and never shorter ones than
 * the ABI the plugin declares: a struct_size below that is
 * STRATA_ERR_INVALID_ARGUMENT. Since ABI 1.5.
 */
#define STRATA_RECORD_AT(records, i) \
    ((const strata_record *)(const void *)((const char *)(records) + (size_t)(i) * (records)[0].struct_size))

/**
 * Receives one record (get, scan, salvage). `record` and everything it points
 * to are borrowed for the callback only. Called only during the call that
 * received it, on its thread. Return 0 to go on, non-zero to stop early: the
 * store then makes no further call of it and returns STRATA_OK.
 */
typedef int32_t (*strata_record_fn)(void *context, const strata_record *record);

/**
 * Receives one search hit, best first; `score` is higher for closer records
 * (cosine and dot: the similarity; l2: minus the squared distance). `record`
 * is borrowed for the callback only. Return 0 to go on, non-zero to stop: the
 * store then makes no further call of it and returns STRATA_OK.
 */
typedef int32_t (*strata_hit_fn)(void *context, const strata_record *record, float score);

/**
 * Receives one history row as JSON (see strata_change), borrowed for the
 * callback only. Return 0 to go on, non-zero to stop: the store then makes no
 * further call of it and returns STRATA_OK.
 */
typedef int32_t (*strata_history_fn)(void *context, const char *json);

/**
 * One atomic change: records to insert or replace, ids to remove, and history
 * rows to append. A store that keeps history writes all three in one
 * transaction, so after a crash either the whole change is there or none of
 * it. Since ABI 1.1.
 *
 * Order inside one change: the upserts apply first (in array order: of two
 * records with one id, the later wins), then the removals, so an id both
 * upserted and removed ends absent; then the history rows are appended in
 * array order.
 *
 * A history row is a JSON object {"event": "ADD"|"UPDATE"|"DELETE",
 * "memory_id", "at" (ISO-8601), "old" (record or null), "new" (record or
 * null), "reason"}; the store gives it back verbatim, in the order appended.
 * Rows outlive their memory: removing a record keeps its history.
 *
 * When a count is 0, do not read its array (it may be NULL or not).
 */
typedef struct strata_change {
    uint32_t struct_size;              /**< sizeof(strata_change) as the host knows it. */
    const strata_record *upserts;      /**< `upsert_count` records, strided: read them with STRATA_RECORD_AT. */
    size_t upsert_count;
    const char *const *removals;       /**< `removal_count` ids; unknown ids are skipped. */
    size_t removal_count;
    const char *const *history;        /**< `history_count` JSON rows; 0 unless the store reports STRATA_STORE_HISTORY. */
    size_t history_count;
    /**
     * The "memory_id" of each history row, `history_count` ids in the order of
     * `history`, so a store need not parse the JSON to index rows by memory.
     * A host never loads a plugin built for a newer minor than its own, so a
     * plugin that declares ABI 1.5 or newer always receives it. Code compiled
     * against these headers that declares an older abi_version (flat_store.c's
     * 1.0 build) reads it only when STRATA_CHANGE_HAS_HISTORY_IDS says the
     * struct covers it, and otherwise reads "memory_id" from each row's JSON.
     * Since ABI 1.5.
     */
    const char *const *history_ids;
} strata_change;

/** Whether `change` (a const strata_change *) carries history_ids. Since ABI 1.5. */
#define STRATA_CHANGE_HAS_HISTORY_IDS(change) \
    ((change)->struct_size >= offsetof(strata_change, history_ids) + sizeof(const char *const *))

/**
 * Capability bits a store reports through `capabilities`. Since ABI 1.1.
 * A bit the host does not know is a fault `strata plugin check` reports.
 */
enum {
    /** keyword_search is implemented for this instance. */
    STRATA_STORE_KEYWORD_SEARCH = 1u << 0,
    /** commit persists history rows and history() reads them back; both must be non-NULL. */
    STRATA_STORE_HISTORY = 1u << 1,
    /** snapshot, snapshots and rollback are implemented for this instance. Since ABI 1.2. */
    STRATA_STORE_SNAPSHOTS = 1u << 2,
    /**
     * Records survive the instance: after destroy, a create with the same
     * options sees every record committed before (same JSON; vectors bit for
     * bit, or for cosine in the same direction) and every history row. A store
     * kept in memory, or in a temporary file, does not set it. Since ABI 1.5.
     */
    STRATA_STORE_PERSISTENT = 1u << 3
};

/**
 * Receives the description of one snapshot as a JSON object {"name",
 * "created_at" (ISO-8601), "memories" (records it holds), "bytes" (its size on
 * disk, or null when it is kept in memory)}. The string is borrowed for the
 * callback only. Return 0 to go on, non-zero to stop. Since ABI 1.2.
 */
typedef int32_t (*strata_snapshot_fn)(void *context, const char *json);

/**
 * Receives one damaged part of a store found by `salvage`, as a JSON object
 * {"file", "location", "problem", "lost"?}, borrowed for the call. Return 0 to
 * go on, non-zero to stop. Since ABI 1.4.
 */
typedef int32_t (*strata_finding_fn)(void *context, const char *json);

/**
 * Receives a store's index report (see `index_report`) as a JSON object,
 * borrowed for the callback only. Its return value is ignored: there is one
 * report. Since ABI 1.8.
 */
typedef int32_t (*strata_index_report_fn)(void *context, const char *json);

/** A vector search. Borrowed, with everything it points to, for the call. */
typedef struct strata_search_request {
    uint32_t struct_size;         /**< sizeof(strata_search_request) as the host knows it. */
    const float *query;           /**< `dimension` floats, finite (a store checks: STRATA_ERR_INVALID_VECTOR). */
    size_t dimension;             /**< The store's dimension (a store checks: STRATA_ERR_DIMENSION). */
    size_t k;                     /**< At most this many hits. The host passes k >= 1; 0 is STRATA_OK with no hit. */
    const strata_filter *filter;  /**< NULL: every record. Otherwise only matching records (host->filter_matches). */
} strata_search_request;

/**
 * The functions of a vector store. `self` is what create returned.
 * Unless the vtable sets STRATA_INSTANCE_THREAD_SAFE, the host calls one
 * function at a time per instance. On failure a function returns a negative
 * status after calling host->fail() with a message (plugin.h, "Failures").
 * Required: create or create_with_host, destroy, upsert, remove, get, search,
 * scan, count; the host refuses a vtable that leaves one of them NULL.
 */
typedef struct strata_vector_store_vtable {
    uint32_t struct_size;   /**< sizeof(strata_vector_store_vtable) of the ABI the plugin was built for. */
    uint32_t flags;         /**< STRATA_INSTANCE_THREAD_SAFE or 0. */

    /**
     * Makes a store.
     *
     * @param[in]  config_json  a JSON object with "dimension" (an integer >= 1)
     *                          and "metric" ("cosine", "dot" or "l2"), set by
     *                          the host, beside the backend's own options
     *                          (plugin.h, "Options"); borrowed for the call.
     * @param[out] out_self     receives the new instance. Not read on failure:
     *                          free what you made before failing.
     * @return STRATA_OK; STRATA_ERR_INVALID_CONFIG for an unknown key (named),
     *         a bad value (named), or a metric this store does not offer;
     *         STRATA_ERR_INVALID_ARGUMENT for a NULL argument; STRATA_ERR_IO
     *         when a file cannot be opened or made; STRATA_ERR_CORRUPT naming
     *         a damaged file; STRATA_ERR_BACKEND (e.g. out of memory).
     * [thread-safe] May run at the same time for different instances. Not
     * called when create_with_host is non-NULL.
     */
    strata_status (*create)(const char *config_json, void **out_self);

    /**
     * Frees the store and everything it holds. Called once per instance, with
     * no other call on it during or after. Cannot fail; calls no callback.
     */
    void (*destroy)(void *self);

    /**
     * Inserts or replaces records by id, all or none: when any record is bad
     * nothing of the batch is stored and no existing record changes. Of two
     * records with one id in the batch, the later wins. Replacing keeps the
     * count.
     *
     * @param[in] records  `count` records, strided: read record i with
     *                     STRATA_RECORD_AT(records, i). Borrowed: copy the id,
     *                     JSON and vector.
     * @param[in] count    records in the batch; 0 is STRATA_OK (the host
     *                     never passes 0).
     * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for NULL records or a
     *         NULL id, json or vector; STRATA_ERR_DIMENSION naming the record
     *         and both dimensions; STRATA_ERR_INVALID_VECTOR naming the record
     *         and the position of a NaN or infinity; STRATA_ERR_IO;
     *         STRATA_ERR_BACKEND (e.g. out of memory).
     * [per instance] A writer.
     */
    strata_status (*upsert)(void *self, const strata_record *records, size_t count);

    /**
     * Removes records by id. An unknown id is skipped, and so is an id listed
     * again after it was removed.
     *
     * @param[in]  ids          `count` ids, borrowed.
     * @param[in]  count        ids to remove; 0 is STRATA_OK with 0 removed
     *                          (the host never passes 0).
     * @param[out] out_removed  receives how many of the ids named a record that
     *                          existed (and is now gone).
     * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for NULL ids, a NULL id
     *         or a NULL out_removed (checked before removing anything);
     *         STRATA_ERR_IO; STRATA_ERR_BACKEND.
     * [per instance] A writer.
     */
    strata_status (*remove)(void *self, const char *const *ids, size_t count, size_t *out_removed);

    /**
     * Finds one record by id and passes it to `fn`, once.
     *
     * @param[in] id       the id, borrowed.
     * @param[in] fn       receives the record (borrowed for the callback).
     * @param[in] context  passed to fn.
     * @return STRATA_OK after calling fn; STRATA_ERR_NOT_FOUND with a message
     *         naming the id when no record has it, without calling fn;
     *         STRATA_ERR_INVALID_ARGUMENT for a NULL id or fn; STRATA_ERR_IO;
     *         STRATA_ERR_CORRUPT naming a damaged record.
     * [per instance] A reader.
     */
    strata_status (*get)(void *self, const char *id, strata_record_fn fn, void *context);

    /**
     * Nearest neighbours of the query, exact or approximate, passed to `fn`
     * best first (scores non-increasing), no record twice, only records the
     * filter matches. The number of hits is exactly min(k, records the filter
     * matches), each with its score under the metric (see the top of this
     * file). Records with equal scores may come in any order, and when several
     * tie for the last place any of them may be the one returned.
     *
     * @param[in] request  the query, k and filter (strata_search_request).
     * @param[in] fn       receives each hit; non-zero stops the search.
     * @param[in] context  passed to fn.
     * Arguments are checked first: k = 0 with valid arguments is STRATA_OK
     * with no call of fn.
     * @return STRATA_OK (also for k = 0, with no call of fn);
     *         STRATA_ERR_INVALID_ARGUMENT for a NULL request, query or fn;
     *         STRATA_ERR_DIMENSION naming both dimensions;
     *         STRATA_ERR_INVALID_VECTOR naming the position of a NaN or
     *         infinity; the negative status filter_matches returned;
     *         STRATA_ERR_IO; STRATA_ERR_BACKEND.
     * [per instance] A reader.
     */
    strata_status (*search)(void *self, const strata_search_request *request, strata_hit_fn fn, void *context);

    /**
     * Keyword (BM25) search over "content", best first, with the BM25 score;
     * at most k hits, only records the filter matches (NULL: all).
     * May be NULL: the host then keeps its own keyword index.
     *
     * @param[in] query   the words, UTF-8, borrowed.
     * @param[in] k       at most this many hits; the host passes k >= 1, 0 is
     *                    STRATA_OK with no call of fn.
     * @param[in] filter  NULL or the filter (host->filter_matches).
     * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for a NULL query or fn;
     *         STRATA_ERR_IO; STRATA_ERR_BACKEND.
     * [per instance] A reader.
     */
    strata_status (*keyword_search)(void *self, const char *query, size_t k, const strata_filter *filter,
                                    strata_hit_fn fn, void *context);

    /**
     * Visits every record matching `filter` (NULL: all) once, in no particular
     * order; non-zero from fn stops the scan (STRATA_OK).
     * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for a NULL fn; the
     *         negative status filter_matches returned; STRATA_ERR_IO;
     *         STRATA_ERR_CORRUPT.
     * [per instance] A reader.
     */
    strata_status (*scan)(void *self, const strata_filter *filter, strata_record_fn fn, void *context);

    /**
     * Number of records (distinct ids).
     * @param[out] out_count  receives it.
     * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for a NULL out_count;
     *         STRATA_ERR_IO.
     * [per instance] A reader.
     */
    strata_status (*count)(void *self, uint64_t *out_count);

    /*
     * Since ABI 1.1. The host reads only what struct_size covers, so a plugin
     * built against ABI 1.0 (whose vtable ends at `count`) still loads; the
     * functions below are then treated as NULL.
     */

    /**
     * Applies a change atomically (see strata_change for what it holds and in
     * which order it applies): all or none, so a change with a bad record
     * changes nothing (no upsert, no removal, no history row).
     * May be NULL: the host then calls upsert and remove (two steps, not one
     * transaction), and keeps history itself in memory. Required when
     * `capabilities` reports STRATA_STORE_HISTORY.
     *
     * @param[in] change  the change, borrowed with everything it points to.
     * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for a NULL change, a NULL
     *         array with a non-zero count or a NULL entry;
     *         STRATA_ERR_DIMENSION and STRATA_ERR_INVALID_VECTOR as for upsert;
     *         STRATA_ERR_IO; STRATA_ERR_BACKEND.
     * [per instance] A writer. Since ABI 1.1.
     */
    strata_status (*commit)(void *self, const strata_change *change);

    /**
     * Passes every history row of memory `id` to `fn`, oldest first (the order
     * commits appended them), verbatim, and only that memory's rows; an id
     * with no history is STRATA_OK with no call. May be NULL (no history
     * kept); required with STRATA_STORE_HISTORY.
     * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for a NULL id or fn;
     *         STRATA_ERR_IO; STRATA_ERR_CORRUPT.
     * [per instance] A reader. Since ABI 1.1.
     */
    strata_status (*history)(void *self, const char *id, strata_history_fn fn, void *context);

    /**
     * The STRATA_STORE_* bits this instance supports; only bits defined above.
     * The host asks once, right after create, and trusts the answer for the
     * life of the instance. May be NULL: the host then assumes keyword search
     * when keyword_search is non-NULL, history when both commit and history
     * are non-NULL, snapshots when snapshot, snapshots and rollback are all
     * non-NULL, and never STRATA_STORE_PERSISTENT.
     * [per instance] Never fails. Since ABI 1.1.
     */
    uint32_t (*capabilities)(void *self);

    /*
     * Named snapshots. Since ABI 1.2. A plugin built against ABI 1.1 (whose
     * vtable ends at `capabilities`) still loads; the host then treats these
     * as NULL and answers STRATA_ERR_UNSUPPORTED for snapshots.
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
     * [per instance] Since ABI 1.2.
     */
    strata_status (*snapshot)(void *self, const char *name, const char *created_at, strata_snapshot_fn fn,
                              void *context);

    /**
     * Passes the description of every snapshot to `fn`, in no particular
     * order (the host sorts them). No snapshot: STRATA_OK with no call.
     * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for a NULL fn;
     *         STRATA_ERR_CORRUPT naming a damaged snapshot file; STRATA_ERR_IO.
     * May be NULL; required with STRATA_STORE_SNAPSHOTS.
     * [per instance] A reader. Since ABI 1.2.
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
     * [per instance] A writer. Since ABI 1.2.
     */
    strata_status (*rollback)(void *self, const char *name, const char *at, strata_history_fn fn, void *context);

    /**
     * Deletes snapshot `name`.
     * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT; STRATA_ERR_NOT_FOUND
     *         naming an unknown snapshot; STRATA_ERR_IO.
     * May be NULL even with STRATA_STORE_SNAPSHOTS: snapshots are then
     * deleted by hand (the host answers STRATA_ERR_UNSUPPORTED).
     * [per instance] Since ABI 1.2.
     */
    strata_status (*delete_snapshot)(void *self, const char *name);

    /*
     * Damage reports and salvage. Since ABI 1.4. A plugin built against ABI
     * 1.3 or older (whose vtable ends at `delete_snapshot`) still loads; the
     * host then answers STRATA_ERR_UNSUPPORTED for `strata doctor` and
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
     * while one is: it takes no lock a writer holds. It has no `self` and no
     * host argument: a plugin built for ABI 1.5 that keeps its host table only
     * in its instances cannot call host->fail here unless it also keeps the
     * table it got in strata_plugin_entry.
     * May be NULL: no salvage. Since ABI 1.4.
     */
    strata_status (*salvage)(const char *config_json, strata_record_fn record_fn, strata_finding_fn finding_fn,
                             void *context);

    /*
     * Since ABI 1.5.
     */

    /**
     * `create` with the host table, so an instance can keep it and a plugin
     * needs no global. When non-NULL the host calls it instead of `create`,
     * which may then be NULL (a source that also builds for an older ABI,
     * whose vtable ends before this member, fills `create` too).
     *
     * @param[in]  host         the host table, the one strata_plugin_entry
     *                          received; valid until the process exits.
     * @param[in]  config_json  as for create.
     * @param[out] out_self     as for create.
     * @return as create.
     * [thread-safe] May run at the same time for different instances.
     * Since ABI 1.5.
     */
    strata_status (*create_with_host)(const strata_host_api *host, const char *config_json, void **out_self);

    /*
     * Since ABI 1.8. A plugin built against ABI 1.5 to 1.7 (whose vtable ends
     * at `create_with_host`) still loads; the host then treats index_report as
     * NULL, and the stats of its stores have no index section.
     */

    /**
     * Describes the store's vector index and the memory it holds in this
     * process (not its files on disk), for `strata stats`: passes one JSON
     * object to `fn`, at most once, before returning:
     *
     *   {"kind": "exact"|"hnsw", "rows": memories indexed,
     *    "m", "ef_construction", "ef_search": integers, all three for "hnsw"
     *      and none for "exact",
     *    "compression": "none"|"fp16"|"int8" (what a graph's walks read),
     *    "mapped": true when searches are answered from an index mapped from
     *      disk without loading the rows, false when the rows are loaded
     *      (leave it out when the store never maps one),
     *    "bytes": {"vectors": the float rows, norms included,
     *              "codes": the compressed copies of the rows (0 without),
     *              "graph": links and the rest of a graph (0 without),
     *              "total": the sum of the three}}
     *
     * Counts are integers >= 0. The host refuses (STRATA_ERR_BACKEND, naming
     * the key) an unknown key, a missing one, a wrong type, or a total that is
     * not the sum; `strata plugin check` checks the same.
     *
     * @param[in] fn       receives the report, the string borrowed for the
     *                     callback; its return value is ignored.
     * @param[in] context  passed to fn.
     * @return STRATA_OK after calling fn once, or without calling it when the
     *         store has nothing to report (the stats then have no index
     *         section); STRATA_ERR_INVALID_ARGUMENT for a NULL fn;
     *         STRATA_ERR_IO.
     * May be NULL: no report.
     * [per instance] A reader. Since ABI 1.8.
     */
    strata_status (*index_report)(void *self, strata_index_report_fn fn, void *context);

    /*
     * Since ABI 1.9. A plugin built against ABI 1.8 or before (whose vtable
     * ends at `index_report`) still loads; the host then treats history_tail
     * as NULL.
     */

    /**
     * The newest rows of one memory's history, without reading the others:
     * passes the last `limit` rows that `history` would pass for `id` (all of
     * them when there are fewer), oldest first, verbatim, and sets
     * `*out_total` to how many rows `history` would pass. The engine reads its
     * lifecycle ledger, one row per cycle for the life of the store, this way.
     *
     * @param[in]  id         as for history.
     * @param[in]  limit      the most rows passed; 0 passes none (the count
     *                        only).
     * @param[in]  fn         receives each row, as for history.
     * @param[in]  context    passed to fn.
     * @param[out] out_total  the memory's row count (0 for an id with no
     *                        history), set on STRATA_OK.
     * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for a NULL id, fn or
     *         out_total; STRATA_ERR_IO; STRATA_ERR_CORRUPT.
     * May be NULL: the host then calls history and keeps the tail (every row
     * read). Only with STRATA_STORE_HISTORY.
     * [per instance] A reader. Since ABI 1.9.
     */
    strata_status (*history_tail)(void *self, const char *id, size_t limit, strata_history_fn fn, void *context,
                                  size_t *out_total);
} strata_vector_store_vtable;

/** sizeof an ABI 1.0 vector-store vtable: the smallest struct_size a host accepts. */
#define STRATA_VECTOR_STORE_VTABLE_SIZE_1_0 (offsetof(strata_vector_store_vtable, commit))
/** sizeof an ABI 1.1 vector-store vtable (no snapshots). */
#define STRATA_VECTOR_STORE_VTABLE_SIZE_1_1 (offsetof(strata_vector_store_vtable, snapshot))
/** sizeof an ABI 1.2 or 1.3 vector-store vtable (no salvage). */
#define STRATA_VECTOR_STORE_VTABLE_SIZE_1_3 (offsetof(strata_vector_store_vtable, salvage))
/** sizeof an ABI 1.4 vector-store vtable (no create_with_host). */
#define STRATA_VECTOR_STORE_VTABLE_SIZE_1_4 (offsetof(strata_vector_store_vtable, create_with_host))
/** sizeof an ABI 1.5, 1.6 or 1.7 vector-store vtable (no index_report). Since ABI 1.8. */
#define STRATA_VECTOR_STORE_VTABLE_SIZE_1_7 (offsetof(strata_vector_store_vtable, index_report))
/** sizeof an ABI 1.8 vector-store vtable (no history_tail). Since ABI 1.9. */
#define STRATA_VECTOR_STORE_VTABLE_SIZE_1_8 (offsetof(strata_vector_store_vtable, history_tail))

#ifdef __cplusplus
}
#endif

#endif /* STRATA_VECTOR_STORE_H */
