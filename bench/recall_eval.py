#!/usr/bin/env python3
"""Recall quality on bench/recall_set: recall@1, recall@5 and MRR per ranking, per part of the set.

Stores the 174 memories of bench/recall_set/memories.jsonl through the real engine (the Python
package over libstrata.so; minilm through libstrata-minilm.so, found beside libstrata.so), asks
the queries of queries.jsonl (with their filter and scope) and scores the hits against each
query's relevant ids, on the tuning part and the held-out part apart (the `split` field).

Rankings (the same engine, only the configuration differs):

  hashing hybrid, rrf     the embedded default today: hashing embedder, BM25, reciprocal rank
  minilm vector only      minilm, the vector list alone (fusion scores with keyword weight 0)
  BM25 only               the keyword list alone (fusion scores with keyword weight 1)
  minilm hybrid, rrf      minilm with reciprocal-rank fusion (k = recall.rrf_k, 10)
  minilm hybrid, chosen   minilm with the configuration's default fusion for it (recall.fusion)

    STRATA_LIBRARY=$PWD/.build/debug/libstrata.so PYTHONPATH=bindings/python \\
        python3 bench/recall_eval.py [--json] [--runs 3] [--model-dir DIR] [--tune]

--tune prints how the defaults of recall.fusion were chosen: MRR on the tuning part only (the
held-out part is never read) for minilm with reciprocal rank at several rrf_k and with score
fusion over a grid of keyword_weight x keyword_saturation, each a fresh engine.

Metrics, per query then averaged over the queries of a part: recall@k is the share of the
query's relevant memories among the first k hits; MRR is 1 / the rank of the first relevant hit
within the first 10 (0 when none). Recall never bumps access counts here (`track_access` false)
and every memory is stored at the same time, so recency, importance and access are equal for all
and the order is the fusion's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SET = HERE / "recall_set"
DEFAULT_MODEL_DIR = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local/share")) / "strata/models/all-MiniLM-L6-v2"
INSTALL = "scripts/install-model (or scripts/setup) from the repository"
K = 10


def load_set() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    memories = [json.loads(line) for line in (SET / "memories.jsonl").read_text().splitlines() if line.strip()]
    queries = [json.loads(line) for line in (SET / "queries.jsonl").read_text().splitlines() if line.strip()]
    return memories, queries


def model_dir(explicit: str | None = None) -> Path:
    """The minilm model folder; a missing model is an error naming the folder and the install command."""
    folder = Path(explicit or os.environ.get("STRATA_MINILM_DIR") or DEFAULT_MODEL_DIR)
    missing = [f for f in ("model.safetensors", "vocab.txt", "config.json") if not (folder / f).is_file()]
    if missing:
        raise SystemExit(f"the all-MiniLM-L6-v2 model is not in {folder} (missing {', '.join(missing)}); install it with {INSTALL}")
    return folder


def rankings(folder: Path) -> dict[str, tuple[dict[str, Any], str | None]]:
    """Each ranking's configuration, and which list's hits count (None: every hit)."""
    minilm = {"backend": "minilm", "plugin": "minilm", "options": {"model_dir": str(folder)}}
    only = lambda w: {"minilm": {"method": "scores", "keyword_weight": w, "keyword_saturation": 5}}  # noqa: E731
    return {
        "hashing hybrid, rrf (today's default)": ({"embedder": {"backend": "hashing"}}, None),
        "minilm vector only": ({"embedder": minilm, "recall": {"fusion": only(0.0)}}, "vector"),
        "BM25 only": ({"embedder": minilm, "recall": {"fusion": only(1.0)}}, "keyword"),
        "minilm hybrid, rrf (today's fusion)": ({"embedder": minilm, "recall": {"fusion": {"minilm": {"method": "rrf"}}}}, None),
        "minilm hybrid, chosen fusion": ({"embedder": minilm}, None),
    }


def run(config: dict[str, Any], only: str | None, memories: list[dict[str, Any]], queries: list[dict[str, Any]]) -> list[list[str]]:
    """The ranked memory ids (the set's ids) the engine answers for each query."""
    import strata

    config = json.loads(json.dumps(config))
    config.setdefault("recall", {}).update({"track_access": False, "k": K})
    config["dedupe"] = {"enabled": False}  # every memory of the set is its own fact
    with strata.Engine(config) as engine:
        items = [{k: m[k] for k in ("content", "metadata", "scope") if k in m} for m in memories]
        ids = engine.store_many(items)
        ours = dict(zip(ids, (m["id"] for m in memories)))
        answers = []
        for q in queries:
            hits = engine.recall(q["query"], k=K, filter=q.get("filter"), scope=q.get("scope"))
            answers.append([ours[h.id] for h in hits if only is None or h.scores[only] is not None])
    return answers


def score(answers: list[list[str]], queries: list[dict[str, Any]], split: str | None) -> dict[str, float]:
    chosen = [(a, q) for a, q in zip(answers, queries) if split is None or q["split"] == split]
    r1 = r5 = mrr = 0.0
    for ranked, q in chosen:
        relevant = set(q["relevant"])
        r1 += len(relevant & set(ranked[:1])) / len(relevant)
        r5 += len(relevant & set(ranked[:5])) / len(relevant)
        mrr += next((1 / (i + 1) for i, m in enumerate(ranked[:K]) if m in relevant), 0.0)
    n = len(chosen)
    return {"queries": n, "recall@1": r1 / n, "recall@5": r5 / n, "mrr": mrr / n}


def evaluate(folder: Path, runs: int = 1) -> dict[str, dict[str, dict[str, Any]]]:
    """{ranking: {"tune" | "heldout" | "all": metrics}}, each metric the mean over `runs` fresh
    engines, with its "min" and "max". Rank fusion gives exact ties, which the engine breaks by
    memory id, and ids are new in every run, so those rankings move a little between runs."""
    memories, queries = load_set()
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name, (config, only) in rankings(folder).items():
        per_run = [run(config, only, memories, queries) for _ in range(runs)]
        out[name] = {}
        for part in ("tune", "heldout", "all"):
            scores = [score(answers, queries, None if part == "all" else part) for answers in per_run]
            merged: dict[str, Any] = {"queries": scores[0]["queries"]}
            for metric in ("recall@1", "recall@5", "mrr"):
                values = [s[metric] for s in scores]
                merged[metric] = sum(values) / len(values)
                merged[metric + " min"], merged[metric + " max"] = min(values), max(values)
            out[name][part] = merged
    return out


def cell(m: dict[str, Any], metric: str) -> str:
    low, high = m[metric + " min"], m[metric + " max"]
    return f"{m[metric]:.3f}" if f"{low:.3f}" == f"{high:.3f}" else f"{m[metric]:.3f} ({low:.3f}–{high:.3f})"


TUNE_WEIGHTS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3)
TUNE_SATURATIONS = (1, 2, 3, 5, 8, 10, 20)


