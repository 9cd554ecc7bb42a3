/*
 * flat_store.c: a complete Strata vector-store plugin in plain C11 (ABI 1.9).
 *
 * This file is documentation for plugin authors as much as it is code. It
 * shows that a third party needs nothing but the public headers: it does not
 * link against libstrata, only against libc (and libm for sqrt, which every
 * host process already has loaded). docs/plugins.md starts smaller (a store in
 * about 60 lines) and lists what `strata plugin check` holds a store to. Build
 * it and check it with:
 *
 *     cc -std=c11 -O2 -shared -fPIC -fvisibility=hidden -I include \
 *        examples/plugins/flat_store.c -o build/libstrata-flat.so
 *     strata plugin check build/libstrata-flat.so
 *
 * and use it from a configuration, by name (searched in "plugin_dirs", then
 * STRATA_PLUGIN_PATH, then the folder of libstrata.so) or by path:
 *
 *     {"store": {"backend": "flat", "plugin": "flat"}}
 *     {"store": {"backend": "flat", "plugin": "./build/libstrata-flat.so",
 *                "options": {"metric": "l2"}}}
 *
 * What it is: an exact ("flat") nearest-neighbour index. Records live in one
 * growable array; a search scores every record that passes the filter and keeps
 * the k best in a small min-heap. That is O(n * d) per query: the right choice
 * up to some hundred thousand records, and the reference every approximate
 * index is measured against.
 *
 * The rules a vector store follows (include/strata/plugin.h and vector_store.h):
 *   - Everything the host passes in is borrowed for the call: copy what you keep.
 *   - Everything you hand back goes through a callback and is borrowed by the
 *     host for that callback only: no memory ever changes hands, so there is no
 *     "free" function to export.
 *   - On failure, return host->fail(status, "message"): it copies the message
 *     (a stack buffer is fine), records it for the calling thread and returns
 *     the status unchanged. Every failure carries a message naming the culprit.
 *   - Check what you store even though the host checked it first: a NULL
 *     pointer is STRATA_ERR_INVALID_ARGUMENT, a vector of the wrong dimension
 *     STRATA_ERR_DIMENSION, a NaN or infinity STRATA_ERR_INVALID_VECTOR, all
 *     before anything changes (a batch is all or none).
 *   - Arrays of records are strided by records[0].struct_size: read them with
 *     STRATA_RECORD_AT, since a newer host may pass longer records.
 *   - A callback returning non-zero means "stop": make no further call of it
 *     and return STRATA_OK.
 *   - flags = 0 means "not thread-safe": the host serialises every call on one
 *     instance, so this file needs no locks.
 *   - Keep the record JSON verbatim; let the host evaluate filters on it with
 *     host->filter_matches(), so filters mean exactly what they mean elsewhere.
 */
#include <math.h>     /* isfinite, sqrt */
#include <stdint.h>
#include <stdio.h>    /* snprintf */
#include <stdlib.h>
#include <string.h>

#include <strata/vector_store.h> /* brings plugin.h, status.h and version.h */

/* Only strata_plugin_entry is exported; everything else is static and the
 * build uses -fvisibility=hidden, so nothing else leaks into the host. */
#define FLAT_EXPORT __attribute__((visibility("default")))

/*
 * Where the host table lives. Since ABI 1.5 the host hands it to
 * create_with_host, and each store keeps it in its own struct (flat_store.host):
 * every function reaches it through `self`, so the plugin has no mutable state
 * of its own at file scope, nothing that two instances share and nothing that
 * concurrent creates could race over.
 *
 * The one exception is `entry_host`, written once by strata_plugin_entry and
 * read only by flat_create: a host of ABI 1.0 to 1.4 (or this file built with
 * FLAT_STORE_AS_ABI_1_0, whose vtable ends before create_with_host) calls
 * `create`, which receives no host, so `create` must still be filled in and
 * must find the table somewhere.
 */
static const strata_host_api *entry_host;

