/*
 * Tests/c/test_engine.c: versions, status codes, opening, and the JSON verbs
 * of the embedded default engine, including every documented error path.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tests.h"

/* Five memories about unrelated things: recall must tell them apart. */
static const char *const facts[] = {
    "Alice prefers green tea in the morning",
    "The deployment pipeline runs on Kubernetes every night",
    "Bob supports Arsenal football club",
    "The quarterly budget review is scheduled for Friday",
    "Paris is the capital city of France",
};
enum { FACT_COUNT = 5 };

/* Stores the five facts (with metadata) and fills ids[]. */
static int store_facts(strata_engine *engine, char ids[FACT_COUNT][64])
{
    static const char *const users[] = {"alice", "ops", "bob", "finance", "geo"};
    for (int i = 0; i < FACT_COUNT; i++) {
        const char *request = fmt("{\"content\": \"%s\", \"metadata\": {\"user\": \"%s\", \"n\": %d}}", facts[i], users[i], i);
        if (!CHECK_STATUS(store_one(engine, request, ids[i], 64), STRATA_OK)) return 0;
        if (!CHECK(strncmp(ids[i], "m-", 2) == 0, "id \"%s\" should start with m-", ids[i])) return 0;
    }
    return 1;
}

/* ---- versions and status codes ------------------------------------------ */

void version__abi_version_matches_the_header(void)
{
    CHECK(strata_abi_version() == STRATA_ABI_VERSION, "library ABI 0x%x, header 0x%x", (unsigned)strata_abi_version(),
          (unsigned)STRATA_ABI_VERSION);
    CHECK(strata_abi_version() >> 16 == STRATA_ABI_VERSION_MAJOR, "major differs");
}

void version__version_string_matches_the_header(void)
{
    const char *v = strata_version();
    REQUIRE(v != NULL, "strata_version() is NULL");
    CHECK(strcmp(v, STRATA_VERSION_STRING) == 0, "library \"%s\", header \"%s\"", v, STRATA_VERSION_STRING);
    CHECK(strata_version() == v, "the version string should be static");
}

