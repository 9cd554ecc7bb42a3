"""The MCP server, driven by the official Python MCP SDK (`mcp` from PyPI) as an MCP client
drives it: `strata mcp` over stdio, and `POST /mcp` on `strata serve` with bearer tokens
(Streamable HTTP). Lists the tools, checks their schemas and annotations, calls each one,
checks that a token or --scope bounds every tool, that an engine error comes back as a tool
error carrying its status, code and message, and that a foreign Origin is refused.

Stores use the default preset with the hashing embedder, like test_serve.py.
"""

import asyncio
import http.client
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

# The MCP Python SDK 2.x (scripts/setup --python installs it): its Client, and httpx2 for headers.
import httpx2
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("STRATA_CLI", ROOT / ".build" / "debug" / "strata-cli"))
TIMEOUT = 120

ALL_TOOLS = ["remember", "recall", "get", "update", "forget", "history", "stats", "metabolize"]
READ_ONLY = {"recall", "get", "history", "stats"}


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


@pytest.fixture
def folder(tmp_path):
    code, _, err = cli("init", "--dir", str(tmp_path / "store"), cwd=tmp_path)
    assert code == 0, err
    return tmp_path


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT))


def refused(coro):
    """Runs a session the server must refuse at the HTTP layer: the SDK raises an MCPError
    (inside its task groups' exception groups)."""
    from mcp.shared.exceptions import MCPError
    try:
        run(coro)
    except BaseException as e:  # noqa: BLE001 - exception groups are unwrapped below
        pending, found = [e], []
        while pending:
            x = pending.pop()
            found.append(x)
            pending.extend(getattr(x, "exceptions", ()))
        assert any(isinstance(x, MCPError) for x in found), repr(e)
        return
    raise AssertionError("the session was not refused")


def stdio(folder, *extra):
    """A client of `strata mcp` on the folder's store."""
    return Client(StdioServerParameters(
        command=str(BIN), args=["mcp", "--dir", str(folder / "store"), *extra], env=environment(), cwd=str(folder)))


def remote(port, token=None, headers=None):
    """A client of `POST /mcp` on a running `strata serve`."""
    h = dict(headers or {})
    if token:
        h["Authorization"] = f"Bearer {token}"
    return Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=httpx2.AsyncClient(headers=h, timeout=TIMEOUT)))


async def call(client, name, **arguments):
    """A call that must succeed: its structured content."""
    r = await client.call_tool(name, arguments)
    assert not r.is_error, f"{name} failed: {r.content}"
    assert r.structured_content is not None
    return r.structured_content


async def failure(client, name, **arguments):
    """A call that must fail as a tool error (not a protocol error): its error object."""
    r = await client.call_tool(name, arguments)
    assert r.is_error, f"{name} succeeded: {r.structured_content}"
    error = r.structured_content["error"]
    assert set(error) == {"status", "code", "message"}
    assert r.content[0].text == f"{error['status']} ({error['code']}): {error['message']}"
    return error


async def every_tool(client):
    """Calls each tool once on an empty store the client may change entirely; returns the stored id."""
    stored = await call(client, "remember", content="Alice prefers a window seat on long flights",
                        metadata={"topic": "travel"}, importance=0.8, category="preference", scope="org/a")
    assert stored["deduplicated"] == []
    mid = stored["id"]
    r = await client.call_tool("recall", {"query": "window seat", "k": 5})
    assert not r.is_error
    hits = r.structured_content["hits"]
    assert [h["id"] for h in hits] == [mid]
    assert set(hits[0]["scores"]) >= {"vector", "keyword", "fused", "recency", "importance", "access"}
    assert r.content[0].text.startswith("1 memory, best first:\n1. Alice prefers a window seat on long flights [id ")
    got = await call(client, "get", id=mid)
    assert got["metadata"] == {"topic": "travel"} and got["category"] == "preference" and got["scope"] == "org/a"
    assert got["access_count"] == 0  # an MCP recall reads without counting an access
    updated = await call(client, "update", id=mid, content="Alice prefers an aisle seat now", importance=0.5)
    assert updated["content"] == "Alice prefers an aisle seat now" and updated["importance"] == 0.5
    history = await call(client, "history", id=mid)
    assert [e["event"] for e in history["history"]] == ["ADD", "UPDATE"]
    assert history["history"][1]["old"]["content"] == "Alice prefers a window seat on long flights"
    stats = await call(client, "stats")
    assert stats["memories"] == 1 and stats["by_scope"] == {"org/a": 1}
    cycle = await call(client, "metabolize")
    assert cycle["dry_run"] is True
    assert await call(client, "forget", id=mid) == {"forgotten": [mid]}
    missing = await failure(client, "get", id=mid)
    assert missing == {"status": "STRATA_ERR_NOT_FOUND", "code": -2, "message": f'no memory with id "{mid}"'}
    return mid


