/*
 * Tests/c/test_anomalies.c: strata_engine_anomalies, its events and its error paths.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tests.h"

/* Numeric metadata only: the memories' vectors play no part. */
static const char *const profit_config =
    "{\"dedupe\": {\"enabled\": false}, \"anomalies\": {\"projection_dims\": 0, \"numeric_fields\": [\"profit\"]}}";

/* Position of the memory with this id in an anomalies answer (0 = highest score), or -1. */
static int anomaly_rank(const char *answer, const char *id)
{
    const char *at = answer != NULL ? strstr(answer, "\"anomalies\":[") : NULL;
    char pattern[256];
    snprintf(pattern, sizeof pattern, "\"id\":\"%s\"", id);
    for (int rank = 0; at != NULL; rank++) {
        at = strstr(at, "\"id\":\"");
        if (at == NULL) return -1;
        if (strncmp(at, pattern, strlen(pattern)) == 0) return rank;
        at += 6;
    }
    return -1;
}

typedef struct anomaly_events {
    int count, with_score;
} anomaly_events;

static void count_anomaly(void *user_data, const char *event_json)
{
    anomaly_events *e = user_data;
    if (strstr(event_json, "\"type\":\"anomaly.detected\"") == NULL) return;
    e->count++;
    if (strstr(event_json, "\"score\":") != NULL) e->with_score++;
}

void anomalies__extreme_metadata_values_come_first_and_each_is_published(void)
{
    strata_engine *engine = OPEN(profit_config);
    REQUIRE(engine != NULL, "open");
    /* 100 ordinary trades, profit 90..109, in one batch. */
    size_t size = 64 * 1024, used = 0;
    char *request = malloc(size);
    REQUIRE(request != NULL, "malloc");
    used += (size_t)snprintf(request + used, size - used, "{\"items\": [");
    for (int i = 0; i < 100; i++) {
        used += (size_t)snprintf(request + used, size - used, "%s{\"content\": \"trade %d\", \"metadata\": {\"profit\": %d}}",
                                 i ? ", " : "", i, 90 + (i * 7) % 20);
    }
    snprintf(request + used, size - used, "]}");
    char *out = NULL;
    CHECK_STATUS(strata_engine_store(engine, request, &out), STRATA_OK);
    free(request);
    strata_string_free(out);
    char win[64], loss[64];
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"huge win\", \"metadata\": {\"profit\": 1000000}}", win, sizeof win),
                   STRATA_OK);
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"huge loss\", \"metadata\": {\"profit\": -900000}}", loss, sizeof loss),
                   STRATA_OK);

    anomaly_events events = {0};
    uint64_t subscription = 0;
    REQUIRE_STATUS(strata_engine_subscribe(engine, count_anomaly, &events, &subscription), STRATA_OK);
    REQUIRE_STATUS(strata_engine_anomalies(engine, "{\"threshold\": 0, \"limit\": 2}", &out), STRATA_OK);
    int a = anomaly_rank(out, win), b = anomaly_rank(out, loss);
    CHECK((a == 0 && b == 1) || (a == 1 && b == 0), "the two outliers should come first: %s", out);
    CHECK(count_occurrences(out, "\"id\":\"") == 2, "limit 2: %s", out);
    CHECK_CONTAINS(out, "\"scored\":102");
    CHECK_CONTAINS(out, "\"threshold\":0");
    strata_string_free(out);
    CHECK(events.count == 2 && events.with_score == 2, "events: %d, with a score %d", events.count, events.with_score);

    /* At the configured threshold (0.6) only the outliers stand out. */
    REQUIRE_STATUS(strata_engine_anomalies(engine, NULL, &out), STRATA_OK);
    CHECK(count_occurrences(out, "\"id\":\"") == 2 && anomaly_rank(out, win) >= 0 && anomaly_rank(out, loss) >= 0,
          "default threshold: %s", out);
    strata_string_free(out);
    CHECK_STATUS(strata_engine_unsubscribe(engine, subscription), STRATA_OK);
    strata_engine_close(engine);
}

void anomalies__fewer_than_two_memories_answer_an_empty_list(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char *out = NULL;
    if (CHECK_STATUS(strata_engine_anomalies(engine, NULL, &out), STRATA_OK)) {
        CHECK_CONTAINS(out, "\"anomalies\":[]");
        CHECK_CONTAINS(out, "\"scored\":0");
    }
    strata_string_free(out);
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"a lone memory\"}", NULL, 0), STRATA_OK);
    if (CHECK_STATUS(strata_engine_anomalies(engine, "{\"threshold\": 0}", &out), STRATA_OK)) {
        CHECK_CONTAINS(out, "\"anomalies\":[]");
        CHECK_CONTAINS(out, "\"scored\":1");
    }
    strata_string_free(out);
    strata_engine_close(engine);
}

void anomalies__bad_request_or_configuration_fails_naming_the_key(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open");
    char *out = (char *)&out; /* not NULL: a failure must reset it */
    CHECK_STATUS(strata_engine_anomalies(engine, "{\"limits\": 3}", &out), STRATA_ERR_INVALID_JSON);
    CHECK(out == NULL, "out_json must be NULL after a failure");
    CHECK_CONTAINS(last_message, "limits");
    CHECK_STATUS(strata_engine_anomalies(engine, "{\"threshold\": 2}", &out), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(last_message, "threshold");
    CHECK_STATUS(strata_engine_anomalies(engine, "{\"limit\": 0}", &out), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(strata_engine_anomalies(engine, "{\"filter\": {\"n\": {\"$near\": 1}}}", &out), STRATA_ERR_INVALID_FILTER);
    CHECK_STATUS(strata_engine_anomalies(engine, "{", &out), STRATA_ERR_INVALID_JSON);
    CHECK_STATUS(strata_engine_anomalies(engine, NULL, NULL), STRATA_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(strata_engine_anomalies(NULL, NULL, &out), STRATA_ERR_INVALID_ARGUMENT);
    strata_engine_close(engine);

    strata_engine *bad = NULL;
    CHECK_STATUS(strata_engine_open(&bad, "{\"anomalies\": {\"trees\": 0}}"), STRATA_ERR_INVALID_CONFIG);
    CHECK_CONTAINS(last_message, "anomalies.trees");
    CHECK_STATUS(strata_engine_open(&bad, "{\"anomalies\": {\"memory_fields\": [\"size\"]}}"), STRATA_ERR_INVALID_CONFIG);
    CHECK_CONTAINS(last_message, "anomalies.memory_fields[0]");
    CHECK(bad == NULL, "out must be NULL after a failure");
}
