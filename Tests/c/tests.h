/*
 * Tests/c/tests.h: the list of tests, in the order they run.
 *
 * Each X(name) is a `void name(void)` defined in one of the test_*.c files.
 * Names say the behaviour they check: <subject>__<behaviour>.
 */
#ifndef STRATA_C_TESTS_H
#define STRATA_C_TESTS_H

#define STRATA_TESTS(X) \
    X(version__abi_version_matches_the_header) \
    X(version__version_string_matches_the_header) \
    X(status__every_code_has_its_own_name) \
    X(status__unknown_code_is_named_STRATA_ERR_UNKNOWN) \
    X(status__string_free_of_null_is_a_noop) \
    X(open__null_config_opens_embedded_default) \
    X(open__empty_config_opens_embedded_default) \
    X(open__empty_object_opens_embedded_default) \
    X(open__malformed_json_returns_STRATA_ERR_INVALID_JSON) \
    X(open__unknown_key_returns_STRATA_ERR_INVALID_CONFIG_naming_the_key) \
    X(open__bad_value_returns_STRATA_ERR_INVALID_CONFIG_naming_the_key) \
    X(open__null_out_returns_STRATA_ERR_INVALID_ARGUMENT) \
    X(close__null_is_a_noop) \
    X(store__single_memory_answers_its_id) \
    X(store__batch_answers_ids_in_request_order) \
    X(store__near_identical_memory_in_same_scope_is_deduplicated) \
    X(store__unicode_and_escapes_round_trip) \
    X(recall__puts_the_most_relevant_memory_first) \
    X(recall__reports_every_part_of_the_score) \
    X(recall__honours_k) \
    X(metabolize__moves_old_memories_on_and_prunes_by_the_keep_rule) \
    X(metabolize__bad_requests_name_the_culprit) \
    X(kernel__opens_and_describes_itself) \
    X(kernel__bad_configs_name_the_culprit) \
    X(kernel__sequence_equals_steps_and_state_files_round_trip) \
    X(recall__metadata_filter_keeps_only_matching_memories) \
    X(recall__scope_sees_own_shared_parent_and_global_memories_only) \
    X(recall__category_and_tiers_restrict_hits) \
    X(recall__filter_operators_contains_exists_and_not) \
    X(get__answers_the_stored_memory) \
    X(update__new_content_is_re_embedded_and_found_by_its_new_words) \
    X(update__metadata_replaces_the_whole_object) \
    X(update__unknown_id_returns_STRATA_ERR_NOT_FOUND_naming_it_and_keeps_data) \
    X(update__changing_nothing_returns_STRATA_ERR_INVALID_JSON) \
    X(forget__by_id_removes_that_memory_only) \
    X(forget__by_filter_removes_only_matching_memories) \
    X(forget__filter_matching_nothing_answers_an_empty_list) \
    X(forget__unknown_id_returns_STRATA_ERR_NOT_FOUND_and_keeps_data) \
    X(history__lists_ADD_UPDATE_DELETE_in_order) \
    X(history__unknown_id_returns_STRATA_ERR_NOT_FOUND) \
    X(stats__counts_memories_by_scope_tier_and_category) \
    X(error_last__is_empty_before_and_after_a_successful_call) \
    X(error_last__names_the_unknown_id) \
    X(store__malformed_json_returns_STRATA_ERR_INVALID_JSON_and_keeps_data) \
    X(store__unknown_key_returns_STRATA_ERR_INVALID_JSON_naming_it_and_keeps_data) \
    X(store__invalid_utf8_returns_STRATA_ERR_INVALID_UTF8_and_keeps_data) \
    X(store__importance_out_of_range_returns_STRATA_ERR_INVALID_ARGUMENT_and_keeps_data) \
    X(recall__bad_filter_operator_returns_STRATA_ERR_INVALID_FILTER_and_keeps_data) \
    X(verbs__null_engine_returns_STRATA_ERR_INVALID_ARGUMENT) \
    X(verbs__null_out_json_returns_STRATA_ERR_INVALID_ARGUMENT_and_keeps_data) \
    X(verbs__missing_required_field_returns_STRATA_ERR_INVALID_JSON) \
    X(events__callback_counts_stored_updated_and_forgotten) \
    X(events__subscribe_with_null_callback_or_out_returns_STRATA_ERR_INVALID_ARGUMENT) \
    X(events__two_subscribers_both_receive_every_event) \
    X(events__callback_may_read_from_the_same_engine) \
    X(anomalies__extreme_metadata_values_come_first_and_each_is_published) \
    X(anomalies__fewer_than_two_memories_answer_an_empty_list) \
    X(anomalies__bad_request_or_configuration_fails_naming_the_key) \
    X(store_vectors__recall_vector_finds_each_stored_vector_first) \
    X(store_vectors__items_carry_content_and_metadata) \
    X(store_vectors__nan_returns_STRATA_ERR_INVALID_VECTOR_and_keeps_data) \
    X(store_vectors__infinity_returns_STRATA_ERR_INVALID_VECTOR_and_keeps_data) \
    X(store_vectors__wrong_dimension_returns_STRATA_ERR_DIMENSION_naming_both_and_keeps_data) \
    X(store_vectors__count_zero_or_null_vectors_returns_STRATA_ERR_INVALID_ARGUMENT_and_keeps_data) \
    X(store_vectors__item_count_differing_from_count_fails_and_keeps_data) \
    X(recall_vector__wrong_dimension_or_nan_query_fails) \
    X(threads__four_threads_store_and_recall_on_one_engine) \
    X(threads__engines_open_and_close_concurrently) \
    X(threads__concurrent_store_update_forget_keep_counts_right) \
    X(threads__c_flat_plugin_is_serialised_by_the_host) \
    X(plugin__swift_memory_plugin_stores_and_recalls_with_a_filter) \
    X(plugin__c_flat_plugin_stores_and_recalls_with_a_filter) \
    X(plugin__c_flat_plugin_reports_its_name_in_stats) \
    X(plugin__c_flat_plugin_is_found_by_name_in_plugin_dirs) \
    X(plugin__c_flat_plugin_is_found_by_name_through_STRATA_PLUGIN_PATH) \
    X(plugin__c_flat_plugin_finds_each_vector_first_with_cosine_dot_and_l2) \
    X(plugin__c_flat_plugin_rejects_an_unknown_option_with_STRATA_ERR_INVALID_CONFIG) \
    X(plugin__unknown_backend_name_in_a_plugin_returns_STRATA_ERR_PLUGIN_listing_what_it_offers) \
    X(plugin__abi_mismatch_returns_STRATA_ERR_ABI_MISMATCH_naming_file_and_both_versions) \
    X(plugin__no_entry_returns_STRATA_ERR_PLUGIN_naming_strata_plugin_entry) \
    X(plugin__null_descriptor_returns_STRATA_ERR_PLUGIN) \
    X(plugin__create_failure_passes_the_plugin_message_through) \
    X(plugin__short_vtable_returns_STRATA_ERR_ABI_MISMATCH) \
    X(plugin__null_required_function_returns_STRATA_ERR_PLUGIN) \
    X(plugin__garbage_file_returns_STRATA_ERR_PLUGIN_naming_it) \
    X(plugin__missing_name_returns_STRATA_ERR_PLUGIN_naming_the_folders_searched) \
    X(plugin__failing_store_batch_fails_with_STRATA_ERR_IO_and_loses_nothing) \
    X(snapshot__rollback_restores_the_memories_and_answers_what_changed) \
    X(snapshot__names_are_checked_used_once_listed_and_deleted) \
    X(snapshot__sqlite_rollback_is_seen_by_a_second_engine_on_the_file) \
    X(snapshot__damaged_sqlite_snapshot_returns_STRATA_ERR_CORRUPT_naming_it_and_keeps_data) \
    X(snapshot__plugin_without_snapshots_returns_STRATA_ERR_UNSUPPORTED) \
    X(reembed__moves_every_memory_to_the_target_space_and_answers_the_report) \
    X(bad_inputs__every_row_fails_with_its_status_names_its_culprit_and_keeps_the_store) \
    X(dimension__is_the_embedders_and_0_for_null) \
    X(embed__writes_the_vectors_store_and_recall_use_and_stores_nothing) \
    X(embed__count_0_is_STRATA_OK_and_writes_nothing) \
    X(embed__invalid_utf8_returns_STRATA_ERR_INVALID_UTF8_naming_the_text_and_offset) \
    X(embed__bad_arguments_return_STRATA_ERR_INVALID_ARGUMENT_naming_them) \
    X(embed__more_than_STRATA_EMBED_MAX_TEXTS_returns_STRATA_ERR_INVALID_ARGUMENT) \
    X(embed__wrong_dimension_returns_STRATA_ERR_DIMENSION_naming_both) \
    X(embed__minilm_puts_a_paraphrase_nearest) \
    X(list__answers_memories_oldest_first_and_the_total) \
    X(list__bad_requests_are_named_and_out_stays_NULL) \
    X(store__a_callers_id_adds_then_replaces_that_memory) \
    X(recall__empty_query_ranks_by_importance_and_track_access_false_reads_only) \
    X(open_file__relative_paths_name_files_beside_the_configuration) \
    X(open_file__missing_file_or_bad_arguments_name_the_culprit) \
    X(open_file__a_file_others_can_write_returns_STRATA_ERR_INVALID_CONFIG_naming_it) \
    X(store__a_batch_with_dedupe_false_keeps_every_copy) \
    /* end */

#define STRATA_TEST_DECLARE(name) void name(void);
STRATA_TESTS(STRATA_TEST_DECLARE)

#endif /* STRATA_C_TESTS_H */
