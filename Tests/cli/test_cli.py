"""The strata CLI, driven as a user drives it: each call is its own process on a store folder.

Runs the built binary (STRATA_CLI, default .build/debug/strata-cli, which scripts/test builds)
in a temporary folder, on the sqlite preset unless a test says otherwise.
"""

import json
import os
import pty
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("STRATA_CLI", ROOT / ".build" / "debug" / "strata-cli"))
ID = re.compile(r"^m-[0-9a-f]{24}$")

# Keys of one recall hit with --json, exactly (issue 3), as strata_engine_recall answers them
# (one wire format, issue 17: the category is there on both faces).
HIT_KEYS = {"id", "content", "metadata", "scope", "tier", "category", "score", "scores"}
SCORE_KEYS = {"vector", "keyword", "fused", "recency", "importance", "access"}
# Fields of an exported record that the engine assigns again on import.
ENGINE_OWNED = {"id", "updated_at", "accessed_at", "access_count", "model"}


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


def strata(*args, cwd, env=None, stdin=b""):
    """Runs one strata process; STRATA_DIR is removed from the environment unless `env` sets it.

    Stores are made with the hashing embedder (STRATA_EMBEDDER=hashing) unless `env` says
    otherwise: these tests check its exact outputs and run hundreds of commands, each of which
    would read minilm's model. The default embedder has its own tests (test_default_embedder.py).
    """
    environment = {k: v for k, v in os.environ.items() if k != "STRATA_DIR"}
    environment["STRATA_EMBEDDER"] = "hashing"
    environment.update(env or {})
    p = subprocess.run([str(BIN), *args], cwd=cwd, env=environment, input=stdin, capture_output=True)
    return Result(p.returncode, p.stdout.decode(), p.stderr.decode())


class Store:
    """A store folder (./.strata in a fresh working folder) and a way to run commands on it."""

    def __init__(self, folder: Path):
        self.cwd = folder

    def run(self, *args, **kw) -> Result:
        return strata(*args, cwd=self.cwd, **kw)

    def ok(self, *args, **kw) -> Result:
        r = self.run(*args, **kw)
        assert r.code == 0, f"strata {' '.join(args)} exited {r.code}: {r.err}"
        return r

    def json(self, *args, **kw):
        return self.ok(*args, "--json", **kw).json()

    def add(self, text, *args) -> str:
        return self.ok("add", text, *args).out.strip()

    def fails(self, code, *args, **kw) -> Result:
        r = self.run(*args, **kw)
        assert r.code == code, f"strata {' '.join(args)}: expected exit {code}, got {r.code}: {r.err}"
        assert r.out == "" or "--json" in args, "errors print nothing on stdout without --json"
        return r


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(tmp_path)
    s.ok("init")
    return s


# ---- init ---------------------------------------------------------------------------------


def test_init_writes_the_sqlite_preset_and_creates_the_database(tmp_path):
    r = strata("init", cwd=tmp_path)
    assert r.code == 0, r.err
    written = json.loads((tmp_path / ".strata" / "strata.json").read_text())
    assert written == {"store": {"backend": "sqlite", "plugin": "sqlite", "options": {"path": "strata.db"}},
                       "embedder": {"backend": "hashing"}}
    assert (tmp_path / ".strata" / "strata.db").exists(), "the path is relative to the store folder"
    assert ".strata/strata.json" in r.out and "sqlite" in r.out


def test_init_twice_is_refused_without_force_and_keeps_the_file(tmp_path):
    assert strata("init", "--preset", "memory", cwd=tmp_path).code == 0
    before = (tmp_path / ".strata" / "strata.json").read_text()
    r = strata("init", cwd=tmp_path)
    assert r.code == 24
    assert ".strata/strata.json already exists" in r.err and "--force" in r.err
    assert (tmp_path / ".strata" / "strata.json").read_text() == before
    assert not any(p.name.startswith("strata.json.tmp") for p in (tmp_path / ".strata").iterdir())


def test_init_force_replaces_the_configuration_and_keeps_the_memories(tmp_path):
    s = Store(tmp_path)
    s.ok("init")
    mid = s.add("kept across a forced init")
    r = s.json("init", "--force")
    assert r["replaced"] is True and r["preset"] == "sqlite" and r["persists"] is True
    assert s.json("get", mid)["content"] == "kept across a forced init"


def test_init_memory_preset_says_nothing_persists(tmp_path):
    r = strata("init", "--preset", "memory", cwd=tmp_path)
    assert r.code == 0
    assert "nothing persists" in r.out
    assert json.loads((tmp_path / ".strata" / "strata.json").read_text()) == {"store": {"backend": "memory"}, "embedder": {"backend": "hashing"}}
    r = strata("init", "--preset", "memory", "--dir", "m2", "--json", cwd=tmp_path)
    assert r.json()["persists"] is False


def test_init_unknown_preset_is_a_usage_error_listing_the_presets(tmp_path):
    r = strata("init", "--preset", "cloud", cwd=tmp_path)
    assert r.code == 64
    assert "'cloud'" in r.err and "sqlite" in r.err and "file" in r.err and "memory" in r.err
    assert not (tmp_path / ".strata").exists()


