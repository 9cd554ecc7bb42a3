/*
 * Tests/c/test_plugins.c: vector stores loaded at run time (the Swift "memory"
 * plugin and the plain-C "flat" plugin of examples/plugins/flat_store.c) and
 * the fixture plugins of Tests/fixtures/plugins that fail on purpose.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tests.h"

/* ---- a store behaves the same whatever backs it ------------------------- */

/* Stores, recalls (with and without a filter), gets, updates and forgets through an engine. */
static void exercise_store(const char *config)
{
    strata_engine *engine = OPEN(config);
    REQUIRE(engine != NULL, "open %s", config);

    static const char *const contents[] = {
        "Alice prefers green tea in the morning",
        "Bob drinks strong black coffee",
        "Alice is learning to play the cello",
        "The office closes early on Fridays",
    };
    static const char *const users[] = {"alice", "bob", "alice", "office"};
    char ids[4][64];
    for (int i = 0; i < 4; i++) {
        REQUIRE_STATUS(store_one(engine, fmt("{\"content\": \"%s\", \"metadata\": {\"user\": \"%s\"}}", contents[i], users[i]), ids[i],
                                 sizeof ids[i]),
                       STRATA_OK);
    }
    CHECK(memory_count(engine) == 4, "count %lld", (long long)memory_count(engine));

    /* Deduplication searches the store: the same memory again updates the existing one. */
    char again[64];
    CHECK_STATUS(store_one(engine, fmt("{\"content\": \"%s\", \"metadata\": {\"user\": \"%s\"}}", contents[1], users[1]), again,
                           sizeof again),
                 STRATA_OK);
    CHECK(strcmp(again, ids[1]) == 0, "a duplicate got a new id %s (expected %s)", again, ids[1]);
    CHECK(memory_count(engine) == 4, "count after a duplicate %lld", (long long)memory_count(engine));

    char *out = recall(engine, "{\"query\": \"what does Bob drink, coffee?\", \"k\": 4}");
    CHECK(hit_rank(out, ids[1]) == 0, "coffee query: %s", out);
    CHECK(hit_count(out) == 4, "k=4 over 4 memories gave %d hits", hit_count(out));
    strata_string_free(out);

    out = recall(engine, "{\"query\": \"cello music lessons\", \"k\": 2}");
    CHECK(hit_rank(out, ids[2]) == 0, "cello query: %s", out);
    strata_string_free(out);

    /* The filter is honoured exactly: only Alice's two memories, tea first. */
    out = recall(engine, "{\"query\": \"green tea\", \"k\": 4, \"filter\": {\"user\": \"alice\"}}");
    CHECK(hit_count(out) == 2 && hit_rank(out, ids[0]) == 0 && hit_rank(out, ids[2]) == 1, "filtered: %s", out);
    strata_string_free(out);

    out = recall(engine, "{\"query\": \"coffee\", \"k\": 4, \"filter\": {\"user\": {\"$ne\": \"bob\"}}}");
    CHECK(hit_count(out) == 3 && hit_rank(out, ids[1]) < 0, "$ne filter: %s", out);
    strata_string_free(out);

    out = NULL;
    if (CHECK_STATUS(strata_engine_get(engine, fmt("{\"id\": \"%s\"}", ids[3]), &out), STRATA_OK)) {
        CHECK_CONTAINS(out, contents[3]);
        CHECK_CONTAINS(out, "\"user\":\"office\"");
    }
    strata_string_free(out);
    out = (char *)"sentinel";
    CHECK_STATUS(strata_engine_get(engine, "{\"id\": \"m-not-in-plugin\"}", &out), STRATA_ERR_NOT_FOUND);
    CHECK(out == NULL, "out_json must be NULL after a failure");

    REQUIRE_STATUS(strata_engine_update(engine, fmt("{\"id\": \"%s\", \"content\": \"The office now opens on Saturdays\"}", ids[3]),
                                        &out),
                   STRATA_OK);
    strata_string_free(out);
    out = recall(engine, "{\"query\": \"Saturdays opening\", \"k\": 1}");
    CHECK(hit_rank(out, ids[3]) == 0, "updated memory: %s", out);
    CHECK_CONTAINS(out, "Saturdays");
    strata_string_free(out);

    REQUIRE_STATUS(strata_engine_forget(engine, "{\"filter\": {\"user\": \"alice\"}}", &out), STRATA_OK);
    CHECK(count_occurrences(out, "\"m-") == 2, "forget by filter: %s", out);
    strata_string_free(out);
    CHECK(memory_count(engine) == 2, "count after forget %lld", (long long)memory_count(engine));
    out = recall(engine, "{\"query\": \"Alice green tea cello\", \"k\": 4}");
    CHECK(hit_count(out) == 2 && hit_rank(out, ids[0]) < 0 && hit_rank(out, ids[2]) < 0, "forgotten are recalled: %s", out);
    strata_string_free(out);
    strata_engine_close(engine);
}

