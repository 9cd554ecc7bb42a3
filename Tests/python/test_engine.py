"""The memory verbs through the Python bindings: store, recall, filters, scopes, dedupe,
update, forget, history, stats, configuration forms and the engine's lifetime."""

from __future__ import annotations

import gc
import json
import threading
import weakref
from datetime import datetime, timedelta, timezone

import pytest

import strata
from support import DIM, SEED, VECTOR_CONFIG, assert_intact, ids_of

UTC = timezone.utc


# ---- store and recall ---------------------------------------------------------------------------


def test_store_returns_an_id_and_get_reads_the_memory_back(engine):
    mid = engine.store("Alice prefers green tea", {"user": "alice", "n": 3}, "org/planner", category="prefs", importance=0.8, pinned=True)
    assert isinstance(mid, str) and mid.startswith("m-")
    m = engine.get(mid)
    assert isinstance(m, strata.Memory)
    assert (m.id, m.content, m.metadata, m.scope) == (mid, "Alice prefers green tea", {"user": "alice", "n": 3}, "org/planner")
    assert (m.category, m.importance, m.pinned, m.visibility, m.tier) == ("prefs", 0.8, True, "local", "working")
    assert m.access_count == 0 and m.expires_at is None
    for t in (m.created_at, m.updated_at, m.accessed_at):
        assert t.tzinfo is not None and t.utcoffset() == timedelta(0)
        assert abs(datetime.now(UTC) - t) < timedelta(minutes=5)
    assert m.model.startswith("hashing")


def test_memory_is_frozen(engine):
    m = engine.get(engine.store("frozen things"))
    with pytest.raises(AttributeError):
        m.content = "changed"  # type: ignore[misc]


def test_recall_puts_the_right_memory_first(seeded):
    engine, ids = seeded
    cases = {
        "what tea does alice drink in the morning": "alice",
        "coffee in the afternoon": "bob",
        "running kilometres on sunday": "carol",
        "peanuts allergy": "dave",
        "who plays the cello": "erin",
    }
    for query, user in cases.items():
        hits = engine.recall(query, k=3)
        assert hits, query
        assert hits[0].id == ids[user], (query, [h.content for h in hits])