/* ------------------------------------------------------------------------- */
/* Small helpers                                                              */
/* ------------------------------------------------------------------------- */

/* Formats a message and hands it to host->fail (which copies it). */
static strata_status flat_fail(const strata_host_api *host, strata_status status, const char *format, const char *argument)
{
    char message[320];
    snprintf(message, sizeof message, format, argument);
    return host->fail(status, message);
}

/* strdup is POSIX, not C11: a plugin that wants to build anywhere brings its own. */
static char *flat_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy != NULL) memcpy(copy, s, n);
    return copy;
}

/* ------------------------------------------------------------------------- */
/* The store                                                                  */
/* ------------------------------------------------------------------------- */

typedef enum flat_metric { FLAT_COSINE, FLAT_DOT, FLAT_L2 } flat_metric;

/* One record: owned copies of what upsert received. */
typedef struct flat_entry {
    char *id;
    char *json;
    float *vector;   /* `dimension` floats; unit length under cosine */
} flat_entry;

typedef struct flat_store {
    const strata_host_api *host;  /* from create_with_host (or entry_host): for host->fail and filters */
    size_t dimension;
    flat_metric metric;
    flat_entry *entries;  /* growable array: entries[0 .. count) are live */
    size_t count;
    size_t capacity;
} flat_store;

/* Linear lookup by id. A store meant for millions of records would add a hash
 * index; a flat scan keeps this example short and is exact either way. */
static size_t flat_find(const flat_store *store, const char *id)
{
    for (size_t i = 0; i < store->count; i++) {
        if (strcmp(store->entries[i].id, id) == 0) return i;
    }
    return (size_t)-1;
}

/* Grows the array so that `needed` entries fit; 0 on success. */
static int flat_reserve(flat_store *store, size_t needed)
{
    if (needed <= store->capacity) return 0;
    size_t capacity = store->capacity ? store->capacity : 16;
    while (capacity < needed) {
        if (capacity > SIZE_MAX / 2 / sizeof(flat_entry)) return -1;
        capacity *= 2;
    }
    flat_entry *grown = realloc(store->entries, capacity * sizeof(flat_entry));
    if (grown == NULL) return -1;
    store->entries = grown;
    store->capacity = capacity;
    return 0;
}

static void flat_entry_free(flat_entry *entry)
{
    free(entry->id);
    free(entry->json);
    free(entry->vector);
}

static float flat_dot(const float *a, const float *b, size_t n)
{
    float sum = 0.0f;
    for (size_t i = 0; i < n; i++) sum += a[i] * b[i];
    return sum;
}

/* Scales v to unit length (a zero vector stays zero and scores 0 against everything). */
static void flat_normalise(float *v, size_t n)
{
    double squares = 0.0;
    for (size_t i = 0; i < n; i++) squares += (double)v[i] * v[i];
    if (squares <= 0.0) return;
    float scale = (float)(1.0 / sqrt(squares));
    for (size_t i = 0; i < n; i++) v[i] *= scale;
}

/* Higher is closer, as vector_store.h asks: similarity for cosine and dot,
 * minus the squared distance for l2. Cosine vectors are already unit length. */
static float flat_score(const flat_store *store, const float *query, const float *vector)
{
    if (store->metric != FLAT_L2) return flat_dot(query, vector, store->dimension);
    float sum = 0.0f;
    for (size_t i = 0; i < store->dimension; i++) {
        float d = query[i] - vector[i];
        sum += d * d;
    }
    return -sum;
}

/* Fills a strata_record that borrows an entry's fields, for a host callback. */
static strata_record flat_record(const flat_store *store, const flat_entry *entry)
{
    strata_record record;
    memset(&record, 0, sizeof record);
    record.struct_size = (uint32_t)sizeof record;
    record.id = entry->id;
    record.json = entry->json;
    record.vector = entry->vector;
    record.dimension = store->dimension;
    return record;
}

