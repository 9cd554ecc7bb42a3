#!/usr/bin/env python3
"""`strata serve` beside Chroma's own server (`chroma run`) in one run, on the same seeded vectors
(issue 17's benchmark; bench only, never a dependency).

Data: bench/ann_peers.py's seeded Gaussian mixture (100k x 384, cosine, 1,000 queries drawn from
the same mixture, exact top 100 per query), written once under --data and shared with that
benchmark (same parameters: same folder, reused).

For each server, in turn (never both at once, so each has the machine):

  1. start it on a fresh folder: `strata serve --dir DIR` over a SQLite store (strata.json: cosine,
     the store's default index, which is HNSW from 20,000 rows; recall weights on vector
     similarity alone and no access counting, so a hit's rank is its similarity's, as in Chroma;
     `--strata-store memory` for the embedded in-memory store, `--strata-index`, `--strata-ef`,
     `--strata-compression`, `--strata-candidates` to change the rest) and `chroma run --path DIR` (one collection,
     `hnsw:space` cosine, Chroma's defaults else);
  2. load the vectors through its HTTP API in batches of --batch (Strata: `POST /v1/memories`
     `{"items": [{"id", "content": "", "vector"}], "dedupe": false}`, each vector base64-packed
     float32 as strata.Client sends it, or JSON numbers with `--strata-vectors json`; Chroma: `POST
     .../collections/{id}/add` with the embeddings base64-packed, as its own Python client sends
     them); the clock runs from each request's first byte to its answer, the JSON encoding of
     the batch (done before) excluded;
  3. Strata only: stop the server (SIGTERM: the store saves its graph and image), open the same
     folder in this process with `strata.Engine(path=DIR)` and time every query through
     `strata_engine_recall_vector` (the C call plus parsing its JSON answer: what the HTTP side
     does too), then start the server again on that folder, so both sides answer from the same
     reopened store (the in-memory store: measured over HTTP as loaded, then loaded again into an
     Engine of the same configuration in this process);
  4. one warm-up pass over the queries, then one pass at 1 connection that records each query's
     ids (recall@10 against the exact truth) and latency;
  5. for each of --connections (1, 16, 64): that many threads, each with its own kept-alive
     HTTP/1.1 connection (a raw socket; the request bytes built before the clock starts), each
     sending its next query as soon as the last answer is read, for --seconds. QPS is answers
     per second of wall time; p50 / p99 are over every request of the run.

The machine has 2 cores and the load generator shares them with the server. The generator is
bench/loadgen.c (`--generator c`, the default: compiled with the system's cc into --work/bin; one
thread, epoll, a few microseconds per request) or one Python process with a thread per
connection (`--generator python`; the GIL lets one run at once, and it costs 40 to 80 us per
request). Its CPU time and the server's (the process and its children, from /proc) are both
measured over each run and reported per request, so the server's cost per answer is known apart
from the generator's (`server_cpu_us`: at 2 cores the server alone could answer at most 2e6 /
that many per second). `--generator-cpu N` pins this process (and so the generator) to core N
(the servers are never pinned).

The overhead per request is the 1-connection HTTP latency minus the in-process latency, both
means over the same queries on the same reopened store; p50s are given too. With the C
generator the in-process side is bench/recall_inprocess.c (strata_engine_recall_vector from C),
so neither side has Python or an answer's parse on the clock; the Python in-process figures
(strata.Engine) are reported beside it. Two more figures separate what the server adds from what
this kind of machine charges any program that waits: the 1-connection pass again with a client
that polls its socket (`loadgen --spin`: the client's own wake-up off the clock), and the
in-process calls again with a 50 us sleep before each (the server's event loop sleeps between
one connection's requests, and on a VM whose idle cores halt, the first call after a sleep runs
far slower than a back-to-back loop's). And the floor: bench/http_floor.c, an epoll server that
answers every request with Strata's own answer bytes and does nothing else, timed with the same
requests and client; Strata's latency minus the floor minus the engine call is what its server
adds beyond what any HTTP server on the machine would pay. The floor is taken twice: answering at
once, and after `--work-us` equal to the in-process p50 (a client that waits longer is woken
later on a VM whose idle cores halt). Last, `--overhead-rounds` (5) interleaved rounds of one
in-process pass and two HTTP passes (sleeping and polling client) with the server running: the
median of their differences is the figure to quote on a noisy machine. Each round also times the
engine floor: bench/http_floor.c --engine, a C server whose only work is the same
strata_engine_recall_vector call on the same store, polling as Strata does, so the machine's own
cost for this call in a server (the wake-ups, and the call slowed by what runs between two calls)
and what Strata's server adds above it are measured apart. Both servers send `Server-Timing:
engine;dur=<ms>` with each answer (the call timed in their own process) and loadgen subtracts it
per answer: latency minus the call, free of one process's walk running slower than another's
(5 to 10% here), is the third way to the same overhead. `--strata-busy-poll-us N` runs the
server (and the floors) with `--busy-poll-us N`.

    bench/server_setup.sh                       # venv with chromadb, numpy, cffi (/tmp/servervenv)
    /tmp/servervenv/bin/python bench/server_peers.py [--n 100000] [--strata .build/release/strata-cli] [--json]
    /tmp/servervenv/bin/python bench/server_peers.py --n 10000 --seconds 3     # a quick run
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import ann_peers  # noqa: E402  (the data set: generator, cache and exact truth)

K = 10


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- data


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """The options that choose the data (`data_args` reads them): shared with server_restart.py."""
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", default="/tmp/ann-data", help="ann_peers.py's data folder (shared)")


def data_args(args) -> argparse.Namespace:
    """ann_peers.py's parameters with its defaults, --n, --queries, --seed and --data overridden."""
    return argparse.Namespace(n=args.n, dim=args.dim, queries=args.queries, metric="cosine", seed=args.seed,
                              clusters=100, zipf=1.0, rank=32, spread=0.5, noise=0.05, data=args.data)


def recall_at_10(found: list[list[int]], truth: np.ndarray) -> float:
    padded = np.full((len(found), K), -1, dtype=np.int64)
    for i, rows in enumerate(found):
        padded[i, :len(rows[:K])] = rows[:K]
    return ann_peers.recall_at(padded, truth, K)


# ---------------------------------------------------------------- HTTP over a raw socket


