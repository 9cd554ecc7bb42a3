"""Issue 13 through the CLI, as a user and as an attacker would try it: nothing acknowledged is
lost, no foreign code runs, scopes hold, hostile text is shown safely.

Each test drives the built binary (see test_cli.py) in its own temporary folder.
"""

import hashlib
import json
import os
import struct
import subprocess
from pathlib import Path

import pytest

from test_cli import BIN, Store, store, strata  # noqa: F401 (store is a fixture)

CORRUPT = 26  # 10 - STRATA_ERR_CORRUPT (-16)
CONFLICT = 24
INVALID_ARGUMENT = 11
INVALID_CONFIG = 13
PLUGIN = 14
INVALID_UTF8 = 20


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def jsonl(path: Path, count: int) -> Path:
    path.write_text("".join(json.dumps({"content": f"memory number {i} about topic {i % 37}"}) + "\n" for i in range(count)))
    return path


def file_store_with_frames(tmp_path: Path, memories=2000, batch=100) -> Store:
    s = Store(tmp_path)
    s.ok("init", "--preset", "file")
    s.ok("import", str(jsonl(tmp_path / "m.jsonl", memories)), "--batch-size", str(batch))
    return s


def frames(log: Path) -> list[tuple[int, int]]:
    """(offset, payload length) of every frame after the 24-byte header."""
    data = log.read_bytes()
    out, offset = [], 24
    while offset + 12 <= len(data):
        (length,) = struct.unpack_from("<I", data, offset)
        out.append((offset, length))
        offset += 12 + length
    assert offset == len(data), "the log ends on a frame boundary"
    return out


def flip_bit(path: Path, offset: int, bit: int = 4) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 1 << bit
    path.write_bytes(bytes(data))


# ---- 1. export never writes over the store ----------------------------------------------------


def test_export_refuses_the_store_database_and_loses_nothing(store):
    mid = store.add("keep me")
    db = store.cwd / ".strata" / "strata.db"
    before = digest(db)
    for target in (".strata/strata.db", "./.strata/../.strata/strata.db", ".strata/strata.db-wal", ".strata/other.jsonl"):
        r = store.fails(CONFLICT, "export", target)
        assert "store" in r.err and target in r.err
        r = store.fails(CONFLICT, "export", target, "--force")
    assert digest(db) == before
    assert store.ok("get", mid).out.count("keep me") == 1


def test_export_refuses_a_hard_link_to_the_store_file(store, tmp_path):
    store.add("keep me")
    os.link(store.cwd / ".strata" / "strata.db", tmp_path / "alias.db")
    r = store.fails(CONFLICT, "export", str(tmp_path / "alias.db"), "--force")
    assert "under another name" in r.err
    assert store.json("stats")["memories"] == 1


def test_export_replaces_an_existing_file_only_with_force(store):
    store.add("one memory")
    (store.cwd / "out.jsonl").write_text("precious\n")
    r = store.fails(CONFLICT, "export", "out.jsonl")
    assert "--force" in r.err
    assert (store.cwd / "out.jsonl").read_text() == "precious\n"
    store.ok("export", "out.jsonl", "--force")
    assert json.loads((store.cwd / "out.jsonl").read_text())["content"] == "one memory"
    assert not [p for p in store.cwd.iterdir() if ".tmp-" in p.name], "no temporary file is left"


# ---- 2. file store: damage is corrupt, not cut; doctor and salvage -----------------------------