def check_listing(tools):
    assert [t.name for t in tools] == ALL_TOOLS
    for t in tools:
        assert t.input_schema["type"] == "object" and t.input_schema.get("additionalProperties") is False, t.name
        assert t.output_schema and t.output_schema["type"] == "object", t.name
        a = t.annotations
        assert a.read_only_hint is (t.name in READ_ONLY), t.name
        assert a.open_world_hint is False, t.name
        assert t.description
    by = {t.name: t for t in tools}
    assert by["remember"].input_schema["required"] == ["content"]
    assert set(by["remember"].input_schema["properties"]) == {"content", "metadata", "scope", "importance", "category"}
    assert set(by["recall"].input_schema["properties"]) >= {"query", "k", "filter", "scope"}
    assert by["recall"].output_schema["required"] == ["hits"]
    assert by["forget"].annotations.destructive_hint is True
    assert by["update"].annotations.destructive_hint is True
    assert by["metabolize"].annotations.destructive_hint is True
    assert by["metabolize"].input_schema["properties"]["dry_run"]["default"] is True
    assert by["remember"].annotations.destructive_hint is False and by["remember"].annotations.idempotent_hint is False
    assert by["get"].annotations.idempotent_hint is True


# ---- stdio -----------------------------------------------------------------------------------

def test_stdio_lists_and_calls_every_tool(folder):
    async def session():
        async with stdio(folder, "--role", "admin") as client:
            check_listing((await client.list_tools()).tools)
            await every_tool(client)
    run(session())


def test_stdio_errors_are_tool_errors_with_the_codes_of_every_face(folder):
    cli_json("add", "a first memory", "--dir", str(folder / "store"), cwd=folder)

    async def session():
        async with stdio(folder) as client:
            e = await failure(client, "remember", content="x", colour="red")
            assert e == {"status": "STRATA_ERR_INVALID_JSON", "code": -9, "message": "unknown key store request.colour"}
            e = await failure(client, "recall", query="x", filter={"n": {"$near": 1}})
            assert e["status"] == "STRATA_ERR_INVALID_FILTER" and e["code"] == -11 and "$near" in e["message"]
            e = await failure(client, "get", id="nope")
            return e
    e = run(session())
    # The same status and message as the CLI's --json answer for the same request.
    code, out, _ = cli("get", "nope", "--json", "--dir", str(folder / "store"), cwd=folder)
    assert code == 12
    assert json.loads(out)["error"] == e


def test_stdio_role_and_scope_bound_every_tool(folder):
    async def setup():
        async with stdio(folder, "--role", "admin") as client:
            b = await call(client, "remember", content="the launch code of team b is 4711", scope="org/b")
            return b["id"]
    b_id = run(setup())

    async def scoped():
        async with stdio(folder, "--scope", "org/a") as client:
            names = [t.name for t in (await client.list_tools()).tools]
            assert names == ["remember", "recall", "get", "update", "forget", "history"]
            a = await call(client, "remember", content="team a meets on Mondays")
            assert (await call(client, "get", id=a["id"]))["scope"] == "org/a"
            hits = (await call(client, "recall", query="launch code team b", k=10))["hits"]
            assert b_id not in [h["id"] for h in hits] and {h["scope"] for h in hits} == {"org/a"}
            for tool in ["get", "history", "forget"]:
                assert (await failure(client, tool, id=b_id))["status"] == "STRATA_ERR_NOT_FOUND"
            e = await failure(client, "recall", query="x", scope="org/b")
            assert e == {"status": "FORBIDDEN", "code": 403,
                         "message": 'this token is for scope "org/a" and what is below it, not "org/b"'}
            assert (await failure(client, "stats"))["status"] == "FORBIDDEN"
            assert (await call(client, "forget", filter={}, all=True))["forgotten"] == [a["id"]]
    run(scoped())

    async def read_only():
        async with stdio(folder, "--read-only") as client:
            assert [t.name for t in (await client.list_tools()).tools] == ["recall", "get", "history", "stats"]
            e = await failure(client, "remember", content="x")
            assert e == {"status": "FORBIDDEN", "code": 403, "message": "this token's role is read; this needs write"}
            assert (await call(client, "get", id=b_id))["content"] == "the launch code of team b is 4711"
    run(read_only())


