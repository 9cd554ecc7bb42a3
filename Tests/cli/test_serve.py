"""`strata serve`, driven as a client drives it: the real binary (STRATA_CLI) on a free loopback
port, spoken to over HTTP (http.client) and WebSocket (a minimal RFC 6455 client below, on the
stdlib's socket). Every route, every error status, the token matrix, events, and SIGTERM and
SIGKILL while writes are in flight.

Stores use the SQLite preset with the hashing embedder, like test_cli.py.
"""

import base64
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("STRATA_CLI", ROOT / ".build" / "debug" / "strata-cli"))
# Guards against a hang only (a test that stops making progress fails instead of blocking CI).
SOCKET_TIMEOUT = 300


def environment():
    env = {k: v for k, v in os.environ.items() if k != "STRATA_DIR"}
    env["STRATA_EMBEDDER"] = "hashing"
    return env


def cli(*args, cwd):
    p = subprocess.run([str(BIN), *args], cwd=cwd, env=environment(), capture_output=True)
    return p.returncode, p.stdout, p.stderr.decode()


def cli_json(*args, cwd):
    code, out, err = cli(*args, "--json", cwd=cwd)
    assert code == 0, f"strata {' '.join(args)} exited {code}: {err}"
    return json.loads(out)


class Server:
    """One `strata serve --port 0` process on a store folder."""

    def __init__(self, folder: Path, *extra):
        self.folder = folder
        self.proc = subprocess.Popen(
            [str(BIN), "serve", "--dir", str(folder / "store"), "--port", "0", *extra],
            cwd=folder, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("strata serve: listening on http://127.0.0.1:"):
            self.proc.kill()
            raise AssertionError(f"the server did not start: {line!r} {self.proc.stderr.read()}")
        self.port = int(line.rsplit(":", 1)[1])

    def call(self, method, path, body=None, token=None, raw=None, headers=None):
        """(status, parsed JSON answer, raw bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=SOCKET_TIMEOUT)
        try:
            data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
            h = dict(headers or {})
            if token is not None:
                h["Authorization"] = f"Bearer {token}"
            if data is not None:
                h["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            payload = r.read()
            return r.status, (json.loads(payload) if payload else None), payload
        finally:
            conn.close()

    def metric(self, name, **labels):
        """The value of one sample on /metrics, or None when it is not there."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=SOCKET_TIMEOUT)
        try:
            conn.request("GET", "/metrics")
            text = conn.getresponse().read().decode()
        finally:
            conn.close()
        want = name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}" if labels else "")
        for line in text.splitlines():
            key, _, number = line.rpartition(" ")
            if key == want:
                return float(number)
        return None

    def ok(self, method, path, body=None, token=None, status=200):
        code, answer, _ = self.call(method, path, body, token)
        assert code == status, f"{method} {path}: {code} {answer}"
        return answer

    def error(self, status, method, path, body=None, token=None, raw=None):
        code, answer, _ = self.call(method, path, body, token, raw)
        assert code == status, f"{method} {path}: expected {status}, got {code} {answer}"
        assert set(answer) == {"error"} and set(answer["error"]) == {"status", "code", "message"}, answer
        return answer["error"]

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait()
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode, err


@pytest.fixture
def folder(tmp_path):
    code, _, err = cli("init", "--dir", str(tmp_path / "store"), cwd=tmp_path)
    assert code == 0, err
    return tmp_path


@pytest.fixture
def server(folder):
    s = Server(folder)
    yield s
    code, err = s.stop()
    assert code == 0, err


def store(s, content, token=None, **fields):
    return s.ok("POST", "/v1/memories", {"content": content, **fields}, token, status=201)["id"]


# ---- a minimal WebSocket client (RFC 6455) -------------------------------------------------

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WebSocket:
    def __init__(self, port, path, token=None, receive_buffer=None, headers=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(SOCKET_TIMEOUT)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if token:
            lines.append(f"Authorization: Bearer {token}")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            assert chunk, "the server closed the connection during the handshake"
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.head = head.decode()
        self.status = int(self.head.split()[1])
        if self.status == 101:
            accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
            assert f"sec-websocket-accept: {accept.lower()}" in self.head.lower(), self.head

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _frame(self):
        b0, b1 = self._read(2)
        op, n = b0 & 0x0F, b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._read(8))[0]
        mask = self._read(4) if b1 & 0x80 else None
        payload = self._read(n)
        if mask:
            payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        return bool(b0 & 0x80), op, payload

    def send(self, op, payload=b""):
        mask = os.urandom(4)
        head = bytes([0x80 | op])
        n = len(payload)
        head += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n)
        self.sock.sendall(head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload)))

    def message(self):
        """("text", parsed JSON) or ("close", code, reason)."""
        parts = []
        while True:
            fin, op, payload = self._frame()
            if op == 9:
                self.send(10, payload)
                continue
            if op == 10:
                continue
            if op == 8:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
                return ("close", code, payload[2:].decode())
            parts.append(payload)
            if fin:
                return ("text", json.loads(b"".join(parts)))

    def events(self, n):
        out = []
        while len(out) < n:
            kind, *rest = self.message()
            assert kind == "text", f"expected an event, got {kind} {rest}"
            out.append(rest[0])
        return out

    def close(self):
        try:
            self.send(8, struct.pack(">H", 1000))
            while self.message()[0] != "close":
                pass
        except (EOFError, OSError):
            pass
        self.sock.close()


# ---- routes ----------------------------------------------------------------------------------

def test_health_and_version_need_no_token(server):
    assert server.ok("GET", "/v1/health")["status"] == "ok"
    version = server.ok("GET", "/v1/version")
    assert version["api"] == "v1"
    assert version["version"] == cli_json("version", cwd=server.folder)["version"]


def test_store_get_update_history_delete(server):
    answer = server.ok("POST", "/v1/memories", {"content": "Alice prefers tea", "metadata": {"user": "alice"}}, status=201)
    assert set(answer) == {"id", "deduplicated"}
    mid = answer["id"]
    memory = server.ok("GET", f"/v1/memories/{mid}")
    assert memory["content"] == "Alice prefers tea" and memory["metadata"] == {"user": "alice"}

    changed = server.ok("PATCH", f"/v1/memories/{mid}", {"content": "Alice prefers green tea", "importance": 0.9})
    assert changed["content"] == "Alice prefers green tea" and changed["importance"] == 0.9
    history = server.ok("GET", f"/v1/memories/{mid}/history")["history"]
    assert [h["event"] for h in history] == ["ADD", "UPDATE"]

    assert server.ok("DELETE", f"/v1/memories/{mid}") == {"forgotten": [mid]}
    assert server.error(404, "GET", f"/v1/memories/{mid}")["status"] == "STRATA_ERR_NOT_FOUND"
    assert [h["event"] for h in server.ok("GET", f"/v1/memories/{mid}/history")["history"]] == ["ADD", "UPDATE", "DELETE"]


def test_answers_are_the_bytes_the_cli_prints(server):
    mid = store(server, "Bob drinks coffee at nine")
    _, _, body = server.call("GET", f"/v1/memories/{mid}")
    code, out, err = cli("get", mid, "--json", "--dir", str(server.folder / "store"), cwd=server.folder)
    assert code == 0, err
    assert out == body + b"\n"


