"""What a Mem0 or Chroma user reaches for: persistent folders, listing, counting, own ids and
upserts, reset, an empty or read-only recall, the de-duplication flag, TypeError for wrong
types, and Mem0's user / agent / run ids."""

from __future__ import annotations

import json
import os
import stat

import pytest

import strata

SMALL = {"store": {"backend": "sqlite", "plugin": "sqlite", "options": {"path": "strata.db"}},
         "embedder": {"backend": "hashing", "options": {"dimension": 64}}}


# ---- strata.open / Engine(path=...) ------------------------------------------------------------

def test_open_creates_a_private_store_folder_that_persists(tmp_path):
    folder = tmp_path / "memories"
    with strata.open(folder) as engine:
        mid = engine.store("Alice prefers green tea")
        assert "sqlite" in engine.stats()["store"]
    assert json.loads((folder / "strata.json").read_text()) == strata.DEFAULT_STORE
    assert (folder / "strata.db").is_file()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    with strata.Engine(path=str(folder)) as engine:
        assert engine.get(mid).content == "Alice prefers green tea"


def test_reopening_needs_no_dimension_and_works_from_another_directory(tmp_path, monkeypatch):
    folder = tmp_path / "m"
    with strata.open(folder, SMALL) as engine:
        assert engine.dimension == 64
        engine.store("the boat is blue")
    monkeypatch.chdir(tmp_path.parent)  # relative paths in strata.json name files beside it, not in the cwd
    with strata.open(folder) as engine:
        assert engine.dimension == 64
        assert [h.content for h in engine.recall("boat")] == ["the boat is blue"]
    assert not (tmp_path.parent / "strata.db").exists()


def test_reopening_with_another_config_is_refused_naming_the_file(tmp_path):
    folder = tmp_path / "m"
    strata.open(folder, SMALL).close()
    other = dict(SMALL, embedder={"backend": "hashing", "options": {"dimension": 32}})
    with pytest.raises(strata.InvalidConfig, match="strata.json already describes this store"):
        strata.open(folder, other)
    with strata.open(folder, SMALL) as engine:  # the same document is accepted
        assert engine.dimension == 64


def test_a_config_file_naming_another_dimension_than_the_store_is_refused(tmp_path):
    folder = tmp_path / "m"
    strata.open(folder, SMALL).close()
    (folder / "strata.json").write_text(json.dumps(dict(SMALL, embedder={"backend": "hashing", "options": {"dimension": 32}})))
    with pytest.raises(strata.InvalidConfig, match="dimension"):
        strata.open(folder)


def test_a_store_folder_others_can_write_is_refused_as_the_cli_refuses_it(tmp_path):
    folder = tmp_path / "m"
    strata.open(folder).close()
    assert stat.S_IMODE((folder / "strata.json").stat().st_mode) == 0o600
    os.chmod(folder / "strata.json", 0o666)
    with pytest.raises(strata.InvalidConfig, match="writable by other users"):
        strata.open(folder)
    os.chmod(folder / "strata.json", 0o600)
    os.chmod(folder, 0o777)
    with pytest.raises(strata.InvalidConfig, match="refusing the configuration file"):
        strata.open(folder)
    os.chmod(folder, 0o700)
    strata.open(folder).close()


def test_engine_from_a_config_path_resolves_relative_paths_beside_the_file(tmp_path, monkeypatch):
    (tmp_path / "cfg").mkdir()
    config = tmp_path / "cfg" / "strata.json"
    config.write_text(json.dumps({"store": {"backend": "sqlite", "plugin": "sqlite", "options": {"path": "x.db"}}}))
    monkeypatch.chdir(tmp_path)
    with strata.Engine(config) as engine:
        engine.store("kept")
    assert (tmp_path / "cfg" / "x.db").is_file() and not (tmp_path / "x.db").exists()


