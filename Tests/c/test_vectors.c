/*
 * Tests/c/test_vectors.c: the vector fast path (strata_engine_store_vectors and
 * strata_engine_recall_vector) and its error paths.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tests.h"

enum { DIM = 32 };

/* 32-d hashing embedder; recall does not bump access counts, so ranks depend on vectors only. */
static const char *const config32 =
    "{\"embedder\": {\"backend\": \"hashing\", \"options\": {\"dimension\": 32}}, \"recall\": {\"track_access\": false}}";

static void random_vectors(float *out, size_t count, uint64_t seed)
{
    uint64_t state = seed;
    for (size_t i = 0; i < count * DIM; i++) out[i] = random_float(&state);
}

/* Extracts the i-th id of an {"ids": [...]} answer into id. 1 if found. */
static int nth_id(const char *answer, size_t index, char *id, size_t size)
{
    const char *at = answer != NULL ? strstr(answer, "\"ids\":[") : NULL;
    for (size_t i = 0; at != NULL; i++) {
        at = strchr(at + (i == 0 ? 7 : 1), '"');
        if (at == NULL) return 0;
        const char *end = strchr(at + 1, '"');
        if (end == NULL) return 0;
        if (i == index) {
            size_t n = (size_t)(end - at - 1);
            if (n + 1 > size) return 0;
            memcpy(id, at + 1, n);
            id[n] = '\0';
            return 1;
        }
        at = end;
    }
    return 0;
}

/* Seeds an engine with 5 vectors so error tests can check nothing changed. */
static int seed(strata_engine *engine)
{
    float v[5 * DIM];
    random_vectors(v, 5, 99);
    char *out = NULL;
    int ok = CHECK_STATUS(strata_engine_store_vectors(engine, NULL, v, 5, DIM, &out), STRATA_OK);
    strata_string_free(out);
    return ok && CHECK(memory_count(engine) == 5, "seed count %lld", (long long)memory_count(engine));
}

void store_vectors__recall_vector_finds_each_stored_vector_first(void)
{
    enum { N = 300 };
    strata_engine *engine = OPEN(config32);
    REQUIRE(engine != NULL, "open");
    float *vectors = malloc(sizeof(float) * N * DIM);
    REQUIRE(vectors != NULL, "malloc");
    random_vectors(vectors, N, 12345);

    char *out = NULL;
    if (CHECK_STATUS(strata_engine_store_vectors(engine, NULL, vectors, N, DIM, &out), STRATA_OK)) {
        CHECK(count_occurrences(out, "\"m-") == N, "expected %d ids", N);
        CHECK(memory_count(engine) == N, "count %lld", (long long)memory_count(engine));
        for (size_t i = 0; i < N; i += 7) {
            char id[64];
            if (!CHECK(nth_id(out, i, id, sizeof id), "id %zu missing", i)) break;
            char *hits = NULL;
            if (!CHECK_STATUS(strata_engine_recall_vector(engine, "{\"k\": 3}", vectors + i * DIM, DIM, &hits), STRATA_OK)) break;
            CHECK(hit_rank(hits, id) == 0, "vector %zu: its own memory is rank %d: %s", i, hit_rank(hits, id), hits);
            CHECK(hit_count(hits) == 3, "k=3 gave %d hits", hit_count(hits));
            const char *score = hit_field(hits, id, "vector");
            CHECK(score != NULL && fabs(strtod(score, NULL) - 1.0) < 1e-3, "cosine with itself: %s", score ? score : "NULL");
            strata_string_free(hits);
        }
    }
    strata_string_free(out);
    free(vectors);
    strata_engine_close(engine);
}