def test_batch_store_and_recall_by_text_and_by_vector(server):
    answer = server.ok("POST", "/v1/memories", {"items": [
        {"content": "The deploy runs on Fridays", "metadata": {"team": "ops"}},
        {"content": "Lunch is at noon", "metadata": {"team": "hr"}},
    ]}, status=201)
    assert len(answer["ids"]) == 2
    hits = server.ok("POST", "/v1/recall", {"query": "when is the deploy", "k": 1})["hits"]
    assert [h["id"] for h in hits] == [answer["ids"][0]]
    filtered = server.ok("POST", "/v1/recall", {"query": "when", "k": 5, "filter": {"team": "hr"}})["hits"]
    assert [h["id"] for h in filtered] == [answer["ids"][1]]

    dim = server.ok("GET", "/v1/stats")["dimension"]
    vec = [0.0] * dim
    vec[3] = 1.0
    vid = server.ok("POST", "/v1/memories", {"content": "a vector", "vector": vec}, status=201)["ids"][0]
    batch = server.ok("POST", "/v1/memories", {"items": [{"content": "v1", "vector": vec}, {"content": "v2", "vector": vec}]}, status=201)
    assert len(batch["ids"]) == 2
    by_vector = server.ok("POST", "/v1/recall", {"vector": vec, "k": 3})["hits"]
    assert {h["id"] for h in by_vector} == {vid, *batch["ids"]}
    # The same vector as base64 little-endian float32s (what strata.Client sends): the same hits
    # with the same vector scores (recency moves with the clock between the two calls); a memory
    # stored that way is the same vector too.
    packed = base64.b64encode(struct.pack(f"<{dim}f", *vec)).decode()
    def parts(answer):
        return [(h["id"], h["scores"]["vector"]) for h in answer["hits"]]
    assert parts(server.ok("POST", "/v1/recall", {"vector": packed, "k": 3})) == parts(server.ok("POST", "/v1/recall", {"vector": vec, "k": 3}))
    other = [0.0] * dim
    other[5] = 1.0
    bid = server.ok("POST", "/v1/memories", {"content": "packed", "vector": base64.b64encode(struct.pack(f"<{dim}f", *other)).decode()},
                    status=201)["ids"][0]
    assert server.ok("POST", "/v1/recall", {"vector": other, "k": 1})["hits"][0]["id"] == bid
    # Bad base64 names the problem and stores nothing.
    count = server.ok("GET", "/v1/stats")["memories"]
    for bad, words in [(packed[:10] + "*" + packed[11:], "character 10 is not in the base64 alphabet"), (packed[:-6], "float32"),
                       (base64.b64encode(struct.pack(f"<{dim - 1}f", *vec[1:])).decode(), "dimension")]:
        err = server.error(422, "POST", "/v1/memories", {"content": "never stored", "vector": bad})
        assert err["status"] in ("STRATA_ERR_INVALID_VECTOR", "STRATA_ERR_DIMENSION") and words in err["message"], err
        assert server.error(422, "POST", "/v1/recall", {"vector": bad})["status"] in ("STRATA_ERR_INVALID_VECTOR", "STRATA_ERR_DIMENSION")
    nan = base64.b64encode(struct.pack(f"<{dim}f", *([float("nan")] + vec[1:]))).decode()
    assert server.error(422, "POST", "/v1/recall", {"vector": nan})["status"] == "STRATA_ERR_INVALID_VECTOR"
    assert server.ok("GET", "/v1/stats")["memories"] == count


def test_forget_by_filter_stats_metabolize_anomalies(server):
    for i in range(3):
        store(server, f"note number {i} about the garden", metadata={"kind": "garden"})
    keep = store(server, "the kitchen is blue", metadata={"kind": "house"})
    stats = server.ok("GET", "/v1/stats")
    assert stats["memories"] == 4
    assert server.error(422, "POST", "/v1/forget", {"filter": {}})["status"] == "STRATA_ERR_INVALID_ARGUMENT"
    forgotten = server.ok("POST", "/v1/forget", {"filter": {"kind": "garden"}})["forgotten"]
    assert len(forgotten) == 3
    assert server.ok("GET", "/v1/stats")["memories"] == 1

    report = server.ok("POST", "/v1/metabolize", {"dry_run": True})
    assert report["dry_run"] is True
    assert "scored" in server.ok("GET", "/v1/anomalies")
    assert "anomalies" in server.ok("POST", "/v1/anomalies", {"limit": 5})
    assert server.ok("GET", f"/v1/memories/{keep}")["id"] == keep


def test_snapshots_and_rollback(server):
    first = store(server, "before the snapshot")
    taken = server.ok("POST", "/v1/snapshots", {"name": "s1"}, status=201)
    assert taken["name"] == "s1" and taken["memories"] == 1
    assert server.error(409, "POST", "/v1/snapshots", {"name": "s1"})["status"] == "STRATA_ERR_CONFLICT"
    later = store(server, "after the snapshot")
    assert [s["name"] for s in server.ok("GET", "/v1/snapshots")["snapshots"]] == ["s1"]
    rolled = server.ok("POST", "/v1/snapshots/s1/rollback")
    assert rolled["removed"] == [later] and rolled["added"] == []
    assert server.ok("GET", f"/v1/memories/{first}")["id"] == first
    server.error(404, "GET", f"/v1/memories/{later}")
    assert server.ok("DELETE", "/v1/snapshots/s1") == {"deleted": "s1"}
    server.error(404, "POST", "/v1/snapshots/s1/rollback")


def test_first_api_paths_are_aliases(server):
    mid = server.ok("POST", "/memory/store", {"content": "Carol likes jazz", "metadata": {"u": "carol"}}, status=201)["id"]
    hits = server.ok("GET", "/memory/recall?query=jazz&k=2")["hits"]
    assert [h["id"] for h in hits] == [mid]
    filtered = server.ok("GET", "/memory/recall?query=jazz&filter=" + "%7B%22u%22%3A%22dave%22%7D")["hits"]
    assert filtered == []
    assert server.ok("PATCH", "/memory/update", {"id": mid, "content": "Carol likes bebop"})["content"] == "Carol likes bebop"
    assert server.ok("DELETE", "/memory/forget", {"id": mid}) == {"forgotten": [mid]}
    server.error(404, "DELETE", f"/memory/forget?id={mid}")


def test_list_count_and_embed(server):
    ids = server.ok("POST", "/v1/memories", {"items": [
        {"content": f"note {i} on the garden", "metadata": {"n": i}, "at": f"2026-01-0{i + 1}T00:00:00Z"} for i in range(5)
    ]}, status=201)["ids"]
    listed = server.ok("POST", "/v1/list", {})
    assert [m["id"] for m in listed["memories"]] == ids and listed["total"] == 5  # oldest first
    assert listed["memories"][0] == server.ok("GET", f"/v1/memories/{ids[0]}")  # the memory records get answers
    page = server.ok("POST", "/v1/list", {"limit": 2, "offset": 1, "filter": {"n": {"$gte": 1}}})
    assert [m["id"] for m in page["memories"]] == ids[2:4] and page["total"] == 4
    assert server.ok("POST", "/v1/list", {"ids": [ids[3], "m-nowhere", ids[1]]})["total"] == 2
    assert server.ok("POST", "/v1/list", {"limit": 0}) == {"memories": [], "total": 5}
    assert server.ok("POST", "/v1/list") == listed  # no body is {}
    assert server.ok("POST", "/v1/count", {"filter": {"n": {"$lt": 3}}}) == {"total": 3}
    assert server.ok("POST", "/v1/count") == {"total": 5}
    # Listing counts no access: a memory's access count stays as it was.
    assert server.ok("GET", f"/v1/memories/{ids[0]}")["access_count"] == listed["memories"][0]["access_count"]

    dim = server.ok("GET", "/v1/stats")["dimension"]
    answer = server.ok("POST", "/v1/embed", {"texts": ["note 0 on the garden", ""]})
    assert set(answer) == {"vectors", "dimension", "model"} and answer["dimension"] == dim
    assert [len(v) for v in answer["vectors"]] == [dim, dim] and answer["model"]
    assert server.ok("POST", "/v1/embed", {"texts": []}) == {"vectors": [], "dimension": dim, "model": answer["model"]}
    # The vector finds the memory its text was stored as.
    hits = server.ok("POST", "/v1/recall", {"vector": answer["vectors"][0], "k": 1})["hits"]
    assert [h["id"] for h in hits] == [ids[0]]


