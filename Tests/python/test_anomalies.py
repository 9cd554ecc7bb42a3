"""Engine.anomalies through the Python bindings: ranking, events, configuration and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import strata

CONFIG = {"dedupe": {"enabled": False}, "anomalies": {"seed": 7}}


def clustered(n: int, dim: int, outliers: int, seed: int = 5) -> np.ndarray:
    """n vectors near one centre, then `outliers` random directions."""
    rng = np.random.default_rng(seed)
    centre = rng.normal(size=dim)
    near = centre + 0.05 * rng.normal(size=(n, dim))
    far = rng.normal(size=(outliers, dim))
    return np.vstack([near, far]).astype(np.float32)


def test_far_vectors_rank_first_with_scores_in_zero_one_and_events():
    with strata.Engine(CONFIG) as engine:
        vectors = clustered(200, engine.dimension, 3)
        ids = engine.store_vectors(vectors, items=[f"note {i}" for i in range(len(vectors))])
        events: list[dict] = []
        engine.subscribe(events.append)

        found = engine.anomalies(limit=3)
        assert {a.id for a in found} == set(ids[-3:])
        assert all(isinstance(a, strata.Anomaly) and 0.6 <= a.score <= 1 for a in found)
        assert [a.score for a in found] == sorted((a.score for a in found), reverse=True)
        assert [e.type for e in events] == ["anomaly.detected"] * 3
        assert [e.memory_id for e in events] == [a.id for a in found]
        assert [e.score for e in events] == [a.score for a in found]

        ranked = engine.anomalies(threshold=0)
        assert len(ranked) == 203 and {a.id for a in ranked[:3]} == set(ids[-3:])
        assert all(0 < a.score <= 1 for a in ranked)
        assert engine.anomalies(threshold=0) == ranked, "the same seed gives the same scores"


def test_numeric_metadata_outliers_and_nan_values():
    config = {"dedupe": {"enabled": False}, "anomalies": {"projection_dims": 0, "numeric_fields": ["profit"]}}
    with strata.Engine(config) as engine:
        rng = np.random.default_rng(1)
        items = [{"content": f"trade {i}", "metadata": {"profit": float(100 + 10 * rng.normal())}} for i in range(150)]
        items[3]["metadata"]["profit"] = "n/a"
        items[4]["metadata"] = {}
        items += [{"content": "jackpot", "metadata": {"profit": 1e7}}, {"content": "wipeout", "metadata": {"profit": -1e7}}]
        ids = engine.store_many(items)
        top = engine.anomalies(threshold=0, limit=2)
        assert {a.content for a in top} == {"jackpot", "wipeout"}
        assert {a.id for a in top} == set(ids[-2:])
        assert top[0].metadata["profit"] in (1e7, -1e7) and top[0].tier == "working" and top[0].category == "general"
        assert not math.isnan(top[0].score)


def test_filter_scope_tiers_and_category_are_passed_through():
    with strata.Engine(CONFIG) as engine:
        engine.store_many([{"content": f"ops note {i}", "scope": "org/ops", "category": "ops"} for i in range(5)])
        engine.store_many([{"content": f"misc note {i}", "metadata": {"n": i}} for i in range(5)])
        assert len(engine.anomalies(threshold=0, scope="org/ops")) == 5
        assert len(engine.anomalies(threshold=0, category="ops")) == 5
        assert len(engine.anomalies(threshold=0, filter={"n": {"$gte": 2}})) == 3
        assert len(engine.anomalies(threshold=0, tiers="working")) == 10
        assert engine.anomalies(threshold=0, tiers=["archive"]) == []


def test_empty_and_single_memory_engines_answer_an_empty_list(engine):
    assert engine.anomalies(threshold=0) == []
    engine.store("only one")
    assert engine.anomalies(threshold=0) == []


def test_bad_arguments_and_configuration_raise_typed_errors(engine):
    with pytest.raises(strata.InvalidArgument, match="threshold"):
        engine.anomalies(threshold=1.5)
    with pytest.raises(strata.InvalidArgument, match="limit"):
        engine.anomalies(limit=0)
    with pytest.raises(strata.InvalidFilter):
        engine.anomalies(filter={"n": {"$near": 1}})
    with pytest.raises(strata.InvalidConfig, match=r"anomalies\.threshold"):
        strata.Engine({"anomalies": {"threshold": 3}})
    with pytest.raises(strata.InvalidConfig, match=r"anomalies\.colour"):
        strata.Engine({"anomalies": {"colour": "red"}})
