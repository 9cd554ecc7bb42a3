"""bench/python_bench.py: engine throughput through the Python package (bindings/python).

The Python face of bench/engine_bench.c and `strata bench engine`: the same configuration,
sizes, batch size and query count.

    STRATA_LIBRARY=.build/release/libstrata.so PYTHONPATH=bindings/python \\
        python3 bench/python_bench.py [--n 10000,100000] [--text-n 10000] [--seconds 2] [--json]

A measurement, not a test.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import strata

CONFIG = {
    "embedder": {"backend": "hashing", "options": {"dimension": 384}},
    "dedupe": {"enabled": False},
    "recall": {"track_access": False},
}
DIM, BATCH, QUERIES = 384, 1000, 100
STORE_PASSES = 3  # store figures: best of 3 fresh engines, as in the Swift and C faces
RATE_WINDOWS = 3  # recall figures: best of 3 windows, as in the Swift and C faces


def unit_vectors(rng: np.random.Generator, rows: int) -> np.ndarray:
    v = rng.standard_normal((rows, DIM), dtype=np.float32)
    return np.ascontiguousarray(v / np.linalg.norm(v, axis=1, keepdims=True), dtype=np.float32)


def content(i: int) -> str:
    return f"note {i} about topic {i % 97} with word{i % 1013} and word{(i * 7) % 2003} at site {i % 31}"


def rate(body, seconds: float, minimum: int = 10) -> float:
    """Calls body(i) in RATE_WINDOWS windows, each until seconds / RATE_WINDOWS passed and at
    least minimum / RATE_WINDOWS calls; returns the best window's calls/s."""
    calls, best = 0, 0.0
    for _ in range(RATE_WINDOWS):
        t0 = time.perf_counter()
        window = 0
        while True:
            body(calls)
            calls += 1
            window += 1
            elapsed = time.perf_counter() - t0
            if elapsed >= seconds / RATE_WINDOWS and window >= max(1, minimum // RATE_WINDOWS):
                break
        best = max(best, window / elapsed)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="10000,100000", help="comma-separated store sizes")
    parser.add_argument("--text-n", type=int, default=10000, help="memories for text store/recall (0: skip)")
    parser.add_argument("--seconds", type=float, default=2.0, help="minimum seconds per recall measurement")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    sizes = [int(s) for s in args.n.split(",") if s]

    rows: list[dict] = []

    def report(name: str, n: int, value: float, unit: str) -> None:
        rows.append({"measurement": name, "n": n, "value": round(value, 2), "unit": unit})
        if not args.json:
            print(f"{name:<28} {n:>9}  {value:12.1f} {unit}", flush=True)

    if not args.json:
        print(f"python_bench (strata {strata.version()}, numpy {np.__version__})")
        print(f"{'measurement':<28} {'n':>9}  {'rate':>12}")
    rng = np.random.default_rng(42)
    queries = unit_vectors(rng, QUERIES)
    query_rows = [queries[i] for i in range(QUERIES)]

    # The cost of one call: a trivial export, then a recall on a 1-memory engine.
    calls = 1_000_000
    t0 = time.perf_counter()
    for _ in range(calls):
        strata.abi_version()
    report("strata_abi_version (ns)", 0, (time.perf_counter() - t0) / calls * 1e9, "ns/call")
    with strata.Engine(CONFIG) as engine:
        engine.store_vectors(queries[:1])
        r = rate(lambda i: engine.recall_vector(query_rows[i % QUERIES], k=10), args.seconds / 2, 1000)
        report("recall_vector 1 row (ns)", 1, 1e9 / r, "ns/call")

    def best_store(fill) -> tuple[float, "strata.Engine"]:
        """Best time of STORE_PASSES passes, each into a fresh engine; returns it with the last engine."""
        best, engine = float("inf"), None
        for _ in range(STORE_PASSES):
            if engine is not None:
                engine.close()
            engine = strata.Engine(CONFIG)
            t0 = time.perf_counter()
            fill(engine)
            best = min(best, time.perf_counter() - t0)
        return best, engine

    for n in sizes:
        data = unit_vectors(rng, n)

        def fill_vectors(engine):
            for at in range(0, n, BATCH):
                engine.store_vectors(data[at : at + BATCH])

        seconds, engine = best_store(fill_vectors)
        with engine:
            report("store_vectors", n, n / seconds, "memories/s")
            engine.recall_vector(query_rows[0], k=10)
            r = rate(lambda i: engine.recall_vector(query_rows[i % QUERIES], k=10), args.seconds)
            report("recall_vector", n, r, "QPS")

    if args.text_n > 0:

        def fill_text(engine):
            for at in range(0, args.text_n, BATCH):
                engine.store_many([content(i) for i in range(at, min(args.text_n, at + BATCH))])

        seconds, engine = best_store(fill_text)
        with engine:
            report("store text", args.text_n, args.text_n / seconds, "memories/s")
            r = rate(lambda i: engine.recall(f"topic {i % 97} word{i % 1013}", k=10), args.seconds)
            report("recall text", args.text_n, r, "QPS")

    if args.json:
        print(json.dumps({"face": "python", "library": strata.version(), "results": rows}, indent=2))


if __name__ == "__main__":
    main()
