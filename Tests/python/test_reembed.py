"""Embedding-space safety through the package: a SQLite store refuses another embedder naming both
spaces, and Engine.reembed moves its memories into a store of another space."""

from __future__ import annotations

import os

import pytest

import strata


def sqlite(path, dimension: int) -> dict:
    folder = os.path.dirname(os.path.realpath(strata.library_path))
    if not os.path.isfile(os.path.join(folder, "libstrata-sqlite.so")):
        pytest.skip("libstrata-sqlite.so is not built beside libstrata.so")
    return {"store": {"backend": "sqlite", "plugin": "sqlite", "options": {"path": str(path)}},
            "embedder": {"backend": "hashing", "options": {"dimension": dimension}}}


def test_reembed_moves_every_memory_and_the_moved_store_refuses_the_old_embedder(tmp_path):
    with strata.Engine(sqlite(tmp_path / "old.db", 64)) as old, strata.Engine(sqlite(tmp_path / "new.db", 32)) as new:
        for text in ["Alice prefers a window seat", "Bob drinks his coffee black", "Carol runs at dawn", "Dan reads at night"]:
            old.store(text)
        report = old.reembed(new, batch_size=2)
        assert report["memories"] == 4 and report["embedded"] == 4 and report["batches"] == 2
        assert report["from"]["model_id"] == "hashing-v1-64" and report["to"]["model_id"] == "hashing-v1-32"
        assert report["to"]["normalized"] is True
        assert new.stats()["memories"] == 4
        assert new.recall("window seat", k=1)[0].content == "Alice prefers a window seat"
        assert old.recall("window seat", k=1)[0].content == "Alice prefers a window seat"
        assert old.reembed(new)["kept"] == 4, "a second call embeds nothing"
        with pytest.raises(strata.InvalidArgument):
            old.reembed(old)
    with pytest.raises(strata.InvalidConfig) as refused:
        strata.Engine(sqlite(tmp_path / "new.db", 64))
    message = str(refused.value)
    assert "holds vectors of the embedding space hashing (hashing-v1-32, 32 dimensions, unit length)" in message, message
    assert "the configured embedder is hashing (hashing-v1-64, 64 dimensions)" in message, message
    assert "strata reembed --embedder hashing" in message, message


def test_stats_carry_the_space(tmp_path):
    with strata.Engine(sqlite(tmp_path / "s.db", 48)) as engine:
        assert engine.stats()["space"] == {"embedder": "hashing", "model_id": "hashing-v1-48", "dimension": 48, "normalized": None}
        engine.store("Erin keeps bees on the roof")
        assert engine.stats()["space"]["normalized"] is True
