#!/usr/bin/env python3
"""bench/persist_bench.py: the persistent stores side by side with Chroma (issue 3's benchmark).

On the same precomputed vectors (strata bench generate: normalised Gaussian, 384-d) and the same
metadata ({"group": i % 10}, so {"group": 3} keeps 10%), for each store in a fresh folder:

  ingest     batches of 1,000 (vectors, a short document, metadata), durable: Strata's SQLite
             store with synchronous=FULL (the WAL is synced at every commit), the file store with
             fsync "always"; Chroma's PersistentClient as it ships. Memories/s.
  open       opening the store again with everything in it (Strata loads its in-process index).
  recall     --queries queries one at a time, top 10, without and with the 10% filter: p50 and p99
             latency, QPS, and recall@10 against an exact numpy scan of the same data.
  scan GB/s  for Strata's unfiltered recall: n x d x 4 bytes / p50 latency, next to this
             machine's streaming-read bandwidth measured by `strata bench machine` in the same run.

Strata runs through its Python package (the C ABI), with ranking weights for recency, importance
and access set to 0 so the order is pure vector similarity and can be checked exactly.

    python3 bench/persist_bench.py --data .build/bench-data [--n 100000] [--queries 200] [--stores sqlite,file,chroma] [--json]

A measurement, not a test: it exits 0 whatever the figures (bench/run.sh runs it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

# numpy's own OpenBLAS threads spin for a while after each call and would take a core from the
# stores being measured; the exact ground truth is cheap enough on one thread. Set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
RELEASE = os.path.join(ROOT, ".build", "release")
os.environ.setdefault("STRATA_LIBRARY", os.path.join(RELEASE, "libstrata.so"))

import strata  # noqa: E402

BATCH = 1000
K = 10
GROUPS = 10
FILTER_GROUP = 3


def read_fvecs(path: str, limit: int | None = None) -> np.ndarray:
    raw = np.fromfile(path, dtype=np.int32)
    dim = int(raw[0])
    rows = raw.reshape(-1, dim + 1)[:, 1:]
    if limit is not None:
        rows = rows[:limit]
    return np.ascontiguousarray(rows.view(np.float32))


def exact_top_k(base: np.ndarray, queries: np.ndarray, keep: np.ndarray | None) -> list[list[int]]:
    scores = queries @ base.T
    if keep is not None:
        scores[:, ~keep] = -np.inf
    top = np.argsort(-scores, axis=1, kind="stable")[:, :K]
    return [list(map(int, row)) for row in top]


def recall_at_k(found: list[list[int]], truth: list[list[int]]) -> float:
    return float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth)]))


def latency_summary(seconds: list[float]) -> dict:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return {
        "p50_ms": round(statistics.median(ordered) * 1e3, 3),
        "p99_ms": round(p99 * 1e3, 3),
        "qps": round(len(ordered) / sum(ordered), 1),
    }


class StrataStore:
    """A Strata engine on one of its persistent store plugins, through the Python package."""

    def __init__(self, plugin: str, folder: str, dim: int):
        path = os.path.join(folder, "store.db" if plugin == "sqlite" else "store.log")
        options = {"path": path}
        self.config = {
            "store": {"backend": plugin, "plugin": plugin, "options": options},
            "embedder": {"backend": "hashing", "options": {"dimension": dim}},
            "dedupe": {"enabled": False},
            "recall": {"track_access": False, "weights": {"relevance": 1, "recency": 0, "importance": 0, "access": 0}},
        }
        self.name = f"strata-{plugin}"
        self.engine = strata.Engine(self.config)
        self.ids: dict[str, int] = {}

    def add(self, start: int, vectors: np.ndarray, groups: np.ndarray) -> None:
        items = [{"content": f"document {start + i}", "metadata": {"group": int(g), "row": start + i}} for i, g in enumerate(groups)]
        for i, memory_id in enumerate(self.engine.store_vectors(vectors, items)):
            self.ids[memory_id] = start + i

    def reopen(self) -> None:
        self.engine.close()
        self.engine = strata.Engine(self.config)

    def query(self, vector: np.ndarray, where: dict | None) -> list[int]:
        return [h.metadata["row"] for h in self.engine.recall_vector(vector, k=K, filter=where)]

    def close(self) -> None:
        self.engine.close()


class ChromaStore:
    """Chroma's PersistentClient, as it ships, on the same data."""

    def __init__(self, folder: str, dim: int):
        import chromadb

        self.name = f"chroma {chromadb.__version__}"
        self.folder = folder
        self.client = chromadb.PersistentClient(path=folder)
        # Unit vectors: inner product is cosine, the same order as Strata's.
        self.collection = self.client.create_collection("bench", metadata={"hnsw:space": "ip"})

    def add(self, start: int, vectors: np.ndarray, groups: np.ndarray) -> None:
        n = len(vectors)
        self.collection.add(
            ids=[str(start + i) for i in range(n)],
            embeddings=vectors,
            documents=[f"document {start + i}" for i in range(n)],
            metadatas=[{"group": int(g), "row": start + i} for i, g in enumerate(groups)],
        )

    def reopen(self) -> None:
        import chromadb

        del self.collection, self.client
        self.client = chromadb.PersistentClient(path=self.folder)
        self.collection = self.client.get_collection("bench")

    def query(self, vector: np.ndarray, where: dict | None) -> list[int]:
        kwargs = {"where": where} if where else {}
        answer = self.collection.query(query_embeddings=[vector], n_results=K, include=[], **kwargs)
        return [int(i) for i in answer["ids"][0]]

    def close(self) -> None:
        pass


