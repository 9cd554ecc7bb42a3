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
} strata_change;

/** Capability bits a store reports through `capabilities` (since ABI 1.1). */
enum {
    /** keyword_search is implemented for this instance. */
    STRATA_STORE_KEYWORD_SEARCH = 1u << 0,
    /** commit persists history rows and history() reads them back. */
    STRATA_STORE_HISTORY = 1u << 1
};

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
} strata_vector_store_vtable;

/** sizeof an ABI 1.0 vector-store vtable: the smallest struct_size a host accepts. */
#define STRATA_VECTOR_STORE_VTABLE_SIZE_1_0 (offsetof(strata_vector_store_vtable, commit))

#ifdef __cplusplus
}
#endif

#endif /* STRATA_VECTOR_STORE_H */