def test_hit_fields_and_score_parts(seeded):
    engine, ids = seeded
    hits = engine.recall("green tea", k=5)
    top = hits[0]
    assert isinstance(top, strata.Hit)
    assert top.id == ids["alice"]
    assert top.content == SEED[0][0] and top.metadata == SEED[0][1] and top.scope == "org/a"
    assert top.tier == "working" and top.category == "general"
    assert set(top.scores) >= {"vector", "keyword", "fused", "recency", "importance", "access"}
    assert top.scores["keyword"] is not None and top.scores["keyword"] > 0  # "green tea" occurs in it
    assert top.scores["vector"] is not None and top.scores["vector"] > 0
    assert top.scores["importance"] == pytest.approx(0.5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # A memory without either word has no keyword score.
    no_words = [h for h in hits if "tea" not in h.content.lower() and "green" not in h.content.lower()]
    assert no_words and all(h.scores["keyword"] is None for h in no_words)


def test_recall_k_limits_the_hits(seeded):
    engine, _ = seeded
    assert len(engine.recall("drinks", k=2)) == 2
    assert len(engine.recall("drinks", k=1)) == 1
    assert len(engine.recall("drinks", k=50)) == len(SEED)


def test_recall_bumps_the_access_count(seeded):
    engine, ids = seeded
    assert engine.get(ids["alice"]).access_count == 0
    engine.recall("green tea", k=1)
    engine.recall("green tea", k=1)
    assert engine.get(ids["alice"]).access_count == 2
    assert engine.get(ids["dave"]).access_count == 0


def test_store_many_accepts_strings_and_dicts_in_order(engine):
    ids = engine.store_many(["first plain memory", {"content": "second with metadata", "metadata": {"k": 1}, "scope": "x"}])
    assert len(ids) == 2 and len(set(ids)) == 2
    assert engine.get(ids[0]).content == "first plain memory"
    second = engine.get(ids[1])
    assert (second.content, second.metadata, second.scope) == ("second with metadata", {"k": 1}, "x")
    assert engine.store_many([]) == []
    assert engine.stats()["memories"] == 2


def test_store_many_is_atomic(engine):
    engine.store("already here")
    with pytest.raises(strata.InvalidArgument):
        engine.store_many(["fine", {"content": "bad importance", "importance": 7}])
    assert engine.stats()["memories"] == 1


def test_store_at_accepts_aware_naive_and_iso_times(engine):
    aware = datetime(2021, 3, 4, 7, 8, 9, 123456, tzinfo=timezone(timedelta(hours=2)))
    m = engine.get(engine.store("aware time", at=aware))
    assert m.created_at == datetime(2021, 3, 4, 5, 8, 9, 123000, tzinfo=UTC)
    naive = datetime(2020, 1, 2, 3, 4, 5)
    m = engine.get(engine.store("naive time", at=naive))
    assert m.created_at == naive.replace(tzinfo=UTC)
    m = engine.get(engine.store("iso time", at="2019-05-06T07:00:00+02:00"))
    assert m.created_at == datetime(2019, 5, 6, 5, 0, tzinfo=UTC)
    m = engine.get(engine.store_many([{"content": "batch time", "at": naive}])[0])
    assert m.created_at == naive.replace(tzinfo=UTC)


def test_store_at_without_zone_is_refused_by_the_engine(engine):
    with pytest.raises(strata.InvalidArgument, match="ISO-8601"):
        engine.store("zoneless", at="2020-01-01T00:00:00")
    assert engine.stats()["memories"] == 0


def test_ttl_sets_expiry_and_expired_memories_are_not_recalled(engine):
    live = engine.store("renew the passport soon", ttl_seconds=3600)
    m = engine.get(live)
    assert m.expires_at is not None
    assert m.expires_at - m.created_at == timedelta(hours=1)
    dead = engine.store("renew the passport long ago", at=datetime(2020, 1, 1, tzinfo=UTC), ttl_seconds=60)
    hit_ids = ids_of(engine.recall("renew passport", k=10))
    assert live in hit_ids and dead not in hit_ids


# ---- metadata filters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filter, users",
    [
        ({"user": "alice"}, {"alice"}),
        ({"user": {"$eq": "bob"}}, {"bob"}),
        ({"user": {"$ne": "bob"}}, {"alice", "carol", "dave", "erin"}),
        ({"user": {"$in": ["alice", "erin", "nobody"]}}, {"alice", "erin"}),
        ({"user": {"$nin": ["alice", "erin"]}}, {"bob", "carol", "dave"}),
        ({"n": {"$gte": 3}}, {"carol", "dave", "erin"}),
        ({"n": {"$gt": 3}}, {"dave", "erin"}),
        ({"n": {"$lt": 2}}, {"alice"}),
        ({"n": {"$lte": 2}}, {"alice", "bob"}),
        ({"n": {"$gte": 2, "$lte": 4}}, {"bob", "carol", "dave"}),
        ({"profile.city": "Paris"}, {"alice", "carol"}),
        ({"profile.age": {"$gt": 40}}, {"bob", "dave"}),
        ({"tags": {"$exists": True}}, {"alice", "bob", "carol", "erin"}),
        ({"tags": {"$exists": False}}, {"dave"}),
        ({"profile": {"$exists": False}}, {"erin"}),
        ({"tags": {"$contains": "drink"}}, {"alice", "bob"}),
        ({"$and": [{"profile.city": "Paris"}, {"n": {"$gte": 2}}]}, {"carol"}),
        ({"$or": [{"user": "dave"}, {"tags": {"$contains": "music"}}]}, {"dave", "erin"}),
        ({"$not": {"profile.city": "Paris"}}, {"bob", "dave", "erin"}),
        ({"$and": [{"$or": [{"n": 1}, {"n": 5}]}, {"$not": {"user": "erin"}}]}, {"alice"}),
        ({"user": "nobody"}, set()),
    ],
)
def test_metadata_filters(seeded, filter, users):
    engine, ids = seeded
    hits = engine.recall("memory about a person", k=50, filter=filter)
    assert set(ids_of(hits)) == {ids[u] for u in users}


