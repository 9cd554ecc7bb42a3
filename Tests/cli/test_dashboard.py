"""The dashboard of `strata serve`, in a real browser: Debian's Chromium, headless, driven over the
DevTools protocol (through test_serve's WebSocket client, on the stdlib's socket). Sign in (and a
refused token), recall and see the hit with its score parts, a memory stored over REST appearing
live, the rollback button for admin tokens only, every view drawn, and no Content-Security-Policy
violation anywhere. The routes the page needs (`/v1/whoami`, `/v1/lifecycle/cycles`, the assets)
are tested over plain HTTP first.

Chromium must start: a machine without it fails here (scripts/setup installs it), never skips.
Set STRATA_SCREENSHOTS=docs to write the screenshots of the README there.
"""

import base64
import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from test_serve import ROOT, Server, WebSocket, cli, store, token

WAIT_SECONDS = 15
WIDTH, HEIGHT = 1360, 860


# ---- the server ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One server with a token per role at the root and a read token of org/a."""
    folder = tmp_path_factory.mktemp("dashboard")
    code, _, err = cli("init", "--dir", str(folder / "store"), cwd=folder)
    assert code == 0, err
    tokens = {role: token(folder, "", role)["secret"] for role in ("read", "write", "admin")}
    tokens["org/a"] = token(folder, "org/a", "read")["secret"]
    s = Server(folder)
    s.tokens = tokens
    yield s
    code, err = s.stop()
    assert code == 0, err


def get(site, path, token=None):
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=60)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        r = conn.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        conn.close()


# ---- the routes the page needs ---------------------------------------------------------------


def test_the_page_and_its_assets_are_served_with_their_types_and_a_strict_policy(site):
    for path, kind in [("/dashboard", "text/html"), ("/memory/dashboard", "text/html"),
                       ("/dashboard/dashboard.js", "text/javascript"), ("/dashboard/dashboard.css", "text/css")]:
        status, headers, body = get(site, path)
        assert status == 200, path
        assert headers["content-type"].startswith(kind), (path, headers)
        policy = headers["content-security-policy"]
        assert "script-src 'self'" in policy and "default-src 'none'" in policy and "unsafe-inline" not in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert body == (ROOT / "dashboard" / {"text/html": "index.html", "text/javascript": "dashboard.js",
                                               "text/css": "dashboard.css"}[kind]).read_bytes()
    status, _, _ = get(site, "/dashboard/missing.js")
    assert status == 404


def test_whoami_names_the_scope_and_role_of_the_token(site):
    assert site.error(401, "GET", "/v1/whoami")["status"] == "UNAUTHORIZED"
    assert site.error(401, "GET", "/v1/whoami", token="strata_t000000000000_" + "0" * 64)["status"] == "UNAUTHORIZED"
    for role in ("read", "write", "admin"):
        who = site.ok("GET", "/v1/whoami", token=site.tokens[role])
        assert who["scope"] == "" and who["role"] == role and who["tokens_required"] is True
        assert who["token_id"] and site.tokens[role].startswith(f"strata_{who['token_id']}_")
    who = site.ok("GET", "/v1/whoami", token=site.tokens["org/a"])
    assert (who["scope"], who["role"]) == ("org/a", "read")


