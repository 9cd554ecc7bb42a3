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

    python3 bench/server_text.py [--n 100000] [--queries 1000] [--strata .build/release/strata-cli]
                                 [--variant "[cli=PATH] OPTIONS" ...] [--overhead-rounds 5] [--json]

The server's overhead over the in-process call is measured in --overhead-rounds rounds at one
connection, through each server and through the engine floor (bench/http_floor.c --engine
--text, a C server whose only work is the call): the client (bench/loadgen.c --paired) makes
each query's strata_engine_recall in its own process too, next to its HTTP request, and each
query's difference is kept; and each answer's latency minus its call (`Server-Timing`).

The store folder is kept in --work (default /tmp/server-text) with the memories' count in its
name, and reused by the next run with the same --n (the store step is then skipped).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import re
import statistics
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
stamps_module = _load("phase_stamps")


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


def serve(cli: str, folder: Path, port: int, log: Path, extra: list[str], env: dict | None = None) -> subprocess.Popen:
    process = subprocess.Popen([cli, "serve", "--dir", str(folder), "--port", str(port), "--busy-poll-us", "100", *extra],
                               stdout=open(log, "ab"), stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
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


def overhead_rounds(tools, servers: list[dict], folder: Path, requests: list[bytes], count: int, library: str,
                    phases: Path | None = None) -> list[dict]:
    """The server's overhead over the in-process call for a recall by text, in `count` rounds
    (as bench/server_peers.py measures it for vectors, but paired query by query): in each
    round one pass over one connection against each server and against the engine floor
    (bench/http_floor.c --engine --text: a C server whose only work is the same
    strata_engine_recall call on the request's body, polling 100 us as the servers do), the
    client sleeping in recv. The client (loadgen --paired) makes each query's recall in its
    own process too, right before or after sending it, and keeps each query's difference: a
    text recall's time moves by a tenth between passes here, far more than the server adds.
    Each measure is a p50 in microseconds; from `Server-Timing`, each answer's latency minus
    the call timed in its server's own process too.

    With `phases` (a folder), the client and the floor also stamp each request's steps there
    (`--stamps`): `client-<server>-<round>.bin` and `floor.bin`, for `phase_report`."""
    answer = peers.c_records((tools.folder / "text-answers.bin").read_bytes(), 3)[0][1]
    config = str(folder / "strata.json")
    floor, floor_port = tools.start_floor(answer, busy_poll_us=100, text=(library, config),
                                          stamps=phases / "floor.bin" if phases else None)
    targets = [(s["name"], s["port"]) for s in servers] + [("engine_floor", floor_port)]
    out = []
    try:
        tools.run(targets[-1][1], requests, "--pass", str(tools.folder / "floor-answers.bin"))  # warm-up
        for i in range(count):
            row = {}
            for name, port in targets:
                stamps = ["--stamps", str(phases / f"client-{file_name(name)}-{i + 1}.bin")] if phases else []
                one = tools.run(port, requests, "--pass", str(tools.folder / "paired-answers.bin"), "--paired", library, config,
                                *stamps)
                timing, paired = one.get("server_timing") or {}, one["paired"]
                row[name] = {"http_p50_us": one["p50_ms"] * 1e3, "in_process_p50_us": paired["in_process_p50_ms"] * 1e3,
                             "overhead_p50_us": paired["overhead_p50_ms"] * 1e3,
                             "overhead_mean_us": paired["overhead_mean_ms"] * 1e3,
                             "after_pause_overhead_p50_us": paired["after_pause_overhead_p50_ms"] * 1e3,
                             "back_to_back_overhead_p50_us": paired["back_to_back_overhead_p50_ms"] * 1e3,
                             "engine_p50_us": timing.get("engine_p50_ms", float("nan")) * 1e3,
                             "minus_engine_p50_us": timing.get("minus_engine_p50_ms", float("nan")) * 1e3}
            peers.log(f"  overhead round {i + 1}: " + "; ".join(
                f"{name} {v['http_p50_us']:.0f} us, in process {v['in_process_p50_us']:.0f}: overhead {v['overhead_p50_us']:.0f} us "
                f"(paired; {v['after_pause_overhead_p50_us']:.0f} after a pause, {v['back_to_back_overhead_p50_us']:.0f} back to "
                f"back), {v['minus_engine_p50_us']:.0f} (minus its call)" for name, v in row.items()))
            out.append(row)
    finally:
        tools.stop_floor(floor, len(requests) * (count + 1))
    return out


def file_name(name: str) -> str:
    """A server's name (its variant's options) as part of a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "server"


def phase_report(phases: Path, servers: list[dict], count: int) -> dict:
    """Each round's steps (bench/phase_stamps.py), per server and for the floor, from the stamps
    `overhead_rounds` and the servers (stopped, their files closed) wrote to `phases`."""
    floor = stamps_module.rows(phases / "floor.bin", stamps_module.FLOOR_SLOTS)
    out = {}
    for name in [s["name"] for s in servers] + ["engine_floor"]:
        rounds = []
        for i in range(count):
            client = stamps_module.rows(phases / f"client-{file_name(name)}-{i + 1}.bin", 2)
            if name == "engine_floor":
                rounds.append(stamps_module.floor_steps(client, floor))
            else:
                server = phases / f"strata-{file_name(name)}.bin"
                rounds.append(stamps_module.strata_steps(client, stamps_module.rows(server, stamps_module.STRATA_SLOTS)))
            peers.log(f"  steps, {name}, round {i + 1}: {json.dumps(rounds[-1])}")
        out[name] = rounds
    return out


def medians(rounds: list[dict]) -> dict:
    """Per server (and the floor), the median over the rounds of each measure."""
    out = {}
    for name in rounds[0]:
        out[name] = {m: statistics.median(r[name][m] for r in rounds) for m in rounds[0][name]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--connections", type=lambda s: [int(x) for x in s.split(",") if x], default=[1, 16, 64])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--work", default="/tmp/server-text")
    parser.add_argument("--strata", default=os.environ.get("STRATA_CLI", str(REPO / ".build/release/strata-cli")))
    parser.add_argument("--port", type=int, default=7791)
    parser.add_argument("--variant", action="append", default=[],
                        help="more `strata serve` options for a server, such as \"--inline-alone-read-us 0\"; repeat it "
                             "for more servers (\"\" is the defaults). One server per variant on the same store, each "
                             "measured in the same rounds, in turn (default: one server with the defaults). A variant that "
                             "starts with cli=PATH runs that build of strata-cli (the others run --strata), which finds its "
                             "plugins beside it: a build before a change against the one after it")
    parser.add_argument("--overhead-rounds", type=int, default=5,
                        help="interleaved rounds of the overhead at one connection (0: none)")
    parser.add_argument("--phases", action="store_true",
                        help="stamp each overhead round's requests step by step (bench/phase_stamps.py): --strata (and every "
                             "cli=) must then be a build with -DSTRATA_PHASE_STAMPS (bench/README.md, \"Where a text "
                             "recall's overhead goes\")")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    folder = work / f"store-{args.n}"
    phases = work / "phases" if args.phases else None
    if phases:
        phases.mkdir(exist_ok=True)
        for old in phases.glob("*.bin"):
            old.unlink()
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
    servers = []
    try:
        for i, variant in enumerate(args.variant or [""]):
            port = args.port + i
            options = variant.split()
            # "cli=PATH ...": this server is another build of strata-cli (a before-and-after run).
            cli = options.pop(0).removeprefix("cli=") if options and options[0].startswith("cli=") else args.strata
            name = variant.strip() or "defaults"
            env = {"STRATA_PHASE_STAMPS": str(phases / f"strata-{file_name(name)}.bin")} if phases else None
            servers.append({"name": name, "options": options, "port": port,
                            "process": serve(cli, folder, port, work / "strata-serve.log", options, env)})
        first = servers[0]
        if fresh:
            texts = sentences(args.n, 15)
            started, cpu = time.perf_counter(), peers.process_tree_ticks(first["process"].pid)
            conn = peers.Connection(first["port"])
            for at in range(0, len(texts), 1000):
                peers.call(first["port"], "POST", "/v1/memories", {"items": [{"content": t} for t in texts[at:at + 1000]]}, conn=conn)
                if at // 1000 % 10 == 9:
                    peers.log(f"  stored {at + 1000}, {(at + 1000) / (time.perf_counter() - started):.0f}/s")
            seconds = time.perf_counter() - started
            # Closed now: an idle connection left open shares an event loop with some of the
            # measured ones, and a recall whose connection is not alone on its loop is handed off
            # to the engine's threads instead of running inline (session 23's first text run).
            conn.close()
            report["store"] = {"memories": len(texts), "seconds": seconds, "per_second": len(texts) / seconds,
                               "server_cpu_us": (peers.process_tree_ticks(first["process"].pid) - cpu) / peers.TICK / len(texts) * 1e6}
        report["stats"] = peers.call(first["port"], "GET", "/v1/stats")
        bodies = [json.dumps({"query": q, "k": 10}).encode() for q in sentences(args.queries, 16)]
        report["servers"] = {}
        for server in servers:  # each server's requests, built once (Host names its port)
            server["requests"] = requests = [peers.http_request("POST", "/v1/recall", b, server["port"]) for b in bodies]
            tools.run(server["port"], requests, "--pass", str(tools.folder / "text-answers.bin"))  # warm-up
            one = tools.run(server["port"], requests, "--pass", str(tools.folder / "text-answers.bin"))
            report["servers"][server["name"]] = {"options": server["options"], "one_connection": {
                "p50_ms": one["p50_ms"], "p99_ms": one["p99_ms"], "mean_ms": one["mean_ms"], "server_timing": one.get("server_timing")}}
            peers.log(f"  {server['name']}, 1 connection, one pass: p50 {one['p50_ms']:.2f} ms, p99 {one['p99_ms']:.2f} ms, "
                      f"server timing {one.get('server_timing')}")
        if args.overhead_rounds > 0:
            rounds = overhead_rounds(tools, servers, folder, first["requests"], args.overhead_rounds, library, phases)
            report["overhead_rounds"] = rounds
            report["overhead_medians"] = medians(rounds)
            peers.log(f"  medians of {len(rounds)} rounds: {json.dumps(report['overhead_medians'])}")
        for server in servers:
            ref = type("S", (), {"process": server["process"], "port": server["port"], "name": f"strata serve (text, {server['name']})"})()
            runs = report["servers"][server["name"]]["runs"] = []
            for c in args.connections:
                run = peers.concurrent(ref, server["requests"], c, args.seconds)
                runs.append(run)
                peers.log(f"  {server['name']}, {c} connections: {run['qps']:.0f} QPS, p50 {run['p50_ms']:.2f} ms, "
                          f"p99 {run['p99_ms']:.2f} ms, server {run['server_cpu_us']:.0f} us CPU per request")
    finally:
        for server in servers:
            server["process"].terminate()
            server["process"].wait(timeout=60)
    if phases and args.overhead_rounds > 0:
        report["steps"] = phase_report(phases, servers, args.overhead_rounds)
    report["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if args.json:
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    sys.exit(main())
