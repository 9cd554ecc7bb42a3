"""One wire format: the C ABI (through the Python package over libstrata.so) and `strata ... --json`
answer the same request on the same store with the same bytes, because both write the answers of
StrataWire (Sources/StrataWire). And the libraries that C, Python and plugins load never link the
HTTP server's stack (SwiftNIO, Hummingbird), which lives in its own targets.

Runs the built CLI (STRATA_CLI) and the libstrata.so beside it (or STRATA_LIBRARY).
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("STRATA_CLI", ROOT / ".build" / "debug" / "strata-cli"))
LIBRARY = Path(os.environ.get("STRATA_LIBRARY", BIN.parent / "libstrata.so"))

os.environ.setdefault("STRATA_LIBRARY", str(LIBRARY))
sys.path.insert(0, str(ROOT / "bindings" / "python"))
import strata  # noqa: E402  (after STRATA_LIBRARY is set: the package loads the library on import)
from strata._ffi import ffi, lib  # noqa: E402


def cli(*args, cwd):
    """One `strata` process with the hashing embedder; (exit code, stdout bytes, stderr text)."""
    env = {k: v for k, v in os.environ.items() if k != "STRATA_DIR"}
    env["STRATA_EMBEDDER"] = "hashing"
    p = subprocess.run([str(BIN), *args], cwd=cwd, env=env, capture_output=True)
    return p.returncode, p.stdout, p.stderr.decode()


def cli_json(*args, cwd) -> bytes:
    """What `strata ARGS --json` printed: one line, the answer's bytes and a newline."""
    code, out, err = cli(*args, "--json", cwd=cwd)
    assert code == 0, f"strata {' '.join(args)} exited {code}: {err}"
    assert out.endswith(b"\n") and out.count(b"\n") == 1, f"--json prints one line: {out!r}"
    return out[:-1]


def c_answer(config: dict, symbol: str, request: dict) -> bytes:
    """The bytes `strata_engine_<symbol>` answers on a fresh engine of `config`, exactly as the
    library wrote them (not parsed and written again by Python)."""
    with strata.Engine(config) as engine:
        out = ffi.new("char **")
        with engine._using() as handle:
            status = getattr(lib, f"strata_engine_{symbol}")(handle, json.dumps(request).encode(), out)
            assert status == 0, f"{symbol}: {status} {ffi.string(lib.strata_error_last()).decode()}"
        try:
            return ffi.string(out[0])
        finally:
            lib.strata_string_free(out[0])


def c_error(config: dict, symbol: str, request: dict) -> dict:
    """The error of a failing call as the CLI's --json writes it: {"error": {"code", "message", "status"}}."""
    with strata.Engine(config) as engine:
        out = ffi.new("char **")
        with engine._using() as handle:
            status = getattr(lib, f"strata_engine_{symbol}")(handle, json.dumps(request).encode(), out)
            message = ffi.string(lib.strata_error_last()).decode()
        assert status != 0 and out[0] == ffi.NULL
    return {"error": {"code": status, "message": message, "status": strata.StrataError(message, status).status}}


@pytest.fixture
def store(tmp_path):
    """A SQLite store made and filled by the CLI, with the recency half-life set to 0 (recency 1
    whatever the time), so a recall answers the same bytes in any process at any moment."""
    folder = tmp_path / "a"
    folder.mkdir()
    code, _, err = cli("init", cwd=folder)
    assert code == 0, err
    config_file = folder / ".strata" / "strata.json"
    config = json.loads(config_file.read_text())
    config["recall"] = {"recency_half_life_hours": 0}
    config_file.write_text(json.dumps(config))
    ids = []
    for args in [
        ("Alice prefers green tea in the morning", "--meta", '{"user": "alice", "n": 3}', "--scope", "org/assistant"),
        ("Bob deploys the billing service on Tuesdays", "--category", "ops", "--importance", "0.8"),
        ("Quotes \" and \\ backslashes, été, 日本", "--at", "2024-03-01T10:30:00+01:00"),
        ("Carol reviews the tea budget", "--meta", '{"user": "carol", "tags": ["a", "b"], "x": null}'),
    ]:
        code, out, err = cli("add", *args, cwd=folder)
        assert code == 0, err
        ids.append(out.decode().strip())
    code, _, err = cli("update", ids[1], "--text", "Bob deploys billing on Wednesdays now", cwd=folder)
    assert code == 0, err
    # The C ABI reads no strata.json: it gets the same document with the database path made absolute.
    config["store"]["options"]["path"] = str(folder / ".strata" / "strata.db")
    return folder, config, ids


