/*
 * strata/engine.h: the engine handle and the memory verbs.
 *
 * Requests and answers cross as UTF-8 JSON documents; vectors cross as
 * const float * with an explicit dimension. Every verb returns a strata_status
 * and, on success, writes a NUL-terminated JSON answer to *out_json that the
 * caller frees with strata_string_free(). On failure *out_json is set to NULL
 * and strata_error_last() names the culprit; nothing stored before the call is
 * lost or changed.
 *
 * Conventions:
 *   - A constructor's out-parameter comes first (strata_engine_open); a verb
 *     takes its handle first and its out-parameter last.
 *   - Inputs are borrowed for the duration of the call only.
 *   - Unknown keys in a request are an error (STRATA_ERR_INVALID_JSON) naming
 *     the key, so a typo never silently changes behaviour.
 *   - Times are ISO-8601 UTC strings with milliseconds, "2026-11-22T03:59:00.000Z".
 *
 * Threads: a strata_engine is [thread-safe]: any number of threads may call
 * any verb on the same handle at once. Writes queue behind one another;
 * recall never waits for a write (the access counts it records then land
 * when that write finishes), and a lifecycle cycle plans, summarizer calls
 * included, without holding up any verb. strata_engine_close must not race
 * with other calls on the same handle.
 *
 * The memory object, as answered by get / recall / history:
 *   {"id": "m-...", "content": "...", "metadata": {...}, "scope": "org/planner",
 *    "visibility": "local" | "shared" | "global", "tier": "working",
 *    "category": "general", "importance": 0.5, "pinned": false,
 *    "created_at": "...", "updated_at": "...", "accessed_at": "...",
 *    "access_count": 0, "model": "hashing-v1-256", "expires_at": null}
 */
#ifndef STRATA_ENGINE_H
#define STRATA_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An open engine: the composed stack of store, embedder and summarizer. Opaque. */
typedef struct strata_engine strata_engine;

/**
 * Opens an engine from a JSON configuration.
 *
 * @param[out] out          receives the new engine; set to NULL on failure.
 *                          Close it with strata_engine_close().
 * @param[in]  config_json  the configuration document (see docs in README,
 *                          examples/configs/embedded-default.json); NULL or ""
 *                          opens the embedded default: in-memory store, hashing
 *                          embedder, extractive summarizer, no files, no network;
 *                          the same on every machine, with or without the minilm
 *                          model installed (name {"embedder": {"backend": "minilm",
 *                          "plugin": "minilm"}} for it: README, "The default embedder").
 * @return STRATA_OK; STRATA_ERR_INVALID_JSON for malformed JSON;
 *         STRATA_ERR_INVALID_CONFIG for an unknown key or bad value (the message
 *         names the key path); STRATA_ERR_PLUGIN / STRATA_ERR_ABI_MISMATCH when a
 *         configured plugin cannot be loaded (the message names the file, both
 *         versions and the folders searched); STRATA_ERR_INVALID_ARGUMENT if out is NULL.
 * [thread-safe]
 */
strata_status strata_engine_open(strata_engine **out, const char *config_json);

/**
 * Opens an engine from a configuration file: the document strata_engine_open
 * takes, read from `config_path`. A relative "path" option of a backend
 * (store.options.path, tiers[i].store.options.path, embedder.options.path,
 * summarizer.options.path) names a file beside the configuration file, not in
 * the working directory, so a store folder holding strata.json with
 * {"store": {"backend": "sqlite", "plugin": "sqlite", "options": {"path": "strata.db"}}}
 * opens FOLDER/strata.db from anywhere (the CLI's `strata --dir FOLDER` does the same).
 * An empty file is the embedded default. As for the CLI's store folders, the
 * file and its folder must belong to the user (or root) and be writable by no
 * one else, and the file's "plugin_dirs" and plugin paths count only where they
 * are trusted folders already (README, "Trust"): a file is not a program's
 * choice the way configuration text is. Since ABI 1.7.
 *
 * @param[out] out          receives the new engine; set to NULL on failure.
 *                          Close it with strata_engine_close().
 * @param[in]  config_path  the file's path, UTF-8, NUL-terminated, borrowed.
 * @return STRATA_OK; STRATA_ERR_IO naming the file when it cannot be read;
 *         STRATA_ERR_INVALID_CONFIG naming the file or folder that another user
 *         owns or others can write;
 *         STRATA_ERR_INVALID_UTF8 / STRATA_ERR_INVALID_JSON / STRATA_ERR_INVALID_CONFIG
 *         naming the file (and the key path); STRATA_ERR_PLUGIN /
 *         STRATA_ERR_ABI_MISMATCH as for strata_engine_open;
 *         STRATA_ERR_INVALID_ARGUMENT if out or config_path is NULL, or config_path is "".
 * [thread-safe]
 */
