#!/usr/bin/env python3
"""bench/metabolize_bench.py: one `metabolize` cycle on a SQLite store, 10k to 100k memories
(issue 4's benchmark): time, peak memory, and how both grow with the store.

For each size, in a fresh process and a fresh SQLite file, with the `tiered` preset (seed 004:
four tiers, six categories, relevance, redundancy at cosine 0.85, patterns on type and action,
`success` and `profit` as outcome fields):

  fill       n memories through store_vectors: 256-d unit vectors drawn around n / 8 centres (so
             some are near-duplicates), a short text, metadata {type, action, success, profit},
             categories trades / market_observations / failures / opportunities, and times
             spread evenly over the 45 days before "now" (so every tier rule has work).
  cycle      engine.metabolize(now=...) once: wall time (the report's duration_ms and the call
             measured around it), the counts it reports, and the process's resident memory
             before the cycle and at its peak (ru_maxrss) after it.
  again      a second cycle at the same time, which finds (almost) nothing to do: the fixed cost
             of reading every memory and planning.

    python3 bench/metabolize_bench.py [--sizes 10000,25000,50000,100000] [--json]

A measurement, not a test: it exits 0 whatever the figures (bench/run.sh runs it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bindings" / "python"))

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
DIM = 256


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def tiered_config(path: Path) -> dict:
    """The `tiered` preset as `strata init` writes it, on a SQLite file at `path`."""
    subprocess.run([str(cli()), "init", "--preset", "tiered", "--dir", str(path.parent / "cfg")], capture_output=True, check=True)
    config = json.loads((path.parent / "cfg" / "strata.json").read_text())
    config["store"] = {"backend": "sqlite", "plugin": "sqlite", "options": {"path": str(path)}}
    config["dedupe"] = {"enabled": False}  # the fill brings its own near-duplicates on purpose
    return config


def cli() -> Path:
    for build in ("release", "debug"):
        p = ROOT / ".build" / build / "strata-cli"
        if p.exists():
            return p
    raise SystemExit("build first: swift build -c release")


def one_size(n: int) -> dict:
    """Runs in its own process, so ru_maxrss is this size's peak alone."""
    import numpy as np

    import strata

    rng = np.random.default_rng(7)
    folder = Path(tempfile.mkdtemp(prefix="metabolize-bench-"))
    config = tiered_config(folder / "store.db")
    categories = ["trades", "market_observations", "failures", "opportunities"]
    actions = ["swap", "bridge", "stake", "lend", "borrow"]
    centres = rng.standard_normal((max(1, n // 8), DIM)).astype(np.float32)
    with strata.Engine(config) as engine:
        started = time.perf_counter()
        batch = 2000
        for lo in range(0, n, batch):
            hi = min(n, lo + batch)
            idx = np.arange(lo, hi)
            pick = rng.integers(0, len(centres), hi - lo)
            vectors = centres[pick] + 0.15 * rng.standard_normal((hi - lo, DIM)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            items = []
            for j, i in enumerate(idx):
                action = actions[int(pick[j]) % len(actions)]
                profit = float(np.round(rng.normal(1.0, 0.3), 3))
                items.append({
                    "content": f"{action} {i} on pool {int(pick[j]) % 97}: profit {profit}",
                    "metadata": {"type": "trade", "action": action, "success": profit > 0.8, "profit": profit},
                    "category": categories[int(i) % len(categories)],
                    "at": (NOW - timedelta(days=45) * (1 - (int(i) + 0.5) / n)).isoformat(),
                })
            engine.store_vectors(vectors, items)
        fill_s = time.perf_counter() - started
        rss_before = current_rss_mb()
        t0 = time.perf_counter()
        report = engine.metabolize(now=NOW, moves=False)
        cycle_s = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t1 = time.perf_counter()
        again = engine.metabolize(now=NOW, moves=False)
        again_s = time.perf_counter() - t1
    return {
        "n": n, "fill_s": round(fill_s, 2), "cycle_s": round(cycle_s, 3), "engine_ms": round(report["duration_ms"], 1),
        "again_s": round(again_s, 3), "again_changes": again["before"] - again["after"] + again["patterns"],
        "rss_before_mb": round(rss_before, 1), "peak_rss_mb": round(peak, 1),
        "before": report["before"], "after": report["after"], "migrated": report["migrated"],
        "pruned": report["pruned"], "patterns": report["patterns"], "compressed": report["compressed"],
        "errors": len(report["errors"]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,25000,50000,100000")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one_size(args.one)))
        return
    rows = []
    for n in [int(x) for x in args.sizes.split(",")]:
        out = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            raise SystemExit(f"size {n} failed")
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    first = rows[0]
    print(f"{'n':>8} {'fill s':>8} {'cycle s':>8} {'x time':>7} {'again s':>8} {'RSS MB':>8} {'peak MB':>8} {'x peak':>7}  what the cycle did")
    for r in rows:
        grow_t = r["cycle_s"] / first["cycle_s"]
        grow_m = r["peak_rss_mb"] / first["peak_rss_mb"]
        did = (f"{r['before']}->{r['after']}; migrated {sum(r['migrated'].values())}; pruned {r['pruned']}; "
               f"patterns {r['patterns']}; compressed {r['compressed']}; errors {r['errors']}")
        print(f"{r['n']:>8} {r['fill_s']:>8} {r['cycle_s']:>8} {grow_t:>7.2f} {r['again_s']:>8} {r['rss_before_mb']:>8} "
              f"{r['peak_rss_mb']:>8} {grow_m:>7.2f}  {did}")


if __name__ == "__main__":
    main()