def test_open_errors(tmp_path):
    with pytest.raises(TypeError, match="path must be"):
        strata.Engine(path=42)
    with pytest.raises(TypeError, match="config must be a dict"):
        strata.open(tmp_path / "a", '{"store": {}}')
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        strata.Engine(tmp_path / "nothing-here" / "strata.json")
    unreadable = tmp_path / "dir.json"
    unreadable.mkdir()
    with pytest.raises(strata.StrataIOError, match="dir.json"):
        strata.Engine(unreadable)
    bad = tmp_path / "bad"
    with pytest.raises(strata.InvalidConfig, match="bogus"):
        strata.open(bad, {"bogus": 1})
    assert not bad.exists()  # a folder that could not be opened is not left behind


# ---- get_all / count / get_many ----------------------------------------------------------------

def test_get_all_lists_oldest_first_and_pages(engine):
    ids = [engine.store(f"note number {i}", {"i": i, "even": i % 2 == 0}, "org/a") for i in range(7)]
    everything = engine.get_all()
    assert [m.id for m in everything] == ids and all(isinstance(m, strata.Memory) for m in everything)
    assert [m.id for m in engine.get_all(limit=3)] == ids[:3]
    assert [m.id for m in engine.get_all(limit=3, offset=5)] == ids[5:]
    assert engine.get_all(offset=7) == []
    assert [m.metadata["i"] for m in engine.get_all({"even": True})] == [0, 2, 4, 6]
    assert engine.count() == 7 and engine.count({"even": False}) == 3
    assert engine.count(scope="org/b") == 0 and engine.count(scope="org/a") == 7


def test_get_all_reads_without_counting_an_access(engine):
    mid = engine.store("a quiet memory")
    engine.get_all()
    engine.count()
    engine.get_many([mid])
    assert engine.get(mid).access_count == 0


def test_get_many_keeps_the_order_given_and_leaves_out_missing_ids(engine):
    a, b, c = (engine.store(t) for t in ("first thing", "second thing", "third thing"))
    assert [m.id for m in engine.get_many([c, "m-nope", a])] == [c, a]
    assert [m.id for m in engine.get_many([b, b])] == [b]
    assert engine.get_many([]) == []


def test_listing_errors(engine):
    with pytest.raises(TypeError, match="not one str"):
        engine.get_many("m-1")
    with pytest.raises(TypeError, match=r"ids\[1\] must be str"):
        engine.get_many(["m-1", 2])
    with pytest.raises(strata.InvalidArgument, match="limit must be an integer in 0"):
        engine.get_all(limit=-1)
    with pytest.raises(strata.InvalidArgument, match="offset"):
        engine.get_all(offset=-2)
    with pytest.raises(TypeError, match="limit must be"):
        engine.get_all(limit="3")
    with pytest.raises(strata.InvalidFilter):
        engine.count({"n": {"$bogus": 1}})


# ---- caller ids and upsert ---------------------------------------------------------------------

def test_caller_id_adds_then_upsert_replaces(engine):
    events: list[strata.Event] = []
    engine.subscribe(events.append)
    assert engine.store("Alice likes tea", {"v": 1}, "org/a", id="doc-1", importance=0.9) == "doc-1"
    replaced = engine.upsert("doc-1", "Alice likes coffee now", {"v": 2}, "org/a")
    assert replaced == "doc-1" and not replaced.deduplicated
    memory = engine.get("doc-1")
    assert memory.content == "Alice likes coffee now" and memory.metadata == {"v": 2}
    assert memory.importance == 0.9  # left out: kept
    assert [e.type for e in events] == ["memory.stored", "memory.updated"]
    assert [h.event for h in engine.history("doc-1")] == ["ADD", "UPDATE"]
    assert engine.count() == 1
    assert [h.id for h in engine.recall("coffee")] == ["doc-1"]


def test_caller_ids_are_never_deduplicated_and_the_later_of_a_batch_wins(engine):
    engine.store("the same words exactly", id="a")
    twin = engine.store("the same words exactly", id="b")
    assert twin == "b" and not twin.deduplicated and engine.count() == 2
    ids = engine.store_many([{"id": "c", "content": "one"}, {"id": "c", "content": "two"}])
    assert ids == ["c", "c"] and engine.get("c").content == "two"