void status__every_code_has_its_own_name(void)
{
    static const struct {
        strata_status code;
        const char *name;
    } names[] = {
        {STRATA_OK, "STRATA_OK"},
        {STRATA_ERR_INVALID_ARGUMENT, "STRATA_ERR_INVALID_ARGUMENT"},
        {STRATA_ERR_NOT_FOUND, "STRATA_ERR_NOT_FOUND"},
        {STRATA_ERR_INVALID_CONFIG, "STRATA_ERR_INVALID_CONFIG"},
        {STRATA_ERR_PLUGIN, "STRATA_ERR_PLUGIN"},
        {STRATA_ERR_ABI_MISMATCH, "STRATA_ERR_ABI_MISMATCH"},
        {STRATA_ERR_IO, "STRATA_ERR_IO"},
        {STRATA_ERR_DIMENSION, "STRATA_ERR_DIMENSION"},
        {STRATA_ERR_INVALID_VECTOR, "STRATA_ERR_INVALID_VECTOR"},
        {STRATA_ERR_INVALID_JSON, "STRATA_ERR_INVALID_JSON"},
        {STRATA_ERR_INVALID_UTF8, "STRATA_ERR_INVALID_UTF8"},
        {STRATA_ERR_INVALID_FILTER, "STRATA_ERR_INVALID_FILTER"},
        {STRATA_ERR_BACKEND, "STRATA_ERR_BACKEND"},
        {STRATA_ERR_UNSUPPORTED, "STRATA_ERR_UNSUPPORTED"},
        {STRATA_ERR_CONFLICT, "STRATA_ERR_CONFLICT"},
        {STRATA_ERR_INTERNAL, "STRATA_ERR_INTERNAL"},
        {STRATA_ERR_CORRUPT, "STRATA_ERR_CORRUPT"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *got = strata_status_name(names[i].code);
        CHECK(got != NULL && strcmp(got, names[i].name) == 0, "code %d: expected %s, got %s", (int)names[i].code,
              names[i].name, got != NULL ? got : "NULL");
    }
}

void status__unknown_code_is_named_STRATA_ERR_UNKNOWN(void)
{
    const strata_status unknown[] = {1, -17, -1000, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *got = strata_status_name(unknown[i]);
        CHECK(got != NULL && strcmp(got, "STRATA_ERR_UNKNOWN") == 0, "code %d named %s", (int)unknown[i],
              got != NULL ? got : "NULL");
    }
}

void status__string_free_of_null_is_a_noop(void)
{
    strata_string_free(NULL);
    CHECK(1, "survived");
}

/* ---- open and close ----------------------------------------------------- */

void open__null_config_opens_embedded_default(void)
{
    strata_engine *engine = NULL;
    REQUIRE_STATUS(strata_engine_open(&engine, NULL), STRATA_OK);
    CHECK(engine != NULL, "engine is NULL after STRATA_OK");
    CHECK(strcmp(last_message, "") == 0, "error_last after success: \"%s\"", last_message);
    char *out = NULL;
    if (CHECK_STATUS(strata_engine_stats(engine, NULL, &out), STRATA_OK)) {
        CHECK_CONTAINS(out, "\"memories\":0");
        CHECK_CONTAINS(out, "\"dimension\":256");
        CHECK_CONTAINS(out, "\"store\":\"memory\"");
        CHECK_CONTAINS(out, "\"summarizer\":\"extractive\"");
    }
    strata_string_free(out);
    strata_engine_close(engine);
}

void open__empty_config_opens_embedded_default(void)
{
    strata_engine *engine = NULL;
    REQUIRE_STATUS(strata_engine_open(&engine, ""), STRATA_OK);
    CHECK(engine != NULL, "engine is NULL after STRATA_OK");
    CHECK(memory_count(engine) == 0, "a new engine holds memories");
    strata_engine_close(engine);
}

void open__empty_object_opens_embedded_default(void)
{
    strata_engine *engine = OPEN("{}");
    CHECK(memory_count(engine) == 0, "a new engine holds memories");
    strata_engine_close(engine);
}

void open__malformed_json_returns_STRATA_ERR_INVALID_JSON(void)
{
    const char *const bad[] = {"{", "{\"store\": }", "nope", "{\"a\": 1,}", "[1, 2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        strata_engine *engine = (strata_engine *)&engine; /* not NULL: open must reset it */
        CHECK_STATUS(strata_engine_open(&engine, bad[i]), STRATA_ERR_INVALID_JSON);
        CHECK(engine == NULL, "out must be NULL after a failure (config %s)", bad[i]);
        CHECK(last_message[0] != '\0', "no message for config %s", bad[i]);
    }
}

void open__unknown_key_returns_STRATA_ERR_INVALID_CONFIG_naming_the_key(void)
{
    strata_engine *engine = NULL;
    CHECK_STATUS(strata_engine_open(&engine, "{\"colour\": \"blue\"}"), STRATA_ERR_INVALID_CONFIG);
    CHECK(engine == NULL, "out must be NULL after a failure");
    CHECK_CONTAINS(last_message, "colour");

    CHECK_STATUS(strata_engine_open(&engine, "{\"recall\": {\"kk\": 3}}"), STRATA_ERR_INVALID_CONFIG);
    CHECK_CONTAINS(last_message, "recall.kk");
}

void open__bad_value_returns_STRATA_ERR_INVALID_CONFIG_naming_the_key(void)
{
    strata_engine *engine = NULL;
    CHECK_STATUS(strata_engine_open(&engine, "{\"embedder\": {\"backend\": \"hashing\", \"options\": {\"dimension\": 2}}}"),
                 STRATA_ERR_INVALID_CONFIG);
    CHECK_CONTAINS(last_message, "dimension");
    CHECK_STATUS(strata_engine_open(&engine, "{\"dedupe\": {\"threshold\": 7}}"), STRATA_ERR_INVALID_CONFIG);
    CHECK_CONTAINS(last_message, "threshold");
    CHECK(engine == NULL, "out must be NULL after a failure");
}

void open__null_out_returns_STRATA_ERR_INVALID_ARGUMENT(void)
{
    CHECK_STATUS(strata_engine_open(NULL, NULL), STRATA_ERR_INVALID_ARGUMENT);
    CHECK(last_message[0] != '\0', "no message");
}

void close__null_is_a_noop(void)
{
    strata_engine_close(NULL);
    CHECK(1, "survived");
}

/* ---- store, recall, get ------------------------------------------------- */

void store__single_memory_answers_its_id(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char *out = NULL;
    if (CHECK_STATUS(strata_engine_store(engine, "{\"content\": \"The cat sleeps on the red sofa\"}", &out), STRATA_OK)) {
        char id[64];
        CHECK(json_string(out, "id", id, sizeof id) && strncmp(id, "m-", 2) == 0, "answer: %s", out);
        CHECK_CONTAINS(out, "\"deduplicated\":[]");
    }
    CHECK(memory_count(engine) == 1, "count %lld", (long long)memory_count(engine));
    strata_string_free(out);
    strata_engine_close(engine);
}

void store__batch_answers_ids_in_request_order(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char *out = NULL;
    REQUIRE_STATUS(strata_engine_store(engine,
                                       "{\"items\": [{\"content\": \"first: volcanoes erupt lava\"},"
                                       " {\"content\": \"second: penguins live in Antarctica\"},"
                                       " {\"content\": \"third: violins have four strings\"}]}",
                                       &out),
                   STRATA_OK);
    CHECK(count_occurrences(out, "\"m-") == 3, "answer: %s", out);
    CHECK(memory_count(engine) == 3, "count %lld", (long long)memory_count(engine));

    /* ids[i] must hold the i-th content. */
    const char *at = strstr(out, "\"ids\":[");
    static const char *const firsts[] = {"first:", "second:", "third:"};
    for (int i = 0; i < 3 && at != NULL; i++) {
        at = strstr(at, "\"m-");
        if (!CHECK(at != NULL, "id %d missing: %s", i, out)) break;
        char id[64];
        sscanf(at + 1, "%63[^\"]", id);
        at += 1;
        char *memory = NULL;
        if (CHECK_STATUS(strata_engine_get(engine, fmt("{\"id\": \"%s\"}", id), &memory), STRATA_OK)) {
            CHECK_CONTAINS(memory, firsts[i]);
        }
        strata_string_free(memory);
    }
    strata_string_free(out);
    strata_engine_close(engine);
}

void store__near_identical_memory_in_same_scope_is_deduplicated(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char first[64], second[64];
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Carol is allergic to peanuts\"}", first, sizeof first), STRATA_OK);
    char *out = NULL;
    REQUIRE_STATUS(strata_engine_store(engine, "{\"content\": \"Carol is allergic to peanuts\"}", &out), STRATA_OK);
    json_string(out, "id", second, sizeof second);
    CHECK(strcmp(first, second) == 0, "second store got id %s, expected the existing %s", second, first);
    CHECK_CONTAINS(out, fmt("\"deduplicated\":[\"%s\"]", first));
    CHECK(memory_count(engine) == 1, "count %lld", (long long)memory_count(engine));
    strata_string_free(out);

    /* Another scope keeps its own copy. */
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Carol is allergic to peanuts\", \"scope\": \"org/other\"}", second,
                             sizeof second),
                   STRATA_OK);
    CHECK(strcmp(first, second) != 0, "a different scope must not be deduplicated");
    CHECK(memory_count(engine) == 2, "count %lld", (long long)memory_count(engine));
    strata_engine_close(engine);
}