def test_started_through_PATH_it_finds_the_plugins_next_to_the_binary(tmp_path):
    # Started as a bare name, the executable's own path is not in argv[0]; the sqlite plugin
    # next to it must still be found.
    environment = {k: v for k, v in os.environ.items() if k not in ("STRATA_DIR", "STRATA_PLUGIN_PATH")}
    environment["PATH"] = f"{BIN.parent}:{environment.get('PATH', '')}"
    p = subprocess.run([BIN.name, "init"], cwd=tmp_path, env=environment, capture_output=True)
    assert p.returncode == 0, p.stderr.decode()
    assert (tmp_path / ".strata" / "strata.db").exists()


def test_the_store_folder_is_dir_then_STRATA_DIR_then_dot_strata(tmp_path):
    assert strata("init", "--preset", "memory", "--dir", "a/b", cwd=tmp_path).code == 0
    assert (tmp_path / "a" / "b" / "strata.json").exists(), "--dir, parents created"
    assert strata("init", "--preset", "memory", cwd=tmp_path, env={"STRATA_DIR": str(tmp_path / "env")}).code == 0
    assert (tmp_path / "env" / "strata.json").exists()
    assert not (tmp_path / ".strata").exists()
    r = strata("init", "--preset", "memory", "--dir", "flag", cwd=tmp_path, env={"STRATA_DIR": str(tmp_path / "env2")})
    assert r.code == 0 and (tmp_path / "flag" / "strata.json").exists() and not (tmp_path / "env2").exists()


# ---- add, get, and a second process -------------------------------------------------------


def test_a_second_process_sees_what_the_first_stored(store):
    mid = store.add("Alice prefers green tea in the morning", "--meta", '{"user": "alice"}')
    assert ID.match(mid), mid
    hits = store.json("recall", "what tea does alice drink")["hits"]
    assert hits[0]["id"] == mid and hits[0]["metadata"] == {"user": "alice"}
    # and through STRATA_DIR from another working folder
    other = store.cwd / "elsewhere"
    other.mkdir()
    r = strata("get", mid, "--json", cwd=other, env={"STRATA_DIR": str(store.cwd / ".strata")})
    assert r.code == 0 and r.json()["content"] == "Alice prefers green tea in the morning"


def test_add_stores_every_option_and_get_shows_it(store):
    mid = store.add(
        "Kickoff meeting moved to Friday", "--meta", '{"project": "atlas", "n": 3}', "--scope", "org/planner",
        "--visibility", "shared", "--category", "meetings", "--importance", "0.8", "--at", "2024-03-01T10:30:00+01:00",
        "--ttl", "86400")
    m = store.json("get", mid)
    assert m["content"] == "Kickoff meeting moved to Friday"
    assert m["metadata"] == {"project": "atlas", "n": 3}
    assert (m["scope"], m["visibility"], m["category"], m["importance"]) == ("org/planner", "shared", "meetings", 0.8)
    assert m["created_at"] == "2024-03-01T09:30:00.000Z", "--at keeps the real time, in UTC"
    assert m["expires_at"] == "2024-03-02T09:30:00.000Z", "--ttl counts from --at"
    text = store.ok("get", mid).out
    assert re.search(r"^scope\s+org/planner$", text, re.M) and re.search(r"^importance\s+0\.800$", text, re.M)


def test_add_json_says_whether_it_deduplicated(store):
    first = store.json("add", "The standup is at 9:30 every weekday")
    assert set(first) == {"id", "deduplicated"} and first["deduplicated"] == [] and ID.match(first["id"])
    again = store.json("add", "The standup is at 9:30 every weekday")
    assert again == {"id": first["id"], "deduplicated": [first["id"]]}
    r = store.ok("add", "The standup is at 9:30 every weekday")
    assert r.out.strip() == first["id"] and "near-identical" in r.err


def test_an_old_memory_keeps_its_age_in_recall(store):
    store.add("quarterly planning notes for the atlas project", "--at", "2020-01-01T00:00:00Z")
    store.add("quarterly planning notes for the atlas project, new draft")
    hits = {h["content"]: h for h in store.json("recall", "atlas quarterly planning")["hits"]}
    old = hits["quarterly planning notes for the atlas project"]["scores"]["recency"]
    new = hits["quarterly planning notes for the atlas project, new draft"]["scores"]["recency"]
    assert old < 0.01 < 0.99 < new


def test_an_expired_memory_is_not_recalled_but_can_be_read(store):
    mid = store.add("temporary door code 4411", "--at", "2020-01-01T00:00:00Z", "--ttl", "60")
    assert store.json("recall", "door code")["hits"] == []
    assert store.json("get", mid)["expires_at"] == "2020-01-01T00:01:00.000Z"


# ---- recall --------------------------------------------------------------------------------


@pytest.fixture
def three(store):
    ids = {
        "tea": store.add("Alice prefers green tea in the morning", "--meta", '{"user": "alice"}', "--scope", "org/assistant"),
        "deploy": store.add("Bob deploys the service on Tuesdays", "--meta", '{"user": "bob"}', "--category", "ops"),
        "cafe": store.add("The cafeteria closes at three", "--scope", "org/other"),
    }
    return store, ids


