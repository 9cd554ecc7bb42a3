"""What `strata serve` tells its operator: Prometheus metrics at /metrics (who may read them, and
that the counters move by exactly what was asked), and request ids (echoed in X-Request-Id and
carried by the server's log lines on stderr).

The server is the real binary (STRATA_CLI) on a temporary store, started as test_serve.py does.
"""

import http.client
import json
import re
import struct
import subprocess
import time

from test_serve import BIN, Server, WebSocket, environment, folder, store, token  # noqa: F401 (folder is a fixture)

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(metric name, frozenset of (label, value)): value} of a text exposition."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def scrape(s, secret=None):
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
    try:
        conn.request("GET", "/metrics", headers={} if secret is None else {"Authorization": f"Bearer {secret}"})
        r = conn.getresponse()
        body = r.read().decode()
        assert r.status == 200, body
        assert r.getheader("Content-Type").startswith("text/plain; version=0.0.4")
        return parse(body)
    finally:
        conn.close()


def request(s, method, path, headers=None, body=None):
    """(status, headers, parsed body)."""
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
    try:
        conn.request(method, path, body=None if body is None else json.dumps(body).encode(), headers=headers or {})
        r = conn.getresponse()
        payload = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, (json.loads(payload) if payload else None)
    finally:
        conn.close()