def run_store(store, base, groups, queries, truth, truth_filtered) -> dict:
    n, dim = base.shape
    t0 = time.perf_counter()
    for start in range(0, n, BATCH):
        store.add(start, base[start : start + BATCH], groups[start : start + BATCH])
    ingest = time.perf_counter() - t0
    t0 = time.perf_counter()
    store.reopen()
    open_seconds = time.perf_counter() - t0
    result = {"store": store.name, "n": n, "ingest_per_s": round(n / ingest, 1), "ingest_s": round(ingest, 2),
              "open_s": round(open_seconds, 3)}
    for label, where, reference in (("recall", None, truth), ("recall_filtered", {"group": FILTER_GROUP}, truth_filtered)):
        store.query(queries[0], where)  # warm-up
        found, seconds = [], []
        for q in queries:
            t = time.perf_counter()
            found.append(store.query(q, where))
            seconds.append(time.perf_counter() - t)
        result[label] = {**latency_summary(seconds), "recall_at_10": round(recall_at_k(found, reference), 4)}
    if store.name.startswith("strata"):
        bytes_per_query = n * dim * 4
        result["scan_gb_per_s"] = round(bytes_per_query / (result["recall"]["p50_ms"] / 1e3) / 1e9, 2)
    store.close()
    return result


def machine_bounds() -> dict:
    cli = os.path.join(RELEASE, "strata-cli")
    out = subprocess.run([cli, "bench", "machine", "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description="Strata's persistent stores next to Chroma.")
    parser.add_argument("--data", default=os.path.join(ROOT, ".build", "bench-data"))
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--stores", default="sqlite,file,chroma")
    parser.add_argument("--work", default=os.path.join(ROOT, ".build", "bench-persist"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    base = read_fvecs(os.path.join(args.data, "base.fvecs"), args.n)
    queries = read_fvecs(os.path.join(args.data, "queries.fvecs"), args.queries)
    n, dim = base.shape
    groups = np.arange(n) % GROUPS
    truth = exact_top_k(base, queries, None)
    truth_filtered = exact_top_k(base, queries, groups == FILTER_GROUP)

    results = []
    for name in args.stores.split(","):
        folder = os.path.join(args.work, name)
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        if name == "chroma":
            try:
                store = ChromaStore(folder, dim)
            except ImportError:
                print("chromadb is not installed (pip install chromadb): skipped", file=sys.stderr)
                continue
        else:
            store = StrataStore(name, folder, dim)
        if not args.json:
            print(f"== {store.name}: {n} x {dim}, batches of {BATCH}", flush=True)
        result = run_store(store, base, groups, queries, truth, truth_filtered)
        results.append(result)
        if not args.json:
            r, f = result["recall"], result["recall_filtered"]
            print(f"ingest {result['ingest_per_s']:>10.0f} memories/s   open {result['open_s']:.2f} s")
            print(f"recall          p50 {r['p50_ms']:8.3f} ms  p99 {r['p99_ms']:8.3f} ms  {r['qps']:8.1f} QPS  recall@10 {r['recall_at_10']:.4f}")
            print(f"recall 10% filt p50 {f['p50_ms']:8.3f} ms  p99 {f['p99_ms']:8.3f} ms  {f['qps']:8.1f} QPS  recall@10 {f['recall_at_10']:.4f}")
            if "scan_gb_per_s" in result:
                print(f"exact scan      {result['scan_gb_per_s']:.2f} GB/s (unfiltered p50)")
        shutil.rmtree(folder, ignore_errors=True)

    bounds = machine_bounds()
    chroma = next((r for r in results if r["store"].startswith("chroma")), None)
    ratios = {}
    if chroma:
        for r in results:
            if r is chroma:
                continue
            ratios[r["store"]] = {
                "ingest_vs_chroma": round(r["ingest_per_s"] / chroma["ingest_per_s"], 2),
                "recall_qps_vs_chroma": round(r["recall"]["qps"] / chroma["recall"]["qps"], 2),
                "filtered_qps_vs_chroma": round(r["recall_filtered"]["qps"] / chroma["recall_filtered"]["qps"], 2),
            }
    if args.json:
        print(json.dumps({"machine": bounds, "results": results, "ratios": ratios}, indent=2))
        return
    print(f"== machine: {bounds['cpu']}, {bounds['cores']} cores, streaming read {bounds['stream_read_gb_per_s']:.2f} GB/s")
    for store, r in ratios.items():
        print(f"{store}: ingest {r['ingest_vs_chroma']}x Chroma, recall {r['recall_qps_vs_chroma']}x, "
              f"filtered recall {r['filtered_qps_vs_chroma']}x")


if __name__ == "__main__":
    main()
