// The dashboard: reads /v1/plugins and /v1/stats every two seconds. The
// daemon keeps counters since it started; request rate, 5xx share and p99
// come from the difference of two readings, so they describe the last
// interval rather than the whole uptime.
"use strict";

const REFRESH_MS = 2000;
const TIMEOUT_MS = 5000;  // a daemon that hangs is as unreachable as one that is down

let previous = null;      // { stats, startedAt }: the reading rates are measured against
let lastSuccess = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const c of children) {
    if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}
function setText(id, value, title) {
  const node = document.getElementById(id);
  node.textContent = value;
  if (title !== undefined) node.title = title;
  return node;
}

const STATE_TONE = { running: "ok", healthy: "ok", failed: "bad", unhealthy: "bad", stopping: "warn",
  starting: "warn", disabled: "neutral", unknown: "neutral", info: "neutral", warning: "warn", error: "bad", critical: "bad",
  refused: "bad", skipped: "neutral" };
function pill(text) { return el("span", { class: "pill " + (STATE_TONE[text] || "neutral") }, text); }

// --- Measuring an interval ---------------------------------------------------

// One route's activity between two readings. A counter smaller than before
// means it started over (a new daemon or instance): all of it is new.
function measure(route, before, seconds) {
  if (!before || seconds <= 0) return null;
  const reset = route.requests < before.requests;
  return {
    seconds,
    requests: reset ? route.requests : route.requests - before.requests,
    errors: reset ? route.server_errors : route.server_errors - before.server_errors,
    buckets: route.latency_buckets.map((n, i) => reset ? n : n - (before.latency_buckets[i] || 0)),
  };
}
function combine(total, m) {
  if (!m) return total;
  if (!total) return { ...m, buckets: [...m.buckets] };
  total.requests += m.requests;
  total.errors += m.errors;
  m.buckets.forEach((n, i) => { total.buckets[i] += n; });
  return total;
}
// The upper bound of the bucket holding the 99th percentile (Infinity for the
// overflow bucket): the histogram cannot say more precisely.
function p99(bounds, buckets) {
  const total = buckets.reduce((a, b) => a + b, 0);
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i];
    if (seen >= 0.99 * total) return i < bounds.length ? bounds[i] : Infinity;
  }
  return Infinity;
}

// --- Formatting -------------------------------------------------------------

const DASH = "–";
function fmtCount(n) { return n.toLocaleString("en-US"); }
function fmtRate(m) {
  if (!m) return DASH;
  const r = m.requests / m.seconds;
  return r === 0 ? "0" : r < 1 ? r.toFixed(2) : r < 100 ? r.toFixed(1) : fmtCount(Math.round(r));
}
function fmtShare(m) {
  if (!m || m.requests === 0) return DASH;
  const share = m.errors / m.requests;
  if (share === 0) return "0 %";
  return share < 0.001 ? "< 0.1 %" : (100 * share).toFixed(share < 0.1 ? 1 : 0) + " %";
}
function fmtSeconds(s) { return s < 1 ? +(s * 1000).toFixed(1) + " ms" : s + " s"; }
function fmtLatency(bounds, m) {
  if (!m || m.requests === 0) return DASH;
  const q = p99(bounds, m.buckets);
  return q === Infinity ? "> " + fmtSeconds(bounds[bounds.length - 1]) : "≤ " + fmtSeconds(q);
}
function fmtAgo(date, now) {
  const s = Math.max(0, Math.round((now - date) / 1000));
  if (s < 5) return "just now";
  if (s < 90) return s + " s ago";
  if (s < 5400) return Math.round(s / 60) + " min ago";
  if (s < 129600) return Math.round(s / 3600) + " h ago";
  return Math.round(s / 86400) + " d ago";
}
function fmtDuration(ms) {
  const m = Math.floor(ms / 60000), h = Math.floor(m / 60), d = Math.floor(h / 24);
  if (d > 0) return d + " d " + (h % 24) + " h";
  if (h > 0) return h + " h " + (m % 60) + " min";
  return m > 0 ? m + " min" : Math.floor(ms / 1000) + " s";
}
function clock(date) { return date.toLocaleTimeString([], { hour12: false }); }
function numberCells(bounds, m) {
  return [
    el("td", { class: "num", "data-field": "rate" }, fmtRate(m)),
    el("td", { class: "num" + (m && m.errors > 0 ? " bad-text" : ""), "data-field": "errors" }, fmtShare(m)),
    el("td", { class: "num", "data-field": "p99" }, fmtLatency(bounds, m)),
  ];
}