def tune(folder: Path) -> None:
    """The grid the defaults come from, on the tuning part alone."""
    memories, queries = load_set()
    queries = [q for q in queries if q["split"] == "tune"]
    minilm = {"backend": "minilm", "plugin": "minilm", "options": {"model_dir": str(folder)}}

    def mrr(recall: dict[str, Any], only: str | None = None) -> float:
        return score(run({"embedder": minilm, "recall": recall}, only, memories, queries), queries, None)["mrr"]

    print(f"tuning part only: {len(queries)} queries; MRR")
    print(f"minilm vector only: {mrr({'fusion': {'minilm': {'method': 'scores', 'keyword_weight': 0, 'keyword_saturation': 5}}}, 'vector'):.3f}")
    for k in (5, 10, 20, 60):
        print(f"minilm rrf, rrf_k {k}: {mrr({'rrf_k': k, 'fusion': {'minilm': {'method': 'rrf'}}}):.3f}")
    print("minilm scores: keyword_weight (rows) x keyword_saturation (columns)")
    print("| | " + " | ".join(str(c) for c in TUNE_SATURATIONS) + " |")
    print("|---" * (len(TUNE_SATURATIONS) + 1) + "|")
    for w in TUNE_WEIGHTS:
        row = [mrr({"fusion": {"minilm": {"method": "scores", "keyword_weight": w, "keyword_saturation": c}}}) for c in TUNE_SATURATIONS]
        print(f"| {w} | " + " | ".join(f"{x:.3f}" for x in row) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="one JSON document instead of the table")
    parser.add_argument("--model-dir", help=f"the minilm model folder (default $STRATA_MINILM_DIR or {DEFAULT_MODEL_DIR})")
    parser.add_argument("--runs", type=int, default=3, help="fresh engines per ranking, averaged (default 3)")
    parser.add_argument("--tune", action="store_true", help="the grid on the tuning part the defaults were chosen from")
    args = parser.parse_args()
    if args.tune:
        tune(model_dir(args.model_dir))
        return
    results = evaluate(model_dir(args.model_dir), args.runs)
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()
        return
    memories, queries = load_set()
    parts = {p: sum(q["split"] == p for q in queries) for p in ("tune", "heldout")}
    print(f"{len(memories)} memories, {len(queries)} queries: tuning part {parts['tune']}, held-out part {parts['heldout']}; "
          f"mean of {args.runs} runs (min–max where runs differ)")
    print("| ranking | tune R@1 | tune R@5 | tune MRR | held-out R@1 | held-out R@5 | held-out MRR |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        t, h = r["tune"], r["heldout"]
        print(f"| {name} | " + " | ".join(cell(m, metric) for m in (t, h) for metric in ("recall@1", "recall@5", "mrr")) + " |")


if __name__ == "__main__":
    main()