/* ------------------------------------------------------------------------- */
/* create: a tiny JSON scanner for the configuration                           */
/* ------------------------------------------------------------------------- */
/*
 * The host hands create() one flat JSON object: "dimension" and "metric", set by
 * the host, plus the options the user wrote under store.options. This store has
 * no options of its own, so any other key is refused with STRATA_ERR_INVALID_CONFIG
 * naming the key: a typo in a configuration must never be silently ignored.
 *
 * The scanner reads exactly that shape: an object whose values are strings or
 * numbers. It stops at the first unknown key, so it never has to understand
 * the value that follows one.
 */

typedef struct flat_scanner {
    const char *at;
} flat_scanner;

static void scan_space(flat_scanner *s)
{
    while (*s->at == ' ' || *s->at == '\t' || *s->at == '\n' || *s->at == '\r') s->at++;
}

/* Reads a JSON string into `out` (at most size-1 bytes, NUL-terminated).
 * Escapes are decoded for the ASCII ones; \uXXXX is kept as written, which is
 * enough to name a key in a message. Returns 0 on success, -1 if malformed,
 * -2 if too long for `out`. */
static int scan_string(flat_scanner *s, char *out, size_t size)
{
    size_t n = 0;
    int too_long = 0;
    if (*s->at != '"') return -1;
    s->at++;
    for (;;) {
        char c = *s->at++;
        if (c == '\0') return -1;
        if (c == '"') break;
        if (c == '\\') {
            char e = *s->at++;
            switch (e) {
            case '"': case '\\': case '/': c = e; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u':
                /* Keep "\u" and let the four hex digits follow as ordinary characters. */
                if (n + 1 < size) out[n++] = '\\';
                else too_long = 1;
                c = 'u';
                break;
            default: return -1;
            }
        }
        if (n + 1 < size) out[n++] = c;
        else too_long = 1;
    }
    out[n] = '\0';
    return too_long ? -2 : 0;
}

/* Reads a non-negative integer written as JSON ("256", also "256.0" or "2.56e2"
 * would be a number too, but the host writes integers plainly). -1 if not one. */
static int scan_size(flat_scanner *s, size_t *out)
{
    size_t value = 0;
    const char *start = s->at;
    while (*s->at >= '0' && *s->at <= '9') {
        size_t digit = (size_t)(*s->at - '0');
        if (value > (SIZE_MAX - digit) / 10) return -1;
        value = value * 10 + digit;
        s->at++;
    }
    if (s->at == start) return -1;
    /* Tolerate a zero fraction, "256.0", since JSON does not distinguish. */
    if (*s->at == '.') {
        s->at++;
        if (*s->at != '0') return -1;
        while (*s->at == '0') s->at++;
    }
    if (*s->at == 'e' || *s->at == 'E' || (*s->at >= '0' && *s->at <= '9')) return -1;
    *out = value;
    return 0;
}