// --- Rendering ----------------------------------------------------------------

// The daemon names the address it listens on. A wildcard one is reached
// through the host this page came from; a Unix socket not from a browser.
function browsable(url) {
  if (!/^https?:\/\//.test(url)) return null;
  return url.replace(/^(https?:\/\/)(0\.0\.0\.0|\[::\])(?=:)/, (_, scheme) => scheme + location.hostname);
}

function routeLabel(publicUrl, info) {
  const method = info.method === "*" ? "ANY" : info.method;
  // Only a GET without parameters is a URL one can open as it is.
  const path = publicUrl && info.method === "GET" && !/[:*]/.test(info.pattern)
    ? el("a", { href: publicUrl + info.path, target: "_blank", rel: "noopener" }, info.path)
    : el("span", {}, ...info.path.split(/(:[^/]+|\*)/).map((part, i) => i % 2 ? el("span", { class: "param" }, part) : part));
  return el("td", {}, el("div", { class: "route" }, el("span", { class: "method" }, method), el("span", { class: "mono" }, path),
    info.summary ? el("div", { class: "detail" }, info.summary) : null));
}

function renderHeader(inventory, stats, now) {
  const d = inventory.daemon;
  setText("version", d.version + " · ABI " + d.abi);
  const url = document.getElementById("public-url");
  url.textContent = d.public_url;
  if (browsable(d.public_url)) url.href = browsable(d.public_url); else url.removeAttribute("href");
  const started = new Date(d.started_at);
  setText("uptime", fmtDuration(now - started), "since " + started.toLocaleString());
  setText("config-files", d.config_files.map(f => f.split("/").pop()).join(", ") || DASH, d.config_files.join("\n"));
  const status = setText("status", stats.ready ? "ready" : "not ready", stats.readiness);
  status.className = "pill " + (stats.ready ? "ok" : "bad");
  setText("updated", stats.ready ? "updated " + clock(now) : stats.readiness).classList.toggle("bad-text", !stats.ready);
}

function renderTiles(inventory, stats, total, now) {
  const count = {};
  for (const p of inventory.plugins) count[p.state] = (count[p.state] || 0) + 1;
  const troubled = (count.failed || 0) + (count.unhealthy || 0);
  const serving = inventory.plugins.filter(p => p.state !== "stopping").length;
  document.getElementById("t-plugins").replaceChildren(...(serving ? [(count.running || 0) + " of " + serving, el("small", {}, " running")] : ["none"]));
  const notes = ["failed", "unhealthy", "stopping"].filter(s => count[s])
    .map(s => el("span", { class: STATE_TONE[s] === "bad" ? "bad-text" : "" }, count[s] + " " + s));
  if (inventory.disabled.length) notes.push(el("span", {}, inventory.disabled.length + " disabled"));
  document.getElementById("t-plugins-note").replaceChildren(
    ...(notes.length ? notes.flatMap((n, i) => i ? [" · ", n] : [n]) : [serving ? "all up" : "no plugins enabled"]));
  document.getElementById("t-plugins").closest(".tile").classList.toggle("alert", troubled > 0);

  setText("t-rate", fmtRate(total));
  const all = stats.plugins.reduce((n, p) => n + p.routes.reduce((a, r) => a + r.requests, 0), 0);
  setText("t-requests", fmtCount(all) + " since start");
  setText("t-errors-note", total && total.errors ? fmtCount(total.errors) + " × 5xx in the last " + Math.round(total.seconds) + " s" : "5xx share of requests");
  setText("t-errors", fmtShare(total)).classList.toggle("bad-text", !!(total && total.errors));
  document.getElementById("t-errors").closest(".tile").classList.toggle("alert", !!(total && total.errors));
  setText("t-p99", fmtLatency(stats.latency_bounds_seconds, total));

  const r = stats.reload;
  const tile = document.getElementById("t-reload").closest(".tile");
  tile.classList.toggle("alert", !!r.last_attempt && !r.last_ok);
  if (!r.last_attempt) {
    setText("t-reload", "none yet").classList.remove("bad-text");
    setText("t-reload-note", "SIGHUP or POST /v1/reload");
    return;
  }
  const at = new Date(r.last_attempt);
  setText("t-reload", r.last_ok ? "applied" : "rejected", at.toLocaleString()).classList.toggle("bad-text", !r.last_ok);
  const note = fmtAgo(at, now) + " · " + r.successes + " applied, " + r.rejections + " rejected";
  document.getElementById("t-reload-note").replaceChildren(note,
    !r.last_ok && r.last_message ? el("span", { class: "reason bad-text", title: r.last_message }, r.last_message) : "");
}

function renderPlugins(inventory, stats, measured) {
  const bounds = stats.latency_bounds_seconds;
  const rows = [];
  for (const p of inventory.plugins) {
    const m = measured.get(p);
    const failed = p.state === "failed" || p.state === "unhealthy";
    const name = el("td", { class: "name" }, el("strong", {}, p.id), p.required ? el("span", { class: "tag" }, "required") : null,
      p.description ? el("div", { class: "detail" }, p.description) : null);
    const health = p.health
      ? el("td", {}, pill(p.health.status), p.health.message ? el("div", { class: "detail" }, p.health.message) : null)
      : el("td", { class: "muted", title: p.state === "running" ? "the plugin has no health check" : undefined }, DASH);
    rows.push(el("tr", { "data-plugin": p.id, "data-state": p.state, class: failed ? "trouble" : p.state === "stopping" ? "inactive" : "" },
      name, el("td", { "data-field": "state" }, pill(p.state)),
      el("td", { class: "mono", title: p.file }, p.version || DASH), health,
      el("td", { class: "num" }, p.routes.length), ...numberCells(bounds, m)));
    // A full-width row: a long error wraps across the table, not in one cell.
    if (p.error) {
      rows.push(el("tr", { class: "error-row" + (failed ? " trouble" : ""), "data-error-for": p.id },
        el("td", { colspan: 8 }, el("div", { class: "error-text" }, p.error))));
    }
  }
  for (const id of inventory.disabled) {
    rows.push(el("tr", { "data-plugin": id, "data-state": "disabled", class: "inactive" },
      el("td", { class: "name" }, el("strong", {}, id), el("div", { class: "detail" }, "disabled in the configuration")),
      el("td", {}, pill("disabled")), ...Array.from({ length: 6 }, (_, i) => el("td", { class: i < 2 ? "muted" : "num muted" }, DASH))));
  }
  if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 8, class: "empty" }, "No plugins: the plugin directories hold none the daemon could load.")));
  document.querySelector("#plugins tbody").replaceChildren(...rows);
}

