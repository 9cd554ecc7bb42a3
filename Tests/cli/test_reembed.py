"""Embedding-space safety (issue 15, deliverable 3): a store records the space of its vectors,
refuses another embedder by name, and `strata reembed` moves it to a new one, resumable after a
SIGKILL, recall answering from the old space until the switch.

Tests that move to minilm need its model (scripts/install-model, which scripts/setup runs).
"""

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from test_cli import BIN, Store, strata  # noqa: F401

MODEL = Path(os.environ.get("STRATA_MINILM_DIR") or Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local/share")
             / "strata/models/all-MiniLM-L6-v2")
needs_minilm = pytest.mark.skipif(not (MODEL / "model.safetensors").exists(),
                                  reason=f"the minilm model is not installed in {MODEL} (scripts/install-model)")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def filled(tmp_path: Path, count: int) -> Store:
    """A SQLite store (hashing embedder of 256 dimensions) with `count` memories."""
    s = Store(tmp_path)
    # Written here rather than by `strata init`, whose default embedder may change (issue 15, deliverable 2).
    folder = tmp_path / ".strata"
    folder.mkdir(mode=0o700)
    (folder / "strata.json").write_text(json.dumps({
        "store": {"backend": "sqlite", "plugin": "sqlite", "options": {"path": "strata.db"}},
        "embedder": {"backend": "hashing", "options": {"dimension": 256}},
    }))
    os.chmod(folder / "strata.json", 0o600)
    lines = [json.dumps({"content": f"note {i}: the team discussed item {i * 7 % 113} of the roadmap, to revisit on day {i % 30}"})
             for i in range(count)]
    (tmp_path / "m.jsonl").write_text("\n".join(lines) + "\n")
    s.ok("import", str(tmp_path / "m.jsonl"), "--batch-size", "500")
    return s


def configuration(s: Store) -> dict:
    return json.loads((s.cwd / ".strata" / "strata.json").read_text())


def set_embedder(s: Store, embedder: dict, path: str | None = None) -> None:
    c = configuration(s)
    c["embedder"] = embedder
    if path:
        c["store"]["options"]["path"] = path
    (s.cwd / ".strata" / "strata.json").write_text(json.dumps(c))


def exported(s: Store, tmp_path: Path) -> list[dict]:
    out = tmp_path / "export.jsonl"
    if out.exists():
        out.unlink()
    s.ok("export", str(out))
    return [json.loads(line) for line in out.read_text().splitlines()]


def staged_count(folder: Path) -> int:
    """Memories committed so far to the new store a running reembed is filling (0 before it exists)."""
    files = [p for p in folder.glob("strata.reembed-*.db")]
    if not files:
        return 0
    try:
        with sqlite3.connect(f"file:{files[0]}?mode=ro", uri=True, timeout=5) as db:
            return db.execute("SELECT count(*) FROM memories").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_another_dimension_names_the_stored_space_the_configured_one_and_the_command_and_changes_nothing(tmp_path):
    s = filled(tmp_path, 20)
    db = s.cwd / ".strata" / "strata.db"
    before = digest(db)
    set_embedder(s, {"backend": "hashing", "options": {"dimension": 384}})
    for command in (["recall", "roadmap"], ["stats"], ["add", "a memory that must not land in the wrong space"]):
        r = s.fails(13, *command)
        assert "holds vectors of the embedding space hashing (hashing-v1-256, 256 dimensions, unit length)" in r.err, r.err
        assert "the configured embedder is hashing (hashing-v1-384, 384 dimensions)" in r.err, r.err
        assert """`strata reembed --embedder hashing --embedder-options '{"dimension":384}'`""" in r.err, r.err
    assert digest(db) == before
    assert not (s.cwd / ".strata" / "strata.db-wal").exists(), "no connection left behind"
    # The JSON error carries the same message and the code.
    err = json.loads(s.fails(13, "stats", "--json").out)["error"]
    assert err["status"] == "STRATA_ERR_INVALID_CONFIG" and "hashing-v1-256" in err["message"], err


