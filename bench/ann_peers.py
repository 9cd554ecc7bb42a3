#!/usr/bin/env python3
"""Approximate nearest neighbours: Strata's HNSW beside hnswlib (HNSW) and faiss-cpu (IndexHNSWFlat,
and IndexFlat for the exact figure) in one run on the same seeded data (issue 16's benchmark;
bench only, never a dependency).

Data. A seeded Gaussian mixture, written once per parameter set as raw little-endian files under
--data (reruns with the same parameters skip generation):

    DIR/base.f32        n x dim float32, row-major
    DIR/queries.f32     queries x dim float32 (drawn from the same mixture, not in the base)
    DIR/truth.i32       queries x 100 int32: row numbers of the exact top 100, best first
    DIR/truth_f{p}.i32  the same among the rows a p% filter allows (row % 1000 < p * 10), for p in
                        50, 10, 1, 0.1; padded with -1 where fewer rows are allowed
    DIR/meta.json       n, dim, metric, queries, seed and the mixture's parameters

The mixture: `--clusters` (100) centres drawn from N(0, I), cluster c holding a share of the
points proportional to 1 / (c + 1)^`--zipf` (1: from 19% of the points down to 0.2%); each point is
its centre plus `--spread` (0.5) x N(0, I) in a random `--rank`-dimensional (32) subspace of its
cluster plus `--noise` (0.05) x N(0, I) in every dimension. Real sentence embeddings are like
this: clusters of very different sizes, an intrinsic dimension far below the vector's. Measured
with hnswlib (M 16, efConstruction 200, 100k x 384, cosine) while choosing them: equal clusters
with isotropic noise give 0.74 at ef 16 and 1.000 by ef 256 (0.97 at ef 64); these defaults give
0.82 at ef 16, 0.93 at 32, 0.98 at 64, 0.99 at 128, 0.999 at 256; the same with a 64-dimensional
subspace, harder, 0.71 / 0.84 / 0.94 / 0.98 / 0.997.
Cosine (the default) normalises every row and scores by the dot product; dot keeps the raw
vectors and scores by the dot product; l2 keeps them and ranks by the smallest squared distance.
The truth is numpy's float32 product in blocks; ties go to the lower row.

Peers. Each library runs in a fresh child process (this script with --child), so its memory
figure is its own: the child loads the data, resets its peak RSS (writing 5 to
/proc/self/clear_refs, Linux >= 4.0), builds with M 16 and efConstruction 200 on
--build-threads threads, and reports VmHWM after the build minus VmRSS before it (the build's
peak, the data it was given excluded). Searches then run on ONE thread (hnswlib
`set_num_threads(1)` and `num_threads=1`, faiss `omp_set_num_threads(1)`), the whole query batch
per call, best of --rounds, sweeping ef over --ef-search. Filtered searches run at
--peer-filters (10 and 1 percent) with ef --filter-ef (64 and 256); the summary takes the
fastest point reaching recall@10 0.95, else the best recall. hnswlib's filter is a Python
callable, called per candidate under the GIL: its filtered QPS includes that cost. faiss's
filter is an IDSelectorBitmap in SearchParametersHNSW (C++ side). faiss IndexFlat gives the
exact QPS on 1 and 2 threads. The children get OPENBLAS_CORETYPE from the CPU's flags (see
openblas_coretype) so faiss's bundled OpenBLAS does not fall back to generic kernels.

Strata runs as `STRATA bench ann --data DIR ... --json` (given by --strata or STRATA_CLI) and
its JSON is read from stdout; if the command is missing or fails the reason is printed and the
peers are reported alone.

    bench/ann_setup.sh                          # venv with numpy, hnswlib, faiss-cpu (/tmp/annvenv)
    /tmp/annvenv/bin/python bench/ann_peers.py [--n 100000 --dim 384] [--metric cosine] \\
        [--strata .build/release/strata-cli] [--peers-only | --strata-only] [--json]
    /tmp/annvenv/bin/python bench/ann_peers.py --peers-from peers.json --strata CLI   # peers of an earlier run
    /tmp/annvenv/bin/python bench/ann_peers.py --report run.json                      # a saved run as tables
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

EF_SEARCH = [16, 24, 32, 48, 64, 96, 128, 192, 256]
FILTERS = [50.0, 10.0, 1.0, 0.1]
TRUTH_K = 100
GOAL_RECALL = 0.95


# ---------------------------------------------------------------- data


def mixture_parameters(args) -> dict:
    return {"clusters": args.clusters, "zipf": args.zipf, "spread": args.spread, "rank": args.rank,
            "noise": args.noise}


def data_dir(args) -> Path:
    """The folder of one parameter set under --data (several sets live side by side)."""
    name = (f"{args.metric}-n{args.n}-d{args.dim}-q{args.queries}-s{args.seed}"
            f"-c{args.clusters}-z{args.zipf:g}-r{args.rank}-sp{args.spread:g}-no{args.noise:g}")
    return Path(args.data) / name


def allowed_mask(n: int, percent: float) -> np.ndarray:
    """Rows a percent filter allows: row % 1000 < percent * 10 (10% -> < 100, 0.1% -> < 1)."""
    return (np.arange(n) % 1000) < round(percent * 10)


def filter_name(percent: float) -> str:
    return f"{percent:g}"


def cluster_weights(args) -> np.ndarray:
    """Cluster c's share of the points, proportional to 1 / (c + 1)^zipf (0: equal sizes)."""
    w = 1.0 / np.arange(1, args.clusters + 1, dtype=np.float64) ** args.zipf
    return w / w.sum()


