"""`strata.Client` against a real `strata serve` (STRATA_CLI), side by side with `strata.Engine`.

The same calls go to an embedded Engine on one store folder and to a Client of a server on
another, both made by `strata init` (SQLite, hashing embedder): the answers must have the same
types and fields, the same hits in the same order, and the errors the same classes and messages.

Runs the built CLI (STRATA_CLI) and the package in bindings/python over the libstrata.so beside
the CLI (or STRATA_LIBRARY), as scripts/test runs it.
"""

import dataclasses
import inspect
import os
import re
import socket
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from test_serve import Server, cli, token
from test_cli import BIN

os.environ.setdefault("STRATA_LIBRARY", str(BIN.parent / "libstrata.so"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bindings" / "python"))
import strata  # noqa: E402  (after STRATA_LIBRARY is set: the package loads the library on import)
import strata.client  # noqa: E402  (its page and batch sizes, made small to test paging)
from strata._ffi import EMBED_MAX_TEXTS  # noqa: E402

# Engine's public methods that Client does not offer, each on purpose, with the reason.
ENGINE_ONLY = {
    # It copies this engine's memories into another Engine of the same process, embedding them
    # with that engine's embedder; a server serves one store, and `strata reembed` re-embeds it.
    "reembed": "engine to engine, in one process",
}
# Client methods whose signature adds to Engine's, each on purpose.
WIDER_SIGNATURE = {
    # A remote subscription can resume after the server's event number `since`; an embedded
    # engine's events have no number to resume from.
    "subscribe": "since=",
}


@pytest.fixture
def folders(tmp_path):
    """(the server's folder, the engine's folder), each holding a `store` made by `strata init`."""
    out = []
    for name in ("remote", "local"):
        folder = tmp_path / name
        folder.mkdir()
        code, _, err = cli("init", "--dir", str(folder / "store"), cwd=folder)
        assert code == 0, err
        out.append(folder)
    return out


@pytest.fixture
def tokens(folders):
    remote = folders[0]
    return {role: token(remote, "", role)["secret"] for role in ("read", "write", "admin")}


@pytest.fixture
def server(folders, tokens):
    s = Server(folders[0])
    yield s
    code, err = s.stop()
    assert code == 0, err


@pytest.fixture
def client(server, tokens):
    with strata.Client(f"http://127.0.0.1:{server.port}", token=tokens["admin"]) as c:
        yield c


@pytest.fixture
def engine(folders):
    with strata.Engine(path=folders[1] / "store") as e:
        yield e


# Fields that are the clock's or the generator's, not the engine's answer to the calls.
VOLATILE = {"created_at", "updated_at", "accessed_at", "at", "expires_at", "duration_ms"}


GENERATED = re.compile(r"^m-[0-9a-f]{16,}$")


def shape(value, ids):
    """``value`` with times dropped, generated ids replaced by their order of appearance, scores rounded."""
    if isinstance(value, strata.StoredId):
        return ("StoredId", shape(str(value), ids), value.deduplicated)
    if dataclasses.is_dataclass(value):
        fields = {f.name: shape(getattr(value, f.name), ids) for f in dataclasses.fields(value) if f.name not in VOLATILE}
        return (type(value).__name__, fields)
    if isinstance(value, dict):
        return {k: shape(v, ids) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, (list, tuple)):
        return [shape(v, ids) for v in value]
    if isinstance(value, str) and GENERATED.match(value):
        return ids.setdefault(value, f"id{len(ids)}")
    if isinstance(value, float):
        return round(value, 3)
    return value


def session(m):
    """One agent's calls, written once for Engine and Client alike."""
    out = {}
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    a = m.store("Alice prefers green tea", {"user": "alice"}, category="preference", importance=0.7, at=t0)
    out["store"] = a
    out["dedupe"] = m.store("Alice prefers green tea.", {"user": "alice"}, at=t0)
    out["mem0"] = m.store("Bob runs on Sundays", user_id="bob", at=t0)
    out["upsert"] = m.upsert("pet", "The cat is called Miso", {"user": "alice"}, at=t0)
    out["batch"] = m.store_many(["The meeting moved to Friday", {"content": "Paris is the capital of France", "at": t0},
                                 {"id": "pet", "content": "The cat is called Miso", "at": t0}])
    out["recall"] = m.recall("what does alice drink?", k=3, track_access=False)
    out["recall_filter"] = m.recall("cat", filter={"user": "alice"}, track_access=False)
    out["recall_mem0"] = m.recall("sport", user_id="bob", track_access=False)
    out["recall_empty"] = m.recall("", k=4, track_access=False)  # no query: what is in view, by recency and importance
    query = np.linspace(-1, 1, 256, dtype=np.float32)
    out["vectors"] = m.store_vectors(np.stack([query, -query]), [{"content": "v+", "id": "v1"}, {"content": "v-", "id": "v2"}])
    out["recall_vector"] = m.recall_vector(query, k=2, filter={"$not": {"user": "alice"}}, track_access=False)
    out["recall_vector_2d"] = m.recall_vector(query.reshape(1, -1).astype(np.float64), k=1, track_access=False)
    out["get_all"] = m.get_all()
    out["get_all_page"] = m.get_all(limit=3, offset=2)
    out["get_all_past_the_end"] = m.get_all(offset=100)
    out["get_all_none"] = m.get_all(limit=0)
    out["get_all_filter"] = m.get_all({"user": "alice"}, category="preference")
    out["get_all_mem0"] = m.get_all(user_id="bob")
    out["get_all_scope"] = m.get_all(scope="user:bob")
    out["count"] = m.count()
    out["count_filter"] = m.count(filter={"user": {"$in": ["alice", "bob"]}})
    out["count_mem0"] = m.count(user_id="bob")
    out["embed"] = m.embed(["Alice prefers green tea", "", "ünïcode ✓"]).tolist()
    out["embed_none"] = m.embed([]).shape
    out["get"] = m.get(a)
    gone = m.store("Kept for a second in 2026", at=t0, ttl_seconds=1)  # expired when stored
    out["get_many"] = m.get_many([a, "no-such-id", "pet", gone, a])
    out["update"] = m.update(a, content="Alice prefers jasmine tea", importance=0.9)
    out["history"] = m.history(a)
    out["anomalies"] = m.anomalies(threshold=0.0, limit=3)
    out["snapshot"] = m.snapshot("before")
    out["forget_id"] = m.forget("v2")
    out["forget_filter"] = m.forget(filter={"user": "alice"})
    out["rollback"] = m.rollback("before")
    out["snapshots"] = m.snapshots()
    out["delete_snapshot"] = m.delete_snapshot("before")
    out["metabolize"] = m.metabolize(dry_run=True, now=datetime(2026, 1, 2, tzinfo=timezone.utc))
    out["dimension"] = m.dimension
    stats = m.stats()
    out["stats"] = {k: stats[k] for k in ("memories", "by_tier", "by_category", "by_scope", "dimension", "embedder", "index")}
    out["reset"] = m.reset()
    out["after_reset"] = m.recall("tea", track_access=False)
    out["count_after_reset"] = (m.count(), m.get_all())
    return out


def test_the_same_calls_answer_the_same_through_engine_and_client(engine, client):
    local, remote = session(engine), session(client)
    assert set(local) == set(remote)
    for key in local:
        assert shape(remote[key], {}) == shape(local[key], {}), key
    # The types themselves, not only their fields.
    assert type(remote["store"]) is strata.StoredId and remote["dedupe"].deduplicated
    assert all(type(h) is strata.Hit for h in remote["recall"]) and remote["recall"]
    assert type(remote["get"]) is strata.Memory and type(remote["update"]) is strata.Memory
    assert all(type(e) is strata.HistoryEntry for e in remote["history"])
    assert type(remote["snapshot"]) is strata.Snapshot and type(remote["rollback"]) is strata.Rollback
    assert remote["recall_vector"][0].content == "v+" and remote["recall_vector_2d"][0].content == "v+"
    assert all(type(m) is strata.Memory for m in remote["get_all"]) and len(remote["get_all"]) == remote["count"] > 3
    assert len(remote["get_all_page"]) == 3 and remote["get_all_none"] == [] and remote["get_all_past_the_end"] == []
    assert remote["count_after_reset"] == (0, [])


def test_client_methods_take_the_engines_arguments():
    engine_methods = {name for name, value in vars(strata.Engine).items() if not name.startswith("_") and callable(value)}
    assert {"get_all", "count", "embed", "get_many"} <= engine_methods
    missing = {name for name in engine_methods if not callable(getattr(strata.Client, name, None))}
    assert missing == set(ENGINE_ONLY), f"Client lacks {missing - set(ENGINE_ONLY)}; no longer lacks {set(ENGINE_ONLY) - missing}"
    for verb in sorted(engine_methods - set(ENGINE_ONLY) - set(WIDER_SIGNATURE)):
        assert inspect.signature(getattr(strata.Client, verb)) == inspect.signature(getattr(strata.Engine, verb)), verb
    # A wider signature keeps every parameter of Engine's, in order, and adds keyword-only ones.
    for verb in WIDER_SIGNATURE:
        local = list(inspect.signature(getattr(strata.Engine, verb)).parameters.values())
        remote = list(inspect.signature(getattr(strata.Client, verb)).parameters.values())
        assert remote[:len(local)] == local, verb
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in remote[len(local):]) and len(remote) > len(local), verb
    assert inspect.signature(strata.Client.dimension.fget).return_annotation == inspect.signature(strata.Engine.dimension.fget).return_annotation


def test_get_all_pages_through_a_listing_larger_than_the_servers_page(engine, client, monkeypatch):
    # The server's page (10,000) made small, so a few memories take several requests each.
    monkeypatch.setattr(strata.client, "_LIST_PAGE", 3)
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for m in (engine, client):
        m.store_many([{"content": f"note {i} on the garden", "id": f"n{i:02}", "at": t0} for i in range(11)])
    for kwargs in ({}, {"limit": 7}, {"limit": 3}, {"offset": 4}, {"limit": 5, "offset": 8}, {"limit": 100, "offset": 1}):
        local, remote = engine.get_all(**kwargs), client.get_all(**kwargs)
        assert [m.id for m in remote] == [m.id for m in local] and local, kwargs
    assert [m.id for m in client.get_all()] == [f"n{i:02}" for i in range(11)]
    assert [m.id for m in client.get_many(["n09", "n01", "nope", "n05", "n01", "n03"])] == ["n09", "n01", "n05", "n03"]


def test_embed_answers_the_engines_rows(engine, client, monkeypatch):
    texts = ["Alice prefers green tea", "", "ünïcode ✓ 100%", "x" * 5000, "line\nbreak \"quoted\""]
    local, remote = engine.embed(texts), client.embed(texts)
    assert remote.dtype == np.float32 and remote.shape == local.shape == (5, engine.dimension)
    assert np.array_equal(remote, local)
    assert client.embed(t for t in ["a generator", b"or bytes"]).shape == (2, engine.dimension)
    assert np.array_equal(client.embed([b"bytes are UTF-8"]), engine.embed(["bytes are UTF-8"]))
    # More texts than one request takes go in several, in order.
    monkeypatch.setattr(strata.client, "_EMBED_BATCH", 2)
    many = [f"note {i}" for i in range(7)]
    assert np.array_equal(client.embed(many), engine.embed(many))
    # So do texts longer in all than one request carries.
    monkeypatch.setattr(strata.client, "_EMBED_BATCH_BYTES", 10)
    assert np.array_equal(client.embed(["0123456789abc", "x", "y"]), engine.embed(["0123456789abc", "x", "y"]))
    # What embed answers is what store and recall use: the row finds its memory.
    mid = client.store("The cat is called Miso")
    assert client.recall_vector(client.embed(["The cat is called Miso"])[0], k=1)[0].id == mid


def same_error(engine, client, call, same_message=True):
    """Runs ``call`` on both; returns the client's exception after checking it matches the engine's
    (class, code, status, and the message unless ``same_message`` is False)."""
    with pytest.raises(strata.StrataError) as local:
        call(engine)
    with pytest.raises(strata.StrataError) as remote:
        call(client)
    assert type(remote.value) is type(local.value)
    # Messages naming a file name the server's store folder.
    message = remote.value.message.replace("/remote/store/", "/local/store/")
    assert (remote.value.code, remote.value.status) == (local.value.code, local.value.status)
    if same_message:
        assert message == local.value.message
    return remote.value


def test_errors_are_the_engines(engine, client):
    assert isinstance(same_error(engine, client, lambda m: m.get("strata:00000000-0000-0000-0000-000000000000")), strata.NotFound)
    assert isinstance(same_error(engine, client, lambda m: m.get("no-such-id")), strata.NotFound)
    same_error(engine, client, lambda m: m.history("nothing"))
    same_error(engine, client, lambda m: m.update("nothing", content="x"))
    same_error(engine, client, lambda m: m.forget("nothing"))
    same_error(engine, client, lambda m: m.rollback("nothing"))
    assert isinstance(same_error(engine, client, lambda m: m.store("x", importance=2.0)), strata.InvalidArgument)
    assert isinstance(same_error(engine, client, lambda m: m.recall("x", filter={"n": {"$near": 1}})), strata.InvalidFilter)
    assert isinstance(same_error(engine, client, lambda m: m.recall_vector(np.ones(3, np.float32)), same_message=False), strata.DimensionMismatch)
    same_error(engine, client, lambda m: m.forget(filter={}))
    same_error(engine, client, lambda m: m.store_vectors(np.ones((2, 256), np.float32), ["only one"]), same_message=False)
    assert isinstance(same_error(engine, client, lambda m: m.get_all({"n": {"$near": 1}})), strata.InvalidFilter)
    for bad in ({"limit": -1}, {"offset": -1}, {"limit": 2**40}, {"offset": 2**31}, {"scope": "a//b"}):
        assert isinstance(same_error(engine, client, lambda m: m.get_all(**bad)), strata.InvalidArgument), bad
    # count's request is named "count request" by the server and "list request" by the library.
    assert isinstance(same_error(engine, client, lambda m: m.count({"n": {"$near": 1}}), same_message=False), strata.InvalidFilter)
    same_error(engine, client, lambda m: m.count(scope="a//b"))
    assert isinstance(same_error(engine, client, lambda m: m.embed(["fine", "a\0b"])), strata.InvalidArgument)
    assert isinstance(same_error(engine, client, lambda m: m.embed(["fine", "lone \ud800"])), strata.InvalidUTF8)
    assert isinstance(same_error(engine, client, lambda m: m.embed([b"\xff"])), strata.InvalidUTF8)
    # The message names the class the call was made on.
    same_error(engine, client, lambda m: m.embed([""] * (EMBED_MAX_TEXTS + 1)), same_message=False)
    for m in (engine, client):
        with pytest.raises(TypeError, match="one str"):
            m.embed("one text")
        with pytest.raises(TypeError, match="text 1"):
            m.embed(["fine", 3])
        with pytest.raises(TypeError, match="limit"):
            m.get_all(limit="3")
        with pytest.raises(TypeError, match="filter"):
            m.count(filter=[])
        with pytest.raises(TypeError, match="importance"):
            m.store("x", importance="high")
        with pytest.raises(TypeError, match="one str"):
            m.store_many("one text")


def test_custom_ids_travel_in_the_path(client):
    mid = client.store("a note", id="notes:2026@1+(draft)")
    assert mid == "notes:2026@1+(draft)"
    assert client.get(mid).content == "a note"
    assert client.update(mid, pinned=True).pinned
    assert [e.event for e in client.history(mid)] == ["ADD", "UPDATE"]
    assert client.forget(mid) == [mid]


def test_ids_that_need_percent_encoding_can_be_updated_and_forgotten(client):
    # update and forget send the id in the body.
    mid = client.store("a note", id="notes/2026 #1?")
    assert client.update(mid, pinned=True).pinned
    assert client.forget(mid) == [mid]


def test_ids_that_need_percent_encoding_can_be_read(client, server, tokens):
    # The client percent-encodes an id in the path; the server decodes it.
    mid = client.store("a note", id="notes/2026 #1?")
    assert client.get(mid).content == "a note"
    assert [e.event for e in client.history(mid)] == ["ADD"]
    mid = client.store("another", id="ünïcode 100%")
    assert client.get(mid).content == "another"
    # A malformed escape is a bad argument, never a 5xx.
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", server.port)
    c.request("GET", "/v1/memories/bad%zzescape", headers={"Authorization": f"Bearer {tokens['write']}"})
    r = c.getresponse()
    body = r.read().decode()
    assert r.status == 422 and "percent-encoded" in body, (r.status, body)


def test_tokens(server, tokens):
    url = f"http://127.0.0.1:{server.port}"
    with strata.Client(url, token="strata_nope_0000") as c, pytest.raises(strata.Unauthorized) as e:
        c.recall("tea")
    assert e.value.code == 401 and e.value.status == "UNAUTHORIZED" and isinstance(e.value, strata.StrataError)
    with strata.Client(url) as c, pytest.raises(strata.Unauthorized):
        c.get("x")
    with strata.Client(url, token=tokens["write"]) as writer:
        mid = writer.store("written")
        with pytest.raises(strata.Forbidden) as e:
            writer.snapshot("s")  # admin only
        assert e.value.code == 403
    with strata.Client(url, token=tokens["read"]) as reader:
        with pytest.raises(strata.Forbidden, match="read"):
            reader.store("refused")
        assert reader.get(mid).content == "written"
        assert [h.id for h in reader.recall("written")] == [mid]


def test_scoped_token_sees_its_subtree_only(folders, server):
    url = f"http://127.0.0.1:{server.port}"
    a = token(folders[0], "org/a", "write")["secret"]
    b = token(folders[0], "org/b", "write")["secret"]
    with strata.Client(url, token=a) as ca, strata.Client(url, token=b) as cb:
        mid = ca.store("a's secret")
        assert ca.get(mid).scope == "org/a"
        with pytest.raises(strata.NotFound):
            cb.get(mid)
        assert cb.recall("secret") == []
        with pytest.raises(strata.Forbidden):
            cb.store("x", scope="org/a")
        # Listing and counting see the token's subtree only, whatever is asked.
        below = ca.store("below a", scope="org/a/x", visibility="global")
        assert [m.id for m in ca.get_all()] == [mid, below] and ca.count() == 2
        assert cb.get_all() == [] and cb.count() == 0 and cb.get_many([mid, below]) == []
        below_view = [m.id for m in ca.get_all(scope="org/a/x")]
        assert below in below_view and ca.count(scope="org/a/x") == len(below_view)
        for call in (lambda: cb.get_all(scope="org/a"), lambda: cb.count(scope="org/a")):
            with pytest.raises(strata.Forbidden):
                call()
        # Embedding reads no memory: any token embeds.
        assert np.array_equal(cb.embed(["a's secret"]), ca.embed(["a's secret"]))


def test_an_unreachable_server_is_named():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with strata.Client(url) as c, pytest.raises(strata.ServerUnreachable, match=f"127.0.0.1:{port}") as e:
        c.stats()
    assert isinstance(e.value, ConnectionError) and isinstance(e.value, strata.StrataIOError)


def test_one_connection_serves_many_calls_and_survives_a_server_restart(folders, tokens):
    s = Server(folders[0])
    try:
        c = strata.Client(f"http://127.0.0.1:{s.port}", token=tokens["write"])
        ids = [c.store(f"note {i}") for i in range(20)]
        connection = c._connection
        assert [c.get(i).content for i in ids] == [f"note {i}" for i in range(20)]
        assert c._connection is connection  # kept alive, not one connection per call
    finally:
        assert s.stop()[0] == 0
    with pytest.raises(strata.ServerUnreachable):
        c.get(ids[0])
    c.close()
    with pytest.raises(strata.ServerUnreachable, match="closed"):
        c.get(ids[0])


def test_bad_urls_are_refused():
    with pytest.raises(ValueError, match="url"):
        strata.Client("127.0.0.1:7700")
    with pytest.raises(TypeError, match="token"):
        strata.Client("http://127.0.0.1:7700", token=42)


# ---- events (WebSocket /v1/events) and what they carry

# A bound on waiting for events that must come, so a broken server fails the test instead of hanging it.
WAIT = 60


class Collector:
    """A subscription callback that keeps every event and says when `n` have come."""

    def __init__(self):
        self.events = []
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)

    def __call__(self, event):
        with self.lock:
            self.events.append(event)
            self.changed.notify_all()

    def wait_for(self, n):
        with self.lock:
            assert self.changed.wait_for(lambda: len(self.events) >= n, timeout=WAIT), self.events
            return list(self.events)