void store__unicode_and_escapes_round_trip(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char id[64];
    /* UTF-8 as bytes, a \u escape, a quote, a backslash and a newline. */
    REQUIRE_STATUS(store_one(engine,
                             "{\"content\": \"caf\xc3\xa9 cr\xc3\xa8me \xe2\x98\x95 \\u00e9t\xc3\xa9 \\\"quoted\\\" back\\\\slash\\nline\","
                             " \"metadata\": {\"emoji\": \"\xf0\x9f\x8d\xb5\"}}",
                             id, sizeof id),
                   STRATA_OK);
    char *out = NULL;
    REQUIRE_STATUS(strata_engine_get(engine, fmt("{\"id\": \"%s\"}", id), &out), STRATA_OK);
    CHECK_CONTAINS(out, "caf\xc3\xa9 cr\xc3\xa8me \xe2\x98\x95 \xc3\xa9t\xc3\xa9 \\\"quoted\\\" back\\\\slash\\nline");
    CHECK_CONTAINS(out, "\"emoji\":\"\xf0\x9f\x8d\xb5\"");
    strata_string_free(out);
    strata_engine_close(engine);
}

void recall__puts_the_most_relevant_memory_first(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char ids[FACT_COUNT][64];
    REQUIRE(store_facts(engine, ids), "store");
    static const char *const queries[FACT_COUNT] = {
        "what tea does Alice like to drink",
        "when does the Kubernetes deployment pipeline run",
        "which football club does Bob support",
        "when is the quarterly budget review",
        "what is the capital of France",
    };
    for (int i = 0; i < FACT_COUNT; i++) {
        char *out = recall(engine, fmt("{\"query\": \"%s\", \"k\": 5}", queries[i]));
        if (out == NULL) continue;
        CHECK(hit_rank(out, ids[i]) == 0, "query \"%s\": expected \"%s\" first, got rank %d: %s", queries[i], facts[i],
              hit_rank(out, ids[i]), out);
        strata_string_free(out);
    }
    strata_engine_close(engine);
}

void recall__reports_every_part_of_the_score(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char ids[FACT_COUNT][64];
    REQUIRE(store_facts(engine, ids), "store");
    char *out = recall(engine, "{\"query\": \"green tea\", \"k\": 1}");
    REQUIRE(out != NULL, "recall");
    static const char *const parts[] = {"\"score\":", "\"scores\":{", "\"vector\":", "\"keyword\":", "\"fused\":",
                                        "\"recency\":", "\"importance\":", "\"access\":", "\"tier\":\"working\"",
                                        "\"category\":\"general\"", "\"metadata\":{", "\"scope\":\"\""};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) CHECK_CONTAINS(out, parts[i]);
    CHECK(hit_count(out) == 1, "k=1 gave %d hits", hit_count(out));
    strata_string_free(out);
    strata_engine_close(engine);
}

void recall__honours_k(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char ids[FACT_COUNT][64];
    REQUIRE(store_facts(engine, ids), "store");
    for (int k = 1; k <= FACT_COUNT + 2; k++) {
        char *out = recall(engine, fmt("{\"query\": \"the\", \"k\": %d}", k));
        int expected = k < FACT_COUNT ? k : FACT_COUNT;
        CHECK(hit_count(out) == expected, "k=%d: %d hits", k, hit_count(out));
        strata_string_free(out);
    }
    strata_engine_close(engine);
}

void recall__metadata_filter_keeps_only_matching_memories(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char ids[FACT_COUNT][64];
    REQUIRE(store_facts(engine, ids), "store");

    /* Equality: the tea query would rank Alice first, but the filter says bob. */
    char *out = recall(engine, "{\"query\": \"green tea Alice\", \"k\": 5, \"filter\": {\"user\": \"bob\"}}");
    CHECK(hit_count(out) == 1 && hit_rank(out, ids[2]) == 0, "expected only Bob's memory: %s", out);
    strata_string_free(out);

    /* Operators: n >= 3 is facts 3 and 4. */
    out = recall(engine, "{\"query\": \"budget\", \"k\": 5, \"filter\": {\"n\": {\"$gte\": 3}}}");
    CHECK(hit_count(out) == 2 && hit_rank(out, ids[3]) == 0 && hit_rank(out, ids[4]) == 1, "n >= 3: %s", out);
    strata_string_free(out);

    out = recall(engine, "{\"query\": \"anything\", \"k\": 5, \"filter\": {\"$or\": [{\"user\": {\"$in\": [\"alice\", \"geo\"]}},"
                         " {\"n\": 1}]}}");
    CHECK(hit_count(out) == 3 && hit_rank(out, ids[0]) >= 0 && hit_rank(out, ids[1]) >= 0 && hit_rank(out, ids[4]) >= 0,
          "$or/$in: %s", out);
    strata_string_free(out);

    out = recall(engine, "{\"query\": \"anything\", \"k\": 5, \"filter\": {\"user\": \"nobody\"}}");
    CHECK(hit_count(out) == 0, "no match should answer no hits: %s", out);
    strata_string_free(out);
    strata_engine_close(engine);
}

void recall__scope_sees_own_shared_parent_and_global_memories_only(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char own[64], sibling[64], parent_shared[64], parent_local[64], global[64];
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"planner note about rivers\", \"scope\": \"org/planner\"}", own, 64), STRATA_OK);
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"sibling note about rivers\", \"scope\": \"org/coder\"}", sibling, 64), STRATA_OK);
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"shared org note about rivers\", \"scope\": \"org\", \"visibility\": \"shared\"}",
                             parent_shared, 64),
                   STRATA_OK);
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"private org note about rivers\", \"scope\": \"org\"}", parent_local, 64), STRATA_OK);
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"global note about rivers\", \"scope\": \"elsewhere\", \"visibility\": \"global\"}",
                             global, 64),
                   STRATA_OK);

    char *out = recall(engine, "{\"query\": \"rivers\", \"k\": 10, \"scope\": \"org/planner\"}");
    CHECK(hit_rank(out, own) >= 0, "own memory missing: %s", out);
    CHECK(hit_rank(out, parent_shared) >= 0, "parent's shared memory missing: %s", out);
    CHECK(hit_rank(out, global) >= 0, "global memory missing: %s", out);
    CHECK(hit_rank(out, sibling) < 0, "a sibling's local memory is visible: %s", out);
    CHECK(hit_rank(out, parent_local) < 0, "the parent's local memory is visible: %s", out);
    strata_string_free(out);

    out = recall(engine, "{\"query\": \"rivers\", \"k\": 10}");
    CHECK(hit_count(out) == 5, "without scope every memory is visible: %s", out);
    strata_string_free(out);
    strata_engine_close(engine);
}

