/* tiny_store.c: the smallest correct Strata vector store (docs/plugins.md walks through it).
 * Brute force under cosine, dot or l2; records in one array; flags 0, so the host makes one
 * call at a time per instance. ABI 1.5: the host table arrives in create_with_host and stays
 * in the store (no global), and the host reads the options (no JSON parser here). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strata/vector_store.h>

typedef struct { char *id, *json; float *v; } item;
typedef struct { const strata_host_api *host; size_t dim, n; char metric[8]; item *items; } store;

static void drop(item *it) { free(it->id); free(it->json); free(it->v); }
static char *copy(const char *s) { size_t n = strlen(s) + 1; char *c = malloc(n); return c ? memcpy(c, s, n) : NULL; }
static size_t find(const store *s, const char *id) { size_t i = 0; while (i < s->n && strcmp(s->items[i].id, id)) i++; return i; }
static strata_record rec(const store *s, size_t i) { return (strata_record){sizeof(strata_record), s->items[i].id, s->items[i].json, s->items[i].v, s->dim}; }
static strata_status fail(const store *s, strata_status status, const char *what, const char *why)
{
    char message[200];
    snprintf(message, sizeof message, "%.120s %s", what, why); /* host->fail copies it; the host adds the plugin's name */
    return s->host->fail(status, message);
}
/* A NULL the function needs is STRATA_ERR_INVALID_ARGUMENT, named (the host never passes one). */
#define NEED(s, x) if (!(x)) return (s)->host->fail(STRATA_ERR_INVALID_ARGUMENT, "NULL " #x)
static float score(const store *s, const float *a, const float *b) /* higher is closer */
{
    double dot = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < s->dim; i++) dot += (double)a[i] * b[i], aa += (double)a[i] * a[i], bb += (double)b[i] * b[i];
    if (s->metric[0] == 'd') return (float)dot;
    if (s->metric[0] == 'l') return (float)(2 * dot - aa - bb); /* minus the squared distance */
    return aa > 0 && bb > 0 ? (float)(dot / sqrt(aa * bb)) : 0.0f;
}
static strata_status check(const store *s, const char *what, const float *v, size_t dim) /* the host checked; check again */
{
    if (v == NULL) return fail(s, STRATA_ERR_INVALID_ARGUMENT, what, "has no vector");
    if (dim != s->dim) return fail(s, STRATA_ERR_DIMENSION, what, "has another dimension than the store");
    for (size_t i = 0; i < dim; i++) if (!isfinite(v[i])) return fail(s, STRATA_ERR_INVALID_VECTOR, what, "holds NaN or infinity");
    return STRATA_OK;
}

static strata_status create(const strata_host_api *host, const char *options, void **out)
{
    store s = {.host = host, .metric = "cosine"};
    double dim = 0;
    strata_status st = host->options_check(options, "dimension metric"); /* an unknown key is refused, named */
    if (st == STRATA_OK) st = host->option_number(options, "dimension", &dim);
    if (st == STRATA_OK && host->option_string(options, "metric", s.metric, sizeof s.metric) == STRATA_ERR_INVALID_CONFIG) return STRATA_ERR_INVALID_CONFIG;
    if (st != STRATA_OK) return st == STRATA_ERR_NOT_FOUND ? host->fail(st, "no dimension") : st;
    if (strcmp(s.metric, "cosine") && strcmp(s.metric, "dot") && strcmp(s.metric, "l2")) return fail(&s, STRATA_ERR_INVALID_CONFIG, s.metric, "is not cosine, dot or l2");
    if (dim < 1 || dim > 65536 || (s.dim = (size_t)dim) != dim) return host->fail(STRATA_ERR_INVALID_CONFIG, "dimension must be 1...65536");
    if ((*out = malloc(sizeof s)) == NULL) return host->fail(STRATA_ERR_BACKEND, "out of memory");
    memcpy(*out, &s, sizeof s);
    return STRATA_OK;
}
static void destroy(void *self) { store *s = self; for (size_t i = 0; i < s->n; i++) drop(&s->items[i]); free(s->items); free(s); }