def event_calls(m):
    a = m.store("Alice prefers green tea", {"user": "alice"})
    m.store("Alice prefers green tea.", {"user": "alice"})  # deduplicated
    m.update(a, importance=0.9)
    m.store_many(["one", "two"])
    m.forget(a)
    return 6


def test_subscribe_delivers_the_engines_events(engine, client):
    local, remote = Collector(), Collector()
    engine.subscribe(local)
    token = client.subscribe(remote)
    n = event_calls(engine)
    assert event_calls(client) == n
    want, got = local.wait_for(n), remote.wait_for(n)
    assert shape([dataclasses.replace(e, seq=None) for e in got], {}) == shape(want, {})
    assert [e.type for e in got] == ["memory.stored", "memory.deduplicated", "memory.updated", "memory.stored",
                                     "memory.stored", "memory.forgotten"]
    assert all(type(e) is strata.Event for e in got) and [e.seq for e in got] == list(range(1, n + 1))
    assert all(e.seq is None for e in want)
    client.unsubscribe(token)
    client.store("after unsubscribe")
    assert len(remote.events) == n  # never called again once unsubscribe returned
    with pytest.raises(strata.NotFound):
        client.unsubscribe(token)


def test_events_start_now_or_after_since(client):
    first = client.store("before")
    with client.events() as live:
        second = client.store("after")
        event = next(live)
        assert (event.type, event.memory_id, event.seq) == ("memory.stored", second, 2)
        assert live.last_seq == 2
    assert live.closed and list(live) == []
    with client.events(since=0) as replay:
        assert [next(replay).memory_id, next(replay).memory_id] == [first, second]