def test_recall_json_has_exactly_the_documented_shape(three):
    store, ids = three
    doc = store.json("recall", "what does alice drink")
    assert set(doc) == {"hits"}
    hits = doc["hits"]
    assert hits[0]["id"] == ids["tea"]
    for h in hits:
        assert set(h) == HIT_KEYS
        assert set(h["scores"]) == SCORE_KEYS
    assert hits[0]["content"] == "Alice prefers green tea in the morning"
    assert (hits[0]["scope"], hits[0]["tier"], hits[0]["metadata"]) == ("org/assistant", "working", {"user": "alice"})
    assert hits[0]["scores"]["fused"] == 1
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_recall_text_shows_rank_score_parts_id_scope_tier_and_content(three):
    store, ids = three
    lines = store.ok("recall", "what does alice drink", "-k", "1").out.splitlines()
    assert len(lines) == 3, lines
    assert re.match(rf"^1\. \d+\.\d{{3}}  {ids['tea']}  scope org/assistant  tier working$", lines[0]), lines[0]
    assert lines[1].strip() == "Alice prefers green tea in the morning"
    assert re.match(r"^\s+vector -?\d\.\d{3}  keyword \d+\.\d{3}  fused 1\.000  recency \d\.\d{3}  importance 0\.500  access \d\.\d{3}$",
                    lines[2]), lines[2]


def test_recall_k_filter_scope_and_category_narrow_the_hits(three):
    store, ids = three
    assert len(store.json("recall", "the", "-k", "2")["hits"]) == 2
    only_bob = store.json("recall", "who prefers what", "--filter", '{"user": {"$eq": "bob"}}')["hits"]
    assert [h["id"] for h in only_bob] == [ids["deploy"]]
    as_assistant = {h["id"] for h in store.json("recall", "tea service cafeteria", "--scope", "org/assistant")["hits"]}
    assert as_assistant == {ids["tea"]}, "local memories of other nodes are not visible"
    ops = store.json("recall", "tea service cafeteria", "--category", "ops")["hits"]
    assert [h["id"] for h in ops] == [ids["deploy"]]
    assert "No memory matched." in store.ok("recall", "anything", "--category", "none").out


# ---- update, forget, history, stats --------------------------------------------------------


def test_update_changes_fields_and_history_keeps_old_and_new(store):
    mid = store.add("Alice prefers green tea", "--meta", '{"user": "alice"}')
    m = store.json("update", mid, "--text", "Alice now prefers coffee", "--meta", '{"drink": "coffee"}',
                   "--importance", "0.9", "--category", "preferences")
    assert (m["content"], m["metadata"], m["importance"], m["category"]) == (
        "Alice now prefers coffee", {"drink": "coffee"}, 0.9, "preferences")
    assert store.json("get", mid)["content"] == "Alice now prefers coffee", "seen by the next process"
    assert store.json("recall", "coffee")["hits"][0]["id"] == mid, "new text is embedded again"
    history = store.json("history", mid)["history"]
    assert [h["event"] for h in history] == ["ADD", "UPDATE"]
    assert history[1]["old"]["content"] == "Alice prefers green tea"
    assert history[1]["new"]["content"] == "Alice now prefers coffee"
    text = store.ok("history", mid).out
    assert "- Alice prefers green tea" in text and "+ Alice now prefers coffee" in text
    assert 'metadata: {"user":"alice"} -> {"drink":"coffee"}' in text


def test_forget_by_id_then_get_is_not_found_and_history_shows_the_delete(store):
    mid = store.add("a memory to forget")
    keep = store.add("a memory to keep around")
    assert store.ok("forget", mid).out.strip() == mid
    store.fails(12, "get", mid)
    assert store.json("get", keep)["content"] == "a memory to keep around"
    assert [h["event"] for h in store.json("history", mid)["history"]] == ["ADD", "DELETE"]
    r = store.fails(12, "forget", mid)
    assert mid in r.err


def test_forget_by_filter_with_scope(store):
    a = store.add("session note one", "--meta", '{"session": "s1"}', "--scope", "org/a")
    b = store.add("session note two", "--meta", '{"session": "s1"}', "--scope", "org/b")
    c = store.add("session note three", "--meta", '{"session": "s2"}', "--scope", "org/a")
    gone = store.json("forget", "--filter", '{"session": "s1"}', "--scope", "org/a")
    assert gone == {"forgotten": [a]}
    remaining = {m["id"] for m in map(json.loads, store.ok("export", "-").out.splitlines())}
    assert remaining == {b, c}
    r = store.ok("forget", "--filter", '{"session": "none"}')
    assert r.out == "" and "nothing was forgotten" in r.err


def test_stats_counts_by_tier_category_and_scope(store):
    store.add("one fact", "--category", "facts")
    store.add("two facts about the moon", "--category", "facts", "--scope", "org/a")
    store.add("an event happened")
    s = store.json("stats")
    assert s["memories"] == 3
    assert s["by_category"] == {"facts": 2, "general": 1}
    assert s["by_scope"] == {"": 2, "org/a": 1}
    assert s["by_tier"] == {"working": 3}
    assert s["store"] == "plugin:sqlite/sqlite"
    text = store.ok("stats").out
    assert re.search(r"^memories\s+3$", text, re.M) and "(root) 2, org/a 1" in text


# ---- anomalies ------------------------------------------------------------------------------


ANOMALY_KEYS = {"id", "content", "metadata", "scope", "tier", "category", "score"}


