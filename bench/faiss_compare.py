"""bench/faiss_compare.py: faiss-cpu IndexFlatIP on the same files as `strata bench search`.

    python3 bench/faiss_compare.py --base B.fvecs --queries Q.fvecs [-k 10] [--single 200] [--json]

Batch search of every query in one call (best of --runs after a warm-up) and one query at a
time, with GFLOP/s (2 n d per query) and GB/s (n d 4 bytes per query) computed as in
`strata bench search`, so the two can be read side by side. Needs `pip install faiss-cpu`.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def read_vectors(path: str) -> np.ndarray:
    if path.endswith(".npy"):
        return np.ascontiguousarray(np.load(path), dtype=np.float32)
    raw = np.fromfile(path, dtype=np.int32)
    dim = int(raw[0])
    return np.ascontiguousarray(raw.reshape(-1, dim + 1)[:, 1:].view(np.float32))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--queries", required=True)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--single", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import faiss

    base, queries = read_vectors(args.base), read_vectors(args.queries)
    n, d = base.shape
    q = queries.shape[0]
    index = faiss.IndexFlatIP(d)
    t0 = time.perf_counter()
    index.add(base)
    add_rate = n / (time.perf_counter() - t0)
    index.search(queries, args.k)  # warm-up
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        index.search(queries, args.k)
        times.append(time.perf_counter() - t0)
    batch_qps = q / min(times)
    single = min(args.single, q)
    singles = []
    for _ in range(2):
        t0 = time.perf_counter()
        for i in range(single):
            index.search(queries[i : i + 1], args.k)
        singles.append(time.perf_counter() - t0)
    single_qps = single / min(singles)
    result = {
        "faiss": faiss.__version__,
        "threads": faiss.omp_get_max_threads(),
        "n": n,
        "dimension": d,
        "add_vectors_per_s": round(add_rate, 1),
        "batch": {"qps": round(batch_qps, 1), "gflop_per_s": round(batch_qps * 2 * n * d / 1e9, 2)},
        "single": {"queries": single, "qps": round(single_qps, 1), "gb_per_s": round(single_qps * n * d * 4 / 1e9, 2)},
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"faiss {result['faiss']} IndexFlatIP ({result['threads']} threads): {n} x {d}, {q} queries, k {args.k}")
        print(f"add        {add_rate:9.0f} vectors/s")
        print(f"batch      {batch_qps:9.1f} QPS  {result['batch']['gflop_per_s']:.1f} GFLOP/s")
        print(f"single     {single_qps:9.1f} QPS ({single} queries)  {result['single']['gb_per_s']:.2f} GB/s")


if __name__ == "__main__":
    main()