def test_a_file_store_of_another_dimension_names_both_spaces_and_changes_nothing(tmp_path):
    s = Store(tmp_path)
    folder = tmp_path / ".strata"
    folder.mkdir(mode=0o700)
    (folder / "strata.json").write_text(json.dumps({
        "store": {"backend": "file", "plugin": "file", "options": {"path": "strata.log"}},
        "embedder": {"backend": "hashing", "options": {"dimension": 64}},
    }))
    os.chmod(folder / "strata.json", 0o600)
    s.add("Alice prefers a window seat")
    log = folder / "strata.log"
    files = sorted(p.name for p in folder.iterdir())
    before = digest(log)
    set_embedder(s, {"backend": "hashing", "options": {"dimension": 32}})
    r = s.fails(13, "recall", "window")
    assert "hashing (hashing-v1-64, 64 dimensions, unit length)" in r.err and "hashing (hashing-v1-32, 32 dimensions)" in r.err, r.err
    assert "strata reembed --embedder hashing" in r.err, r.err
    assert digest(log) == before and sorted(p.name for p in folder.iterdir()) == files


def test_stats_shows_the_space_in_text_and_json(tmp_path):
    s = Store(tmp_path)
    folder = tmp_path / ".strata"
    folder.mkdir(mode=0o700)
    (folder / "strata.json").write_text(json.dumps({
        "store": {"backend": "sqlite", "plugin": "sqlite", "options": {"path": "strata.db"}},
        "embedder": {"backend": "hashing", "options": {"dimension": 128}},
    }))
    os.chmod(folder / "strata.json", 0o600)
    assert s.json("stats")["space"] == {"embedder": "hashing", "model_id": "hashing-v1-128", "dimension": 128, "normalized": None}
    assert "space       hashing, model hashing-v1-128, 128 dimensions, normalisation not known before the first write\n" in s.ok("stats").out
    s.add("Bob drinks his coffee black")
    assert s.json("stats")["space"] == {"embedder": "hashing", "model_id": "hashing-v1-128", "dimension": 128, "normalized": True}
    assert "space       hashing, model hashing-v1-128, 128 dimensions, unit length\n" in s.ok("stats").out


def test_reembed_without_a_model_records_the_new_space_and_keeps_the_old_file(tmp_path):
    s = filled(tmp_path, 40)
    old_db = s.cwd / ".strata" / "strata.db"
    before = digest(old_db)
    out = s.json("reembed", "--embedder", "hashing", "--embedder-options", '{"dimension": 384}')
    assert out["switched"] is True and out["memories"] == 40 and out["embedded"] == 40 and out["kept"] == 0
    assert out["from"]["model_id"] == "hashing-v1-256" and out["to"]["model_id"] == "hashing-v1-384"
    assert out["old_store"] == str(old_db.resolve()) and Path(out["store"]).name.startswith("strata.reembed-")
    space = json.loads(s.json("history", "strata:space")["history"][-1]["reason"])
    assert space == {"embedder": "hashing", "model_id": "hashing-v1-384", "dimension": 384, "normalized": True}
    assert s.json("stats")["dimension"] == 384 and s.json("stats")["memories"] == 40
    assert digest(old_db) == before
    # Back to 256 dimensions: a third file, the old one still untouched.
    back = s.json("reembed", "--embedder", "hashing", "--embedder-options", '{"dimension": 256}')
    assert back["memories"] == 40 and Path(back["store"]).name != Path(out["store"]).name


def tiered(tmp_path: Path, hot: int, cold: int) -> Store:
    """A SQLite main store (tier "hot"), a SQLite store of its own for tier "cold" and a memory
    store for tier "scratch" (hashing embedder of 256 dimensions), with `hot` + `cold` memories."""
    s = Store(tmp_path)
    folder = tmp_path / ".strata"
    folder.mkdir(mode=0o700)
    (folder / "strata.json").write_text(json.dumps({
        "store": {"backend": "sqlite", "plugin": "sqlite", "options": {"path": "strata.db"}},
        "embedder": {"backend": "hashing", "options": {"dimension": 256}},
        "tiers": [
            {"name": "hot"},
            {"name": "cold", "store": {"backend": "sqlite", "plugin": "sqlite", "options": {"path": "cold.db"}}},
            {"name": "scratch", "store": {"backend": "memory"}},
        ],
    }))
    os.chmod(folder / "strata.json", 0o600)
    lines = [json.dumps({"content": f"note {i}: the team discussed item {i * 7 % 113} of the roadmap, to revisit on day {i % 30}",
                         "tier": "hot" if i < hot else "cold"}) for i in range(hot + cold)]
    (tmp_path / "m.jsonl").write_text("\n".join(lines) + "\n")
    s.ok("import", str(tmp_path / "m.jsonl"), "--batch-size", "500")
    return s