void store_vectors__items_carry_content_and_metadata(void)
{
    strata_engine *engine = OPEN(config32);
    REQUIRE(engine != NULL, "open");
    float v[2 * DIM];
    random_vectors(v, 2, 7);
    char *out = NULL;
    REQUIRE_STATUS(strata_engine_store_vectors(engine,
                                               "{\"items\": [{\"content\": \"first vector\", \"metadata\": {\"side\": \"left\"}},"
                                               " {\"content\": \"second vector\", \"metadata\": {\"side\": \"right\"}}]}",
                                               v, 2, DIM, &out),
                   STRATA_OK);
    char second[64];
    REQUIRE(nth_id(out, 1, second, sizeof second), "ids: %s", out);
    strata_string_free(out);

    /* The filter keeps only the right one, even when querying with the left vector. */
    REQUIRE_STATUS(strata_engine_recall_vector(engine, "{\"filter\": {\"side\": \"right\"}}", v, DIM, &out), STRATA_OK);
    CHECK(hit_count(out) == 1 && hit_rank(out, second) == 0, "filter: %s", out);
    CHECK_CONTAINS(out, "\"content\":\"second vector\"");
    strata_string_free(out);

    /* With query text, keyword search takes part. */
    REQUIRE_STATUS(strata_engine_recall_vector(engine, "{\"query\": \"second\", \"k\": 2}", v, DIM, &out), STRATA_OK);
    const char *keyword = hit_field(out, second, "keyword");
    CHECK(keyword != NULL && strncmp(keyword, "null", 4) != 0, "keyword part missing: %s", out);
    strata_string_free(out);
    strata_engine_close(engine);
}

void store_vectors__nan_returns_STRATA_ERR_INVALID_VECTOR_and_keeps_data(void)
{
    strata_engine *engine = OPEN(config32);
    REQUIRE(engine != NULL, "open");
    REQUIRE(seed(engine), "seed");
    float v[3 * DIM];
    random_vectors(v, 3, 5);
    v[2 * DIM + 17] = nanf("");
    char *out = (char *)"sentinel";
    CHECK_STATUS(strata_engine_store_vectors(engine, NULL, v, 3, DIM, &out), STRATA_ERR_INVALID_VECTOR);
    CHECK(out == NULL, "out_json must be NULL after a failure");
    /* The message names the item (2) and the position (17). */
    CHECK_CONTAINS(last_message, "2");
    CHECK_CONTAINS(last_message, "17");
    CHECK(memory_count(engine) == 5, "a failing batch stored something: count %lld", (long long)memory_count(engine));
    strata_engine_close(engine);
}

void store_vectors__infinity_returns_STRATA_ERR_INVALID_VECTOR_and_keeps_data(void)
{
    strata_engine *engine = OPEN(config32);
    REQUIRE(engine != NULL, "open");
    REQUIRE(seed(engine), "seed");
    float v[2 * DIM];
    random_vectors(v, 2, 6);
    v[3] = INFINITY;
    char *out = NULL;
    CHECK_STATUS(strata_engine_store_vectors(engine, NULL, v, 2, DIM, &out), STRATA_ERR_INVALID_VECTOR);
    v[3] = -INFINITY;
    CHECK_STATUS(strata_engine_store_vectors(engine, NULL, v, 2, DIM, &out), STRATA_ERR_INVALID_VECTOR);
    CHECK(memory_count(engine) == 5, "count %lld", (long long)memory_count(engine));
    strata_engine_close(engine);
}

void store_vectors__wrong_dimension_returns_STRATA_ERR_DIMENSION_naming_both_and_keeps_data(void)
{
    strata_engine *engine = OPEN(config32);
    REQUIRE(engine != NULL, "open");
    REQUIRE(seed(engine), "seed");
    float v[2 * DIM];
    random_vectors(v, 2, 8);
    char *out = (char *)"sentinel";
    CHECK_STATUS(strata_engine_store_vectors(engine, NULL, v, 2, 31, &out), STRATA_ERR_DIMENSION);
    CHECK(out == NULL, "out_json must be NULL after a failure");
    CHECK_CONTAINS(last_message, "31");
    CHECK_CONTAINS(last_message, "32");
    CHECK(memory_count(engine) == 5, "count %lld", (long long)memory_count(engine));
    strata_engine_close(engine);
}