def test_stdio_keeps_stdout_for_the_protocol(folder):
    """Every line on stdout is a JSON-RPC message, even when the engine logs."""
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
               "params": {"name": "recall", "arguments": {"query": "anything"}}}
    p = subprocess.run([str(BIN), "mcp", "--dir", str(folder / "store")], input=json.dumps(request) + "\n",
                       capture_output=True, text=True, env=environment(), cwd=folder, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 1, p.stdout
    answer = json.loads(lines[0])
    assert answer["id"] == 1 and answer["result"]["structuredContent"] == {"hits": []}


def test_stdio_stops_cleanly_on_sigterm(folder):
    """SIGTERM while the client keeps standard input open: the server stops and exits 0."""
    p = subprocess.Popen([str(BIN), "mcp", "--dir", str(folder / "store")], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment(), cwd=folder)
    try:
        request = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                   "params": {"name": "remember", "arguments": {"content": "kept after SIGTERM"}}}
        p.stdin.write(json.dumps(request) + "\n")
        p.stdin.flush()
        answer = json.loads(p.stdout.readline())
        assert answer["id"] == 1 and not answer["result"].get("isError"), answer
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=TIMEOUT) == 0, p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        for f in (p.stdin, p.stdout, p.stderr):
            f.close()
    listed = cli_json("recall", "kept after SIGTERM", "--dir", str(folder / "store"), cwd=folder)
    assert [h["content"] for h in listed["hits"]] == ["kept after SIGTERM"]


def test_mcp_refuses_bad_options(folder):
    code, _, err = cli("mcp", "--dir", str(folder / "store"), "--role", "owner", cwd=folder)
    assert code != 0 and "--role" in err
    code, _, err = cli("mcp", "--dir", str(folder / "store"), "--scope", "a//b", cwd=folder)
    assert code != 0 and "STRATA_ERR" in err
    code, _, err = cli("mcp", "--dir", str(folder / "nowhere"), cwd=folder)
    assert code == 16 and "no Strata store" in err


# ---- HTTP ------------------------------------------------------------------------------------