def test_file_store_damaged_last_frame_is_corrupt_and_salvaged(tmp_path):
    s = file_store_with_frames(tmp_path)
    log = tmp_path / ".strata" / "strata.log"
    offsets = frames(log)
    assert len(offsets) == 20
    last, length = offsets[-1]
    flip_bit(log, last + 12 + length // 2)
    before = digest(log)

    r = s.fails(CORRUPT, "stats")
    assert str(last) in r.err and "strata.log" in r.err
    assert digest(log) == before, "a read-only verb changed nothing"

    r = s.run("doctor")
    assert r.code == CORRUPT
    assert "1900 memories readable" in r.out and f"offset {last}" in r.out
    report = s.run("doctor", "--json")
    assert report.code == CORRUPT
    doc = json.loads(report.out)
    assert doc["healthy"] is False and doc["stores"][0]["readable"] == 1900
    assert len(doc["stores"][0]["findings"]) == 1

    out = tmp_path / "rescued"
    r = s.run("salvage", str(out))
    assert r.code == CORRUPT and "Salvaged 1900 memories" in r.out
    assert digest(log) == before, "salvage changed nothing"
    assert strata("stats", "--json", "--dir", str(out), cwd=tmp_path).json()["memories"] == 1900
    hits = strata("recall", "memory number 1234", "-k", "1", "--json", "--dir", str(out), cwd=tmp_path).json()["hits"]
    assert hits[0]["content"] == "memory number 1234 about topic 13"


def test_doctor_on_a_healthy_store_exits_0(store):
    store.add("fine")
    r = store.ok("doctor")
    assert "1 memory readable, no damage found" in r.out
    assert store.json("doctor")["healthy"] is True


def test_salvage_refuses_a_folder_that_is_not_empty_or_inside_the_store(store):
    store.add("fine")
    (store.cwd / "full").mkdir()
    (store.cwd / "full" / "x").write_text("x")
    assert "not empty" in store.fails(CONFLICT, "salvage", "full").err
    assert "store folder" in store.fails(CONFLICT, "salvage", ".strata/inner").err


# ---- 3. SQLite: an empty file, a flipped vector bit, a half-truncated file ----------------------


def test_sqlite_truncated_to_zero_is_corrupt_not_empty(store):
    store.add("will be lost by the truncation")
    db = store.cwd / ".strata" / "strata.db"
    db.write_bytes(b"")
    r = store.fails(CORRUPT, "stats")
    assert "strata.db" in r.err and "empty" in r.err
    assert db.stat().st_size == 0, "nothing was created over it"


def test_sqlite_a_flipped_bit_in_one_record_is_found_by_doctor_and_salvage_keeps_the_rest(store, tmp_path):
    ids = [store.add(f"distinct memory {i} " + "x" * i) for i in range(30)]
    db = store.cwd / ".strata" / "strata.db"
    victim = ids[7]
    data = db.read_bytes()
    # SQLite's own checks pass on a changed byte inside a row: the record checksum catches it
    # (Tests/StrataSQLitePluginTests flip a bit inside a stored vector the same way).
    at = data.find(b'"content":"distinct memory 7 ')
    assert at > 0
    flip_bit(db, at + 12)
    before = digest(db)
    r = store.fails(CORRUPT, "get", victim)
    assert victim in r.err
    r = store.run("doctor", "--json")
    assert r.code == CORRUPT
    findings = json.loads(r.out)["stores"][0]["findings"]
    assert len(findings) == 1 and victim in findings[0]["location"]
    out = tmp_path / "rescued"
    r = store.run("salvage", str(out))
    assert r.code == CORRUPT and "Salvaged 29 memories" in r.out
    assert digest(db) == before
    assert strata("stats", "--json", "--dir", str(out), cwd=tmp_path).json()["memories"] == 29


def test_sqlite_half_truncated_salvage_copies_what_is_readable(tmp_path):
    s = Store(tmp_path)
    s.ok("init")
    s.ok("import", str(jsonl(tmp_path / "m.jsonl", 2000)), "--batch-size", "500")
    db = tmp_path / ".strata" / "strata.db"
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])
    assert s.run("stats").code == CORRUPT
    out = tmp_path / "rescued"
    r = s.run("salvage", str(out), "--json")
    assert r.code == CORRUPT
    copied = json.loads(r.out)["copied"]
    assert 800 <= copied < 2000, "about half the records sit on the pages that are left"
    stats = strata("stats", "--json", "--dir", str(out), cwd=tmp_path).json()
    assert stats["memories"] == copied