def test_lifecycle_cycles_lists_each_cycle_with_its_own_counts(site):
    admin = site.tokens["admin"]
    before = site.ok("GET", "/v1/lifecycle/cycles", token=admin)["total"]
    site.ok("POST", "/v1/metabolize", {}, token=admin)
    site.ok("POST", "/v1/metabolize", {"dry_run": True}, token=admin)  # a dry run commits nothing
    site.ok("POST", "/v1/metabolize", {}, token=admin)
    answer = site.ok("GET", "/v1/lifecycle/cycles", token=site.tokens["read"])
    assert answer["total"] == before + 2 and len(answer["cycles"]) == before + 2
    last = answer["cycles"][-1]
    assert set(last) == {"at", "migrated", "migrated_total", "pruned", "pruned_total", "consolidated",
                         "consolidated_sources", "patterns", "compressed", "errors"}
    assert set(last["pruned"]) == {"age", "relevance", "redundancy", "capacity"}
    assert len(site.ok("GET", "/v1/lifecycle/cycles?limit=1", token=admin)["cycles"]) == 1
    assert site.error(422, "GET", "/v1/lifecycle/cycles?limit=0", token=admin)["status"] == "STRATA_ERR_INVALID_ARGUMENT"
    assert site.error(422, "GET", "/v1/lifecycle/cycles?limit=many", token=admin)["status"] == "STRATA_ERR_INVALID_ARGUMENT"
    assert site.error(403, "GET", "/v1/lifecycle/cycles", token=site.tokens["org/a"])["status"] == "FORBIDDEN"
    site.error(401, "GET", "/v1/lifecycle/cycles")


# ---- Chromium over the DevTools protocol -----------------------------------------------------


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError("Chromium is not installed: the dashboard tests need it (scripts/setup installs Debian's chromium)")