def test_filter_with_category_and_tiers(engine):
    a = engine.store("the quarterly budget review", category="finance")
    b = engine.store("the quarterly team offsite", category="events")
    assert ids_of(engine.recall("quarterly", k=10, category="finance")) == [a]
    assert set(ids_of(engine.recall("quarterly", k=10, tiers=["working"]))) == {a, b}
    assert set(ids_of(engine.recall("quarterly", k=10, tiers="working"))) == {a, b}
    assert engine.recall("quarterly", k=10, tiers=["archive"]) == []


# ---- scopes -------------------------------------------------------------------------------------


@pytest.fixture
def scoped(engine):
    ids = {
        vis: engine.store(f"project status report {vis}", scope="org/a", visibility=vis)
        for vis in ("local", "shared", "global")
    }
    return engine, ids


@pytest.mark.parametrize(
    "scope, visible",
    [
        (None, {"local", "shared", "global"}),
        ("org/a", {"local", "shared", "global"}),
        ("org", {"shared", "global"}),  # the parent sees SHARED
        ("org/a/x", {"shared", "global"}),  # a child sees SHARED
        ("org/b", {"global"}),  # a sibling sees only GLOBAL
        ("elsewhere/deep", {"global"}),
    ],
)
def test_scope_visibility(scoped, scope, visible):
    engine, ids = scoped
    hits = engine.recall("project status report", k=50, scope=scope)
    assert set(ids_of(hits)) == {ids[v] for v in visible}


def test_local_memory_is_invisible_from_a_sibling_scope(engine):
    mid = engine.store("the launch code is tulip", scope="org/a", visibility="local")
    assert mid not in ids_of(engine.recall("launch code", k=10, scope="org/b"))
    assert ids_of(engine.recall("launch code", k=10, scope="org/a"))[0] == mid


def test_forget_by_filter_within_a_scope(seeded):
    engine, ids = seeded
    forgotten = engine.forget(filter={"tags": {"$exists": True}}, scope="org/b")
    assert set(forgotten) == {ids["bob"], ids["erin"]}
    assert engine.stats()["memories"] == len(SEED) - 2
    engine.get(ids["alice"])  # in org/a: untouched


# ---- dedupe -------------------------------------------------------------------------------------


def test_same_text_twice_in_the_same_scope_is_deduplicated(engine):
    first = engine.store("The deploy runs every Friday at noon", scope="ops")
    second = engine.store("The deploy runs every Friday at noon", scope="ops")
    assert first == second
    assert engine.stats()["memories"] == 1
    events = [h.event for h in engine.history(first)]
    assert events == ["ADD", "UPDATE"]
    assert "dedup" in engine.history(first)[1].reason


def test_same_text_in_different_scopes_gives_two_memories(engine):
    a = engine.store("The deploy runs every Friday at noon", scope="ops/a")
    b = engine.store("The deploy runs every Friday at noon", scope="ops/b")
    assert a != b
    assert engine.stats()["memories"] == 2
    assert [h.event for h in engine.history(a)] == ["ADD"]


def test_dedupe_can_be_disabled(engine):
    with strata.Engine({"dedupe": {"enabled": False}}) as e:
        assert e.store("same words") != e.store("same words")
        assert e.stats()["memories"] == 2


# ---- update -------------------------------------------------------------------------------------


def test_update_re_embeds_the_new_content(seeded):
    engine, ids = seeded
    before = engine.recall("quantum chromodynamics lecture", k=1)[0]
    assert before.id != ids["dave"] or before.scores["keyword"] is None
    m = engine.update(ids["dave"], content="Dave teaches a quantum chromodynamics lecture")
    assert isinstance(m, strata.Memory) and m.content == "Dave teaches a quantum chromodynamics lecture"
    assert m.updated_at >= m.created_at
    top = engine.recall("quantum chromodynamics lecture", k=1)[0]
    assert top.id == ids["dave"] and top.scores["keyword"] > 0 and top.scores["vector"] > 0.3
    # The old words no longer lead to it.
    old = engine.recall("allergic to peanuts and shellfish", k=5)
    dave = [h for h in old if h.id == ids["dave"]]
    assert not dave or dave[0].scores["keyword"] is None
    assert engine.get(ids["dave"]).content == m.content