def draw(rng: np.random.Generator, centres: np.ndarray, bases: np.ndarray, count: int, args) -> np.ndarray:
    """`count` points of the mixture: centre + spread x (rank-dim Gaussian in the cluster's
    subspace) + noise x (full Gaussian), in blocks so 1M rows never hold float64 copies."""
    out = np.empty((count, args.dim), dtype=np.float32)
    weights = cluster_weights(args)
    block = 32768
    for start in range(0, count, block):
        m = min(block, count - start)
        labels = rng.choice(args.clusters, size=m, p=weights)
        coords = rng.standard_normal((m, args.rank), dtype=np.float32) * np.float32(args.spread)
        rows = centres[labels]
        for c in np.unique(labels):
            mine = labels == c
            rows[mine] += coords[mine] @ bases[c]
        rows += rng.standard_normal((m, args.dim), dtype=np.float32) * np.float32(args.noise)
        out[start:start + m] = rows
    if args.metric == "cosine":
        out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def exact_top(base: np.ndarray, queries: np.ndarray, metric: str, k: int, rows: np.ndarray | None = None) -> np.ndarray:
    """Row numbers of the exact top k per query, best first, ties to the lower row; `rows` (the
    allowed row numbers, ascending) restricts the search; fewer than k rows pads with -1."""
    subset = base if rows is None else base[rows]
    total = subset.shape[0]
    keep = min(k + 16, total)  # a margin past k, so a tie at the cut still reaches the sort below
    q = queries.shape[0]
    best_score = np.full((q, 0), -np.inf, dtype=np.float32)
    best_row = np.zeros((q, 0), dtype=np.int64)
    q_sq = None
    block = 65536
    for start in range(0, total, block):
        part = subset[start:start + block]
        scores = queries @ part.T  # larger is better
        if metric == "l2":
            # -(|q|^2 - 2 q.x + |x|^2); |q|^2 is the same for a query's every row but kept so the
            # figure is the true negative squared distance.
            if q_sq is None:
                q_sq = np.einsum("ij,ij->i", queries, queries)[:, None]
            scores = 2 * scores - q_sq - np.einsum("ij,ij->i", part, part)[None, :]
        ids = np.arange(start, start + part.shape[0], dtype=np.int64)
        cand_score = np.concatenate([best_score, scores], axis=1)
        cand_row = np.concatenate([best_row, np.broadcast_to(ids, scores.shape)], axis=1)
        if cand_score.shape[1] > keep:
            part_idx = np.argpartition(-cand_score, keep - 1, axis=1)[:, :keep]
            cand_score = np.take_along_axis(cand_score, part_idx, axis=1)
            cand_row = np.take_along_axis(cand_row, part_idx, axis=1)
        best_score, best_row = cand_score, cand_row
    order = np.lexsort((best_row, -best_score), axis=1)
    best_row = np.take_along_axis(best_row, order, axis=1)
    if rows is not None:
        best_row = rows[best_row]
    out = np.full((q, k), -1, dtype=np.int32)
    out[:, :min(k, total)] = best_row[:, :k]
    return out


def ensure_data(args) -> Path:
    folder = data_dir(args)
    meta = {"n": args.n, "dim": args.dim, "metric": args.metric, "queries": args.queries, "seed": args.seed,
            "truth_k": TRUTH_K, "filters": FILTERS, "filter_rule": "row % 1000 < percent * 10",
            "mixture": mixture_parameters(args),
            "files": {"base": "base.f32", "queries": "queries.f32", "truth": "truth.i32",
                      "truth_filtered": {filter_name(p): f"truth_f{filter_name(p)}.i32" for p in FILTERS}},
            "layout": "raw little-endian, row-major, no header"}
    names = ["base.f32", "queries.f32", "truth.i32"] + [f"truth_f{filter_name(p)}.i32" for p in FILTERS]
    meta_path = folder / "meta.json"
    if meta_path.exists() and all((folder / f).exists() for f in names):
        if json.loads(meta_path.read_text()) == meta:
            log(f"data: {folder} (cached)")
            return folder
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    setup = np.random.default_rng([args.seed, 0])
    centres = setup.standard_normal((args.clusters, args.dim), dtype=np.float32)
    # An orthonormal basis per cluster: the subspace its points spread in.
    bases = np.empty((args.clusters, args.rank, args.dim), dtype=np.float32)
    for c in range(args.clusters):
        q_, _ = np.linalg.qr(setup.standard_normal((args.dim, args.rank)))
        bases[c] = q_.T.astype(np.float32)
    base = draw(np.random.default_rng([args.seed, 1]), centres, bases, args.n, args)
    queries = draw(np.random.default_rng([args.seed, 2]), centres, bases, args.queries, args)
    log(f"data: generated {args.n} x {args.dim} in {time.perf_counter() - started:.1f} s")
    base.astype("<f4").tofile(folder / "base.f32")
    queries.astype("<f4").tofile(folder / "queries.f32")
    started = time.perf_counter()
    exact_top(base, queries, args.metric, TRUTH_K).astype("<i4").tofile(folder / "truth.i32")
    for p in FILTERS:
        rows = np.flatnonzero(allowed_mask(args.n, p))
        exact_top(base, queries, args.metric, TRUTH_K, rows).astype("<i4").tofile(folder / f"truth_f{filter_name(p)}.i32")
    log(f"data: exact truth in {time.perf_counter() - started:.1f} s -> {folder}")
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return folder