void get__answers_the_stored_memory(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char id[64];
    REQUIRE_STATUS(store_one(engine,
                             "{\"content\": \"Dave's birthday is on 3 March\", \"metadata\": {\"user\": \"dave\", \"tags\": [\"family\"]},"
                             " \"scope\": \"org/assistant\", \"category\": \"dates\", \"importance\": 0.9, \"pinned\": true}",
                             id, sizeof id),
                   STRATA_OK);
    char *out = NULL;
    REQUIRE_STATUS(strata_engine_get(engine, fmt("{\"id\": \"%s\"}", id), &out), STRATA_OK);
    CHECK_CONTAINS(out, fmt("\"id\":\"%s\"", id));
    CHECK_CONTAINS(out, "\"content\":\"Dave's birthday is on 3 March\"");
    CHECK_CONTAINS(out, "\"metadata\":{\"tags\":[\"family\"],\"user\":\"dave\"}");
    CHECK_CONTAINS(out, "\"scope\":\"org/assistant\"");
    CHECK_CONTAINS(out, "\"category\":\"dates\"");
    CHECK_CONTAINS(out, "\"importance\":0.9");
    CHECK_CONTAINS(out, "\"pinned\":true");
    CHECK_CONTAINS(out, "\"visibility\":\"local\"");
    CHECK_CONTAINS(out, "\"created_at\":\"20");
    strata_string_free(out);
    strata_engine_close(engine);
}

/* ---- update, forget, history, stats ------------------------------------- */

void update__new_content_is_re_embedded_and_found_by_its_new_words(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char ids[FACT_COUNT][64], id[64];
    REQUIRE(store_facts(engine, ids), "store");
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"The meeting is in room 101\"}", id, sizeof id), STRATA_OK);

    char *out = NULL;
    REQUIRE_STATUS(strata_engine_update(engine, fmt("{\"id\": \"%s\", \"content\": \"Lunch order: sushi with extra wasabi\"}", id),
                                        &out),
                   STRATA_OK);
    CHECK_CONTAINS(out, "\"content\":\"Lunch order: sushi with extra wasabi\"");
    CHECK_CONTAINS(out, fmt("\"id\":\"%s\"", id));
    strata_string_free(out);
    CHECK(memory_count(engine) == FACT_COUNT + 1, "update changed the count");

    out = recall(engine, "{\"query\": \"sushi wasabi lunch\", \"k\": 3}");
    CHECK(hit_rank(out, id) == 0, "the new words should find the updated memory first: %s", out);
    const char *keyword = hit_field(out, id, "keyword");
    CHECK(keyword != NULL && strncmp(keyword, "null", 4) != 0, "new words should be a keyword match: %s", out);
    strata_string_free(out);

    /* The old words are gone from the keyword index. */
    out = recall(engine, "{\"query\": \"meeting room 101\", \"k\": 10}");
    keyword = hit_field(out, id, "keyword");
    CHECK(keyword == NULL || strncmp(keyword, "null", 4) == 0, "old words still match the keyword index: %s", out);
    strata_string_free(out);
    strata_engine_close(engine);
}

void update__metadata_replaces_the_whole_object(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char id[64];
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Eve owns a bicycle\", \"metadata\": {\"a\": 1, \"b\": 2}}", id, sizeof id),
                   STRATA_OK);
    char *out = NULL;
    REQUIRE_STATUS(strata_engine_update(engine, fmt("{\"id\": \"%s\", \"metadata\": {\"c\": 3}}", id), &out), STRATA_OK);
    CHECK_CONTAINS(out, "\"metadata\":{\"c\":3}");
    CHECK_CONTAINS(out, "\"content\":\"Eve owns a bicycle\"");
    strata_string_free(out);
    strata_engine_close(engine);
}

void update__unknown_id_returns_STRATA_ERR_NOT_FOUND_naming_it_and_keeps_data(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char ids[FACT_COUNT][64];
    REQUIRE(store_facts(engine, ids), "store");
    char *out = (char *)"sentinel";
    CHECK_STATUS(strata_engine_update(engine, "{\"id\": \"m-does-not-exist\", \"content\": \"x\"}", &out), STRATA_ERR_NOT_FOUND);
    CHECK(out == NULL, "out_json must be NULL after a failure");
    CHECK_CONTAINS(last_message, "m-does-not-exist");
    CHECK(memory_count(engine) == FACT_COUNT, "count changed");
    strata_engine_close(engine);
}

void update__changing_nothing_returns_STRATA_ERR_INVALID_JSON(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char id[64];
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Frank plays the oboe\"}", id, sizeof id), STRATA_OK);
    char *out = NULL;
    CHECK_STATUS(strata_engine_update(engine, fmt("{\"id\": \"%s\"}", id), &out), STRATA_ERR_INVALID_JSON);
    CHECK_STATUS(strata_engine_update(engine, fmt("{\"id\": \"%s\", \"contents\": \"typo\"}", id), &out),
                 STRATA_ERR_INVALID_JSON);
    CHECK_CONTAINS(last_message, "contents");
    CHECK(out == NULL, "out_json must be NULL after a failure");
    strata_engine_close(engine);
}

void forget__by_id_removes_that_memory_only(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char ids[FACT_COUNT][64];
    REQUIRE(store_facts(engine, ids), "store");
    char *out = NULL;
    REQUIRE_STATUS(strata_engine_forget(engine, fmt("{\"id\": \"%s\"}", ids[1]), &out), STRATA_OK);
    CHECK_CONTAINS(out, fmt("\"forgotten\":[\"%s\"]", ids[1]));
    strata_string_free(out);
    out = NULL;
    CHECK(memory_count(engine) == FACT_COUNT - 1, "count %lld", (long long)memory_count(engine));
    CHECK_STATUS(strata_engine_get(engine, fmt("{\"id\": \"%s\"}", ids[1]), &out), STRATA_ERR_NOT_FOUND);
    CHECK_STATUS(strata_engine_get(engine, fmt("{\"id\": \"%s\"}", ids[0]), &out), STRATA_OK);
    strata_string_free(out);

    out = recall(engine, "{\"query\": \"Kubernetes deployment pipeline\", \"k\": 10}");
    CHECK(hit_rank(out, ids[1]) < 0, "a forgotten memory is recalled: %s", out);
    strata_string_free(out);
    strata_engine_close(engine);
}