void plugin__swift_memory_plugin_stores_and_recalls_with_a_filter(void)
{
    exercise_store("{\"store\": {\"backend\": \"memory\", \"plugin\": \"memory\"}}");
}

void plugin__c_flat_plugin_stores_and_recalls_with_a_filter(void)
{
    exercise_store(fmt("{\"store\": {\"backend\": \"flat\", \"plugin\": \"%s\"}}", plugin_path("libstrata-flat.so")));
}

void plugin__c_flat_plugin_reports_its_name_in_stats(void)
{
    strata_engine *engine = OPEN(fmt("{\"store\": {\"backend\": \"flat\", \"plugin\": \"%s\"}}", plugin_path("libstrata-flat.so")));
    REQUIRE(engine != NULL, "open");
    char *out = NULL;
    REQUIRE_STATUS(strata_engine_stats(engine, NULL, &out), STRATA_OK);
    CHECK_CONTAINS(out, "\"store\":\"plugin:flat/flat\"");
    strata_string_free(out);
    strata_engine_close(engine);
}

void plugin__c_flat_plugin_is_found_by_name_in_plugin_dirs(void)
{
    strata_engine *engine = OPEN(fmt("{\"plugin_dirs\": [\"%s\"], \"store\": {\"backend\": \"flat\", \"plugin\": \"flat\"}}", plugin_dir));
    REQUIRE(engine != NULL, "open");
    CHECK_STATUS(store_one(engine, "{\"content\": \"found by name\"}", NULL, 0), STRATA_OK);
    CHECK(memory_count(engine) == 1, "count");
    strata_engine_close(engine);
}

void plugin__c_flat_plugin_is_found_by_name_through_STRATA_PLUGIN_PATH(void)
{
    const char *old = getenv("STRATA_PLUGIN_PATH");
    char *saved = old != NULL ? strcpy(malloc(strlen(old) + 1), old) : NULL;
    setenv("STRATA_PLUGIN_PATH", fmt("/nonexistent-strata-dir:%s", plugin_dir), 1);
    strata_engine *engine = OPEN("{\"store\": {\"backend\": \"flat\", \"plugin\": \"flat\"}}");
    if (saved != NULL) setenv("STRATA_PLUGIN_PATH", saved, 1);
    else unsetenv("STRATA_PLUGIN_PATH");
    free(saved);
    REQUIRE(engine != NULL, "open");
    CHECK_STATUS(store_one(engine, "{\"content\": \"found through the environment\"}", NULL, 0), STRATA_OK);
    strata_engine_close(engine);
}