def test_list_count_and_embed_errors(server):
    def status(method, path, body=None, raw=None, code=422):
        return server.error(code, method, path, body, raw=raw)

    assert status("POST", "/v1/list", {"filter": {"n": {"$near": 1}}})["status"] == "STRATA_ERR_INVALID_FILTER"
    assert status("POST", "/v1/count", {"filter": {"$or": 3}})["status"] == "STRATA_ERR_INVALID_FILTER"
    for bad in (-1, 1.5, 2**31):
        assert status("POST", "/v1/list", {"limit": bad})["status"] == "STRATA_ERR_INVALID_ARGUMENT", bad
        assert status("POST", "/v1/list", {"offset": bad})["status"] == "STRATA_ERR_INVALID_ARGUMENT", bad
    err = status("POST", "/v1/list", {"limit": 10_001})
    assert err["status"] == "STRATA_ERR_INVALID_ARGUMENT" and "at most 10000" in err["message"] and "offset" in err["message"]
    assert status("POST", "/v1/list", {"limit": "ten"}, code=400)["status"] == "STRATA_ERR_INVALID_JSON"
    assert status("POST", "/v1/list", {"tiers": "working"}, code=400)["status"] == "STRATA_ERR_INVALID_JSON"
    assert status("POST", "/v1/list", {"scope": "a//b"})["status"] == "STRATA_ERR_INVALID_ARGUMENT"
    # A count has no page: limit, offset and ids are unknown keys there, named.
    for key in ("limit", "offset", "ids"):
        assert key in status("POST", "/v1/count", {key: 1}, code=400)["message"]

    assert "texts is required" in status("POST", "/v1/embed", {}, code=400)["message"]
    assert status("POST", "/v1/embed", {"texts": "one text"}, code=400)["status"] == "STRATA_ERR_INVALID_JSON"
    assert "texts[1]" in status("POST", "/v1/embed", {"texts": ["fine", 3]}, code=400)["message"]
    assert "text" in status("POST", "/v1/embed", {"texts": ["fine"], "text": "x"}, code=400)["message"]
    err = status("POST", "/v1/embed", {"texts": ["fine", "a\u0000b"]})
    assert err["status"] == "STRATA_ERR_INVALID_ARGUMENT" and "text 1 holds a NUL character" in err["message"]
    assert status("POST", "/v1/embed", raw=b'{"texts": ["\xff"]}', code=400)["status"] == "STRATA_ERR_INVALID_UTF8"
    err = status("POST", "/v1/embed", {"texts": ["x"] * 513})
    assert err["status"] == "STRATA_ERR_INVALID_ARGUMENT" and "at most 512" in err["message"]
    server.ok("POST", "/v1/embed", {"texts": ["x"] * 512})


def test_embed_body_too_large_is_413(folder):
    s = Server(folder, "--max-body", "1000")
    try:
        assert s.error(413, "POST", "/v1/embed", {"texts": ["x" * 2000]})["status"] == "CONTENT_TOO_LARGE"
        assert len(s.ok("POST", "/v1/embed", {"texts": ["small enough"]})["vectors"]) == 1
    finally:
        assert s.stop()[0] == 0


# ---- errors ----------------------------------------------------------------------------------

def test_error_statuses(server):
    assert server.error(400, "POST", "/v1/recall", raw=b'{"query": ')["status"] == "STRATA_ERR_INVALID_JSON"
    assert server.error(400, "POST", "/v1/recall", raw=b"\xff\xfe")["status"] in ("STRATA_ERR_INVALID_UTF8", "STRATA_ERR_INVALID_JSON")
    assert "querry" in server.error(400, "POST", "/v1/recall", {"query": "x", "querry": "x"})["message"]
    assert server.error(400, "POST", "/v1/recall", raw=b"[" * 10_000 + b"]" * 10_000)["status"] == "STRATA_ERR_INVALID_JSON"
    assert server.error(400, "POST", "/v1/memories", {"items": []})["status"] == "STRATA_ERR_INVALID_JSON"
    assert server.error(422, "POST", "/v1/memories", {"content": "x", "scope": "a//b"})["status"] == "STRATA_ERR_INVALID_ARGUMENT"
    assert server.error(422, "POST", "/v1/recall", {"vector": [1.0, 2.0]})["status"] == "STRATA_ERR_DIMENSION"
    assert server.error(422, "POST", "/v1/recall", {"vector": ["a"]})["status"] == "STRATA_ERR_INVALID_VECTOR"
    assert server.error(422, "GET", "/memory/recall?query=x&k=many")["status"] == "STRATA_ERR_INVALID_ARGUMENT"
    err = server.error(404, "GET", "/v1/memories/m-000000000000000000000000")
    assert err == {"status": "STRATA_ERR_NOT_FOUND", "code": -2, "message": 'no memory with id "m-000000000000000000000000"'}
    assert server.error(404, "GET", "/v1/nowhere")["status"] == "NO_ROUTE"
    server.error(404, "PATCH", "/v1/memories/m-000000000000000000000000", {"content": "x"})
    mid = store(server, "an existing memory")
    assert server.error(422, "PATCH", f"/v1/memories/{mid}", {"id": "m-other", "content": "x"})["status"] == "STRATA_ERR_INVALID_ARGUMENT"
    assert server.error(400, "PATCH", f"/v1/memories/{mid}", {})["status"] == "STRATA_ERR_INVALID_JSON"


BAD_BODIES = [b"", b"null", b"[]", b"42", b'"text"', b"{", b"{}", b'{"content": 1}', b'{"query": null, "k": -1}',
              b'{"items": {}}', b'{"items": [1]}', b'{"filter": []}', b'{"filter": {"$nope": 1}}', b'{"vector": [1e999]}',
              b'{"id": ["m"]}', b'{"name": ""}', b'{"name": "../../etc"}', b'{"dry_run": "yes"}', b'{"now": "yesterday"}',
              b'{"scope": "/"}', b'{"content": "x", "at": "2999-01-01T00:00:00Z"}', b'{"content": "x", "ttl_seconds": 0}',
              b'{"threshold": 2}', b'{"k": 1e300, "query": "x"}', b'{"content": "\\ud800"}']
ROUTES = [("POST", "/v1/memories"), ("POST", "/v1/recall"), ("POST", "/v1/forget"), ("POST", "/v1/metabolize"),
          ("POST", "/v1/anomalies"), ("POST", "/v1/snapshots"), ("PATCH", "/v1/memories/m-1"), ("POST", "/memory/store"),
          ("POST", "/v1/list"), ("POST", "/v1/count"), ("POST", "/v1/embed"),
          ("PATCH", "/memory/update"), ("DELETE", "/memory/forget")]


def test_bad_input_never_gets_a_5xx(server):
    for method, path in ROUTES:
        for body in BAD_BODIES:
            code, answer, raw = server.call(method, path, raw=body)
            assert code < 500, f"{method} {path} {body!r}: {code} {raw!r}"
            if code >= 400:
                assert set(answer["error"]) == {"status", "code", "message"}, answer
    for path in ["/v1/memories/%00", "/v1/memories/" + "x" * 5000, "/v1/snapshots/..%2F..", "/memory/recall?k=1&k=2"]:
        code, _, raw = server.call("GET", path)
        assert code < 500, f"GET {path}: {code} {raw!r}"
    for name in ["..%2F..%2Fetc", "%2E%2E", "a%00b", "x" * 300]:
        for method, path in [("DELETE", f"/v1/snapshots/{name}"), ("POST", f"/v1/snapshots/{name}/rollback")]:
            code, _, raw = server.call(method, path)
            assert 400 <= code < 500, f"{method} {path}: {code} {raw!r}"


def test_body_too_large_is_413(folder):
    s = Server(folder, "--max-body", "1000")
    try:
        err = s.error(413, "POST", "/v1/memories", {"content": "x" * 2000})
        assert err["status"] == "CONTENT_TOO_LARGE" and err["code"] == 413
        store(s, "small enough")
    finally:
        assert s.stop()[0] == 0