strata_status strata_engine_open_file(strata_engine **out, const char *config_path);

/**
 * Closes an engine and releases everything it holds. NULL is a no-op.
 * No other call may be running or made on the handle afterwards.
 * [one thread at a time] for a given handle.
 */
void strata_engine_close(strata_engine *engine);

/**
 * Stores one memory or a batch.
 *
 * Request, one memory:
 *   {"content": "text", "id": "doc-42"?, "metadata": {...}?, "scope": "org/planner"?,
 *    "visibility": "local"|"shared"|"global"?, "category": "general"?,
 *    "importance": 0.0..1.0?, "pinned": false?, "at": "ISO-8601"?, "ttl_seconds": N?}
 * or a batch, stored atomically: {"items": [ <one memory>, ... ], "dedupe": bool?}.
 * "dedupe" (since ABI 1.7): false stores the batch without comparing its items
 * with near neighbours, whatever the configuration's dedupe.enabled says (a
 * bulk import of texts known to differ); true compares even where the
 * configuration turns it off; default the configuration.
 * Answer: {"id": "m-..."} or {"ids": ["m-...", ...]} in request order, plus
 * {"deduplicated": [ids]} listing stored items that updated a near-identical
 * memory in the same scope instead of adding a copy (their id is the existing one).
 *
 * "id" (since ABI 1.7) is the caller's id for the memory: 1 to 256 bytes of
 * UTF-8, no control character, not starting with "strata:". An item with an id
 * is never de-duplicated. A new id adds the memory under it; the id of a memory
 * that exists replaces that memory (an upsert): content, metadata, scope and
 * vector come from the item, the optional fields it leaves out keep their
 * values, and the creation time, access count and history stay; the memory
 * gets an UPDATE history row and a "memory.updated" event. The same id twice in
 * a batch: the later item wins.
 *
 * @param[in]  engine        the engine.
 * @param[in]  request_json  the request.
 * @param[out] out_json      the answer; free with strata_string_free().
 * @return STRATA_OK, STRATA_ERR_INVALID_JSON, STRATA_ERR_INVALID_UTF8,
 *         STRATA_ERR_INVALID_ARGUMENT (e.g. importance outside 0..1, a bad id,
 *         named), STRATA_ERR_BACKEND.
 * [thread-safe]
 */
strata_status strata_engine_store(strata_engine *engine, const char *request_json, char **out_json);

/**
 * Recalls the memories most relevant to a query: hybrid vector + keyword
 * (BM25) search fused as the configuration's recall.fusion says for the
 * embedder, then weighted by recency, importance and access count. Every
 * hit reports each part of its score.
 *
 * Request: {"query": "text"?, "k": 10?, "filter": {...}?, "scope": "org/planner"?,
 *           "tiers": ["working", ...]?, "category": "name"?, "track_access": bool?}
 *   query: an empty or missing query (since ABI 1.7; before, STRATA_ERR_INVALID_JSON)
 *     answers the memories in view ranked by recency, importance and access
 *     alone: "vector" and "keyword" are null and "fused" 0 in every hit. It
 *     scans every memory in view.
 *   track_access (since ABI 1.7): whether the recall counts as an access of its
 *     hits; default the configuration's recall.track_access (true). false is a
 *     read-only recall: the next recall scores the same.
 *   filter: a metadata filter: {"path.to.key": value} for equality, or
 *     {"key": {"$eq"|"$ne"|"$gt"|"$gte"|"$lt"|"$lte": v}}, {"$in"|"$nin": [v...]},
 *     {"$exists": true|false}, {"$contains": v} (array element or substring),
 *     combined with {"$and": [...]}, {"$or": [...]}, {"$not": {...}}.
 *   scope: recall as this node of the agent tree: it sees its own memories,
 *     SHARED memories of its parent and children, and GLOBAL memories.
 *     Without scope, every memory is visible.
 * Answer: {"hits": [{"id", "content", "metadata", "scope", "tier", "category",
 *          "score", "scores": {"vector", "keyword", "fused", "recency",
 *          "importance", "access"}}]} best first. Unless track_access is
 *          false, recall bumps each hit's access count and last-accessed time.
 * @return STRATA_OK, STRATA_ERR_INVALID_JSON, STRATA_ERR_INVALID_FILTER, STRATA_ERR_BACKEND.
 * [thread-safe]
 */
