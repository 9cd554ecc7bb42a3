/*
 * tiny_store.c: the smallest correct Strata vector store (docs/plugins.md walks through it).
 * Exact brute-force search under cosine, dot or l2; records in one array; not thread-safe
 * (flags 0: the host makes one call at a time per instance). ABI 1.5: the host table comes
 * to create_with_host and stays in the store, so the file has no global.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strata/vector_store.h>

typedef struct { char *id, *json; float *v; } item;
typedef struct { const strata_host_api *host; size_t dim, n; int metric; item *items; } store; /* 0 cosine, 1 dot, 2 l2 */
#define NONE ((size_t)-1)

/* Every failure goes through host->fail with a message naming the culprit (the host copies it). */
static strata_status fail(const strata_host_api *host, strata_status status, const char *format, ...)
{
    char message[256];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    return host->fail(status, message);
}
static char *copy(const char *s) { size_t n = strlen(s) + 1; char *c = malloc(n); return c ? memcpy(c, s, n) : NULL; }
static void drop(item *it) { free(it->id); free(it->json); free(it->v); }
static size_t find(const store *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++) if (strcmp(s->items[i].id, id) == 0) return i;
    return NONE;
}
static strata_record record(const store *s, size_t i)
{
    return (strata_record){sizeof(strata_record), s->items[i].id, s->items[i].json, s->items[i].v, s->dim};
}

/* Higher is closer: cosine similarity (0 against a zero vector), dot product, minus squared L2. */
static float score(const store *s, const float *a, const float *b)
{
    double dot = 0, na = 0, nb = 0, l2 = 0;
    for (size_t i = 0; i < s->dim; i++) {
        dot += (double)a[i] * b[i], na += (double)a[i] * a[i], nb += (double)b[i] * b[i];
        l2 += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    }
    if (s->metric == 1) return (float)dot;
    if (s->metric == 2) return (float)-l2;
    return na > 0 && nb > 0 ? (float)(dot / sqrt(na * nb)) : 0.0f;
}

/* The host has checked every vector already; the store checks again before it changes anything. */
static strata_status check(const store *s, const char *what, const float *v, size_t dim)
{
    if (v == NULL) return fail(s->host, STRATA_ERR_INVALID_ARGUMENT, "%s has a NULL vector", what);
    if (dim != s->dim) return fail(s->host, STRATA_ERR_DIMENSION, "%s has dimension %zu, the store %zu", what, dim, s->dim);
    for (size_t i = 0; i < dim; i++)
        if (!isfinite(v[i])) return fail(s->host, STRATA_ERR_INVALID_VECTOR, "%s holds NaN or infinity at %zu", what, i);
    return STRATA_OK;
}

/* Options arrive as one flat JSON object: "dimension" and "metric" from the host, plus what the
 * user wrote. This store has no options of its own, so any other key is refused, named. */
static strata_status create(const strata_host_api *host, const char *config, void **out)
{
    store s = {host, 0, 0, 0, NULL};
    char key[64], value[16];
    int used;
    if (host == NULL) return STRATA_ERR_INVALID_ARGUMENT;
    if (config == NULL || out == NULL) return host->fail(STRATA_ERR_INVALID_ARGUMENT, "NULL config or out_self");
    for (const char *p = config; (p = strchr(p, '"')) != NULL;) {
        used = 0;
        if (sscanf(p, "\"%63[^\"]\" :%n", key, &used) != 1 || used == 0)
            return host->fail(STRATA_ERR_INVALID_CONFIG, "malformed options");
        p += used;
        if (strcmp(key, "dimension") == 0) {
            char *end;
            s.dim = strtoul(p, &end, 10);
            p = end;
        } else if (strcmp(key, "metric") == 0) {
            used = 0;
            if (sscanf(p, " \"%15[^\"]\"%n", value, &used) != 1 || used == 0)
                return host->fail(STRATA_ERR_INVALID_CONFIG, "\"metric\" must be a string");
            p += used;
            s.metric = strcmp(value, "cosine") == 0 ? 0 : strcmp(value, "dot") == 0 ? 1 : strcmp(value, "l2") == 0 ? 2 : -1;
            if (s.metric < 0) return fail(host, STRATA_ERR_INVALID_CONFIG, "metric \"%s\" is not cosine, dot or l2", value);
        } else {
            return fail(host, STRATA_ERR_INVALID_CONFIG, "unknown option \"%s\"", key);
        }
    }
    if (s.dim < 1 || s.dim > 65536) return host->fail(STRATA_ERR_INVALID_CONFIG, "\"dimension\" must be 1...65536");
    store *made = malloc(sizeof s);
    if (made == NULL) return host->fail(STRATA_ERR_BACKEND, "out of memory");
    *made = s;
    *out = made;
    return STRATA_OK;
}

