/*
 * Checks that libstrata-minilm.so's embed allocates nothing once warm (issue 15: "no
 * allocation per call once warm"), through its exported C vtable as the host calls it.
 * malloc and its relatives are defined here, so they take the place of libc's in the whole
 * process, the plugin included, and count calls made while `counting` is set. The plugin is
 * opened with dlopen and given a host table of our own (no libstrata).
 *
 *   minilm_allocations LIBDIR/libstrata-minilm.so MODEL_DIR
 *
 * Warm-up: one call per shape (a batch of 32 short texts, one short text, one text cut at 256
 * tokens, the empty text); then 10 calls of each, counted. A separate program, not part of
 * strata_c_tests, because it replaces malloc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strata/strata.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static atomic_long allocations;
static atomic_int counting;

void *malloc(size_t n) { if (counting) allocations++; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { if (counting) allocations++; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { if (counting) allocations++; return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t align, size_t n) { if (counting) allocations++; return __libc_memalign(align, n); }
void *aligned_alloc(size_t align, size_t n) { if (counting) allocations++; return __libc_memalign(align, n); }
int posix_memalign(void **out, size_t align, size_t n)
{
    if (counting) allocations++;
    *out = __libc_memalign(align, n);
    return *out ? 0 : 12;
}

static strata_status fail(strata_status status, const char *message)
{
    fprintf(stderr, "minilm_allocations: plugin error %d: %s\n", status, message);
    return status;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s libstrata-minilm.so MODEL_DIR\n", argv[0]);
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "minilm_allocations: %s\n", dlerror());
        return 1;
    }
    strata_plugin_entry_fn entry = (strata_plugin_entry_fn)dlsym(lib, "strata_plugin_entry");
    static const strata_host_api host = {.struct_size = sizeof(strata_host_api), .abi_version = STRATA_ABI_VERSION, .fail = fail};
    const strata_plugin_descriptor *d = entry ? entry(&host) : NULL;
    const strata_embedder_vtable *v = NULL;
    for (size_t i = 0; d && i < d->factory_count; i++)
        if (d->factories[i].kind == STRATA_SEAM_EMBEDDER) v = d->factories[i].vtable;
    if (!v) {
        fprintf(stderr, "minilm_allocations: no embedder in %s\n", argv[1]);
        return 1;
    }
    char options[4200];
    snprintf(options, sizeof options, "{\"model_dir\": \"%s\"}", argv[2]);
    void *e = NULL;
    if (v->create(options, &e) != STRATA_OK) return 1;

    static char long_text[3000];
    for (size_t i = 0; i + 8 < sizeof long_text; i += 8) memcpy(long_text + i, "memory. ", 8);
    const char *shorts[32];
    char storage[32][80];
    for (int i = 0; i < 32; i++) {
        snprintf(storage[i], sizeof storage[i], "Alice parked her car near the station at %d o'clock, café %d.", i % 12, i);
        shorts[i] = storage[i];
    }
    const char *one[] = {"Where does Alice like to sit on a plane?"}, *longest[] = {long_text}, *empty[] = {""};
    struct { const char *name; const char *const *texts; size_t count; } shapes[] = {
        {"32 short texts", shorts, 32}, {"one short text", one, 1}, {"one 256-token text", longest, 1}, {"the empty text", empty, 1},
    };
    float *out = __libc_malloc(sizeof(float) * 384 * 32);
    int failed = 0;
    for (size_t s = 0; s < 4; s++) failed |= v->embed(e, shapes[s].texts, shapes[s].count, out) != STRATA_OK;
    for (size_t s = 0; s < 4 && !failed; s++) {
        allocations = 0;
        counting = 1;
        for (int call = 0; call < 10; call++) failed |= v->embed(e, shapes[s].texts, shapes[s].count, out) != STRATA_OK;
        counting = 0;
        printf("minilm embed, %s: %ld allocations in 10 warm calls\n", shapes[s].name, (long)allocations);
        failed |= allocations != 0;
    }
    v->destroy(e);
    if (failed) fprintf(stderr, "minilm_allocations: FAILED\n");
    return failed;
}