strata_status strata_engine_recall(strata_engine *engine, const char *request_json, char **out_json);

/**
 * Reads one memory. Request: {"id": "m-..."}. Answer: the memory object.
 * @return STRATA_OK, STRATA_ERR_NOT_FOUND (the message names the id), STRATA_ERR_INVALID_JSON.
 * [thread-safe]
 */
strata_status strata_engine_get(strata_engine *engine, const char *request_json, char **out_json);

/**
 * Lists the memories a request can see, oldest first (creation time, then id),
 * a page at a time. Nothing is counted as an access. What is in view is what
 * strata_engine_recall with the same filter, scope, tiers and category can
 * find: unexpired memories, the scope's view of the agent tree.
 * Since ABI 1.7.
 *
 * Request: {"filter": {...}?, "scope": "org/planner"?, "tiers": ["working", ...]?,
 *           "category": "name"?, "ids": ["m-...", ...]?, "limit": N?, "offset": N?}
 *   (NULL means {}). filter, scope, tiers, category: as for strata_engine_recall.
 *   ids: only these memories; ids that are not there are left out.
 *   limit: at most N memories (0 answers none: only the total); default all.
 *   offset: skip the first N.
 * Answer: {"memories": [memory, ...], "total": N}; "total" counts every memory
 *         that matches, whatever limit and offset.
 *
 * @param[in]  engine        the engine.
 * @param[in]  request_json  the request, or NULL.
 * @param[out] out_json      the answer; free with strata_string_free().
 * @return STRATA_OK; STRATA_ERR_INVALID_JSON (malformed, an unknown key named);
 *         STRATA_ERR_INVALID_FILTER; STRATA_ERR_INVALID_ARGUMENT (a negative
 *         limit or offset, a bad scope, an unknown tier, each named);
 *         STRATA_ERR_BACKEND.
 * Complexity: one scan of the store with the filter pushed down, then a sort
 * of the matches.
 * [thread-safe]
 */
strata_status strata_engine_list(strata_engine *engine, const char *request_json, char **out_json);

/**
 * Changes one memory. Request: {"id": "m-...", "content": "text"?, "metadata": {...}?,
 * "category"?, "importance"?, "pinned"?, "visibility"?}. A new content is re-embedded.
 * metadata replaces the whole metadata object. Answer: the updated memory object.
 * @return STRATA_OK, STRATA_ERR_NOT_FOUND, STRATA_ERR_INVALID_JSON, STRATA_ERR_BACKEND.
 * [thread-safe]
 */
strata_status strata_engine_update(strata_engine *engine, const char *request_json, char **out_json);

/**
 * Forgets memories. Request: {"id": "m-..."} or {"filter": {...}, "scope"?,
 * "all"?}. With "scope", only the memories that node owns (stored at it) are
 * forgotten, never another node's GLOBAL or SHARED memories it can see. A
 * filter with no condition ({} or {"$or": [{}]}) forgets every memory in view
 * only with "all": true, and is STRATA_ERR_INVALID_ARGUMENT otherwise.
 * Answer: {"forgotten": ["m-...", ...]}. Forgetting by id an unknown id is
 * STRATA_ERR_NOT_FOUND; a filter matching nothing answers an empty list.
 * History keeps a DELETE row with the old value.
 * [thread-safe]
 */
strata_status strata_engine_forget(strata_engine *engine, const char *request_json, char **out_json);

/**
 * Every change made to one memory, oldest first. Request: {"id": "m-..."}.
 * Answer: {"history": [{"event": "ADD"|"UPDATE"|"DELETE", "memory_id", "at",
 *          "old": memory|null, "new": memory|null, "reason": "..."}]}.
 * An id never seen is STRATA_ERR_NOT_FOUND; a forgotten id still has its history.
 * [thread-safe]
 */
strata_status strata_engine_history(strata_engine *engine, const char *request_json, char **out_json);