static void destroy(void *self)
{
    store *s = self;
    for (size_t i = 0; i < s->n; i++) drop(&s->items[i]);
    free(s->items);
    free(s);
}

/* All or none: check every record, copy every record, then apply (which cannot fail). */
static strata_status upsert(void *self, const strata_record *records, size_t count)
{
    store *s = self;
    strata_status status;
    if (count == 0) return STRATA_OK;
    if (records == NULL) return s->host->fail(STRATA_ERR_INVALID_ARGUMENT, "NULL records");
    for (size_t i = 0; i < count; i++) {
        const strata_record *r = STRATA_RECORD_AT(records, i); /* strided by struct_size, never sizeof */
        if (r->id == NULL || r->json == NULL) return fail(s->host, STRATA_ERR_INVALID_ARGUMENT, "record %zu has a NULL id or json", i);
        char what[112];
        snprintf(what, sizeof what, "record %zu (\"%.64s\")", i, r->id);
        if ((status = check(s, what, r->vector, r->dimension)) != STRATA_OK) return status;
    }
    item *fresh = calloc(count, sizeof *fresh);
    item *grown = fresh ? realloc(s->items, (s->n + count) * sizeof *grown) : NULL;
    if (grown != NULL) s->items = grown;
    for (size_t i = 0; grown != NULL && i < count; i++) {
        const strata_record *r = STRATA_RECORD_AT(records, i);
        fresh[i] = (item){copy(r->id), copy(r->json), malloc(s->dim * sizeof(float))};
        if (fresh[i].id && fresh[i].json && fresh[i].v) { memcpy(fresh[i].v, r->vector, s->dim * sizeof(float)); continue; }
        for (size_t j = 0; j <= i; j++) drop(&fresh[j]);
        grown = NULL;
    }
    if (grown == NULL) { free(fresh); return s->host->fail(STRATA_ERR_BACKEND, "out of memory"); }
    for (size_t i = 0; i < count; i++) { /* replace by id (a later duplicate wins), or append */
        size_t at = find(s, fresh[i].id);
        if (at == NONE) s->items[s->n++] = fresh[i];
        else { drop(&s->items[at]); s->items[at] = fresh[i]; }
    }
    free(fresh);
    return STRATA_OK;
}

static strata_status remove_ids(void *self, const char *const *ids, size_t count, size_t *out_removed)
{
    store *s = self;
    if ((count > 0 && ids == NULL) || out_removed == NULL) return s->host->fail(STRATA_ERR_INVALID_ARGUMENT, "NULL ids or out_removed");
    for (size_t i = 0; i < count; i++) if (ids[i] == NULL) return fail(s->host, STRATA_ERR_INVALID_ARGUMENT, "id %zu is NULL", i);
    *out_removed = 0;
    for (size_t i = 0, at; i < count; i++) { /* unknown ids are skipped */
        if ((at = find(s, ids[i])) == NONE) continue;
        drop(&s->items[at]);
        s->items[at] = s->items[--s->n];
        ++*out_removed;
    }
    return STRATA_OK;
}