def spaces_and_lengths(db: Path) -> tuple[list[str], set[int]]:
    """The model ids a SQLite store file no process has open records as its space, and the lengths
    of its vectors in bytes. Opened immutable: a read-only connection would leave a -wal file,
    which reembed takes for another process holding the store."""
    c = sqlite3.connect(f"file:{db}?immutable=1", uri=True)
    try:
        rows = [json.loads(json.loads(e)["reason"])["model_id"]
                for (e,) in c.execute("SELECT entry FROM history WHERE memory_id = 'strata:space' ORDER BY hid")]
        lengths = {n for (n,) in c.execute("SELECT length(vector) FROM memories")}
    finally:
        c.close()
    return rows, lengths


def test_reembed_moves_every_tier_store_records_the_space_in_each_and_says_what_a_memory_store_does(tmp_path):
    s = tiered(tmp_path, 30, 20)
    folder = s.cwd / ".strata"
    assert s.json("stats")["by_tier"] == {"hot": 30, "cold": 20}
    assert spaces_and_lengths(folder / "cold.db") == (["hashing-v1-256"], {1024}), "a tier's store records the space too"
    before = {name: digest(folder / name) for name in ("strata.db", "cold.db")}
    out = s.json("reembed", "--embedder", "hashing", "--embedder-options", '{"dimension": 384}', "--batch-size", "7")
    assert out["switched"] is True and out["memories"] == 50 and out["embedded"] == 50, out
    cold, scratch = out["tier_stores"]
    assert cold["tier"] == "cold" and cold["moved"] is True and cold["old_store"] == str((folder / "cold.db").resolve())
    assert Path(cold["store"]).name.startswith("cold.reembed-") and Path(cold["store"]).exists()
    assert scratch == {"tier": "scratch", "backend": "memory", "moved": False, "store": None}
    c = configuration(s)
    assert c["store"]["options"]["path"].startswith("strata.reembed-") and c["tiers"][1]["store"]["options"]["path"] == Path(cold["store"]).name
    assert c["tiers"][2] == {"name": "scratch", "store": {"backend": "memory"}} and c["embedder"]["options"] == {"dimension": 384}
    stats = s.json("stats")
    assert stats["memories"] == 50 and stats["by_tier"] == {"hot": 30, "cold": 20} and stats["space"]["model_id"] == "hashing-v1-384"
    assert spaces_and_lengths(Path(out["store"])) == (["hashing-v1-384"], {1536})
    assert spaces_and_lengths(Path(cold["store"])) == (["hashing-v1-384"], {1536})
    assert {name: digest(folder / name) for name in ("strata.db", "cold.db")} == before, "the old files are left as they were"
    ids = [m["id"] for m in exported(s, tmp_path)]
    assert len(ids) == 50 == len(set(ids))
    # The text names every store: moved, or kept as it is.
    r = s.ok("reembed", "--embedder", "hashing", "--embedder-options", '{"dimension": 256}')
    assert 'The store of tier "cold" is now ' in r.out and "cold.reembed-" in r.out, r.out
    assert 'The store of tier "scratch" (memory) keeps nothing between processes: it had nothing to move' in r.out, r.out
    # A moved tier file opened as the main store of another embedder is refused, naming its space.
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "strata.json").write_text(json.dumps({
        "store": {"backend": "sqlite", "plugin": "sqlite", "options": {"path": cold["store"]}},
        "embedder": {"backend": "hashing", "options": {"dimension": 256}}}))
    os.chmod(tmp_path / "other" / "strata.json", 0o600)
    r = s.fails(13, "stats", "--dir", str(tmp_path / "other"))
    assert "hashing (hashing-v1-384, 384 dimensions, unit length)" in r.err, r.err