/**
 * Counts and configuration summary. Request: {} (NULL is accepted).
 * Answer: {"memories", "expired", "by_tier": {...}, "by_category": {...},
 *          "by_scope": {...}, "dimension", "store", "embedder", "summarizer",
 *          "operations": {...},
 *          "access": {"never", "last_day", "last_week", "mean_count", "max_count"},
 *          "patterns": memories in the patterns' category,
 *          "lifecycle": {"cycles", "last_cycle_at", "migrated": {"from->to": n},
 *                        "pruned": {"age", "relevance", "redundancy", "capacity"},
 *                        "consolidated", "consolidated_sources", "patterns_written",
 *                        "compressed", "bytes_before_compression",
 *                        "bytes_after_compression", "compression_ratio", "errors"},
 *          "space": {"embedder", "model_id", "dimension", "normalized"},
 *          "index": {"kind", "rows", "m"?, "ef_construction"?, "ef_search"?,
 *                    "compression", "mapped"?,
 *                    "bytes": {"vectors", "codes", "graph", "total"}} or null}.
 * The lifecycle totals cover every metabolize cycle the store has seen.
 * "space" is the embedding space the store's vectors are in: the one the
 * store records, else the configured embedder's ("normalized" null until
 * the first vectors are written). "index" (since ABI 1.8) is the store's
 * vector index and the bytes it holds in this process, the object a
 * store's index_report answers (vector_store.h); null when the store does
 * not report one (a plugin built for ABI 1.7 or older).
 * [thread-safe]
 */
strata_status strata_engine_stats(strata_engine *engine, const char *request_json, char **out_json);

/**
 * Runs one lifecycle cycle: memories migrate between the configured tiers
 * by age, access and capacity (compressed on the way as each tier says), are
 * pruned by age, TTL, category retention, relevance and redundancy, sessions
 * are consolidated into episodes by the summarizer, and patterns are
 * extracted. Every memory that moves or leaves gets a history row with the
 * reason; pinned memories are never moved or pruned.
 *
 * Request: {"now": "2026-03-01T12:00:00Z"?, "dry_run": false?, "moves": true?}
 * (NULL means {}): "now" is the time the rules are applied at (default: the
 * clock), "dry_run" reports without changing anything or calling the
 * summarizer, "moves": false leaves out the per-memory list.
 * Answer: {"at", "dry_run", "before", "after", "migrated": {"from->to": n},
 *          "pruned": {"age", "relevance", "redundancy", "capacity"},
 *          "consolidated", "consolidated_sources", "patterns", "compressed",
 *          "bytes_before_compression", "bytes_after_compression",
 *          "pinned_kept", "duration_ms", "errors": ["..."],
 *          "moves": [{"id", "action": "migrate"|"prune"|"merge"|"consolidate"|
 *                     "archive"|"create"|"update", "from", "to", "reason"}]}.
 * A summarizer or embedder failure is not an error of the call: the memories
 * concerned stay as they were, "errors" says what failed, the rest is
 * committed. Writers wait while a cycle runs; readers do not.
 * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for a bad "now";
 *         STRATA_ERR_INVALID_JSON for an unknown key; a store error as the
 *         store reports it (nothing is then changed).
 * [thread-safe]
 */
strata_status strata_engine_metabolize(strata_engine *engine, const char *request_json, char **out_json);

/**
 * Saves every memory (content, metadata, vector, access count; not history) as
 * a named snapshot in the store: in memory for the in-memory store (gone when
 * the engine closes), in FILE.snapshots/NAME.sqlite beside a SQLite database,
 * in PATH.snapshots/NAME.snapshot beside a file-store log. Writes wait for it;
 * recalls go on.
 * Since ABI 1.2.
 *
 * Request: {"name": "before-import"}: 1 to 64 of A-Z a-z 0-9 '.' '_' '-'.
 * Answer: {"name", "created_at", "memories" (how many it holds),
 *          "bytes" (its size on disk, null in memory)}.
 * @param[out] out_json  the answer; free with strata_string_free().
 * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for a bad name (named);
 *         STRATA_ERR_CONFLICT when the name is taken; STRATA_ERR_UNSUPPORTED
 *         when the store keeps no snapshots (a plugin built for ABI 1.1 or
 *         older, a SQLite store without a path); STRATA_ERR_IO;
 *         STRATA_ERR_INVALID_JSON for a malformed request.
 * [thread-safe]
 */
strata_status strata_engine_snapshot(strata_engine *engine, const char *request_json, char **out_json);