def test_metrics_need_a_root_token_and_count_what_was_asked(folder):
    root_reader = token(folder, "", "read")["secret"]
    writer = token(folder, "", "write")["secret"]
    admin = token(folder, "", "admin")["secret"]
    scoped = token(folder, "org/a", "admin")["secret"]
    s = Server(folder, "--metrics-tier-seconds", "0")
    try:
        # Counts per tier span every scope: no token is 401, a token of a narrower scope 403.
        assert s.error(401, "GET", "/metrics")["status"] == "UNAUTHORIZED"
        assert s.error(403, "GET", "/metrics", token=scoped)["status"] == "FORBIDDEN"

        before = scrape(s, root_reader)
        tiers = s.ok("GET", "/v1/stats", token=admin)["by_tier"]
        mid = store(s, "the deploy runs on Fridays", writer)
        hits = s.ok("POST", "/v1/recall", {"query": "deploy", "k": 3}, writer)["hits"]
        assert [h["id"] for h in hits] == [mid]
        s.error(404, "GET", "/v1/memories/m-nowhere-1", token=writer)
        s.error(404, "GET", "/v1/memories/m-nowhere-2", token=writer)
        s.ok("POST", "/v1/metabolize", {"dry_run": True}, admin)
        after = scrape(s, root_reader)

        def moved(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        req, dur = "strata_http_requests_total", "strata_http_request_duration_seconds_count"
        assert moved(req, route="/v1/memories", method="POST", status="201") == 1
        assert moved(dur, route="/v1/memories", method="POST", status="201") == 1
        assert moved(req, route="/v1/recall", method="POST", status="200") == 1
        assert moved(dur, route="/v1/recall", method="POST", status="200") == 1
        # Errors count under the route's pattern: two ids, one series, no id in any label.
        assert moved(req, route="/v1/memories/{id}", method="GET", status="404") == 2
        assert not [k for k in after if any("m-nowhere" in v for _, v in k[1])]
        # The first scrape and the stats call, counted once each (the second scrape counts after it answers).
        assert moved(req, route="/metrics", method="GET", status="200") == 1
        assert moved(req, route="/v1/stats", method="GET", status="200") == 1
        assert value(after, req, route="/metrics", method="GET", status="401") == 1
        assert value(after, req, route="/metrics", method="GET", status="403") == 1

        # The engine's own time, by verb: one store, one recall, one cycle.
        call = "strata_engine_call_duration_seconds_count"
        assert moved(call, verb="store") == 1
        assert moved(call, verb="recall") == 1
        assert moved(call, verb="metabolize") == 1
        assert value(after, "strata_engine_call_duration_seconds_sum", verb="recall") > 0
        # Histogram buckets are cumulative and end with +Inf = count.
        assert value(after, "strata_http_request_duration_seconds_bucket", route="/v1/recall", method="POST", status="200", le="+Inf") \
            == value(after, dur, route="/v1/recall", method="POST", status="200")

        # Memories per tier, counted afresh (--metrics-tier-seconds 0): the store's tier moved by one.
        tier = s.ok("GET", f"/v1/memories/{mid}", token=writer)["tier"]
        counted = {dict(k[1])["tier"]: v for k, v in after.items() if k[0] == "strata_memories"}
        assert counted.get(tier) == tiers.get(tier, 0) + 1
        assert counted == {t: float(n) for t, n in s.ok("GET", "/v1/stats", token=admin)["by_tier"].items()}
    finally:
        assert s.stop()[0] == 0


def test_metrics_count_scheduled_cycles(folder):
    config_path = folder / "store" / "strata.json"
    config = json.loads(config_path.read_text())
    config.setdefault("lifecycle", {})["schedule_minutes"] = 0.001
    config_path.write_text(json.dumps(config))
    s = Server(folder)
    try:
        while s.ok("GET", "/v1/health")["lifecycle"]["runs"] < 2:
            pass
        samples = scrape(s)  # no token file: the metrics are open, as every other route is
        assert value(samples, "strata_scheduled_runs_total", work="lifecycle") >= 2
        assert ("strata_scheduled_failures_total", frozenset({("work", "lifecycle")})) in samples
        assert value(samples, "strata_scheduled_failures_total", work="lifecycle") == 0
        assert value(samples, "strata_engine_call_duration_seconds_count", verb="metabolize") >= 2
    finally:
        assert s.stop()[0] == 0


def test_a_request_id_is_echoed_and_on_the_log_lines_of_its_request(folder):
    s = Server(folder, "--log-level", "info")
    try:
        code, headers, answer = request(s, "GET", "/v1/memories/m-missing", {"X-Request-Id": "trace-abc-123"})
        assert code == 404 and headers["x-request-id"] == "trace-abc-123", headers
        assert answer["error"]["status"] == "STRATA_ERR_NOT_FOUND"
        code, headers, _ = request(s, "POST", "/v1/memories", {"X-Request-Id": "store-7", "Content-Type": "application/json"},
                                   {"content": "with an id"})
        assert code == 201 and headers["x-request-id"] == "store-7"

        # Not short and printable (a space, too long) or none: the server makes its own, a new one each time.
        made = set()
        for given in ["has space", "x" * 129, None]:
            _, headers, _ = request(s, "GET", "/v1/health", {} if given is None else {"X-Request-Id": given})
            assert re.fullmatch(r"[0-9a-f]{32}", headers["x-request-id"]), headers
            made.add(headers["x-request-id"])
        assert len(made) == 3
        _, headers, _ = request(s, "GET", "/v1/nowhere", {"X-Request-Id": "x" * 128})
        assert headers["x-request-id"] == "x" * 128
    finally:
        code, err = s.stop()
        assert code == 0, err
    lines = [line for line in err.splitlines() if "hb.request.id=trace-abc-123" in line]
    assert len(lines) == 1, err
    for part in ["method=GET", "route=/v1/memories/{id}", "path=/v1/memories/m-missing", "status=404", "duration_ms="]:
        assert part in lines[0], lines[0]
    store_line = next(line for line in err.splitlines() if "hb.request.id=store-7" in line)
    assert "status=201" in store_line and "route=/v1/memories" in store_line and "method=POST" in store_line
    assert re.search(r"duration_ms=\d+\.\d{3}", store_line), store_line
    assert any("route=unmatched" in line and "status=404" in line for line in err.splitlines()), err


def test_an_events_stream_has_a_request_id_and_says_when_it_opens_is_refused_and_closes(folder):
    s = Server(folder, "--log-level", "info")
    try:
        refused = WebSocket(s.port, "/v1/events?since=x", headers={"X-Request-Id": "ws-refused-1"})
        assert refused.status == 101 and "x-request-id: ws-refused-1" in refused.head.lower(), refused.head
        kind, code, reason = refused.message()
        assert (kind, code) == ("close", 4422) and "since" in reason, (kind, code, reason)
        ws = WebSocket(s.port, "/v1/events", headers={"X-Request-Id": "ws-open-2"})
        assert ws.status == 101 and "x-request-id: ws-open-2" in ws.head.lower(), ws.head
        request(s, "POST", "/v1/memories", {"Content-Type": "application/json"}, {"content": "seen on the stream"})
        assert ws.events(1)[0]["type"] == "memory.stored"
        ws.send(8, struct.pack(">H", 1000))  # the client closes
        assert ws.message()[0] == "close"
        ws.sock.close()
        deadline = time.time() + 30
        while time.time() < deadline and value(scrape(s), "strata_http_requests_total", route="/v1/events", method="GET", status="101") < 2:
            time.sleep(0.1)
        assert value(scrape(s), "strata_http_requests_total", route="/v1/events", method="GET", status="101") == 2
    finally:
        code, err = s.stop()
        assert code == 0, err
    mine = [line for line in err.splitlines() if "hb.request.id=ws-refused-1" in line]
    assert any("events stream refused" in line and "close_code=4422" in line for line in mine), err
    assert any("route=/v1/events" in line and "status=101" in line for line in mine), mine
    mine = [line for line in err.splitlines() if "hb.request.id=ws-open-2" in line]
    assert any("events stream opened" in line and "role=admin" in line and "scope=(root)" in line for line in mine), err
    assert any("events stream closed" in line and "the client closed" in line for line in mine), err


def test_failed_scheduled_cycles_are_counted(folder):
    # A read-only store refuses every cycle's write: each scheduled cycle fails, and is logged and counted.
    store_dir = folder / "store"
    code = subprocess.run([str(BIN), "add", "one memory", "--dir", str(store_dir)], cwd=folder, env=environment(), capture_output=True)
    assert code.returncode == 0, code.stderr
    config_path = store_dir / "strata.json"
    config = json.loads(config_path.read_text())
    config.setdefault("lifecycle", {})["schedule_minutes"] = 0.001
    config["store"].setdefault("options", {})["read_only"] = True
    config_path.write_text(json.dumps(config))
    s = Server(folder)
    try:
        while s.ok("GET", "/v1/health")["lifecycle"]["failed"] < 2:
            pass
        samples = scrape(s)
        failed = value(samples, "strata_scheduled_failures_total", work="lifecycle")
        assert failed >= 2 and value(samples, "strata_scheduled_runs_total", work="lifecycle") >= failed
    finally:
        code, err = s.stop()
    assert code == 0, err
    assert "scheduled lifecycle cycle failed" in err and "read-only" in err


def test_engine_calls_are_counted_by_where_they_ran(folder):
    # One kept-alive connection: a store (always handed off), then recalls. Every recall is
    # over the 1 µs budget; the first is handed off (its verb has no time on record yet), later
    # ones run on the event loop when the connection is alone on it (--inline-alone-read-us).
    # With --inline-read-us 0 every call is handed off.
    counts = {}
    for name, flags in [("alone", ("--inline-read-us", "1", "--inline-alone-read-us", "10000000")),
                        ("off", ("--inline-read-us", "0"))]:
        s = Server(folder, *flags)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
            for method, path, body, status in [("POST", "/v1/memories", {"items": [{"content": "tea and maps"}]}, 201)] + \
                    [("POST", "/v1/recall", {"query": "tea", "k": 1, "track_access": False}, 200)] * 6:
                conn.request(method, path, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                assert r.status == status, r.read()
                r.read()
            conn.close()
            samples = scrape(s)
            counts[name] = (value(samples, "strata_engine_calls_total", place="inline"),
                            value(samples, "strata_engine_calls_total", place="handed_off"))
        finally:
            assert s.stop()[0] == 0
    inline, handed_off = counts["alone"]
    # Eight calls: the store, six recalls and the scrape's count of memories per tier. The
    # store, the first recall and the count were handed off; of the five recalls after, those
    # made while the connection was alone on its loop (the readiness probes' connections closed) ran inline.
    assert handed_off >= 3 and inline >= 1 and inline + handed_off == 8, counts
    assert counts["off"] == (0.0, 8.0), counts