class Server:
    """One `strata serve --port 0` process on a store folder."""

    def __init__(self, folder: Path, *extra):
        self.proc = subprocess.Popen(
            [str(BIN), "serve", "--dir", str(folder / "store"), "--port", "0", *extra],
            cwd=folder, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("strata serve: listening on http://127.0.0.1:"):
            self.proc.kill()
            raise AssertionError(f"the server did not start: {line!r} {self.proc.stderr.read()}")
        self.port = int(line.rsplit(":", 1)[1])

    def post(self, body, headers=None, method="POST"):
        """(status, headers, parsed answer) of a raw request to /mcp."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            h = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream", **(headers or {})}
            conn.request(method, "/mcp", body=None if body is None else json.dumps(body).encode(), headers=h)
            r = conn.getresponse()
            payload = r.read()
            return r.status, dict(r.getheaders()), (json.loads(payload) if payload else None)
        finally:
            conn.close()

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode, err


def token(folder, scope, role):
    return cli_json("token", "create", "--scope", scope, "--role", role, "--dir", str(folder / "store"), cwd=folder)["secret"]


@pytest.fixture
def tokens(folder):
    return {name: token(folder, scope, role) for name, scope, role in
            [("root", "", "admin"), ("a", "org/a", "write"), ("b", "org/b", "write"), ("a_read", "org/a", "read")]}


@pytest.fixture
def server(folder, tokens):
    s = Server(folder)
    yield s
    code, err = s.stop()
    assert code == 0, err


def test_http_lists_and_calls_every_tool_with_a_root_token(server, tokens):
    async def session():
        async with remote(server.port, tokens["root"]) as client:
            check_listing((await client.list_tools()).tools)
            await every_tool(client)
    run(session())


def test_http_token_scope_bounds_every_tool(server, tokens):
    async def as_b():
        async with remote(server.port, tokens["b"]) as client:
            stored = await call(client, "remember", content="the launch code of team b is 4711")
            assert (await call(client, "get", id=stored["id"]))["scope"] == "org/b"
            return stored["id"]
    b_id = run(as_b())

    async def as_a():
        async with remote(server.port, tokens["a"]) as client:
            assert [t.name for t in (await client.list_tools()).tools] == ["remember", "recall", "get", "update", "forget", "history"]
            await call(client, "remember", content="team a meets on Mondays about the launch")
            hits = (await call(client, "recall", query="launch code team b 4711", k=10))["hits"]
            assert hits and b_id not in [h["id"] for h in hits] and {h["scope"] for h in hits} == {"org/a"}
            for tool, args in [("get", {}), ("history", {}), ("forget", {}), ("update", {"content": "mine now"})]:
                assert (await failure(client, tool, id=b_id, **args))["status"] == "STRATA_ERR_NOT_FOUND", tool
            e = await failure(client, "remember", content="x", scope="org/b")
            assert e["status"] == "FORBIDDEN" and e["code"] == 403
            e = await failure(client, "stats")
            assert e["message"] == 'stats spans every scope: it needs a token of the root scope, not of "org/a"'
            assert (await call(client, "forget", filter={}, all=True))["forgotten"]
    run(as_a())

    async def as_a_reader():
        async with remote(server.port, tokens["a_read"]) as client:
            assert [t.name for t in (await client.list_tools()).tools] == ["recall", "get", "history"]
            e = await failure(client, "remember", content="x")
            assert e == {"status": "FORBIDDEN", "code": 403, "message": "this token's role is read; this needs write"}
    run(as_a_reader())

    async def as_b_again():
        async with remote(server.port, tokens["b"]) as client:
            assert (await call(client, "get", id=b_id))["content"] == "the launch code of team b is 4711"
    run(as_b_again())


def test_http_needs_a_known_token(server, tokens):
    call_ = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    status, headers, answer = server.post(call_)
    assert status == 401 and answer["error"]["status"] == "UNAUTHORIZED"
    assert headers.get("WWW-Authenticate") == "Bearer"
    status, _, answer = server.post(call_, {"Authorization": "Bearer strata_t000000000000_" + "0" * 64})
    assert status == 401

    async def no_token():
        async with remote(server.port) as client:
            await client.list_tools()
    refused(no_token())


def test_http_refuses_a_foreign_origin(server, tokens):
    listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    auth = {"Authorization": f"Bearer {tokens['root']}"}
    status, _, answer = server.post(listing, {**auth, "Origin": "http://evil.example"})
    assert status == 403 and answer["error"]["status"] == "FORBIDDEN" and "Origin" in answer["error"]["message"]
    # A page re-pointed at 127.0.0.1 still sends its own origin: refused on every method.
    status, _, _ = server.post(None, {**auth, "Origin": "http://evil.example:7700"}, method="GET")
    assert status == 403
    status, _, answer = server.post(listing, {**auth, "Origin": "http://localhost:5173"})
    assert status == 200 and [t["name"] for t in answer["result"]["tools"]] == ALL_TOOLS
    status, _, _ = server.post(listing, {**auth, "Origin": "http://localhost.evil.example"})
    assert status == 403

    async def from_evil():
        async with remote(server.port, tokens["root"], {"Origin": "http://evil.example"}) as client:
            await client.list_tools()
    refused(from_evil())


def test_http_allow_origin_adds_one(folder, tokens):
    s = Server(folder, "--allow-origin", "https://app.example")
    try:
        auth = {"Authorization": f"Bearer {tokens['root']}"}
        listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        assert s.post(listing, {**auth, "Origin": "https://app.example"})[0] == 200
        assert s.post(listing, {**auth, "Origin": "https://app.example.evil"})[0] == 403
    finally:
        code, err = s.stop()
        assert code == 0, err


def test_http_is_stateless(folder, tokens):
    """No session: a call without initialize is answered, and after a restart too."""
    body = {"jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": {"name": "remember", "arguments": {"content": "kept across restarts"}}}
    auth = {"Authorization": f"Bearer {tokens['root']}"}
    s = Server(folder)
    try:
        status, headers, answer = s.post(body, auth)
        assert status == 200 and "mcp-session-id" not in {k.lower() for k in headers}
        mid = answer["result"]["structuredContent"]["id"]
        status, _, _ = s.post(None, auth, method="GET")
        assert status == 405
    finally:
        assert s.stop()[0] == 0
    s = Server(folder)
    try:
        get = {"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": "get", "arguments": {"id": mid}}}
        status, _, answer = s.post(get, {**auth, "MCP-Protocol-Version": "2025-06-18"})
        assert status == 200 and answer["result"]["structuredContent"]["content"] == "kept across restarts"
    finally:
        assert s.stop()[0] == 0