def test_listening_beyond_loopback_without_tokens_is_refused(folder):
    p = subprocess.run([str(BIN), "serve", "--dir", str(folder / "store"), "--host", "0.0.0.0", "--port", "0"],
                       cwd=folder, env=environment(), capture_output=True, text=True)
    assert p.returncode == 11, p.stderr
    assert "--insecure" in p.stderr and "strata token create" in p.stderr


# ---- tokens ----------------------------------------------------------------------------------

SCOPES = ["", "org/a", "org/b"]
ROLES = ["read", "write", "admin"]


def token(folder, scope, role):
    made = cli_json("token", "create", "--scope", scope, "--role", role, "--dir", str(folder / "store"), cwd=folder)
    assert made["scope"] == scope and made["role"] == role and made["secret"].startswith(f"strata_{made['id']}_")
    return made


def test_token_file_keeps_digests_only(folder):
    made = token(folder, "org/a", "read")
    text = (folder / "store" / "tokens.json").read_text()
    assert made["secret"] not in text
    assert hashlib.sha256(made["secret"].encode()).hexdigest() in text
    assert oct((folder / "store" / "tokens.json").stat().st_mode & 0o777) == "0o600"
    listed = cli_json("token", "list", "--dir", str(folder / "store"), cwd=folder)["tokens"]
    assert listed == [{"id": made["id"], "scope": "org/a", "role": "read", "created_at": made["created_at"]}]
    code, _, err = cli("token", "create", "--scope", "org/a", "--role", "owner", "--dir", str(folder / "store"), cwd=folder)
    assert code == 11 and "--role" in err


def test_token_matrix(folder):
    tokens = {(scope, role): token(folder, scope, role)["secret"] for scope in SCOPES for role in ROLES}
    s = Server(folder)
    try:
        root = tokens[("", "admin")]
        ids = {scope: store(s, f"a memory of scope {scope or 'root'}", root, scope=scope) for scope in SCOPES}

        # No token or an unknown one: 401; health and version stay open.
        assert s.error(401, "GET", f"/v1/memories/{ids['org/a']}")["status"] == "UNAUTHORIZED"
        assert s.error(401, "GET", "/v1/stats", token="strata_tx_" + "0" * 64)["status"] == "UNAUTHORIZED"
        s.ok("GET", "/v1/health")

        for (scope, role), secret in tokens.items():
            where = f"{role} on {scope!r}"
            # Reading: a memory of the token's subtree is there, another scope's is absent (404,
            # the message an unknown id gets: nothing of the other scope leaks).
            for other, mid in ids.items():
                inside = scope == "" or other == scope or other.startswith(scope + "/")
                code, answer, _ = s.call("GET", f"/v1/memories/{mid}", token=secret)
                assert code == (200 if inside else 404), f"{where} get {other!r}: {code} {answer}"
                if not inside:
                    assert answer["error"]["message"] == f'no memory with id "{mid}"'
            hits = s.ok("POST", "/v1/recall", {"query": "a memory of scope", "k": 10}, secret)["hits"]
            seen = {h["scope"] for h in hits}
            assert seen == (set(SCOPES) if scope == "" else {scope}), f"{where} recall saw {seen}"
            # Listing and counting: the token's subtree, whatever it asks for; ids of other
            # scopes are left out as ids that are not there.
            listed = s.ok("POST", "/v1/list", {}, secret)
            seen = {m["scope"] for m in listed["memories"]}
            assert seen == (set(SCOPES) if scope == "" else {scope}), f"{where} list saw {seen}"
            assert s.ok("POST", "/v1/count", {}, secret)["total"] == listed["total"] == len(listed["memories"]), where
            by_id = s.ok("POST", "/v1/list", {"ids": list(ids.values())}, secret)["memories"]
            assert {m["id"] for m in by_id} == {mid for other, mid in ids.items() if scope in ("", other)}, where
            # Embedding reads no memory: every role of every scope may.
            assert len(s.ok("POST", "/v1/embed", {"texts": [where]}, secret)["vectors"]) == 1, where

            # Writing in the token's scope needs write; another scope is 403 whatever the role.
            code, answer, _ = s.call("POST", "/v1/memories", {"content": f"written by {role}"}, token=secret)
            assert code == (403 if role == "read" else 201), f"{where} store: {code} {answer}"
            if code == 201:
                assert s.ok("GET", f"/v1/memories/{answer['id']}", token=root)["scope"] == scope
            if scope:
                outside = "org/b" if scope == "org/a" else "org/a"
                err = s.error(403, "POST", "/v1/memories", {"content": "x", "scope": outside}, secret)
                assert err["status"] == "FORBIDDEN"
                s.error(403, "POST", "/v1/recall", {"query": "x", "scope": outside}, secret)
                s.error(403, "POST", "/v1/list", {"scope": outside}, secret)
                s.error(403, "POST", "/v1/count", {"scope": outside}, secret)
                s.error(403, "POST", "/v1/list", {"scope": ""}, secret)  # the root is outside a scoped token too
                code, _, _ = s.call("PATCH", f"/v1/memories/{ids[outside]}", {"content": "taken over"}, token=secret)
                assert code == (403 if role == "read" else 404), f"{where} update outside: {code}"
                code, _, _ = s.call("DELETE", f"/v1/memories/{ids[outside]}", token=secret)
                assert code == (403 if role == "read" else 404), f"{where} delete outside: {code}"
                # A store that names another scope's id (alone, or in a batch) would replace that
                # memory and pull it into this scope: refused, saying no more than that the id is taken.
                for body in ({"id": ids[outside], "content": "taken over"},
                             {"items": [{"content": "fine"}, {"id": ids[outside], "content": "taken over"}]}):
                    code, answer, _ = s.call("POST", "/v1/memories", body, token=secret)
                    assert code == (403 if role == "read" else 409), f"{where} store over {outside!r}'s id: {code} {answer}"
                    if code == 409:
                        assert answer["error"]["message"] == f'memory id "{ids[outside]}" is taken: choose another id'

            # Verbs over every scope: the root scope only, with the role they need.
            code, _, _ = s.call("GET", "/v1/stats", token=secret)
            assert code == (200 if scope == "" else 403), f"{where} stats: {code}"
            code, _, _ = s.call("POST", "/v1/metabolize", {"dry_run": True}, token=secret)
            assert code == (200 if scope == "" and role == "admin" else 403), f"{where} metabolize: {code}"
            code, _, _ = s.call("POST", "/v1/snapshots", {"name": f"s-{role}-{len(scope)}"}, token=secret)
            assert code == (201 if scope == "" and role == "admin" else 403), f"{where} snapshot: {code}"

        # A GLOBAL memory is in every node's view, but a token lists and counts its own subtree only.
        shout = store(s, "news shouted to every node of the tree", root, scope="org/b", visibility="global")
        for scope in SCOPES:
            reader = tokens[(scope, "read")]
            listed = {m["id"] for m in s.ok("POST", "/v1/list", {}, reader)["memories"]}
            assert (shout in listed) == (scope in ("", "org/b")), f"read on {scope!r} list"
            assert s.ok("POST", "/v1/count", {}, reader)["total"] == len(listed), f"read on {scope!r} count"
        s.error(401, "POST", "/v1/list", {})
        s.error(401, "POST", "/v1/count", {})
        s.error(401, "POST", "/v1/embed", {"texts": ["x"]})

        # Every memory the others tried to change is as it was.
        for mid in ids.values():
            assert s.ok("GET", f"/v1/memories/{mid}", token=root)["content"].startswith("a memory of scope")

        # Revoking takes effect without a restart.
        listed = cli_json("token", "list", "--dir", str(folder / "store"), cwd=folder)["tokens"]
        reader = next(t for t in listed if t["scope"] == "org/a" and t["role"] == "read")
        code, _, err = cli("token", "revoke", reader["id"], "--dir", str(folder / "store"), cwd=folder)
        assert code == 0, err
        s.error(401, "GET", f"/v1/memories/{ids['org/a']}", token=tokens[("org/a", "read")])
        s.ok("GET", f"/v1/memories/{ids['org/a']}", token=tokens[("org/a", "write")])

        # A token file that cannot be read refuses every request (503) until it is fixed.
        path = folder / "store" / "tokens.json"
        good = path.read_text()
        path.write_text("{not json")
        assert s.error(503, "GET", "/v1/stats", token=root)["status"] == "UNAVAILABLE"
        path.write_text(good)
        s.ok("GET", "/v1/stats", token=root)

        # Forgetting everything with a scoped token forgets what its scope owns, nothing else.
        writer = tokens[("org/a", "write")]
        s.error(403, "POST", "/v1/forget", {"filter": {}, "all": True, "scope": "org/b"}, writer)
        forgotten = s.ok("POST", "/v1/forget", {"filter": {}, "all": True}, writer)["forgotten"]
        assert ids["org/a"] in forgotten
        for mid in forgotten:
            s.error(404, "GET", f"/v1/memories/{mid}", token=root)
        for scope in ("", "org/b"):
            s.ok("GET", f"/v1/memories/{ids[scope]}", token=root)
    finally:
        assert s.stop()[0] == 0


