// The Strata dashboard: signs in with a token, then reads /v1 and follows /v1/events like any
// other client. No library, no build step; every chart is drawn here as SVG. Text from the store
// is only ever set as textContent, never parsed as HTML.
"use strict";

(() => {
  const TOKEN_KEY = "strata.dashboard.token";
  const MAX_EVENTS = 200;
  const SVG_NS = "http://www.w3.org/2000/svg";

  const state = {
    token: null,
    who: null,
    socket: null,
    lastSeq: null,
    retries: 0,
    eventCount: 0,
    view: null,
    signedIn: false,
  };

  const $ = (id) => document.getElementById(id);

  // ---- building the page ----------------------------------------------------------------

  /** An HTML element; `props.text` sets its text, `on*` adds listeners, the rest are attributes. */
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") e.className = value;
      else if (key === "text") e.textContent = value;
      else if (key.startsWith("on")) e.addEventListener(key.slice(2), value);
      else e.setAttribute(key, value === true ? "" : String(value));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : String(c));
    }
    return e;
  }

  /** An SVG element with its attributes. */
  function svg(tag, attrs, ...children) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) e.setAttribute(key, String(value));
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function replace(container, ...children) {
    container.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
  }

  const notice = (text) => el("div", { class: "notice card" }, text);
  const failure = (error) => el("div", { class: "error card", role: "alert" }, describe(error));
  const loading = () => el("div", { class: "muted loading" }, "Loading…");

  function describe(error) {
    if (error instanceof ApiError) return error.status ? `${error.message} (${error.status} ${error.code})` : error.message;
    return String(error && error.message ? error.message : error);
  }

  function formatTime(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toLocaleString([], { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function shortTime(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false });
  }

  function formatBytes(n) {
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
    return `${(n / 1024 / 1024).toFixed(1)} MB`;
  }

  const number = (n) => Number(n).toLocaleString();
  const scopeName = (s) => (s === "" ? "(root)" : s);

  // ---- the API ----------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  /** Calls the server with the token as a bearer token; a non-2xx answer throws its message. */
  async function api(method, path, body) {
    const headers = {};
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, { method, headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new ApiError(0, "NETWORK", `The server did not answer: ${e.message}`);
    }
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch (_) {
      json = null;
    }
    if (!response.ok) {
      const e = json && json.error;
      const error = new ApiError(response.status, e ? e.status : `HTTP_${response.status}`, e ? e.message : text || response.statusText);
      if (response.status === 401 && state.signedIn) signOut("The server no longer accepts this token. Sign in again.");
      throw error;
    }
    return json;
  }

  const isAdmin = () => state.who && state.who.role === "admin";
  const isRoot = () => state.who && state.who.scope === "";

  // ---- signing in -------------------------------------------------------------------------

  function showSignIn(message) {
    $("app").hidden = true;
    $("signin").hidden = false;
    const error = $("signin-error");
    error.hidden = !message;
    error.textContent = message || "";
    $("token").focus();
  }

  async function signIn(token) {
    state.token = token || null;
    const who = await api("GET", "/v1/whoami");
    state.who = who;
    state.signedIn = true;
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    start();
  }

  function signInMessage(error) {
    if (error.status === 401) return `This token was not accepted (401): ${error.message}`;
    if (error.status) return `Sign-in failed (${error.status}): ${error.message}`;
    return `Sign-in failed: ${error.message}`;
  }

  async function onSignIn(event) {
    event.preventDefault();
    const token = $("token").value.trim();
    if (!token) {
      showSignIn("Enter a token to sign in.");
      return;
    }
    const button = $("signin-button");
    button.disabled = true;
    button.textContent = "Signing in…";
    try {
      await signIn(token);
      $("token").value = "";
    } catch (error) {
      state.token = null;
      showSignIn(signInMessage(error));
    } finally {
      button.disabled = false;
      button.textContent = "Sign in";
    }
  }

  function signOut(message) {
    state.signedIn = false;
    state.token = null;
    state.who = null;
    state.lastSeq = null;
    sessionStorage.removeItem(TOKEN_KEY);
    const socket = state.socket;
    state.socket = null;
    if (socket) socket.close(1000, "signed out");
    showSignIn(message);
  }

  function start() {
    $("signin").hidden = true;
    $("app").hidden = false;
    const who = state.who;
    const scope = who.scope === "" ? "root scope" : `scope ${who.scope}`;
    replace($("who"), el("span", { class: `role role-${who.role}`, text: who.role }), ` ${scope}`);
    $("signout").hidden = !who.tokens_required;
    // Cycles, snapshots and rollback span every scope: an admin of a narrower scope cannot run them.
    for (const e of document.querySelectorAll(".admin-only")) e.hidden = !(isAdmin() && isRoot());
    state.eventCount = 0;
    $("event-count").textContent = "0";
    replace($("event-list"));
    connect();
    show(viewFromHash());
  }

  // ---- views ------------------------------------------------------------------------------

  const VIEWS = ["overview", "lifecycle", "recall", "history", "events", "anomalies", "snapshots"];
  const loaders = {
    overview: loadOverview,
    lifecycle: loadLifecycle,
    anomalies: loadAnomalies,
    snapshots: loadSnapshots,
  };

  function viewFromHash() {
    const name = location.hash.replace(/^#/, "").split("/")[0];
    return VIEWS.includes(name) ? name : "overview";
  }

  function show(view) {
    state.view = view;
    for (const name of VIEWS) $(`view-${name}`).hidden = name !== view;
    for (const b of document.querySelectorAll("#nav button")) b.classList.toggle("active", b.dataset.view === view);
    if (location.hash !== `#${view}`) history.replaceState(null, "", `#${view}`);
    if (loaders[view]) loaders[view]();
    if (view === "history" && $("history-id").value) loadHistory($("history-id").value);
  }

  // Reloads the visible view after changes arrive, at most once a second.
  let refreshTimer = null;
  function refreshSoon(views) {
    if (!views.includes(state.view) || refreshTimer) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      if (loaders[state.view]) loaders[state.view](true);
    }, 1000);
  }

  // ---- charts -----------------------------------------------------------------------------

  /** A horizontal bar chart of `entries` ([label, value]), largest first unless `ordered`. */
  function barChart(title, entries, series, ordered) {
    const rows = ordered ? entries : entries.slice().sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])));
    const W = 360, row = 30, labelW = 110, valueW = 44, top = 4;
    const H = Math.max(1, rows.length) * row + top * 2;
    const max = Math.max(1, ...rows.map((r) => r[1]));
    const plot = W - labelW - valueW;
    const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart hbar", role: "img", "aria-label": title });
    if (!rows.length) chart.append(svg("text", { x: 0, y: 20, class: "empty" }, "Nothing yet"));
    rows.forEach(([label, value], i) => {
      const y = top + i * row;
      const text = String(label).length > 16 ? `${String(label).slice(0, 15)}…` : String(label);
      chart.append(
        svg("text", { x: 0, y: y + 19, class: "label" }, svg("title", {}, String(label)), text),
        svg("rect", { x: labelW, y: y + 7, width: plot - 8, height: 14, rx: 4, class: "track" }),
        svg("rect", { x: labelW, y: y + 7, width: value > 0 ? Math.max(3, (value / max) * (plot - 8)) : 0, height: 14, rx: 4, class: `fill ${series}` },
          svg("title", {}, `${label}: ${number(value)}`)),
        svg("text", { x: W, y: y + 19, class: "value", "text-anchor": "end" }, number(value)),
      );
    });
    return el("div", { class: "card chart-card" }, el("h3", { text: title }), chart);
  }

  /** The smallest of 1, 2, 5 x 10^k at or above `x` (an axis maximum with round ticks). */
  function niceMax(x) {
    if (x <= 4) return 4;
    const p = 10 ** Math.floor(Math.log10(x));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return m * p;
    return 10 * p;
  }

  /** Stacked columns, one per cycle, over time; `series` gives each stack's parts. */
  function cycleChart(title, cycles, series) {
    const W = 560, H = 230, L = 44, R = 10, T = 12, B = 40;
    const plotW = W - L - R, plotH = H - T - B;
    const values = cycles.map((c) => series.map((s) => s.value(c)));
    const max = niceMax(Math.max(0, ...values.map((v) => v.reduce((a, b) => a + b, 0))));
    const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart columns", role: "img", "aria-label": title });
    for (let i = 0; i <= 4; i++) {
      const y = T + plotH * (1 - i / 4);
      chart.append(
        svg("line", { x1: L, x2: W - R, y1: y, y2: y, class: i === 0 ? "axis" : "grid" }),
        svg("text", { x: L - 8, y: y + 4, class: "tick", "text-anchor": "end" }, number(Math.round((max * i) / 4 * 100) / 100)),
      );
    }
    const n = cycles.length;
    if (!n) chart.append(svg("text", { x: L + plotW / 2, y: T + plotH / 2, class: "empty", "text-anchor": "middle" }, "No cycles yet"));
    const slot = plotW / Math.max(n, 1);
    const bar = Math.max(2, Math.min(30, slot * 0.66));
    cycles.forEach((c, i) => {
      let base = T + plotH;
      const x = L + i * slot + (slot - bar) / 2;
      const parts = series.map((s, j) => `${s.label} ${number(values[i][j])}`).join(", ");
      series.forEach((s, j) => {
        const v = values[i][j];
        if (!v) return;
        const h = (v / max) * plotH;
        chart.append(svg("rect", { x, y: base - h, width: bar, height: h, class: `fill ${s.class}` },
          svg("title", {}, `${formatTime(c.at)}: ${parts}`)));
        base -= h;
      });
      if (values[i].every((v) => !v)) {
        chart.append(svg("rect", { x, y: T + plotH - 2, width: bar, height: 2, class: "zero" }, svg("title", {}, `${formatTime(c.at)}: none`)));
      }
    });
    // Time labels centred under their columns, every `step`-th column so that they never overlap.
    const step = Math.max(1, Math.ceil(n / Math.max(1, Math.floor(plotW / 96))));
    for (let i = 0; i < n; i += step) {
      chart.append(svg("text", { x: L + (i + 0.5) * slot, y: H - B + 18, class: "tick", "text-anchor": "middle" }, shortTime(cycles[i].at)));
    }
    const total = values.reduce((sum, v) => sum + v.reduce((a, b) => a + b, 0), 0);
    const legend = series.length > 1
      ? el("div", { class: "legend" }, series.map((s) => el("span", {}, el("i", { class: `swatch ${s.class}` }), s.label)))
      : null;
    return el("div", { class: "card chart-card" },
      el("div", { class: "chart-head" }, el("h3", { text: title }), el("span", { class: "total", text: `${number(total)} in ${n} cycle${n === 1 ? "" : "s"}` })),
      chart, legend);
  }

  /** A row of labelled bars (score parts, anomaly scores): [label, value, fraction 0...1, hint]. */
  function scoreBars(parts) {
    return el("div", { class: "bars" }, parts.map(([label, value, fraction, hint]) => {
      const fill = el("div", { class: `bar-fill part-${label}` });
      fill.style.width = `${Math.round(Math.max(0, Math.min(1, fraction)) * 1000) / 10}%`;
      return el("div", { class: "bar-row", title: hint || "" },
        el("span", { class: "bar-label", text: label }),
        el("div", { class: "bar-track" }, fill),
        el("span", { class: "bar-value", text: value === null ? "—" : Number(value).toFixed(3) }));
    }));
  }

  // ---- overview ---------------------------------------------------------------------------

  async function loadOverview(quiet) {
    const body = $("overview-body");
    if (!isRoot()) {
      replace(body, notice(`Stats span every scope: they need a token of the root scope. This token is for scope "${state.who.scope}".`));
      return;
    }
    if (!quiet) replace(body, loading());
    try {
      const s = await api("GET", "/v1/stats");
      const life = s.lifecycle || {};
      const stat = (label, value, hint, word) => el("div", { class: "card stat" }, el("span", { class: "stat-label", text: label }),
        el("span", { class: word ? "stat-value word" : "stat-value", text: value, title: value }),
        hint ? el("span", { class: "stat-hint", text: hint, title: hint }) : null);
      replace(body,
        el("div", { class: "stats" },
          stat("Memories", number(s.memories), `${number(s.expired)} expired`),
          stat("Tiers", number(Object.keys(s.by_tier).length), Object.keys(s.by_tier).join(" · ")),
          stat("Patterns", number(s.patterns)),
          stat("Lifecycle cycles", number(life.cycles || 0), life.last_cycle_at ? `last ${shortTime(life.last_cycle_at)}` : "none yet"),
          stat("Embedder", s.embedder, `${s.dimension} dimensions`, true),
          stat("Store", s.store, `${number(s.access.never)} never recalled`, true)),
        el("div", { class: "charts" },
          barChart("Memories per tier", Object.entries(s.by_tier), "series-1"),
          barChart("Memories per scope", Object.entries(s.by_scope).map(([k, v]) => [scopeName(k), v]), "series-2"),
          barChart("Memories per category", Object.entries(s.by_category), "series-3"),
          barChart("Operations since the server started", Object.entries(s.operations), "series-6"),
          barChart("Last access", [["within a day", s.access.last_day],
            ["within a week", s.access.last_week], ["never recalled", s.access.never]], "series-5", true),
          barChart("Pruned by rule, every cycle", PRUNE_RULES.map((rule) => [rule, (life.pruned || {})[rule] || 0]), "series-4", true)));
    } catch (error) {
      replace(body, failure(error));
    }
  }

  // ---- lifecycle --------------------------------------------------------------------------

  const PRUNE_RULES = ["age", "relevance", "redundancy", "capacity"];

  async function loadLifecycle(quiet) {
    const body = $("lifecycle-body");
    if (!isRoot()) {
      replace(body, notice(`Lifecycle cycles span every scope: they need a token of the root scope. This token is for scope "${state.who.scope}".`));
      return;
    }
    if (!quiet) replace(body, loading());
    try {
      const answer = await api("GET", "/v1/lifecycle/cycles?limit=60");
      const cycles = answer.cycles;
      const edges = [...new Set(cycles.flatMap((c) => Object.keys(c.migrated)))].sort();
      const migrated = edges.length
        ? edges.slice(0, 6).map((edge, i) => ({ label: edge.replace("->", " → "), class: `series-${i + 1}`, value: (c) => c.migrated[edge] || 0 }))
        : [{ label: "migrated", class: "series-1", value: (c) => c.migrated_total }];
      replace(body,
        answer.total > cycles.length ? el("p", { class: "muted", text: `The last ${cycles.length} of ${number(answer.total)} cycles.` }) : null,
        el("div", { class: "charts two" },
          cycleChart("Migrated between tiers", cycles, migrated),
          cycleChart("Pruned, by rule", cycles, PRUNE_RULES.map((rule, i) => ({ label: rule, class: `series-${i + 3}`, value: (c) => c.pruned[rule] || 0 }))),
          cycleChart("Consolidated into episodes", cycles, [{ label: "consolidated", class: "series-5", value: (c) => c.consolidated }]),
          cycleChart("Patterns written", cycles, [{ label: "patterns", class: "series-6", value: (c) => c.patterns }])));
    } catch (error) {
      replace(body, failure(error));
    }
  }

  async function runCycle() {
    const button = $("lifecycle-run");
    button.disabled = true;
    try {
      await api("POST", "/v1/metabolize", { moves: false });
      await loadLifecycle(true);
    } catch (error) {
      replace($("lifecycle-body"), failure(error));
    } finally {
      button.disabled = false;
    }
  }

  // ---- recall -----------------------------------------------------------------------------

  const PARTS = ["vector", "keyword", "fused", "recency", "importance", "access", "kernel"];
  const PART_HINTS = {
    vector: "vector similarity (cosine); — when not among the vector candidates",
    keyword: "BM25 keyword score, scaled to the best in this answer; — when not among the keyword candidates",
    fused: "the vector and keyword lists fused into one relevance, 0 to 1",
    recency: "recency decay since the last access, 0 to 1",
    importance: "the memory's importance, 0 to 1",
    access: "access-count score, 0 to 1",
    kernel: "cosine with the working-memory kernel's read",
  };

  function chips(m) {
    return el("div", { class: "chips" },
      el("span", { class: "chip", title: "tier", text: m.tier }),
      el("span", { class: "chip", title: "scope", text: scopeName(m.scope) }),
      el("span", { class: "chip", title: "category", text: m.category }),
      el("button", { type: "button", class: "chip link", title: "show this memory's history", onclick: () => openHistory(m.id), text: m.id }));
  }

  async function onRecall(event) {
    event.preventDefault();
    const out = $("recall-hits");
    const query = $("recall-query").value.trim();
    const k = Number($("recall-k").value);
    replace(out, loading());
    try {
      const request = { k, track_access: $("recall-track").checked };
      if (query) request.query = query;
      const answer = await api("POST", "/v1/recall", request);
      const hits = answer.hits;
      if (!hits.length) {
        replace(out, notice("No memory matches."));
        return;
      }
      const bestKeyword = Math.max(0, ...hits.map((h) => h.scores.keyword || 0));
      replace(out, hits.map((h, i) => {
        const parts = PARTS.filter((p) => p in h.scores).map((p) => {
          const v = h.scores[p];
          const fraction = v === null ? 0 : p === "keyword" ? (bestKeyword ? v / bestKeyword : 0) : v;
          return [p, v, fraction, PART_HINTS[p]];
        });
        return el("article", { class: "card hit", "data-id": h.id },
          el("div", { class: "hit-head" },
            el("span", { class: "rank", text: `${i + 1}` }),
            el("p", { class: "hit-content", text: h.content }),
            el("div", { class: "score" }, el("span", { class: "score-value", text: h.score.toFixed(3) }), el("span", { class: "stat-hint", text: "score" }))),
          chips(h),
          scoreBars(parts));
      }));
    } catch (error) {
      replace(out, failure(error));
    }
  }

  // ---- history ----------------------------------------------------------------------------

  function openHistory(id) {
    $("history-id").value = id;
    location.hash = "#history";
  }

  async function loadHistory(id) {
    const out = $("history-body");
    replace(out, loading());
    try {
      const entries = (await api("GET", `/v1/memories/${encodeURIComponent(id)}/history`)).history;
      if (!entries.length) {
        replace(out, notice("No history for this id."));
        return;
      }
      replace(out, el("ol", { class: "timeline" }, entries.map((e) => {
        const before = e.old && e.old.content, after = e.new && e.new.content;
        return el("li", { class: `entry entry-${e.event.toLowerCase()}` },
          el("div", { class: "entry-head" },
            el("span", { class: `badge badge-${e.event.toLowerCase()}`, text: e.event }),
            el("time", { datetime: e.at, text: formatTime(e.at) }),
            e.new ? el("span", { class: "chip", text: e.new.tier }) : null),
          e.reason ? el("p", { class: "reason", text: e.reason }) : null,
          before !== null && before !== undefined && before !== after ? el("p", { class: "content old", text: before }) : null,
          after !== null && after !== undefined ? el("p", { class: "content", text: after }) : null);
      })));
    } catch (error) {
      replace(out, failure(error));
    }
  }

  function onHistory(event) {
    event.preventDefault();
    const id = $("history-id").value.trim();
    if (!id) {
      replace($("history-body"), notice("Enter a memory id (recall shows them under each hit)."));
      return;
    }
    loadHistory(id);
  }

  // ---- live events ------------------------------------------------------------------------

  function setLive(status, text) {
    $("live").dataset.state = status;
    $("live-text").textContent = text || status;
  }

  function connect() {
    const query = new URLSearchParams();
    if (state.token) query.set("token", state.token);
    if (state.lastSeq !== null) query.set("since", String(state.lastSeq));
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}/v1/events?${query}`);
    state.socket = socket;
    setLive("connecting");
    socket.addEventListener("open", () => {
      if (state.socket !== socket) return;
      state.retries = 0;
      setLive("live");
    });
    socket.addEventListener("message", (message) => {
      if (state.socket !== socket) return;
      let event;
      try {
        event = JSON.parse(message.data);
      } catch (_) {
        return;
      }
      state.lastSeq = event.seq;
      addEvent(event);
    });
    socket.addEventListener("close", (close) => {
      if (state.socket !== socket) return;
      state.socket = null;
      if (!state.signedIn) return;
      if (close.code >= 4400 && close.code < 4500) {
        setLive("refused", "events refused");
        $("live").title = close.reason;
        return;
      }
      if (close.code === 4010) state.lastSeq = null;  // the events after lastSeq are gone: start afresh
      const delay = Math.min(10000, 500 * 2 ** state.retries++);
      setLive("reconnecting");
      setTimeout(() => { if (state.signedIn && !state.socket) connect(); }, delay);
    });
  }

  function eventDetail(e) {
    if (e.message) return e.message;
    if (e.memory && e.memory.content) return e.memory.content;
    return "";
  }

  function addEvent(e) {
    const list = $("event-list");
    const detail = eventDetail(e);
    const item = el("li", { class: "event", "data-type": e.type, "data-id": e.memory_id },
      el("span", { class: "seq", text: `#${e.seq}` }),
      el("time", { datetime: e.at, text: formatTime(e.at) }),
      el("span", { class: `badge type-${e.type.split(".")[0]}`, text: e.type }),
      el("div", { class: "event-body" },
        el("span", { class: "event-id", text: e.memory_id }),
        detail ? el("span", { class: "event-detail", text: detail }) : null,
        typeof e.score === "number" ? el("span", { class: "chip", text: `score ${e.score.toFixed(3)}` }) : null));
    list.prepend(item);
    while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
    state.eventCount += 1;
    $("event-count").textContent = String(state.eventCount);
    if (e.type === "lifecycle.metabolized" || e.type === "lifecycle.failed") refreshSoon(["lifecycle", "overview"]);
    else if (e.type !== "memory.recalled" && e.type !== "anomaly.detected") refreshSoon(["overview"]);
  }

  // ---- anomalies --------------------------------------------------------------------------

  async function loadAnomalies(quiet) {
    const body = $("anomalies-body");
    if (!quiet) replace(body, loading());
    try {
      const threshold = $("anomaly-threshold").value.trim();
      const r = threshold === "" ? await api("GET", "/v1/anomalies") : await api("POST", "/v1/anomalies", { threshold: Number(threshold) });
      const summary = el("p", { class: "muted summary", text: `${number(r.scored)} memories scored; ${r.anomalies.length} at or above the threshold ${r.threshold.toFixed(2)}.` });
      if (!r.anomalies.length) {
        replace(body, summary, notice("Nothing stands out."));
        return;
      }
      replace(body, summary, el("div", { class: "hits" }, r.anomalies.map((a) => el("article", { class: "card hit anomaly", "data-id": a.id },
        el("div", { class: "hit-head" },
          el("p", { class: "hit-content", text: a.content }),
          el("div", { class: "score" }, el("span", { class: "score-value", text: a.score.toFixed(3) }), el("span", { class: "stat-hint", text: "anomaly score" }))),
        chips(a),
        scoreBars([["score", a.score, a.score, "isolation-forest anomaly score, 0 to 1"]])))));
    } catch (error) {
      replace(body, failure(error));
    }
  }

  // ---- snapshots --------------------------------------------------------------------------

  async function loadSnapshots(quiet) {
    const body = $("snapshots-body");
    if (!isRoot()) {
      replace(body, notice(`Snapshots span every scope: they need a token of the root scope. This token is for scope "${state.who.scope}".`));
      return;
    }
    if (!quiet) replace(body, loading());
    try {
      const list = (await api("GET", "/v1/snapshots")).snapshots;
      const admin = isAdmin();
      const rows = list.slice().reverse().map((s) => el("tr", { "data-name": s.name },
        el("td", { class: "name", text: s.name }),
        el("td", { text: formatTime(s.created_at) }),
        el("td", { class: "num", text: number(s.memories) }),
        el("td", { class: "num", text: formatBytes(s.bytes) }),
        admin ? el("td", { class: "num" }, el("button", { type: "button", class: "rollback danger-ghost", onclick: (ev) => rollback(ev.currentTarget, s.name), text: "Roll back" })) : null));
      replace(body,
        admin ? null : el("p", { class: "muted", text: "Rolling back needs an admin token; this one is " + state.who.role + "." }),
        list.length
          ? el("table", { class: "card table" },
            el("thead", {}, el("tr", {}, el("th", { text: "Name" }), el("th", { text: "Taken" }), el("th", { class: "num", text: "Memories" }),
              el("th", { class: "num", text: "Size" }), admin ? el("th", { class: "num", text: "" }) : null)),
            el("tbody", {}, rows))
          : notice("No snapshots yet."));
    } catch (error) {
      replace(body, failure(error));
    }
  }

  async function rollback(button, name) {
    // The first click arms the button; a second within five seconds rolls back.
    if (!button.classList.contains("armed")) {
      button.classList.add("armed");
      button.textContent = "Confirm rollback";
      setTimeout(() => {
        button.classList.remove("armed");
        button.textContent = "Roll back";
      }, 5000);
      return;
    }
    button.disabled = true;
    try {
      await api("POST", `/v1/snapshots/${encodeURIComponent(name)}/rollback`);
      await loadSnapshots(true);
      $("snapshots-body").prepend(el("div", { class: "success card", role: "status", text: `Rolled back to "${name}".` }));
    } catch (error) {
      $("snapshots-body").prepend(failure(error));
      button.disabled = false;
    }
  }

  async function onSnapshot(event) {
    event.preventDefault();
    const name = $("snapshot-name").value.trim();
    try {
      await api("POST", "/v1/snapshots", name ? { name } : {});
      $("snapshot-name").value = "";
      await loadSnapshots(true);
    } catch (error) {
      $("snapshots-body").prepend(failure(error));
    }
  }

  // ---- wiring -----------------------------------------------------------------------------

  async function boot() {
    $("signin-form").addEventListener("submit", onSignIn);
    $("signout").addEventListener("click", () => signOut());
    $("recall-form").addEventListener("submit", onRecall);
    $("history-form").addEventListener("submit", onHistory);
    $("snapshot-form").addEventListener("submit", onSnapshot);
    $("overview-refresh").addEventListener("click", () => loadOverview());
    $("lifecycle-refresh").addEventListener("click", () => loadLifecycle());
    $("lifecycle-run").addEventListener("click", runCycle);
    $("anomalies-form").addEventListener("submit", (event) => {
      event.preventDefault();
      loadAnomalies();
    });
    $("events-clear").addEventListener("click", () => replace($("event-list")));
    for (const b of document.querySelectorAll("#nav button")) b.addEventListener("click", () => { location.hash = `#${b.dataset.view}`; });
    window.addEventListener("hashchange", () => { if (state.signedIn) show(viewFromHash()); });

    const saved = sessionStorage.getItem(TOKEN_KEY);
    try {
      // A saved token signs in again; without one, a server without tokens lets the page in.
      await signIn(saved || "");
    } catch (error) {
      if (saved) sessionStorage.removeItem(TOKEN_KEY);
      showSignIn(saved ? signInMessage(error) : "");
    }
  }

  document.addEventListener("DOMContentLoaded", boot);
})();
