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
} strata_vector_store_vtable;

#ifdef __cplusplus
}
#endif

#endif /* STRATA_VECTOR_STORE_H */
