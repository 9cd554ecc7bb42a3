"""bench/recall_set through the real engine: the fusion chosen for minilm never loses to its
vector list alone, on the tuning part and on the held-out part (bench/README.md, "Fusion").

Needs the all-MiniLM-L6-v2 model that scripts/setup installs; without it this fails, naming the
folder and the install command (never skipped).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("recall_eval", REPO / "bench" / "recall_eval.py")
recall_eval = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(recall_eval)


def test_the_set_is_labelled_and_split():
    memories, queries = recall_eval.load_set()
    ids = [m["id"] for m in memories]
    assert len(memories) >= 150 and len(set(ids)) == len(ids)
    assert len(queries) >= 150 and len({q["id"] for q in queries}) == len(queries)
    for q in queries:
        assert q["relevant"] and set(q["relevant"]) <= set(ids), q
        assert q["split"] in ("tune", "heldout"), q
    kinds = {q["kind"] for q in queries}
    assert kinds == {"paraphrase", "lexical", "filter", "scope"}
    assert sum(q["kind"] == "paraphrase" for q in queries) > len(queries) / 2
    for part in ("tune", "heldout"):
        assert {q["kind"] for q in queries if q["split"] == part} == kinds


def test_minilm_hybrid_is_not_worse_than_minilm_vector_only_on_either_part():
    try:
        folder = recall_eval.model_dir()
    except SystemExit as missing:
        pytest.fail(str(missing))
    memories, queries = recall_eval.load_set()
    configs = recall_eval.rankings(folder)
    vector = recall_eval.run(*configs["minilm vector only"], memories, queries)
    hybrid = recall_eval.run(*configs["minilm hybrid, chosen fusion"], memories, queries)
    for part in ("tune", "heldout"):
        v = recall_eval.score(vector, queries, part)
        h = recall_eval.score(hybrid, queries, part)
        for metric in ("recall@1", "recall@5", "mrr"):
            assert h[metric] >= v[metric] - 1e-9, f"{part} {metric}: hybrid {h[metric]:.3f} < vector only {v[metric]:.3f}"
        # And the vector list is the strong one the fusion must keep: far above what hashing reaches.
        assert v["mrr"] > 0.8, f"{part}: minilm vector-only MRR {v['mrr']:.3f}"