void store_vectors__count_zero_or_null_vectors_returns_STRATA_ERR_INVALID_ARGUMENT_and_keeps_data(void)
{
    strata_engine *engine = OPEN(config32);
    REQUIRE(engine != NULL, "open");
    REQUIRE(seed(engine), "seed");
    float v[DIM] = {1.0f};
    char *out = (char *)"sentinel";
    CHECK_STATUS(strata_engine_store_vectors(engine, NULL, v, 0, DIM, &out), STRATA_ERR_INVALID_ARGUMENT);
    CHECK(out == NULL, "out_json must be NULL after a failure");
    CHECK_STATUS(strata_engine_store_vectors(engine, NULL, NULL, 1, DIM, &out), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(strata_engine_store_vectors(engine, "{\"items\": []}", v, 0, DIM, &out), STRATA_ERR_INVALID_ARGUMENT);
    CHECK(memory_count(engine) == 5, "count %lld", (long long)memory_count(engine));
    strata_engine_close(engine);
}

void store_vectors__item_count_differing_from_count_fails_and_keeps_data(void)
{
    strata_engine *engine = OPEN(config32);
    REQUIRE(engine != NULL, "open");
    REQUIRE(seed(engine), "seed");
    float v[2 * DIM];
    random_vectors(v, 2, 9);
    char *out = NULL;
    strata_status status = harness_call(strata_engine_store_vectors(engine, "{\"items\": [{\"content\": \"one\"}]}", v, 2, DIM, &out));
    CHECK(status == STRATA_ERR_INVALID_ARGUMENT || status == STRATA_ERR_INVALID_JSON, "got %s: %s", strata_status_name(status),
          last_message);
    CHECK(out == NULL, "out_json must be NULL after a failure");
    CHECK_STATUS(strata_engine_store_vectors(engine, "{\"content\": \"not items\"}", v, 1, DIM, &out), STRATA_ERR_INVALID_JSON);
    CHECK_STATUS(strata_engine_store_vectors(engine, "{\"items\": [{\"content\": \"a\", \"bogus\": 1}]}", v, 1, DIM, &out),
                 STRATA_ERR_INVALID_JSON);
    CHECK_CONTAINS(last_message, "bogus");
    CHECK(memory_count(engine) == 5, "count %lld", (long long)memory_count(engine));
    strata_engine_close(engine);
}

void recall_vector__wrong_dimension_or_nan_query_fails(void)
{
    strata_engine *engine = OPEN(config32);
    REQUIRE(engine != NULL, "open");
    REQUIRE(seed(engine), "seed");
    float q[DIM + 1];
    uint64_t state = 3;
    for (int i = 0; i <= DIM; i++) q[i] = random_float(&state);
    char *out = (char *)"sentinel";
    CHECK_STATUS(strata_engine_recall_vector(engine, NULL, q, DIM + 1, &out), STRATA_ERR_DIMENSION);
    CHECK(out == NULL, "out_json must be NULL after a failure");
    CHECK_CONTAINS(last_message, "33");
    CHECK_STATUS(strata_engine_recall_vector(engine, NULL, NULL, DIM, &out), STRATA_ERR_INVALID_ARGUMENT);
    q[4] = nanf("");
    CHECK_STATUS(strata_engine_recall_vector(engine, NULL, q, DIM, &out), STRATA_ERR_INVALID_VECTOR);
    q[4] = INFINITY;
    CHECK_STATUS(strata_engine_recall_vector(engine, NULL, q, DIM, &out), STRATA_ERR_INVALID_VECTOR);
    q[4] = 0.5f;
    CHECK_STATUS(strata_engine_recall_vector(engine, "{\"filter\": {\"x\": {\"$nope\": 1}}}", q, DIM, &out),
                 STRATA_ERR_INVALID_FILTER);
    CHECK_STATUS(strata_engine_recall_vector(engine, "{\"k\": 2, \"whatever\": 1}", q, DIM, &out), STRATA_ERR_INVALID_JSON);
    CHECK_STATUS(strata_engine_recall_vector(engine, NULL, q, DIM, &out), STRATA_OK);
    CHECK(hit_count(out) == 5, "NULL request means {}: %s", out);
    strata_string_free(out);
    CHECK(memory_count(engine) == 5, "count %lld", (long long)memory_count(engine));
    strata_engine_close(engine);
}
