"""The contract of `strata serve`: the OpenAPI document (docs/openapi.json) is what the server
serves at /v1/openapi.json, byte for byte, and schemathesis (PyPI) fuzzes every operation it
lists against a live server with a root admin token: no answer may be a 5xx, and every answer
must be one the document allows (status, content type, headers, body schema).

The server is the real binary (STRATA_CLI) on a temporary store, started as test_serve.py does.
"""

import http.client
import json
import re
import subprocess
import sys

from test_serve import ROOT, Server, folder, store, token  # noqa: F401 (folder is a fixture)

SPEC = ROOT / "docs" / "openapi.json"
# Cases per operation and phase stay bounded (about 900 requests in all), so the run takes well
# under 2 minutes with a debug build on the 2-core machine: 20 s idle, 70 s with other builds
# loading both cores (2026-12-06). Nearly all of it is schemathesis generating cases; the server
# answers them in about 3 s.
MAX_EXAMPLES = 12
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,"
          "response_schema_conformance,unsupported_method,allow_header_conformance")


def test_the_served_document_is_the_repository_file_byte_for_byte(folder):
    s = Server(folder)
    try:
        code, answer, raw = s.call("GET", "/v1/openapi.json")
        assert code == 200
        assert raw == SPEC.read_bytes(), "run scripts/gen-openapi-swift after editing docs/openapi.json"
        assert answer["openapi"].startswith("3.1")
    finally:
        assert s.stop()[0] == 0


def test_the_document_lists_every_v1_route_of_the_server():
    spec = json.loads(SPEC.read_text())
    source = (ROOT / "Sources" / "StrataServer" / "StrataHTTPServer.swift").read_text()
    routes = set()
    for method, path in re.findall(r'\(\.(get|post|patch|delete|put), "([^"]+)"', source):
        if path.startswith("/v1/") or path == "/metrics":
            routes.add((method, "/".join("{" + p[1:] + "}" if p.startswith(":") else p for p in path.split("/"))))
    listed = {(method, path) for path, item in spec["paths"].items() for method in item if method != "parameters"}
    assert len(routes) > 15 and routes == listed, f"in the server only: {routes - listed}; in the document only: {listed - routes}"


def test_a_known_path_with_another_method_is_405_with_allow(folder):
    # Found by schemathesis's unsupported_method check: the router answered 404 NO_ROUTE.
    s = Server(folder)
    try:
        for method, path, allow in [("TRACE", "/v1/stats", "GET"), ("PUT", "/v1/memories/m-1", "GET, PATCH, DELETE"),
                                    ("GET", "/v1/recall", "POST"), ("DELETE", "/v1/anomalies", "GET, POST"),
                                    ("HEAD", "/metrics", "GET")]:
            conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
            conn.request(method, path)
            r = conn.getresponse()
            body = r.read()
            conn.close()
            assert r.status == 405 and r.getheader("Allow") == allow, f"{method} {path}: {r.status} {r.getheader('Allow')} {body!r}"
            if method != "HEAD":
                assert json.loads(body)["error"]["status"] == "METHOD_NOT_ALLOWED"
        assert s.error(404, "PUT", "/v1/nowhere")["status"] == "NO_ROUTE"
        assert s.error(404, "GET", "/v1/memories/a/b/c")["status"] == "NO_ROUTE"
    finally:
        assert s.stop()[0] == 0


def answer_schema(spec, template, method, status):
    """The document's schema for `method template`'s answer with `status`, as a root schema whose refs resolve."""
    response = spec["paths"][template][method.lower()]["responses"][str(status)]
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return {**spec, **response["content"]["application/json"]["schema"]}