static strata_status get(void *self, const char *id, strata_record_fn fn, void *context)
{
    store *s = self;
    if (id == NULL || fn == NULL) return s->host->fail(STRATA_ERR_INVALID_ARGUMENT, "NULL id or callback");
    size_t at = find(s, id);
    if (at == NONE) return fail(s->host, STRATA_ERR_NOT_FOUND, "no record with id \"%.200s\"", id);
    strata_record r = record(s, at);
    fn(context, &r);
    return STRATA_OK;
}

/* Brute force: each round passes the best record not passed yet; k = 0 makes no round. */
static strata_status search(void *self, const strata_search_request *q, strata_hit_fn fn, void *context)
{
    store *s = self;
    strata_status status;
    if (q == NULL || fn == NULL) return s->host->fail(STRATA_ERR_INVALID_ARGUMENT, "NULL request or callback");
    if ((status = check(s, "the query", q->query, q->dimension)) != STRATA_OK) return status;
    char *done = calloc(s->n + 1, 1); /* 1: passed already, or the filter refuses it */
    if (done == NULL) return s->host->fail(STRATA_ERR_BACKEND, "out of memory");
    for (size_t i = 0; q->filter != NULL && i < s->n; i++) {
        int32_t match = s->host->filter_matches(q->filter, s->items[i].json);
        if (match < 0) { free(done); return s->host->fail(match, "the host could not match the filter"); }
        done[i] = match == 0;
    }
    for (size_t hit = 0; hit < q->k; hit++) {
        size_t best = NONE;
        float top = 0;
        for (size_t i = 0; i < s->n; i++) {
            if (done[i]) continue;
            float sc = score(s, q->query, s->items[i].v);
            if (best == NONE || sc > top) best = i, top = sc;
        }
        if (best == NONE) break;
        done[best] = 1;
        strata_record r = record(s, best);
        if (fn(context, &r, top) != 0) break; /* the callback asks to stop: still STRATA_OK */
    }
    free(done);
    return STRATA_OK;
}

static strata_status scan(void *self, const strata_filter *filter, strata_record_fn fn, void *context)
{
    store *s = self;
    if (fn == NULL) return s->host->fail(STRATA_ERR_INVALID_ARGUMENT, "NULL callback");
    for (size_t i = 0; i < s->n; i++) {
        int32_t match = filter ? s->host->filter_matches(filter, s->items[i].json) : 1;
        if (match < 0) return s->host->fail(match, "the host could not match the filter");
        strata_record r = record(s, i);
        if (match && fn(context, &r) != 0) break;
    }
    return STRATA_OK;
}

static strata_status count(void *self, uint64_t *out)
{
    store *s = self;
    if (out == NULL) return s->host->fail(STRATA_ERR_INVALID_ARGUMENT, "NULL out_count");
    *out = s->n;
    return STRATA_OK;
}

STRATA_PLUGIN_NOTE; /* the ELF note the host reads before it loads the file */
static const strata_vector_store_vtable vtable = {
    .struct_size = sizeof(strata_vector_store_vtable), .flags = 0, .create_with_host = create, .destroy = destroy,
    .upsert = upsert, .remove = remove_ids, .get = get, .search = search, .scan = scan, .count = count};
static const strata_factory factory = {sizeof factory, STRATA_SEAM_VECTOR_STORE, "tiny", &vtable};
static const strata_plugin_descriptor descriptor = {
    sizeof descriptor, STRATA_ABI_VERSION, "tiny", "1.0.0", "the smallest correct vector store", 1, &factory};

__attribute__((visibility("default"))) const strata_plugin_descriptor *strata_plugin_entry(const strata_host_api *host)
{
    return host != NULL && host->abi_version >> 16 == STRATA_ABI_VERSION_MAJOR ? &descriptor : NULL;
}
