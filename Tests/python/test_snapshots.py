"""Snapshots and rollback through the package (Engine.snapshot, snapshots, rollback, delete_snapshot)
on the in-memory, SQLite and file stores: exact restores, history kept, a second engine and a
second process on one SQLite file, damaged snapshot files, bad names."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest

import strata

STORES = ["memory", "sqlite", "file"]


def plugin_built(name: str) -> bool:
    folder = os.path.dirname(os.path.realpath(strata.library_path))
    return os.path.isfile(os.path.join(folder, f"libstrata-{name}.so"))


def config(kind: str, folder) -> dict | None:
    if kind == "memory":
        return None
    if not plugin_built(kind):
        pytest.skip(f"libstrata-{kind}.so is not built beside libstrata.so")
    path = folder / ("memories.db" if kind == "sqlite" else "memories.log")
    return {"store": {"backend": kind, "plugin": kind, "options": {"path": str(path)}}}


def snapshot_file(kind: str, folder, name: str):
    return folder / (f"memories.db.snapshots/{name}.sqlite" if kind == "sqlite" else f"memories.log.snapshots/{name}.snapshot")


def everything(engine: strata.Engine, ids) -> dict:
    """Each id's memory, or None when it is not there."""
    out = {}
    for mid in ids:
        try:
            out[mid] = engine.get(mid)
        except strata.NotFound:
            out[mid] = None
    return out


def fill(engine: strata.Engine) -> list[str]:
    ids = [
        engine.store("Alice prefers green tea in the morning", {"user": "alice", "tags": ["drink"]}, "org/a", importance=0.8),
        engine.store("Bob fixes bicycles on Saturdays", {"user": "bob"}, "org/b"),
        engine.store("The office plants need water twice a week", {"n": 3}, ttl_seconds=86400.0),
    ]
    engine.recall("green tea", k=2)  # access counts and times are part of what comes back
    return ids


@pytest.mark.parametrize("kind", STORES)
def test_rollback_restores_exactly_and_keeps_history(kind, tmp_path):
    with strata.Engine(config(kind, tmp_path)) as e:
        tea, bikes, plants = fill(e)
        before = everything(e, [tea, bikes, plants])
        info = e.snapshot("before-changes")
        assert (info.name, info.memories) == ("before-changes", 3)
        assert (info.bytes is None) == (kind == "memory")

        e.update(tea, content="Alice switched to espresso", metadata={"user": "alice", "v": 2})
        e.forget(bikes)
        later = e.store("A memory written after the snapshot")
        e.recall("office plants water", k=1)

        result = e.rollback("before-changes")
        assert result == strata.Rollback("before-changes", added=[bikes], removed=[later], changed=sorted([tea, plants]))
        assert everything(e, [tea, bikes, plants, later]) == {**before, later: None}
        assert e.stats()["memories"] == 3
        assert e.rollback("before-changes") == strata.Rollback("before-changes", [], [], []), "nothing left to change"
        assert e.recall("green tea", k=1)[0].id == tea

        assert [h.event for h in e.history(tea)] == ["ADD", "UPDATE", "UPDATE"]
        assert [h.event for h in e.history(bikes)] == ["ADD", "DELETE", "ADD"]
        assert [h.event for h in e.history(later)] == ["ADD", "DELETE"]
        row = e.history(tea)[-1]
        assert row.reason == "rollback to snapshot before-changes"
        assert row.old.content == "Alice switched to espresso" and row.new == before[tea]

    if kind != "memory":  # snapshots on disk and the rollback outlive the engine
        with strata.Engine(config(kind, tmp_path)) as e:
            assert [s.name for s in e.snapshots()] == ["before-changes"]
            assert e.get(bikes).content == "Bob fixes bicycles on Saturdays"
            assert [h.event for h in e.history(later)] == ["ADD", "DELETE"]