# ---- events ----------------------------------------------------------------------------------

def test_events_arrive_numbered_and_resume(server):
    ws = WebSocket(server.port, "/v1/events")
    assert ws.status == 101, ws.head
    first = store(server, "an event to watch")
    event = ws.events(1)[0]
    assert event["type"] == "memory.stored" and event["memory_id"] == first and event["memory"]["content"] == "an event to watch"
    seq = event["seq"]
    ws.close()

    missed = [store(server, f"missed {i}") for i in range(2)]
    again = WebSocket(server.port, f"/v1/events?since={seq}")
    got = again.events(2)
    assert [e["memory_id"] for e in got] == missed and [e["seq"] for e in got] == [seq + 1, seq + 2]
    again.close()

    bad = WebSocket(server.port, "/v1/events?since=soon")
    kind, code, reason = bad.message()
    assert (kind, code) == ("close", 4422) and "since" in reason
    bad.sock.close()
    assert server.error(426, "GET", "/v1/events")["status"] == "UPGRADE_REQUIRED"


def test_resume_from_an_event_no_longer_kept_is_closed_with_4010(folder):
    s = Server(folder, "--event-ring", "2")
    try:
        for i in range(5):
            store(s, f"event {i}")
        ws = WebSocket(s.port, "/v1/events?since=1")
        kind, code, reason = ws.message()
        assert (kind, code) == ("close", 4010) and "oldest event kept is 4" in reason
        ws.sock.close()
    finally:
        assert s.stop()[0] == 0


def test_events_follow_the_token_scope(folder):
    admin = token(folder, "", "admin")["secret"]
    reader = token(folder, "org/a", "read")["secret"]
    s = Server(folder)
    try:
        refused = WebSocket(s.port, "/v1/events")
        assert refused.message()[:2] == ("close", 4401)
        refused.sock.close()
        s.error(401, "GET", "/v1/events")
        ws = WebSocket(s.port, "/v1/events", token=reader)
        assert ws.status == 101
        store(s, "not for org/a", admin, scope="org/b")
        mine = store(s, "for org/a", admin, scope="org/a/x")
        s.ok("POST", "/v1/metabolize", {}, admin)
        assert [e["memory_id"] for e in ws.events(1)] == [mine]
        last = store(s, "also for org/a", admin, scope="org/a")
        # The lifecycle cycle's event (no memory, every scope) and org/b's never arrive.
        assert [e["memory_id"] for e in ws.events(1)] == [last]
        ws.close()
    finally:
        assert s.stop()[0] == 0


def test_event_matrix_every_token_gets_its_scope_subtree_only(folder):
    tokens = {(scope, role): token(folder, scope, role)["secret"] for scope in SCOPES for role in ROLES}
    s = Server(folder)
    try:
        clients = {key: WebSocket(s.port, f"/v1/events?token={secret}") for key, secret in tokens.items()}
        root = tokens[("", "admin")]
        stored = {scope: store(s, f"event of {scope or 'root'}", root, scope=scope) for scope in SCOPES}
        # Events arrive in order, so a client has seen everything once its scope's last one is in.
        last = {scope: store(s, f"last of {scope}", root, scope=scope) for scope in ("org/a", "org/b")}
        for (scope, role), ws in clients.items():
            want = [stored[x] for x in SCOPES if scope in ("", x)] + [last[x] for x in ("org/a", "org/b") if scope in ("", x)]
            got = [e["memory_id"] for e in ws.events(len(want))]
            assert got == want, f"{role} on {scope!r}"
            ws.close()
    finally:
        assert s.stop()[0] == 0


def test_health_answers_while_engine_calls_run_and_a_full_queue_is_503(folder):
    s = Server(folder, "--max-pending", "2")
    try:
        s.ok("POST", "/v1/memories", {"items": [{"content": f"memory {i} about the weather"} for i in range(300)]}, status=201)
        statuses, stop = [], threading.Event()

        def recall():
            while not stop.is_set():
                code, answer, _ = s.call("POST", "/v1/recall", {"query": "weather memory", "k": 50})
                statuses.append((code, answer))

        threads = [threading.Thread(target=recall) for _ in range(6)]
        for t in threads:
            t.start()
        # /v1/health is answered without the engine: it reports calls in flight instead of waiting for them.
        while s.ok("GET", "/v1/health")["in_flight"] == 0:
            pass
        while not any(code == 503 for code, _ in statuses):
            pass
        stop.set()
        for t in threads:
            t.join()
        busy = next(answer for code, answer in statuses if code == 503)["error"]
        assert busy["status"] == "UNAVAILABLE" and "--max-pending" in busy["message"]
        assert {code for code, _ in statuses} <= {200, 503}
    finally:
        assert s.stop()[0] == 0


def test_a_slow_client_is_closed_with_4008_and_others_keep_up(folder):
    s = Server(folder, "--event-buffer", "4")
    try:
        slow = WebSocket(s.port, "/v1/events", receive_buffer=4096)
        fast = WebSocket(s.port, "/v1/events")
        assert slow.status == fast.status == 101
        assert s.metric("strata_event_streams_open") == 2
        # Events far larger than the socket buffers, so the slow client's stalls the server's
        # writes. The stores stop once the server has dropped it, so it is stalled for seconds,
        # not a minute: the server's ping (every 30 s) waits behind the events it could not
        # write, and once written more than 30 s late counts as unanswered (swift-websocket's
        # auto-ping), and the connection is shut with 1001 instead of 4008.
        big = "x" * 60_000
        ids = []
        for i in range(40):
            ids.extend(s.ok("POST", "/v1/memories", {"items": [{"content": f"{i} {j} {big}"} for j in range(5)]}, status=201)["ids"])
            assert [e["memory_id"] for e in fast.events(5)] == ids[-5:]
            if s.metric("strata_event_streams_overflowed_total") == 1:
                break
        assert s.metric("strata_event_streams_overflowed_total") == 1, f"not dropped after {len(ids)} events"
        assert s.metric("strata_event_streams_ended_total", why="too_slow") == 0, "closed only once it drains"
        seqs, closed = [], None
        while closed is None:
            msg = slow.message()
            if msg[0] == "close":
                closed = msg
            else:
                seqs.append(msg[1]["seq"])
        assert closed[1] == 4008 and closed[2] == f"too slow: reconnect with since={seqs[-1]}", closed
        assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) < len(ids)
        assert eventually(lambda: s.metric("strata_event_streams_ended_total", why="too_slow") == 1)
        assert s.metric("strata_event_streams_open") == 1
        slow.sock.close()
        fast.close()
        assert eventually(lambda: s.metric("strata_event_streams_ended_total", why="client_closed") == 1)
        assert s.metric("strata_event_streams_open") == 0
        assert s.metric("strata_event_streams_ended_total", why="failed") == 0
    finally:
        assert s.stop()[0] == 0