def test_answers_of_a_whole_session_match_the_document(folder):
    # Fuzzing rarely guesses an id or a snapshot name, so the answers about real memories are
    # checked here: each route's answer against the schema the document gives for its status
    # (jsonschema_rs: schemathesis's own validator, so no other package is needed).
    import jsonschema_rs

    spec = json.loads(SPEC.read_text())
    s = Server(folder)
    checked = set()

    def check(method, template, path, body=None, status=200):
        code, answer, _ = s.call(method, path, body)
        assert code == status, f"{method} {path}: {code} {answer}"
        jsonschema_rs.Draft202012Validator(answer_schema(spec, template, method, status)).validate(answer)
        checked.add((method.lower(), template))
        return answer

    try:
        mid = check("POST", "/v1/memories", "/v1/memories", {"content": "Alice prefers tea", "metadata": {"u": "alice"}}, 201)["id"]
        dim = check("GET", "/v1/stats", "/v1/stats")["dimension"]
        batch = check("POST", "/v1/memories", "/v1/memories", {"items": [{"content": f"note {i} on the garden"} for i in range(30)]}, 201)
        check("POST", "/v1/memories", "/v1/memories", {"vector": [1.0] + [0.0] * (dim - 1), "content": "a vector"}, 201)
        check("GET", "/v1/memories/{id}", f"/v1/memories/{mid}")
        check("PATCH", "/v1/memories/{id}", f"/v1/memories/{mid}", {"content": "Alice prefers green tea", "importance": 0.9})
        assert check("POST", "/v1/recall", "/v1/recall", {"query": "tea", "k": 3})["hits"]
        check("POST", "/v1/recall", "/v1/recall", {"vector": [1.0] + [0.0] * (dim - 1), "k": 2})
        listed = check("POST", "/v1/list", "/v1/list", {"limit": 5, "offset": 1, "filter": {"u": {"$exists": False}}})
        assert len(listed["memories"]) == 5
        assert check("POST", "/v1/count", "/v1/count", {"filter": {"u": {"$exists": False}}})["total"] == listed["total"] > 5
        assert [m["id"] for m in check("POST", "/v1/list", "/v1/list", {"ids": [mid]})["memories"]] == [mid]
        check("POST", "/v1/list", "/v1/list", {"limit": 10_001}, 422)
        check("POST", "/v1/count", "/v1/count", {"limit": 1}, 400)
        assert len(check("POST", "/v1/embed", "/v1/embed", {"texts": ["tea", ""]})["vectors"]) == 2
        check("POST", "/v1/embed", "/v1/embed", {"texts": ["x"] * 513}, 422)
        check("POST", "/v1/snapshots", "/v1/snapshots", {"name": "s1"}, 201)
        check("GET", "/v1/snapshots", "/v1/snapshots")
        check("DELETE", "/v1/memories/{id}", f"/v1/memories/{batch['ids'][0]}")
        assert [h["event"] for h in check("GET", "/v1/memories/{id}/history", f"/v1/memories/{mid}/history")["history"]] == ["ADD", "UPDATE"]
        check("GET", "/v1/memories/{id}/history", f"/v1/memories/{batch['ids'][0]}/history")
        check("POST", "/v1/forget", "/v1/forget", {"filter": {"u": "nobody"}})
        check("POST", "/v1/metabolize", "/v1/metabolize", {"dry_run": True, "now": "2030-01-01T00:00:00Z"})
        check("POST", "/v1/metabolize", "/v1/metabolize", {"moves": False})
        check("GET", "/v1/anomalies", "/v1/anomalies")
        check("POST", "/v1/anomalies", "/v1/anomalies", {"threshold": 0.0, "limit": 3})
        check("POST", "/v1/snapshots/{name}/rollback", "/v1/snapshots/s1/rollback")
        check("DELETE", "/v1/snapshots/{name}", "/v1/snapshots/s1")
        check("GET", "/v1/health", "/v1/health")
        check("GET", "/v1/version", "/v1/version")
        assert check("GET", "/v1/whoami", "/v1/whoami")["role"] == "admin"
        cycles = check("GET", "/v1/lifecycle/cycles", "/v1/lifecycle/cycles?limit=5")
        assert cycles["total"] >= 1 and cycles["cycles"], cycles
        check("GET", "/v1/lifecycle/cycles", "/v1/lifecycle/cycles?limit=0", status=422)
        check("GET", "/v1/memories/{id}", "/v1/memories/m-nowhere", status=404)
        check("POST", "/v1/snapshots", "/v1/snapshots", {"name": "bad name"}, 422)
        check("POST", "/v1/recall", "/v1/recall", {"querry": "x"}, 400)
    finally:
        assert s.stop()[0] == 0
    json_routes = {(m, p) for p, item in spec["paths"].items() for m in item if m != "parameters"} - {
        ("get", "/metrics"), ("get", "/v1/events"), ("get", "/v1/openapi.json")}
    assert checked == json_routes, f"not checked: {json_routes - checked}"


def test_schemathesis_finds_no_5xx_and_no_answer_outside_the_document(folder):
    admin = token(folder, "", "admin")["secret"]
    s = Server(folder)
    try:
        # Something to find, so recall, get and history answer hits and memories, not only 404s.
        for i in range(5):
            store(s, f"memory {i} about the garden", admin, metadata={"n": i})
        s.ok("POST", "/v1/snapshots", {"name": "before"}, admin, status=201)
        base = f"http://127.0.0.1:{s.port}"
        p = subprocess.run(
            # The repository's file (the served bytes are the same, tested above): loaded from the
            # server's URL, schemathesis would leave out the route it came from.
            [sys.executable, "-m", "schemathesis.cli", "run", str(SPEC), "--url", base,
             "--checks", CHECKS, "--mode", "all", "--max-examples", str(MAX_EXAMPLES), "--seed", "17",
             "--phases", "examples,coverage,fuzzing", "--workers", "1", "--request-timeout", "60",
             "-H", f"Authorization: Bearer {admin}", "--no-color"],
            cwd=folder, capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, p.stdout[-20000:] + p.stderr[-5000:]
        operations = sum(1 for item in json.loads(SPEC.read_text())["paths"].values() for key in item if key != "parameters")
        tested = re.search(r"Tested: (\d+)", p.stdout)
        assert tested and int(tested.group(1)) == operations, p.stdout[-5000:]
        assert re.search(r"\d+ generated, \d+ passed", p.stdout), p.stdout[-5000:]
    finally:
        code, err = s.stop()
        assert code == 0, err
        assert "request failed" not in err, err[-5000:]