function renderRoutes(inventory, stats, routeMeasures) {
  const bounds = stats.latency_bounds_seconds;
  const publicUrl = browsable(inventory.daemon.public_url);
  const rows = [];
  for (const p of inventory.plugins) {
    if (!p.routes.length || p.state === "stopping") continue;
    const serving = p.state === "running" || p.state === "unhealthy";
    rows.push(el("tr", { class: "group" }, el("th", { colspan: 5, scope: "rowgroup" }, p.id,
      serving ? null : el("span", { class: "muted" }, " — not serving: its routes answer 503"))));
    for (const info of p.routes) {
      const entry = routeMeasures.get(p.id + " " + info.method + " " + info.pattern);
      rows.push(el("tr", { "data-plugin": p.id, "data-method": info.method, "data-pattern": info.pattern, class: serving ? "" : "inactive" },
        routeLabel(publicUrl, info),
        el("td", { class: "num", "data-field": "requests" }, entry ? fmtCount(entry.route.requests) : DASH),
        ...numberCells(bounds, entry && entry.m)));
    }
  }
  if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: 5, class: "empty" }, "No plugin has registered a route.")));
  document.querySelector("#routes tbody").replaceChildren(...rows);
}

function renderFiles(inventory) {
  const unused = inventory.files.filter(f => f.state !== "chosen" && f.state !== "disabled");
  document.getElementById("files-section").hidden = unused.length === 0;
  document.querySelector("#files tbody").replaceChildren(...unused.map(f => el("tr", { class: f.state === "refused" ? "trouble" : "" },
    el("td", { class: "mono path" }, f.path), el("td", {}, f.id || DASH), el("td", { class: "mono" }, f.version || DASH),
    el("td", {}, pill(f.state), el("div", { class: "detail" }, f.reason || "")))));
}

