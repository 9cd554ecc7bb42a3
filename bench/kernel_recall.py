#!/usr/bin/env python3
"""bench/kernel_recall.py: does a memory kernel as working memory help recall? (issue 5, item 6)

The task: 8 topics, each a random direction in 64-d; 20 fact memories per topic (the topic's
direction plus noise). Each trial asks an ambiguous query, the normalised sum of one fact of topic
A (the answer) and one of topic B, right after the agent has stored 5 context memories (its
recent stream) about topic A ("answer"), about a third topic ("unrelated"), or about topic B
("distractor": the stream points the wrong way). Recall is asked for the single best fact (category "fact"; the
context memories are stored in another category). Without context the answer is a coin toss
between the two facts; a working memory that holds the recent stream can break the tie.

Arms, each over the same trials (fresh engine per trial, in memory, caller vectors):
  none       the engine as it ships (no working_kernel)
  ring-seed  a Ring kernel (buffer 8) with weights drawn from a seed, as an untrained kernel is
  ring-id    the same kernel with identity projections (query and output weights = I, biases 0),
             so its read is the attention-weighted mean of the recent stream
Printed: recall@1 per arm and the mean recall latency.

    STRATA_LIBRARY=$PWD/.build/release/libstrata.so python3 bench/kernel_recall.py [--trials 200] [--weight 0.5]

A measurement, not a test.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bindings" / "python"))
sys.path.insert(0, str(ROOT / "Tests" / "python"))

import strata  # noqa: E402
from reference_kernels import save_safetensors  # noqa: E402

D, TOPICS, FACTS, CONTEXT, BUFFER = 64, 8, 20, 5, 8


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def run(arm: dict | None, trials: int, seed: int, context_of: str) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    hits, seconds = 0, 0.0
    config = {"embedder": {"backend": "hashing", "options": {"dimension": D}}, "dedupe": {"enabled": False},
              "recall": {"track_access": False}}
    if arm is not None:
        config["working_kernel"] = arm
    for _ in range(trials):
        centres = unit(rng.standard_normal((TOPICS, D)))
        facts = unit(centres[:, None, :] + 0.9 * unit(rng.standard_normal((TOPICS, FACTS, D))) )
        a, b, c = rng.choice(TOPICS, 3, replace=False)
        fa, fb = rng.integers(FACTS), rng.integers(FACTS)
        topic = {"answer": a, "unrelated": c, "distractor": b}[context_of]
        context = unit(centres[topic] + 0.5 * unit(rng.standard_normal((CONTEXT, D))))
        query = unit(facts[a, fa] + facts[b, fb])
        with strata.Engine(config) as engine:
            order = rng.permutation(TOPICS * FACTS)
            flat = facts.reshape(-1, D)[order].astype(np.float32)
            ids = engine.store_vectors(flat, [{"category": "fact"} for _ in order])
            answer = ids[int(np.where(order == a * FACTS + fa)[0][0])]
            engine.store_vectors(context.astype(np.float32), [{"category": "context"} for _ in range(CONTEXT)])
            t0 = time.perf_counter()
            got = engine.recall_vector(query.astype(np.float32), k=1, category="fact")
            seconds += time.perf_counter() - t0
            hits += int(got[0].id == answer)
    return hits / trials, seconds / trials * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--weight", type=float, default=0.5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kernel-recall-"))
    identity = {"ring.query.weight": np.eye(D, dtype=np.float32), "ring.query.bias": np.zeros(D, np.float32),
                "ring.output.weight": np.eye(D, dtype=np.float32), "ring.output.bias": np.zeros(D, np.float32)}
    save_safetensors(folder / "ring-identity.safetensors", identity)
    ring = {"type": "ring", "buffer_size": BUFFER}
    arms = {
        "none": None,
        "ring-seed": {"weight": args.weight, "options": {**ring, "seed": 1}},
        "ring-id": {"weight": args.weight, "options": {**ring, "weights": str(folder / "ring-identity.safetensors")}},
    }
    rows = {}
    contexts = ["answer", "unrelated", "distractor"]
    for name, arm in arms.items():
        rows[name] = {}
        for context_of in contexts:
            recall, micros = run(arm, args.trials, seed=42, context_of=context_of)
            rows[name][context_of] = {"recall_at_1": recall, "recall_us": round(micros, 1)}
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"recall@1 by what the recent stream is about ({args.trials} trials each, weight {args.weight})")
    print(f"{'arm':<10} " + " ".join(f"{c:>11}" for c in contexts) + f" {'recall µs':>10}")
    for name, r in rows.items():
        print(f"{name:<10} " + " ".join(f"{r[c]['recall_at_1']:>11.3f}" for c in contexts) + f" {r['answer']['recall_us']:>10}")


if __name__ == "__main__":
    main()
