"""The HNSW index through the CLI (issue 16): configured in the store's options, saved beside a
SQLite store as `strata.db.hnsw`, restored by the next process, and a SIGKILL in the middle of
saving it loses no memory: the next open repairs the older file (or rebuilds) and says so.
"""

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

from test_cli import BIN, Store  # noqa: F401

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa "
         "quebec romeo sierra tango uniform victor whiskey xray yankee zulu").split()


def indexed(tmp_path: Path, count: int, index: dict) -> Store:
    """A SQLite store (hashing embedder, 64 dimensions, no de-duplication) with `count` memories."""
    s = Store(tmp_path)
    folder = tmp_path / ".strata"
    folder.mkdir(mode=0o700)
    (folder / "strata.json").write_text(json.dumps({
        "store": {"backend": "sqlite", "plugin": "sqlite", "options": {"path": "strata.db", "index": index}},
        "embedder": {"backend": "hashing", "options": {"dimension": 64}},
        "dedupe": {"enabled": False},
    }))
    os.chmod(folder / "strata.json", 0o600)
    lines = [json.dumps({"content": f"{WORDS[i % 26]} {WORDS[i * 7 % 26]} {WORDS[i * 11 % 26]} report {i} on project {i % 97}"})
             for i in range(count)]
    (tmp_path / "m.jsonl").write_text("\n".join(lines) + "\n")
    s.ok("import", str(tmp_path / "m.jsonl"), "--batch-size", "1000")
    return s


HNSW = {"type": "hnsw", "m": 8, "ef_construction": 40, "ef_search": 64}


def test_the_graph_is_saved_beside_the_store_and_a_fresh_process_uses_it_silently(tmp_path):
    s = indexed(tmp_path, 1500, HNSW)
    graph = tmp_path / ".strata" / "strata.db.hnsw"
    assert graph.exists() and graph.stat().st_size > 1500 * 30
    r = s.ok("recall", "report 321 on project 30", "--json")
    assert r.err == "", "an up-to-date graph file is used without a word"
    hits = json.loads(r.out)["hits"]
    assert hits and hits[0]["content"].endswith("report 321 on project 30")