/**
 * Lists the store's snapshots, oldest first. Request: {} (NULL is accepted).
 * Answer: {"snapshots": [{"name", "created_at", "memories", "bytes"}, ...]}.
 * Snapshots on disk are listed by every engine that opens the store.
 * @return STRATA_OK; STRATA_ERR_UNSUPPORTED; STRATA_ERR_CORRUPT naming a
 *         damaged snapshot file; STRATA_ERR_IO.
 * Since ABI 1.2.
 * [thread-safe]
 */
strata_status strata_engine_snapshots(strata_engine *engine, const char *request_json, char **out_json);

/**
 * Rolls the memories back to a snapshot: afterwards they are exactly the
 * snapshot's (same ids, content, metadata, vectors, access counts), memories
 * stored since are gone, and every engine on the same SQLite file sees it at
 * its next call. One atomic change per store. History is the audit log and is
 * never rolled back: each memory the rollback changes gets one more row, ADD
 * (brought back), DELETE (removed) or UPDATE (changed), with reason
 * "rollback to snapshot NAME". Subscribers get one "memory.rolled_back" event
 * per changed memory.
 * Since ABI 1.2.
 *
 * Request: {"name": "before-import"}.
 * Answer: {"snapshot": "before-import", "added": [ids], "removed": [ids],
 *          "changed": [ids]}.
 * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for a bad name;
 *         STRATA_ERR_NOT_FOUND naming an unknown snapshot (and listing those
 *         there are); STRATA_ERR_CORRUPT naming a damaged or foreign snapshot
 *         file, in which case nothing changed; STRATA_ERR_UNSUPPORTED; STRATA_ERR_IO.
 * [thread-safe]
 */
strata_status strata_engine_rollback(strata_engine *engine, const char *request_json, char **out_json);

/**
 * Deletes a snapshot. Request: {"name": "before-import"}. Answer: {"deleted": name}.
 * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT; STRATA_ERR_NOT_FOUND naming
 *         an unknown snapshot; STRATA_ERR_UNSUPPORTED; STRATA_ERR_IO.
 * Since ABI 1.2.
 * [thread-safe]
 */
strata_status strata_engine_delete_snapshot(strata_engine *engine, const char *request_json, char **out_json);

/**
 * Finds the memories that stand out from the rest: an isolation forest (Liu,
 * Ting and Zhou 2008) scores every unexpired memory the request can see, and
 * the answer lists those scoring at or above the threshold, highest first.
 * Each answered memory is also published as an "anomaly.detected" event
 * carrying its "score" (see strata_engine_subscribe).
 *
 * What a memory's features are, and the forest, come from the configuration's
 * "anomalies" object: {"trees": 100, "sample_size": 256, "projection_dims": 16,
 * "numeric_fields": ["profit", ...], "memory_fields": ["importance",
 * "access_count", "age"], "threshold": 0.6, "seed": 42}. The vector is
 * projected to projection_dims values (0 leaves it out); each numeric_fields
 * metadata path adds one value (a memory without a finite number there gets
 * the median); each memory_fields name adds one. The forest is grown afresh on
 * each call, over the memories in id order: the same memories and seed give
 * the same scores.
 *
 * Request: {"threshold": 0.0..1.0?, "limit": N?, "filter": {...}?,
 *           "scope": "org/planner"?, "tiers": ["working", ...]?, "category": "name"?}
 *   threshold: default the configured one; 0 answers every memory, ranked.
 *   limit: at most N memories (>= 1), the highest; the threshold still applies.
 *   filter, scope, category: as for strata_engine_recall; tiers: exactly these.
 *   NULL means {}.
 * Answer: {"anomalies": [{"id", "content", "metadata", "scope", "tier",
 *          "category", "score"}], "scored": N, "threshold": T}, scores in (0, 1]
 *          highest first (ties by id); "scored" counts the memories scored.
 *          Fewer than 2 memories to score answer an empty list.
 *
 * @param[in]  engine        the engine.
 * @param[in]  request_json  the request, or NULL.
 * @param[out] out_json      the answer; free with strata_string_free().
 * @return STRATA_OK; STRATA_ERR_INVALID_JSON (malformed, or an unknown key
 *         named in the message); STRATA_ERR_INVALID_ARGUMENT (threshold
 *         outside 0..1, limit below 1); STRATA_ERR_INVALID_FILTER; STRATA_ERR_BACKEND.
 * Since ABI 1.2.
 * [thread-safe]
 */
