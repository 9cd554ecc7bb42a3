"""The bad-input table (Tests/bad_inputs.json) through the CLI: every row whose faces include
"cli" runs as a strata process on a SQLite store folder holding the seed memories, and must
exit 10 - status, print the status and its culprit on stderr, and leave the store as it was.

A row says its command line in "cli" (an item {"bytes": ...} is an argument of raw bytes),
or a line of an import file in "cli_import" (after a first line that is fine, which must not
be stored either); a configuration row ("open") is written as the store's strata.json and
`strata stats` is run on it. The store is made once (strata init, then strata add for each
seed memory) and copied for each row; "unchanged" is the same `strata export -` output.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("STRATA_CLI", ROOT / ".build" / "debug" / "strata-cli"))
TABLE = json.loads((ROOT / "Tests" / "bad_inputs.json").read_text())
PLUGINS = ROOT / ".build" / "c"
ROWS = [row for row in TABLE["rows"] if "cli" in row["faces"]]
STATUS = {m.group(1): int(m.group(2)) for m in
          re.finditer(r"\b(STRATA_ERR_[A-Z0-9_]+)\s*=\s*(-?\d+)", (ROOT / "include" / "strata" / "status.h").read_text())}
FINE_FIRST_LINE = b'{"content": "a fine first line that must not be stored"}\n'


def raw_bytes(text: str) -> bytes:
    """A table text as bytes: \\xNN is the byte NN."""
    return re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]), text.encode("utf-8"))


def as_bytes(item, ids) -> bytes:
    data = raw_bytes(item["bytes"]) if isinstance(item, dict) else item.encode("utf-8")
    for i, mid in enumerate(ids):
        data = data.replace(b"{id%d}" % i, mid.encode())
    return data.replace(b"{plugins}", str(PLUGINS).encode())


def run(cwd: Path, *args: bytes, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "STRATA_DIR"}
    environment["STRATA_EMBEDDER"] = "hashing"  # the table's dimensions are the hashing embedder's
    environment.update(env or {})
    return subprocess.run([bytes(BIN), *args], cwd=cwd, env=environment, capture_output=True, stdin=subprocess.DEVNULL)


def add_args(memory: dict) -> list[bytes]:
    args = [b"add", memory["content"].encode()]
    if "metadata" in memory:
        args += [b"--meta", json.dumps(memory["metadata"]).encode()]
    for key, option in (("scope", b"--scope"), ("category", b"--category"), ("importance", b"--importance")):
        if key in memory:
            args += [option, str(memory[key]).encode()]
    return args


def export(cwd: Path) -> bytes:
    p = run(cwd, b"export", b"-")
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return p.stdout


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A store folder holding the seed memories, and their ids."""
    folder = tmp_path_factory.mktemp("seeded")
    assert run(folder, b"init").returncode == 0
    ids = []
    for memory in TABLE["seed"]:
        p = run(folder, *add_args(memory))
        assert p.returncode == 0, p.stderr.decode(errors="replace")
        ids.append(p.stdout.decode().strip())
    assert len(export(folder).splitlines()) == len(TABLE["seed"])
    return folder, ids


@pytest.mark.parametrize("row", ROWS, ids=[row["name"] for row in ROWS])
def test_bad_input(row, template, tmp_path):
    seeded, ids = template
    cwd = tmp_path / "work"
    shutil.copytree(seeded, cwd)
    before = export(cwd)
    env = {k: as_bytes(v, ids).decode() for k, v in row.get("cli_env", {}).items()}

    if row["verb"] == "open":
        if "{plugins}" in row.get("config", "") and not (PLUGINS / "abi_mismatch.so").exists():
            pytest.skip("the fixture plugins are built by Tests/c/run.sh (scripts/test runs it first)")
        config_file = cwd / ".strata" / "strata.json"
        good = config_file.read_bytes()
        config_file.write_bytes(as_bytes({"bytes": row["config_bytes"]} if "config_bytes" in row else row["config"], ids))
        p = run(cwd, b"stats", env=env)
        config_file.write_bytes(good)
    elif "cli_import" in row:
        (cwd / "in.jsonl").write_bytes(FINE_FIRST_LINE + as_bytes(row["cli_import"], ids) + b"\n")
        p = run(cwd, b"import", b"in.jsonl", env=env)
    else:
        p = run(cwd, *(as_bytes(item, ids) for item in row["cli"]), env=env)

    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 10 - STATUS[row["status"]], f"{row['name']}: exit {p.returncode}: {err}"
    assert row["status"] in err, err
    for part in row.get("cli_culprit", row["culprit"]):
        assert part in err, f"{row['name']}: {part!r} not in {err!r}"
    assert p.stdout == b"", "an error prints nothing on stdout without --json"
    assert export(cwd) == before, f"{row['name']}: the store changed"