function renderEvents(stats, now) {
  const items = stats.events.map(e => {
    const at = new Date(e.time);
    return el("li", { class: "event " + e.level },
      el("div", { class: "event-head" }, pill(e.level), el("span", { class: "source" }, e.source),
        el("time", { datetime: e.time, title: at.toLocaleString() }, fmtAgo(at, now))),
      el("div", { class: "message" }, e.message));
  });
  if (!items.length) items.push(el("li", { class: "empty" }, "Nothing notable since the daemon started."));
  document.getElementById("events").replaceChildren(...items);
}

function render(inventory, stats) {
  const now = new Date(stats.time);
  if (previous && previous.startedAt !== inventory.daemon.started_at) previous = null;  // a new daemon
  const seconds = previous ? (now - new Date(previous.stats.time)) / 1000 : 0;
  const before = new Map();
  if (previous) for (const p of previous.stats.plugins) for (const r of p.routes) before.set(p.id + " " + r.method + " " + r.pattern, r);

  // Stats cover the serving instances only; one a reload retired ("stopping")
  // shares its id with its successor and gets none.
  const statsById = new Map(stats.plugins.map(p => [p.id, p]));
  const routeMeasures = new Map();
  const measured = new Map();
  let total = null;
  for (const p of inventory.plugins) {
    const s = p.state === "stopping" ? null : statsById.get(p.id);
    let sum = null;
    for (const route of (s ? s.routes : [])) {
      const key = p.id + " " + route.method + " " + route.pattern;
      const m = measure(route, before.get(key), seconds);
      routeMeasures.set(key, { route, m });
      sum = combine(sum, m);
      total = combine(total, m);
    }
    measured.set(p, sum);
  }

  renderHeader(inventory, stats, now);
  renderTiles(inventory, stats, total, now);
  renderPlugins(inventory, stats, measured);
  renderRoutes(inventory, stats, routeMeasures);
  renderFiles(inventory);
  renderEvents(stats, now);
  previous = { stats, startedAt: inventory.daemon.started_at };
}

async function getJson(path) {
  const response = await fetch(path, { cache: "no-store", signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!response.ok) throw new Error(path + " answered " + response.status);
  return response.json();
}

function showUnreachable(error) {
  document.body.classList.add("stale");
  const status = setText("status", "unreachable", String(error && error.message || error));
  status.className = "pill bad";
  setText("updated", lastSuccess ? "showing data from " + clock(lastSuccess) + "; retrying" : "retrying every 2 s").classList.remove("bad-text");
}

async function refresh() {
  try {
    let inventory, stats;
    try {
      [inventory, stats] = await Promise.all([getJson("/v1/plugins"), getJson("/v1/stats")]);
    } catch (error) {
      showUnreachable(error);
      return;
    }
    // Outside the catch above: a fault in the page is no unreachable daemon,
    // and belongs on the console.
    render(inventory, stats);
    lastSuccess = new Date();
    document.body.classList.remove("stale");
  } finally {
    // The next reading only after this one ends, so readings from a slow
    // daemon never pile up.
    setTimeout(refresh, REFRESH_MS);
  }
}

refresh();