def test_get_history_and_stats_are_the_same_bytes_on_both_faces(store):
    folder, config, ids = store
    for mid in ids:
        assert c_answer(config, "get", {"id": mid}) == cli_json("get", mid, cwd=folder)
        assert c_answer(config, "history", {"id": mid}) == cli_json("history", mid, cwd=folder)
    assert c_answer(config, "stats", {}) == cli_json("stats", cwd=folder)


@pytest.mark.parametrize("options, request_", [
    ((), {}),
    (("-k", "2"), {"k": 2}),
    (("--filter", '{"user": "alice"}'), {"filter": {"user": "alice"}}),
    (("--scope", "org/assistant"), {"scope": "org/assistant"}),
    (("--category", "ops"), {"category": "ops"}),
])
def test_recall_is_the_same_bytes_on_both_faces(store, tmp_path, options, request_):
    folder, config, _ = store
    # A recall counts an access on every hit: each face recalls on its own copy of the store.
    copy = tmp_path / "b"
    shutil.copytree(folder, copy)
    config["store"]["options"]["path"] = str(copy / ".strata" / "strata.db")
    query = "tea deploys billing"
    via_c = c_answer(config, "recall", {"query": query, **request_})
    via_cli = cli_json("recall", query, *options, cwd=folder)
    assert json.loads(via_c)["hits"], "the query finds something"
    assert via_c == via_cli


def test_forget_is_the_same_bytes_on_both_faces(store, tmp_path):
    folder, config, ids = store
    copy = tmp_path / "b"
    shutil.copytree(folder, copy)
    config["store"]["options"]["path"] = str(copy / ".strata" / "strata.db")
    assert c_answer(config, "forget", {"id": ids[0]}) == cli_json("forget", ids[0], cwd=folder)
    via_c = c_answer(config, "forget", {"filter": {"user": "carol"}})
    assert via_c == cli_json("forget", "--filter", '{"user": "carol"}', cwd=folder)
    assert json.loads(via_c) == {"forgotten": [ids[3]]}


def test_an_error_is_the_same_code_and_message_on_both_faces(store):
    folder, config, _ = store
    code, out, err = cli("get", "m-000000000000000000000000", "--json", cwd=folder)
    assert code == 12
    assert json.loads(out) == c_error(config, "get", {"id": "m-000000000000000000000000"})
    # A bad value names where it came from: the CLI's option, the C request's key path.
    code, out, _ = cli("recall", "tea", "--filter", '{"n": {"$near": 1}}', "--json", cwd=folder)
    via_cli = json.loads(out)["error"]
    via_c = c_error(config, "recall", {"query": "tea", "filter": {"n": {"$near": 1}}})["error"]
    assert (via_cli["code"], via_cli["status"]) == (via_c["code"], via_c["status"]) == (-11, "STRATA_ERR_INVALID_FILTER")
    assert via_cli["message"].removeprefix("--filter") == via_c["message"].removeprefix("recall request.filter")


def test_an_exported_line_is_the_record_get_answers(store):
    folder, config, ids = store
    code, out, err = cli("export", "-", cwd=folder)
    assert code == 0, err
    lines = {json.loads(line)["id"]: line for line in out.splitlines()}
    for mid in ids:
        assert lines[mid] == cli_json("get", mid, cwd=folder) == c_answer(config, "get", {"id": mid})


def test_store_answers_have_one_shape_on_both_faces(store):
    folder, config, _ = store
    via_cli = json.loads(cli_json("add", "Dave likes coffee", cwd=folder))
    via_c = json.loads(c_answer(config, "store", {"content": "Erin likes cocoa"}))
    assert set(via_cli) == set(via_c) == {"id", "deduplicated"}
    assert via_cli["deduplicated"] == via_c["deduplicated"] == []
    again = json.loads(cli_json("add", "Dave likes coffee", cwd=folder))
    assert again == {"id": via_cli["id"], "deduplicated": [via_cli["id"]]}