def load_data(folder: Path):
    meta = json.loads((folder / "meta.json").read_text())
    n, dim, q = meta["n"], meta["dim"], meta["queries"]
    base = np.fromfile(folder / "base.f32", dtype="<f4").reshape(n, dim)
    queries = np.fromfile(folder / "queries.f32", dtype="<f4").reshape(q, dim)
    truth = np.fromfile(folder / "truth.i32", dtype="<i4").reshape(q, TRUTH_K)
    return meta, base, queries, truth


def load_truth_filtered(folder: Path, meta: dict, percent: float) -> np.ndarray:
    return np.fromfile(folder / f"truth_f{filter_name(percent)}.i32", dtype="<i4").reshape(meta["queries"], TRUTH_K)


def recall_at(found: np.ndarray, truth: np.ndarray, k: int = 10) -> float:
    """Mean over queries of |found[:k] & truth[:k]| / (the true hits there are, at most k)."""
    total = 0.0
    for got, want in zip(found[:, :k], truth[:, :k]):
        want = want[want >= 0]
        if len(want) == 0:
            total += 1.0
            continue
        total += len(np.intersect1d(got[got >= 0], want)) / len(want)
    return total / len(found)


# ---------------------------------------------------------------- child: one library


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} missing from /proc/self/status")


class BuildMemory:
    """The build's memory: peak RSS (VmHWM) after it minus RSS before it, the peak reset first."""

    def __enter__(self):
        self.load_peak_kb = status_kb("VmHWM")  # the data's loading, before the reset
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self.reset = True
        except OSError:
            self.reset = False  # then the peak may include the data's loading: reported as such
        self.before_kb = status_kb("VmRSS")
        return self

    def __exit__(self, *exc):
        self.peak_kb = status_kb("VmHWM")
        self.after_kb = status_kb("VmRSS")

    def figures(self) -> dict:
        return {"memory_bytes": (self.peak_kb - self.before_kb) * 1024,
                "memory_retained_bytes": (self.after_kb - self.before_kb) * 1024,
                "rss_before_bytes": self.before_kb * 1024, "rss_peak_bytes": self.peak_kb * 1024,
                "peak_reset": self.reset, "_load_peak_kb": self.load_peak_kb}


# The best round's CPU seconds on the calling thread (the one-thread searches run there), kept
# beside the wall clock: on a busy 2-core machine the wall clock also counts other processes.
LAST_CPU_SECONDS = [0.0]


def timed_best(call, rounds: int) -> tuple[float, object]:
    best, best_cpu, result = float("inf"), float("inf"), None
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.thread_time()
        result = call()
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.thread_time() - start_cpu)
    LAST_CPU_SECONDS[0] = best_cpu
    return best, result


def cpu_qps(count: int) -> float:
    return count / max(LAST_CPU_SECONDS[0], 1e-9)


def child_hnswlib(args, folder: Path) -> dict:
    import hnswlib
    meta, base, queries, truth = load_data(folder)
    space = "l2" if meta["metric"] == "l2" else "ip"  # cosine rows are normalised: ip is cosine
    index = hnswlib.Index(space=space, dim=meta["dim"])
    with BuildMemory() as memory:
        start = time.perf_counter()
        index.init_index(max_elements=meta["n"], ef_construction=args.ef_construction, M=args.m, random_seed=100)
        index.add_items(base, np.arange(meta["n"]), num_threads=args.build_threads)
        build = time.perf_counter() - start
    out = {"library": "hnswlib", "version": version_of("hnswlib"), "index": f"HNSW space={space}",
           "build_seconds": build, **memory.figures(), "searches": [], "filtered": []}
    index.set_num_threads(1)
    for ef in args.ef_search:
        index.set_ef(ef)
        seconds, (labels, _) = timed_best(lambda: index.knn_query(queries, k=10, num_threads=1), args.rounds)
        out["searches"].append({"ef": ef, "recall_at_10": recall_at(labels.astype(np.int64), truth),
                                "qps": len(queries) / seconds, "cpu_qps": cpu_qps(len(queries))})
        log(f"  hnswlib ef {ef}: recall {out['searches'][-1]['recall_at_10']:.4f}, {out['searches'][-1]['qps']:.0f} QPS")
    for percent in args.peer_filters:
        truth_f = load_truth_filtered(folder, meta, percent)
        limit = round(percent * 10)
        for ef in args.filter_ef:
            index.set_ef(ef)
            allowed = lambda label, limit=limit: label % 1000 < limit
            try:
                seconds, (labels, _) = timed_best(
                    lambda: index.knn_query(queries, k=10, num_threads=1, filter=allowed), 1)
            except RuntimeError as error:  # hnswlib raises when it finds fewer than k
                out["filtered"].append({"percent": percent, "ef": ef, "error": str(error)})
                continue
            out["filtered"].append({"percent": percent, "ef": ef, "plan": "graph + Python callable",
                                    "recall_at_10": recall_at(labels.astype(np.int64), truth_f),
                                    "qps": len(queries) / seconds})
            log(f"  hnswlib filter {percent:g}% ef {ef}: recall {out['filtered'][-1]['recall_at_10']:.4f}, "
                f"{out['filtered'][-1]['qps']:.0f} QPS")
    return out


