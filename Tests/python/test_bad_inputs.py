"""The bad-input table (Tests/bad_inputs.json) through the Python binding: every row whose
faces include "python" is sent through the public API (strata.Engine and its verbs), and
must raise the row's status, name its culprit, and leave the store as it was.

The request of a row becomes the keyword arguments of the verb of the same name (store,
store_many for {"items": [...]}, store_vectors, recall, recall_vector, update, forget, get,
history); a configuration is passed to strata.Engine as the bytes of the row. Raw bytes
(invalid UTF-8) reach the library as the binding sends them: a str holding lone surrogates
(decoded with surrogateescape) is encoded with surrogatepass, which is invalid UTF-8 at the
same offset.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import strata
from strata import errors

ROOT = Path(__file__).resolve().parents[2]
TABLE = json.loads((ROOT / "Tests" / "bad_inputs.json").read_text())
PLUGINS = ROOT / ".build" / "c"
ROWS = [row for row in TABLE["rows"] if "python" in row["faces"]]
CODES = {name: code for code, name in errors.STATUS_NAMES.items()}


def raw_bytes(text: str) -> bytes:
    """A table text as bytes: \\xNN is the byte NN."""
    return re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]), text.encode("utf-8"))


def substitute(data: bytes, ids: list[str]) -> bytes:
    for i, mid in enumerate(ids):
        data = data.replace(b"{id%d}" % i, mid.encode())
    return data.replace(b"{plugins}", str(PLUGINS).encode())


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), f"a Python dict cannot carry the duplicate keys of {keys}"
    return dict(pairs)


def request_of(row, ids) -> dict:
    data = substitute(raw_bytes(row["request_bytes"]) if "request_bytes" in row else row["request"].encode(), ids)
    return json.loads(data.decode("utf-8", "surrogateescape"), object_pairs_hook=no_duplicates)


def vectors_of(row, dimension: int) -> np.ndarray:
    spec = row["vectors"]
    block = np.full((spec.get("count", 1), spec.get("dimension", dimension)), spec.get("fill", 0.1), dtype=np.float32)
    for j, value in enumerate(spec.get("values", [])):
        block[spec.get("row", 0), j] = float(value)  # float("nan"), float("inf"), float("-inf")
    return block


def snapshot(engine: strata.Engine, ids: list[str]):
    """What must not change: the count, every seed memory as get answers it (all fields), its history."""
    return engine.stats()["memories"], [(engine.get(mid), len(engine.history(mid))) for mid in ids]


def apply(engine: strata.Engine, row, ids):
    verb = row["verb"]
    if verb == "open":
        config = row.get("config_bytes")
        data = substitute(raw_bytes(config) if config is not None else row["config"].encode(), ids)
        strata.Engine(data).close()
        return
    request = request_of(row, ids)
    if verb == "store":
        if "items" in request:
            engine.store_many(request["items"])
        else:
            engine.store(**request)
    elif verb == "store_vectors":
        engine.store_vectors(vectors_of(row, engine.dimension), request.get("items"))
    elif verb == "recall_vector":
        engine.recall_vector(vectors_of(row, engine.dimension)[0], **request)
    elif verb in ("recall", "update", "forget"):
        getattr(engine, verb)(**request)
    elif verb in ("get", "history"):
        getattr(engine, verb)(request["id"])
    elif verb == "list":
        engine.get_all(**request)
    else:
        raise AssertionError(f"row {row['name']}: no Python form for verb {verb}")


def test_the_table_is_well_formed():
    names = [row["name"] for row in TABLE["rows"]]
    assert len(names) == len(set(names))
    for row in TABLE["rows"]:
        assert row["status"] in CODES, row["name"]
        assert row["culprit"], row["name"]
        assert set(row["faces"]) <= {"c", "python", "cli"} and row["faces"], row["name"]
        if set(row["faces"]) != {"c", "python", "cli"}:
            assert row.get("note"), f"{row['name']}: a row left out of a face says why in note"


@pytest.mark.parametrize("row", ROWS, ids=[row["name"] for row in ROWS])
def test_bad_input(row):
    if "{plugins}" in row.get("config", "") and not (PLUGINS / "abi_mismatch.so").exists():
        pytest.skip("the fixture plugins are built by Tests/c/run.sh (scripts/test runs it first)")
    with strata.Engine() as engine:
        ids = [engine.store(**memory) for memory in TABLE["seed"]]
        before = snapshot(engine, ids)
        with pytest.raises(strata.StrataError) as info:
            apply(engine, row, ids)
        error = info.value
        assert error.status == row["status"] and error.code == CODES[row["status"]], f"{row['name']}: got {error.status}: {error}"
        assert type(error) is errors.ERROR_CLASSES[error.code]
        for part in row["culprit"]:
            assert part in str(error), f"{row['name']}: {part!r} not in {str(error)!r}"
        assert snapshot(engine, ids) == before
