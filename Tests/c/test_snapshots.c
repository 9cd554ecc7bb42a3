/*
 * Tests/c/test_snapshots.c: strata_engine_snapshot, _snapshots, _rollback and
 * _delete_snapshot (ABI 1.2) on the embedded default, on the SQLite plugin
 * (two engines on one file, a damaged snapshot file) and on a plugin without
 * snapshots.
 */
#define _XOPEN_SOURCE 700

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* A new folder holding a SQLite configuration's database; *config gets the configuration. */
static const char *sqlite_folder(char dir[32], const char **config)
{
    strcpy(dir, "/tmp/strata-c-snap-XXXXXX");
    if (mkdtemp(dir) == NULL) return NULL;
    *config = fmt("{\"store\": {\"backend\": \"sqlite\", \"plugin\": \"sqlite\", \"options\": {\"path\": \"%s/s.db\"}}}", dir);
    return dir;
}

void snapshot__rollback_restores_the_memories_and_answers_what_changed(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char kept[64], gone[64], later[64];
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Heidi keeps bees on the roof\", \"metadata\": {\"n\": 1}}", kept, sizeof kept),
                   STRATA_OK);
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Ivan repairs old radios\"}", gone, sizeof gone), STRATA_OK);

    char *out = verb(strata_engine_snapshot, engine, "{\"name\": \"before-edits\"}");
    CHECK_CONTAINS(out, "\"name\":\"before-edits\"");
    CHECK_CONTAINS(out, "\"memories\":2");
    CHECK_CONTAINS(out, "\"bytes\":null");
    strata_string_free(out);

    strata_string_free(verb(strata_engine_update, engine, fmt("{\"id\": \"%s\", \"content\": \"Heidi sold the bees\"}", kept)));
    strata_string_free(verb(strata_engine_forget, engine, fmt("{\"id\": \"%s\"}", gone)));
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"A note written after the snapshot\"}", later, sizeof later), STRATA_OK);

    out = verb(strata_engine_rollback, engine, "{\"name\": \"before-edits\"}");
    CHECK_CONTAINS(out, fmt("\"added\":[\"%s\"]", gone));
    CHECK_CONTAINS(out, fmt("\"removed\":[\"%s\"]", later));
    CHECK_CONTAINS(out, fmt("\"changed\":[\"%s\"]", kept));
    CHECK_CONTAINS(out, "\"snapshot\":\"before-edits\"");
    strata_string_free(out);

    CHECK(memory_count(engine) == 2, "count after rollback %lld", (long long)memory_count(engine));
    out = verb(strata_engine_get, engine, fmt("{\"id\": \"%s\"}", kept));
    CHECK_CONTAINS(out, "Heidi keeps bees on the roof");
    strata_string_free(out);
    out = verb(strata_engine_history, engine, fmt("{\"id\": \"%s\"}", gone));
    CHECK(count_occurrences(out, "\"event\":") == 3, "ADD, DELETE, then the rollback's ADD: %s", out);
    CHECK_CONTAINS(out, "\"reason\":\"rollback to snapshot before-edits\"");
    strata_string_free(out);
    strata_engine_close(engine);
}