@pytest.fixture
def trades(store):
    """30 ordinary trades and 2 extreme ones, scored on metadata profit alone; yields (store, outlier ids)."""
    config_file = store.cwd / ".strata" / "strata.json"
    config = json.loads(config_file.read_text())
    config["anomalies"] = {"projection_dims": 0, "numeric_fields": ["profit"]}
    config_file.write_text(json.dumps(config))
    lines = "".join(json.dumps({"content": f"trade {i} settled", "metadata": {"profit": 95 + (i * 7) % 11}}) + "\n"
                    for i in range(30))
    store.ok("import", "-", stdin=lines.encode())
    win = store.add("a jackpot trade\nwith a second line that is long enough to be cut in the preview", "--meta", '{"profit": 1000000}')
    loss = store.add("a wipeout", "--meta", '{"profit": -800000}', "--category", "losses")
    return store, {win, loss}


def test_anomalies_lists_the_outliers_with_score_id_tier_category_and_preview(trades):
    store, outliers = trades
    lines = store.ok("anomalies").out.splitlines()
    assert lines[0] == "2 of 32 memories score at or above 0.600.", lines
    assert len(lines) == 3, lines
    rows = [re.match(r"^(\d)\. (\d\.\d{3})  (m-[0-9a-f]{24})  tier (\S+)  category (\S+)  (.*)$", line) for line in lines[1:]]
    assert all(rows), lines
    assert {r[3] for r in rows} == outliers
    assert [r[1] for r in rows] == ["1", "2"]
    assert float(rows[0][2]) >= float(rows[1][2]) >= 0.6
    by_content = {r[6]: r for r in rows}
    jackpot = next(r for c, r in by_content.items() if c.startswith("a jackpot trade with a second line"))
    assert jackpot[6].endswith("...") and len(jackpot[6]) == 60, "one line, cut to 60 characters"
    assert (jackpot[4], jackpot[5]) == ("working", "general")
    assert by_content["a wipeout"][5] == "losses"


def test_anomalies_json_threshold_and_limit(trades):
    store, outliers = trades
    doc = store.json("anomalies", "--threshold", "0", "--limit", "5")
    assert set(doc) == {"anomalies", "scored", "threshold"}
    assert doc["scored"] == 32 and doc["threshold"] == 0 and len(doc["anomalies"]) == 5
    assert {a["id"] for a in doc["anomalies"][:2]} == outliers
    assert all(set(a) == ANOMALY_KEYS for a in doc["anomalies"])
    scores = [a["score"] for a in doc["anomalies"]]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)
    assert store.json("anomalies", "--category", "losses")["scored"] == 1
    assert "Nothing to compare: 1 memory in view" in store.ok("anomalies", "--category", "losses").out
    only = store.json("anomalies", "--filter", '{"profit": {"$lt": 0}}', "--threshold", "0")
    assert only == {"anomalies": [], "scored": 1, "threshold": 0}


def test_anomalies_bad_options_exit_with_the_engine_codes(trades):
    store, _ = trades
    r = store.fails(11, "anomalies", "--threshold", "1.5")
    assert r.err == "strata: STRATA_ERR_INVALID_ARGUMENT: --threshold must be in 0...1, got 1.5\n"
    assert "--limit must be at least 1" in store.fails(11, "anomalies", "--limit", "0").err
    assert "--filter" in store.fails(21, "anomalies", "--filter", '{"profit": {"$near": 1}}').err
    r = store.fails(11, "anomalies", "--threshold", "7", "--json")
    assert r.json()["error"]["status"] == "STRATA_ERR_INVALID_ARGUMENT"
    assert store.fails(64, "anomalies", "--limit", "many").code == 64


def test_anomalies_with_a_bad_configuration_names_the_key(store):
    config_file = store.cwd / ".strata" / "strata.json"
    config = json.loads(config_file.read_text())
    config["anomalies"] = {"trees": 0}
    config_file.write_text(json.dumps(config))
    r = store.fails(13, "anomalies")
    assert "anomalies.trees" in r.err


def test_anomalies_on_an_empty_store_says_there_is_nothing_to_compare(store):
    assert store.ok("anomalies").out == "Nothing to compare: 0 memories in view, anomalies need at least 2.\n"


# ---- import and export ---------------------------------------------------------------------


def records(text):
    return [json.loads(line) for line in text.splitlines()]


def test_export_then_import_round_trips_every_user_field(store, tmp_path):
    store.add("Alice prefers green tea", "--meta", '{"user": "alice", "tags": ["a", "b"]}', "--scope", "org/assistant",
              "--visibility", "global", "--category", "preferences", "--importance", "0.7", "--at", "2023-05-06T07:08:09Z")
    store.add("The door code changes monthly", "--at", "2024-01-01T00:00:00Z", "--ttl", "3600")
    store.add("Bob deploys on Tuesdays")
    r = store.ok("export", "backup.jsonl")
    assert "Exported 3 memories to backup.jsonl" in r.out
    exported = records((store.cwd / "backup.jsonl").read_text())
    assert len(exported) == 3
    assert store.ok("export", "-").out == (store.cwd / "backup.jsonl").read_text(), "- writes the same lines to stdout"

    copy = Store(tmp_path / "copy")
    copy.cwd.mkdir()
    copy.ok("init")
    summary = copy.json("import", str(store.cwd / "backup.jsonl"))
    assert (summary["records"], summary["stored"], summary["merged"], summary["batches"]) == (3, 3, 0, 1)
    again = records(copy.ok("export", "-").out)

    def user_fields(rs):
        return sorted(({k: v for k, v in r.items() if k not in ENGINE_OWNED} for r in rs), key=lambda r: r["content"])

    assert user_fields(again) == user_fields(exported)
    assert {r["id"] for r in again}.isdisjoint({r["id"] for r in exported}), "imported memories get new ids"
    door = next(r for r in again if r["content"].startswith("The door"))
    assert (door["created_at"], door["expires_at"]) == ("2024-01-01T00:00:00.000Z", "2024-01-01T01:00:00.000Z")