def test_bad_caller_ids_are_refused_and_store_nothing(engine):
    with pytest.raises(strata.InvalidArgument, match="strata:"):
        engine.store("x", id="strata:space")
    with pytest.raises(strata.InvalidArgument, match="1 to 256 bytes"):
        engine.store("x", id="")
    with pytest.raises(strata.InvalidArgument, match="1 to 256 bytes"):
        engine.store("x", id="a" * 257)
    with pytest.raises(strata.InvalidArgument, match="control character"):
        engine.store("x", id="a\nb")
    with pytest.raises(TypeError, match="id must be str"):
        engine.upsert(7, "x")
    assert engine.count() == 0


# ---- reset -------------------------------------------------------------------------------------

def test_reset_forgets_everything_and_keeps_history_and_snapshots(engine):
    mid = engine.store("to be reset")
    engine.store("also reset", scope="org/x")
    engine.snapshot("before")
    assert engine.reset() == 2 and engine.count() == 0 and engine.stats()["memories"] == 0
    assert [h.event for h in engine.history(mid)] == ["ADD", "DELETE"]
    assert engine.reset() == 0
    engine.rollback("before")
    assert engine.count() == 2


# ---- recall("") and read-only recall -----------------------------------------------------------

def test_empty_recall_ranks_by_importance_and_recency(engine):
    engine.store("an ordinary note", importance=0.2)
    key = engine.store("the key fact", importance=1.0)
    engine.store("another note", importance=0.3, scope="org/b")
    hits = engine.recall()
    assert hits[0].id == key and len(hits) == 3
    assert all(h.scores["vector"] is None and h.scores["keyword"] is None and h.scores["fused"] == 0 for h in hits)
    assert [h.content for h in engine.recall("", k=1, scope="org/b")] == ["another note"]
    assert engine.recall("", filter={"none": 1}) == []


def test_read_only_recall_leaves_access_counts_alone(engine):
    mid = engine.store("green tea every morning")
    first = engine.recall("green tea", track_access=False)
    again = engine.recall("green tea", track_access=False)
    assert engine.get(mid).access_count == 0
    assert first[0].scores["access"] == again[0].scores["access"] == 0
    assert again[0].score == pytest.approx(first[0].score, abs=1e-6)  # recency moves with the clock only
    engine.recall("green tea")
    assert engine.get(mid).access_count == 1
    hits = engine.recall_vector(engine.embed(["green tea"])[0], track_access=False)
    assert hits[0].id == mid and engine.get(mid).access_count == 1
    with pytest.raises(TypeError, match="track_access must be bool"):
        engine.recall("tea", track_access=0)


# ---- the de-duplication flag -------------------------------------------------------------------

def test_store_says_when_it_deduplicated(engine):
    first = engine.store("the wifi password is in the drawer")
    assert isinstance(first, strata.StoredId) and isinstance(first, str) and not first.deduplicated
    again = engine.store("the wifi password is in the drawer")
    assert again == first and again.deduplicated
    batch = engine.store_many(["the wifi password is in the drawer", "something else entirely"])
    assert [b.deduplicated for b in batch] == [True, False] and batch[0] == first
    # Within one batch: the first copy is added, the later ones merge into it.
    inside = engine.store_many(["alice flies on tuesday", "alice flies on tuesday", "bob stays", "alice flies on tuesday"])
    assert [b.deduplicated for b in inside] == [False, True, False, True] and len(set(inside)) == 2
    assert json.dumps(batch[0]) == json.dumps(str(first))


def test_store_many_can_skip_or_force_deduplication(engine):
    first = engine.store("the same line of text")
    copies = engine.store_many(["the same line of text", "the same line of text"], dedupe=False)
    assert first not in copies and len(set(copies)) == 2 and not any(c.deduplicated for c in copies)
    assert engine.count() == 3
    with strata.Engine({"dedupe": {"enabled": False}}) as plain:
        a = plain.store("once more")
        assert plain.store_many(["once more"], dedupe=True) == [a]
    with pytest.raises(TypeError, match="dedupe must be bool"):
        engine.store_many(["x"], dedupe="no")


