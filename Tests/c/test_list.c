/*
 * Tests/c/test_list.c: what ABI 1.7 adds to engine.h: strata_engine_list,
 * strata_engine_open_file, a caller's "id" on strata_engine_store (upsert),
 * an empty query and "track_access" on strata_engine_recall.
 */
#define _XOPEN_SOURCE 700

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "tests.h"

/* Runs a JSON verb that must succeed; returns its answer (free with strata_string_free), NULL on failure. */
static char *verb(strata_status (*fn)(strata_engine *, const char *, char **), strata_engine *engine, const char *request)
{
    char *out = NULL;
    if (!CHECK_STATUS(fn(engine, request, &out), STRATA_OK)) return NULL;
    return out;
}

/* Runs a JSON verb that must fail with `expected`; checks *out_json stays NULL. */
static void fails(strata_status (*fn)(strata_engine *, const char *, char **), strata_engine *engine, const char *request,
                  strata_status expected)
{
    char *out = (char *)"not touched";
    CHECK_STATUS(fn(engine, request, &out), expected);
    CHECK(out == NULL, "out_json must be NULL after a failure");
}

void list__answers_memories_oldest_first_and_the_total(void)
{
    strata_engine *engine = OPEN("{\"dedupe\": {\"enabled\": false}}");
    REQUIRE(engine != NULL, "open");
    char first[64], second[64];
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Judy paints\", \"at\": \"2026-01-01T00:00:00.000Z\"}", second, sizeof second),
                   STRATA_OK);
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Karl sings\", \"at\": \"2025-01-01T00:00:00.000Z\"}", first, sizeof first),
                   STRATA_OK);
    char *out = verb(strata_engine_list, engine, NULL);
    if (out != NULL) {
        const char *a = strstr(out, first), *b = strstr(out, second);
        CHECK(a != NULL && b != NULL && a < b, "oldest first: %s", out);
        CHECK_CONTAINS(out, "\"total\":2");
        CHECK_CONTAINS(out, "\"access_count\":0");
    }
    strata_string_free(out);
    out = verb(strata_engine_list, engine, "{\"limit\": 1, \"offset\": 1}");
    if (out != NULL) {
        CHECK(strstr(out, second) != NULL && strstr(out, first) == NULL, "second page: %s", out);
        CHECK_CONTAINS(out, "\"total\":2");
    }
    strata_string_free(out);
    out = verb(strata_engine_list, engine, fmt("{\"ids\": [\"%s\", \"m-nope\"], \"limit\": 0}", first));
    if (out != NULL) CHECK(strcmp(out, "{\"memories\":[],\"total\":1}") == 0, "answer: %s", out);
    strata_string_free(out);
    strata_engine_close(engine);
}

void list__bad_requests_are_named_and_out_stays_NULL(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    fails(strata_engine_list, engine, "{\"limt\": 1}", STRATA_ERR_INVALID_JSON);
    CHECK_CONTAINS(last_message, "limt");
    fails(strata_engine_list, engine, "{\"limit\": -1}", STRATA_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(last_message, "list request.limit");
    fails(strata_engine_list, engine, "{\"filter\": {\"n\": {\"$bogus\": 1}}}", STRATA_ERR_INVALID_FILTER);
    char *out = NULL;
    CHECK_STATUS(strata_engine_list(NULL, "{}", &out), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(strata_engine_list(engine, "{}", NULL), STRATA_ERR_INVALID_ARGUMENT);
    strata_engine_close(engine);
}

void store__a_callers_id_adds_then_replaces_that_memory(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char *out = verb(strata_engine_store, engine, "{\"content\": \"Lena rides a red bike\", \"id\": \"bike\", \"importance\": 0.9}");
    if (out != NULL) CHECK(strcmp(out, "{\"deduplicated\":[],\"id\":\"bike\"}") == 0, "answer: %s", out);
    strata_string_free(out);
    strata_string_free(verb(strata_engine_store, engine, "{\"content\": \"Lena rides a blue bike\", \"id\": \"bike\"}"));
    out = verb(strata_engine_get, engine, "{\"id\": \"bike\"}");
    if (out != NULL) {
        CHECK_CONTAINS(out, "\"content\":\"Lena rides a blue bike\"");
        CHECK_CONTAINS(out, "\"importance\":0.9");
    }
    strata_string_free(out);
    CHECK(memory_count(engine) == 1, "an upsert adds no memory");
    fails(strata_engine_store, engine, "{\"content\": \"x\", \"id\": \"strata:space\"}", STRATA_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(last_message, "strata:");
    CHECK(memory_count(engine) == 1, "a refused id stores nothing");
    strata_engine_close(engine);
}

void recall__empty_query_ranks_by_importance_and_track_access_false_reads_only(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char low[64], high[64];
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Mona knits\", \"importance\": 0.1}", low, sizeof low), STRATA_OK);
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Nico fences\", \"importance\": 1}", high, sizeof high), STRATA_OK);
    char *out = recall(engine, "{\"track_access\": false}");
    if (out != NULL) {
        CHECK(hit_rank(out, high) == 0 && hit_rank(out, low) == 1, "ranking: %s", out);
        CHECK_CONTAINS(out, "\"vector\":null");
    }
    strata_string_free(out);
    out = verb(strata_engine_get, engine, fmt("{\"id\": \"%s\"}", high));
    if (out != NULL) CHECK_CONTAINS(out, "\"access_count\":0");
    strata_string_free(out);
    strata_string_free(recall(engine, "{\"query\": \"\"}"));
    out = verb(strata_engine_get, engine, fmt("{\"id\": \"%s\"}", high));
    if (out != NULL) CHECK_CONTAINS(out, "\"access_count\":1");
    strata_string_free(out);
    strata_engine_close(engine);
}