strata_status strata_engine_anomalies(strata_engine *engine, const char *request_json, char **out_json);

/**
 * Stores memories with embeddings the caller computed (the fast path for
 * callers that bring their own vectors): no embedder runs.
 *
 * @param[in]  engine        the engine.
 * @param[in]  request_json  {"items": [ <one memory as for strata_engine_store> ... ]}
 *                           with exactly `count` items, or NULL for `count`
 *                           memories with empty content.
 * @param[in]  vectors       count * dimension floats, row-major, borrowed.
 * @param[in]  count         number of vectors (>= 1).
 * @param[in]  dimension     floats per vector; must equal the engine's dimension.
 * @param[out] out_json      {"ids": [...]} in order; free with strata_string_free().
 * @return STRATA_OK; STRATA_ERR_DIMENSION (names both dimensions);
 *         STRATA_ERR_INVALID_VECTOR (names the item and the position of the
 *         first NaN or infinity); STRATA_ERR_INVALID_ARGUMENT for NULL vectors or count 0.
 *         A failing batch stores nothing.
 * [thread-safe]
 */
strata_status strata_engine_store_vectors(strata_engine *engine, const char *request_json,
                                          const float *vectors, size_t count, size_t dimension,
                                          char **out_json);

/**
 * Recalls with a query vector the caller computed. Keyword search is used only
 * when the request also carries "query" text.
 *
 * @param[in]  request_json  as for strata_engine_recall, "query" optional; NULL means {}.
 * @param[in]  query         dimension floats, borrowed.
 * @param[in]  dimension     must equal the engine's dimension.
 * @param[out] out_json      as for strata_engine_recall.
 * @return as strata_engine_recall, plus STRATA_ERR_DIMENSION and STRATA_ERR_INVALID_VECTOR.
 * [thread-safe]
 */
strata_status strata_engine_recall_vector(strata_engine *engine, const char *request_json,
                                          const float *query, size_t dimension, char **out_json);

/**
 * The most texts one strata_engine_embed call takes. A call holds the engine's
 * embedder for its whole batch (store and recall on other threads wait for
 * it), so a larger corpus is embedded in several calls. Since ABI 1.6.
 */
#define STRATA_EMBED_MAX_TEXTS 65536

/**
 * Floats per vector of the engine's embedder: the dimension strata_engine_embed
 * writes and strata_engine_store_vectors and strata_engine_recall_vector take
 * (the "dimension" of strata_engine_stats). 0 for NULL.
 * Since ABI 1.6.
 * [thread-safe] Never fails.
 */
size_t strata_engine_dimension(const strata_engine *engine);

/**
 * Embeds texts with the engine's embedder, exactly as strata_engine_store
 * embeds content and strata_engine_recall a query, and stores nothing. The
 * whole batch is one embedder call. The rows can be stored later with
 * strata_engine_store_vectors or used as queries with
 * strata_engine_recall_vector.
 *
 *     size_t d = strata_engine_dimension(engine);
 *     const char *texts[] = {"Alice prefers a window seat", "Where does Alice sit?"};
 *     float *rows = malloc(2 * d * sizeof(float));
 *     strata_status s = strata_engine_embed(engine, texts, 2, d, rows);
 *
 * @param[in]  engine       the engine.
 * @param[in]  texts        `count` UTF-8, NUL-terminated texts, borrowed for the
 *                          call; "" is valid. May be NULL when count is 0.
 * @param[in]  count        texts to embed, 0 to STRATA_EMBED_MAX_TEXTS; 0 is
 *                          STRATA_OK and writes nothing.
 * @param[in]  dimension    floats per row of out_vectors; must equal
 *                          strata_engine_dimension(engine).
 * @param[out] out_vectors  count * dimension floats, owned by the caller,
 *                          written row-major (row i is text i), every float
 *                          finite; its content is unspecified on failure.
 * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for NULL texts or
 *         out_vectors with count > 0, a NULL text (named by its index) or a
 *         count above STRATA_EMBED_MAX_TEXTS; STRATA_ERR_INVALID_UTF8 naming
 *         the text and the byte offset; STRATA_ERR_DIMENSION naming both
 *         dimensions; STRATA_ERR_BACKEND or STRATA_ERR_IO when the embedder
 *         fails (named, with its message). Every text is checked before the
 *         embedder runs.
 * Since ABI 1.6.
 * [thread-safe]
 */