# ---- no server stack in the libraries others load ----------------------------------------

# Case matters: "formUnion" must not match. A Swift module's name is mangled with its length
# before it (`3NIO`, `7NIOCore`, `11Hummingbird`, `10Prometheus`, `11CoreMetrics`); a shared
# library would be `libNIO...`. The MCP SDK (`3MCP`, with swift-system's `13SystemPackage`) and
# StrataMCP stay out of them too.
SERVER_STACK = re.compile(r"\d+NIO|NIOCore|NIOPosix|Hummingbird|hummingbird|libNIO|swift-nio|\d+Prometheus|\d+CoreMetrics|swift-prometheus|(?<![0-9])3MCP|\d+StrataMCP|13SystemPackage")


def libraries():
    found = sorted(BIN.parent.glob("libstrata*.so"))
    assert LIBRARY.resolve() in [p.resolve() for p in found] or LIBRARY.exists()
    assert any(p.name == "libstrata.so" for p in found), f"no libstrata.so in {BIN.parent}"
    return found


@pytest.mark.parametrize("tool", [["ldd"], ["nm", "-D"], ["nm", "--defined-only"]])
def test_libstrata_and_the_plugins_do_not_link_swiftnio_hummingbird_or_prometheus(tool):
    if shutil.which(tool[0]) is None:
        pytest.skip(f"{tool[0]} is not installed")
    for library in libraries():
        p = subprocess.run([*tool, str(library)], capture_output=True, text=True)
        assert p.returncode == 0 or "no symbols" in p.stderr, f"{' '.join(tool)} {library}: {p.stderr}"
        hits = [line for line in p.stdout.splitlines() if SERVER_STACK.search(line)]
        assert not hits, f"{library.name} links the server's stack ({' '.join(tool)}): {hits[:5]}"


def test_the_index_section_is_the_same_from_the_c_abi_the_cli_and_the_server(tmp_path):
    # An HNSW store with int8 copies, its rows loaded at open (lazy_open false), so every face
    # holds the same index in memory: the stats' "index" (ABI 1.8) is one object on all three.
    sys.path.insert(0, str(Path(__file__).parent))
    from test_serve import Server  # noqa: E402  (a server process on tmp_path / "store")

    folder = tmp_path / "store"
    code, _, err = cli("init", "--dir", str(folder), cwd=tmp_path)
    assert code == 0, err
    config_file = folder / "strata.json"
    config = json.loads(config_file.read_text())
    config["store"]["options"]["index"] = {"type": "hnsw", "m": 8, "ef_construction": 40, "compression": "int8"}
    config["store"]["options"]["lazy_open"] = False
    config["dedupe"] = {"enabled": False}
    config_file.write_text(json.dumps(config))
    lines = "".join(json.dumps({"content": f"note {i} about topic {i % 13}"}) + "\n" for i in range(300))
    (tmp_path / "m.jsonl").write_text(lines)
    code, _, err = cli("import", str(tmp_path / "m.jsonl"), "--dir", str(folder), cwd=tmp_path)
    assert code == 0, err

    from_cli = json.loads(cli_json("stats", "--dir", str(folder), cwd=tmp_path))["index"]
    config["store"]["options"]["path"] = str(folder / config["store"]["options"]["path"])
    from_c = json.loads(c_answer(config, "stats", {}))["index"]
    server = Server(tmp_path)
    try:
        status, answer, _ = server.call("GET", "/v1/stats")
    finally:
        code, err = server.stop()
        assert code == 0, err
    assert status == 200, answer
    assert from_cli == from_c == answer["index"]
    assert from_cli["kind"] == "hnsw" and from_cli["compression"] == "int8" and from_cli["mapped"] is False
    assert from_cli["rows"] == 300 and from_cli["bytes"]["codes"] > 0
    b = from_cli["bytes"]
    assert b["total"] == b["vectors"] + b["codes"] + b["graph"]