def eventually(condition, seconds=10):
    """Whether `condition()` holds within `seconds` (for what the server does after it answers)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_sigterm_stops_even_with_an_event_client_that_never_reads(folder):
    s = Server(folder, "--drain-seconds", "1", "--event-buffer", "2")
    stuck = WebSocket(s.port, "/v1/events", receive_buffer=4096)
    big = "x" * 60_000
    for i in range(20):
        s.ok("POST", "/v1/memories", {"items": [{"content": f"{i} {j} {big}"} for j in range(5)]}, status=201)
    code, err = s.stop()
    assert code == 0 and "the store is closed" in err, err
    stuck.sock.close()


# ---- stopping under load ---------------------------------------------------------------------

def write_until_refused(port, acked, stop_after, started):
    """Stores until the server stops answering; records every id it acknowledged."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=SOCKET_TIMEOUT)
    i = 0
    try:
        while True:
            conn.request("POST", "/v1/memories", body=json.dumps({"content": f"load {threading.get_ident()} {i}"}).encode())
            r = conn.getresponse()
            body = r.read()
            if r.status != 201:
                return
            acked.append(json.loads(body)["id"])
            i += 1
            if len(acked) >= stop_after:
                started.set()
    except (OSError, http.client.HTTPException):
        return
    finally:
        conn.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_every_acknowledged_store_survives_a_stop_under_load(folder, sig):
    s = Server(folder)
    acked = []
    started = threading.Event()
    writers = [threading.Thread(target=write_until_refused, args=(s.port, acked, 60, started)) for _ in range(4)]
    for w in writers:
        w.start()
    started.wait()
    code, err = s.stop(sig)
    for w in writers:
        w.join()
    if sig == signal.SIGTERM:
        assert code == 0 and "the store is closed" in err, err
    assert len(acked) >= 60

    again = Server(folder)
    try:
        for mid in acked:
            again.ok("GET", f"/v1/memories/{mid}")
        assert again.ok("GET", "/v1/stats")["memories"] >= len(acked)
    finally:
        assert again.stop()[0] == 0


# ---- the lifecycle schedule ------------------------------------------------------------------

def test_the_server_runs_the_lifecycle_schedule_and_counts_cycles(folder):
    config_path = folder / "store" / "strata.json"
    config = json.loads(config_path.read_text())
    config.setdefault("lifecycle", {})["schedule_minutes"] = 0.001
    config_path.write_text(json.dumps(config))
    s = Server(folder)
    try:
        ws = WebSocket(s.port, "/v1/events")
        while True:
            event = ws.events(1)[0]
            if event["type"] == "lifecycle.metabolized":
                break
        assert event["memory_id"] == "strata:lifecycle" and event["memory"] is None
        ws.close()
        while (health := s.ok("GET", "/v1/health"))["lifecycle"]["runs"] < 2:
            pass
        assert health["lifecycle"]["every_seconds"] == pytest.approx(0.06)
        assert health["lifecycle"]["failed"] == 0 and health["lifecycle"]["last_error"] is None
        assert s.ok("GET", "/v1/stats")["lifecycle"]["cycles"] >= 2
    finally:
        assert s.stop()[0] == 0


def test_the_server_scans_for_anomalies_on_a_schedule(folder):
    s = Server(folder, "--anomaly-scan-minutes", "0.001")
    try:
        ws = WebSocket(s.port, "/v1/events")
        s.ok("POST", "/v1/memories", {"items": [{"content": f"the weekly report {i} is ready"} for i in range(40)]
                                      + [{"content": "zebra quartz volcano 99 !!!"}]}, status=201)
        while True:
            event = ws.events(1)[0]
            if event["type"] == "anomaly.detected":
                break
        assert 0 < event["score"] <= 1 and event["memory"]["content"]
        ws.close()
        while (health := s.ok("GET", "/v1/health"))["anomaly_scan"]["runs"] < 2:
            pass
        assert health["anomaly_scan"]["failed"] == 0 and "lifecycle" not in health
    finally:
        assert s.stop()[0] == 0


def test_two_servers_on_one_sqlite_store_see_each_other(folder):
    a, b = Server(folder), Server(folder)
    try:
        mid = store(a, "written through the first server")
        assert b.ok("GET", f"/v1/memories/{mid}")["content"] == "written through the first server"
        assert [h["id"] for h in b.ok("POST", "/v1/recall", {"query": "first server", "k": 1})["hits"]] == [mid]
        b.ok("PATCH", f"/v1/memories/{mid}", {"content": "changed through the second server"})
        assert a.ok("GET", f"/v1/memories/{mid}")["content"] == "changed through the second server"
        b.ok("DELETE", f"/v1/memories/{mid}")
        a.error(404, "GET", f"/v1/memories/{mid}")
    finally:
        assert a.stop()[0] == 0 and b.stop()[0] == 0


def test_reads_answer_the_same_on_the_loop_and_on_the_engine_threads(folder):
    # Default: an idle server runs short reads on the event loop after each verb's first call
    # (EngineQueue); --inline-read-us 0 hands every call to the engine's threads. With a budget
    # of 1 µs every read is a long one, run inline only while its connection is alone on its loop
    # (--inline-alone-read-us).
    inline, handed_off = Server(folder), Server(folder, "--inline-read-us", "0")
    alone = Server(folder, "--inline-read-us", "1", "--inline-alone-read-us", "10000000")
    try:
        ids = inline.ok("POST", "/v1/memories", {"items": [{"content": f"note {i} about tea and maps"} for i in range(40)]},
                        status=201)["ids"]
        for s in (inline, handed_off, alone):
            s.ok("GET", f"/v1/memories/{ids[0]}")
            s.ok("POST", "/v1/recall", {"query": "tea maps", "k": 5, "track_access": False})
        for _ in range(3):
            for method, path, body in [("GET", f"/v1/memories/{ids[7]}", None),
                                       ("POST", "/v1/recall", {"query": "note 7 tea", "k": 5, "track_access": False}),
                                       ("POST", "/v1/list", {"limit": 10}),
                                       ("POST", "/v1/count", {}),
                                       ("GET", f"/v1/memories/{ids[3]}/history", None)]:
                a, b, c = inline.ok(method, path, body), handed_off.ok(method, path, body), alone.ok(method, path, body)
                if path == "/v1/recall":  # scores.recency moves with the clock: compare the ranking
                    a, b, c = ([h["id"] for h in x["hits"]] for x in (a, b, c))
                    assert len(a) == 5
                assert a == b == c, path
        inline.error(404, "GET", "/v1/memories/no-such-id")
        alone.error(404, "GET", "/v1/memories/no-such-id")
        assert inline.ok("GET", "/v1/health")["in_flight"] == 0
        assert alone.ok("GET", "/v1/health")["in_flight"] == 0
    finally:
        assert inline.stop()[0] == 0 and handed_off.stop()[0] == 0 and alone.stop()[0] == 0


def read_answers(sock, count):
    """`count` HTTP/1.1 answers with Content-Length bodies from a socket, in order: (status,
    fields by lowercase name, body, the head's lines as sent)."""
    data, out = b"", []
    while len(out) < count:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {len(out)} answers"
        data += chunk
        while b"\r\n\r\n" in data:
            head, rest = data.split(b"\r\n\r\n", 1)
            lines = head.decode().split("\r\n")
            fields = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
            length = int(fields["content-length"])
            if len(rest) < length:
                break
            out.append((int(lines[0].split()[1]), fields, rest[:length], lines))
            data = rest[length:]
    return out


def thirty_notes(server):
    """Stores 30 short notes through `server`: their ids and the store's dimension."""
    ids = server.ok("POST", "/v1/memories", {"items": [{"content": f"note {i} about tea and maps"} for i in range(30)]},
                    status=201)["ids"]
    return ids, server.ok("GET", "/v1/stats")["dimension"]