def test_a_tiered_reembed_stopped_before_the_switch_resumes_with_every_store_kept(tmp_path):
    s = tiered(tmp_path, 25, 25)
    folder = s.cwd / ".strata"
    # Another process holding the cold store open stops the switch (exit 24) after the move.
    holder = sqlite3.connect(folder / "cold.db")
    holder.execute("SELECT count(*) FROM memories").fetchone()
    try:
        r = s.fails(24, "reembed", "--embedder", "hashing", "--embedder-options", '{"dimension": 96}', "--batch-size", "10")
        assert 'another process has the store of tier "cold"' in r.err and "cold.reembed-" in r.err, r.err
    finally:
        holder.close()
    assert configuration(s)["embedder"]["options"] == {"dimension": 256}, "not switched"
    assert s.json("stats")["memories"] == 50
    out = s.json("reembed", "--embedder", "hashing", "--embedder-options", '{"dimension": 96}', "--batch-size", "10")
    assert out["switched"] is True and out["embedded"] == 0 and out["kept"] == 50 and out["memories"] == 50, out
    assert spaces_and_lengths(Path(out["tier_stores"][0]["store"])) == (["hashing-v1-96"], {384})
    assert s.json("stats")["by_tier"] == {"hot": 25, "cold": 25}


@needs_minilm
def test_sigkill_in_a_tiered_move_then_resume_moves_every_memory_of_every_tier_once(tmp_path):
    s = tiered(tmp_path, 300, 300)
    folder = s.cwd / ".strata"
    env = {k: v for k, v in os.environ.items() if k != "STRATA_DIR"}
    p = subprocess.Popen([str(BIN), "reembed", "--embedder", "minilm", "--batch-size", "16"], cwd=s.cwd, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while staged_count(folder) < 32 and time.time() < deadline and p.poll() is None:
        time.sleep(0.05)
    assert p.poll() is None, "the reembed finished before it could be killed; make the store larger"
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert configuration(s)["embedder"]["backend"] == "hashing" and s.json("stats")["memories"] == 600
    out = s.json("reembed", "--embedder", "minilm", "--batch-size", "64")
    assert out["switched"] is True and out["memories"] == 600 and out["kept"] >= 32 and out["kept"] + out["embedded"] == 600, out
    after = exported(s, tmp_path)
    assert len(after) == 600 and len({m["id"] for m in after}) == 600
    assert all(m["model"].startswith("minilm:") for m in after)
    assert s.json("stats")["by_tier"] == {"hot": 300, "cold": 300}
    for db in (Path(out["store"]), Path(out["tier_stores"][0]["store"])):
        models, lengths = spaces_and_lengths(db)
        assert len(models) == 1 and models[0].startswith("minilm:") and lengths == {1536}


def test_reembed_help_and_a_memory_store_is_unsupported(tmp_path):
    r = strata("reembed", "--help", cwd=tmp_path)
    assert r.code == 0 and "--batch-size" in r.out and "resumed" in r.out
    s = Store(tmp_path)
    s.ok("init", "--preset", "memory")
    s.fails(23, "reembed", "--embedder", "hashing", "--embedder-options", '{"dimension": 64}')


@needs_minilm
def test_mismatch_names_both_spaces_and_leaves_the_file_alone(tmp_path):
    s = filled(tmp_path, 30)
    out = s.json("reembed", "--embedder", "hashing", "--embedder-options", '{"dimension": 384}')
    new_db = Path(out["store"])
    before = digest(new_db)
    set_embedder(s, {"backend": "minilm", "plugin": "minilm", "options": {}})
    r = s.fails(13, "recall", "roadmap")
    assert "hashing (hashing-v1-384, 384 dimensions" in r.err, r.err
    assert "minilm (minilm:sentence-transformers/all-MiniLM-L6-v2@crc32c:" in r.err, r.err
    assert "strata reembed" in r.err
    s.fails(13, "add", "a memory that must not land in the wrong space")
    assert digest(new_db) == before


@needs_minilm
def test_reembed_moves_every_memory_and_its_history_to_minilm(tmp_path):
    s = filled(tmp_path, 50)
    first = exported(s, tmp_path)
    target = first[7]["id"]
    s.ok("update", target, "--text", "Alice prefers a window seat when she flies long distances")
    gone = first[8]["id"]
    s.ok("forget", gone)
    out = s.json("reembed", "--embedder", "minilm", "--batch-size", "8")
    assert out["switched"] is True and out["memories"] == 49 and out["removed"] == 0
    assert out["to"]["dimension"] == 384 and out["to"]["normalized"] is True
    assert configuration(s)["embedder"]["backend"] == "minilm"
    after = exported(s, tmp_path)
    assert sorted(m["id"] for m in after) == sorted(m["id"] for m in first if m["id"] != gone)
    assert all(m["model"].startswith("minilm:") for m in after)
    assert [h["event"] for h in s.json("history", target)["history"]] == ["ADD", "UPDATE"]
    hits = s.json("recall", "Where does Alice like to sit on a plane?", "-k", "1")
    assert hits["hits"][0]["id"] == target, hits
    assert s.json("stats")["dimension"] == 384
    # Running it again is a no-op.
    again = s.json("reembed", "--embedder", "minilm")
    assert again["switched"] is False and again["memories"] == 49


@needs_minilm
def test_sigkill_in_the_middle_then_resume_moves_every_memory_once_and_recall_answers_from_the_old_space_until_the_switch(tmp_path):
    s = filled(tmp_path, 600)
    folder = s.cwd / ".strata"
    query = ["recall", "item 42 of the roadmap", "-k", "3", "--json"]
    before = s.ok(*query).json()
    env = {k: v for k, v in os.environ.items() if k != "STRATA_DIR"}
    p = subprocess.Popen([str(BIN), "reembed", "--embedder", "minilm", "--batch-size", "16"], cwd=s.cwd, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while staged_count(folder) < 64 and time.time() < deadline and p.poll() is None:
        time.sleep(0.05)
    # Mid-move, another process recalls from the old store, in the old space (same vector scores).
    during = s.ok(*query).json()
    assert [(h["id"], h["scores"]["vector"]) for h in during["hits"]] == [(h["id"], h["scores"]["vector"]) for h in before["hits"]]
    assert s.json("stats")["dimension"] == 256
    assert p.poll() is None, "the reembed finished before it could be killed; make the store larger"
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    done = staged_count(folder)
    assert 0 < done < 600
    # Killed before the switch: the store is still the old one, whole.
    assert configuration(s)["embedder"]["backend"] == "hashing"
    assert s.json("stats")["memories"] == 600
    out = s.json("reembed", "--embedder", "minilm", "--batch-size", "64")
    assert out["switched"] is True and out["memories"] == 600
    assert out["kept"] >= done and out["embedded"] == 600 - done, out
    after = exported(s, tmp_path)
    ids = [m["id"] for m in after]
    assert len(ids) == 600 and len(set(ids)) == 600
    assert all(m["model"].startswith("minilm:") for m in after)
    assert s.json("stats")["dimension"] == 384


@needs_minilm
def test_memories_another_process_adds_or_forgets_during_the_move_are_carried_over(tmp_path):
    s = filled(tmp_path, 300)
    folder = s.cwd / ".strata"
    first = exported(s, tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "STRATA_DIR"}
    p = subprocess.Popen([str(BIN), "reembed", "--embedder", "minilm", "--batch-size", "16", "--json"], cwd=s.cwd, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while staged_count(folder) < 32 and time.time() < deadline and p.poll() is None:
        time.sleep(0.05)
    assert p.poll() is None, "the reembed finished before the other process could write"
    added = s.add("Alice prefers a window seat when she flies long distances")
    s.ok("forget", first[0]["id"])
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err.decode()
    report = json.loads(out)
    assert report["switched"] is True and report["memories"] == 300
    after = {m["id"]: m for m in exported(s, tmp_path)}
    assert len(after) == 300 and added in after and first[0]["id"] not in after
    assert all(m["model"].startswith("minilm:") for m in after.values())
    assert s.json("recall", "Where does Alice like to sit on a plane?", "-k", "1")["hits"][0]["id"] == added


def test_reembed_draws_a_progress_bar_on_a_terminal_with_real_control_codes(tmp_path):
    import pty

    s = filled(tmp_path, 120)
    controller, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "STRATA_DIR"}
    try:
        p = subprocess.run([str(BIN), "reembed", "--embedder", "hashing", "--embedder-options", '{"dimension": 128}',
                            "--batch-size", "40"], cwd=s.cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=terminal)
        os.close(terminal)
        terminal = -1
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the end of a pty whose other side closed is EIO on Linux
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        if terminal >= 0:
            os.close(terminal)
        os.close(controller)
    assert p.returncode == 0
    assert b"\r\x1b[2K[##########" in drawn and b"100%  120 memories" in drawn, drawn
    assert b"\\x1b" not in drawn, "the bar's own control codes are not escaped as text"
    assert b"Re-embedded 120 memories" in p.stdout and b"%" not in p.stdout