def test_import_reads_stdin_in_batches_and_draws_no_progress_off_a_terminal(store):
    lines = "".join(json.dumps({"content": f"note number {i} about topic {i * 7}"}) + "\n" for i in range(25))
    r = store.ok("import", "-", "--batch-size", "10", "--json", stdin=lines.encode())
    assert r.json()["batches"] == 3 and r.json()["stored"] == 25
    assert r.err == "", "no progress bar when stderr is not a terminal"
    assert store.json("stats")["memories"] == 25


def test_import_draws_a_progress_bar_when_stderr_is_a_terminal(store):
    lines = "".join(json.dumps({"content": f"line {i} of a long import"}) + "\n" for i in range(30))
    (store.cwd / "in.jsonl").write_text(lines)
    controller, terminal = pty.openpty()
    try:
        environment = {k: v for k, v in os.environ.items() if k != "STRATA_DIR"}
        p = subprocess.run([str(BIN), "import", "in.jsonl", "--batch-size", "10"], cwd=store.cwd, env=environment,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=terminal)
        os.close(terminal)
        terminal = -1
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # Linux reports the end of a pty whose other side closed as EIO
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        if terminal >= 0:
            os.close(terminal)
        os.close(controller)
    assert p.returncode == 0
    assert b"100%  30 memories" in drawn and b"[####" in drawn
    assert b"Imported 30 memories" in p.stdout and b"%" not in p.stdout, "the bar never goes to stdout"


def test_import_takes_a_minimal_line_and_skips_blank_lines(store):
    (store.cwd / "in.jsonl").write_text('{"content": "just text"}\n\n   \n{"content": "more text", "created_at": "2021-02-03"}\r\n')
    assert "Imported 2 memories" in store.ok("import", "in.jsonl").out
    created = {r["content"]: r["created_at"] for r in records(store.ok("export", "-").out)}
    assert created["more text"] == "2021-02-03T00:00:00.000Z"


def test_a_bad_line_names_its_number_and_earlier_batches_stay(store):
    good = [json.dumps({"content": f"good line {i} with words {i * 13}"}) for i in range(1, 12)]
    lines = good[:11] + ['{"content": "twelve", "colour": "red"}'] + [json.dumps({"content": "after the bad line"})]
    (store.cwd / "in.jsonl").write_text("\n".join(lines) + "\n")
    r = store.fails(19, "import", "in.jsonl", "--batch-size", "5")
    assert "in.jsonl: " in r.err and "line 12.colour" in r.err
    assert "lines 1-10 were stored" in r.err and "tail -n +11 in.jsonl" in r.err
    contents = {m["content"] for m in records(store.ok("export", "-").out)}
    assert len(contents) == 10 and "good line 11 with words 143" not in contents, "the failing batch is not half-stored"


@pytest.mark.parametrize("line, code, problem", [
    (b"oops", 19, "line 2: unexpected character 'o'"),
    (b'{"content": 3}', 19, "line 2.content must be a string"),
    (b'{"content": "x", "importance": 4}', 11, "line 2.importance must be in 0.0...1.0"),
    (b'{"content": "x", "created_at": "last week"}', 11, "line 2.created_at is not an ISO-8601 time"),
    (b'{"content": "x", "created_at": "2024-01-02T00:00:00Z", "expires_at": "2024-01-01T00:00:00Z"}', 11,
     "line 2.expires_at 2024-01-01T00:00:00.000Z is not after created_at"),
    (b'{"content": "caf\xe9"}', 20, "line 2 is not valid UTF-8"),
    (b'{"content": ""}', 19, "line 2.content must not be empty"),
])
def test_import_errors_name_the_line_and_store_nothing_of_its_batch(store, line, code, problem):
    (store.cwd / "in.jsonl").write_bytes(b'{"content": "first line is fine"}\n' + line + b"\n")
    r = store.fails(code, "import", "in.jsonl")
    assert problem in r.err, r.err
    assert "nothing was stored" in r.err
    assert store.json("stats")["memories"] == 0


def test_import_check_validates_without_storing(store):
    (store.cwd / "in.jsonl").write_text('{"content": "a"}\n{"content": "b"}\n')
    r = store.json("import", "in.jsonl", "--check")
    assert r["records"] == 2 and r["stored"] == 0 and r["checked_only"] is True
    assert store.json("stats")["memories"] == 0


@pytest.mark.parametrize("line, problem", [
    (b'{"content": "before\\u0000after"}', "line 2: content holds a NUL character (U+0000) at byte offset 6"),
    (b'{"content": "x", "created_at": "9999-01-01T00:00:00Z"}', "line 2: created_at 9999-01-01T00:00:00.000Z is more than a day ahead"),
    (b'{"content": "x", "scope": "a//b"}', 'line 2.scope: scope "a//b" has an empty component'),
])
def test_import_check_refuses_what_the_engine_would_naming_the_line(store, line, problem):
    # --check passed the first two (the engine refused them only when storing, as "item 1" of
    # a batch), and the scope error named no line.
    (store.cwd / "in.jsonl").write_bytes(b'{"content": "first line is fine"}\n' + line + b"\n")
    for args in (["import", "in.jsonl", "--check"], ["import", "in.jsonl"]):
        r = store.fails(11, *args)
        assert problem in r.err, r.err
    assert store.json("stats")["memories"] == 0