static strata_status flat_parse_config(const strata_host_api *host, const char *json, size_t *dimension,
                                       flat_metric *metric)
{
    flat_scanner s = {json};
    int have_dimension = 0;
    char key[128], text[32];

    *metric = FLAT_COSINE; /* the host always sends "metric", but be lenient */
    scan_space(&s);
    if (*s.at != '{') return host->fail(STRATA_ERR_INVALID_CONFIG, "flat: configuration is not a JSON object");
    s.at++;
    scan_space(&s);
    if (*s.at == '}') {
        s.at++;
    } else {
        for (;;) {
            int r = scan_string(&s, key, sizeof key);
            if (r == -1) return host->fail(STRATA_ERR_INVALID_CONFIG, "flat: malformed configuration (expected a key)");
            if (r == -2 || (strcmp(key, "dimension") != 0 && strcmp(key, "metric") != 0)) {
                /* Unknown (or absurdly long, hence unknown) key: name it and stop. */
                return flat_fail(host, STRATA_ERR_INVALID_CONFIG, "flat: unknown option \"%s\"", key);
            }
            scan_space(&s);
            if (*s.at != ':') return host->fail(STRATA_ERR_INVALID_CONFIG, "flat: malformed configuration (expected ':')");
            s.at++;
            scan_space(&s);
            if (strcmp(key, "dimension") == 0) {
                if (scan_size(&s, dimension) != 0 || *dimension == 0 || *dimension > 65536) {
                    return host->fail(STRATA_ERR_INVALID_CONFIG, "flat: \"dimension\" must be an integer in 1...65536");
                }
                have_dimension = 1;
            } else {
                if (scan_string(&s, text, sizeof text) != 0) {
                    return host->fail(STRATA_ERR_INVALID_CONFIG, "flat: \"metric\" must be \"cosine\", \"dot\" or \"l2\"");
                }
                if (strcmp(text, "cosine") == 0) *metric = FLAT_COSINE;
                else if (strcmp(text, "dot") == 0) *metric = FLAT_DOT;
                else if (strcmp(text, "l2") == 0) *metric = FLAT_L2;
                else return flat_fail(host, STRATA_ERR_INVALID_CONFIG,
                                      "flat: \"metric\" must be \"cosine\", \"dot\" or \"l2\", got \"%s\"", text);
            }
            scan_space(&s);
            if (*s.at == ',') { s.at++; scan_space(&s); continue; }
            if (*s.at == '}') { s.at++; break; }
            return host->fail(STRATA_ERR_INVALID_CONFIG, "flat: malformed configuration (expected ',' or '}')");
        }
    }
    scan_space(&s);
    if (*s.at != '\0') return host->fail(STRATA_ERR_INVALID_CONFIG, "flat: trailing text after the configuration object");
    if (!have_dimension) return host->fail(STRATA_ERR_INVALID_CONFIG, "flat: \"dimension\" is required");
    return STRATA_OK;
}

/* ------------------------------------------------------------------------- */
/* The vtable functions                                                       */
/* ------------------------------------------------------------------------- */

/* What the host calls since ABI 1.5: the table comes in and stays with the store. */
static strata_status flat_create_with_host(const strata_host_api *host, const char *config_json, void **out_self)
{
    size_t dimension = 0;
    flat_metric metric = FLAT_COSINE;
    if (host == NULL) return STRATA_ERR_INVALID_ARGUMENT; /* no table, so no one to tell */
    if (out_self == NULL) return host->fail(STRATA_ERR_INVALID_ARGUMENT, "flat: out_self is NULL");
    *out_self = NULL;
    if (config_json == NULL) return host->fail(STRATA_ERR_INVALID_ARGUMENT, "flat: configuration is NULL");
    strata_status status = flat_parse_config(host, config_json, &dimension, &metric);
    if (status != STRATA_OK) return status;

    flat_store *store = calloc(1, sizeof *store);
    if (store == NULL) return host->fail(STRATA_ERR_BACKEND, "flat: out of memory");
    store->host = host;
    store->dimension = dimension;
    store->metric = metric;
    *out_self = store;
    return STRATA_OK;
}

/* What a host of ABI 1.0 to 1.4 calls (see entry_host). */
static strata_status flat_create(const char *config_json, void **out_self)
{
    return flat_create_with_host(entry_host, config_json, out_self);
}

static void flat_destroy(void *self)
{
    flat_store *store = self;
    if (store == NULL) return;
    for (size_t i = 0; i < store->count; i++) flat_entry_free(&store->entries[i]);
    free(store->entries);
    free(store);
}

/* A record of the host's array with a size this file can read: the host passes
 * at least sizeof(strata_record) as this file knows it (a newer host, more). */
static int flat_record_size_ok(const strata_record *records)
{
    return records[0].struct_size >= offsetof(strata_record, dimension) + sizeof records[0].dimension;
}

/* Checks one record the host passes: 0 when it may be stored, else the failed
 * status after host->fail. `what` and `i` name it in the message. */
