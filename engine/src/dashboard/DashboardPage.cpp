#include "dashboard/DashboardPage.hpp"

#include <string_view>

namespace fedswarm {

namespace {

// Everything the page needs is here: served by the node, nothing fetched elsewhere.
// Strings from the API reach the DOM only as text nodes (textContent), never as markup.
constexpr std::string_view kPage = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fedswarm node</title>
<style>
:root { --bg:#f4f6f8; --card:#fff; --ink:#1d2733; --dim:#66717d; --line:#dde2e7;
        --up:#1f9d55; --suspect:#d69e2e; --down:#c53030; --bar:#3b82c4; --bar2:#8fb8de; }
* { box-sizing:border-box; }
body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--ink); }
header { background:#1d2733; color:#fff; padding:10px 20px; display:flex; gap:24px; align-items:baseline; flex-wrap:wrap; }
header h1 { font-size:18px; margin:0; }
header .meta { color:#c7d0da; font-size:13px; }
header .err { color:#ffb4b4; }
main { padding:16px 20px; display:grid; grid-template-columns:repeat(auto-fit, minmax(560px, 1fr)); gap:16px; }
section { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:12px 14px; overflow:auto; }
section.wide { grid-column:1 / -1; }
h2 { font-size:15px; margin:0 0 8px; display:flex; justify-content:space-between; align-items:center; }
h2 small { font-weight:normal; color:var(--dim); }
table { border-collapse:collapse; width:100%; }
th, td { text-align:left; padding:4px 8px; border-bottom:1px solid var(--line); white-space:nowrap; vertical-align:middle; }
th { color:var(--dim); font-weight:600; font-size:12px; }
td.num { text-align:right; font-variant-numeric:tabular-nums; }
td.id { font-family:ui-monospace, monospace; font-size:12px; max-width:520px; overflow:hidden; text-overflow:ellipsis; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; color:#fff; font-size:12px; font-weight:600; }
.up { background:var(--up); } .suspect { background:var(--suspect); } .down { background:var(--down); }
.unknown, .stopped { background:#8a96a3; }
.tag { color:var(--dim); font-size:12px; margin-left:6px; }
.bar { position:relative; width:160px; height:14px; background:#e8ecf0; border-radius:3px; overflow:hidden; display:inline-block; vertical-align:middle; }
.bar > span { position:absolute; left:0; top:0; bottom:0; background:var(--bar); }
.bar > span.c { background:var(--bar2); }
.bar.full > span { background:var(--down); }
.bartext { font-size:12px; color:var(--dim); margin-left:6px; }
.tiles { display:flex; gap:10px; flex-wrap:wrap; margin-bottom:10px; }
.tile { border:1px solid var(--line); border-radius:5px; padding:6px 12px; min-width:92px; }
.tile b { display:block; font-size:20px; }
.tile span { color:var(--dim); font-size:12px; }
.tile.bad b { color:var(--down); } .tile.good b { color:var(--up); } .tile.warn b { color:var(--suspect); }
.pager { display:flex; gap:8px; align-items:center; margin-top:8px; color:var(--dim); font-size:12px; }
button { font:inherit; font-size:12px; padding:2px 10px; border:1px solid var(--line); background:#fff; border-radius:4px; cursor:pointer; }
button:disabled { opacity:.4; cursor:default; }
.empty { color:var(--dim); font-style:italic; padding:6px 0; }
ul.kv { list-style:none; margin:0; padding:0; } ul.kv li { padding:2px 0; }
ul.kv b { display:inline-block; min-width:60px; text-align:right; margin-right:8px; font-variant-numeric:tabular-nums; }
</style>
</head>
<body>
<header>
  <h1 id="title">fedswarm</h1>
  <span class="meta" id="meta">connecting…</span>
  <span class="meta" id="updated"></span>
</header>
<main>
  <section class="wide" id="sites-card"><h2>Federation <small id="fed"></small></h2><div id="sites"></div></section>
  <section id="compliance-card"><h2>One-Tier-1-copy rule <small id="comp-note"></small></h2>
    <div class="tiles" id="comp-tiles"></div>
    <div id="violations"></div>
    <div class="pager"><button id="v-prev">&#8592; prev</button><span id="v-page"></span><button id="v-next">next &#8594;</button></div>
  </section>
  <section id="refusals-card"><h2>Refusals and banned peers <small>since the node started</small></h2><div id="refusals"></div></section>
  <section class="wide" id="transfers-card"><h2>Transfers of this node <small id="tr-note"></small></h2>
    <div id="transfers"></div>
    <div class="pager"><button id="t-prev">&#8592; prev</button><span id="t-page"></span><button id="t-next">next &#8594;</button></div>
  </section>
  <section class="wide" id="retractions-card"><h2>Recent retractions <small>seen since the node started</small></h2><div id="retractions"></div></section>
</main>
<script>
"use strict";
const REFRESH_MS = 3000, VPAGE = 15, TPAGE = 20;
const view = { voff: 0, toff: 0 };

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k === "style") e.style.cssText = v; else e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
}
function put(id, node) { const t = document.getElementById(id); t.replaceChildren(node); }
function bytes(n) {
  if (n === null || n === undefined) return "–";
  const u = ["B", "KB", "MB", "GB", "TB", "PB"]; let i = 0; n = Number(n);
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return (i ? n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0) : n.toFixed(0)) + " " + u[i];
}
function count(n) { return n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US"); }
function dur(s) {
  if (s === null || s === undefined || s < 0) return "–";
  s = Math.round(s);
  if (s < 60) return s + " s"; if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
  if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor(s % 3600 / 60) + " min";
  return Math.floor(s / 86400) + " d " + Math.floor(s % 86400 / 3600) + " h";
}
function when(unix) { return unix ? new Date(unix * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC") : "–"; }
// A fill bar (`capacity`: red when nearly full) or a progress bar.
function bar(part, whole, extra, label, capacity) {
  const b = el("span", { class: "bar" });
  const f = whole > 0 ? Math.min(1, part / whole) : 0;
  if (extra && whole > 0) b.append(el("span", { class: "c", style: "width:" + (Math.min(1, (part + extra) / whole) * 100).toFixed(1) + "%" }));
  b.append(el("span", { style: "width:" + (f * 100).toFixed(1) + "%" }));
  if (capacity && f >= 0.95) b.classList.add("full");
  return el("span", {}, b, el("span", { class: "bartext" }, label));
}
function table(heads, rows, empty) {
  if (!rows.length) return el("div", { class: "empty" }, empty);
  const t = el("table", {}, el("thead", {}, el("tr", {}, ...heads.map(h => el("th", {}, h)))));
  const tb = el("tbody"); rows.forEach(r => tb.append(r)); t.append(tb); return t;
}
async function api(name, query) {
  const r = await fetch("/api/v1/" + name + (query ? "?" + query : ""), { cache: "no-store" });
  const j = await r.json();
  if (!r.ok) throw new Error(name + ": " + ((j.error && j.error.message) || r.status));
  return j;
}

function showStatus(s) {
  document.getElementById("title").textContent = "fedswarm · " + s.site;
  document.title = "fedswarm · " + s.site;
  put("meta", el("span", {}, s.tier.replace("tier", "Tier-") + " · up " + dur(s.uptime_s) + " · " + count(s.records) +
      " records · roster serial " + s.roster_serial + " · peers " + s.peers.up + " up, " + s.peers.suspect +
      " suspect, " + s.peers.down + " down"));
}
function showHealth(h) {
  document.getElementById("fed").textContent = (h.federation || "no roster") + " · roster serial " + h.roster_serial +
      " · " + h.sites.length + " sites";
  const rows = h.sites.map(s => {
    const state = s.state === "self" ? "up" : s.state;
    const lag = s.local ? "—" : (s.behind === null ? "?" : count(s.behind)) + " / " + (s.ahead === null ? "?" : count(s.ahead));
    const used = s.committed || s.bytes_held;
    return el("tr", { "data-site": s.site, "data-state": state },
      el("td", {}, el("b", {}, s.site), s.local ? el("span", { class: "tag" }, "this node") : null),
      el("td", {}, s.tier.replace("tier", "Tier-")),
      el("td", {}, el("span", { class: "badge " + state }, state)),
      el("td", { class: "num", title: "records the site lacks / records this node lacks" }, lag),
      el("td", { class: "num" }, s.last_seen_s_ago === null ? (s.local ? "—" : "never") : dur(s.last_seen_s_ago) + " ago"),
      el("td", { class: "num" }, count(s.versions_held)),
      el("td", { class: "num" }, bytes(s.bytes_held)),
      el("td", {}, s.capacity > 0 ? bar(s.bytes_held, s.capacity, Math.max(0, used - s.bytes_held),
          bytes(used) + " of " + bytes(s.capacity) + " (" + bytes(s.free_capacity) + " free)", true) : el("span", { class: "bartext" }, "no capacity in the roster")));
  });
  put("sites", table(["site", "tier", "state", "lag (behind / ahead)", "last heard", "versions", "held", "capacity and fill"],
      rows, "no roster imported"));
  const ref = h.refusals ? Object.entries(h.refusals).filter(([, n]) => n > 0) : [];
  const box = el("div");
  box.append(el("h3", { style: "font-size:13px;margin:4px 0" }, "Refused links and records, by reason"));
  box.append(ref.length ? el("ul", { class: "kv" }, ...ref.sort((a, b) => b[1] - a[1]).map(([k, n]) => el("li", {}, el("b", {}, count(n)), k)))
                        : el("div", { class: "empty" }, "nothing refused"));
  box.append(el("h3", { style: "font-size:13px;margin:10px 0 4px" }, "Banned peers"));
  box.append(h.banned_peers.length ? el("ul", { class: "kv" }, ...h.banned_peers.map(p => el("li", {}, p)))
                                   : el("div", { class: "empty" }, "none"));
  if (h.conflicts && h.conflicts.length) {
    box.append(el("h3", { style: "font-size:13px;margin:10px 0 4px" }, "Manifest conflicts"));
    box.append(el("ul", { class: "kv" }, ...h.conflicts.slice(0, 20).map(c => el("li", {}, c.instance_id + " by " + c.author))));
  }
  put("refusals", box);
}
function showCompliance(c) {
  const s = c.summary;
  const tile = (n, label, cls) => el("div", { class: "tile " + (cls || "") }, el("b", {}, count(n)), el("span", {}, label));
  put("comp-tiles", el("div", { class: "tiles" },
    tile(s.versions, "versions"), tile(s.compliant, "compliant", "good"), tile(s.pending, "pending", s.pending ? "warn" : ""),
    tile(s.violating, "violating", s.violating ? "bad" : "good"), tile(s.exempt, "exempt"),
    tile(s.blocked, "blocked", s.blocked ? "bad" : ""),
    el("div", { class: "tile" }, el("b", {}, bytes(s.violating_bytes)), el("span", {}, "violating bytes")),
    el("div", { class: "tile" }, el("b", {}, dur(s.longest_violation_s || 0)), el("span", {}, "oldest violation"))));
  document.getElementById("comp-note").textContent = (c.rebuilding ? "judging: " + count(c.judged) + " of " + count(c.total) + " · " : "") +
      s.tier1_members + " Tier-1 member(s)";
  const rows = c.versions.map(v => el("tr", {},
    el("td", { class: "id", title: v.instance_id }, v.instance_id),
    el("td", { class: "num" }, bytes(v.size)),
    el("td", {}, v.primary_site),
    el("td", {}, v.cause + (v.blocker && v.blocker !== "none" ? " (" + v.blocker + ")" : "")),
    el("td", { class: "num" }, dur(v.violating_for_s)),
    el("td", {}, v.assignee || "–")));
  put("violations", table(["violating version", "size", "primary", "cause", "for", "assigned to"], rows, "no violating version"));
  const total = c.matching || 0;
  document.getElementById("v-page").textContent = total ? (c.offset + 1) + "–" + (c.offset + c.versions.length) + " of " + count(total) : "";
  document.getElementById("v-prev").disabled = view.voff === 0;
  document.getElementById("v-next").disabled = view.voff + VPAGE >= total;
}
function showTransfers(t) {
  const rows = t.transfers.map(x => {
    const pct = x.bytes_total > 0 ? x.bytes_done / x.bytes_total : 0;
    return el("tr", { "data-instance": x.instance_id, "data-kind": x.kind, "data-activity": x.activity },
      el("td", { class: "id", title: x.instance_id + (x.last_error ? "\n" + x.last_error : "") }, x.instance_id),
      el("td", {}, x.kind),
      el("td", {}, x.activity),
      el("td", {}, bar(x.bytes_done, x.bytes_total, 0, (pct * 100).toFixed(pct < 1 ? 1 : 0) + "% of " + bytes(x.bytes_total))),
      el("td", { class: "num" }, "↓ " + bytes(x.download_rate) + "/s"),
      el("td", { class: "num" }, "↑ " + bytes(x.upload_rate) + "/s"),
      el("td", { class: "num" }, x.peers),
      el("td", { class: "num" }, x.eta_s >= 0 ? dur(x.eta_s) : "–"));
  });
  put("transfers", table(["version", "kind", "activity", "progress", "down", "up", "peers", "ETA"], rows,
      t.counters ? "no transfer" : "this node has no swarm engine"));
  const total = t.total || 0;
  const c = t.counters;
  document.getElementById("tr-note").textContent = c ? "placed " + count(c.placed) + " · hash failures " + count(c.hash_failures) +
      " · verify failures " + count(c.verify_failures) : "";
  document.getElementById("t-page").textContent = total ? (view.toff + 1) + "–" + (view.toff + t.transfers.length) + " of " + count(total) : "";
  document.getElementById("t-prev").disabled = view.toff === 0;
  document.getElementById("t-next").disabled = view.toff + TPAGE >= total;
}
function showRetractions(r) {
  const rows = r.retractions.map(x => el("tr", {},
    el("td", { class: "id", title: x.instance_id }, x.instance_id),
    el("td", {}, when(x.retracted_at)),
    el("td", {}, x.reason || "–"),
    el("td", { class: "id" }, x.errata_id || "–")));
  put("retractions", table(["version", "retracted", "reason", "errata"], rows, "no retraction seen"));
}

let timer = null;
async function refresh() {
  clearTimeout(timer);
  const errors = [];
  const step = async (p, show) => { try { show(await p); } catch (e) { errors.push(e.message); } };
  await Promise.all([
    step(api("status"), showStatus),
    step(api("health"), showHealth),
    step(api("compliance", "status=violating&offset=" + view.voff + "&limit=" + VPAGE), showCompliance),
    step(api("transfers", "offset=" + view.toff + "&limit=" + TPAGE), showTransfers),
    step(api("retractions", "limit=20"), showRetractions),
  ]);
  const u = document.getElementById("updated");
  u.className = errors.length ? "meta err" : "meta";
  u.textContent = errors.length ? "error: " + errors.join("; ") : "updated " + new Date().toLocaleTimeString();
  timer = setTimeout(refresh, REFRESH_MS);
}
function pager(prev, next, key, size) {
  document.getElementById(prev).onclick = () => { view[key] = Math.max(0, view[key] - size); refresh(); };
  document.getElementById(next).onclick = () => { view[key] += size; refresh(); };
}
pager("v-prev", "v-next", "voff", VPAGE);
pager("t-prev", "t-next", "toff", TPAGE);
refresh();
</script>
</body>
</html>
)HTML";

}  // namespace

HttpAnswer dashboard_page() {
  HttpAnswer a{200, "text/html; charset=utf-8", std::string(kPage), {}};
  a.headers.emplace_back("Cache-Control", "no-store");
  a.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
                         "img-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  a.headers.emplace_back("X-Content-Type-Options", "nosniff");
  a.headers.emplace_back("Referrer-Policy", "no-referrer");
  return a;
}

}  // namespace fedswarm