class Connection:
    """One kept-alive HTTP/1.1 connection: sends prepared request bytes, reads one answer.

    A raw socket, not http.client, so the generator's own cost per request stays small (it
    shares the machine's 2 cores with the server)."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def exchange(self, request: bytes) -> tuple[int, bytes]:
        self.sock.sendall(request)
        return self.read()

    def _fill(self) -> None:
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buf += chunk

    def read(self) -> tuple[int, bytes]:
        while (end := self.buf.find(b"\r\n\r\n")) < 0:
            self._fill()
        head, self.buf = self.buf[:end].decode("latin-1"), self.buf[end + 4:]
        lines = head.split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            length = int(headers["content-length"])
            while len(self.buf) < length:
                self._fill()
            body, self.buf = self.buf[:length], self.buf[length:]
            return status, body
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                while (eol := self.buf.find(b"\r\n")) < 0:
                    self._fill()
                size = int(self.buf[:eol].split(b";")[0], 16)
                while len(self.buf) < eol + 2 + size + 2:
                    self._fill()
                body += self.buf[eol + 2:eol + 2 + size]
                self.buf = self.buf[eol + 2 + size + 2:]
                if size == 0:
                    return status, body
        raise RuntimeError(f"an answer with neither Content-Length nor chunks: {head!r}")


def http_request(method: str, path: str, body: bytes | None, port: int) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
    head += f"Content-Length: {len(body or b'')}\r\n\r\n"
    return head.encode("latin-1") + (body or b"")


def call(port: int, method: str, path: str, document=None, conn: Connection | None = None):
    own = conn is None
    conn = conn or Connection(port)
    try:
        body = None if document is None else (document if isinstance(document, bytes) else json.dumps(document).encode())
        status, payload = conn.exchange(http_request(method, path, body, port))
    finally:
        if own:
            conn.close()
    if status >= 300:
        raise RuntimeError(f"{method} {path}: HTTP {status}: {payload[:300]!r}")
    return json.loads(payload) if payload else None


# ---------------------------------------------------------------- CPU accounting


def process_tree_ticks(pid: int) -> int:
    """utime + stime of pid and every process below it, in clock ticks."""
    children: dict[int, list[int]] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        ppid = int(fields[1])
        children.setdefault(ppid, []).append(int(entry))
        ticks[int(entry)] = int(fields[11]) + int(fields[12])
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += ticks.get(p, 0)
        todo.extend(children.get(p, []))
    return total


TICK = os.sysconf("SC_CLK_TCK")


class CPUMeter:
    """CPU seconds spent by this process (the generator) and by the server's process tree."""

    def __init__(self, server_pid: int):
        self.server_pid = server_pid

    def __enter__(self):
        t = os.times()
        self.own = t.user + t.system
        self.server = process_tree_ticks(self.server_pid)
        self.wall = time.perf_counter()
        return self

    def __exit__(self, *exc):
        t = os.times()
        self.own_seconds = t.user + t.system - self.own
        self.server_seconds = (process_tree_ticks(self.server_pid) - self.server) / TICK
        self.wall_seconds = time.perf_counter() - self.wall


# ---------------------------------------------------------------- the servers