def faiss_metric(faiss, metric: str):
    return faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT


def child_faiss_hnsw(args, folder: Path) -> dict:
    import faiss
    meta, base, queries, truth = load_data(folder)
    index = faiss.IndexHNSWFlat(meta["dim"], args.m, faiss_metric(faiss, meta["metric"]))
    index.hnsw.efConstruction = args.ef_construction
    faiss.omp_set_num_threads(args.build_threads)
    with BuildMemory() as memory:
        start = time.perf_counter()
        index.add(base)
        build = time.perf_counter() - start
    out = {"library": "faiss HNSW", "version": faiss.__version__, "index": "IndexHNSWFlat",
           "compile_options": faiss.get_compile_options(),
           "build_seconds": build, **memory.figures(), "searches": [], "filtered": []}
    faiss.omp_set_num_threads(1)
    for ef in args.ef_search:
        params = faiss.SearchParametersHNSW(efSearch=ef)
        seconds, (_, labels) = timed_best(lambda: index.search(queries, 10, params=params), args.rounds)
        out["searches"].append({"ef": ef, "recall_at_10": recall_at(labels, truth), "qps": len(queries) / seconds,
                                "cpu_qps": cpu_qps(len(queries))})
        log(f"  faiss HNSW ef {ef}: recall {out['searches'][-1]['recall_at_10']:.4f}, {out['searches'][-1]['qps']:.0f} QPS")
    for percent in args.peer_filters:
        truth_f = load_truth_filtered(folder, meta, percent)
        bitmap = np.packbits(allowed_mask(meta["n"], percent), bitorder="little")
        selector = faiss.IDSelectorBitmap(meta["n"], faiss.swig_ptr(bitmap))
        for ef in args.filter_ef:
            params = faiss.SearchParametersHNSW(efSearch=ef, sel=selector)
            seconds, (_, labels) = timed_best(lambda: index.search(queries, 10, params=params), 1)
            out["filtered"].append({"percent": percent, "ef": ef, "plan": "graph + IDSelectorBitmap",
                                    "recall_at_10": recall_at(labels, truth_f), "qps": len(queries) / seconds})
            log(f"  faiss filter {percent:g}% ef {ef}: recall {out['filtered'][-1]['recall_at_10']:.4f}, "
                f"{out['filtered'][-1]['qps']:.0f} QPS")
    return out


def child_faiss_flat(args, folder: Path) -> dict:
    import faiss
    meta, base, queries, truth = load_data(folder)
    index = faiss.IndexFlatL2(meta["dim"]) if meta["metric"] == "l2" else faiss.IndexFlatIP(meta["dim"])
    with BuildMemory() as memory:
        start = time.perf_counter()
        index.add(base)
        build = time.perf_counter() - start
    out = {"library": "faiss Flat", "version": faiss.__version__, "index": type(index).__name__,
           "build_seconds": build, **memory.figures(), "exact": {}}
    for threads in (1, 2):
        faiss.omp_set_num_threads(threads)
        seconds, (_, labels) = timed_best(lambda: index.search(queries, 10), args.rounds)
        out["exact"][f"qps_{threads}"] = len(queries) / seconds
        out["exact"]["recall_at_10"] = recall_at(labels, truth)
        log(f"  faiss Flat {threads} thread(s): {len(queries) / seconds:.0f} QPS, recall {out['exact']['recall_at_10']:.4f}")
    return out


CHILDREN = {"hnswlib": child_hnswlib, "faiss-hnsw": child_faiss_hnsw, "faiss-flat": child_faiss_flat}


def openblas_coretype(requested: str | None) -> str | None:
    """The OpenBLAS core type the children run with. faiss-cpu's wheel bundles OpenBLAS 0.3.15,
    whose CPU table predates this Xeon (family 6 model 207) and falls back to its generic kernels:
    IndexFlat searches at about a quarter of its speed. Unless told otherwise, name the kernels
    the CPU can run (SkylakeX with AVX-512, Haswell with AVX2); "" keeps OpenBLAS's own choice."""
    if requested is not None:
        return requested or None
    if "OPENBLAS_CORETYPE" in os.environ:
        return os.environ["OPENBLAS_CORETYPE"]
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")).split()
    except (OSError, StopIteration):
        return None
    return "SkylakeX" if "avx512f" in flags else "Haswell" if "avx2" in flags else None


def run_child(name: str, args, folder: Path) -> dict:
    """This script again, in a fresh process, for one library; its JSON on stdout."""
    command = [sys.executable, os.path.abspath(__file__), "--child", name, "--child-data", str(folder),
               "--m", str(args.m), "--ef-construction", str(args.ef_construction),
               "--build-threads", str(args.build_threads), "--rounds", str(args.rounds),
               "--ef-search", ",".join(map(str, args.ef_search)),
               "--peer-filters", ",".join(f"{p:g}" for p in args.peer_filters),
               "--filter-ef", ",".join(map(str, args.filter_ef))]
    log(f"{name}: building and searching in a child process")
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    if args.coretype:
        env["OPENBLAS_CORETYPE"] = args.coretype
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, env=env)
    if done.returncode != 0:
        return {"library": name, "error": f"child exited {done.returncode}"}
    result = json.loads(done.stdout)
    result["wall_seconds"] = time.perf_counter() - started
    result["load_average"] = [load_before, os.getloadavg()[0]]
    result["process_peak_rss_bytes"] = result.pop("_max_rss_kb") * 1024
    return result