def test_import_of_a_missing_file_names_it(store):
    r = store.fails(16, "import", "missing.jsonl")
    assert "cannot open missing.jsonl: No such file or directory" in r.err


def test_export_into_a_missing_folder_names_the_file_and_leaves_nothing(store):
    r = store.fails(16, "export", "no/such/folder/out.jsonl")
    assert "cannot create no/such/folder/out.jsonl: No such file or directory" in r.err


def test_export_replaces_an_existing_file_whole_with_force(store):
    (store.cwd / "out.jsonl").write_text("old content\n")
    store.add("the only memory")
    store.fails(24, "export", "out.jsonl")
    assert (store.cwd / "out.jsonl").read_text() == "old content\n"
    store.ok("export", "out.jsonl", "--force")
    assert [r["content"] for r in records((store.cwd / "out.jsonl").read_text())] == ["the only memory"]
    assert sorted(p.name for p in store.cwd.iterdir() if p.name.startswith("out.jsonl")) == ["out.jsonl"]


def test_processes_adding_at_once_lose_nothing(store):
    environment = {k: v for k, v in os.environ.items() if k != "STRATA_DIR"}
    texts = [f"parallel writer {i} reports topic {i * 17}" for i in range(8)]
    procs = [subprocess.Popen([str(BIN), "add", t], cwd=store.cwd, env=environment, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for t in texts]
    ids = []
    for p in procs:
        out, err = p.communicate()
        assert p.returncode == 0, err.decode()
        ids.append(out.decode().strip())
    assert len(set(ids)) == 8
    assert {r["content"] for r in records(store.ok("export", "-").out)} == set(texts)


# ---- snapshots -----------------------------------------------------------------------------


def test_snapshot_then_rollback_restores_the_memories_and_says_what_changed(store):
    tea = store.add("Alice prefers green tea", "--meta", '{"user": "alice"}')
    bus = store.add("The bus leaves at 8:10")
    saved = store.ok("snapshot", "before-edits").out
    assert re.fullmatch(r"Saved snapshot before-edits: 2 memories, \d+ bytes\.\n", saved), saved
    store.ok("update", tea, "--text", "Alice switched to coffee")
    store.ok("forget", bus)
    later = store.add("Written after the snapshot")

    r = store.ok("rollback", "before-edits")
    assert r.out == "Rolled back to snapshot before-edits: 1 added, 1 removed, 1 changed.\n"
    assert store.json("get", tea)["content"] == "Alice prefers green tea"
    assert store.json("get", bus)["content"] == "The bus leaves at 8:10"
    store.fails(12, "get", later)
    history = store.json("history", tea)["history"]
    assert [h["event"] for h in history] == ["ADD", "UPDATE", "UPDATE"]
    assert history[-1]["reason"] == "rollback to snapshot before-edits"
    assert store.json("rollback", "before-edits") == {"snapshot": "before-edits", "added": [], "removed": [], "changed": []}


def test_rollback_json_lists_the_ids_and_snapshots_lists_oldest_first(store):
    kept = store.add("Kept in both snapshots")
    store.ok("snapshot", "one")
    extra = store.add("Only in the second snapshot")
    info = store.json("snapshot", "two")
    assert set(info) == {"name", "created_at", "memories", "bytes"} and info["memories"] == 2 and info["bytes"] > 0
    listed = store.json("snapshots")["snapshots"]
    assert [(s["name"], s["memories"]) for s in listed] == [("one", 1), ("two", 2)]
    lines = store.ok("snapshots").out.splitlines()
    assert [line.split()[0] for line in lines] == ["one", "two"]
    assert "1 memory" in lines[0] and "2 memories" in lines[1] and lines[0].endswith(" bytes")
    assert store.json("rollback", "one") == {"snapshot": "one", "added": [], "removed": [extra], "changed": []}
    assert store.json("stats")["memories"] == 1 and store.json("get", kept)["content"] == "Kept in both snapshots"
    assert store.json("snapshot", "one", "--delete") == {"deleted": "one"}
    assert [s["name"] for s in store.json("snapshots")["snapshots"]] == ["two"]


def test_no_snapshots_prints_nothing_and_says_so(store):
    r = store.ok("snapshots")
    assert r.out == "" and "no snapshots" in r.err
    assert store.json("snapshots") == {"snapshots": []}


@pytest.mark.parametrize("args, code, culprit", [
    (["snapshot", "bad name"], 11, 'snapshot name "bad name"'),
    (["snapshot", "x" * 65], 11, "at most 64"),
    (["rollback", "never-made"], 12, 'no snapshot "never-made"'),
    (["snapshot", "never-made", "--delete"], 12, 'no snapshot "never-made"'),
])
def test_snapshot_errors_exit_with_their_codes_naming_the_culprit(store, args, code, culprit):
    r = store.fails(code, *args)
    assert culprit in r.err, r.err


def test_a_taken_name_exits_24_and_a_damaged_snapshot_26_changing_nothing(store):
    kept = store.add("Kept whatever happens")
    store.ok("snapshot", "s1")
    store.fails(24, "snapshot", "s1")
    later = store.add("Stored after the snapshot")
    damaged = store.cwd / ".strata" / "strata.db.snapshots" / "s1.sqlite"
    damaged.write_bytes(b"damaged " * 500)
    r = store.fails(26, "rollback", "s1")
    assert "STRATA_ERR_CORRUPT" in r.err and str(damaged) in r.err
    assert store.json("stats")["memories"] == 2
    assert [h["event"] for h in store.json("history", later)["history"]] == ["ADD"]
    assert store.json("get", kept)["content"] == "Kept whatever happens"


def test_the_memory_preset_keeps_a_snapshot_only_for_the_process(tmp_path):
    s = Store(tmp_path)
    s.ok("init", "--preset", "memory")
    assert "in memory only" in s.ok("snapshot", "s").out
    s.fails(12, "rollback", "s")


# ---- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["add", "x"], ["recall", "x"], ["get", "m-1"], ["stats"], ["export", "-"]])
def test_a_missing_store_folder_says_to_run_init(tmp_path, args):
    r = strata(*args, cwd=tmp_path)
    assert r.code == 16
    assert "no Strata store in .strata (the default)" in r.err and "strata init" in r.err
    r = strata(*args, "--dir", "nowhere", cwd=tmp_path)
    assert r.code == 16 and "nowhere/strata.json does not exist" in r.err and "strata init --dir nowhere" in r.err


@pytest.mark.parametrize("args", [
    ["get", "m-000000000000000000000000"],
    ["update", "m-000000000000000000000000", "--text", "new"],
    ["forget", "m-000000000000000000000000"],
    ["history", "m-000000000000000000000000"],
])
def test_an_unknown_id_exits_12_naming_it(store, args):
    r = store.fails(12, *args)
    assert "STRATA_ERR_NOT_FOUND" in r.err and "m-000000000000000000000000" in r.err


def test_json_errors_are_a_document_on_stdout_too(store):
    r = store.fails(12, "get", "m-nope", "--json")
    assert r.json() == {"error": {"status": "STRATA_ERR_NOT_FOUND", "code": -2, "message": 'no memory with id "m-nope"'}}


@pytest.mark.parametrize("args, code, culprit", [
    (["add", "x", "--meta", "{bad"], 19, "--meta: expected a string key"),
    (["add", "x", "--meta", "[1, 2]"], 19, "--meta must be a JSON object"),
    (["update", "m-1", "--meta", "nope"], 19, "--meta: "),
    (["add", "x", "--at", "yesterday"], 11, '--at "yesterday" is not an ISO-8601 time'),
    (["add", "x", "--at", "2024-03-01T09:30:00"], 11, "with a zone"),
    (["add", "x", "--importance", "2"], 11, "--importance must be in 0...1"),
    (["add", "x", "--ttl", "0"], 11, "--ttl must be a positive number"),
    (["add", "x", "--scope", "a//b"], 11, "--scope: scope \"a//b\" has an empty component"),
    (["recall", "x", "--filter", '{"$bogus": 1}'], 21, "--filter"),
    (["recall", "x", "-k", "0"], 11, "k must be in 1...10000"),
])
def test_bad_option_values_are_engine_errors_naming_the_option(store, args, code, culprit):
    r = store.fails(code, *args)
    assert culprit in r.err, r.err
    assert store.json("stats")["memories"] == 0


@pytest.mark.parametrize("args, message", [
    (["forget"], "give the id of a memory, --filter JSON or --all"),
    (["forget", "m-1", "--filter", "{}"], "give one of an id, --filter or --all"),
    (["forget", "m-1", "--all"], "give one of an id, --filter or --all"),
    (["forget", "m-1", "--scope", "org"], "--scope goes with --filter"),
    (["update", "m-1"], "nothing to change"),
    (["add", ""], "TEXT must not be empty"),
    (["add", "x", "--visibility", "secret"], "'secret' is invalid for '--visibility"),
    (["export", "-", "--json"], "--json cannot be used with -"),
    (["import", "x.jsonl", "--batch-size", "0"], "--batch-size must be in 1...100000"),
    (["recall"], "Missing expected argument '<query>'"),
])
def test_usage_errors_exit_64(store, args, message):
    r = store.fails(64, *args)
    assert message in r.err, r.err


# ---- help ----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["init", "add", "recall", "get", "update", "forget", "history", "stats", "import", "export",
                                     "metabolize", "snapshot", "snapshots", "rollback"])