def test_update_fields_and_metadata_replacement(seeded):
    engine, ids = seeded
    m = engine.update(ids["alice"], metadata={"user": "alice", "drink": "tea"}, category="prefs", importance=0.9, pinned=True, visibility="global")
    assert m.metadata == {"user": "alice", "drink": "tea"}  # replaced, "n" and "tags" gone
    assert (m.category, m.importance, m.pinned, m.visibility) == ("prefs", 0.9, True, "global")
    assert m.content == SEED[0][0]
    assert engine.get(ids["alice"]) == m
    assert ids_of(engine.recall("green tea", k=10, filter={"drink": "tea"})) == [ids["alice"]]
    assert ids["alice"] in ids_of(engine.recall("green tea", k=10, scope="org/zzz"))  # now global
    assert [h.event for h in engine.history(ids["alice"])] == ["ADD", "UPDATE"]
    h = engine.history(ids["alice"])[1]
    assert h.old is not None and h.old.category == "general" and h.new is not None and h.new.category == "prefs"


def test_update_with_nothing_to_change_is_invalid_json(seeded):
    engine, ids = seeded
    with pytest.raises(strata.InvalidJSON, match="changes nothing"):
        engine.update(ids["alice"])
    assert_intact(engine, ids)


# ---- forget and history -------------------------------------------------------------------------


def test_forget_by_id_keeps_a_delete_in_history(seeded):
    engine, ids = seeded
    assert engine.forget(ids["bob"]) == [ids["bob"]]
    with pytest.raises(strata.NotFound):
        engine.get(ids["bob"])
    assert ids["bob"] not in ids_of(engine.recall("coffee", k=10))
    history = engine.history(ids["bob"])
    assert [h.event for h in history] == ["ADD", "DELETE"]
    delete = history[-1]
    assert isinstance(delete, strata.HistoryEntry)
    assert delete.memory_id == ids["bob"] and delete.new is None
    assert delete.old is not None and delete.old.content == SEED[1][0]
    assert delete.at.tzinfo is not None and delete.at >= history[0].at
    assert engine.stats()["memories"] == len(SEED) - 1


def test_forget_by_filter(seeded):
    engine, ids = seeded
    assert sorted(engine.forget(filter={"profile.city": "Paris"})) == sorted([ids["alice"], ids["carol"]])
    assert engine.forget(filter={"user": "nobody"}) == []
    assert engine.stats()["memories"] == len(SEED) - 2
    assert set(ids_of(engine.recall("anything at all", k=50))) == {ids["bob"], ids["dave"], ids["erin"]}
    assert [h.event for h in engine.history(ids["carol"])] == ["ADD", "DELETE"]


def test_forget_unknown_id_and_bad_requests(seeded):
    engine, ids = seeded
    with pytest.raises(strata.NotFound, match="m-doesnotexist"):
        engine.forget("m-doesnotexist")
    with pytest.raises(strata.InvalidJSON, match="exactly one"):
        engine.forget()
    with pytest.raises(strata.InvalidJSON):
        engine.forget(ids["alice"], filter={"user": "alice"})
    assert_intact(engine, ids)


def test_history_of_an_unknown_id_is_not_found(engine):
    with pytest.raises(strata.NotFound, match="m-never-seen"):
        engine.history("m-never-seen")


# ---- stats --------------------------------------------------------------------------------------


def test_stats_counts(seeded):
    engine, ids = seeded
    stats = engine.stats()
    assert stats["memories"] == 5
    assert stats["by_scope"] == {"org/a": 2, "org/b": 2, "org/c": 1}
    assert stats["by_tier"] == {"working": 5}
    assert stats["by_category"] == {"general": 5}
    assert stats["dimension"] == 256 and engine.dimension == 256
    assert stats["store"] == "memory" and stats["embedder"].startswith("hashing") and stats["summarizer"] == "extractive"
    assert stats["operations"]["store"] == 5
    engine.recall("tea", k=1)
    engine.forget(ids["erin"])
    stats = engine.stats()
    assert stats["memories"] == 4 and stats["by_scope"]["org/b"] == 1
    assert stats["operations"]["recall"] == 1


# ---- configuration forms ------------------------------------------------------------------------