/* The fast path through the flat plugin, for every metric: each vector finds itself first. */
static void flat_metric(const char *metric)
{
    enum { DIM = 32, N = 120 };
    strata_engine *engine = OPEN(fmt("{\"embedder\": {\"backend\": \"hashing\", \"options\": {\"dimension\": 32}},"
                                     " \"recall\": {\"track_access\": false},"
                                     " \"store\": {\"backend\": \"flat\", \"plugin\": \"%s\", \"options\": {\"metric\": \"%s\"}}}",
                                     plugin_path("libstrata-flat.so"), metric));
    REQUIRE(engine != NULL, "open");
    static float v[N * DIM];
    uint64_t state = 77;
    for (int i = 0; i < N; i++) {
        /* Unit vectors, so that under "dot" each vector is its own best match too. */
        double norm = 0;
        for (int j = 0; j < DIM; j++) {
            v[i * DIM + j] = random_float(&state);
            norm += (double)v[i * DIM + j] * v[i * DIM + j];
        }
        for (int j = 0; j < DIM; j++) v[i * DIM + j] = (float)(v[i * DIM + j] / sqrt(norm));
    }
    char *ids = NULL;
    REQUIRE_STATUS(strata_engine_store_vectors(engine, NULL, v, N, DIM, &ids), STRATA_OK);
    CHECK(memory_count(engine) == N, "%s: count %lld", metric, (long long)memory_count(engine));
    const char *at = strstr(ids, "\"ids\":[");
    for (int i = 0; i < N && at != NULL; i++) {
        char id[64];
        at = strstr(at, "\"m-");
        if (!CHECK(at != NULL, "id %d", i)) break;
        sscanf(at + 1, "%63[^\"]", id);
        at++;
        if (i % 5 != 0) continue;
        char *out = NULL;
        if (!CHECK_STATUS(strata_engine_recall_vector(engine, "{\"k\": 3}", v + i * DIM, DIM, &out), STRATA_OK)) break;
        CHECK(hit_rank(out, id) == 0, "%s: vector %d is not its own best match: %s", metric, i, out);
        CHECK(hit_count(out) == 3, "%s: k=3 gave %d", metric, hit_count(out));
        strata_string_free(out);
    }
    strata_string_free(ids);

    /* Errors reach the plugin's validation or the host's, and change nothing. */
    float bad[DIM] = {0};
    bad[5] = nanf("");
    char *out = NULL;
    CHECK_STATUS(strata_engine_store_vectors(engine, NULL, bad, 1, DIM, &out), STRATA_ERR_INVALID_VECTOR);
    CHECK_STATUS(strata_engine_store_vectors(engine, NULL, v, 1, DIM - 1, &out), STRATA_ERR_DIMENSION);
    CHECK(memory_count(engine) == N, "%s: count after errors %lld", metric, (long long)memory_count(engine));
    strata_engine_close(engine);
}

void plugin__c_flat_plugin_finds_each_vector_first_with_cosine_dot_and_l2(void)
{
    flat_metric("cosine");
    flat_metric("dot");
    flat_metric("l2");
}

void plugin__c_flat_plugin_rejects_an_unknown_option_with_STRATA_ERR_INVALID_CONFIG(void)
{
    strata_engine *engine = (strata_engine *)&engine;
    CHECK_STATUS(strata_engine_open(&engine, fmt("{\"store\": {\"backend\": \"flat\", \"plugin\": \"%s\", \"options\": {\"shards\": 4}}}",
                                                 plugin_path("libstrata-flat.so"))),
                 STRATA_ERR_INVALID_CONFIG);
    CHECK(engine == NULL, "out must be NULL after a failure");
    CHECK_CONTAINS(last_message, "unknown option \"shards\"");

    CHECK_STATUS(strata_engine_open(&engine, fmt("{\"store\": {\"backend\": \"flat\", \"plugin\": \"%s\", \"options\": {\"metric\": \"hamming\"}}}",
                                                 plugin_path("libstrata-flat.so"))),
                 STRATA_ERR_INVALID_CONFIG);
    CHECK_CONTAINS(last_message, "hamming");
}

void plugin__unknown_backend_name_in_a_plugin_returns_STRATA_ERR_PLUGIN_listing_what_it_offers(void)
{
    strata_engine *engine = NULL;
    CHECK_STATUS(strata_engine_open(&engine, fmt("{\"store\": {\"backend\": \"hnsw\", \"plugin\": \"%s\"}}", plugin_path("libstrata-flat.so"))),
                 STRATA_ERR_PLUGIN);
    CHECK_CONTAINS(last_message, "hnsw");
    CHECK_CONTAINS(last_message, "\"flat\"");
}

/* ---- fixtures that fail on purpose -------------------------------------- */

