#!/usr/bin/env python3
"""The first seconds of a restarted `strata serve` on a SQLite store: the latency clients see
while the server still answers from the index image mapped at open and its rows load (issue 17's
p99 goal at 16 connections, measured from the first request instead of after a warm-up pass).

A SQLite store opens from the image its last writer saved beside it, mapped, and loads its rows
once the reads by id add up (plugins/sqlite/SQLiteRowLoad.swift). Each round restarts each
server on the same store, sends recalls by vector (bench/server_peers.py's seeded 384-d data,
its config: HNSW, ef 128, int8 walk, 10 candidates, base64 vectors) over --connections kept-alive
connections for --seconds at once (bench/loadgen.c), then reads whether the rows are loaded
(`GET /v1/stats`, the index report's "mapped"), then measures --seconds more on the warm server.

    python3 bench/server_restart.py [--n 100000] [--restarts 3] [--seconds 6] [--connections 16]
                                    [--variant "[cli=PATH] OPTIONS" ...] [--json]

A variant that starts with cli=PATH runs that build of strata-cli, which loads the plugins beside
it (see bench/README.md for a build before a change); "" is --strata with its defaults. The
store is made once in --work (through the first server's HTTP API, in batches of 1,000) and
reused while its count is the same.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import server_peers as peers  # noqa: E402  (the servers, the data, bench/loadgen.c)

INDEX = {"type": "hnsw", "ef_search": 128, "compression": "int8"}


def server_for(cli: str, folder: Path, options: list[str]):
    """A `StrataServer` of bench/server_peers.py on `folder`, polling 100 us as its usual run does."""
    return peers.StrataServer(cli, folder, "sqlite", INDEX, 10, serve_options=["--busy-poll-us", "100", *options])


def mapped(server) -> bool | None:
    """Whether the store still answers from its mapped image (`GET /v1/stats`, "index")."""
    index = peers.call(server.port, "GET", "/v1/stats").get("index")
    return index.get("mapped") if isinstance(index, dict) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    peers.add_data_options(parser)
    parser.add_argument("--work", default="/tmp/server-restart")
    parser.add_argument("--strata", default=os.environ.get("STRATA_CLI", str(REPO / ".build/release/strata-cli")))
    parser.add_argument("--restarts", type=int, default=3, help="rounds; each restarts every variant once")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of the first window, and of the warm one")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--variant", action="append", default=[],
                        help="more `strata serve` options for a server (\"\" is the defaults), or cli=PATH first for "
                             "another build of strata-cli; repeat it for more servers, restarted in turn each round")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    library = str(Path(args.strata).resolve().parent / "libstrata.so")
    peers.C_TOOLS = tools = peers.CTools(work, library)
    data = peers.ann_peers.ensure_data(peers.data_args(args))
    meta, base, queries, _ = peers.ann_peers.load_data(data)
    folder = work / f"store-{meta['n']}"
    report = {"n": meta["n"], "dim": meta["dim"], "connections": args.connections, "seconds": args.seconds,
              "cpu": peers.cpu_name(), "cores": os.cpu_count(), "index": INDEX, "rounds": [],
              "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if not (folder / "strata.db").exists():
        maker = server_for(args.strata, folder, [])
        maker.create(meta["dim"])
        maker.start()
        try:
            loaded = peers.load(maker, base, 1000)
            peers.log(f"stored {meta['n']} vectors at {loaded['per_second']:.0f}/s")
        finally:
            maker.stop()  # a clean stop saves the graph and the image beside the store
    variants = []
    for variant in args.variant or [""]:
        options = variant.split()
        cli = options.pop(0).removeprefix("cli=") if options and options[0].startswith("cli=") else args.strata
        variants.append((variant.strip() or "defaults", cli, options))
    for r in range(args.restarts):
        row = {}
        for name, cli, options in variants:
            server = server_for(cli, folder, options)
            server.start()
            try:
                requests = peers.prepared_queries(server, queries)
                first = tools.run(server.port, requests, "--connections", str(args.connections), "--seconds", str(args.seconds))
                still = mapped(server)
                warm = tools.run(server.port, requests, "--connections", str(args.connections), "--seconds", str(args.seconds))
            finally:
                server.stop()
            if first["errors"] or warm["errors"]:
                raise RuntimeError(f"{name}: {first.get('first_error') or warm.get('first_error')}")
            row[name] = {"first": {k: first[k] for k in ("requests", "qps", "p50_ms", "p99_ms", "p999_ms", "max_ms", "mean_ms")},
                         "warm": {k: warm[k] for k in ("requests", "qps", "p50_ms", "p99_ms", "p999_ms", "max_ms", "mean_ms")},
                         "mapped_after_first": still}
            peers.log(f"round {r + 1}, {name}: first {args.seconds:g} s {first['qps']:.0f} QPS, p50 {first['p50_ms']:.2f} ms, "
                      f"p99 {first['p99_ms']:.2f} ms, p99.9 {first['p999_ms']:.1f} ms, max {first['max_ms']:.1f} ms (still mapped after it: {still}); warm {warm['qps']:.0f} QPS, "
                      f"p50 {warm['p50_ms']:.2f} ms, p99 {warm['p99_ms']:.2f} ms, max {warm['max_ms']:.1f} ms")
        report["rounds"].append(row)
    report["medians"] = {name: {f"{part}_{m}": statistics.median(row[name][part][m] for row in report["rounds"])
                                for part in ("first", "warm") for m in ("qps", "p50_ms", "p99_ms", "p999_ms", "max_ms")}
                         for name, _, _ in variants}
    peers.log(f"medians of {args.restarts} rounds: {json.dumps(report['medians'])}")
    report["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if args.json:
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    sys.exit(main())