# ---------------------------------------------------------------- Strata


def run_strata(cli: str, folder: Path, args) -> dict:
    command = [cli, "bench", "ann", "--data", str(folder), "--m", str(args.m),
               "--ef-construction", str(args.ef_construction), "--build-threads", str(args.build_threads),
               "--ef-search", ",".join(map(str, args.ef_search)),
               "--filters", ",".join(f"{p:g}" for p in FILTERS), "--compression", args.strata_compression, "--json"]
    log("strata: " + " ".join(command))
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as error:
        return {"library": "Strata", "command": command, "error": f"cannot run {cli}: {error}"}
    # The process's own peak: its VmHWM, read until it exits (ru_maxrss of a child would carry
    # this process's peak over fork and exec).
    peak_kb = 0
    while True:
        try:
            stdout, stderr = process.communicate(timeout=0.25)
            break
        except subprocess.TimeoutExpired:
            try:
                peak_kb = max(peak_kb, int(next(line for line in Path(f"/proc/{process.pid}/status").read_text()
                                                .splitlines() if line.startswith("VmHWM:")).split()[1]))
            except (OSError, StopIteration, ValueError):
                pass
    done = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-5:]
        return {"library": "Strata", "command": command,
                "error": f"exit {done.returncode}: " + " | ".join(tail)}
    try:
        result = json.loads(done.stdout)
    except json.JSONDecodeError as error:
        return {"library": "Strata", "command": command,
                "error": f"stdout is not JSON ({error}): {done.stdout[:200]!r}"}
    result.update({"library": "Strata", "command": command, "wall_seconds": wall,
                   "load_average": [load_before, os.getloadavg()[0]],
                   "process_peak_rss_bytes": peak_kb * 1024 or None})
    return result


def compressed_variants(strata: dict) -> list:
    """One result per compressed walk that `strata bench ann` swept on the same graph
    (`--compression`): its searches, with the copies' bytes added to the memory, and the store's
    resident growth while those copies were kept (when the CLI reports it per walk)."""
    out = []
    for kind, searches in (strata.get("compressed") or {}).items():
        code_bytes = strata.get("code_bytes", {}).get(kind, 0)
        rss = (strata.get("store_rss_bytes_by_compression") or {}).get(kind, strata.get("store_rss_bytes"))
        out.append({"library": f"Strata {kind}", "searches": searches, "build_seconds": strata["build_seconds"],
                    "memory_bytes": strata["memory_bytes"] + code_bytes, "code_bytes": code_bytes,
                    "store_rss_bytes": rss, "variant_of": "Strata"})
    return out


# ---------------------------------------------------------------- report


def version_of(package: str) -> str:
    from importlib.metadata import version, PackageNotFoundError
    try:
        return version(package)
    except PackageNotFoundError:
        return "missing"


