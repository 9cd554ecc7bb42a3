/*
 * Tests/c/test_reembed.c: strata_engine_reembed and the embedding space every
 * store records (a SQLite store opened with another embedder is refused naming
 * both spaces).
 */
#define _XOPEN_SOURCE 700

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tests.h"

static const char *sqlite_config(const char *dir, const char *file, int dimension)
{
    return fmt("{\"store\": {\"backend\": \"sqlite\", \"plugin\": \"sqlite\", \"options\": {\"path\": \"%s/%s\"}},"
               " \"embedder\": {\"backend\": \"hashing\", \"options\": {\"dimension\": %d}}}", dir, file, dimension);
}

void reembed__moves_every_memory_to_the_target_space_and_answers_the_report(void)
{
    char dir[] = "/tmp/strata-c-reembed-XXXXXX";
    REQUIRE(mkdtemp(dir) != NULL, "mkdtemp");
    strata_engine *old = OPEN(sqlite_config(dir, "old.db", 64));
    REQUIRE(old != NULL, "open the old store");
    char id[64];
    REQUIRE_STATUS(store_one(old, "{\"content\": \"Alice prefers a window seat when she flies\"}", id, sizeof id), STRATA_OK);
    REQUIRE_STATUS(store_one(old, "{\"content\": \"Bob drinks his coffee black\"}", NULL, 0), STRATA_OK);
    strata_engine *target = OPEN(sqlite_config(dir, "new.db", 32));
    REQUIRE(target != NULL, "open the target");

    char *out = NULL;
    CHECK_STATUS(strata_engine_reembed(old, target, "{\"batch_size\": 1}", &out), STRATA_OK);
    CHECK_CONTAINS(out, "\"memories\":2");
    CHECK_CONTAINS(out, "\"embedded\":2");
    CHECK_CONTAINS(out, "\"model_id\":\"hashing-v1-32\"");
    strata_string_free(out);
    CHECK(memory_count(target) == 2, "both memories moved");
    CHECK_STATUS(strata_engine_stats(target, NULL, &out), STRATA_OK);
    CHECK_CONTAINS(out, "\"space\":{\"dimension\":32,\"embedder\":\"hashing\",\"model_id\":\"hashing-v1-32\",\"normalized\":true}");
    strata_string_free(out);
    char *hits = recall(target, "{\"query\": \"window seat\", \"k\": 1}");
    CHECK(hit_rank(hits, id) == 0, "the target recalls in its own space: %s", hits ? hits : "(null)");
    strata_string_free(hits);

    out = (char *)"not touched";
    CHECK_STATUS(strata_engine_reembed(old, old, NULL, &out), STRATA_ERR_INVALID_ARGUMENT);
    CHECK(out == NULL, "out_json is NULL after a failure");
    CHECK_STATUS(strata_engine_reembed(old, NULL, NULL, &out), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(strata_engine_reembed(old, target, "{\"batch\": 1}", &out), STRATA_ERR_INVALID_JSON);
    strata_engine_close(target);
    strata_engine_close(old);

    /* The moved store records its space: opening it with the old embedder's settings is refused. */
    strata_engine *wrong = NULL;
    CHECK_STATUS(strata_engine_open(&wrong, sqlite_config(dir, "new.db", 64)), STRATA_ERR_INVALID_CONFIG);
    /* Of another dimension, so the store refuses it before the engine reads the space: the
     * message still names the space the store holds, the configured one and the move. */
    CHECK_CONTAINS(strata_error_last(), "holds vectors of the embedding space hashing (hashing-v1-32, 32 dimensions, unit length)");
    CHECK_CONTAINS(strata_error_last(), "the configured embedder is hashing (hashing-v1-64, 64 dimensions)");
    CHECK_CONTAINS(strata_error_last(), "strata reembed --embedder hashing");
    CHECK(wrong == NULL, "no engine on a failure");
    (void)!system(fmt("rm -rf '%s'", dir));
}