# ---- 4. init --force moves memories to a store in other files ----------------------------------


def test_init_force_from_file_to_sqlite_moves_the_memories(tmp_path):
    s = Store(tmp_path)
    s.ok("init", "--preset", "file")
    mid = s.add("Alice prefers a window seat")
    s.ok("update", mid, "--importance", "0.9")
    r = s.ok("init", "--force")
    assert "Moved 1 memory" in r.out and "strata.log" in r.out and "left in place" in r.out
    assert s.ok("get", mid).out.count("window seat") == 1
    history = s.json("history", mid)["history"]
    assert [h["event"] for h in history] == ["ADD", "UPDATE"], "history moves too"
    assert (tmp_path / ".strata" / "strata.log").exists()


def test_init_force_to_the_memory_preset_says_the_memories_stay_behind(store):
    store.add("kept on disk")
    r = store.ok("init", "--force", "--preset", "memory")
    assert "were not moved" in r.out and "strata.db" in r.out


# ---- 5. no code runs from a place the user did not choose --------------------------------------

EVIL = r"""
#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void pwn(void) {
    const char *p = getenv("STRATA_PWNED");
    FILE *f = fopen(p ? p : "/tmp/strata-pwned", "w");
    if (f) fclose(f);
}
"""


def build_evil(folder: Path, name: str, note: bool = False) -> Path:
    src = folder / "evil.c"
    root = Path(__file__).resolve().parents[2]
    src.write_text(('#include "strata/plugin.h"\nSTRATA_PLUGIN_NOTE;\n' if note else "") + EVIL)
    out = folder / name
    subprocess.run(["cc", "-shared", "-fPIC", f"-I{root / 'include'}", str(src), "-o", str(out)], check=True)
    src.unlink()
    return out


def test_a_plugin_dir_named_by_a_store_in_the_working_folder_runs_nothing(tmp_path):
    repo = tmp_path / "r"
    (repo / ".strata").mkdir(parents=True)
    os.chmod(repo / ".strata", 0o700)
    pwned = tmp_path / "pwned"
    for note in (False, True):
        build_evil(repo / ".strata", "libstrata-sqlite.so", note=note)
        (repo / ".strata" / "strata.json").write_text(json.dumps(
            {"plugin_dirs": [".strata"], "store": {"backend": "sqlite", "plugin": "sqlite", "options": {"path": "strata.db"}}}))
        r = strata("stats", cwd=repo, env={"STRATA_PWNED": str(pwned)})
        assert r.code == PLUGIN, r.err
        assert "not a trusted plugin folder" in r.err and "libstrata-sqlite.so" in r.err
        assert not pwned.exists(), "the plugin's constructor ran"
        # A path named by the file is no better than a folder.
        (repo / ".strata" / "strata.json").write_text(json.dumps(
            {"store": {"backend": "sqlite", "plugin": "./.strata/libstrata-sqlite.so"}}))
        r = strata("stats", cwd=repo, env={"STRATA_PWNED": str(pwned)})
        assert r.code == PLUGIN and not pwned.exists()


def stats_with_trusted_plugin_folder(tmp_path: Path, note: bool, settings_mode: int):
    """`strata stats` in a repository whose strata.json names a plugin folder holding a
    constructor that leaves a file, with a settings file trusting that folder (of
    `settings_mode`). Returns the result and the file the constructor would create."""
    repo = tmp_path / "r"
    (repo / ".strata").mkdir(parents=True)
    os.chmod(repo / ".strata", 0o700)
    plugins = tmp_path / "plugins"
    plugins.mkdir(mode=0o700)
    build_evil(plugins, "libstrata-sqlite.so", note=note)
    (repo / ".strata" / "strata.json").write_text(json.dumps(
        {"plugin_dirs": [str(plugins)], "store": {"backend": "sqlite", "plugin": "sqlite"}}))
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"trusted_plugin_dirs": [str(plugins)]}))
    os.chmod(settings, settings_mode)
    pwned = tmp_path / "pwned"
    return strata("stats", cwd=repo, env={"STRATA_SETTINGS": str(settings), "STRATA_PWNED": str(pwned)}), pwned


