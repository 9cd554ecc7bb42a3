/*
 * Tests/c/test_embed.c: strata_engine_embed and strata_engine_dimension (engine.h, ABI 1.6).
 *
 * A C string cannot carry a NUL inside it, so the NUL case lives in the Swift and Python tests.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tests.h"

enum { DIM = 32 };

static const char *const hashing32 =
    "{\"embedder\": {\"backend\": \"hashing\", \"options\": {\"dimension\": 32}}, \"recall\": {\"track_access\": false}}";

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

void dimension__is_the_embedders_and_0_for_null(void)
{
    CHECK(strata_engine_dimension(NULL) == 0, "NULL");
    strata_engine *engine = OPEN(hashing32);
    REQUIRE(engine != NULL, "open");
    CHECK(strata_engine_dimension(engine) == DIM, "got %zu", strata_engine_dimension(engine));
    strata_engine_close(engine);
    engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open default");
    CHECK(strata_engine_dimension(engine) == 256, "the embedded default is the 256-d hashing embedder, got %zu",
          strata_engine_dimension(engine));
    strata_engine_close(engine);
}

void embed__writes_the_vectors_store_and_recall_use_and_stores_nothing(void)
{
    strata_engine *engine = OPEN(hashing32);
    REQUIRE(engine != NULL, "open");
    const char *texts[] = {"Carol leads the search team", "", "who leads search?"};
    float rows[3 * DIM];
    for (size_t i = 0; i < 3 * DIM; i++) rows[i] = NAN;
    REQUIRE_STATUS(strata_engine_embed(engine, texts, 3, DIM, rows), STRATA_OK);
    for (size_t i = 0; i < 3 * DIM; i++) REQUIRE(isfinite(rows[i]), "float %zu is not finite", i);
    CHECK(fabs(dot(rows, rows, DIM) - 1.0) < 1e-5, "row 0 is L2-normalised: %f", dot(rows, rows, DIM));
    CHECK(memory_count(engine) == 0, "embed stores nothing");

    /* The same text stored through the normal path gets the same vector. */
    char id[64];
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"Carol leads the search team\"}", id, sizeof id), STRATA_OK);
    char *hits = NULL;
    REQUIRE_STATUS(strata_engine_recall_vector(engine, "{\"k\": 1}", rows, DIM, &hits), STRATA_OK);
    CHECK(hit_rank(hits, id) == 0, "its own memory first: %s", hits);
    const char *score = hit_field(hits, id, "vector");
    CHECK(score != NULL && fabs(strtod(score, NULL) - 1.0) < 1e-5, "cosine 1 with itself: %s", score ? score : "NULL");
    strata_string_free(hits);
    strata_engine_close(engine);
}

void embed__count_0_is_STRATA_OK_and_writes_nothing(void)
{
    strata_engine *engine = OPEN(hashing32);
    REQUIRE(engine != NULL, "open");
    CHECK_STATUS(strata_engine_embed(engine, NULL, 0, DIM, NULL), STRATA_OK);
    strata_engine_close(engine);
}

void embed__invalid_utf8_returns_STRATA_ERR_INVALID_UTF8_naming_the_text_and_offset(void)
{
    strata_engine *engine = OPEN(hashing32);
    REQUIRE(engine != NULL, "open");
    const char *texts[] = {"fine", "bad \xff byte"};
    float rows[2 * DIM];
    CHECK_STATUS(strata_engine_embed(engine, texts, 2, DIM, rows), STRATA_ERR_INVALID_UTF8);
    CHECK_CONTAINS(last_message, "text 1 is not valid UTF-8 (first bad byte at offset 4)");
    strata_engine_close(engine);
}

void embed__bad_arguments_return_STRATA_ERR_INVALID_ARGUMENT_naming_them(void)
{
    strata_engine *engine = OPEN(hashing32);
    REQUIRE(engine != NULL, "open");
    const char *texts[] = {"fine", NULL};
    float rows[2 * DIM];
    CHECK_STATUS(strata_engine_embed(engine, texts, 2, DIM, rows), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(last_message, "text 1 is NULL");
    CHECK_STATUS(strata_engine_embed(engine, NULL, 1, DIM, rows), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(last_message, "texts is NULL");
    CHECK_STATUS(strata_engine_embed(engine, texts, 1, DIM, NULL), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(last_message, "out_vectors is NULL");
    CHECK_STATUS(strata_engine_embed(NULL, texts, 1, DIM, rows), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(last_message, "engine is NULL");
    strata_engine_close(engine);
}

void embed__more_than_STRATA_EMBED_MAX_TEXTS_returns_STRATA_ERR_INVALID_ARGUMENT(void)
{
    strata_engine *engine = OPEN(hashing32);
    REQUIRE(engine != NULL, "open");
    /* The count is checked before any text is read: a one-text array is enough. */
    const char *texts[] = {"fine"};
    float rows[DIM];
    CHECK_STATUS(strata_engine_embed(engine, texts, (size_t)STRATA_EMBED_MAX_TEXTS + 1, DIM, rows),
                 STRATA_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(last_message, "count must be in 0...65536, got 65537");
    CHECK_STATUS(strata_engine_embed(engine, texts, (size_t)-1, DIM, rows), STRATA_ERR_INVALID_ARGUMENT);
    strata_engine_close(engine);
}

void embed__wrong_dimension_returns_STRATA_ERR_DIMENSION_naming_both(void)
{
    strata_engine *engine = OPEN(hashing32);
    REQUIRE(engine != NULL, "open");
    const char *texts[] = {"fine"};
    float rows[2 * DIM];
    CHECK_STATUS(strata_engine_embed(engine, texts, 1, DIM + 1, rows), STRATA_ERR_DIMENSION);
    CHECK_CONTAINS(last_message, "dimension 33");
    CHECK_CONTAINS(last_message, "makes 32");
    strata_engine_close(engine);
}

void embed__minilm_puts_a_paraphrase_nearest(void)
{
    /* libstrata-minilm.so sits beside libstrata.so; its model is where scripts/setup put it. */
    strata_engine *engine = OPEN("{\"embedder\": {\"backend\": \"minilm\", \"plugin\": \"minilm\"}}");
    REQUIRE(engine != NULL, "open minilm (run scripts/setup to install the model): %s", last_message);
    size_t d = strata_engine_dimension(engine);
    REQUIRE(d == 384, "minilm makes 384 dimensions, got %zu", d);
    const char *texts[] = {"Alice prefers a window seat when she flies long distances",
                           "Alice prefers green tea over coffee in the morning", "Where does Alice like to sit on a plane?"};
    float *rows = malloc(3 * d * sizeof(float));
    REQUIRE(rows != NULL, "malloc");
    if (CHECK_STATUS(strata_engine_embed(engine, texts, 3, d, rows), STRATA_OK)) {
        double seat = dot(rows + 2 * d, rows, d), tea = dot(rows + 2 * d, rows + d, d);
        CHECK(seat > tea + 0.1, "the window seat (%f) is nearer the question than the tea (%f)", seat, tea);
    }
    free(rows);
    strata_engine_close(engine);
}