def test_every_command_has_help_with_an_example_and_the_common_options(tmp_path, command):
    r = strata(command, "--help", cwd=tmp_path)
    assert r.code == 0
    assert "OVERVIEW: " in r.out and "Example:" in r.out and "strata " + command in r.out
    assert "--dir <dir>" in r.out and "--json" in r.out


def test_top_level_help_lists_the_exit_codes(tmp_path):
    out = strata("--help", cwd=tmp_path).out
    for line in ["0   success", "12  not found", "16  I/O error", "19  invalid JSON", "24  conflict", "64  usage error"]:
        assert line in out, line


# ---- metabolize ----------------------------------------------------------------------------


def add_days(s: Store, days: int = 7) -> dict:
    ids = {}
    for day in range(days):
        date = f"2026-03-{day + 2:02d}"
        ids[f"standup{day}"] = s.add(f"Day {day} standup: release {day} is blocked on ticket {day * 7}.",
                                     "--at", f"{date}T09:00:00Z", "--importance", "0.7", "--scope", "team")
        ids[f"lunch{day}"] = s.add(f"Day {day}: lunch was fine", "--at", f"{date}T12:00:00Z", "--importance", "0.3",
                                   "--scope", "team")
        ids[f"decision{day}"] = s.add(f"Day {day} decision: ship build {100 + day} after QA.", "--at", f"{date}T15:00:00Z",
                                      "--importance", "0.8", "--scope", "team")
    return ids