/* Opens with a store served by the fixture file, expecting `expected`; leaves the message in last_message. */
static int open_fixture(const char *file, const char *backend, strata_status expected)
{
    strata_engine *engine = (strata_engine *)&engine;
    int ok = CHECK_STATUS(strata_engine_open(&engine, fmt("{\"store\": {\"backend\": \"%s\", \"plugin\": \"%s\"}}", backend, plugin_path(file))),
                          expected);
    if (expected != STRATA_OK) ok &= CHECK(engine == NULL, "out must be NULL after a failure (%s)", file);
    if (expected == STRATA_OK) strata_engine_close(engine);
    return ok;
}

void plugin__abi_mismatch_returns_STRATA_ERR_ABI_MISMATCH_naming_file_and_both_versions(void)
{
    open_fixture("abi_mismatch.so", "abi_mismatch", STRATA_ERR_ABI_MISMATCH);
    CHECK_CONTAINS(last_message, "abi_mismatch.so");
    CHECK_CONTAINS(last_message, "2.0");
    CHECK_CONTAINS(last_message, fmt("%d.%d", STRATA_ABI_VERSION_MAJOR, STRATA_ABI_VERSION_MINOR));
}

void plugin__no_entry_returns_STRATA_ERR_PLUGIN_naming_strata_plugin_entry(void)
{
    open_fixture("no_entry.so", "flat", STRATA_ERR_PLUGIN);
    CHECK_CONTAINS(last_message, "strata_plugin_entry");
    CHECK_CONTAINS(last_message, "no_entry.so");
}

void plugin__null_descriptor_returns_STRATA_ERR_PLUGIN(void)
{
    open_fixture("null_descriptor.so", "flat", STRATA_ERR_PLUGIN);
    CHECK_CONTAINS(last_message, "null_descriptor.so");
}

void plugin__create_failure_passes_the_plugin_message_through(void)
{
    open_fixture("create_fails.so", "create_fails", STRATA_ERR_BACKEND);
    CHECK_CONTAINS(last_message, "create_fails: refused on purpose");
}

void plugin__short_vtable_returns_STRATA_ERR_ABI_MISMATCH(void)
{
    open_fixture("bad_vtable.so", "bad_vtable", STRATA_ERR_ABI_MISMATCH);
    CHECK_CONTAINS(last_message, "bad_vtable");
}

void plugin__null_required_function_returns_STRATA_ERR_PLUGIN(void)
{
    open_fixture("null_functions.so", "null_functions", STRATA_ERR_PLUGIN);
    CHECK_CONTAINS(last_message, "null_functions");
}

void plugin__garbage_file_returns_STRATA_ERR_PLUGIN_naming_it(void)
{
    char dir[] = "/tmp/strata-c-tests-XXXXXX";
    REQUIRE(mkdtemp(dir) != NULL, "mkdtemp");
    const char *path = fmt("%s/x.so", dir);
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL, "fopen %s", path);
    fputs("this is not an ELF file, just garbage \x7f\x01\x02\x03", f);
    fclose(f);

    strata_engine *engine = NULL;
    CHECK_STATUS(strata_engine_open(&engine, fmt("{\"store\": {\"backend\": \"flat\", \"plugin\": \"%s\"}}", path)), STRATA_ERR_PLUGIN);
    CHECK(engine == NULL, "out must be NULL after a failure");
    CHECK_CONTAINS(last_message, path);

    /* By name through plugin_dirs: x.so is a candidate name for plugin "x". */
    CHECK_STATUS(strata_engine_open(&engine, fmt("{\"plugin_dirs\": [\"%s\"], \"store\": {\"backend\": \"flat\", \"plugin\": \"x\"}}", dir)),
                 STRATA_ERR_PLUGIN);
    CHECK_CONTAINS(last_message, "x.so");
    unlink(path);
    rmdir(dir);
}