void open_file__relative_paths_name_files_beside_the_configuration(void)
{
    char dir[] = "/tmp/strata-c-open-file-XXXXXX";
    REQUIRE(mkdtemp(dir) != NULL, "mkdtemp");
    const char *config = fmt("%s/strata.json", dir);
    FILE *f = fopen(config, "w");
    REQUIRE(f != NULL, "fopen %s", config);
    fputs("{\"store\": {\"backend\": \"sqlite\", \"plugin\": \"sqlite\", \"options\": {\"path\": \"strata.db\"}}}", f);
    fclose(f);
    strata_engine *engine = NULL;
    REQUIRE_STATUS(strata_engine_open_file(&engine, config), STRATA_OK);
    char id[64];
    CHECK_STATUS(store_one(engine, "{\"content\": \"Olga keeps the keys\"}", id, sizeof id), STRATA_OK);
    strata_engine_close(engine);
    const char *db = fmt("%s/strata.db", dir);
    CHECK(access(db, F_OK) == 0, "%s was not written", db);
    REQUIRE_STATUS(strata_engine_open_file(&engine, config), STRATA_OK);
    CHECK(memory_count(engine) == 1, "the memory persisted");
    strata_engine_close(engine);
    remove(fmt("%s/strata.db-wal", dir));
    remove(fmt("%s/strata.db-shm", dir));
    remove(db);
    remove(config);
    rmdir(dir);
}

void open_file__missing_file_or_bad_arguments_name_the_culprit(void)
{
    strata_engine *engine = (strata_engine *)&engine; /* not NULL: open must reset it */
    CHECK_STATUS(strata_engine_open_file(&engine, "/nonexistent/strata.json"), STRATA_ERR_IO);
    CHECK(engine == NULL, "out must be NULL after a failure");
    CHECK_CONTAINS(last_message, "/nonexistent/strata.json");
    CHECK_STATUS(strata_engine_open_file(&engine, NULL), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(strata_engine_open_file(&engine, ""), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(strata_engine_open_file(NULL, "/tmp/x.json"), STRATA_ERR_INVALID_ARGUMENT);
}

void open_file__a_file_others_can_write_returns_STRATA_ERR_INVALID_CONFIG_naming_it(void)
{
    char dir[] = "/tmp/strata-c-open-file-XXXXXX";
    REQUIRE(mkdtemp(dir) != NULL, "mkdtemp");
    const char *config = fmt("%s/strata.json", dir);
    FILE *f = fopen(config, "w");
    REQUIRE(f != NULL, "fopen %s", config);
    fputs("{}", f);
    fclose(f);
    REQUIRE(chmod(config, 0666) == 0, "chmod");
    strata_engine *engine = (strata_engine *)&engine;
    CHECK_STATUS(strata_engine_open_file(&engine, config), STRATA_ERR_INVALID_CONFIG);
    CHECK(engine == NULL, "out must be NULL after a failure");
    CHECK_CONTAINS(last_message, "writable by other users");
    CHECK_CONTAINS(last_message, config);
    REQUIRE(chmod(config, 0600) == 0, "chmod");
    REQUIRE_STATUS(strata_engine_open_file(&engine, config), STRATA_OK);
    strata_engine_close(engine);
    remove(config);
    rmdir(dir);
}

void store__a_batch_with_dedupe_false_keeps_every_copy(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    const char *batch = "{\"items\": [{\"content\": \"Pia bakes bread\"}, {\"content\": \"Pia bakes bread\"}], \"dedupe\": false}";
    char *out = verb(strata_engine_store, engine, batch);
    if (out != NULL) CHECK_CONTAINS(out, "\"deduplicated\":[]");
    strata_string_free(out);
    CHECK(memory_count(engine) == 2, "count %lld", (long long)memory_count(engine));
    strata_string_free(verb(strata_engine_store, engine, "{\"items\": [{\"content\": \"Pia bakes bread\"}]}"));
    CHECK(memory_count(engine) == 2, "the default de-duplicates again");
    fails(strata_engine_store, engine, "{\"items\": [{\"content\": \"x\"}], \"dedupe\": 0}", STRATA_ERR_INVALID_JSON);
    CHECK_CONTAINS(last_message, "dedupe");
    strata_engine_close(engine);
}