static strata_status flat_check_record(const flat_store *store, const strata_record *r, const char *what, size_t i)
{
    char message[200];
    if (r->id == NULL || r->json == NULL || r->vector == NULL) {
        snprintf(message, sizeof message, "flat: %s %zu has a NULL id, json or vector", what, i);
        return store->host->fail(STRATA_ERR_INVALID_ARGUMENT, message);
    }
    if (r->dimension != store->dimension) {
        snprintf(message, sizeof message, "flat: %s %zu (\"%.64s\") has dimension %zu, the store has %zu", what, i,
                 r->id, r->dimension, store->dimension);
        return store->host->fail(STRATA_ERR_DIMENSION, message);
    }
    for (size_t j = 0; j < store->dimension; j++) {
        if (!isfinite(r->vector[j])) {
            snprintf(message, sizeof message, "flat: %s %zu (\"%.64s\") holds %s at position %zu", what, i, r->id,
                     isnan(r->vector[j]) ? "NaN" : "infinity", j);
            return store->host->fail(STRATA_ERR_INVALID_VECTOR, message);
        }
    }
    return STRATA_OK;
}

/*
 * All or none, in three phases:
 *   1. validate every record (nothing changes if one is bad);
 *   2. copy every record and reserve room (nothing changes if memory runs out);
 *   3. commit, which cannot fail.
 * A later record with the same id as an earlier one in the batch wins.
 * Records are read with STRATA_RECORD_AT: the array is strided by the first
 * record's struct_size, which a newer host may make larger than ours.
 */
static strata_status flat_upsert(void *self, const strata_record *records, size_t count)
{
    flat_store *store = self;
    if (count == 0) return STRATA_OK;
    if (records == NULL) return store->host->fail(STRATA_ERR_INVALID_ARGUMENT, "flat: upsert of NULL records");
    if (!flat_record_size_ok(records)) {
        return store->host->fail(STRATA_ERR_INVALID_ARGUMENT, "flat: records[0].struct_size is smaller than a strata_record");
    }

    /* 1. Validate. */
    for (size_t i = 0; i < count; i++) {
        strata_status status = flat_check_record(store, STRATA_RECORD_AT(records, i), "record", i);
        if (status != STRATA_OK) return status;
    }

    /* 2. Copy and reserve. */
    flat_entry *fresh = calloc(count, sizeof *fresh);
    if (fresh == NULL || flat_reserve(store, store->count + count) != 0) {
        free(fresh);
        return store->host->fail(STRATA_ERR_BACKEND, "flat: out of memory");
    }
    for (size_t i = 0; i < count; i++) {
        const strata_record *r = STRATA_RECORD_AT(records, i);
        fresh[i].id = flat_strdup(r->id);
        fresh[i].json = flat_strdup(r->json);
        fresh[i].vector = malloc(store->dimension * sizeof(float));
        if (fresh[i].id == NULL || fresh[i].json == NULL || fresh[i].vector == NULL) {
            for (size_t j = 0; j <= i; j++) flat_entry_free(&fresh[j]);
            free(fresh);
            return store->host->fail(STRATA_ERR_BACKEND, "flat: out of memory");
        }
        memcpy(fresh[i].vector, r->vector, store->dimension * sizeof(float));
        if (store->metric == FLAT_COSINE) flat_normalise(fresh[i].vector, store->dimension);
    }

    /* 3. Commit: replace by id, or append (room is reserved). */
    for (size_t i = 0; i < count; i++) {
        size_t at = flat_find(store, fresh[i].id);
        if (at != (size_t)-1) {
            flat_entry_free(&store->entries[at]);
            store->entries[at] = fresh[i];
        } else {
            store->entries[store->count++] = fresh[i];
        }
    }
    free(fresh);
    return STRATA_OK;
}

/* Removes by id; unknown ids are skipped, as the header says. The last entry
 * moves into the hole, so the array stays dense. Arguments are checked before
 * anything is removed. */