class Server:
    """One server under test: how to start it, load it and query it."""

    name = ""
    process: subprocess.Popen | None = None
    port = 0

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def wait_ready(self, path: str, what: str, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{what} exited with {self.process.returncode} (log: {self.log})")
            try:
                call(self.port, "GET", path)
                return
            except (OSError, RuntimeError):
                time.sleep(0.1)
        raise RuntimeError(f"{what} did not answer {path} within {seconds} s (log: {self.log})")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StrataServer(Server):
    name = "strata"

    def __init__(self, cli: str, folder: Path, backend: str, index: dict | None, candidates: int | None,
                 lazy_open: bool = True, vectors: str = "base64", serve_options: list[str] | None = None):
        self.cli, self.folder, self.backend, self.vectors = cli, folder, backend, vectors
        self.serve_options = serve_options or []
        options: dict = {"metric": "cosine"}
        if index:
            options["index"] = index
        store = {"backend": "memory", "options": options}
        if backend == "sqlite":
            store = {"backend": "sqlite", "plugin": "sqlite", "options": {"path": "strata.db", **options}}
            if not lazy_open:
                store["options"]["lazy_open"] = False
        self.config = {
            "embedder": {"backend": "hashing", "options": {"dimension": None}},  # set in create()
            "store": store,
            "dedupe": {"enabled": False},
            "recall": {"track_access": False,
                       "weights": {"relevance": 1, "recency": 0, "importance": 0, "access": 0}},
        }
        if candidates:
            self.config["recall"]["candidates"] = candidates
        self.log = folder.parent / "strata-serve.log"

    def create(self, dim: int) -> None:
        self.config["embedder"]["options"]["dimension"] = dim
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        (self.folder / "strata.json").write_text(json.dumps(self.config, indent=2) + "\n")

    def start(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen([self.cli, "serve", "--dir", str(self.folder), "--port", str(self.port), *self.serve_options],
                                        stdout=open(self.log, "a"), stderr=subprocess.STDOUT)
        self.wait_ready("/v1/health", "strata serve")

    def version(self) -> str:
        return call(self.port, "GET", "/v1/version")["version"]

    def vector(self, row: np.ndarray):
        """A vector as the request carries it: base64 float32 (what strata.Client sends), or JSON
        numbers with --strata-vectors json."""
        if self.vectors == "json":
            return row.tolist()
        return base64.b64encode(np.ascontiguousarray(row, dtype="<f4").tobytes()).decode("ascii")

    def load_batches(self, base: np.ndarray, batch: int):
        for start in range(0, len(base), batch):
            rows = base[start:start + batch]
            items = [{"id": f"r{start + i}", "content": "", "vector": self.vector(row)} for i, row in enumerate(rows)]
            yield len(rows), "/v1/memories", json.dumps({"items": items, "dedupe": False}).encode()

    def query_body(self, vector: np.ndarray) -> tuple[str, bytes]:
        return "/v1/recall", json.dumps({"vector": self.vector(vector), "k": K}).encode()

    @staticmethod
    def rows(answer: dict) -> list[int]:
        return [int(h["id"][1:]) for h in answer["hits"]]


class ChromaServer(Server):
    name = "chroma"
    prefix = "/api/v2/tenants/default_tenant/databases/default_database"

    def __init__(self, chroma: str, folder: Path):
        self.chroma, self.folder = chroma, folder
        self.log = folder.parent / "chroma-run.log"
        self.collection = ""

    def create(self, dim: int) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        # `chroma run` logs every request: a run's log is 0.5 to 0.7 GB at 100k. Each run starts
        # its own (a restart within the run appends to it).
        self.log.unlink(missing_ok=True)

    def start(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen([self.chroma, "run", "--path", str(self.folder), "--host", "127.0.0.1",
                                         "--port", str(self.port)],
                                        stdout=open(self.log, "a"), stderr=subprocess.STDOUT)
        self.wait_ready("/api/v2/heartbeat", "chroma run")
        # The collection's configuration as chromadb.HttpClient().create_collection(name,
        # configuration={"hnsw": {"space": "cosine"}}) sends it; Chroma's defaults else.
        answer = call(self.port, "POST", f"{self.prefix}/collections", {
            "name": "bench", "metadata": None, "get_or_create": True,
            "configuration": {"hnsw": {"space": "cosine"}, "spann": None, "embedding_function": {"type": "legacy"}}})
        self.collection = answer["id"]
        self.checks = call(self.port, "GET", "/api/v2/pre-flight-checks")

    def version(self) -> str:
        import chromadb
        return chromadb.__version__

    def load_batches(self, base: np.ndarray, batch: int):
        batch = min(batch, int(self.checks.get("max_batch_size", batch)))
        for start in range(0, len(base), batch):
            rows = base[start:start + batch]
            packed = [base64.b64encode(row.astype("<f4").tobytes()).decode() for row in rows]
            document = {"ids": [str(start + i) for i in range(len(rows))], "embeddings": packed,
                        "metadatas": None, "documents": None, "uris": None}
            yield len(rows), f"{self.prefix}/collections/{self.collection}/add", json.dumps(document).encode()

    def query_body(self, vector: np.ndarray) -> tuple[str, bytes]:
        return (f"{self.prefix}/collections/{self.collection}/query",
                json.dumps({"query_embeddings": [vector.tolist()], "n_results": K, "include": ["distances"]}).encode())

    @staticmethod
    def rows(answer: dict) -> list[int]:
        return [int(i) for i in answer["ids"][0]]


# ---------------------------------------------------------------- measurements


def load(server: Server, base: np.ndarray, batch: int) -> dict:
    conn = Connection(server.port)
    seconds, count, batches = 0.0, 0, 0
    with CPUMeter(server.process.pid) as meter:
        for rows, path, body in server.load_batches(base, batch):
            request = http_request("POST", path, body, server.port)
            started = time.perf_counter()
            status, payload = conn.exchange(request)
            seconds += time.perf_counter() - started
            if status >= 300:
                raise RuntimeError(f"{server.name} load: HTTP {status}: {payload[:300]!r}")
            count += rows
            batches += 1
            if batches % 20 == 0:
                log(f"  {server.name}: {count} stored, {count / seconds:.0f}/s")
    conn.close()
    return {"stored": count, "batches": batches, "batch": count // max(batches, 1), "seconds": seconds,
            "per_second": count / seconds, "wall_seconds": meter.wall_seconds,
            "server_cpu_seconds": meter.server_seconds}


# ---------------------------------------------------------------- the C load generator


class CTools:
    """bench/loadgen.c and bench/recall_inprocess.c, compiled once per run with the system's C
    compiler into --work (a few microseconds of client per request, where the Python generator
    costs 40 to 80 us and shares the two cores with the server)."""

    def __init__(self, work: Path, library: str):
        self.folder = work / "bin"
        self.folder.mkdir(parents=True, exist_ok=True)
        cc = os.environ.get("CC", "cc")
        self.loadgen = self.folder / "loadgen"
        subprocess.run([cc, "-O2", "-Wall", "-o", str(self.loadgen), str(HERE / "loadgen.c")], check=True)
        self.recall = self.folder / "recall_inprocess"
        lib = Path(library).resolve().parent
        subprocess.run([cc, "-O2", "-Wall", "-I", str(REPO / "include"), "-o", str(self.recall), str(HERE / "recall_inprocess.c"),
                        "-L", str(lib), "-lstrata", f"-Wl,-rpath,{lib}"], check=True)
        self.floor_server = self.folder / "http_floor"
        subprocess.run([cc, "-O2", "-Wall", "-o", str(self.floor_server), str(HERE / "http_floor.c")], check=True)

    def requests_file(self, requests: list[bytes]) -> Path:
        path = self.folder / "requests.bin"
        with open(path, "wb") as f:
            for r in requests:
                f.write(len(r).to_bytes(4, "little") + r)
        return path

    def run(self, port: int, requests: list[bytes], *options: str) -> dict:
        out = subprocess.run([str(self.loadgen), "--port", str(port), "--requests", str(self.requests_file(requests)), *options],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"loadgen {' '.join(options)}: {out.stderr.strip()}")
        return json.loads(out.stdout)


    def start_floor(self, answer: bytes, work_us: int = 0, busy_poll_us: int = 0, engine: tuple | None = None,
                    text: tuple | None = None, stamps: Path | None = None):
        """bench/http_floor.c serving `answer`, started: (process, port). `engine` is (libstrata.so,
        strata.json, the queries, their dimension): each request's work is then the engine call
        itself (http_floor --engine), the next query's recall, as loadgen sends them in order.
        `text` is (libstrata.so, strata.json): each request's body is then a recall by text the
        floor makes (http_floor --engine --text). `stamps`: where it writes each request's steps
        (http_floor --stamps, with an engine)."""
        body = self.folder / "floor-answer.json"
        body.write_bytes(answer)
        command = [str(self.floor_server), "--port", "0", "--answer", str(body), "--work-us", str(work_us),
                   "--busy-poll-us", str(busy_poll_us)]
        if engine is not None:
            library, config, queries, dim = engine
            path = self.folder / "floor-queries.f32"
            queries.astype("<f4").tofile(path)
            command += ["--engine", str(library), str(config), "--queries", str(path), "--dim", str(dim)]
        if text is not None:
            command += ["--engine", str(text[0]), str(text[1]), "--text"]
        if stamps is not None:
            command += ["--stamps", str(stamps)]
        server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = server.stdout.readline()
        if not line.startswith("listening on "):
            server.kill()
            raise RuntimeError(f"http_floor did not start: {line!r} {server.stderr.read()}")
        return server, int(line.split()[-1])

    @staticmethod
    def stop_floor(floor: subprocess.Popen, calls: int) -> None:
        """Stops an engine floor and checks that it made `calls` engine calls, one per request."""
        floor.terminate()
        _, err = floor.communicate(timeout=30)
        made = int(err.split("engine calls:")[1].split()[0]) if "engine calls:" in err else -1
        if made != calls:
            raise RuntimeError(f"the engine floor made {made} engine calls, not one per request ({calls}): {err.strip()}")

    def floor(self, requests: list[bytes], answer: bytes, work_us: int = 0, busy_poll_us: int = 0) -> dict:
        """The same requests, one connection, against bench/http_floor.c answering `answer` to
        each: what any HTTP server pays on this machine for this request and answer (the
        loopback, one wake-up, one read and one write on each side), with the client sleeping
        in recv and polling (--spin). With `work_us`, the floor server is busy that long before
        each answer, as an engine call is: the client then waits (and its core idles) as long
        as it waits for Strata's answer. With `busy_poll_us`, the floor server polls for the next
        request that long before sleeping, as `strata serve --busy-poll-us` does."""
        server, port = self.start_floor(answer, work_us, busy_poll_us)
        try:
            self.run(port, requests, "--pass", str(self.folder / "floor-answers.bin"))  # warm-up
            sleeping = self.run(port, requests, "--pass", str(self.folder / "floor-answers.bin"))
            spinning = self.run(port, requests, "--pass", str(self.folder / "floor-answers.bin"), "--spin")
        finally:
            server.terminate()
            server.wait()
        return {"mean_us": sleeping["mean_ms"] * 1e3, "p50_us": sleeping["p50_ms"] * 1e3,
                "spin_mean_us": spinning["mean_ms"] * 1e3, "spin_p50_us": spinning["p50_ms"] * 1e3,
                "answer_bytes": len(answer), "work_us": work_us, "busy_poll_us": busy_poll_us}


C_TOOLS: CTools | None = None


def c_records(data: bytes, header: int) -> list[tuple[tuple[int, ...], bytes]]:
    """The records the C tools write: `header` 4-byte little-endian numbers, the last of them the
    length of the bytes that follow (loadgen --pass: status, latency ns, length; recall_inprocess:
    length)."""
    out, at = [], 0
    while at < len(data):
        fields = tuple(int.from_bytes(data[at + 4 * i:at + 4 * i + 4], "little") for i in range(header))
        start = at + 4 * header
        out.append((fields, data[start:start + fields[-1]]))
        at = start + fields[-1]
    return out


def prepared_queries(server: Server, queries: np.ndarray) -> list[bytes]:
    out = []
    for q in queries:
        path, body = server.query_body(q)
        out.append(http_request("POST", path, body, server.port))
    return out


def one_pass(server: Server, requests: list[bytes]) -> tuple[list[list[int]], list[float]]:
    """Every query once on one connection: the rows each answered and each latency (seconds)."""
    if C_TOOLS is not None:
        answers = C_TOOLS.folder / "answers.bin"
        summary = C_TOOLS.run(server.port, requests, "--pass", str(answers))
        if summary["errors"]:
            raise RuntimeError(f"{server.name} query: {summary['first_error']}")
        records = c_records(answers.read_bytes(), 3)
        return [server.rows(json.loads(body)) for _, body in records], [fields[1] * 1e-9 for fields, _ in records]
    conn = Connection(server.port)
    found, latencies = [], []
    for request in requests:
        started = time.perf_counter()
        status, payload = conn.exchange(request)
        latencies.append(time.perf_counter() - started)
        if status >= 300:
            raise RuntimeError(f"{server.name} query: HTTP {status}: {payload[:300]!r}")
        found.append(server.rows(json.loads(payload)))
    conn.close()
    return found, latencies


def concurrent(server: Server, requests: list[bytes], connections: int, seconds: float) -> dict:
    """`connections` threads, each on its own connection, back to back for `seconds` (with the
    C generator: that many connections on its one thread)."""
    if C_TOOLS is not None:
        with CPUMeter(server.process.pid) as meter:
            run = C_TOOLS.run(server.port, requests, "--connections", str(connections), "--seconds", str(seconds))
        if run["errors"]:
            raise RuntimeError(f"{server.name} at {connections} connections: {run['first_error']} ({run['errors']} errors)")
        done = run["requests"]
        return {"connections": connections, "requests": done, "seconds": run["seconds"], "qps": run["qps"],
                "p50_ms": run["p50_ms"], "p99_ms": run["p99_ms"], "mean_ms": run["mean_ms"],
                "loadavg_1min_after": os.getloadavg()[0],
                "server_cpu_us": meter.server_seconds / done * 1e6, "generator_cpu_us": run["cpu_seconds"] / done * 1e6,
                "server_cores": meter.server_seconds / run["seconds"], "generator_cores": run["cpu_seconds"] / run["seconds"]}
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors: list[str] = []
    conns = [Connection(server.port) for _ in range(connections)]
    start_gate = threading.Barrier(connections + 1)
    stop_at = [0.0]

    def worker(i: int) -> None:
        conn, mine = conns[i], latencies[i]
        n = len(requests)
        j = (i * n) // connections  # each connection starts at its own place in the queries
        start_gate.wait()
        deadline = stop_at[0]
        try:
            while True:
                started = time.perf_counter()
                if started >= deadline:
                    return
                status, payload = conn.exchange(requests[j % n])
                mine.append(time.perf_counter() - started)
                if status >= 300:
                    errors.append(f"HTTP {status}: {payload[:200]!r}")
                    return
                json.loads(payload)  # what a client does with an answer
                j += 1
        except OSError as error:
            errors.append(str(error))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    with CPUMeter(server.process.pid) as meter:
        stop_at[0] = time.perf_counter() + seconds
        start_gate.wait()
        for t in threads:
            t.join()
    for c in conns:
        c.close()
    if errors:
        raise RuntimeError(f"{server.name} at {connections} connections: {errors[0]} ({len(errors)} errors)")
    every = np.array([x for part in latencies for x in part])
    done = len(every)
    return {"connections": connections, "requests": done, "seconds": meter.wall_seconds,
            "qps": done / meter.wall_seconds,
            "p50_ms": float(np.percentile(every, 50) * 1e3), "p99_ms": float(np.percentile(every, 99) * 1e3),
            "mean_ms": float(every.mean() * 1e3), "loadavg_1min_after": os.getloadavg()[0],
            "server_cpu_us": meter.server_seconds / done * 1e6, "generator_cpu_us": meter.own_seconds / done * 1e6,
            "server_cores": meter.server_seconds / meter.wall_seconds,
            "generator_cores": meter.own_seconds / meter.wall_seconds}


def in_process(server: "StrataServer", base: np.ndarray, queries: np.ndarray, library: str | None, batch: int) -> dict:
    """Each query through strata.Engine on the same store: the C call plus its JSON parsed, and
    the public recall_vector (which also builds the Hit dataclasses). A SQLite store is the
    server's folder, reopened; an in-memory one is loaded here with the same configuration."""
    if library:
        os.environ["STRATA_LIBRARY"] = library
    sys.path.insert(0, str(REPO / "bindings" / "python"))
    import strata
    from strata._ffi import ffi, lib

    if server.backend == "sqlite":
        engine = strata.Engine(path=server.folder)
    else:
        engine = strata.Engine(server.config)
        for start in range(0, len(base), batch):
            rows = base[start:start + batch]
            engine.store_vectors(rows, [{"id": f"r{start + i}", "content": ""} for i in range(len(rows))])
    try:
        dim = queries.shape[1]
        request = json.dumps({"k": K}).encode()

        def raw(q):
            return engine._call_raw(lib.strata_engine_recall_vector, request, ffi.from_buffer("float[]", q), dim,
                                    verb="recall_vector")

        for q in queries:  # warm-up pass, as the HTTP side gets
            raw(q)
        latencies, found, texts = [], [], []
        cpu = os.times()
        for q in queries:
            started = time.perf_counter()
            answer = raw(q)
            latencies.append(time.perf_counter() - started)
            found.append([int(h["id"][1:]) for h in answer["hits"]])
            texts.append(json.dumps(answer))
        cpu_after = os.times()
        # The Python side's share of that CPU: parsing answers of the same size.
        started = time.process_time()
        for t in texts:
            json.loads(t)
        parse_us = (time.process_time() - started) / len(texts) * 1e6
        public = []
        for q in queries:
            started = time.perf_counter()
            engine.recall_vector(q, k=K)
            public.append(time.perf_counter() - started)
    finally:
        engine.close()
    lat = np.array(latencies)
    cpu_us = (cpu_after.user + cpu_after.system - cpu.user - cpu.system) / len(queries) * 1e6
    return {"found": found, "mean_us": float(lat.mean() * 1e6), "p50_us": float(np.median(lat) * 1e6),
            "cpu_us": cpu_us, "json_parse_us": parse_us,
            "p99_us": float(np.percentile(lat, 99) * 1e6),
            "recall_vector_mean_us": float(np.mean(public) * 1e6), "recall_vector_p50_us": float(np.median(public) * 1e6)}


def in_process_c(server: "StrataServer", queries: np.ndarray, gap_us: int = 0) -> dict:
    """Each query through strata_engine_recall_vector from C (bench/recall_inprocess.c) on the
    server's folder, reopened: the in-process side of the overhead when the C generator times
    the HTTP side, so neither side has Python or a JSON parse on the clock."""
    path = C_TOOLS.folder / "queries.f32"
    queries.astype("<f4").tofile(path)
    answers = C_TOOLS.folder / "inprocess-answers.bin"
    out = subprocess.run([str(C_TOOLS.recall), str(server.folder / "strata.json"), str(path), str(queries.shape[1]),
                          json.dumps({"k": K}), str(answers), str(gap_us)], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"recall_inprocess: {out.stderr.strip()}")
    found = [server.rows(json.loads(body)) for _, body in c_records(answers.read_bytes(), 1)]
    return {**json.loads(out.stdout), "found": found}


def overhead_rounds(server: "StrataServer", queries: np.ndarray, count: int, library: str, busy_poll_us: int) -> list[dict]:
    """The overhead measured again in `count` interleaved rounds, the server running: each
    round one in-process pass from C (a fresh process on the same store), one HTTP pass with the
    client sleeping in recv and one with it polling, and one sleeping pass against the engine
    floor. On a shared VM either side moves by a fifth between passes a minute apart; the
    median of the rounds' differences is steadier than one difference of two passes taken
    minutes apart.

    The engine floor is bench/http_floor.c --engine on the same store: a C server whose only
    work is the same strata_engine_recall_vector call, polling as Strata's server does. A
    floor that spins for the in-process time misses what the machine does to the call itself
    in a server (the kernel's TCP path and the wake-ups between two calls disturb its caches
    and predictors): its latency minus the in-process call is what any server making this call
    pays here, and Strata's latency minus its own is what Strata's server adds."""
    requests = prepared_queries(server, queries)
    answer = c_records((C_TOOLS.folder / "answers.bin").read_bytes(), 3)[0][1]
    floor, floor_port = C_TOOLS.start_floor(answer, busy_poll_us=busy_poll_us,
                                            engine=(library, server.folder / "strata.json", queries, queries.shape[1]))
    out = []
    try:
        C_TOOLS.run(floor_port, requests, "--pass", str(C_TOOLS.folder / "floor-answers.bin"))  # warm-up
        for i in range(count):
            native = in_process_c(server, queries)
            sleeping = C_TOOLS.run(server.port, requests, "--pass", str(C_TOOLS.folder / "answers.bin"))
            polling = C_TOOLS.run(server.port, requests, "--pass", str(C_TOOLS.folder / "answers.bin"), "--spin")
            engine_floor = C_TOOLS.run(floor_port, requests, "--pass", str(C_TOOLS.folder / "floor-answers.bin"))
            row = {"in_process_p50_us": native["p50_us"], "http_p50_us": sleeping["p50_ms"] * 1e3,
                   "http_spin_p50_us": polling["p50_ms"] * 1e3, "engine_floor_p50_us": engine_floor["p50_ms"] * 1e3}
            row["overhead_p50_us"] = row["http_p50_us"] - row["in_process_p50_us"]
            row["overhead_spin_p50_us"] = row["http_spin_p50_us"] - row["in_process_p50_us"]
            row["engine_floor_overhead_p50_us"] = row["engine_floor_p50_us"] - row["in_process_p50_us"]
            row["above_engine_floor_p50_us"] = row["http_p50_us"] - row["engine_floor_p50_us"]
            # Server-Timing: each answer's latency minus its engine call timed in the server's
            # own process (Strata's and the floor's), so a process whose walk runs slower than
            # another's does not count as the server's own time.
            timing, floor_timing = sleeping.get("server_timing"), engine_floor.get("server_timing")
            if timing and floor_timing:
                row["engine_in_server_p50_us"] = timing["engine_p50_ms"] * 1e3
                row["minus_engine_p50_us"] = timing["minus_engine_p50_ms"] * 1e3
                row["floor_engine_p50_us"] = floor_timing["engine_p50_ms"] * 1e3
                row["floor_minus_engine_p50_us"] = floor_timing["minus_engine_p50_ms"] * 1e3
                if polling.get("server_timing"):
                    row["minus_engine_spin_p50_us"] = polling["server_timing"]["minus_engine_p50_ms"] * 1e3
            log(f"  overhead round {i + 1}: in process {row['in_process_p50_us']:.0f} us, HTTP {row['http_p50_us']:.0f} us "
                f"({row['http_spin_p50_us']:.0f} polling), engine floor {row['engine_floor_p50_us']:.0f} us: "
                f"overhead {row['overhead_p50_us']:.0f} us ({row['overhead_spin_p50_us']:.0f}), the floor's "
                f"{row['engine_floor_overhead_p50_us']:.0f} us, Strata above the floor {row['above_engine_floor_p50_us']:.0f} us"
                + (f"; Server-Timing: engine in the server {row['engine_in_server_p50_us']:.0f} us, latency minus it "
                   f"{row['minus_engine_p50_us']:.0f} us ({row.get('minus_engine_spin_p50_us', float('nan')):.0f} polling), "
                   f"the floor's {row['floor_minus_engine_p50_us']:.0f} us" if "minus_engine_p50_us" in row else ""))
            out.append(row)
    finally:
        C_TOOLS.stop_floor(floor, len(requests) * (count + 1))
    return out


def measure(server: Server, queries: np.ndarray, truth: np.ndarray, args) -> dict:
    requests = prepared_queries(server, queries)
    one_pass(server, requests)  # warm-up
    found, lat = one_pass(server, requests)
    lat_a = np.array(lat)
    out = {"recall_at_10": recall_at_10(found, truth), "one_connection_mean_us": float(lat_a.mean() * 1e6),
           "one_connection_p50_us": float(np.median(lat_a) * 1e6), "runs": []}
    log(f"  {server.name}: recall@10 {out['recall_at_10']:.4f}, 1 connection mean {out['one_connection_mean_us']:.0f} us")
    if C_TOOLS is not None:
        # The same pass with a client that polls its socket instead of sleeping in recv: what is
        # left is the server's time and the loopback's, without the client core's wake-up.
        spin = C_TOOLS.run(server.port, requests, "--pass", str(C_TOOLS.folder / "answers.bin"), "--spin")
        out["one_connection_spin_mean_us"], out["one_connection_spin_p50_us"] = spin["mean_ms"] * 1e3, spin["p50_ms"] * 1e3
        log(f"  {server.name}: 1 connection, spinning client: mean {out['one_connection_spin_mean_us']:.0f} us, "
            f"p50 {out['one_connection_spin_p50_us']:.0f} us")
    for c in args.connections:
        run = concurrent(server, requests, c, args.seconds)
        out["runs"].append(run)
        log(f"  {server.name} at {c} connections: {run['qps']:.0f} QPS, p50 {run['p50_ms']:.2f} ms, "
            f"p99 {run['p99_ms']:.2f} ms, server {run['server_cpu_us']:.0f} us CPU per request, "
            f"generator {run['generator_cpu_us']:.0f} us")
    return out


def run_strata(args, base, queries, truth) -> dict:
    index = None
    if args.strata_index or args.strata_ef or args.strata_compression:
        index = {"type": args.strata_index or "auto"}
        if args.strata_ef:
            index["ef_search"] = args.strata_ef
        if args.strata_compression:
            index["compression"] = args.strata_compression
    server = StrataServer(args.strata, Path(args.work) / "strata", args.strata_store, index, args.strata_candidates,
                          lazy_open=not args.strata_no_lazy_open, vectors=args.strata_vectors,
                          serve_options=["--busy-poll-us", str(args.strata_busy_poll_us)] if args.strata_busy_poll_us else [])
    server.create(base.shape[1])
    server.start()
    try:
        version = server.version()
        log(f"strata {version}: loading {len(base)} vectors")
        loaded = load(server, base, args.batch)
        log(f"strata: loaded at {loaded['per_second']:.0f}/s")
        if args.strata_store == "memory":  # nothing survives a restart: measured as loaded
            out = measure(server, queries, truth, args)
    finally:
        server.stop()
    log("strata: in-process pass")
    local = in_process(server, base, queries, args.library, args.batch)
    native = in_process_c(server, queries) if C_TOOLS is not None and args.strata_store == "sqlite" else None
    # The same calls, each after its thread slept 50 us: what the engine call costs a thread
    # that waits between calls, as the server's event loop waits between one connection's requests.
    rested = in_process_c(server, queries, gap_us=50) if native is not None else None
    rounds: list[dict] = []
    if args.strata_store == "sqlite":
        server.start()
        try:
            out = measure(server, queries, truth, args)
            rounds = (overhead_rounds(server, queries, args.overhead_rounds, args.library, args.strata_busy_poll_us)
                      if native is not None else [])
        finally:
            server.stop()
    floor = None
    if C_TOOLS is not None:
        # Strata's answer to the first query (the last --pass wrote them), as the floor's answer.
        answer = c_records((C_TOOLS.folder / "answers.bin").read_bytes(), 3)[0][1]
        # The floor server polls as long as Strata's does (--strata-busy-poll-us), so each side
        # of the comparison sleeps or polls alike.
        floor = C_TOOLS.floor(prepared_queries(server, queries), answer, busy_poll_us=args.strata_busy_poll_us)
        log(f"floor (bench/http_floor.c, {floor['answer_bytes']} bytes answered, no work): p50 {floor['p50_us']:.0f} us, "
            f"{floor['spin_p50_us']:.0f} us with the polling client")
        if native is not None:
            # The floor of a request that keeps its server as busy as the engine call does.
            worked = C_TOOLS.floor(prepared_queries(server, queries), answer, work_us=round(native["p50_us"]),
                                  busy_poll_us=args.strata_busy_poll_us)
            log(f"floor with {worked['work_us']} us of work a request: p50 {worked['p50_us']:.0f} us, "
                f"{worked['spin_p50_us']:.0f} us with the polling client")
            floor["with_work"] = worked
    local_recall = recall_at_10(local.pop("found"), truth)
    overhead = {"in_process": local, "in_process_recall_at_10": local_recall,
                "http_mean_us": out["one_connection_mean_us"], "http_p50_us": out["one_connection_p50_us"],
                "overhead_mean_us": out["one_connection_mean_us"] - local["mean_us"],
                "overhead_p50_us": out["one_connection_p50_us"] - local["p50_us"],
                # CPU, which another process on the cores does not inflate: the server's per
                # answer at 1 connection against the engine call's in this process (the Python
                # JSON parse of the answer taken out, since the server does not do it).
                "server_cpu_us": out["runs"][0]["server_cpu_us"] if out["runs"] else None,
                "engine_cpu_us": local["cpu_us"] - local["json_parse_us"]}
    if native is not None:
        # The C generator timed the HTTP side: compare it with the same call made from C.
        overhead["in_process_c"] = {k: v for k, v in native.items() if k != "found"}
        overhead["in_process_c_recall_at_10"] = recall_at_10(native["found"], truth)
        overhead["overhead_mean_us"] = out["one_connection_mean_us"] - native["mean_us"]
        overhead["overhead_p50_us"] = out["one_connection_p50_us"] - native["p50_us"]
        overhead["engine_cpu_us"] = native["cpu_us"]
        overhead["in_process_c_after_sleep"] = {k: v for k, v in rested.items() if k != "found"}
        overhead["overhead_spin_after_sleep_p50_us"] = out["one_connection_spin_p50_us"] - rested["p50_us"]
        overhead["overhead_after_sleep_p50_us"] = out["one_connection_p50_us"] - rested["p50_us"]
        overhead["http_spin_mean_us"] = out["one_connection_spin_mean_us"]
        overhead["http_spin_p50_us"] = out["one_connection_spin_p50_us"]
        overhead["overhead_spin_mean_us"] = out["one_connection_spin_mean_us"] - native["mean_us"]
        overhead["overhead_spin_p50_us"] = out["one_connection_spin_p50_us"] - native["p50_us"]
        if floor is not None:
            # What Strata's server adds beyond the engine call and what any HTTP server pays here.
            overhead["floor"] = floor
            overhead["above_floor_p50_us"] = overhead["overhead_p50_us"] - floor["p50_us"]
            overhead["above_floor_spin_p50_us"] = overhead["overhead_spin_p50_us"] - floor["spin_p50_us"]
            if "with_work" in floor:
                # Against a server that works as long as the engine call and does nothing else:
                # what Strata's server adds, its engine call's own slowdown in the server included.
                worked = floor["with_work"]
                overhead["above_worked_floor_p50_us"] = out["one_connection_p50_us"] - worked["p50_us"]
                overhead["above_worked_floor_spin_p50_us"] = out["one_connection_spin_p50_us"] - worked["spin_p50_us"]
    if native is not None and rounds:
        overhead["rounds"] = rounds
        for key in ("in_process_p50_us", "http_p50_us", "http_spin_p50_us", "overhead_p50_us", "overhead_spin_p50_us",
                    "engine_floor_p50_us", "engine_floor_overhead_p50_us", "above_engine_floor_p50_us",
                    "engine_in_server_p50_us", "minus_engine_p50_us", "minus_engine_spin_p50_us", "floor_engine_p50_us",
                    "floor_minus_engine_p50_us"):
            if rounds and all(key in r for r in rounds):
                overhead[f"rounds_median_{key}"] = float(np.median([r[key] for r in rounds]))
    if overhead["server_cpu_us"] is not None:
        overhead["overhead_cpu_us"] = overhead["server_cpu_us"] - overhead["engine_cpu_us"]
    log(f"strata: in-process mean {local['mean_us']:.0f} us, HTTP {out['one_connection_mean_us']:.0f} us: "
        f"overhead {overhead['overhead_mean_us']:.0f} us")
    store = server.config["store"]
    label = f"{store['backend']}, index {store['options'].get('index', {}).get('type', 'auto')}"
    if args.strata_ef:
        label += f" ef {args.strata_ef}"
    if args.strata_compression:
        label += f", {args.strata_compression} walk"
    label += f", vectors as {args.strata_vectors}"
    label += f", candidates {server.config['recall'].get('candidates', 50)}"
    if args.strata_no_lazy_open:
        label += ", lazy_open false"
    return {"server": "strata serve", "label": label, "version": version, "config": server.config, "load": loaded, **out,
            "overhead": overhead}


def run_chroma(args, base, queries, truth) -> dict:
    server = ChromaServer(args.chroma, Path(args.work) / "chroma")
    server.create(base.shape[1])
    server.start()
    try:
        log(f"chroma {server.version()}: loading {len(base)} vectors")
        loaded = load(server, base, args.batch)
        out = measure(server, queries, truth, args)
    finally:
        server.stop()
    return {"server": "chroma run", "version": server.version(), "load": loaded, **out}


# ---------------------------------------------------------------- report


def cpu_name() -> str:
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def table(report: dict) -> str:
    lines = [f"{report['n']} x {report['dim']} cosine, {report['queries']} queries, k {K}; "
             f"{report['cpu']} ({report['cores']} cores); generator: {report.get('generator', 'python')}, "
             f"pinned: {report['generator_cpu']}", ""]
    lines[0] += f"; load average {report['loadavg_at_start'][0]:.1f} at the start"
    lines.append("| server | store /s (batch) | recall@10 | connections | QPS | p50 ms | p99 ms | server CPU us/req | generator CPU us/req | load avg |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in report["servers"]:
        for i, run in enumerate(r["runs"]):
            name = f"{r['server']} {r['version']}" + (f" ({r['label']})" if r.get("label") else "")
            head = (f"{name} | {r['load']['per_second']:,.0f} ({r['load']['batch']}) | {r['recall_at_10']:.4f}"
                    if i == 0 else " | | ")
            lines.append(f"| {head} | {run['connections']} | {run['qps']:,.0f} | {run['p50_ms']:.2f} | {run['p99_ms']:.2f} | "
                         f"{run['server_cpu_us']:.0f} | {run['generator_cpu_us']:.0f} | {run['loadavg_1min_after']:.1f} |")
    by = {r["server"]: r for r in report["servers"]}
    if "strata serve" in by:
        o = by["strata serve"]["overhead"]
        if "in_process_c" in o:
            c = o["in_process_c"]
            lines += ["", f"Strata in process from C (strata_engine_recall_vector, bench/recall_inprocess.c): mean {c['mean_us']:.0f} us, "
                      f"p50 {c['p50_us']:.0f} us, {c['cpu_us']:.0f} us of CPU, recall@10 {o['in_process_c_recall_at_10']:.4f}; "
                      f"over HTTP from C (bench/loadgen.c), 1 connection: mean {o['http_mean_us']:.0f} us, p50 {o['http_p50_us']:.0f} us; "
                      f"overhead per request: {o['overhead_mean_us']:.0f} us mean, {o['overhead_p50_us']:.0f} us p50",
                      f"with a client that polls its socket (loadgen --spin, no client wake-up on the clock): "
                      f"mean {o['http_spin_mean_us']:.0f} us, p50 {o['http_spin_p50_us']:.0f} us; overhead per request "
                      f"{o['overhead_spin_mean_us']:.0f} us mean, {o['overhead_spin_p50_us']:.0f} us p50",
                      f"in process from C, each call after a 50 us sleep (as the server's loop sleeps between requests): "
                      f"mean {o['in_process_c_after_sleep']['mean_us']:.0f} us, p50 {o['in_process_c_after_sleep']['p50_us']:.0f} us; "
                      f"against it the overhead is {o['overhead_after_sleep_p50_us']:.0f} us p50 "
                      f"({o['overhead_spin_after_sleep_p50_us']:.0f} us with the polling client)"]
            if "floor" in o:
                f = o["floor"]
                lines.append(f"the machine's floor for the same requests and a {f['answer_bytes']}-byte answer (bench/http_floor.c: "
                             f"epoll, one read and one write a request, no work, busy poll {f['busy_poll_us']} us): p50 {f['p50_us']:.0f} us "
                             f"({f['spin_p50_us']:.0f} us with the polling client); what Strata's server adds above the floor and the "
                             f"engine call: {o['above_floor_p50_us']:.0f} us p50 ({o['above_floor_spin_p50_us']:.0f} us with the polling client)")
                if "with_work" in f:
                    w = f["with_work"]
                    lines.append(f"the floor when the server works {w['work_us']} us a request (the in-process p50) before answering: "
                                 f"p50 {w['p50_us']:.0f} us ({w['spin_p50_us']:.0f} us with the polling client), so the machine's "
                                 f"own cost at that service time is {w['p50_us'] - w['work_us']:.0f} us ({w['spin_p50_us'] - w['work_us']:.0f}); "
                                 f"Strata's latency above it: {o['above_worked_floor_p50_us']:.0f} us p50 "
                                 f"({o['above_worked_floor_spin_p50_us']:.0f} us with the polling client)")
            if "rounds" in o:
                lines.append(f"the overhead in {len(o['rounds'])} interleaved rounds (in process from C, HTTP sleeping, HTTP polling): "
                             f"medians in process {o['rounds_median_in_process_p50_us']:.0f} us, HTTP {o['rounds_median_http_p50_us']:.0f} us "
                             f"({o['rounds_median_http_spin_p50_us']:.0f} polling); median overhead per request "
                             f"**{o['rounds_median_overhead_p50_us']:.0f} us p50** ({o['rounds_median_overhead_spin_p50_us']:.0f} us with the "
                             f"polling client); each round's: " + ", ".join(f"{r['overhead_p50_us']:.0f}" for r in o["rounds"]))
                lines.append(f"the engine floor in the same rounds (bench/http_floor.c --engine: a C server whose only work is the "
                             f"same strata_engine_recall_vector call, polling as Strata does): median p50 "
                             f"{o['rounds_median_engine_floor_p50_us']:.0f} us, so the machine's own cost for this call in any server is "
                             f"{o['rounds_median_engine_floor_overhead_p50_us']:.0f} us; **Strata's server above it: "
                             f"{o['rounds_median_above_engine_floor_p50_us']:.0f} us p50** (medians of the rounds; each round's: "
                             + ", ".join(f"{r['above_engine_floor_p50_us']:.0f}" for r in o["rounds"]) + ")")
                if "rounds_median_minus_engine_p50_us" in o:
                    lines.append(f"with the engine call timed in the serving process (Server-Timing): the call took "
                                 f"{o['rounds_median_engine_in_server_p50_us']:.0f} us p50 in Strata's server and "
                                 f"{o['rounds_median_floor_engine_p50_us']:.0f} us in the engine floor's; each answer's latency minus "
                                 f"its own call: **{o['rounds_median_minus_engine_p50_us']:.0f} us p50 for Strata** "
                                 f"({o.get('rounds_median_minus_engine_spin_p50_us', float('nan')):.0f} us with the polling client), "
                                 f"{o['rounds_median_floor_minus_engine_p50_us']:.0f} us for the engine floor, so Strata's server "
                                 f"adds {o['rounds_median_minus_engine_p50_us'] - o['rounds_median_floor_minus_engine_p50_us']:.0f} us "
                                 f"beyond it (medians of the rounds; each round's latency minus the call: "
                                 + ", ".join(f"{r['minus_engine_p50_us']:.0f}" for r in o["rounds"]) + ")")
        lines += ["", f"Strata in process from Python (strata_engine_recall_vector + JSON parse): mean {o['in_process']['mean_us']:.0f} us, "
                  f"p50 {o['in_process']['p50_us']:.0f} us (Engine.recall_vector with dataclasses: "
                  f"{o['in_process']['recall_vector_mean_us']:.0f} us), recall@10 {o['in_process_recall_at_10']:.4f}; "
                  f"over HTTP, 1 connection: mean {o['http_mean_us']:.0f} us, p50 {o['http_p50_us']:.0f} us; "
                  + ("" if "in_process_c" in o else
                     f"overhead per request: {o['overhead_mean_us']:.0f} us mean, {o['overhead_p50_us']:.0f} us p50")]
        if o.get("overhead_cpu_us") is not None:
            engine = (f"{o['engine_cpu_us']:.0f} us (from C)" if "in_process_c" in o else
                      f"{o['engine_cpu_us']:.0f} us (its answer's Python parse, {o['in_process']['json_parse_us']:.0f} us, taken out)")
            lines.append(f"CPU per recall: the server {o['server_cpu_us']:.0f} us (1 connection), the engine call in process "
                         f"{engine}: overhead {o['overhead_cpu_us']:.0f} us of CPU per request")
    if "strata serve" in by and "chroma run" in by:
        s, c = by["strata serve"], by["chroma run"]
        ratios = ", ".join(f"{a['connections']}: {a['qps'] / b['qps']:.2f}x" for a, b in zip(s["runs"], c["runs"]))
        lines.append(f"Strata / Chroma QPS by connections: {ratios}; recall@10 {s['recall_at_10']:.4f} vs {c['recall_at_10']:.4f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_options(parser)
    parser.add_argument("--work", default="/tmp/server-bench", help="the servers' store folders and logs (replaced)")
    parser.add_argument("--batch", type=int, default=1000, help="vectors per store request")
    parser.add_argument("--connections", type=lambda s: [int(x) for x in s.split(",")], default=[1, 16, 64])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each concurrent run")
    parser.add_argument("--strata", default=os.environ.get("STRATA_CLI", str(REPO / ".build/release/strata-cli")))
    parser.add_argument("--library", default=os.environ.get("STRATA_LIBRARY"),
                        help="libstrata.so for the in-process figure (default: beside --strata)")
    parser.add_argument("--strata-store", choices=["sqlite", "memory"], default="sqlite",
                        help="Strata's store: SQLite in the folder (default) or the embedded in-memory one")
    parser.add_argument("--strata-candidates", type=int,
                        help="recall.candidates (default: the engine's, 50): hits taken from the vector list before k")
    parser.add_argument("--strata-no-lazy-open", action="store_true",
                        help='the SQLite store\'s "lazy_open": false (rows loaded at open, not answered from the mapped image)')
    parser.add_argument("--overhead-rounds", type=int, default=5,
                        help="interleaved rounds of in-process and HTTP passes for the overhead (0: none)")
    parser.add_argument("--strata-busy-poll-us", type=int, default=0,
                        help="strata serve --busy-poll-us (default 0, the server's default: off)")
    parser.add_argument("--strata-index", choices=["auto", "exact", "hnsw"], help="the store's index (default: the store's own)")
    parser.add_argument("--strata-ef", type=int, help="ef_search of Strata's HNSW index (default: the store's own)")
    parser.add_argument("--strata-compression", choices=["none", "int8", "fp16"],
                        help="the compressed copies Strata's HNSW walks (default: the store's own, none)")
    parser.add_argument("--strata-vectors", choices=["base64", "json"], default="base64",
                        help="how Strata's requests carry vectors: base64 float32 as strata.Client sends them "
                             "(default), or JSON numbers")
    parser.add_argument("--chroma", default=str(Path(sys.executable).parent / "chroma"))
    parser.add_argument("--only", choices=["strata", "chroma"])
    parser.add_argument("--generator", choices=["c", "python"], default="c",
                        help="the load generator: bench/loadgen.c, compiled with cc (default), or Python threads on raw sockets")
    parser.add_argument("--generator-cpu", type=int, help="pin this process (the load generator) to that core")
    parser.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    args = parser.parse_args()
    if args.library is None:
        args.library = str(Path(args.strata).resolve().parent / "libstrata.so")
    if args.generator_cpu is not None:
        os.sched_setaffinity(0, {args.generator_cpu})

    if args.generator == "c":
        global C_TOOLS
        C_TOOLS = CTools(Path(args.work), args.library)
    folder = ann_peers.ensure_data(data_args(args))
    meta, base, queries, truth = ann_peers.load_data(folder)
    report = {"n": meta["n"], "dim": meta["dim"], "queries": meta["queries"], "data": str(folder),
              "cpu": cpu_name(), "cores": os.cpu_count(), "generator": args.generator, "generator_cpu": args.generator_cpu,
              "batch": args.batch, "seconds": args.seconds, "python": platform.python_version(),
              "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "loadavg_at_start": os.getloadavg(),
              "servers": []}
    Path(args.work).mkdir(parents=True, exist_ok=True)
    if args.only in (None, "strata"):
        report["servers"].append(run_strata(args, base, queries, truth))
    if args.only in (None, "chroma"):
        report["servers"].append(run_chroma(args, base, queries, truth))
    report["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    report["loadavg_at_end"] = os.getloadavg()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(table(report))
    if args.json:
        log(table(report))


if __name__ == "__main__":
    main()