void plugin__missing_name_returns_STRATA_ERR_PLUGIN_naming_the_folders_searched(void)
{
    strata_engine *engine = NULL;
    CHECK_STATUS(strata_engine_open(&engine, fmt("{\"plugin_dirs\": [\"%s\"], \"store\": {\"backend\": \"flat\", \"plugin\": \"no-such-plugin\"}}",
                                                 plugin_dir)),
                 STRATA_ERR_PLUGIN);
    CHECK(engine == NULL, "out must be NULL after a failure");
    CHECK_CONTAINS(last_message, "no-such-plugin");
    CHECK_CONTAINS(last_message, "libstrata-no-such-plugin.so");
    CHECK_CONTAINS(last_message, plugin_dir);

    CHECK_STATUS(strata_engine_open(&engine, "{\"store\": {\"backend\": \"flat\", \"plugin\": \"/nonexistent/dir/libstrata-flat.so\"}}"),
                 STRATA_ERR_PLUGIN);
    CHECK_CONTAINS(last_message, "/nonexistent/dir/libstrata-flat.so");
}

/* ---- a store that fails mid-write --------------------------------------- */

static void count_any(void *user_data, const char *event_json)
{
    (void)event_json;
    (*(int *)user_data)++;
}

void plugin__failing_store_batch_fails_with_STRATA_ERR_IO_and_loses_nothing(void)
{
    strata_engine *engine = OPEN(fmt("{\"store\": {\"backend\": \"failing_store\", \"plugin\": \"%s\"}}", plugin_path("failing_store.so")));
    REQUIRE(engine != NULL, "open");
    char ids[3][64];
    static const char *const seeds[] = {"Quentin repairs pianos", "Rosa teaches chemistry", "Sam sails catamarans"};
    for (int i = 0; i < 3; i++) REQUIRE_STATUS(store_one(engine, fmt("{\"content\": \"%s\"}", seeds[i]), ids[i], 64), STRATA_OK);
    REQUIRE(memory_count(engine) == 3, "seed count");

    int events = 0;
    uint64_t subscription = 0;
    REQUIRE_STATUS(strata_engine_subscribe(engine, count_any, &events, &subscription), STRATA_OK);

    char *out = (char *)"sentinel";
    CHECK_STATUS(strata_engine_store(engine,
                                     "{\"items\": [{\"content\": \"zebra alpha\"}, {\"content\": \"zebra FAIL-ME beta\"},"
                                     " {\"content\": \"zebra gamma\"}]}",
                                     &out),
                 STRATA_ERR_IO);
    CHECK(out == NULL, "out_json must be NULL after a failure");
    CHECK_CONTAINS(last_message, "disk full (on purpose)");
    CHECK(memory_count(engine) == 3, "count after the failed batch: %lld", (long long)memory_count(engine));
    CHECK(events == 0, "%d events published for a failed batch", events);

    /* The host's own keyword index must not keep the failed batch either. */
    out = recall(engine, "{\"query\": \"zebra\", \"k\": 10}");
    CHECK(strstr(out != NULL ? out : "", "zebra") == NULL, "the failed batch is recalled: %s", out);
    CHECK(hit_count(out) == 3, "expected the 3 seeds: %s", out);
    strata_string_free(out);

    /* A failed update keeps the old content. */
    out = NULL;
    CHECK_STATUS(strata_engine_update(engine, fmt("{\"id\": \"%s\", \"content\": \"FAIL-ME now\"}", ids[1]), &out), STRATA_ERR_IO);
    CHECK_STATUS(strata_engine_get(engine, fmt("{\"id\": \"%s\"}", ids[1]), &out), STRATA_OK);
    CHECK_CONTAINS(out, seeds[1]);
    strata_string_free(out);
    out = NULL;
    CHECK_STATUS(strata_engine_history(engine, fmt("{\"id\": \"%s\"}", ids[1]), &out), STRATA_OK);
    CHECK(count_occurrences(out, "\"event\":") == 1, "a failed update left history: %s", out);
    strata_string_free(out);
    CHECK(events == 0, "%d events published for failed writes", events);

    /* The store still works afterwards. */
    CHECK_STATUS(store_one(engine, "{\"content\": \"zebra delta\"}", NULL, 0), STRATA_OK);
    CHECK(memory_count(engine) == 4, "count after a good store: %lld", (long long)memory_count(engine));
    CHECK(events == 1, "%d events after one good store", events);
    CHECK_STATUS(strata_engine_unsubscribe(engine, subscription), STRATA_OK);
    strata_engine_close(engine);
}