static strata_status flat_remove(void *self, const char *const *ids, size_t count, size_t *out_removed)
{
    flat_store *store = self;
    size_t removed = 0;
    if (out_removed == NULL) return store->host->fail(STRATA_ERR_INVALID_ARGUMENT, "flat: remove with a NULL out_removed");
    if (count > 0 && ids == NULL) return store->host->fail(STRATA_ERR_INVALID_ARGUMENT, "flat: remove of NULL ids");
    for (size_t i = 0; i < count; i++) {
        if (ids[i] == NULL) {
            char message[80];
            snprintf(message, sizeof message, "flat: remove: id %zu is NULL", i);
            return store->host->fail(STRATA_ERR_INVALID_ARGUMENT, message);
        }
    }
    for (size_t i = 0; i < count; i++) {
        size_t at = flat_find(store, ids[i]);
        if (at == (size_t)-1) continue;
        flat_entry_free(&store->entries[at]);
        store->entries[at] = store->entries[--store->count];
        removed++;
    }
    *out_removed = removed;
    return STRATA_OK;
}

/* One record by id, or STRATA_ERR_NOT_FOUND naming the id (and no callback). */
static strata_status flat_get(void *self, const char *id, strata_record_fn fn, void *context)
{
    flat_store *store = self;
    if (id == NULL || fn == NULL) return store->host->fail(STRATA_ERR_INVALID_ARGUMENT, "flat: get with a NULL id or callback");
    size_t at = flat_find(store, id);
    if (at == (size_t)-1) return flat_fail(store->host, STRATA_ERR_NOT_FOUND, "flat: no record with id \"%.200s\"", id);
    strata_record record = flat_record(store, &store->entries[at]);
    fn(context, &record); /* called once: whatever it returns, there is nothing more to stop */
    return STRATA_OK;
}

/* Asks the host whether an entry passes the filter; NULL filter passes all.
 * Returns 1, 0, or a negative status (the host could not read the JSON). */
static int32_t flat_matches(const flat_store *store, const strata_filter *filter, const flat_entry *entry)
{
    if (filter == NULL) return 1;
    return store->host->filter_matches(filter, entry->json);
}

/* A min-heap of (score, entry index): the root is the worst of the k kept so
 * far, so a new candidate only has to beat the root. Ties keep the earlier entry. */
typedef struct flat_hit {
    float score;
    size_t index;
} flat_hit;

/* 1 if a ranks worse than b. */
static int flat_worse(flat_hit a, flat_hit b)
{
    return a.score < b.score || (a.score == b.score && a.index > b.index);
}

static void flat_sift_down(flat_hit *heap, size_t n, size_t i)
{
    for (;;) {
        size_t worst = i, l = 2 * i + 1, r = 2 * i + 2;
        if (l < n && flat_worse(heap[l], heap[worst])) worst = l;
        if (r < n && flat_worse(heap[r], heap[worst])) worst = r;
        if (worst == i) return;
        flat_hit t = heap[i];
        heap[i] = heap[worst];
        heap[worst] = t;
        i = worst;
    }
}

static void flat_sift_up(flat_hit *heap, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!flat_worse(heap[i], heap[parent])) return;
        flat_hit t = heap[i];
        heap[i] = heap[parent];
        heap[parent] = t;
        i = parent;
    }
}

