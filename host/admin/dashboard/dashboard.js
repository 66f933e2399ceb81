// The dashboard: reads /v1/plugins and /v1/stats every two seconds and
// derives rates and p99 latency from the difference of two readings.
"use strict";

const REFRESH_MS = 2000;
let previous = null;  // the last /v1/stats reading

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function pill(text, kind) { return el("span", { class: "pill " + (kind || text) }, text); }

function rate(now, before, seconds) {
  return before === undefined || seconds <= 0 ? null : Math.max(0, now - before) / seconds;
}

// p99 from the difference of two cumulative bucket readings: the upper
// bound of the bucket that holds the 99th percentile.
function p99(bounds, now, before) {
  const counts = now.map((n, i) => n - (before ? before[i] : 0));
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen >= 0.99 * total) return i < bounds.length ? bounds[i] : Infinity;
  }
  return Infinity;
}

function fmtRate(r) { return r === null ? "–" : r < 10 ? r.toFixed(2) : r.toFixed(0); }
function fmtLatency(s) {
  if (s === null) return "–";
  if (s === Infinity) return "> 10 s";
  return s < 1 ? "≤ " + (s * 1000).toFixed(s < 0.01 ? 1 : 0) + " ms" : "≤ " + s + " s";
}

function routeKey(plugin, r) { return plugin + " " + r.method + " " + r.pattern; }

function render(inventory, stats) {
  const seconds = previous ? (Date.parse(stats.time) - Date.parse(previous.time)) / 1000 : 0;
  const before = new Map();
  if (previous) for (const p of previous.plugins) for (const r of p.routes) before.set(routeKey(p.id, r), r);

  const d = inventory.daemon;
  document.getElementById("version").textContent = d.version + " · ABI " + d.abi;
  const status = document.getElementById("status");
  status.textContent = stats.ready ? "ready" : "not ready: " + stats.readiness;
  status.className = "pill " + (stats.ready ? "ok" : "error");
  document.getElementById("public-url").textContent = d.public_url;
  document.getElementById("started").textContent = new Date(d.started_at).toLocaleString();
  const r = d.reload;
  document.getElementById("reload").textContent = r.last_attempt
    ? (r.last_ok ? "ok" : "rejected") + " at " + new Date(r.last_attempt).toLocaleTimeString() + " (" + r.successes + " ok, " + r.rejections + " rejected)"
    : "none";

  const statsById = new Map(stats.plugins.map(p => [p.id, p]));
  const pluginRows = [];
  const routeRows = [];
  for (const p of inventory.plugins) {
    const s = statsById.get(p.id);
    let reqs = null, errs = null, worst = null;
    for (const route of (s ? s.routes : [])) {
      const b = before.get(routeKey(p.id, route));
      const rr = rate(route.requests, b && b.requests, seconds);
      const er = rate(route.server_errors, b && b.server_errors, seconds);
      const lat = previous ? p99(stats.latency_bounds_seconds, route.latency_buckets, b && b.latency_buckets) : null;
      if (rr !== null) reqs = (reqs || 0) + rr;
      if (er !== null) errs = (errs || 0) + er;
      if (lat !== null && (worst === null || lat > worst)) worst = lat;
      const info = p.routes.find(x => x.method === route.method && x.pattern === route.pattern) || {};
      const label = el("span", {}, el("span", { class: "method" }, route.method));
      const link = info.path && route.method === "GET" && !/[:*]/.test(route.pattern)
        ? el("a", { class: "route", href: d.public_url + info.path, target: "_blank", rel: "noopener" }, info.path)
        : el("code", {}, info.path || route.pattern);
      label.append(link);
      routeRows.push(el("tr", {}, el("td", {}, label), el("td", {}, info.summary || ""),
        el("td", { class: "num" }, route.requests), el("td", { class: "num" }, fmtRate(rr)),
        el("td", { class: "num" }, fmtRate(er)), el("td", { class: "num" }, fmtLatency(lat))));
    }
    const name = el("td", {}, el("strong", {}, p.id));
    if (p.description) name.append(el("div", { class: "detail" }, p.description));
    const state = el("td", {}, pill(p.state));
    if (p.error) state.append(el("div", { class: "detail" }, p.error));
    const health = p.health ? el("td", {}, pill(p.health.status, p.health.status === "healthy" ? "ok" : p.health.status === "unhealthy" ? "error" : "warning"))
      : el("td", { class: "empty" }, "–");
    if (p.health && p.health.message) health.append(el("div", { class: "detail" }, p.health.message));
    pluginRows.push(el("tr", { "data-plugin": p.id }, name, state, el("td", {}, p.version || "–"), health,
      el("td", { class: "num" }, fmtRate(reqs)), el("td", { class: "num" }, fmtRate(errs)), el("td", { class: "num" }, fmtLatency(worst))));
  }
  for (const id of inventory.disabled) {
    pluginRows.push(el("tr", { "data-plugin": id }, el("td", {}, el("strong", {}, id)), el("td", {}, pill("disabled")),
      el("td", {}, "–"), el("td", {}, "–"), el("td", { class: "num" }, "–"), el("td", { class: "num" }, "–"), el("td", { class: "num" }, "–")));
  }
  document.querySelector("#plugins tbody").replaceChildren(...pluginRows);
  document.querySelector("#routes tbody").replaceChildren(...routeRows);

  const events = stats.events.map(e => el("li", {}, el("time", {}, new Date(e.time).toLocaleString()),
    el("span", {}, pill(e.level, e.level === "info" ? "ok" : e.level)), el("span", { class: "source" }, e.source), el("span", {}, e.message)));
  document.getElementById("events").replaceChildren(...(events.length ? events : [el("li", { class: "empty" }, "nothing notable")]));
  previous = stats;
}

async function refresh() {
  try {
    const [inventory, stats] = await Promise.all([
      fetch("/v1/plugins", { cache: "no-store" }).then(r => r.json()),
      fetch("/v1/stats", { cache: "no-store" }).then(r => r.json()),
    ]);
    render(inventory, stats);
  } catch (e) {
    const status = document.getElementById("status");
    status.textContent = "cannot reach the daemon";
    status.className = "pill error";
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