void forget__by_filter_removes_only_matching_memories(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char a1[64], a2[64], b[64];
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Alice likes hiking in the Alps\", \"metadata\": {\"user\": \"alice\"}}", a1, 64),
                   STRATA_OK);
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Alice drives an electric car\", \"metadata\": {\"user\": \"alice\"}}", a2, 64),
                   STRATA_OK);
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Bob collects vinyl records\", \"metadata\": {\"user\": \"bob\"}}", b, 64),
                   STRATA_OK);
    char *out = NULL;
    REQUIRE_STATUS(strata_engine_forget(engine, "{\"filter\": {\"user\": \"alice\"}}", &out), STRATA_OK);
    CHECK(count_occurrences(out, "\"m-") == 2, "answer: %s", out);
    CHECK_CONTAINS(out, a1);
    CHECK_CONTAINS(out, a2);
    strata_string_free(out);
    out = NULL;
    CHECK(memory_count(engine) == 1, "count %lld", (long long)memory_count(engine));
    CHECK_STATUS(strata_engine_get(engine, fmt("{\"id\": \"%s\"}", b), &out), STRATA_OK);
    strata_string_free(out);
    strata_engine_close(engine);
}

void forget__filter_matching_nothing_answers_an_empty_list(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char ids[FACT_COUNT][64];
    REQUIRE(store_facts(engine, ids), "store");
    char *out = NULL;
    REQUIRE_STATUS(strata_engine_forget(engine, "{\"filter\": {\"user\": \"nobody\"}}", &out), STRATA_OK);
    CHECK_CONTAINS(out, "\"forgotten\":[]");
    strata_string_free(out);
    CHECK(memory_count(engine) == FACT_COUNT, "count changed");
    strata_engine_close(engine);
}

void forget__unknown_id_returns_STRATA_ERR_NOT_FOUND_and_keeps_data(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char ids[FACT_COUNT][64];
    REQUIRE(store_facts(engine, ids), "store");
    char *out = (char *)"sentinel";
    CHECK_STATUS(strata_engine_forget(engine, "{\"id\": \"m-never-stored\"}", &out), STRATA_ERR_NOT_FOUND);
    CHECK(out == NULL, "out_json must be NULL after a failure");
    CHECK_CONTAINS(last_message, "m-never-stored");
    CHECK(memory_count(engine) == FACT_COUNT, "count changed");
    strata_engine_close(engine);
}

void history__lists_ADD_UPDATE_DELETE_in_order(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char id[64];
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Grace works from Lisbon\"}", id, sizeof id), STRATA_OK);
    char *out = NULL;
    REQUIRE_STATUS(strata_engine_update(engine, fmt("{\"id\": \"%s\", \"content\": \"Grace works from Porto\"}", id), &out),
                   STRATA_OK);
    strata_string_free(out);
    REQUIRE_STATUS(strata_engine_forget(engine, fmt("{\"id\": \"%s\"}", id), &out), STRATA_OK);
    strata_string_free(out);

    /* A forgotten id still has its history. */
    REQUIRE_STATUS(strata_engine_history(engine, fmt("{\"id\": \"%s\"}", id), &out), STRATA_OK);
    CHECK(count_occurrences(out, "\"event\":") == 3, "expected 3 events: %s", out);
    const char *add = strstr(out, "\"event\":\"ADD\"");
    const char *update = strstr(out, "\"event\":\"UPDATE\"");
    const char *del = strstr(out, "\"event\":\"DELETE\"");
    CHECK(add != NULL && update != NULL && del != NULL && add < update && update < del, "order ADD, UPDATE, DELETE: %s", out);
    CHECK(count_occurrences(out, fmt("\"memory_id\":\"%s\"", id)) == 3, "memory_id: %s", out);
    /* The UPDATE row carries the old and the new content; the DELETE row keeps the old value. */
    CHECK(update != NULL && strstr(update, "Lisbon") != NULL && strstr(update, "Porto") != NULL, "UPDATE old/new: %s", out);
    CHECK(del != NULL && strstr(del, "Porto") != NULL, "DELETE keeps the old value: %s", out);
    strata_string_free(out);
    strata_engine_close(engine);
}

void history__unknown_id_returns_STRATA_ERR_NOT_FOUND(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char *out = (char *)"sentinel";
    CHECK_STATUS(strata_engine_history(engine, "{\"id\": \"m-ghost\"}", &out), STRATA_ERR_NOT_FOUND);
    CHECK(out == NULL, "out_json must be NULL after a failure");
    CHECK_CONTAINS(last_message, "m-ghost");
    strata_engine_close(engine);
}

void stats__counts_memories_by_scope_tier_and_category(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Heidi studies marine biology\", \"scope\": \"org/a\"}", NULL, 0), STRATA_OK);
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Ivan repairs old clocks\", \"scope\": \"org/a\", \"category\": \"hobby\"}",
                             NULL, 0),
                   STRATA_OK);
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Judy speaks fluent Japanese\", \"scope\": \"org/b\"}", NULL, 0), STRATA_OK);
    char *out = NULL;
    REQUIRE_STATUS(strata_engine_stats(engine, "{}", &out), STRATA_OK);
    CHECK_CONTAINS(out, "\"memories\":3");
    CHECK_CONTAINS(out, "\"by_scope\":{\"org/a\":2,\"org/b\":1}");
    CHECK_CONTAINS(out, "\"by_tier\":{\"working\":3}");
    CHECK_CONTAINS(out, "\"by_category\":{\"general\":2,\"hobby\":1}");
    CHECK_CONTAINS(out, "\"embedder\":\"hashing-v1-256\"");
    CHECK_CONTAINS(out, "\"operations\":{");
    strata_string_free(out);
    strata_engine_close(engine);
}

