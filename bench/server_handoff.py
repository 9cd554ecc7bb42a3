#!/usr/bin/env python3
"""What a recall costs a `strata serve` when it cannot run on the event loop that read it (issue
17's benchmark, the hand-off): one kept-alive connection sends a store's prepared recalls one at
a time (bench/loadgen.c --pass) and each answer's latency minus its engine call (`Server-Timing`,
the call timed in the server) is kept, with `--idle N` other kept-alive connections open and idle
on the server meanwhile, for each build and options given (`--variant`), alternating.

Why idle connections: a recall by text (several ms) runs on the loop only while its connection
is alone on it (`--inline-alone-read-us`); with another client kept alive on the same loop it is
handed to the engine's threads, as on any server with more than one client. A server on 2 cores
has 2 loops, so 2 idle connections put one on each. Vector recalls (well under 1 ms) stay on the
loop whatever the connections; `--inline-read-us 1 --inline-alone-read-us 0` hands every recall
off, which is what a recall made while another call is in flight pays.

The store folders are the other benchmarks' (made by them, reused here):

    python3 bench/server_text.py --connections 1 --overhead-rounds 0      # /tmp/server-text/store-100000
    /tmp/servervenv/bin/python bench/server_restart.py --restarts 1       # /tmp/server-restart/store-100000

    python3 bench/server_handoff.py --store /tmp/server-text/store-100000 --requests /tmp/server-text/bin/requests.bin \\
        --idle 2 --variant "" --variant "cli=/tmp/oldbuild/strata-cli" [--rounds 2] [--passes 3] [--json]

A variant is `[cli=PATH] [strata serve options]`; "" is --strata with no more options. Each
round starts each variant's server once, runs one untimed pass, then --passes timed passes of
--count requests. The median over every timed pass is the figure; every pass's is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def first_requests(path: Path, count: int, out: Path) -> None:
    """The first `count` requests of a loadgen requests file (4-byte length, then the bytes)."""
    data, kept, at = path.read_bytes(), [], 0
    while at < len(data) and len(kept) < count:
        (length,) = struct.unpack_from("<I", data, at)
        kept.append(data[at:at + 4 + length])
        at += 4 + length
    out.write_bytes(b"".join(kept))


def health(port: int, keep: bool) -> socket.socket | None:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n" + (b"" if keep else b"Connection: close\r\n") + b"\r\n")
    sock.recv(4096)
    if keep:
        return sock
    sock.close()
    return None


def serve(cli: str, store: str, port: int, options: list[str], log: Path) -> subprocess.Popen:
    process = subprocess.Popen([cli, "serve", "--dir", store, "--port", str(port), "--busy-poll-us", "100", *options],
                               stdout=log.open("a"), stderr=subprocess.STDOUT)
    for _ in range(1200):
        if process.poll() is not None:
            raise RuntimeError(f"strata serve exited ({process.returncode}); see {log}")
        try:
            health(port, keep=False)
            return process
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("strata serve did not answer /v1/health")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, help="a store folder (another benchmark's)")
    parser.add_argument("--requests", required=True, help="a loadgen requests file of recalls on that store")
    parser.add_argument("--count", type=int, default=300, help="requests per pass")
    parser.add_argument("--idle", type=int, default=2, help="idle kept-alive connections beside the measured one")
    parser.add_argument("--variant", action="append", default=[], help='"[cli=PATH] [options]"; repeat it')
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--strata", default=os.environ.get("STRATA_CLI", str(REPO / ".build/release/strata-cli")))
    parser.add_argument("--work", default="/tmp/server-handoff")
    parser.add_argument("--port", type=int, default=7795)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    loadgen = work / "loadgen"
    subprocess.run([os.environ.get("CC", "cc"), "-O2", "-Wall", "-o", str(loadgen), str(REPO / "bench/loadgen.c")], check=True)
    requests = work / "requests.bin"
    first_requests(Path(args.requests), args.count, requests)
    variants = args.variant or [""]
    passes: dict[str, list[dict]] = {v: [] for v in variants}
    for round_ in range(args.rounds):
        for variant in variants:
            words = shlex.split(variant)
            cli = next((w[4:] for w in words if w.startswith("cli=")), args.strata)
            options = [w for w in words if not w.startswith("cli=")]
            server = serve(cli, args.store, args.port, options, work / "strata-serve.log")
            idle = [health(args.port, keep=True) for _ in range(args.idle)]
            try:
                command = [str(loadgen), "--port", str(args.port), "--requests", str(requests), "--pass", str(work / "answers.bin")]
                subprocess.run(command, check=True, capture_output=True)  # untimed: the store's pages and caches
                for _ in range(args.passes):
                    timing = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)["server_timing"]
                    passes[variant].append(timing)
                    print(f"round {round_ + 1}, {variant or 'defaults'}: call p50 {timing['engine_p50_ms']:.3f} ms, "
                          f"latency minus the call p50 {timing['minus_engine_p50_ms'] * 1000:.0f} µs, "
                          f"mean {timing['minus_engine_mean_ms'] * 1000:.0f} µs", file=sys.stderr, flush=True)
            finally:
                for sock in idle:
                    sock.close()
                server.terminate()
                server.wait()
    report = {v or "defaults": {"minus_engine_p50_us": statistics.median(p["minus_engine_p50_ms"] for p in runs) * 1000,
                                "engine_p50_ms": statistics.median(p["engine_p50_ms"] for p in runs),
                                "passes_minus_engine_p50_us": [round(p["minus_engine_p50_ms"] * 1000, 1) for p in runs]}
              for v, runs in passes.items()}
    print(f"medians of {args.rounds * args.passes} passes: {json.dumps(report)}", file=sys.stderr)
    if args.json:
        print(json.dumps({"idle": args.idle, "count": args.count, "variants": report}, indent=2))


if __name__ == "__main__":
    main()