void snapshot__names_are_checked_used_once_listed_and_deleted(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    fails(strata_engine_snapshot, engine, "{\"name\": \"has space\"}", STRATA_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(last_message, "has space");
    fails(strata_engine_snapshot, engine, "{\"name\": \"\"}", STRATA_ERR_INVALID_ARGUMENT);
    fails(strata_engine_snapshot, engine, fmt("{\"name\": \"%065d\"}", 1), STRATA_ERR_INVALID_ARGUMENT);
    fails(strata_engine_snapshot, engine, "{}", STRATA_ERR_INVALID_JSON);
    fails(strata_engine_rollback, engine, "{\"name\": \"never-made\"}", STRATA_ERR_NOT_FOUND);
    CHECK_CONTAINS(last_message, "never-made");

    strata_string_free(verb(strata_engine_snapshot, engine, "{\"name\": \"a\"}"));
    fails(strata_engine_snapshot, engine, "{\"name\": \"a\"}", STRATA_ERR_CONFLICT);
    strata_string_free(verb(strata_engine_snapshot, engine, "{\"name\": \"b.2_x-y\"}"));
    char *out = verb(strata_engine_snapshots, engine, NULL);
    CHECK_CONTAINS(out, "\"name\":\"a\"");
    CHECK_CONTAINS(out, "\"name\":\"b.2_x-y\"");
    strata_string_free(out);

    out = verb(strata_engine_delete_snapshot, engine, "{\"name\": \"a\"}");
    CHECK_CONTAINS(out, "\"deleted\":\"a\"");
    strata_string_free(out);
    fails(strata_engine_delete_snapshot, engine, "{\"name\": \"a\"}", STRATA_ERR_NOT_FOUND);
    out = verb(strata_engine_snapshots, engine, "{}");
    CHECK(out != NULL && strstr(out, "\"name\":\"a\"") == NULL && strstr(out, "b.2_x-y") != NULL, "after delete: %s", out);
    strata_string_free(out);
    strata_engine_close(engine);
}

void snapshot__sqlite_rollback_is_seen_by_a_second_engine_on_the_file(void)
{
    char dir[32];
    const char *config = NULL;
    REQUIRE(sqlite_folder(dir, &config) != NULL, "mkdtemp");
    strata_engine *a = OPEN(config);
    strata_engine *b = OPEN(config);
    REQUIRE(a != NULL && b != NULL, "open two engines on %s", config);
    char id[64], other[64];
    REQUIRE_STATUS(store_one(a, "{\"content\": \"Judy's flight lands at noon\"}", id, sizeof id), STRATA_OK);

    char *out = verb(strata_engine_snapshot, a, "{\"name\": \"v1\"}");
    CHECK(out != NULL && strstr(out, "\"bytes\":null") == NULL, "a snapshot on disk has a size: %s", out);
    strata_string_free(out);
    REQUIRE_STATUS(store_one(b, "{\"content\": \"Stored by the second engine\"}", other, sizeof other), STRATA_OK);
    strata_string_free(verb(strata_engine_update, b, fmt("{\"id\": \"%s\", \"content\": \"Judy's flight is delayed\"}", id)));

    strata_string_free(verb(strata_engine_rollback, a, "{\"name\": \"v1\"}"));
    CHECK(memory_count(b) == 1, "the second engine sees %lld memories", (long long)memory_count(b));
    out = verb(strata_engine_get, b, fmt("{\"id\": \"%s\"}", id));
    CHECK_CONTAINS(out, "lands at noon");
    strata_string_free(out);
    fails(strata_engine_get, b, fmt("{\"id\": \"%s\"}", other), STRATA_ERR_NOT_FOUND);
    out = verb(strata_engine_history, b, fmt("{\"id\": \"%s\"}", other));
    CHECK(count_occurrences(out, "\"event\":") == 2 && strstr(out, "\"event\":\"DELETE\"") != NULL, "history: %s", out);
    strata_string_free(out);
    out = verb(strata_engine_snapshots, b, NULL);
    CHECK_CONTAINS(out, "\"name\":\"v1\"");
    strata_string_free(out);
    strata_engine_close(a);
    strata_engine_close(b);
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

void snapshot__damaged_sqlite_snapshot_returns_STRATA_ERR_CORRUPT_naming_it_and_keeps_data(void)
{
    char dir[32];
    const char *config = NULL;
    REQUIRE(sqlite_folder(dir, &config) != NULL, "mkdtemp");
    strata_engine *engine = OPEN(config);
    REQUIRE(engine != NULL, "open");
    char id[64], later[64];
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Karl waters the plants on Sundays\"}", id, sizeof id), STRATA_OK);
    strata_string_free(verb(strata_engine_snapshot, engine, "{\"name\": \"v1\"}"));
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Stored after the snapshot\"}", later, sizeof later), STRATA_OK);

    const char *file = fmt("%s/s.db.snapshots/v1.sqlite", dir);
    FILE *f = fopen(file, "wb");
    REQUIRE(f != NULL, "fopen %s", file);
    for (int i = 0; i < 200; i++) fputs("damaged ", f);
    fclose(f);

    fails(strata_engine_rollback, engine, "{\"name\": \"v1\"}", STRATA_ERR_CORRUPT);
    CHECK_CONTAINS(last_message, file);
    CHECK(memory_count(engine) == 2, "a refused rollback changed the count to %lld", (long long)memory_count(engine));
    char *out = verb(strata_engine_history, engine, fmt("{\"id\": \"%s\"}", later));
    CHECK(count_occurrences(out, "\"event\":") == 1, "a refused rollback wrote history: %s", out);
    strata_string_free(out);
    strata_engine_close(engine);
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

void snapshot__plugin_without_snapshots_returns_STRATA_ERR_UNSUPPORTED(void)
{
    strata_engine *engine = OPEN(fmt("{\"store\": {\"backend\": \"flat\", \"plugin\": \"%s\"}}", plugin_path("libstrata-flat.so")));
    REQUIRE(engine != NULL, "open");
    fails(strata_engine_snapshot, engine, "{\"name\": \"x\"}", STRATA_ERR_UNSUPPORTED);
    CHECK_CONTAINS(last_message, "flat");
    fails(strata_engine_snapshots, engine, NULL, STRATA_ERR_UNSUPPORTED);
    fails(strata_engine_rollback, engine, "{\"name\": \"x\"}", STRATA_ERR_UNSUPPORTED);
    strata_engine_close(engine);
}