def test_a_folder_the_user_trusts_in_their_settings_is_searched(tmp_path):
    r, pwned = stats_with_trusted_plugin_folder(tmp_path, note=False, settings_mode=0o600)
    # Trusted now, so it is examined: it carries no Strata note and is still not loaded.
    assert r.code == PLUGIN and "no Strata plugin note" in r.err, r.err
    assert not pwned.exists()


def test_strata_plugins_on_a_folder_loads_only_files_that_say_they_are_plugins(tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir(mode=0o700)
    build_evil(folder, "libother.so", note=False)
    pwned = tmp_path / "pwned"
    r = strata("plugins", "--dir", str(folder), "--json", cwd=tmp_path, env={"STRATA_PWNED": str(pwned)})
    assert r.code == 0
    refused = [p for p in r.json()["plugins"] if p["path"].endswith("libother.so")]
    assert refused and "no Strata plugin note" in refused[0]["refused"]
    assert not pwned.exists()


def test_a_plugin_writable_by_others_is_refused(tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir(mode=0o700)
    plugin = build_evil(folder, "libstrata-x.so", note=True)
    os.chmod(plugin, 0o666)
    pwned = tmp_path / "pwned"
    r = strata("plugin", "check", str(plugin), cwd=tmp_path, env={"STRATA_PWNED": str(pwned)})
    assert r.code == PLUGIN and "writable by other users" in r.err
    assert not pwned.exists()


def test_a_store_folder_writable_by_others_is_refused(store):
    os.chmod(store.cwd / ".strata", 0o777)
    r = store.fails(INVALID_CONFIG, "stats")
    assert "writable by other users" in r.err and ".strata" in r.err
    os.chmod(store.cwd / ".strata", 0o700)
    store.ok("stats")


# ---- 6. forgetting as a node removes only what it owns -----------------------------------------


def test_forget_by_filter_as_a_node_keeps_what_it_can_only_see(store):
    g = store.add("global fact", "--scope", "org/a", "--visibility", "global")
    shared = store.add("shared note from the parent", "--scope", "org", "--visibility", "shared")
    own = store.add("b's own note", "--scope", "org/b")
    r = store.fails(INVALID_ARGUMENT, "forget", "--filter", "{}", "--scope", "org/b")
    assert "--all" in r.err
    assert store.fails(INVALID_ARGUMENT, "forget", "--filter", '{"$or": [{}]}').err
    assert store.json("stats")["memories"] == 3
    assert store.ok("forget", "--all", "--scope", "org/b").out.split() == [own]
    assert store.json("stats")["memories"] == 2
    for mid in (g, shared):
        store.ok("get", mid)
    # Without a scope, --all is the whole store.
    assert sorted(store.ok("forget", "--all").out.split()) == sorted([g, shared])


# ---- 7. private files whatever the umask ------------------------------------------------------


@pytest.mark.parametrize("preset", ["sqlite", "file"])
def test_store_files_are_private_under_an_open_umask(tmp_path, preset):
    def run(*args):
        p = subprocess.run([str(BIN), *args], cwd=tmp_path, capture_output=True, preexec_fn=lambda: os.umask(0))
        assert p.returncode == 0, p.stderr.decode()

    run("init", "--preset", preset)
    run("add", "secret")
    run("snapshot", "before")
    run("export", "out.jsonl")
    folder = tmp_path / ".strata"
    assert folder.stat().st_mode & 0o777 == 0o700
    for path in [tmp_path / "out.jsonl", *folder.rglob("*")]:
        mode = path.stat().st_mode & 0o777
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path} has mode {oct(mode)}"


# ---- 8. control characters are escaped in human output ----------------------------------------


def test_recall_escapes_terminal_control_sequences(store):
    evil = "title \x1b]0;pwned\x07 clear \x1b[2J back\r over \u202e rtl\nsecond line"
    mid = store.add(evil)
    out = store.ok("recall", "title clear", "-k", "1").out
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out and "\u202e" not in out
    assert "\\x1b]0;pwned\\x07" in out and "\\u202e" in out and "\\n" in out
    assert store.ok("get", mid).out.count("\x1b") == 0
    assert store.json("get", mid)["content"] == evil, "--json stays exact"


# ---- 9. one rule for bad text ------------------------------------------------------------------


def test_invalid_utf8_in_an_argument_is_refused_naming_the_byte(store):
    p = subprocess.run([str(BIN), "add", b"bad \xff byte"], cwd=store.cwd, capture_output=True)
    assert p.returncode == INVALID_UTF8
    assert b"offset 4" in p.stderr and b"argument 2" in p.stderr
    assert store.json("stats")["memories"] == 0


def test_a_nul_in_content_is_refused_naming_its_offset(store, tmp_path):
    (tmp_path / "nul.jsonl").write_text(json.dumps({"content": "before\u0000after"}) + "\n")
    r = store.fails(INVALID_ARGUMENT, "import", str(tmp_path / "nul.jsonl"))
    assert "NUL" in r.err and "offset 6" in r.err
    assert store.json("stats")["memories"] == 0


# ---- 10. values that would silently mis-answer -------------------------------------------------


def test_a_memory_dated_far_in_the_future_is_refused(store):
    r = store.fails(INVALID_ARGUMENT, "add", "from the future", "--at", "9999-01-01T00:00:00Z")
    assert "9999" in r.err
    store.ok("add", "tomorrow-ish is fine", "--at", "2000-01-01T00:00:00Z")


@pytest.mark.parametrize("preset", ["sqlite", "file"])
def test_or_of_an_empty_filter_means_the_same_on_every_backend(tmp_path, preset):
    # The built-in memory store is held to the same cases by the conformance suite.
    s = Store(tmp_path)
    s.ok("init", "--preset", preset)
    s.add("hello world", "--meta", '{"user": "x"}')
    for f, expected in [('{"$or": [{}]}', 1), ('{"user": "x", "$or": [{}]}', 1), ('{"$not": {"$or": [{}]}}', 0)]:
        hits = s.json("recall", "hello", "--filter", f)["hits"]
        assert len(hits) == expected, f


def test_read_only_verbs_leave_an_unfinished_append_and_a_writer_keeps_it_aside(tmp_path):
    s = Store(tmp_path)
    s.ok("init", "--preset", "file")
    mid = s.add("hello there")
    log = tmp_path / ".strata" / "strata.log"
    with open(log, "ab") as f:
        f.write(b"ab")  # what a process killed in the middle of writing a length header leaves
    before = digest(log)
    for verb in (["stats"], ["get", mid], ["history", mid], ["export", "-"], ["snapshots"], ["anomalies"]):
        r = s.run(*verb)
        assert r.code == 0, r.err
        assert "nothing was cut" in r.err
        assert digest(log) == before, f"{verb[0]} changed the log"
    s.add("written after")
    torn = [p for p in (tmp_path / ".strata").iterdir() if ".torn-" in p.name]
    assert len(torn) == 1 and torn[0].read_bytes() == b"ab" and torn[0].stat().st_mode & 0o777 == 0o600
    assert s.json("stats")["memories"] == 2


def test_a_settings_file_others_can_write_is_not_trusted_and_the_message_says_so(tmp_path):
    r, pwned = stats_with_trusted_plugin_folder(tmp_path, note=True, settings_mode=0o666)
    assert r.code == PLUGIN and "not a trusted plugin folder" in r.err
    assert "settings file was not read" in r.err and "writable by other users" in r.err
    assert not pwned.exists()
