"""SQLite store: ingest and reopen of N x 384 vectors, to weigh the per-row checksum (issue 13).
Usage: STRATA_LIBRARY=.build/release/libstrata.so python3 bench/sqlite_checksum_bench.py bindings/python 100000"""
import os, sys, tempfile, time
sys.path.insert(0, sys.argv[1])
import numpy as np
import strata
n = int(sys.argv[2])
rng = np.random.default_rng(7)
vectors = rng.standard_normal((n, 384), dtype=np.float32)
d = tempfile.mkdtemp()
config = {"store": {"backend": "sqlite", "plugin": "sqlite", "options": {"path": f"{d}/s.db"}},
          "embedder": {"backend": "hashing", "options": {"dimension": 384}}, "dedupe": {"enabled": False}}
t = time.perf_counter()
with strata.Engine(config) as e:
    for i in range(0, n, 1000):
        e.store_vectors(vectors[i:i + 1000], [{"content": f"memory {j}"} for j in range(i, i + 1000)])
ingest = time.perf_counter() - t
opens = []
for _ in range(3):
    t = time.perf_counter()
    with strata.Engine(config) as e:
        e.recall_vector(vectors[0], k=1)
    opens.append(time.perf_counter() - t)
print(f"n={n} ingest {n / ingest:,.0f} memories/s ({ingest:.2f} s), open+first recall {min(opens):.2f}-{max(opens):.2f} s")