def test_config_as_dict_str_bytes_and_path(tmp_path):
    config = {"embedder": {"backend": "hashing", "options": {"dimension": 32}}, "defaults": {"category": "notes"}}
    path = tmp_path / "strata.json"
    path.write_text(json.dumps(config))
    for form in (config, json.dumps(config), json.dumps(config).encode(), path):
        with strata.Engine(form) as e:
            assert e.stats()["dimension"] == 32, form
            assert e.get(e.store("x marks the spot")).category == "notes"


def test_config_file_that_does_not_exist(tmp_path):
    with pytest.raises(FileNotFoundError):
        strata.Engine(tmp_path / "missing.json")


def test_config_of_a_wrong_type():
    with pytest.raises(TypeError, match="config"):
        strata.Engine(42)  # type: ignore[arg-type]


def test_empty_config_string_is_the_embedded_default():
    with strata.Engine("") as e:
        assert e.stats()["dimension"] == 256


# ---- lifetime -----------------------------------------------------------------------------------


def test_context_manager_closes_and_use_after_close_raises():
    with strata.Engine() as e:
        mid = e.store("short-lived")
        assert not e.closed
    assert e.closed
    for use in (lambda: e.store("more"), lambda: e.get(mid), lambda: e.recall("short"), e.stats, lambda: e.subscribe(print)):
        with pytest.raises(strata.EngineClosed) as info:
            use()
        assert isinstance(info.value, strata.StrataError) and isinstance(info.value, ValueError)
        assert "closed" in str(info.value)
    with pytest.raises(strata.EngineClosed):
        with e:
            pass


def test_close_is_idempotent_and_context_manager_closes_on_error():
    e = strata.Engine()
    e.close()
    e.close()
    assert e.closed and "closed" in repr(e)
    with pytest.raises(RuntimeError):
        with strata.Engine() as e2:
            raise RuntimeError("boom")
    assert e2.closed


def test_engine_is_garbage_collected_with_its_subscriptions():
    e = strata.Engine()
    e.subscribe(lambda event: None)
    ref = weakref.ref(e)
    del e
    gc.collect()
    assert ref() is None


def test_concurrent_stores_from_threads():
    # Dedupe off: the hashing embedder maps a few of these near-identical texts close enough to merge.
    engine = strata.Engine({"dedupe": {"enabled": False}})
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(25):
                engine.store(f"thread {t} item {i} " + "word" * (t + 1), scope=f"t/{t}")
                engine.recall(f"thread {t}", k=3)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    stats = engine.stats()
    assert stats["memories"] == 200
    assert stats["by_scope"] == {f"t/{t}": 25 for t in range(8)}
    engine.close()


def test_close_waits_for_calls_on_other_threads():
    e = strata.Engine()
    e.store_many([f"memory number {i} about topic {i % 7}" for i in range(300)])
    started = threading.Event()
    results: list[object] = []

    def reader() -> None:
        started.set()
        try:
            for _ in range(200):
                results.append(len(e.recall("memory topic", k=5)))
        except strata.EngineClosed:
            results.append("closed")

    t = threading.Thread(target=reader)
    t.start()
    started.wait()
    e.close()
    t.join()
    assert e.closed
    assert results and all(r == 5 for r in results[:-1]) and results[-1] in (5, "closed")


def test_stats_report_the_index_and_its_bytes():
    config = {**VECTOR_CONFIG, "dedupe": {"enabled": False},
              "store": {"backend": "memory", "options": {"index": {"type": "hnsw", "m": 8, "ef_construction": 40, "compression": "fp16"}}}}
    with strata.Engine(config) as e:
        e.store_many([f"note {i} on topic {i % 7}" for i in range(40)])
        index = e.stats()["index"]
    assert index["kind"] == "hnsw" and index["rows"] == 40 and index["compression"] == "fp16"
    assert (index["m"], index["ef_construction"], index["ef_search"]) == (8, 40, 64)
    b = index["bytes"]
    assert b["vectors"] == 40 * DIM * 4 and b["codes"] > 0 and b["graph"] > 0
    assert b["total"] == b["vectors"] + b["codes"] + b["graph"]
    assert "mapped" not in index, "the in-memory store never maps an image"
    with strata.Engine(VECTOR_CONFIG) as e:
        e.store("one memory")
        assert e.stats()["index"]["kind"] == "exact", "auto stays exact below auto_rows"