strata_status strata_engine_embed(strata_engine *engine, const char *const *texts, size_t count, size_t dimension,
                                  float *out_vectors);

/**
 * Receives one event as JSON: {"type", "memory_id", "at", "memory": {...}|null,
 * "score"?, "message"?}. The types: "memory.stored", "memory.updated",
 * "memory.deduplicated", "memory.forgotten";
 * "memory.migrated" and "memory.pruned" (a metabolize cycle moved or removed the
 * memory; its history says why) and "lifecycle.metabolized" (a cycle was
 * committed; "memory_id" is "strata:lifecycle", "memory" null);
 * "memory.rolled_back" ("memory" as the rollback left it, null when the
 * rollback removed it); "anomaly.detected" (with "score" in (0, 1]);
 * "lifecycle.failed" (a scheduled cycle failed: "memory_id" is
 * "strata:lifecycle", "memory" null, "message" the error; the cycle is also
 * counted as "metabolize_failed" in the stats' "operations").
 * The string is borrowed for the duration of the callback only. Events are
 * delivered after the change is committed and the engine's locks are released,
 * one at a time in commit order, on the thread that made the change (or on a
 * thread still delivering earlier events). A callback may call any verb of the
 * same engine; events its calls cause are delivered after it returns.
 */
typedef void (*strata_event_fn)(void *user_data, const char *event_json);

/**
 * Registers a callback for every event of the engine.
 * @param[out] out_subscription  a token for strata_engine_unsubscribe (never 0).
 * @param[in]  user_data         passed back verbatim; the caller keeps it alive.
 * @return STRATA_OK, STRATA_ERR_INVALID_ARGUMENT for a NULL callback.
 * [thread-safe]
 */
strata_status strata_engine_subscribe(strata_engine *engine, strata_event_fn callback, void *user_data,
                                      uint64_t *out_subscription);

/**
 * Removes a callback. After it returns, the callback is not running and will
 * not be called again. @return STRATA_OK or STRATA_ERR_NOT_FOUND.
 * [thread-safe] but not from inside the callback itself.
 */
strata_status strata_engine_unsubscribe(strata_engine *engine, uint64_t subscription);

/**
 * Moves the memories of `engine` into `target`, re-embedded by `target`'s
 * embedder: the way to change a store's embedder (strata reembed). Every store
 * records the embedding space of its vectors (embedder, model id, dimension,
 * normalisation; as history of the id "strata:space"), and strata_engine_open
 * refuses a store with another embedder (STRATA_ERR_INVALID_CONFIG naming
 * both), so a store is moved, never silently mixed.
 *
 * Open `target` on another, new file with the new embedder (say PATH.new); call
 * this; close both; then switch what your configuration names (strata reembed
 * renames a strata.json naming the new file over the old one). Until then
 * `engine` keeps its vectors and answers recall from the old space; writes to it
 * during the call are carried over (a last pass holds its writer lock).
 * Memories go over in batches, each committed atomically with its history, so
 * after a crash calling it again with a target on the same file resumes: what
 * is there with the same content is kept, nothing is embedded twice, every
 * memory ends up there once. Memories forgotten meanwhile are removed from the
 * target.
 *
 * Since ABI 1.6 (with strata_engine_embed; issue 15).
 *
 * Request: {"batch_size": 64?} (1...10000; NULL means {}).
 * Answer: {"from": SPACE, "to": SPACE, "memories", "embedded", "kept",
 *          "removed", "batches"}, where SPACE is {"embedder", "model_id",
 *          "dimension", "normalized"}; "embedded" counts the memories this call
 *          embedded, "kept" those a previous call had moved.
 * @param[in]  engine    the store to move (borrowed).
 * @param[in]  target    an engine on another store, empty or filled by an
 *                       interrupted call; never `engine` (borrowed).
 * @param[out] out_json  the answer; free with strata_string_free().
 * @return STRATA_OK; STRATA_ERR_INVALID_ARGUMENT for a NULL target, `target`
 *         equal to `engine` or a bad batch size; STRATA_ERR_INVALID_JSON for an
 *         unknown key; the embedder's or a store's error (batches committed
 *         before it stay in `target`, for the next call).
 * [thread-safe] on `engine`; `target` must not be used by other threads during
 * the call.
 */
strata_status strata_engine_reembed(strata_engine *engine, strata_engine *target, const char *request_json, char **out_json);

#ifdef __cplusplus
}
#endif

#endif /* STRATA_ENGINE_H */