def test_a_stream_dropped_for_falling_behind_resumes_by_itself(folders, tokens):
    s = Server(folders[0], "--event-buffer", "2")
    try:
        with strata.Client(f"http://127.0.0.1:{s.port}", token=tokens["write"]) as c, c.events() as stream:
            # 15 MB of events while the stream reads nothing: more than the loopback socket
            # buffers hold, so the server's writes stall and its 2-event buffer overflows however
            # fast the machine is (small events fit in the buffers, and were dropped only on a
            # busy machine).
            big = "x" * 150_000
            ids = []
            for batch in range(20):
                ids += c.store_many([f"note {batch} {i} {big}" for i in range(5)])
            got = [next(stream) for _ in range(len(ids))]
            assert [e.memory_id for e in got] == [str(i) for i in ids]
            assert [e.seq for e in got] == list(range(1, len(ids) + 1)) and stream.resumed >= 1
    finally:
        assert s.stop()[0] == 0


def test_events_end_when_the_server_stops(folders, tokens):
    s = Server(folders[0])
    stopped = False
    try:
        c = strata.Client(f"http://127.0.0.1:{s.port}", token=tokens["read"])
        stream = c.events()
        assert s.stop()[0] == 0
        stopped = True
        assert list(stream) == [] and stream.closed
    finally:
        if not stopped:
            s.stop()