def test_a_week_metabolized_in_three_commands(tmp_path):
    s = Store(tmp_path)
    s.ok("init", "--preset", "metabolic")
    ids = add_days(s)
    pinned = s.add("Never deploy on Fridays", "--pin", "--at", "2026-03-02T08:00:00Z", "--importance", "0.1")
    dry = s.json("metabolize", "--now", "2026-03-09T18:00:00Z", "--dry-run")
    assert dry["dry_run"] is True and s.json("stats")["memories"] == 22
    out = s.ok("metabolize", "--now", "2026-03-09T18:00:00Z").out
    assert "metabolized at 2026-03-09T18:00:00.000Z: 22 -> 8 memories" in out
    assert "pruned        age 7, relevance 0, redundancy 0, capacity 0" in out
    assert "consolidated  7 episode(s) from 14 memories" in out
    assert "pinned kept   1" in out
    stats = s.json("stats")
    assert stats["memories"] == 8 and stats["by_category"] == {"episodes": 7, "general": 1}
    assert stats["lifecycle"]["cycles"] == 1 and stats["lifecycle"]["pruned"]["age"] == 7
    text = s.ok("stats").out
    assert "lifecycle   1 cycle(s), the last at 2026-03-09T18:00:00.000Z" in text
    history = s.json("history", ids["lunch0"])["history"]
    assert history[-1]["event"] == "DELETE" and "keep rule (importance >= 0.5)" in history[-1]["reason"]
    assert "consolidated into episode" in s.json("history", ids["standup3"])["history"][-1]["reason"]
    assert s.json("get", pinned)["tier"] == "working", "pinned memories stay put"
    hits = s.json("recall", "what did we decide about build 105", "-k", "1")["hits"]
    assert "build 105" in hits[0]["content"] and hits[0]["tier"] in ("episodic", "semantic")


def test_metabolize_json_report_lists_every_move_with_a_reason(tmp_path):
    s = Store(tmp_path)
    s.ok("init", "--preset", "metabolic")
    add_days(s, 2)
    report = s.json("metabolize", "--now", "2026-03-05T00:00:00Z")
    assert set(report) >= {"migrated", "pruned", "consolidated", "patterns", "compressed", "duration_ms", "moves", "errors"}
    assert report["moves"] and all(m["reason"] for m in report["moves"])
    assert {m["action"] for m in report["moves"]} == {"prune", "consolidate", "create"}
    again = s.json("metabolize", "--now", "2026-03-05T00:00:00Z")
    assert again["moves"] == [] and again["before"] == again["after"] == report["after"]


def test_metabolize_rejects_a_bad_time(store):
    r = store.fails(11, "metabolize", "--now", "yesterday")
    assert "--now \"yesterday\" is not an ISO-8601 time" in r.err


def test_a_summarizer_failing_mid_cycle_loses_nothing_and_the_next_cycle_completes(tmp_path, monkeypatch):
    plugin = ROOT / ".build" / "c" / "switchable_summarizer.so"
    assert plugin.exists(), f"{plugin} is built by Tests/c/run.sh, which scripts/test runs first"
    # A plugin path in strata.json loads only from a folder the user trusts (README, "Trust").
    monkeypatch.setenv("STRATA_PLUGIN_PATH", str(plugin.parent))
    flag = tmp_path / "service-down"
    s = Store(tmp_path)
    s.ok("init", "--preset", "metabolic")
    config_path = tmp_path / ".strata" / "strata.json"
    config = json.loads(config_path.read_text())
    config["summarizer"] = {"backend": "switchable", "plugin": str(plugin), "options": {"fail_if_exists": str(flag)}}
    config_path.write_text(json.dumps(config))
    add_days(s, 2)
    before = s.ok("export", "-").out
    flag.write_text("down")
    r = s.run("metabolize", "--now", "2026-03-05T00:00:00Z", "--json")
    assert r.code == 2, r.err
    assert "switchable_summarizer: the summary service is down" in r.err
    report = json.loads(r.out)
    assert report["consolidated"] == 0 and len(report["errors"]) == 2, report["errors"]
    kept = {json.loads(line)["content"] for line in s.ok("export", "-").out.splitlines()}
    assert {json.loads(line)["content"] for line in before.splitlines() if "lunch" not in line} <= kept, \
        "everything the summarizer was needed for is still there"
    flag.unlink()
    done = s.json("metabolize", "--now", "2026-03-05T00:00:00Z")
    assert done["errors"] == [] and done["consolidated"] == 2 and done["consolidated_sources"] == 4
    assert s.json("stats")["lifecycle"]["errors"] == 2