static strata_status flat_search(void *self, const strata_search_request *request, strata_hit_fn fn, void *context)
{
    flat_store *store = self;
    if (request == NULL || fn == NULL || request->query == NULL) {
        return store->host->fail(STRATA_ERR_INVALID_ARGUMENT, "flat: search with a NULL request, query or callback");
    }
    char message[128];
    if (request->dimension != store->dimension) {
        snprintf(message, sizeof message, "flat: query has dimension %zu, the store has %zu", request->dimension,
                 store->dimension);
        return store->host->fail(STRATA_ERR_DIMENSION, message);
    }
    for (size_t j = 0; j < store->dimension; j++) {
        if (!isfinite(request->query[j])) {
            snprintf(message, sizeof message, "flat: the query holds %s at position %zu",
                     isnan(request->query[j]) ? "NaN" : "infinity", j);
            return store->host->fail(STRATA_ERR_INVALID_VECTOR, message);
        }
    }
    /* k = 0 (or an empty store) is a search with no hits: STRATA_OK, no callback. */
    size_t k = request->k < store->count ? request->k : store->count;
    if (k == 0) return STRATA_OK;

    /* Cosine compares unit vectors: normalise a copy of the query once. */
    float *query = malloc(store->dimension * sizeof(float));
    flat_hit *heap = malloc(k * sizeof *heap);
    if (query == NULL || heap == NULL) {
        free(query);
        free(heap);
        return store->host->fail(STRATA_ERR_BACKEND, "flat: out of memory");
    }
    memcpy(query, request->query, store->dimension * sizeof(float));
    if (store->metric == FLAT_COSINE) flat_normalise(query, store->dimension);

    size_t n = 0;
    strata_status status = STRATA_OK;
    for (size_t i = 0; i < store->count; i++) {
        int32_t match = flat_matches(store, request->filter, &store->entries[i]);
        if (match < 0) { status = store->host->fail(match, "flat: the host could not evaluate the filter"); break; }
        if (match == 0) continue;
        flat_hit hit = {flat_score(store, query, store->entries[i].vector), i};
        if (n < k) {
            heap[n] = hit;
            flat_sift_up(heap, n++);
        } else if (flat_worse(heap[0], hit)) {
            heap[0] = hit;
            flat_sift_down(heap, n, 0);
        }
    }

    if (status == STRATA_OK) {
        /* Heap sort in place: popping the worst to the end leaves best first. */
        for (size_t end = n; end > 1; end--) {
            flat_hit t = heap[0];
            heap[0] = heap[end - 1];
            heap[end - 1] = t;
            flat_sift_down(heap, end - 1, 0);
        }
        for (size_t i = 0; i < n; i++) {
            strata_record record = flat_record(store, &store->entries[heap[i].index]);
            if (fn(context, &record, heap[i].score) != 0) break; /* stop: no further call, still STRATA_OK */
        }
    }
    free(query);
    free(heap);
    return status;
}

static strata_status flat_scan(void *self, const strata_filter *filter, strata_record_fn fn, void *context)
{
    flat_store *store = self;
    if (fn == NULL) return store->host->fail(STRATA_ERR_INVALID_ARGUMENT, "flat: scan with a NULL callback");
    for (size_t i = 0; i < store->count; i++) {
        int32_t match = flat_matches(store, filter, &store->entries[i]);
        if (match < 0) return store->host->fail(match, "flat: the host could not evaluate the filter");
        if (match == 0) continue;
        strata_record record = flat_record(store, &store->entries[i]);
        if (fn(context, &record) != 0) break; /* stop: no further call, still STRATA_OK */
    }
    return STRATA_OK;
}

static strata_status flat_count(void *self, uint64_t *out_count)
{
    flat_store *store = self;
    if (out_count == NULL) return store->host->fail(STRATA_ERR_INVALID_ARGUMENT, "flat: count into NULL");
    *out_count = (uint64_t)store->count;
    return STRATA_OK;
}

/* What `strata stats` shows of the index (ABI 1.8): an exact scan over the
 * float rows, so no graph and no compressed copies. The entry array's spare
 * capacity is not counted: only the rows themselves. */
static strata_status flat_index_report(void *self, strata_index_report_fn fn, void *context)
{
    flat_store *store = self;
    if (fn == NULL) return store->host->fail(STRATA_ERR_INVALID_ARGUMENT, "flat: index_report with a NULL callback");
    unsigned long long vectors = (unsigned long long)store->count * store->dimension * sizeof(float);
    char json[256];
    snprintf(json, sizeof json,
             "{\"kind\": \"exact\", \"rows\": %zu, \"compression\": \"none\", "
             "\"bytes\": {\"vectors\": %llu, \"codes\": 0, \"graph\": 0, \"total\": %llu}}",
             store->count, vectors, vectors);
    fn(context, json);
    return STRATA_OK;
}

