#!/usr/bin/env python3
"""`strata serve` with text and the default embedder (issue 17's benchmark, its text half): N short
memories stored as text through `POST /v1/memories` in batches of 1,000 and embedded by the
server (minilm, all-MiniLM-L6-v2, the embedder `strata init` picks when the model is installed),
then recalled by query text (`{"query", "k": 10}`) at 1, 16 and 64 connections with
bench/loadgen.c: memories/s, QPS, p50 / p99, the server's CPU per request, and at one connection
how much of each answer's latency the engine call took (`Server-Timing`, embedding the query
included). The memories come from bench/import_memories.py's generator (seed 15), the queries
from the same generator with another seed, so they are new sentences of the same kind.

Strata only: Chroma's server takes embeddings, not text (its Python client embeds with an ONNX
model it downloads at first use, which this machine cannot fetch), so there is no peer run here;
bench/server_peers.py compares the two servers on the same vectors.

    python3 bench/server_text.py [--n 100000] [--queries 1000] [--strata .build/release/strata-cli] [--inline-read-us N] [--json]

The store folder is kept in --work (default /tmp/server-text) with the memories' count in its
name, and reused by the next run with the same --n (the store step is then skipped).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


peers = _load("server_peers")
memories_module = _load("import_memories")


def sentences(count: int, seed: int) -> list[str]:
    """`count` distinct sentences as bench/import_memories.py writes them (its vocabulary and form)."""
    m, r, seen, out = memories_module, random.Random(seed), set(), []
    while len(out) < count:
        text = (f"{r.choice(m.NAMES)} {r.choice(m.VERBS)} {r.choice(m.OBJECTS)} {r.choice(m.TAILS)}, "
                f"{r.choice(m.EXTRA)}, ticket {r.randrange(100000)}.")
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def serve(cli: str, folder: Path, port: int, log: Path, inline_read_us: int | None) -> subprocess.Popen:
    extra = ["--inline-read-us", str(inline_read_us)] if inline_read_us is not None else []
    process = subprocess.Popen([cli, "serve", "--dir", str(folder), "--port", str(port), "--busy-poll-us", "100", *extra],
                               stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    for _ in range(600):
        try:
            peers.call(port, "GET", "/v1/health")
            if process.poll() is None:  # this server answered, not another one on the port
                return process
        except (OSError, RuntimeError):
            pass
        if process.poll() is not None:
            raise RuntimeError(f"strata serve exited ({process.returncode}); see {log}")
        time.sleep(0.1)
    raise RuntimeError("strata serve did not answer /v1/health")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--connections", type=lambda s: [int(x) for x in s.split(",")], default=[1, 16, 64])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--work", default="/tmp/server-text")
    parser.add_argument("--strata", default=os.environ.get("STRATA_CLI", str(REPO / ".build/release/strata-cli")))
    parser.add_argument("--port", type=int, default=7791)
    parser.add_argument("--inline-read-us", type=int,
                        help="strata serve --inline-read-us (default: the server's, 1000): a text recall takes longer "
                             "than that, so by default it runs on the engine queue's threads, not the event loop")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    folder = work / f"store-{args.n}"
    library = str(Path(args.strata).resolve().parent / "libstrata.so")
    peers.C_TOOLS = tools = peers.CTools(work, library)
    report = {"n": args.n, "queries": args.queries, "cpu": peers.cpu_name(), "cores": os.cpu_count(),
              "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "loadavg_at_start": os.getloadavg()}
    fresh = not (folder / "strata.json").exists()
    if fresh:
        out = subprocess.run([args.strata, "init", "--dir", str(folder), "--embedder", "minilm"], capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"strata init --embedder minilm failed: {out.stderr.strip()} (scripts/setup installs the model)")
        config = json.loads((folder / "strata.json").read_text())
        config.setdefault("recall", {})["track_access"] = False  # a read-only load: no write per recall
        (folder / "strata.json").write_text(json.dumps(config, indent=2) + "\n")
    report["inline_read_us"] = args.inline_read_us
    server = serve(args.strata, folder, args.port, work / "strata-serve.log", args.inline_read_us)
    try:
        if fresh:
            texts = sentences(args.n, 15)
            started, cpu = time.perf_counter(), peers.process_tree_ticks(server.pid)
            conn = peers.Connection(args.port)
            for at in range(0, len(texts), 1000):
                peers.call(args.port, "POST", "/v1/memories", {"items": [{"content": t} for t in texts[at:at + 1000]]}, conn=conn)
                if at // 1000 % 10 == 9:
                    peers.log(f"  stored {at + 1000}, {(at + 1000) / (time.perf_counter() - started):.0f}/s")
            seconds = time.perf_counter() - started
            report["store"] = {"memories": len(texts), "seconds": seconds, "per_second": len(texts) / seconds,
                               "server_cpu_us": (peers.process_tree_ticks(server.pid) - cpu) / peers.TICK / len(texts) * 1e6}
        stats = peers.call(args.port, "GET", "/v1/stats")
        report["stats"] = stats
        requests = [peers.http_request("POST", "/v1/recall", json.dumps({"query": q, "k": 10}).encode(), args.port)
                    for q in sentences(args.queries, 16)]
        tools.run(args.port, requests, "--pass", str(tools.folder / "text-answers.bin"))  # warm-up
        one = tools.run(args.port, requests, "--pass", str(tools.folder / "text-answers.bin"))
        report["one_connection"] = {"p50_ms": one["p50_ms"], "p99_ms": one["p99_ms"], "mean_ms": one["mean_ms"],
                                    "server_timing": one.get("server_timing")}
        peers.log(f"  1 connection, one pass: p50 {one['p50_ms']:.2f} ms, p99 {one['p99_ms']:.2f} ms, "
                  f"server timing {one.get('server_timing')}")
        server_ref = type("S", (), {"process": server, "port": args.port, "name": "strata serve (text)"})()
        report["runs"] = []
        for c in args.connections:
            run = peers.concurrent(server_ref, requests, c, args.seconds)
            report["runs"].append(run)
            peers.log(f"  {c} connections: {run['qps']:.0f} QPS, p50 {run['p50_ms']:.2f} ms, p99 {run['p99_ms']:.2f} ms, "
                      f"server {run['server_cpu_us']:.0f} us CPU per request")
    finally:
        server.terminate()
        server.wait(timeout=60)
    report["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if args.json:
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    sys.exit(main())