def test_dedupe_can_be_turned_off_for_bulk_imports():
    with strata.Engine({"dedupe": {"enabled": False}}) as engine:
        a = engine.store("same text")
        b = engine.store("same text")
        assert a != b and not b.deduplicated


# ---- TypeError for wrong Python types ----------------------------------------------------------

@pytest.mark.parametrize("call, name", [
    (lambda e: e.store(123), "content"),
    (lambda e: e.store("x", metadata=[1, 2]), "metadata"),
    (lambda e: e.store("x", scope=5), "scope"),
    (lambda e: e.store("x", importance="high"), "importance"),
    (lambda e: e.store("x", pinned=1), "pinned"),
    (lambda e: e.store("x", ttl_seconds="1h"), "ttl_seconds"),
    (lambda e: e.store_many([{"content": 1}]), "content"),
    (lambda e: e.store_many("one text"), "items"),
    (lambda e: e.recall(None), "query"),
    (lambda e: e.recall("x", k="3"), "k"),
    (lambda e: e.recall("x", k=True), "k"),
    (lambda e: e.recall("x", filter=[("a", 1)]), "filter"),
    (lambda e: e.update("m-1", content=5), "content"),
    (lambda e: e.get(1), "id"),
    (lambda e: e.forget(1), "id"),
    (lambda e: e.store("x", user_id=3), "user_id"),
])
def test_wrong_python_types_raise_type_error_naming_the_argument(engine, call, name):
    with pytest.raises(TypeError, match=name):
        call(engine)
    assert engine.count() == 0


# ---- events ------------------------------------------------------------------------------------

def test_events_are_dataclasses_with_datetimes(engine):
    events: list[strata.Event] = []
    engine.subscribe(events.append)
    mid = engine.store("an event")
    event = events[0]
    assert event == strata.Event("memory.stored", mid, event.at, engine.get(mid), None)
    assert event.at.utcoffset().total_seconds() == 0
    with pytest.raises(AttributeError):
        event.type = "x"  # frozen


# ---- Mem0's ids --------------------------------------------------------------------------------

def test_mem0_ids_become_metadata_and_a_scope(engine):
    mid = engine.store("Alice likes tea", user_id="alice", agent_id="planner", run_id="42")
    memory = engine.get(mid)
    assert memory.scope == "user:alice/agent:planner/run:42"
    assert memory.metadata == {"user_id": "alice", "agent_id": "planner", "run_id": "42"}
    engine.store("Bob likes coffee", user_id="bob")
    engine.store("Alice likes boats", {"topic": "hobby"}, user_id="alice")
    assert {h.content for h in engine.recall("likes", user_id="alice")} == {"Alice likes tea", "Alice likes boats"}
    assert [h.content for h in engine.recall("likes", filter={"topic": "hobby"}, user_id="alice")] == ["Alice likes boats"]
    assert engine.count(user_id="alice") == 2 and engine.count(agent_id="planner") == 1
    assert [m.content for m in engine.get_all(user_id="bob")] == ["Bob likes coffee"]
    assert len(engine.forget(user_id="alice")) == 2 and engine.count() == 1


def test_mem0_ids_errors(engine):
    assert strata.scope_for("alice", run_id="7") == "user:alice/run:7" and strata.scope_for() == ""
    with pytest.raises(ValueError, match="no '/'"):
        engine.store("x", user_id="a/b")
    with pytest.raises(ValueError, match="give one of them"):
        engine.store("x", {"user_id": "bob"}, user_id="alice")
    with pytest.raises(TypeError, match="not both"):
        engine.forget("m-1", user_id="alice")
    assert engine.store("x", scope="org/own", user_id="alice") and engine.get_all()[0].scope == "org/own"