/* ------------------------------------------------------------------------- */
/* The descriptor and the one exported symbol                                 */
/* ------------------------------------------------------------------------- */

/*
 * FLAT_STORE_AS_ABI_1_0 builds the plugin as if against the ABI 1.0 headers,
 * whose vtable ended at `count`: the tests use it to prove that hosts with a
 * newer minor ABI still load older plugins.
 */
#ifdef FLAT_STORE_AS_ABI_1_0
#define FLAT_VTABLE_SIZE STRATA_VECTOR_STORE_VTABLE_SIZE_1_0
#define FLAT_ABI_VERSION ((uint32_t)(1u << 16))
#elif defined(FLAT_STORE_AS_ABI_1_7)
/* FLAT_STORE_AS_ABI_1_7: as built against the ABI 1.7 headers, whose vtable
 * ended at create_with_host (no index_report: its stats have no index). */
#define FLAT_VTABLE_SIZE STRATA_VECTOR_STORE_VTABLE_SIZE_1_7
#define FLAT_ABI_VERSION ((uint32_t)((1u << 16) | 7u))
#else
#define FLAT_VTABLE_SIZE sizeof(strata_vector_store_vtable)
#define FLAT_ABI_VERSION STRATA_ABI_VERSION
#endif

/* The ELF note the host reads, without loading the file, to know it is a Strata
 * plugin for this ABI (plugin.h); it must say what the descriptor says. */
STRATA_PLUGIN_NOTE_FOR_ABI(FLAT_ABI_VERSION);

static const strata_vector_store_vtable flat_vtable = {
    .struct_size = FLAT_VTABLE_SIZE,
    .flags = 0, /* not thread-safe: the host serialises calls on each instance */
    .create = flat_create,
    .destroy = flat_destroy,
    .upsert = flat_upsert,
    .remove = flat_remove,
    .get = flat_get,
    .search = flat_search,
    .keyword_search = NULL, /* the host keeps its own BM25 index over "content" */
    .scan = flat_scan,
    .count = flat_count,
    /* commit, history and capabilities (ABI 1.1), the snapshot functions (1.2),
     * salvage (1.4) and history_tail (1.9) stay NULL: the engine then keeps
     * history itself, in memory, and answers STRATA_ERR_UNSUPPORTED for
     * snapshots, doctor and salvage. */
    /* Read only when struct_size reaches it (ABI 1.5): the ABI 1.0 build's host
     * never sees it and calls create instead. */
    .create_with_host = flat_create_with_host,
    /* Read only when struct_size reaches it (ABI 1.8). */
    .index_report = flat_index_report,
};

static const strata_factory flat_factories[] = {
    {
        .struct_size = sizeof(strata_factory),
        .kind = STRATA_SEAM_VECTOR_STORE,
        .name = "flat", /* the "backend" a configuration names */
        .vtable = &flat_vtable,
    },
};

static const strata_plugin_descriptor flat_descriptor = {
    .struct_size = sizeof(strata_plugin_descriptor),
    .abi_version = FLAT_ABI_VERSION, /* the ABI of the headers this file was compiled with */
    .name = "flat",
    .version = "1.0.0",
    .description = "Exact (flat) vector store in plain C: cosine, dot or l2; the host does keyword search",
    .factory_count = sizeof flat_factories / sizeof flat_factories[0],
    .factories = flat_factories,
};

/* Called once, right after the host loads the file. Check that the host table is
 * one this file understands (same major; the table only grows), and keep it for
 * flat_create, the pre-1.5 path (see entry_host). */
FLAT_EXPORT const strata_plugin_descriptor *strata_plugin_entry(const strata_host_api *host_api)
{
    if (host_api == NULL || (host_api->abi_version >> 16) != STRATA_ABI_VERSION_MAJOR ||
        host_api->struct_size < sizeof(strata_host_api)) {
        return NULL; /* the host reports "returned NULL" with the file name */
    }
    entry_host = host_api;
    return &flat_descriptor;
}