/* ---- the last error ----------------------------------------------------- */

void error_last__is_empty_before_and_after_a_successful_call(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char *out = NULL;
    CHECK_STATUS(strata_engine_get(engine, "{\"id\": \"m-nope\"}", &out), STRATA_ERR_NOT_FOUND);
    CHECK(last_message[0] != '\0', "a failure must leave a message");
    CHECK_STATUS(strata_engine_stats(engine, NULL, &out), STRATA_OK);
    CHECK(strcmp(last_message, "") == 0, "after success: \"%s\"", last_message);
    strata_string_free(out);
    strata_engine_close(engine);
}

void error_last__names_the_unknown_id(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char *out = (char *)"sentinel";
    CHECK_STATUS(strata_engine_get(engine, "{\"id\": \"m-0123456789abcdef\"}", &out), STRATA_ERR_NOT_FOUND);
    CHECK(out == NULL, "out_json must be NULL after a failure");
    CHECK_CONTAINS(last_message, "m-0123456789abcdef");
    strata_engine_close(engine);
}

/* ---- error paths keep the data ------------------------------------------ */

void store__malformed_json_returns_STRATA_ERR_INVALID_JSON_and_keeps_data(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char ids[FACT_COUNT][64];
    REQUIRE(store_facts(engine, ids), "store");
    const char *const bad[] = {"{\"content\": ", "{content: \"x\"}", "{\"content\": \"x\"} trailing", "[1]",
                               "{\"content\": 42}", "{\"items\": [{\"content\": \"ok\"}, {\"content\": 3}]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out = (char *)"sentinel";
        CHECK_STATUS(strata_engine_store(engine, bad[i], &out), STRATA_ERR_INVALID_JSON);
        CHECK(out == NULL, "out_json must be NULL after a failure (%s)", bad[i]);
    }
    CHECK(memory_count(engine) == FACT_COUNT, "count %lld", (long long)memory_count(engine));
    strata_engine_close(engine);
}

void store__unknown_key_returns_STRATA_ERR_INVALID_JSON_naming_it_and_keeps_data(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char ids[FACT_COUNT][64];
    REQUIRE(store_facts(engine, ids), "store");
    char *out = NULL;
    CHECK_STATUS(strata_engine_store(engine, "{\"content\": \"x\", \"metdata\": {}}", &out), STRATA_ERR_INVALID_JSON);
    CHECK_CONTAINS(last_message, "metdata");
    CHECK_STATUS(strata_engine_recall(engine, "{\"query\": \"x\", \"kk\": 3}", &out), STRATA_ERR_INVALID_JSON);
    CHECK_CONTAINS(last_message, "kk");
    CHECK_STATUS(strata_engine_store(engine, "{\"items\": [{\"content\": \"x\", \"scoop\": \"org\"}]}", &out),
                 STRATA_ERR_INVALID_JSON);
    CHECK_CONTAINS(last_message, "scoop");
    CHECK(memory_count(engine) == FACT_COUNT, "count %lld", (long long)memory_count(engine));
    strata_engine_close(engine);
}

void store__invalid_utf8_returns_STRATA_ERR_INVALID_UTF8_and_keeps_data(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char ids[FACT_COUNT][64];
    REQUIRE(store_facts(engine, ids), "store");
    const char *const bad[] = {
        "{\"content\": \"bad \xff\xfe bytes\"}",
        "{\"content\": \"truncated \xc3\"}",
        "{\"content\": \"overlong \xc0\xaf\"}",
        "{\"content\": \"ok\", \"metadata\": {\"k\xff\": 1}}",
        "{\"items\": [{\"content\": \"fine\"}, {\"content\": \"surrogate \xed\xa0\x80\"}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out = (char *)"sentinel";
        CHECK_STATUS(strata_engine_store(engine, bad[i], &out), STRATA_ERR_INVALID_UTF8);
        CHECK(out == NULL, "out_json must be NULL after a failure (request %zu)", i);
    }
    char *out = NULL;
    CHECK_STATUS(strata_engine_recall(engine, "{\"query\": \"\xc3\x28\"}", &out), STRATA_ERR_INVALID_UTF8);
    CHECK(memory_count(engine) == FACT_COUNT, "count %lld", (long long)memory_count(engine));
    strata_engine_close(engine);
}