def test_the_index_image_serves_fresh_processes_and_a_damaged_one_is_replaced(tmp_path):
    # A fresh process answers from the image its last writer saved (mapped, rows not loaded):
    # the same hits as a process that loads the rows (lazy_open false), and writes by other
    # processes seen. A damaged image is never used: the rows load, silently, and the image is
    # written again when that process closes.
    s = indexed(tmp_path, 1500, HNSW)
    folder = tmp_path / ".strata"
    image = folder / "strata.db.image"
    assert image.exists() and image.stat().st_size > 1500 * 64 * 4
    config = json.loads((folder / "strata.json").read_text())
    # Access counts off: a recall's access bump would change the next recall's ranking.
    config["recall"] = {"track_access": False}
    def recall(lazy: bool, text: str) -> list:
        config["store"]["options"]["lazy_open"] = lazy
        (folder / "strata.json").write_text(json.dumps(config))
        r = s.ok("recall", text, "--json", "-k", "8")
        assert r.err == "", r.err
        return [(h["id"], h["content"]) for h in json.loads(r.out)["hits"]]
    for q in ["report 321 on project 30", "alpha bravo", "zulu report 1499"]:
        assert recall(True, q) == recall(False, q), q
    s.ok("add", "a memory written by another process about quokkas")
    assert recall(True, "quokkas")[0][1] == "a memory written by another process about quokkas"
    size = image.stat().st_size
    with open(image, "r+b") as f:
        f.truncate(size // 2)
    assert recall(True, "quokkas")[0][1] == "a memory written by another process about quokkas"
    assert image.stat().st_size >= size, "the process that loaded the rows wrote the image again"
    assert recall(True, "report 321 on project 30") == recall(False, "report 321 on project 30")


def test_a_bad_index_option_is_refused_by_name(tmp_path):
    s = Store(tmp_path)
    folder = tmp_path / ".strata"
    folder.mkdir(mode=0o700)
    (folder / "strata.json").write_text(json.dumps({
        "store": {"backend": "sqlite", "plugin": "sqlite", "options": {"path": "strata.db", "index": {"type": "hnsw", "efs": 3}}},
        "embedder": {"backend": "hashing", "options": {"dimension": 64}},
    }))
    os.chmod(folder / "strata.json", 0o600)
    r = s.fails(13, "add", "a memory")
    assert "sqlite options.index" in r.err and "efs" in r.err, r.err
    assert not (folder / "strata.db").exists() or s.json("stats")["memories"] == 0


def test_a_sigkill_while_the_graph_is_saved_loses_no_memory_and_the_next_open_repairs_it(tmp_path):
    s = indexed(tmp_path, 4000, HNSW)
    folder = tmp_path / ".strata"
    def temporaries() -> list[Path]:
        return list(folder.glob("strata.db.hnsw.tmp-*"))
    env = {k: v for k, v in os.environ.items() if k != "STRATA_DIR"}
    env["STRATA_EMBEDDER"] = "hashing"
    killed_in_save = 0
    added = 0
    for attempt in range(40):
        text = f"kilo lima fresh note {attempt} written before a kill"
        p = subprocess.Popen([str(BIN), "add", text], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # Kill it while the graph file is being written: its temporary file (named by its
        # process id) exists only then.
        def fresh_temporary() -> bool:
            return (folder / f"strata.db.hnsw.tmp-{p.pid}").exists()
        deadline = time.time() + 60
        while p.poll() is None and not fresh_temporary() and time.time() < deadline:
            pass
        caught = p.poll() is None and fresh_temporary()
        if caught:
            os.kill(p.pid, signal.SIGKILL)
        p.wait()
        assert caught or p.returncode == 0, p.stderr.read().decode()
        # The kill landed inside the save when the temporary file is still there, not renamed.
        if caught and fresh_temporary():
            killed_in_save += 1
        added += 1  # committed either way: the graph is saved on close, after the commit
        if killed_in_save >= 3:
            break
    assert killed_in_save >= 3, "never caught a process while it saved the graph; make the store larger"
    assert len(temporaries()) >= 1, "a killed save leaves its temporary file behind"
    # A fresh process opens, says what it repaired, and recalls the memory added last.
    r = s.ok("recall", f"kilo lima fresh note {attempt} written before a kill", "--json")
    assert "graph file" in r.err and "strata.db.hnsw" in r.err and "was behind the store" in r.err, r.err
    hits = json.loads(r.out)["hits"]
    assert hits[0]["content"] == f"kilo lima fresh note {attempt} written before a kill"
    # Every memory is there, once.
    assert s.json("stats")["memories"] == 4000 + added
    # The repairing open saved the file, and removed the temporary files of the killed
    # processes: the next open is silent again.
    assert temporaries() == [], temporaries()
    assert s.ok("recall", "report 5 on project 5").err == ""
    # And the repaired graph answers like an exact scan of the same file (vector hits only, so
    # keyword fusion does not hide a difference).
    queries = [f"{WORDS[i]} {WORDS[(i * 5) % 26]} report" for i in range(0, 26, 2)]
    def vector_ids() -> list[list[str]]:
        out = []
        for q in queries:
            hits = json.loads(s.ok("recall", q, "--json", "-k", "10").out)["hits"]
            out.append(sorted(h["id"] for h in hits if h["scores"]["vector"] is not None)[:10])
        return out
    graph_ids = vector_ids()
    config = json.loads((folder / "strata.json").read_text())
    config["store"]["options"]["index"] = {"type": "exact"}
    (folder / "strata.json").write_text(json.dumps(config))
    exact_ids = vector_ids()
    found = sum(len(set(g) & set(e)) for g, e in zip(graph_ids, exact_ids))
    total = sum(len(e) for e in exact_ids)
    assert total > 0 and found / total >= 0.9, (found, total)


INDEX_KEYS = {"kind", "rows", "m", "ef_construction", "ef_search", "compression", "mapped", "bytes"}


def test_stats_shows_the_index_and_the_memory_its_int8_copies_take(tmp_path):
    s = indexed(tmp_path, 1500, {**HNSW, "compression": "int8"})
    # A fresh process answers from the image beside the store: mapped, no row read by stats;
    # its walks read int8 copies made of each row as a search reads the row in.
    index = s.json("stats")["index"]
    assert set(index) == INDEX_KEYS and set(index["bytes"]) == {"vectors", "codes", "graph", "total"}
    assert index["kind"] == "hnsw" and index["rows"] == 1500 and index["mapped"] is True and index["compression"] == "int8"
    assert (index["m"], index["ef_construction"], index["ef_search"]) == (8, 40, 64)
    assert index["bytes"]["vectors"] == 0 and index["bytes"]["codes"] == 0 and index["bytes"]["graph"] > 0
    assert re.search(r"^index\s+hnsw, 1500 rows, m 8, ef_construction 40, ef_search 64, int8 copies, mapped from disk",
                     s.ok("stats").out, re.M)
    # With the rows loaded at open, the int8 copies are there beside the floats.
    config_file = tmp_path / ".strata" / "strata.json"
    config = json.loads(config_file.read_text())
    config["store"]["options"]["lazy_open"] = False
    config_file.write_text(json.dumps(config))
    index = s.json("stats")["index"]
    assert index["mapped"] is False and index["compression"] == "int8"
    b = index["bytes"]
    assert b["vectors"] == 1500 * 64 * 4 and b["codes"] > 0 and b["total"] == b["vectors"] + b["codes"] + b["graph"]
    text = s.ok("stats").out
    assert re.search(r"^index\s+hnsw, 1500 rows, m 8, ef_construction 40, ef_search 64, int8 copies$", text, re.M), text
    assert re.search(r"^  vectors\s+0\.38 MB$", text, re.M), text
    assert re.search(r"^  codes\s+int8 copies: \+\d+\.\d\d MB, walks read 64 bytes a row instead of 256$", text, re.M), text
    assert re.search(r"^  total\s+\d+\.\d\d MB$", text, re.M), text


def test_stats_of_a_loaded_exact_store_has_no_graph(tmp_path):
    s = indexed(tmp_path, 200, {"type": "exact"})
    index = s.json("stats")["index"]
    assert index == {"kind": "exact", "rows": 200, "compression": "none", "mapped": False,
                     "bytes": {"vectors": 200 * 64 * 4, "codes": 0, "graph": 0, "total": 200 * 64 * 4}}
    assert re.search(r"^  codes\s+none$", s.ok("stats").out, re.M)