static strata_status upsert(void *self, const strata_record *records, size_t count) /* all or none */
{
    store *s = self;
    NEED(s, records || !count);
    for (size_t i = 0; i < count; i++) { /* check every record before changing anything */
        const strata_record *r = STRATA_RECORD_AT(records, i); /* strided by struct_size, never sizeof */
        strata_status st = r->id && r->json ? check(s, r->id, r->vector, r->dimension) : fail(s, STRATA_ERR_INVALID_ARGUMENT, "a record", "has no id or json");
        if (st != STRATA_OK) return st;
    }
    item *fresh = calloc(count + 1, sizeof *fresh), *grown = fresh ? realloc(s->items, (s->n + count + 1) * sizeof *grown) : NULL;
    int ok = grown != NULL;
    if (grown) s->items = grown; /* room first, copies next: applying below cannot fail */
    for (size_t i = 0; ok && i < count; i++) {
        const strata_record *r = STRATA_RECORD_AT(records, i);
        fresh[i] = (item){copy(r->id), copy(r->json), malloc(s->dim * sizeof(float))};
        if ((ok = fresh[i].id && fresh[i].json && fresh[i].v)) memcpy(fresh[i].v, r->vector, s->dim * sizeof(float));
    }
    for (size_t i = 0; fresh && !ok && i < count; i++) drop(&fresh[i]);
    for (size_t i = 0, at; ok && i < count; i++) { /* replace by id, or append */
        if ((at = find(s, fresh[i].id)) < s->n) drop(&s->items[at]); else s->n++;
        s->items[at] = fresh[i];
    }
    free(fresh);
    return ok ? STRATA_OK : s->host->fail(STRATA_ERR_BACKEND, "out of memory");
}
static strata_status remove_ids(void *self, const char *const *ids, size_t count, size_t *out_removed)
{
    store *s = self;
    NEED(s, out_removed);
    NEED(s, ids || !count);
    for (size_t i = 0; i < count; i++) NEED(s, ids[i]);
    *out_removed = 0;
    for (size_t i = 0, at; i < count; i++) /* unknown ids are skipped */
        if ((at = find(s, ids[i])) < s->n) drop(&s->items[at]), s->items[at] = s->items[--s->n], ++*out_removed;
    return STRATA_OK;
}
static strata_status get(void *self, const char *id, strata_record_fn fn, void *context)
{
    store *s = self;
    NEED(s, id && fn);
    size_t at = find(s, id);
    if (at == s->n) return fail(s, STRATA_ERR_NOT_FOUND, id, "is not stored");
    strata_record r = rec(s, at);
    fn(context, &r);
    return STRATA_OK;
}
static strata_status search(void *self, const strata_search_request *q, strata_hit_fn fn, void *context)
{
    store *s = self;
    NEED(s, q && fn);
    strata_status st = check(s, "the query", q->query, q->dimension);
    char *done = st == STRATA_OK ? calloc(s->n + 1, 1) : NULL; /* 1: passed already, or the filter refuses it */
    if (done == NULL) return st != STRATA_OK ? st : s->host->fail(STRATA_ERR_BACKEND, "out of memory");
    for (size_t i = 0; q->filter && i < s->n; i++) done[i] = s->host->filter_matches(q->filter, s->items[i].json) != 1;
    for (size_t hit = 0; hit < q->k; hit++) { /* each round passes the best record left; k = 0: none */
        size_t best = s->n;
        float top = 0;
        for (size_t i = 0; i < s->n; i++) {
            float sc = done[i] ? 0 : score(s, q->query, s->items[i].v);
            if (!done[i] && (best == s->n || sc > top)) best = i, top = sc;
        }
        if (best == s->n) break;
        done[best] = 1;
        strata_record r = rec(s, best);
        if (fn(context, &r, top) != 0) break; /* the callback asked to stop: still STRATA_OK */
    }
    free(done);
    return STRATA_OK;
}
static strata_status scan(void *self, const strata_filter *filter, strata_record_fn fn, void *context)
{
    store *s = self;
    NEED(s, fn);
    for (size_t i = 0; i < s->n; i++) {
        strata_record r = rec(s, i);
        if ((!filter || s->host->filter_matches(filter, s->items[i].json) == 1) && fn(context, &r) != 0) break;
    }
    return STRATA_OK;
}
static strata_status count(void *self, uint64_t *out) { NEED((store *)self, out); *out = ((store *)self)->n; return STRATA_OK; }

STRATA_PLUGIN_NOTE; /* the ELF note the host reads before it loads the file */
static const strata_vector_store_vtable vtable = {.struct_size = sizeof vtable, .create_with_host = create, .destroy = destroy,
    .upsert = upsert, .remove = remove_ids, .get = get, .search = search, .scan = scan, .count = count};
static const strata_factory factory = {sizeof factory, STRATA_SEAM_VECTOR_STORE, "tiny", &vtable};
static const strata_plugin_descriptor descriptor = {sizeof descriptor, STRATA_ABI_VERSION, "tiny", "1.0.0", "the smallest correct vector store", 1, &factory};
__attribute__((visibility("default"))) const strata_plugin_descriptor *strata_plugin_entry(const strata_host_api *host)
{
    return host && host->abi_version >> 16 == STRATA_ABI_VERSION_MAJOR && STRATA_HOST_HAS_OPTIONS(host) ? &descriptor : NULL;
}