def test_a_second_engine_and_a_second_process_see_a_sqlite_rollback(tmp_path):
    cfg = config("sqlite", tmp_path)
    with strata.Engine(cfg) as a, strata.Engine(cfg) as b:
        kept = a.store("The spare key is in the blue vase")
        a.snapshot("v1")
        extra = b.store("Stored by the second engine")
        b.update(kept, content="The spare key moved to the drawer")

        a.rollback("v1")
        assert b.get(kept).content == "The spare key is in the blue vase"
        with pytest.raises(strata.NotFound):
            b.get(extra)
        assert [h.event for h in b.history(extra)] == ["ADD", "DELETE"]

        # Another process changes the file and rolls it back; both engines here see it.
        script = textwrap.dedent(f"""
            import strata
            with strata.Engine({cfg!r}) as e:
                e.store("written by another process")
                e.forget({kept!r})
                e.snapshot("v2")
                print(e.rollback("v1").added)
        """)
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                             env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
        assert run.stdout.strip() == repr([kept])
        for engine in (a, b):
            assert engine.stats()["memories"] == 1
            assert engine.get(kept).content == "The spare key is in the blue vase"
            assert [s.name for s in engine.snapshots()] == ["v1", "v2"]
            assert engine.recall("blue vase", k=1)[0].scores["keyword"] is not None


@pytest.mark.parametrize("kind", ["sqlite", "file"])
@pytest.mark.parametrize("damage", ["garbage", "a changed record", "cut short"])
def test_a_damaged_snapshot_file_is_corrupt_and_changes_nothing(kind, damage, tmp_path):
    with strata.Engine(config(kind, tmp_path)) as e:
        ids = fill(e)
        e.snapshot("v1")
        ids.append(e.store("Stored after the snapshot"))
        e.update(ids[0], content="Changed after the snapshot")
        state = everything(e, ids)
        history = {mid: e.history(mid) for mid in ids}

        path = snapshot_file(kind, tmp_path, "v1")
        data = bytearray(path.read_bytes())
        if damage == "garbage":
            path.write_bytes(b"this is not a snapshot " * 100)
        elif damage == "cut short":
            path.write_bytes(bytes(data[: len(data) * 2 // 3]))
        elif kind == "sqlite":
            # A valid database whose record changed: SQLite keeps no checksums of its own, so
            # only the snapshot's checksum of its rows can tell.
            with sqlite3.connect(path) as db:
                db.execute("UPDATE memories SET record = replace(record, 'Bob fixes', 'Rob fixes')")
            db.close()
        else:
            assert data.count(b"Bob fixes bicycles") == 1
            at = data.find(b"Bob fixes bicycles")
            data[at : at + 3] = b"Rob"
            path.write_bytes(bytes(data))

        with pytest.raises(strata.CorruptStore) as caught:
            e.rollback("v1")
        assert str(path) in str(caught.value)
        assert caught.value.status == "STRATA_ERR_CORRUPT"
        assert everything(e, ids) == state
        assert {mid: e.history(mid) for mid in ids} == history
        e.store("the store goes on")


def test_names_are_checked_used_once_and_deleted(engine):
    for bad in ["", "with space", "../escape", "caf\u00e9", "x" * 65]:
        with pytest.raises(strata.InvalidArgument):
            engine.snapshot(bad)
    with pytest.raises(strata.InvalidArgument) as caught:
        engine.rollback("no/slash")
    assert "no/slash" in str(caught.value)
    engine.snapshot("x" * 64)
    engine.snapshot("release-1.2_b")
    with pytest.raises(strata.Conflict):
        engine.snapshot("release-1.2_b")
    with pytest.raises(strata.NotFound) as caught:
        engine.rollback("never")
    assert "never" in str(caught.value) and "release-1.2_b" in str(caught.value)
    assert sorted(s.name for s in engine.snapshots()) == sorted(["x" * 64, "release-1.2_b"])
    engine.delete_snapshot("x" * 64)
    assert [s.name for s in engine.snapshots()] == ["release-1.2_b"]
    with pytest.raises(strata.NotFound):
        engine.delete_snapshot("x" * 64)


def test_a_rollback_publishes_one_event_per_changed_memory(engine):
    kept = engine.store("Kept across the rollback")
    engine.snapshot("s")
    later = engine.store("Gone after the rollback")
    events = []
    engine.subscribe(events.append)
    engine.rollback("s")
    assert [(ev.type, ev.memory_id, ev.memory) for ev in events] == [("memory.rolled_back", later, None)]
    assert engine.get(kept).content == "Kept across the rollback"


def test_a_temporary_sqlite_store_has_no_snapshots():
    if not plugin_built("sqlite"):
        pytest.skip("libstrata-sqlite.so is not built beside libstrata.so")
    with strata.Engine({"store": {"backend": "sqlite", "plugin": "sqlite"}}) as e:
        with pytest.raises(strata.Unsupported) as caught:
            e.snapshot("x")
        assert "plugin:sqlite/sqlite keeps no snapshots" in str(caught.value)