void store__importance_out_of_range_returns_STRATA_ERR_INVALID_ARGUMENT_and_keeps_data(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char ids[FACT_COUNT][64];
    REQUIRE(store_facts(engine, ids), "store");
    char *out = NULL;
    CHECK_STATUS(strata_engine_store(engine, "{\"content\": \"x\", \"importance\": 1.5}", &out), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(last_message, "importance");
    CHECK_STATUS(strata_engine_store(engine, "{\"items\": [{\"content\": \"fine\"}, {\"content\": \"y\", \"importance\": -0.1}]}", &out),
                 STRATA_ERR_INVALID_ARGUMENT);
    CHECK(memory_count(engine) == FACT_COUNT, "a failing batch stored something: count %lld", (long long)memory_count(engine));
    strata_engine_close(engine);
}

void recall__bad_filter_operator_returns_STRATA_ERR_INVALID_FILTER_and_keeps_data(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char ids[FACT_COUNT][64];
    REQUIRE(store_facts(engine, ids), "store");
    char *out = (char *)"sentinel";
    CHECK_STATUS(strata_engine_recall(engine, "{\"query\": \"tea\", \"filter\": {\"user\": {\"$bogus\": 1}}}", &out),
                 STRATA_ERR_INVALID_FILTER);
    CHECK(out == NULL, "out_json must be NULL after a failure");
    CHECK_CONTAINS(last_message, "$bogus");
    CHECK_STATUS(strata_engine_recall(engine, "{\"query\": \"tea\", \"filter\": {\"$and\": 3}}", &out), STRATA_ERR_INVALID_FILTER);
    CHECK_STATUS(strata_engine_forget(engine, "{\"filter\": {\"n\": {\"$gt\": 1, \"$frob\": 2}}}", &out), STRATA_ERR_INVALID_FILTER);
    CHECK_CONTAINS(last_message, "$frob");
    CHECK(memory_count(engine) == FACT_COUNT, "count %lld", (long long)memory_count(engine));
    strata_engine_close(engine);
}

void verbs__null_engine_returns_STRATA_ERR_INVALID_ARGUMENT(void)
{
    char *out = (char *)"sentinel";
    float v[4] = {0};
    uint64_t sub = 0;
    CHECK_STATUS(strata_engine_store(NULL, "{\"content\": \"x\"}", &out), STRATA_ERR_INVALID_ARGUMENT);
    CHECK(out == NULL, "out_json must be NULL after a failure");
    CHECK_STATUS(strata_engine_recall(NULL, "{\"query\": \"x\"}", &out), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(strata_engine_get(NULL, "{\"id\": \"m-1\"}", &out), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(strata_engine_update(NULL, "{\"id\": \"m-1\", \"content\": \"x\"}", &out), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(strata_engine_forget(NULL, "{\"id\": \"m-1\"}", &out), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(strata_engine_history(NULL, "{\"id\": \"m-1\"}", &out), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(strata_engine_stats(NULL, NULL, &out), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(strata_engine_store_vectors(NULL, NULL, v, 1, 4, &out), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(strata_engine_recall_vector(NULL, NULL, v, 4, &out), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(strata_engine_subscribe(NULL, NULL, NULL, &sub), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(strata_engine_unsubscribe(NULL, 1), STRATA_ERR_INVALID_ARGUMENT);
    CHECK(out == NULL, "out_json must be NULL after a failure");
}

void verbs__null_out_json_returns_STRATA_ERR_INVALID_ARGUMENT_and_keeps_data(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char ids[FACT_COUNT][64];
    REQUIRE(store_facts(engine, ids), "store");
    CHECK_STATUS(strata_engine_store(engine, "{\"content\": \"lost answer\"}", NULL), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(strata_engine_forget(engine, fmt("{\"id\": \"%s\"}", ids[0]), NULL), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(strata_engine_stats(engine, NULL, NULL), STRATA_ERR_INVALID_ARGUMENT);
    CHECK(memory_count(engine) == FACT_COUNT, "count %lld", (long long)memory_count(engine));
    strata_engine_close(engine);
}

void verbs__missing_required_field_returns_STRATA_ERR_INVALID_JSON(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char *out = NULL;
    /* A recall without "query" is no longer one of them: since ABI 1.7 it ranks by recency and importance. */
    CHECK_STATUS(strata_engine_get(engine, "{}", &out), STRATA_ERR_INVALID_JSON);
    CHECK_CONTAINS(last_message, "id");
    CHECK_STATUS(strata_engine_forget(engine, "{}", &out), STRATA_ERR_INVALID_JSON);
    CHECK_STATUS(strata_engine_history(engine, "{\"id\": 7}", &out), STRATA_ERR_INVALID_JSON);
    strata_engine_close(engine);
}

/* ---- events ------------------------------------------------------------- */

typedef struct event_counts {
    int stored, updated, forgotten, deduplicated, other, total;
    char last_id[64];
} event_counts;

static void count_event(void *user_data, const char *event_json)
{
    event_counts *c = user_data;
    c->total++;
    if (strstr(event_json, "\"type\":\"memory.stored\"") != NULL) c->stored++;
    else if (strstr(event_json, "\"type\":\"memory.updated\"") != NULL) c->updated++;
    else if (strstr(event_json, "\"type\":\"memory.forgotten\"") != NULL) c->forgotten++;
    else if (strstr(event_json, "\"type\":\"memory.deduplicated\"") != NULL) c->deduplicated++;
    else c->other++;
    json_string(event_json, "memory_id", c->last_id, sizeof c->last_id);
}

void events__callback_counts_stored_updated_and_forgotten(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    event_counts counts = {0};
    uint64_t subscription = 0;
    REQUIRE_STATUS(strata_engine_subscribe(engine, count_event, &counts, &subscription), STRATA_OK);
    CHECK(subscription != 0, "a subscription token is never 0");

    char id[64], *out = NULL;
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Ken grows tomatoes\", \"metadata\": {\"user\": \"ken\"}}", id, sizeof id),
                   STRATA_OK);
    CHECK(counts.stored == 1 && strcmp(counts.last_id, id) == 0, "after one store: stored=%d last=%s", counts.stored,
          counts.last_id);
    REQUIRE_STATUS(strata_engine_store(engine,
                                       "{\"items\": [{\"content\": \"Liam builds model ships\", \"metadata\": {\"user\": \"liam\"}},"
                                       " {\"content\": \"Mia runs marathons\", \"metadata\": {\"user\": \"mia\"}}]}",
                                       &out),
                   STRATA_OK);
    strata_string_free(out);
    REQUIRE_STATUS(strata_engine_update(engine, fmt("{\"id\": \"%s\", \"content\": \"Ken grows cucumbers\"}", id), &out), STRATA_OK);
    strata_string_free(out);
    REQUIRE_STATUS(strata_engine_forget(engine, fmt("{\"id\": \"%s\"}", id), &out), STRATA_OK);
    strata_string_free(out);
    REQUIRE_STATUS(strata_engine_forget(engine, "{\"filter\": {\"user\": \"mia\"}}", &out), STRATA_OK);
    strata_string_free(out);

    /* A read and a failing call publish nothing. */
    out = recall(engine, "{\"query\": \"ships\"}");
    strata_string_free(out);
    CHECK_STATUS(strata_engine_store(engine, "{\"content\": 1}", &out), STRATA_ERR_INVALID_JSON);

    CHECK(counts.stored == 3, "stored %d, expected 3", counts.stored);
    CHECK(counts.updated == 1, "updated %d, expected 1", counts.updated);
    CHECK(counts.forgotten == 2, "forgotten %d, expected 2", counts.forgotten);
    CHECK(counts.other == 0 && counts.deduplicated == 0, "unexpected events: other %d, dedup %d", counts.other,
          counts.deduplicated);

    /* A deduplicated store is reported as such. */
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Liam builds model ships\", \"metadata\": {\"user\": \"liam\"}}", NULL, 0),
                   STRATA_OK);
    CHECK(counts.deduplicated == 1 && counts.stored == 3, "dedup: stored %d dedup %d", counts.stored, counts.deduplicated);

    REQUIRE_STATUS(strata_engine_unsubscribe(engine, subscription), STRATA_OK);
    int total = counts.total;
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Noah paints watercolours\"}", NULL, 0), STRATA_OK);
    CHECK(counts.total == total, "the callback ran after unsubscribe");
    CHECK_STATUS(strata_engine_unsubscribe(engine, subscription), STRATA_ERR_NOT_FOUND);
    strata_engine_close(engine);
}

void events__subscribe_with_null_callback_or_out_returns_STRATA_ERR_INVALID_ARGUMENT(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    uint64_t subscription = 0;
    event_counts counts = {0};
    CHECK_STATUS(strata_engine_subscribe(engine, NULL, NULL, &subscription), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(strata_engine_subscribe(engine, count_event, &counts, NULL), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(strata_engine_unsubscribe(engine, 424242), STRATA_ERR_NOT_FOUND);
    strata_engine_close(engine);
}

void events__two_subscribers_both_receive_every_event(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    event_counts a = {0}, b = {0};
    uint64_t sa = 0, sb = 0;
    REQUIRE_STATUS(strata_engine_subscribe(engine, count_event, &a, &sa), STRATA_OK);
    REQUIRE_STATUS(strata_engine_subscribe(engine, count_event, &b, &sb), STRATA_OK);
    CHECK(sa != sb, "tokens must differ");
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Olivia keeps bees\"}", NULL, 0), STRATA_OK);
    CHECK(a.stored == 1 && b.stored == 1, "a=%d b=%d", a.stored, b.stored);
    REQUIRE_STATUS(strata_engine_unsubscribe(engine, sa), STRATA_OK);
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Peter restores motorbikes\"}", NULL, 0), STRATA_OK);
    CHECK(a.stored == 1 && b.stored == 2, "a=%d b=%d", a.stored, b.stored);
    strata_engine_close(engine);
}

void recall__category_and_tiers_restrict_hits(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char geo[64], tech[64];
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"rivers flow to the sea\", \"category\": \"geo\"}", geo, sizeof geo), STRATA_OK);
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"rivers of data in pipelines\", \"category\": \"tech\"}", tech, sizeof tech),
                   STRATA_OK);
    char *out = recall(engine, "{\"query\": \"rivers\", \"category\": \"geo\"}");
    CHECK(hit_count(out) == 1 && hit_rank(out, geo) == 0, "category geo: %s", out);
    strata_string_free(out);
    out = recall(engine, "{\"query\": \"rivers\", \"tiers\": [\"working\"]}");
    CHECK(hit_count(out) == 2, "tier working: %s", out);
    strata_string_free(out);
    out = recall(engine, "{\"query\": \"rivers\", \"tiers\": [\"archive\"]}");
    CHECK(hit_count(out) == 0, "tier archive: %s", out);
    strata_string_free(out);
    strata_engine_close(engine);
}