def raw_request(method, path, body=None, extra=""):
    """The bytes of one HTTP/1.1 request with a Content-Length body (`extra`: more header lines)."""
    data = b"" if body is None else json.dumps(body).encode()
    return (f"{method} {path} HTTP/1.1\r\nHost: x\r\n{extra}Content-Length: {len(data)}\r\n\r\n").encode() + data


def one_then_pipelined(port, requests):
    """On one connection: `requests` sent one at a time, each answer read before the next, then
    all of them in one write; the two lists of answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT) as sock:
        one = []
        for r in requests:
            sock.sendall(r)
            one += read_answers(sock, 1)
        sock.sendall(b"".join(requests))
        return one, read_answers(sock, len(requests))


def hammer(port, request, pipelined):
    """A client thread that sends `request` `pipelined` times in one write, reads their answers
    and does it again until its connection closes under it (a server that stops); returns once
    it has 20 answers: (the thread, the answers so far, the error that ended it)."""
    hammered, stop_error = [], []

    def run():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT) as sock:
                while True:
                    sock.sendall(request * pipelined)
                    hammered.extend(read_answers(sock, pipelined))
        except (AssertionError, OSError) as e:  # the connection closed under the client
            stop_error.append(e)

    client = threading.Thread(target=run)
    client.start()
    while len(hammered) < 20 and client.is_alive():
        threading.Event().wait(0.01)
    return client, hammered, stop_error


@pytest.mark.parametrize("busy_poll", [0, 10000])
def test_recall_fast_lane_answers_as_the_router_and_in_order(folder, busy_poll):
    # An idle server answers a short POST /v1/recall in the connection's pipeline
    # (RecallFastLane); --inline-read-us 0 leaves every request to the router. Both must give
    # the same statuses and bodies, in the order of the requests, with ids and access lines.
    # With --busy-poll-us the lane polls the socket after its answers: the same answers, the
    # pipelined ones too (polled only once the requests already read are answered); a recall
    # that comes while it polls is read from the socket and answered without SwiftNIO's codec
    # ("polled"), with the same head, field for field.
    # --inline-read-us 1000000: a debug build's recall may take over the default budget, and
    # the lane must answer here whatever the build.
    lane = Server(folder, "--log-level", "info", "--inline-read-us", "1000000", "--busy-poll-us", str(busy_poll))
    router = Server(folder, "--inline-read-us", "0")
    try:
        ids, dim = thirty_notes(lane)
        recall = {"query": "tea maps", "k": 3, "track_access": False}
        request = raw_request

        pipelined = [request("POST", "/v1/recall", recall, "X-Request-Id: first\r\n"), request("GET", "/v1/health"),
                     request("POST", "/v1/recall", recall), request("GET", f"/v1/memories/{ids[2]}"),
                     request("POST", "/v1/recall", {"vector": [0.5] * (dim - 1), "k": 2}),  # the engine refuses: 422
                     request("POST", "/v1/recall", {"query": "tea", "k": "three"}),  # the router refuses: 400
                     request("POST", "/v1/recall", {"query": "tea", "k": 500, "track_access": False}),  # over 100 hits
                     request("POST", "/memory/recall", recall),  # seed 002's alias, the same handler
                     request("POST", "/v1/recall", recall, "X-Request-Id: last\r\n")]
        for s in (lane, router):  # each verb's first call takes the hand-off: then the lane is open
            s.ok("POST", "/v1/recall", recall)
        # One at a time (the lane answers them), then all in one write (pipelined).
        answers = {s: one_then_pipelined(s.port, pipelined) for s in (lane, router)}
        for one, together in answers.values():
            for got in (one, together):
                statuses = [a[0] for a in got]
                assert statuses == [200, 200, 200, 200, 422, 400, 200, 200, 200], statuses
                assert json.loads(got[1][2])["status"] == "ok" and json.loads(got[3][2])["id"] == ids[2]
                assert got[0][1]["x-request-id"] == "first" and got[8][1]["x-request-id"] == "last"
                assert all(a[1]["content-type"] == "application/json" and "date" in a[1] for a in got)
                # A recall answered says how long its engine call took (Server-Timing), through
                # the lane and the router alike; a refused one does not.
                for a in got:
                    recalled = a[0] == 200 and b'"hits"' in a[2]
                    assert bool(re.fullmatch(r"engine;dur=\d+\.\d{3}", a[1].get("server-timing", ""))) == recalled, a[1]
                assert len(json.loads(got[6][2])["hits"]) == 30
        (lane_one, lane_all), (router_one, router_all) = answers[lane], answers[router]
        for a, b in zip(lane_one + lane_all, router_one + router_all):
            if a[0] == 200 and b"hits" in a[2]:  # scores.recency moves with the clock: compare the ranking
                assert [h["id"] for h in json.loads(a[2])["hits"]] == [h["id"] for h in json.loads(b[2])["hits"]]
            elif b'"in_flight"' in a[2]:  # health: the event counts differ (the memories went to one server)
                assert json.loads(a[2])["status"] == json.loads(b[2])["status"] == "ok"
            else:
                assert (a[0], json.loads(a[2])) == (b[0], json.loads(b[2]))
        assert json.loads(lane_one[4][2])["error"]["status"] == "STRATA_ERR_DIMENSION"
        # Recalls one at a time on a connection of their own: each after the first comes while
        # the lane polls (when polling), the engine's refusal among them.
        wrong = request("POST", "/v1/recall", {"vector": [0.5] * (dim - 1), "k": 2})
        extra = [request("POST", "/v1/recall", recall)] * 4 + [wrong] + [request("POST", "/v1/recall", recall)] * 3
        with socket.create_connection(("127.0.0.1", lane.port), timeout=SOCKET_TIMEOUT) as sock:
            again = []
            for r in extra:
                sock.sendall(r)
                again += read_answers(sock, 1)
        assert [a[0] for a in again] == [200] * 4 + [422] + [200] * 3
        assert json.loads(again[4][2]) == json.loads(lane_one[4][2])
        # Through SwiftNIO or polled, the lane's answers have the same status line and the same
        # fields in the same order and spelling, the router's too (the k 500 recall is its).
        for a in [a for a in lane_one + lane_all + again if a[0] == 200 and b"hits" in a[2]]:
            assert a[3][0] == "HTTP/1.1 200 OK", a[3]
            assert [l.split(":")[0] for l in a[3][1:]] == ["Content-Type", "Content-Length", "Server-Timing", "X-Request-Id", "Date"], a[3]
            assert a[3][1] == "Content-Type: application/json" and a[3][2] == f"Content-Length: {len(a[2])}", a[3]
        assert again[4][3][0] == lane_one[4][3][0] and again[4][3][1:3] == lane_one[4][3][1:3], (again[4][3], lane_one[4][3])
        # The lane's answers are counted and logged as the router's are.
        conn = http.client.HTTPConnection("127.0.0.1", lane.port, timeout=SOCKET_TIMEOUT)
        conn.request("GET", "/metrics")
        metrics = conn.getresponse().read().decode()
        conn.close()
        counted = [l for l in metrics.splitlines() if l.startswith("strata_http_requests_total") and 'route="/v1/recall"' in l]
        total = sum(float(l.rsplit(" ", 1)[1]) for l in counted)
        assert total == 1 + 2 * len([r for r in pipelined if r.startswith(b"POST /v1/recall")]) + len(extra), counted
        alias = [l for l in metrics.splitlines() if l.startswith("strata_http_requests_total") and 'route="/memory/recall"' in l]
        assert sum(float(l.rsplit(" ", 1)[1]) for l in alias) == 2, alias
        polls = {l.split('outcome="')[1].split('"')[0]: float(l.rsplit(" ", 1)[1])
                 for l in metrics.splitlines() if l.startswith("strata_busy_poll_waits_total{")}
        polled = [l for l in metrics.splitlines() if l.startswith("strata_busy_poll_time_seconds_total")]
        assert set(polls) == {"ready", "slept"} and len(polled) == 1, (polls, polled)
        polled_answers = [float(l.rsplit(" ", 1)[1]) for l in metrics.splitlines() if l.startswith("strata_busy_poll_answers_total")]
        front_answers = [float(l.rsplit(" ", 1)[1]) for l in metrics.splitlines() if l.startswith("strata_fast_lane_front_answers_total")]
        # A recall the lane answers whose read held just it is answered at the front, once the
        # front follows the connection's requests (from its second request on): on the first
        # connection the two recalls, the engine's refusal and the alias that come one at a time
        # after a request of the router's, and the last one; on the extra connection the six
        # after its first two. Polling, those that come while the lane polls are answered polled
        # instead, and so is the first of the pipelined ones: one more. A read that splits a
        # request leaves it to SwiftNIO's codec (a margin of three).
        assert front_answers and len(front_answers) == 1, front_answers
        expected = 4 + 6 + (1 if busy_poll else 0)
        assert expected - 3 <= front_answers[0] + (polled_answers[0] if busy_poll else 0) <= expected, (front_answers, polled_answers)
        if busy_poll:
            # One poll after each read in which the lane answered: the one-at-a-time recalls found
            # their next request in time or slept; each counted, with the time it took.
            assert sum(polls.values()) >= 3 and float(polled[0].rsplit(" ", 1)[1]) > 0, (polls, polled)
            # Recalls that came while the lane polled were answered polled: most of the seven
            # that follow another one at a time on the extra connection (a client that takes
            # longer than the 10 ms budget to send the next misses the poll; the rest are
            # timing-free checks), and the first of the pipelined ones when it came in a poll.
            assert polled_answers and 4 <= polled_answers[0] <= 7 + 3, polled_answers
        else:
            assert sum(polls.values()) == 0 and float(polled[0].rsplit(" ", 1)[1]) == 0, (polls, polled)
            assert polled_answers == [0], polled_answers
        # SIGTERM while a client sends recalls back to back (polled, when polling): the server
        # drains and exits; the client gets whole answers until its connection closes.
        client, hammered, stop_error = hammer(lane.port, request("POST", "/v1/recall", recall), 1)
    finally:
        code, log = lane.stop()
        assert code == 0 and router.stop()[0] == 0
    client.join(timeout=SOCKET_TIMEOUT)
    assert not client.is_alive() and len(hammered) >= 20 and all(a[0] == 200 for a in hammered), (len(hammered), stop_error)
    recalls = [l for l in log.splitlines() if l.endswith(" request") and "route=/v1/recall" in l]
    # The last answer may be written as the connection closes and never read by the client.
    assert total + len(hammered) <= len(recalls) <= total + len(hammered) + 1, log[-3000:]
    assert len([l for l in log.splitlines() if l.endswith(" request") and "route=/memory/recall" in l]) == 2, log[-3000:]
    assert any("hb.request.id=first" in l and "status=200" in l for l in recalls), recalls
    assert any("hb.request.id=last" in l for l in recalls), recalls


def test_recalls_the_lane_hands_off_answer_as_the_router_in_order_and_drain_on_sigterm(folder):
    # A recall the lane cannot run on the loop (another call in flight, or a long one beside
    # other connections) goes to the engine's threads from the lane and comes back to it
    # (RecallFastLane.handOff). --inline-read-us 1 with --inline-alone-read-us 0 makes every
    # recall such a one. What a client pipelines behind it waits for its answer: the same
    # statuses, bodies and order as the router's (--inline-read-us 0).
    handed = Server(folder, "--log-level", "info", "--inline-read-us", "1", "--inline-alone-read-us", "0")
    router = Server(folder, "--inline-read-us", "0")
    try:
        ids, dim = thirty_notes(handed)
        recall = {"query": "tea maps", "k": 3, "track_access": False}
        request = raw_request

        pipelined = [request("POST", "/v1/recall", recall, "X-Request-Id: first\r\n"), request("GET", "/v1/health"),
                     request("POST", "/v1/recall", recall), request("POST", "/v1/recall", recall),
                     request("GET", f"/v1/memories/{ids[2]}"),
                     request("POST", "/v1/recall", {"vector": [0.5] * (dim - 1), "k": 2}),  # the engine refuses: 422
                     request("POST", "/v1/recall", {"query": "tea", "k": "three"}),  # the router refuses: 400
                     request("POST", "/memory/recall", recall),
                     request("POST", "/v1/recall", recall, "X-Request-Id: last\r\n")]
        # One at a time (the lane hands each recall off), then all in one write.
        answers = {s: sum(one_then_pipelined(s.port, pipelined), []) for s in (handed, router)}
        for got in answers.values():
            for half in (got[:len(pipelined)], got[len(pipelined):]):
                assert [a[0] for a in half] == [200, 200, 200, 200, 200, 422, 400, 200, 200], [a[0] for a in half]
                assert half[0][1]["x-request-id"] == "first" and half[8][1]["x-request-id"] == "last"
                assert json.loads(half[4][2])["id"] == ids[2]
        for a, b in zip(answers[handed], answers[router]):
            if a[0] == 200 and b"hits" in a[2]:  # scores.recency moves with the clock: compare the ranking
                assert [h["id"] for h in json.loads(a[2])["hits"]] == [h["id"] for h in json.loads(b[2])["hits"]]
                assert re.fullmatch(r"engine;dur=\d+\.\d{3}", a[1]["server-timing"]), a[1]
            elif b'"in_flight"' not in a[2]:
                assert (a[0], json.loads(a[2])) == (b[0], json.loads(b[2]))
        # Each recall the lane took was handed off and answered by it. One at a time: the five
        # that succeed and the engine's refusal (the router's refusal, 400, went past it).
        # Pipelined: the first; those behind the health check were the router's, whose answer
        # was still owed when they came (answers keep their order).
        conn = http.client.HTTPConnection("127.0.0.1", handed.port, timeout=SOCKET_TIMEOUT)
        conn.request("GET", "/metrics")
        metrics = conn.getresponse().read().decode()
        conn.close()
        lane = [float(l.rsplit(" ", 1)[1]) for l in metrics.splitlines() if l.startswith("strata_fast_lane_handed_off_answers_total")]
        assert lane == [7], lane
        inline = [l for l in metrics.splitlines() if l.startswith('strata_engine_calls_total{place="inline"}')]
        assert inline and float(inline[0].rsplit(" ", 1)[1]) == 0, inline
        # SIGTERM while a client pipelines two recalls at a time: every answer it reads is whole
        # and a 200, and the server exits cleanly after what it had taken.
        client, hammered, stop_error = hammer(handed.port, request("POST", "/v1/recall", recall), 2)
    finally:
        code, log = handed.stop()
        assert code == 0 and router.stop()[0] == 0
    client.join(timeout=SOCKET_TIMEOUT)
    assert not client.is_alive() and len(hammered) >= 20 and all(a[0] == 200 for a in hammered), (len(hammered), stop_error)
    assert "the store is closed" in log, log[-2000:]


def test_inline_read_budget_is_checked(folder):
    code, _, err = cli("serve", "--dir", str(folder / "store"), "--port", "0", "--inline-read-us", "2000000", cwd=folder)
    assert code != 0 and "--inline-read-us must be in 0...1000000" in err, err
    for bad in ("--inline-alone-read-us=-1", "--inline-alone-read-us=10000001"):
        code, _, err = cli("serve", "--dir", str(folder / "store"), "--port", "0", bad, cwd=folder)
        assert code != 0 and "--inline-alone-read-us must be in 0...10000000" in err, (bad, err)
    for bad in ("--busy-poll-us=-1", "--busy-poll-us=10001"):
        code, _, err = cli("serve", "--dir", str(folder / "store"), "--port", "0", bad, cwd=folder)
        assert code != 0 and "--busy-poll-us must be in 0...10000" in err, (bad, err)
