"""bench/loadgen.c, bench/recall_inprocess.c and bench/http_floor.c, the C tools bench/server_peers.py builds (and
bench/phase_stamps.py, which reads their --stamps): compiled
with the system's C compiler (-Wall -Wextra -Werror) and run against a real `strata serve` and a
real store folder (the floor against loadgen), so the figures the benchmark reports come from tools that read answers right.
"""

import importlib.util
import json
import shutil
import subprocess
import struct

import pytest

from test_serve import BIN, ROOT, Server, cli, environment

# bench/phase_stamps.py, which reads what loadgen --stamps and http_floor --stamps write.
_spec = importlib.util.spec_from_file_location("phase_stamps", ROOT / "bench" / "phase_stamps.py")
stamps = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stamps)

CC = shutil.which("cc") or shutil.which("gcc")
LIBRARY_DIR = BIN.resolve().parent  # libstrata.so and the plugins beside the CLI under test


def compile_tool(tmp_path, name, *extra):
    out = tmp_path / name
    p = subprocess.run([CC, "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(out), str(ROOT / "bench" / f"{name}.c"), *extra],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return out


def requests_file(path, requests):
    with open(path, "wb") as f:
        for r in requests:
            f.write(struct.pack("<I", len(r)) + r)
    return path


def http(method, target, body=None):
    data = b"" if body is None else json.dumps(body).encode()
    return f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data


def read_pass(path):
    data, at, out = path.read_bytes(), 0, []
    while at < len(data):
        status, nanoseconds, length = struct.unpack_from("<III", data, at)
        out.append((status, nanoseconds, data[at + 12:at + 12 + length]))
        at += 12 + length
    return out


@pytest.fixture
def folder(tmp_path):
    code, _, err = cli("init", "--dir", str(tmp_path / "store"), cwd=tmp_path)
    assert code == 0, err
    return tmp_path


def store_notes(folder, queries=()):
    """Stores 30 notes through a server on the folder's store: (its dimension, the queries' vectors)."""
    s = Server(folder)
    try:
        dim = s.ok("GET", "/v1/stats")["dimension"]
        s.ok("POST", "/v1/memories", {"items": [{"content": f"note {i} on rivers and hills"} for i in range(30)]}, status=201)
        return dim, s.ok("POST", "/v1/embed", {"texts": list(queries)})["vectors"] if queries else []
    finally:
        assert s.stop()[0] == 0


@pytest.mark.skipif(CC is None, reason="no C compiler: scripts/setup installs one")
def test_loadgen_reads_each_answer_whole_and_counts_errors(folder, tmp_path):
    loadgen = compile_tool(tmp_path, "loadgen")
    s = Server(folder)
    try:
        ids = s.ok("POST", "/v1/memories", {"items": [{"content": f"note {i} on rivers"} for i in range(20)]}, status=201)["ids"]
        requests = [http("GET", "/v1/health"), http("POST", "/v1/recall", {"query": "rivers", "k": 3}),
                    http("GET", f"/v1/memories/{ids[4]}"), http("GET", "/v1/memories/none-such")]
        path = requests_file(tmp_path / "requests.bin", requests)
        for spin in ([], ["--spin"]):
            p = subprocess.run([str(loadgen), "--port", str(s.port), "--requests", str(path), "--pass", str(tmp_path / "out.bin"), *spin],
                               capture_output=True, text=True)
            assert p.returncode == 0, p.stderr
            summary = json.loads(p.stdout)
            assert summary["requests"] == 4 and summary["errors"] == 1 and summary["first_error"].startswith("HTTP 404"), summary
            # Only the recall's answer says how long its engine call took (Server-Timing); the
            # summary subtracts it from that answer's latency.
            timing = summary["server_timing"]
            assert timing["answers"] == 1 and timing["engine_p50_ms"] > 0 and timing["minus_engine_p50_ms"] > 0, timing
            assert timing["minus_engine_p50_ms"] == timing["minus_engine_mean_ms"], timing
            answers = read_pass(tmp_path / "out.bin")
            assert [a[0] for a in answers] == [200, 200, 200, 404]
            assert json.loads(answers[0][2])["status"] == "ok"
            assert len(json.loads(answers[1][2])["hits"]) == 3
            assert json.loads(answers[2][2])["id"] == ids[4]
            assert all(a[1] > 0 for a in answers)
        # Several connections on one thread, each answer whole before the next request.
        ok = requests_file(tmp_path / "ok.bin", requests[:3])
        p = subprocess.run([str(loadgen), "--port", str(s.port), "--requests", str(ok), "--connections", "3", "--seconds", "0.5"],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        run = json.loads(p.stdout)
        assert run["requests"] > 3 and run["errors"] == 0 and 0 < run["p50_ms"] <= run["p99_ms"] <= run["p999_ms"] <= run["max_ms"], run
        assert "server_timing" not in run, "only a pass on one connection reports it"
    finally:
        assert s.stop()[0] == 0
    # Bad arguments and a server that is gone are errors with a message, not hangs.
    p = subprocess.run([str(loadgen), "--port", "0", "--requests", str(path)], capture_output=True, text=True)
    assert p.returncode == 2 and "--port" in p.stderr
    p = subprocess.run([str(loadgen), "--port", str(s.port), "--requests", str(path), "--pass", str(tmp_path / "o")],
                       capture_output=True, text=True)
    assert p.returncode == 1 and "connect" in p.stderr


@pytest.mark.skipif(CC is None, reason="no C compiler: scripts/setup installs one")
def test_recall_inprocess_answers_as_the_server_does(folder, tmp_path):
    tool = compile_tool(tmp_path, "recall_inprocess", "-I", str(ROOT / "include"), "-L", str(LIBRARY_DIR), "-lstrata",
                        f"-Wl,-rpath,{LIBRARY_DIR}")
    s = Server(folder)
    try:
        dim = s.ok("GET", "/v1/stats")["dimension"]
        s.ok("POST", "/v1/memories", {"items": [{"content": f"note {i} on rivers and hills"} for i in range(30)]}, status=201)
        queries = s.ok("POST", "/v1/embed", {"texts": ["rivers", "hills"]})["vectors"]
        served = [[h["id"] for h in s.ok("POST", "/v1/recall", {"vector": q, "k": 4, "track_access": False})["hits"]] for q in queries]
    finally:
        assert s.stop()[0] == 0
    (tmp_path / "q.f32").write_bytes(b"".join(struct.pack(f"<{dim}f", *q) for q in queries))
    for gap in ([], ["50"]):
        p = subprocess.run([str(tool), str(folder / "store" / "strata.json"), str(tmp_path / "q.f32"), str(dim),
                            json.dumps({"k": 4, "track_access": False}), str(tmp_path / "answers.bin"), *gap],
                           capture_output=True, text=True, env=environment())
        assert p.returncode == 0, p.stderr
        summary = json.loads(p.stdout)
        assert summary["queries"] == 2 and summary["p50_us"] > 0, summary
        data, at, found = (tmp_path / "answers.bin").read_bytes(), 0, []
        while at < len(data):
            (length,) = struct.unpack_from("<I", data, at)
            found.append([h["id"] for h in json.loads(data[at + 4:at + 4 + length])["hits"]])
            at += 4 + length
        assert found == served
    p = subprocess.run([str(tool), str(folder / "store" / "strata.json"), str(tmp_path / "q.f32"), "0", "{}", str(tmp_path / "a")],
                       capture_output=True, text=True, env=environment())
    assert p.returncode == 2 and "dimension" in p.stderr


@pytest.mark.skipif(CC is None, reason="no C compiler: scripts/setup installs one")
def test_http_floor_answers_each_request_with_the_given_bytes(tmp_path):
    floor = compile_tool(tmp_path, "http_floor")
    loadgen = compile_tool(tmp_path, "loadgen")
    answer = json.dumps({"hits": [{"id": f"r{i}", "score": 0.5} for i in range(10)]}).encode()
    (tmp_path / "answer.json").write_bytes(answer)
    server = subprocess.Popen([str(floor), "--port", "0", "--answer", str(tmp_path / "answer.json")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        assert line.startswith("listening on "), line
        port = int(line.split()[-1])
        # Bodies of several sizes, a bodiless GET, and a body larger than one read.
        requests = [http("POST", "/v1/recall", {"vector": "x" * n, "k": 10}) for n in (0, 2000, 100_000)] + [http("GET", "/v1/health")]
        path = requests_file(tmp_path / "requests.bin", requests)
        for spin in ([], ["--spin"]):
            p = subprocess.run([str(loadgen), "--port", str(port), "--requests", str(path), "--pass", str(tmp_path / "out.bin"), *spin],
                               capture_output=True, text=True)
            assert p.returncode == 0, p.stderr
            assert json.loads(p.stdout)["errors"] == 0
            assert "server_timing" not in json.loads(p.stdout), "no engine call, no Server-Timing"
            answers = read_pass(tmp_path / "out.bin")
            assert [(a[0], a[2]) for a in answers] == [(200, answer)] * 4
        # A chunked request is refused with 400 and its connection closed.
        chunked = b"POST /v1/recall HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
        p = subprocess.run([str(loadgen), "--port", str(port), "--requests", str(requests_file(tmp_path / "bad.bin", [chunked])),
                            "--pass", str(tmp_path / "bad-out.bin")], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        assert [a[0] for a in read_pass(tmp_path / "bad-out.bin")] == [400]
    finally:
        server.terminate()
        assert server.wait(timeout=10) == 0
    p = subprocess.run([str(floor), "--port", "0", "--answer", str(tmp_path / "missing.json")], capture_output=True, text=True)
    assert p.returncode == 2 and "missing.json" in p.stderr
    p = subprocess.run([str(floor), "--port", "0"], capture_output=True, text=True)
    assert p.returncode == 2 and "usage" in p.stderr
    for option in ("--work-us", "--busy-poll-us"):
        for bad in ("-1", "2000000", "12x", ""):
            p = subprocess.run([str(floor), "--port", "0", "--answer", str(tmp_path / "answer.json"), option, bad], capture_output=True, text=True)
            assert p.returncode == 2 and f"{option} must be in 0...1000000" in p.stderr, (option, bad, p.stderr)


@pytest.mark.skipif(CC is None, reason="no C compiler: scripts/setup installs one")
@pytest.mark.parametrize("busy_poll", ["0", "500"])
def test_http_floor_works_as_long_as_asked_before_each_answer(tmp_path, busy_poll):
    floor = compile_tool(tmp_path, "http_floor")
    loadgen = compile_tool(tmp_path, "loadgen")
    (tmp_path / "answer.json").write_bytes(b'{"hits": []}')
    server = subprocess.Popen([str(floor), "--port", "0", "--answer", str(tmp_path / "answer.json"), "--work-us", "3000",
                               "--busy-poll-us", busy_poll], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline().split()[-1])
        # Two passes, two connections: with busy polling, the first connection's last answer is
        # followed by a poll that the second's requests must not be lost to.
        path = requests_file(tmp_path / "requests.bin", [http("GET", "/v1/health")] * 5)
        for _ in range(2):
            p = subprocess.run([str(loadgen), "--port", str(port), "--requests", str(path), "--pass", str(tmp_path / "out.bin")],
                               capture_output=True, text=True)
            assert p.returncode == 0, p.stderr
            answers = read_pass(tmp_path / "out.bin")
            # Each answer came after the server's 3 ms of work (a lower bound: a slow machine only adds).
            assert [a[0] for a in answers] == [200] * 5
            assert min(a[1] for a in answers) >= 3_000_000, [a[1] for a in answers]
    finally:
        server.terminate()
        assert server.wait(timeout=10) == 0


@pytest.mark.skipif(CC is None, reason="no C compiler: scripts/setup installs one")
def test_http_floor_makes_the_engine_call_for_each_request(folder, tmp_path):
    # http_floor --engine: each request's work is strata_engine_recall_vector on a real store
    # (libstrata.so loaded with dlopen), the next query in file order; it counts its calls.
    floor = compile_tool(tmp_path, "http_floor")
    loadgen = compile_tool(tmp_path, "loadgen")
    dim, queries = store_notes(folder, ["rivers", "hills", "notes"])
    (tmp_path / "q.f32").write_bytes(b"".join(struct.pack(f"<{dim}f", *q) for q in queries))
    (tmp_path / "answer.json").write_bytes(b'{"hits": []}')
    library, config = str(LIBRARY_DIR / "libstrata.so"), str(folder / "store" / "strata.json")

    def start(*extra):
        return subprocess.Popen([str(floor), "--port", "0", "--answer", str(tmp_path / "answer.json"), *extra],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment())

    server = start("--engine", library, config, "--queries", str(tmp_path / "q.f32"), "--dim", str(dim), "--busy-poll-us", "200")
    try:
        port = int(server.stdout.readline().split()[-1])
        path = requests_file(tmp_path / "requests.bin", [http("POST", "/v1/recall", {"k": 10})] * 5)
        p = subprocess.run([str(loadgen), "--port", str(port), "--requests", str(path), "--pass", str(tmp_path / "out.bin")],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        assert [(a[0], a[2]) for a in read_pass(tmp_path / "out.bin")] == [(200, b'{"hits": []}')] * 5
        # Each answer carries the engine call's own time (Server-Timing), as strata serve's do.
        timing = json.loads(p.stdout)["server_timing"]
        assert timing["answers"] == 5 and timing["engine_p50_ms"] > 0 and timing["minus_engine_p50_ms"] > 0, timing
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert server.returncode == 0 and "engine calls: 5" in err, err
    # Queries of another dimension than the store's: the first request's call fails, and the
    # floor exits with the engine's message.
    server = start("--engine", library, config, "--queries", str(tmp_path / "q.f32"), "--dim", str(dim // 2))
    port = int(server.stdout.readline().split()[-1])
    subprocess.run([str(loadgen), "--port", str(port), "--requests", str(path), "--pass", str(tmp_path / "out.bin")],
                   capture_output=True, text=True)
    _, err = server.communicate(timeout=30)
    assert server.returncode == 1 and "strata_engine_recall_vector failed" in err and "dimension" in err, err
    # Bad arguments name what is wrong.
    for extra, message in [(["--engine", library, config], "--engine needs --queries and --dim"),
                           (["--text"], "--text needs --engine"),
                           (["--engine", library, config, "--text", "--queries", str(tmp_path / "q.f32")], "takes no --queries"),
                           (["--engine", library], "--engine needs LIBSTRATA and CONFIG"),
                           (["--engine", str(tmp_path / "nope.so"), config, "--queries", str(tmp_path / "q.f32"), "--dim", str(dim)],
                            "nope.so"),
                           (["--engine", library, config, "--queries", str(tmp_path / "q.f32"), "--dim", str(dim + 1)],
                            "holds no whole queries of dimension"),
                           (["--engine", library, str(tmp_path / "none.json"), "--queries", str(tmp_path / "q.f32"), "--dim", str(dim)],
                            "none.json")]:
        p = subprocess.run([str(floor), "--port", "0", "--answer", str(tmp_path / "answer.json"), *extra],
                           capture_output=True, text=True, env=environment())
        assert p.returncode == 2 and message in p.stderr, (extra, p.stderr)


@pytest.mark.skipif(CC is None, reason="no C compiler: scripts/setup installs one")
def test_http_floor_text_and_loadgen_paired_make_the_recall_by_text_of_each_request(folder, tmp_path):
    # http_floor --engine --text: each request's body goes to strata_engine_recall as it came.
    # loadgen --paired makes the same call in its own process beside each request and reports
    # each request's latency minus it (bench/server_text.py's overhead rounds).
    floor = compile_tool(tmp_path, "http_floor")
    loadgen = compile_tool(tmp_path, "loadgen")
    store_notes(folder)
    (tmp_path / "answer.json").write_bytes(b'{"hits": []}')
    library, config = str(LIBRARY_DIR / "libstrata.so"), str(folder / "store" / "strata.json")
    bodies = [{"query": q, "k": 3, "track_access": False} for q in ["rivers", "hills", "notes", "rivers and hills"]]
    path = requests_file(tmp_path / "requests.bin", [http("POST", "/v1/recall", b) for b in bodies])

    def start(*extra):
        server = subprocess.Popen([str(floor), "--port", "0", "--answer", str(tmp_path / "answer.json"), "--engine", library, config,
                                   "--text", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment())
        return server, int(server.stdout.readline().split()[-1])

    server, port = start("--stamps", str(tmp_path / "floor-stamps.bin"))
    try:
        p = subprocess.run([str(loadgen), "--port", str(port), "--requests", str(path), "--pass", str(tmp_path / "out.bin"),
                            "--paired", library, config, "--stamps", str(tmp_path / "client-stamps.bin")],
                           capture_output=True, text=True, env=environment())
        assert p.returncode == 0, p.stderr
        summary = json.loads(p.stdout)
        assert [a[0] for a in read_pass(tmp_path / "out.bin")] == [200] * 4
        assert summary["server_timing"]["answers"] == 4, summary
        paired = summary["paired"]
        assert paired["requests"] == 4 and paired["in_process_p50_ms"] > 0, paired
        # The differences are each request's latency minus its own call: their mean is the
        # latencies' mean minus the calls' mean.
        assert paired["overhead_mean_ms"] == pytest.approx(summary["mean_ms"] - paired["in_process_mean_ms"], abs=1e-5), paired
        # Each half holds two of the four differences: a half's median (the upper of two) is at
        # least its mean.
        assert paired["after_pause_overhead_p50_ms"] >= paired["after_pause_overhead_mean_ms"] - 1e-6, paired
        assert "back_to_back_overhead_p50_ms" in paired
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert server.returncode == 0 and "engine calls: 4" in err, err
    # --stamps (bench/phase_stamps.py): each request's steps on the one clock, in order (the
    # client's send, the floor's read, its call, the client's receipt; the floor's writev returns
    # after the call, and may return after the receipt when its thread is preempted), and each
    # request matched to its own floor row.
    client = stamps.rows(tmp_path / "client-stamps.bin", 2)
    floor_rows = stamps.rows(tmp_path / "floor-stamps.bin", stamps.FLOOR_SLOTS)
    assert len(client) == 4 and len(floor_rows) == 4
    for (sent, received), row in zip(client, floor_rows):
        assert sent <= row[0] <= row[1] <= row[2] <= received and row[2] <= row[3], (sent, row, received)
    assert stamps.matched(client, floor_rows, 1) == floor_rows
    steps = stamps.floor_steps(client, floor_rows)
    assert steps["after_pause"]["requests"] == steps["back_to_back"]["requests"] == 2, steps
    assert all(steps[half]["latency_minus_call"] > 0 for half in steps), steps
    # A row whose call falls outside every request is matched to none.
    assert stamps.matched(client[:1], floor_rows[1:], 1) == [None]
    # A body the engine refuses: the floor exits with the engine's message.
    server, port = start()
    bad = requests_file(tmp_path / "bad.bin", [http("POST", "/v1/recall", {"query": "rivers", "no_such_key": 1})])
    subprocess.run([str(loadgen), "--port", str(port), "--requests", str(bad), "--pass", str(tmp_path / "out.bin")],
                   capture_output=True, text=True)
    _, err = server.communicate(timeout=30)
    assert server.returncode == 1 and "strata_engine_recall failed" in err and "no_such_key" in err, err
    # loadgen's own argument errors: --paired needs --pass, a library it can load and a store it can open.
    for extra, message in [(["--paired", library, config], "--paired needs --pass"),
                           (["--pass", str(tmp_path / "o"), "--paired", str(tmp_path / "nope.so"), config], "nope.so"),
                           (["--pass", str(tmp_path / "o"), "--paired", library, str(tmp_path / "none.json")], "none.json"),
                           (["--pass", str(tmp_path / "o"), "--paired", library], "--paired needs LIBSTRATA and CONFIG"),
                           (["--stamps", str(tmp_path / "s")], "--stamps needs --pass")]:
        p = subprocess.run([str(loadgen), "--port", "1", "--requests", str(path), *extra], capture_output=True, text=True,
                           env=environment())
        assert p.returncode == 2 and message in p.stderr, (extra, p.stderr)
    # Stamps it cannot write: named, exit 1, before any request is sent.
    p = subprocess.run([str(loadgen), "--port", "1", "--requests", str(path), "--pass", str(tmp_path / "o"),
                        "--stamps", str(tmp_path / "no" / "such" / "s")], capture_output=True, text=True)
    assert p.returncode == 1 and "no/such/s" in p.stderr, p.stderr
    # The floor's --stamps needs --engine; stamps it cannot write are named.
    p = subprocess.run([str(floor), "--port", "0", "--answer", str(tmp_path / "answer.json"), "--stamps", str(tmp_path / "s")],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "--stamps needs --engine" in p.stderr, p.stderr
    p = subprocess.run([str(floor), "--port", "0", "--answer", str(tmp_path / "answer.json"), "--engine", library, config, "--text",
                        "--stamps", str(tmp_path / "no" / "such" / "s")], capture_output=True, text=True, env=environment())
    assert p.returncode == 1 and "no/such/s" in p.stderr, p.stderr