void recall__filter_operators_contains_exists_and_not(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char a[64], b[64];
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"lakes and rivers\", \"metadata\": {\"tags\": [\"water\", \"nature\"], \"place\": {\"country\": \"NO\"}}}",
                             a, sizeof a),
                   STRATA_OK);
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"rivers of data\", \"metadata\": {\"desc\": \"streaming systems\"}}", b, sizeof b),
                   STRATA_OK);
    static const struct {
        const char *filter;
        int a, b;
    } cases[] = {
        {"{\"tags\": {\"$contains\": \"water\"}}", 1, 0},
        {"{\"desc\": {\"$contains\": \"stream\"}}", 0, 1},
        {"{\"desc\": {\"$exists\": false}}", 1, 0},
        {"{\"$not\": {\"desc\": {\"$exists\": true}}}", 1, 0},
        {"{\"place.country\": \"NO\"}", 1, 0},
        {"{\"place.country\": {\"$nin\": [\"NO\", \"SE\"]}}", 0, 1},
        {"{\"$and\": [{\"tags\": {\"$exists\": true}}, {\"place.country\": {\"$ne\": \"NO\"}}]}", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = recall(engine, fmt("{\"query\": \"rivers\", \"filter\": %s}", cases[i].filter));
        CHECK((hit_rank(out, a) >= 0) == cases[i].a && (hit_rank(out, b) >= 0) == cases[i].b, "filter %s: %s", cases[i].filter, out);
        strata_string_free(out);
    }
    strata_engine_close(engine);
}

/* Reads from inside an event callback: allowed (only writing verbs are not). */
typedef struct reader {
    strata_engine *engine;
    int reads_ok;
} reader;

static void read_in_callback(void *user_data, const char *event_json)
{
    reader *r = user_data;
    char id[64], *out = NULL;
    if (!json_string(event_json, "memory_id", id, sizeof id)) return;
    if (strata_engine_get(r->engine, fmt("{\"id\": \"%s\"}", id), &out) == STRATA_OK && strstr(out, id) != NULL) r->reads_ok++;
    strata_string_free(out);
}

void events__callback_may_read_from_the_same_engine(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    reader r = {engine, 0};
    uint64_t subscription = 0;
    REQUIRE_STATUS(strata_engine_subscribe(engine, read_in_callback, &r, &subscription), STRATA_OK);
    /* The callback runs after the change is committed, so the new memory is readable. */
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Quinn bakes sourdough\"}", NULL, 0), STRATA_OK);
    CHECK(r.reads_ok == 1, "reads in callback: %d", r.reads_ok);
    CHECK_STATUS(strata_engine_unsubscribe(engine, subscription), STRATA_OK);
    strata_engine_close(engine);
}
