/* strata_engine_metabolize through the C ABI: a tier move with its reason,
 * a dry run that changes nothing, the totals in stats, and bad requests. */
#include <string.h>

#include "harness.h"
#include "tests.h"

static const char *const two_tiers =
    "{\"tiers\": [{\"name\": \"working\", \"retention_hours\": 1, \"keep\": {\"min_importance\": 0.5}},"
    "             {\"name\": \"long\"}],"
    " \"defaults\": {\"tier\": \"working\"}}";

void metabolize__moves_old_memories_on_and_prunes_by_the_keep_rule(void)
{
    strata_engine *engine = OPEN(two_tiers);
    REQUIRE(engine != NULL, "open failed: %s", last_message);
    char kept[64], dropped[64];
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"the API key rotates monthly\", \"importance\": 0.9,"
                                     " \"at\": \"2026-01-01T00:00:00Z\"}", kept, sizeof kept), STRATA_OK);
    REQUIRE_STATUS(store_one(engine, "{\"content\": \"someone sneezed\", \"importance\": 0.1,"
                                     " \"at\": \"2026-01-01T00:00:00Z\"}", dropped, sizeof dropped), STRATA_OK);
    char *out = NULL;
    if (CHECK_STATUS(strata_engine_metabolize(engine, "{\"now\": \"2026-01-01T02:00:00Z\", \"dry_run\": true}", &out),
                     STRATA_OK)) {
        CHECK_CONTAINS(out, "\"dry_run\":true");
        CHECK_CONTAINS(out, "\"working->long\":1");
    }
    strata_string_free(out);
    CHECK(memory_count(engine) == 2, "a dry run changed the store");

    out = NULL;
    if (CHECK_STATUS(strata_engine_metabolize(engine, "{\"now\": \"2026-01-01T02:00:00Z\"}", &out), STRATA_OK)) {
        CHECK_CONTAINS(out, "\"working->long\":1");
        CHECK_CONTAINS(out, "\"age\":1");
        CHECK_CONTAINS(out, "fails its keep rule (importance >= 0.5)");
    }
    strata_string_free(out);
    CHECK(memory_count(engine) == 1, "one memory should be left");

    out = NULL;
    if (CHECK_STATUS(strata_engine_stats(engine, NULL, &out), STRATA_OK)) {
        CHECK_CONTAINS(out, "\"by_tier\":{\"long\":1}");
        CHECK_CONTAINS(out, "\"cycles\":1");
    }
    strata_string_free(out);
    strata_engine_close(engine);
}

void metabolize__bad_requests_name_the_culprit(void)
{
    strata_engine *engine = OPEN(NULL);
    REQUIRE(engine != NULL, "open failed: %s", last_message);
    char *out = NULL;
    CHECK_STATUS(strata_engine_metabolize(engine, "{\"now\": \"soon\"}", &out), STRATA_ERR_INVALID_ARGUMENT);
    CHECK(out == NULL, "out must be NULL after a failure");
    CHECK_CONTAINS(last_message, "now");
    CHECK_STATUS(strata_engine_metabolize(engine, "{\"dryrun\": true}", &out), STRATA_ERR_INVALID_JSON);
    CHECK_CONTAINS(last_message, "dryrun");
    CHECK_STATUS(strata_engine_metabolize(NULL, NULL, &out), STRATA_ERR_INVALID_ARGUMENT);
    if (CHECK_STATUS(strata_engine_metabolize(engine, NULL, &out), STRATA_OK)) CHECK_CONTAINS(out, "\"before\":0");
    strata_string_free(out);
    strata_engine_close(engine);
}