class Page:
    """One tab, driven over its DevTools WebSocket."""

    def __init__(self, port, path):
        self.ws = WebSocket(port, path)
        assert self.ws.status == 101, self.ws.head
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        mine = self.next_id
        self.ws.send(1, json.dumps({"id": mine, "method": method, "params": params}).encode())
        while True:
            kind, *rest = self.ws.message()
            assert kind == "text", f"DevTools closed the connection: {rest}"
            message = rest[0]
            if message.get("id") == mine:
                assert "error" not in message, f"{method}: {message['error']}"
                return message["result"]

    def eval(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in result, f"{expression}: {result['exceptionDetails']}"
        return result["result"].get("value")

    def wait(self, expression, what):
        """The value of `expression` once it is truthy; fails naming `what` and the page's text."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            # An expression that throws (an element not there yet) counts as not yet true.
            result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
            value = None if "exceptionDetails" in result else result["result"].get("value")
            if value:
                return value
            if time.monotonic() > deadline:
                text = self.eval("document.body ? document.body.innerText : ''")
                raise AssertionError(f"waited {WAIT_SECONDS} s for {what} ({result}); the page shows:\n{text[:3000]}")
            time.sleep(0.05)

    def goto(self, url=None):
        """Loads `url` (a new document, not a fragment of this one), or this page again."""
        self.eval("window.__leaving = true")
        if url:
            self.call("Page.navigate", url=url)
        else:
            self.call("Page.reload")
        self.wait("!window.__leaving && document.readyState === 'complete' && !!document.getElementById('app')", f"{url or 'the reload'}")

    def type(self, selector, text):
        self.eval(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); e.value = ''; e.focus(); }})()")
        self.call("Input.insertText", text=text)

    def click(self, selector):
        self.wait(f"!!document.querySelector({json.dumps(selector)})", selector)
        self.eval(f"document.querySelector({json.dumps(selector)}).click()")

    def visible(self, selector):
        return self.eval(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); "
                         "return !!e && e.getClientRects().length > 0; })()")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def csp_violations(self):
        return self.eval("window.__cspViolations || []")


@pytest.fixture(scope="module")
def browser():
    binary = chromium_binary()
    profile = tempfile.mkdtemp(prefix="strata-chromium-")
    proc = subprocess.Popen(
        [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--no-default-browser-check", "--disable-extensions", "--disable-background-networking", "--disable-sync",
         "--hide-scrollbars", "--force-device-scale-factor=1", f"--window-size={WIDTH},{HEIGHT}",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    port = None
    lines = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("DevTools listening on ws://"):
            port = int(line.split("ws://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
            break
    if port is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise AssertionError(f"Chromium did not start ({binary}):\n{''.join(lines)}")
    # Read the rest of its log so a full pipe never blocks it (its helper processes hold the pipe
    # open after the browser exits, so nothing waits for the end of it).
    threading.Thread(target=lambda: proc.stderr.read(), daemon=True).start()
    yield port
    # The browser and its helpers (renderers, crash handler) are one process group, started here.
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser):
    """A new tab (its own session storage), recording Content-Security-Policy violations."""
    conn = http.client.HTTPConnection("127.0.0.1", browser, timeout=30)
    conn.request("PUT", "/json/new?about:blank")
    target = json.loads(conn.getresponse().read())
    conn.close()
    p = Page(browser, target["webSocketDebuggerUrl"].split(str(browser), 1)[1])
    p.call("Page.enable")
    p.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False)
    p.call("Page.addScriptToEvaluateOnNewDocument", source=(
        "window.__cspViolations = []; document.addEventListener('securitypolicyviolation', "
        "e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"))
    yield p
    violations = p.csp_violations()
    p.ws.close()
    conn = http.client.HTTPConnection("127.0.0.1", browser, timeout=30)
    conn.request("GET", f"/json/close/{target['id']}")
    conn.getresponse().read()
    conn.close()
    assert violations == [], f"the page broke its Content-Security-Policy: {violations}"


def sign_in(page, site, secret):
    page.goto(f"http://127.0.0.1:{site.port}/dashboard")
    page.wait("!document.getElementById('signin').hidden", "the sign-in form")
    page.type("#token", secret)
    page.click("#signin-button")
    page.wait("!document.getElementById('app').hidden", "the dashboard after signing in")


# ---- the page --------------------------------------------------------------------------------


def test_a_refused_token_says_why_and_an_empty_one_is_asked_for(page, site):
    page.goto(f"http://127.0.0.1:{site.port}/dashboard")
    page.wait("!document.getElementById('signin').hidden", "the sign-in form")
    page.click("#signin-button")
    assert page.wait("document.getElementById('signin-error').textContent", "the empty-token message") == "Enter a token to sign in."
    page.type("#token", "strata_t000000000000_" + "0" * 64)
    page.click("#signin-button")
    message = page.wait("(t => t.includes('401') && t)(document.getElementById('signin-error').textContent)", "the refusal")
    assert message.startswith("This token was not accepted (401): "), message
    assert page.visible("#signin-error") and not page.visible("#app")
    assert page.eval("sessionStorage.length") == 0


def test_the_browser_enforces_the_policy_an_inline_script_does_not_run(page, site):
    page.goto(f"http://127.0.0.1:{site.port}/dashboard")
    page.wait("!document.getElementById('signin').hidden", "the sign-in form")
    page.eval("(() => { const s = document.createElement('script'); s.textContent = 'window.__ran = true'; "
              "document.body.append(s); })()")
    assert page.eval("window.__ran === undefined")
    violations = page.wait("window.__cspViolations.length > 0 && window.__cspViolations", "the violation report")
    assert violations[0].startswith("script-src"), violations
    page.eval("window.__cspViolations = []")  # the page's own code broke nothing (checked after each test)


def test_sign_in_and_recall_shows_the_expected_hit_with_its_score_parts(page, site):
    writer = site.tokens["write"]
    expected = store(site, "The staging database password rotates every Monday at noon", writer, category="ops")
    store(site, "Alice prefers green tea in the afternoon", writer)
    store(site, "The quarterly report is due on the first Friday of March", writer)

    sign_in(page, site, site.tokens["read"])
    assert page.eval("document.getElementById('who').textContent") == "read root scope"
    assert page.eval("sessionStorage.getItem('strata.dashboard.token')") == site.tokens["read"]
    page.goto()  # a reload keeps the session
    page.wait("!document.getElementById('app').hidden", "the dashboard after a reload")
    page.click("#nav button[data-view=recall]")
    page.wait("!document.getElementById('view-recall').hidden", "the recall view")
    page.type("#recall-query", "when does the database password rotate")
    page.click("#recall-button")
    first = page.wait("(h => h && h.dataset.id)(document.querySelector('#recall-hits .hit'))", "a hit")
    assert first == expected
    hit = page.eval("""(() => {
        const h = document.querySelector('#recall-hits .hit');
        return {content: h.querySelector('.hit-content').textContent,
                parts: [...h.querySelectorAll('.bar-row')].map(r => [r.querySelector('.bar-label').textContent,
                         r.querySelector('.bar-value').textContent, r.querySelector('.bar-fill').style.width])};
    })()""")
    assert hit["content"] == "The staging database password rotates every Monday at noon"
    labels = [p[0] for p in hit["parts"]]
    assert labels == ["vector", "keyword", "fused", "recency", "importance", "access"], labels
    fused = dict((p[0], p) for p in hit["parts"])["fused"]
    assert float(fused[1]) > 0 and fused[2].endswith("%") and float(fused[2][:-1]) > 0, fused
    # Looking counts no access unless asked to.
    assert site.ok("GET", f"/v1/memories/{expected}", token=writer)["access_count"] == 0
    page.click("#recall-track")
    page.click("#recall-button")
    page.wait(f"!!document.querySelector('#recall-hits .hit[data-id=\"{expected}\"]')", "the counted recall")
    assert site.ok("GET", f"/v1/memories/{expected}", token=writer)["access_count"] == 1
    # The hit's id opens its history.
    page.click("#recall-hits .hit .chip.link")
    page.wait("!!document.querySelector('#history-body .entry .badge')", "the history of the hit")
    assert page.eval("document.querySelector('#history-body .badge').textContent") == "ADD"
    assert page.eval("location.hash") == "#history"


def test_a_memory_stored_over_rest_appears_live(page, site):
    sign_in(page, site, site.tokens["read"])
    page.click("#nav button[data-view=events]")
    page.wait("document.getElementById('live').dataset.state === 'live'", "the event stream to connect")
    mid = store(site, "A note stored while the dashboard watches", site.tokens["write"])
    selector = f".event[data-id={json.dumps(mid)}][data-type='memory.stored']"
    page.wait(f"!!document.querySelector({json.dumps(selector)})", "the memory.stored event")
    text = page.eval(f"document.querySelector({json.dumps(selector)}).textContent")
    assert "A note stored while the dashboard watches" in text and "memory.stored" in text
    assert int(page.eval("document.getElementById('event-count').textContent")) >= 1


def test_a_scoped_token_sees_its_events_only_and_no_stats(page, site):
    sign_in(page, site, site.tokens["org/a"])
    page.wait("document.getElementById('overview-body').textContent.includes('root scope')", "the scoped-token notice")
    page.click("#nav button[data-view=events]")
    page.wait("document.getElementById('live').dataset.state === 'live'", "the event stream to connect")
    other = store(site, "a memory of org/b", site.tokens["admin"], scope="org/b")
    mine = store(site, "a memory of org/a", site.tokens["admin"], scope="org/a")
    page.wait(f"!!document.querySelector('.event[data-id=\"{mine}\"]')", "the org/a event")
    assert not page.eval(f"!!document.querySelector('.event[data-id=\"{other}\"]')")


def test_a_token_revoked_while_signed_in_signs_the_page_out(page, site):
    made = token(site.folder, "", "read")
    sign_in(page, site, made["secret"])
    page.wait("document.querySelectorAll('#overview-body svg.chart').length === 6", "the overview")
    code, _, err = cli("token", "revoke", made["id"], "--dir", str(site.folder / "store"), cwd=site.folder)
    assert code == 0, err
    page.click("#overview-refresh")
    message = page.wait("!document.getElementById('signin').hidden && document.getElementById('signin-error').textContent",
                        "the sign-in form after the revocation")
    assert message == "The server no longer accepts this token. Sign in again."
    assert page.eval("sessionStorage.length") == 0


def test_a_server_without_tokens_lets_the_page_in_as_admin(page, tmp_path):
    code, _, err = cli("init", "--dir", str(tmp_path / "store"), cwd=tmp_path)
    assert code == 0, err
    s = Server(tmp_path)
    try:
        assert s.ok("GET", "/v1/whoami") == {"scope": "", "role": "admin", "token_id": None, "tokens_required": False}
        page.goto(f"http://127.0.0.1:{s.port}/memory/dashboard")
        page.wait("!document.getElementById('app').hidden", "the dashboard without signing in")
        assert not page.visible("#signin") and not page.visible("#signout")
        assert page.eval("document.getElementById('who').textContent") == "admin root scope"
        page.wait("document.querySelectorAll('#overview-body svg.chart').length === 6", "the overview")
    finally:
        code, err = s.stop()
    assert code == 0, err


def test_only_an_admin_token_sees_the_rollback_button(page, site):
    admin = site.tokens["admin"]
    kept = store(site, "kept by the snapshot", admin)
    site.ok("POST", "/v1/snapshots", {"name": "before-cleanup"}, token=admin, status=201)
    later = store(site, "stored after the snapshot", admin)

    sign_in(page, site, site.tokens["read"])
    page.click("#nav button[data-view=snapshots]")
    page.wait("!!document.querySelector('#snapshots-body tr[data-name=\"before-cleanup\"]')", "the snapshot row")
    assert page.eval("document.querySelectorAll('.rollback').length") == 0
    assert not page.visible("#snapshot-form")
    assert "needs an admin token" in page.eval("document.getElementById('snapshots-body').textContent")

    page.click("#signout")
    page.wait("!document.getElementById('signin').hidden", "the sign-in form after signing out")
    assert page.eval("sessionStorage.length") == 0
    page.type("#token", admin)
    page.click("#signin-button")
    page.wait("!document.getElementById('app').hidden", "the dashboard")
    page.click("#nav button[data-view=snapshots]")
    row = "#snapshots-body tr[data-name=\"before-cleanup\"] .rollback"
    page.wait(f"!!document.querySelector({json.dumps(row)})", "the rollback button")
    assert page.visible("#snapshot-form")
    page.click(row)
    assert page.eval(f"document.querySelector({json.dumps(row)}).textContent") == "Confirm rollback"
    page.click(row)
    page.wait("(e => e && e.textContent)(document.querySelector('#snapshots-body .success'))", "the rollback to finish")
    assert site.ok("GET", f"/v1/memories/{kept}", token=admin)["id"] == kept
    site.error(404, "GET", f"/v1/memories/{later}", token=admin)


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    """A server on the metabolic preset holding a team's week, a lifecycle cycle each evening."""
    folder = tmp_path_factory.mktemp("week")
    code, _, err = cli("init", "--dir", str(folder / "store"), "--preset", "metabolic", cwd=folder)
    assert code == 0, err
    admin = token(folder, "", "admin")["secret"]
    s = Server(folder)
    s.admin = admin
    s.ok("POST", "/v1/snapshots", {"name": "start-of-week"}, token=admin, status=201)
    people = ["Alice", "Bob", "Carol", "Dan", "Erin", "Frank", "Grace"]
    for day in range(2, 9):
        at = lambda hour: f"2026-03-{day:02d}T{hour:02d}:00:00Z"
        store(s, f"Standup {day} March: the release is blocked on the flaky login test", admin, at=at(9), importance=0.7,
              scope="team/eng", category="standups")
        store(s, f"{people[day - 2]} asked for the API gateway timeout to be raised to 60 s", admin, at=at(11),
              importance=0.5, scope="team/eng", category="requests")
        store(s, f"Lunch on {day} March was fine", admin, at=at(12), importance=0.2, scope="team/eng", category="chatter")
        store(s, f"Decision {day} March: ship build 10{day} once QA signs off", admin, at=at(16), importance=0.8,
              scope="team/product", category="decisions")
        s.ok("POST", "/v1/metabolize", {"now": at(18)}, token=admin)
    store(s, "Never deploy on Fridays", admin, pinned=True, importance=0.9, category="rules")
    store(s, "Deploys go out on Tuesdays after the standup", admin, importance=0.6, scope="team/eng", category="rules")
    s.ok("POST", "/v1/snapshots", {"name": "end-of-week"}, token=admin, status=201)
    yield s
    code, err = s.stop()
    assert code == 0, err


def test_every_view_draws_and_the_screenshots(page, week, tmp_path):
    admin = week.admin
    out = Path(os.environ.get("STRATA_SCREENSHOTS") or tmp_path)
    if not out.is_absolute():
        out = ROOT / out
    out.mkdir(parents=True, exist_ok=True)

    sign_in(page, week, admin)
    page.wait("document.querySelectorAll('#overview-body svg.chart').length === 6", "the overview's six charts")
    assert page.eval("document.querySelectorAll('#overview-body svg.chart rect.fill').length") >= 3
    page.screenshot(out / "dashboard-overview.png")

    page.click("#nav button[data-view=lifecycle]")
    page.wait("document.querySelectorAll('#lifecycle-body svg.chart').length === 4", "the lifecycle's four charts")
    assert week.ok("GET", "/v1/lifecycle/cycles", token=admin)["total"] == 7
    totals = page.eval("[...document.querySelectorAll('#lifecycle-body .total')].map(e => e.textContent)")
    assert all(t.endswith(" in 7 cycles") for t in totals), totals
    assert page.eval("document.querySelectorAll('#lifecycle-body svg.chart rect.fill').length") > 0
    page.screenshot(out / "dashboard-lifecycle.png")

    page.click("#nav button[data-view=recall]")
    page.type("#recall-query", "why is the release blocked")
    page.click("#recall-button")
    page.wait("document.querySelectorAll('#recall-hits .hit').length >= 3", "the hits")
    page.screenshot(out / "dashboard-recall.png")

    page.click("#recall-hits .hit .chip.link")
    page.wait("!!document.querySelector('#history-body .entry')", "the history")
    page.screenshot(out / "dashboard-history.png")

    page.click("#nav button[data-view=events]")
    page.wait("document.getElementById('live').dataset.state === 'live'", "the event stream to connect")
    first = store(week, "The on-call rotation changes on the first of the month", admin, scope="team/eng", category="ops")
    second = store(week, "Grace owns the login test fix", admin, scope="team/eng", category="ops")
    week.ok("PATCH", f"/v1/memories/{first}", {"importance": 0.9}, token=admin)
    week.ok("POST", "/v1/metabolize", {"now": "2026-03-09T18:00:00Z"}, token=admin)
    week.ok("DELETE", f"/v1/memories/{second}", token=admin)
    page.wait("!!document.querySelector('.event[data-type=\"memory.forgotten\"]')", "the live events")
    types = page.eval("[...document.querySelectorAll('#event-list .event')].map(e => e.dataset.type)")
    assert types[0] == "memory.forgotten" and "lifecycle.metabolized" in types and "memory.updated" in types, types
    page.screenshot(out / "dashboard-events.png")

    page.click("#nav button[data-view=anomalies]")
    page.wait("!!document.querySelector('#anomalies-body .summary')", "the anomaly scan")
    page.type("#anomaly-threshold", "0.5")
    page.click("#anomalies-scan")
    page.wait("document.querySelector('#anomalies-body .summary').textContent.includes('threshold 0.50')", "a scan at 0.5")
    page.screenshot(out / "dashboard-anomalies.png")

    page.click("#nav button[data-view=snapshots]")
    page.wait("!!document.querySelector('#snapshots-body tr[data-name=\"end-of-week\"] .rollback')", "the snapshots")
    page.screenshot(out / "dashboard-snapshots.png")

    page.click("#signout")
    page.wait("!document.getElementById('signin').hidden", "the sign-in form")
    page.type("#token", "strata_t000000000000_" + "0" * 64)
    page.click("#signin-button")
    page.wait("document.getElementById('signin-error').textContent.includes('401')", "the refusal")
    page.screenshot(out / "dashboard-signin.png")

    for name in ("overview", "lifecycle", "recall", "history", "events", "anomalies", "snapshots", "signin"):
        png = (out / f"dashboard-{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(png[16:20], "big") == WIDTH and int.from_bytes(png[20:24], "big") == HEIGHT