def cpu_model() -> str:
    try:
        for line in subprocess.run(["lscpu"], stdout=subprocess.PIPE, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def at_goal(searches: list) -> dict | None:
    """The measured point with the smallest ef reaching recall@10 >= 0.95 (nothing interpolated)."""
    reached = [s for s in searches if s.get("recall_at_10", 0) >= GOAL_RECALL]
    return min(reached, key=lambda s: s["ef"]) if reached else None


def best_filtered(entry: dict, percent: float) -> dict | None:
    """The peer's filtered point at `percent`: the fastest reaching 0.95, else the best recall."""
    points = [f for f in entry.get("filtered", []) if abs(f["percent"] - percent) < 1e-9 and "recall_at_10" in f]
    if not points:
        return None
    good = [f for f in points if f["recall_at_10"] >= GOAL_RECALL]
    return max(good, key=lambda f: f["qps"]) if good else max(points, key=lambda f: f["recall_at_10"])


def fmt(value, spec: str, none: str = "–") -> str:
    return none if value is None else format(value, spec)


def goals(report: dict) -> list:
    """Each goal of issue 16 as (goal, Strata, best peer, ratio, met)."""
    peers = [r for r in report["results"] if r["library"] in ("hnswlib", "faiss HNSW") and "error" not in r]
    strata = next((r for r in report["results"] if r["library"] == "Strata" and "error" not in r), None)
    rows = []
    peer_goal = [(p["library"], at_goal(p["searches"])) for p in peers]
    peer_goal = [(name, g) for name, g in peer_goal if g]
    best_peer = max(peer_goal, key=lambda x: x[1]["qps"]) if peer_goal else None
    s_goal = at_goal(strata["searches"]) if strata else None
    rows.append({"goal": "QPS at recall@10 >= 0.95, 1 thread: >= 1.2x best peer",
                 "strata": s_goal and s_goal["qps"], "peer": best_peer and best_peer[1]["qps"],
                 "peer_name": best_peer and best_peer[0], "target": 1.2, "higher_is_better": True, "unit": "qps"})
    peer_cpu = [(name, g["cpu_qps"]) for name, g in peer_goal if g.get("cpu_qps")]
    best_cpu_peer = max(peer_cpu, key=lambda x: x[1]) if peer_cpu else None
    for variant in [strata] + [r for r in report["results"] if r.get("variant_of") == "Strata"]:
        v_goal = variant and at_goal(variant["searches"])
        if v_goal and v_goal.get("cpu_qps") and best_cpu_peer:
            walk = "float rows" if variant is strata else variant["library"].split()[-1]
            rows.append({"goal": f"the same per CPU second of the searching thread ({walk}): >= 1.2x",
                         "strata": v_goal["cpu_qps"], "peer": best_cpu_peer[1], "peer_name": best_cpu_peer[0],
                         "target": 1.2, "higher_is_better": True, "unit": "qps"})
    for variant in (r for r in report["results"] if r.get("variant_of") == "Strata"):
        v_goal = at_goal(variant["searches"])
        rows.append({"goal": f"QPS at recall@10 >= 0.95, 1 thread, walks on {variant['library'].split()[-1]}: >= 1.2x best peer",
                     "strata": v_goal and v_goal["qps"], "peer": best_peer and best_peer[1]["qps"],
                     "peer_name": best_peer and best_peer[0], "target": 1.2, "higher_is_better": True, "unit": "qps"})
    fastest = min(peers, key=lambda p: p["build_seconds"]) if peers else None
    rows.append({"goal": f"build seconds on {report['build_threads']} threads: <= fastest peer",
                 "strata": strata and strata.get("build_seconds"), "peer": fastest and fastest["build_seconds"],
                 "peer_name": fastest and fastest["library"], "target": 1.0, "higher_is_better": False, "unit": "s"})
    hnsw = next((p for p in peers if p["library"] == "hnswlib"), None)
    rows.append({"goal": "memory: <= 1.1x hnswlib", "strata": strata and strata.get("memory_bytes"),
                 "peer": hnsw and hnsw["memory_bytes"], "peer_name": "hnswlib", "target": 1.1,
                 "higher_is_better": False, "unit": "MB"})
    if strata and strata.get("store_rss_bytes") is not None:
        rows.append({"goal": "memory, resident growth measured: <= 1.1x hnswlib's",
                     "strata": strata["store_rss_bytes"], "peer": hnsw and hnsw["memory_retained_bytes"],
                     "peer_name": "hnswlib", "target": 1.1, "higher_is_better": False, "unit": "MB"})
    # The compressed walks keep their copies beside the float rows: the goal holds for them too.
    for variant in (r for r in report["results"] if r.get("variant_of") == "Strata"):
        kind = variant["library"].split()[-1]
        rows.append({"goal": f"memory with the {kind} copies: <= 1.1x hnswlib", "strata": variant.get("memory_bytes"),
                     "peer": hnsw and hnsw["memory_bytes"], "peer_name": "hnswlib", "target": 1.1,
                     "higher_is_better": False, "unit": "MB"})
        if variant.get("store_rss_bytes") is not None:
            rows.append({"goal": f"resident growth with the {kind} copies: <= 1.1x hnswlib's", "strata": variant["store_rss_bytes"],
                         "peer": hnsw and hnsw["memory_retained_bytes"], "peer_name": "hnswlib", "target": 1.1,
                         "higher_is_better": False, "unit": "MB"})
    for percent in (10.0, 1.0):
        s_f = strata and next((f for f in strata.get("filtered", []) if abs(f["percent"] - percent) < 1e-9), None)
        h_f = hnsw and best_filtered(hnsw, percent)
        rows.append({"goal": f"filtered {percent:g}%: recall@10 >= 0.95", "strata": s_f and s_f["recall_at_10"],
                     "peer": h_f and h_f["recall_at_10"], "peer_name": "hnswlib", "target": None,
                     "absolute": GOAL_RECALL, "higher_is_better": True, "unit": "recall"})
        rows.append({"goal": f"filtered {percent:g}%: QPS beside hnswlib's filter", "strata": s_f and s_f["qps"],
                     "peer": h_f and h_f["qps"], "peer_name": "hnswlib", "target": None, "higher_is_better": True,
                     "unit": "qps"})
    flat = next((r for r in report["results"] if r["library"] == "faiss Flat" and "error" not in r), None)
    exact = (strata or {}).get("exact", {})
    for threads in (1, 2):
        key = f"qps_{threads}"
        # `strata bench ann` may report its batched exact search on every core as qps_batch.
        mine = exact.get(key, exact.get("qps_batch") if threads == os.cpu_count() else None)
        rows.append({"goal": f"exact QPS, {threads} thread(s), beside faiss IndexFlat",
                     "strata": mine, "peer": flat and flat["exact"][key],
                     "peer_name": "faiss Flat", "target": None, "higher_is_better": True, "unit": "qps"})
    for row in rows:
        s, p = row["strata"], row["peer"]
        row["ratio"] = s / p if s is not None and p else None
        if row.get("absolute") is not None:
            row["met"] = None if s is None else s >= row["absolute"]
        elif row["target"] is not None and row["ratio"] is not None:
            row["met"] = row["ratio"] >= row["target"] if row["higher_is_better"] else row["ratio"] <= row["target"]
        else:
            row["met"] = None
    return rows


def print_report(report: dict) -> None:
    mb = 1 / (1 << 20)
    print(f"ANN, {report['n']:,} x {report['dim']} {report['metric']}, {report['queries']:,} queries; "
          f"M {report['m']}, efConstruction {report['ef_construction']}, build on {report['build_threads']} threads, "
          f"search on 1 thread, whole batch per call, best of {report['rounds']}")
    print(f"CPU: {report['cpu']} ({report['nproc']} cores); python {report['versions']['python']}, "
          f"numpy {report['versions']['numpy']}, hnswlib {report['versions']['hnswlib']}, "
          f"faiss-cpu {report['versions']['faiss-cpu']}")
    print(f"data: {report['data']} (mixture {report['mixture']}); peers' OPENBLAS_CORETYPE "
          f"{report.get('openblas_coretype') or 'unset'}")
    loads = [f"{r['library']} {r['load_average'][0]:.1f} -> {r['load_average'][1]:.1f}"
             for r in report["results"] if "load_average" in r]
    if loads:
        print("load average (1 min) before -> after each: " + ", ".join(loads) + f" on {report['nproc']} cores")
    if "peers_from" in report:
        print(f"peers: from {report['peers_from']['file']} (run of {report['peers_from']['started']})")
    print()
    print("| library | build s | memory MB | RSS kept MB | process peak MB | QPS at recall@10 >= 0.95 (ef, recall) | filtered 10%: recall / QPS (ef) | filtered 1%: recall / QPS (ef) |")
    print("|---|---:|---:|---:|---:|---|---|---|")
    for r in report["results"]:
        if "error" in r:
            print(f"| {r['library']} | not run: {r['error']} | | | | | | |")
            continue
        if r["library"] == "faiss Flat":
            e = r["exact"]
            print(f"| faiss Flat (exact) | {r['build_seconds']:.2f} | {r['memory_bytes'] * mb:.0f} | "
                  f"{r['memory_retained_bytes'] * mb:.0f} | {fmt(r.get('process_peak_rss_bytes') and r['process_peak_rss_bytes'] * mb, '.0f')} | "
                  f"{e['qps_1']:,.0f} (1 thread), {e['qps_2']:,.0f} (2 threads), recall {e['recall_at_10']:.4f} | | |")
            continue
        g = at_goal(r["searches"])
        cells = []
        for percent in (10.0, 1.0):
            if r["library"] == "Strata":
                f = next((f for f in r.get("filtered", []) if abs(f["percent"] - percent) < 1e-9), None)
                cells.append(f"{f['recall_at_10']:.4f} / {f['qps']:,.0f} ({f.get('plan', '?')})" if f else "–")
            else:
                f = best_filtered(r, percent)
                cells.append(f"{f['recall_at_10']:.4f} / {f['qps']:,.0f} (ef {f['ef']})" if f else "–")
        goal_cell = f"{g['qps']:,.0f} (ef {g['ef']}, {g['recall_at_10']:.4f})" if g else "not reached"
        kept = r.get("memory_retained_bytes", r.get("store_rss_bytes"))
        peak = r.get("process_peak_rss_bytes")
        print(f"| {r['library']} | {r['build_seconds']:.2f} | {r['memory_bytes'] * mb:.0f} | {fmt(kept and kept * mb, '.0f')} | "
              f"{fmt(peak and peak * mb, '.0f')} | "
              f"{goal_cell} | {cells[0]} | {cells[1]} |")
    print("(memory: the peers' peak RSS growth during the build, measured in a fresh process; Strata's memory_bytes "
          "as its bench reports it. RSS kept: the peers' RSS growth after the build, Strata's store_rss_bytes. "
          "Process peak: each process's VmHWM, data and searches included.)")
    print()
    searchers = [r for r in report["results"] if "searches" in r and "error" not in r]
    print("| ef | " + " | ".join(f"{r['library']} recall@10 | {r['library']} QPS" for r in searchers) + " |")
    print("|---:|" + "---:|---:|" * len(searchers))
    for ef in report["ef_search"]:
        cells = []
        for r in searchers:
            s = next((s for s in r["searches"] if s["ef"] == ef), None)
            cells += [fmt(s and s["recall_at_10"], ".4f"), fmt(s and s["qps"], ",.0f")]
        print(f"| {ef} | " + " | ".join(cells) + " |")
    filtered = [(r["library"], f) for r in report["results"] if "error" not in r for f in r.get("filtered", [])]
    if filtered:
        print()
        print("| library | filter % | plan | ef | recall@10 | QPS |")
        print("|---|---:|---|---:|---:|---:|")
        for name, f in filtered:
            if "error" in f:
                print(f"| {name} | {f['percent']:g} | | {f.get('ef', '')} | error: {f['error']} | |")
            else:
                print(f"| {name} | {f['percent']:g} | {f.get('plan', '')} | {f.get('ef', '–')} | "
                      f"{f['recall_at_10']:.4f} | {f['qps']:,.0f} |")
        print("(hnswlib's filter is a Python callable, called per candidate under the GIL: its QPS "
              "includes that cost; faiss's IDSelectorBitmap is tested in C++.)")
    print()
    print("| goal (issue 16) | Strata | best peer | Strata / peer | met |")
    print("|---|---:|---:|---:|---|")
    for g in report["goals"]:
        scale = mb if g["unit"] == "MB" else 1
        spec = {"qps": ",.0f", "s": ".2f", "MB": ",.1f", "recall": ".4f"}[g["unit"]]
        s = fmt(g["strata"] and g["strata"] * scale, spec)
        p = fmt(g["peer"] and g["peer"] * scale, spec)
        met = {True: "yes", False: "no", None: "–"}[g["met"]]
        print(f"| {g['goal']} | {s} | {p} ({g['peer_name'] or '–'}) | {fmt(g['ratio'], '.2f')} | {met} |")
    strata = next((r for r in report["results"] if r["library"] == "Strata"), None)
    if strata is None:
        print("\nStrata: not run (--peers-only, or no --strata / STRATA_CLI given)")
    elif "error" in strata:
        print(f"\nStrata: not run: {strata['error']}")
    elif strata.get("cpu"):
        print(f"\nStrata reports CPU: {strata['cpu']}")


def parse_list(kind):
    return lambda text: [kind(x) for x in text.split(",") if x]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--metric", choices=["cosine", "l2", "dot"], default="cosine")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clusters", type=int, default=100)
    parser.add_argument("--zipf", type=float, default=1.0, help="cluster sizes ~ 1 / (c + 1)^zipf")
    parser.add_argument("--rank", type=int, default=32, help="dimension of each cluster's subspace")
    parser.add_argument("--spread", type=float, default=0.5, help="scale of the in-subspace noise")
    parser.add_argument("--noise", type=float, default=0.05, help="scale of the isotropic noise")
    parser.add_argument("--data", default="/tmp/ann-data", help="folder holding one subfolder per data set")
    parser.add_argument("--m", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=200)
    parser.add_argument("--build-threads", type=int, default=2)
    parser.add_argument("--ef-search", type=parse_list(int), default=EF_SEARCH)
    parser.add_argument("--filter-ef", type=parse_list(int), default=[64, 256],
                        help="ef values for the peers' filtered searches")
    parser.add_argument("--peer-filters", type=parse_list(float), default=[10.0, 1.0],
                        help="filter percentages the peers run (Strata always gets 50,10,1,0.1)")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many batches per ef")
    parser.add_argument("--strata", default=os.environ.get("STRATA_CLI"), help="strata CLI (or env STRATA_CLI)")
    parser.add_argument("--libraries", type=parse_list(str), default=list(CHILDREN),
                        help="peers to run: " + ",".join(CHILDREN))
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--peers-only", action="store_true", help="run the peers, not Strata")
    only.add_argument("--strata-only", action="store_true", help="run Strata, not the peers")
    parser.add_argument("--strata-compression", default="none,int8",
                        help="what Strata's walks read, swept on one graph: none (float rows), fp16, int8 (default none,int8)")
    parser.add_argument("--peers-from", metavar="FILE",
                        help="take the peers' results from an earlier --json report instead of running them")
    parser.add_argument("--openblas-coretype", dest="openblas_coretype",
                        help="OPENBLAS_CORETYPE for the peers (default: from the CPU's flags; '' for OpenBLAS's own pick)")
    parser.add_argument("--report", metavar="FILE", help="print an earlier --json report as tables and stop")
    parser.add_argument("--data-only", action="store_true", help="write the data set and stop")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=list(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--child-data", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        result = CHILDREN[args.child](args, Path(args.child_data))
        # ru_maxrss would carry the parent's peak over fork and exec; VmHWM is this image's own.
        result["_max_rss_kb"] = max(result.pop("_load_peak_kb"), status_kb("VmHWM"))
        result["openblas_coretype"] = os.environ.get("OPENBLAS_CORETYPE")
        print(json.dumps(result))
        return

    if args.report:
        print_report(json.loads(Path(args.report).read_text()))
        return
    args.coretype = openblas_coretype(args.openblas_coretype)
    folder = ensure_data(args)
    if args.data_only:
        print(folder)
        return
    report = {"n": args.n, "dim": args.dim, "metric": args.metric, "queries": args.queries, "seed": args.seed,
              "mixture": mixture_parameters(args), "data": str(folder), "m": args.m,
              "ef_construction": args.ef_construction, "build_threads": args.build_threads,
              "ef_search": args.ef_search, "rounds": args.rounds, "cpu": cpu_model(), "nproc": os.cpu_count(),
              "versions": {"python": platform.python_version(), "numpy": np.__version__,
                           "hnswlib": version_of("hnswlib"), "faiss-cpu": version_of("faiss-cpu")},
              "openblas_coretype": args.coretype, "loadavg_start": os.getloadavg(),
              "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "results": []}
    if args.peers_from:
        earlier = json.loads(Path(args.peers_from).read_text())
        same = {key: earlier[key] for key in ("n", "dim", "metric", "queries", "seed", "mixture", "m", "ef_construction")}
        if same != {key: report[key] for key in same}:
            sys.exit(f"{args.peers_from} measured other data or parameters: {same}")
        report["peers_from"] = {"file": args.peers_from, "started": earlier["started"], "cpu": earlier["cpu"]}
        report["versions"] = earlier["versions"]
        report["openblas_coretype"] = earlier.get("openblas_coretype")
        report["results"] += [r for r in earlier["results"] if r["library"] != "Strata" and r.get("variant_of") != "Strata"]
    elif not args.strata_only:
        for name in args.libraries:
            report["results"].append(run_child(name, args, folder))
    if not args.peers_only:
        if args.strata:
            strata = run_strata(args.strata, folder, args)
            report["results"].append(strata)
            report["results"] += compressed_variants(strata)
        else:
            report["results"].append({"library": "Strata", "error": "no CLI given (--strata PATH or STRATA_CLI)"})
    report["goals"] = goals(report)
    report["max_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    report["process_peak_rss_bytes"] = max([report["max_rss_bytes"]] + [
        r.get("process_peak_rss_bytes") or 0 for r in report["results"]])
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)


if __name__ == "__main__":
    main()