def test_events_need_a_token_that_may_read_and_see_its_scope_only(folders, server, tokens):
    url = f"http://127.0.0.1:{server.port}"
    with strata.Client(url) as anonymous, pytest.raises(strata.Unauthorized):
        anonymous.events()
    with strata.Client(url, token="strata_nope_0000") as bad, pytest.raises(strata.Unauthorized):
        bad.subscribe(print)
    a = token(folders[0], "org/a", "write")["secret"]
    b = token(folders[0], "org/b", "read")["secret"]
    with strata.Client(url, token=a) as ca, strata.Client(url, token=b) as cb, cb.events() as b_stream:
        seen_by_b = Collector()
        cb.subscribe(seen_by_b)
        ca.store("a's secret")
        with strata.Client(url, token=tokens["write"]) as root:
            mine = root.store("for b", scope="org/b")
        assert next(b_stream).memory_id == mine  # org/a's memory was never sent
        assert [e.memory_id for e in seen_by_b.wait_for(1)] == [mine]
    with pytest.raises(strata.InvalidArgument, match="since"):
        strata.Client(url, token=tokens["read"]).events(since=-1)


def test_a_failing_callback_is_reported_and_the_subscription_goes_on(client, monkeypatch):
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", lambda args: reported.append(args))
    seen = Collector()

    def callback(event):
        seen(event)
        if len(seen.events) == 1:
            raise RuntimeError("the agent's bug")

    client.subscribe(callback)
    client.store("one")
    client.store("two")
    assert len(seen.wait_for(2)) == 2
    assert len(reported) == 1 and isinstance(reported[0].exc_value, RuntimeError)
    assert "callback" in reported[0].err_msg


def test_get_many_reads_what_the_token_sees(folders, server):
    url = f"http://127.0.0.1:{server.port}"
    a = token(folders[0], "org/a", "write")["secret"]
    b = token(folders[0], "org/b", "write")["secret"]
    with strata.Client(url, token=a) as ca, strata.Client(url, token=b) as cb:
        x, y = ca.store("a's"), cb.store("b's")
        assert [m.id for m in cb.get_many([x, y])] == [y]
        assert cb.get_many([]) == []
        with pytest.raises(TypeError, match="one str"):
            cb.get_many(y)
