// abilene dashboard: plain ES module, no framework. Everything shown is
// read from /v1 with the token the user gave; the API filters by the
// token's role and scope, and views the role cannot read are hidden.

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "abilene.token";
const nf = new Intl.NumberFormat("en-US");
const n0 = (x) => nf.format(Math.round(x));
const n1 = (x) => (x == null ? "n/a" : x.toLocaleString("en-US", { maximumFractionDigits: 1, minimumFractionDigits: 1 }));

const VIEWS = ["campus", "map", "jobs", "tenancy", "power", "ops"];
const SUBMITTERS = ["operator-admin", "lessee-admin", "tenant-admin", "submitter"];
const JOB_EVENTS = new Set(["started", "replica_started", "pending", "preempted", "interrupted", "finished",
  "throttled", "suspended", "spare_added", "spares_exhausted"]);
const TRAY_EVENTS = new Set(["tray_down", "tray_up", "drained", "resumed", "quarantine_cleared", "tray_quarantined",
  "reserved", "reservation_started", "reservation_ended"]);

const S = {
  token: null,
  who: null,
  whole: false,
  can: { read: false, submit: false, hardware: false, audit: false },
  view: null,
  dirty: new Set(),
  lastFetch: {},
  campus: null,
  map: null,
  layout: null,
  selected: -1,
  recent: [],
  jobsAfter: null,
  jobsNext: null,
  jobsPages: [],
  auditAfter: null,
  auditNext: null,
  auditPages: [],
  plant: [],
  plantMissing: false,
  lastEventId: null,
  stream: null,
  streamGen: 0,
  figures: { mapFirstRenderMs: null, mapLastRenderMs: null, mapDrawMs: null },
};

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

function randomKey() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

async function api(path, { method = "GET", body, idempotent = false } = {}) {
  const headers = { Authorization: `Bearer ${S.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (idempotent) headers["Idempotency-Key"] = randomKey();
  let r;
  try {
    r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
  } catch (e) {
    throw new ApiError(0, "network", `The server did not answer (${e.message}).`);
  }
  const text = await r.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!r.ok) {
    const code = data && data.code ? data.code : `http_${r.status}`;
    const msg = data && data.message ? data.message : `HTTP ${r.status}`;
    const err = new ApiError(r.status, code, msg, data && data.field);
    if (r.status === 401 && path !== "/v1/whoami") logout(`The server refused the token: ${msg}`);
    throw err;
  }
  return data;
}

function errText(e) {
  if (e instanceof ApiError) return `${e.message}${e.field ? ` (field: ${e.field})` : ""} [${e.code}]`;
  return String(e && e.message ? e.message : e);
}

function showError(e) {
  const p = $("error");
  if (!e) { p.hidden = true; p.textContent = ""; return; }
  p.textContent = typeof e === "string" ? e : errText(e);
  p.hidden = false;
}

// ---------------------------------------------------------------- helpers

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else if (k in e) e[k] = v;
    else e.setAttribute(k, v);
  }
  for (const c of kids) if (c != null) e.append(c);
  return e;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

function campusTime(s) {
  if (s == null) return "";
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `day ${d} ${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
}

function rackPath(name) {
  return name.split("/").map(encodeURIComponent).join("/");
}

function row(...cells) {
  return el("tr", {}, ...cells.map((c) => (c instanceof Node ? el("td", {}, c) : el("td", { text: c == null ? "" : String(c) }))));
}

function emptyRow(tbody, cols, text) {
  clear(tbody).append(el("tr", {}, el("td", { colSpan: cols, text })));
}

function placementText(p) {
  if (!p) return "";
  const b = (p.buildings || []).join(", ");
  return `${b}: ${n0(p.trays)} trays, ${n0(p.domains)} NVLink domain${p.domains === 1 ? "" : "s"}`;
}

// ---------------------------------------------------------------- login

function readFragmentToken() {
  const h = location.hash;
  if (!h.startsWith("#token=")) return null;
  const t = decodeURIComponent(h.slice("#token=".length));
  // The fragment never went to the server; take it out of the address
  // bar and the history too.
  history.replaceState(null, "", `${location.pathname}${location.search}#/campus`);
  return t;
}

async function login(token, fromForm) {
  S.token = token;
  const msg = $("login-msg");
  msg.hidden = true;
  let who;
  try {
    who = await api("/v1/whoami");
  } catch (e) {
    S.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    msg.textContent = e.status === 401 ? `That token was refused: ${e.message}` : `Could not log in: ${errText(e)}`;
    msg.hidden = false;
    showLogin();
    if (fromForm) $("login-token").focus();
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  S.who = who;
  const role = who.role;
  S.can = {
    read: role !== "auditor",
    submit: SUBMITTERS.includes(role),
    hardware: role === "operator-admin",
    audit: role === "operator-admin" || role === "auditor",
  };
  S.whole = false;
  if (S.can.read) {
    try {
      S.campus = await api("/v1/campus");
      S.whole = true;
    } catch (e) {
      if (e.status !== 403) showError(e);
    }
  }
  $("who").textContent = `${who.name} (${role}${who.tenant ? `, ${who.tenant}` : ", whole campus"})`;
  $("logout").hidden = false;
  $("login-token").value = "";
  for (const li of document.querySelectorAll("#nav li")) li.hidden = !allowed(li.dataset.view);
  $("nav").hidden = false;
  $("view-login").hidden = true;
  if (S.can.read) loadTenantNames();
  startStream();
  route(fromForm);
}

function logout(why) {
  S.streamGen++;
  if (S.stream) S.stream.abort();
  S.stream = null;
  S.token = null;
  S.who = null;
  S.campus = null;
  S.map = null;
  S.recent = [];
  S.lastEventId = null;
  sessionStorage.removeItem(TOKEN_KEY);
  resetViews();
  $("who").textContent = "Not logged in";
  $("live").textContent = "";
  $("logout").hidden = true;
  $("nav").hidden = true;
  showError(null);
  if (why) { $("login-msg").textContent = why; $("login-msg").hidden = false; }
  showLogin();
}

// Nothing of one login's data stays in the page for the next.
function resetViews() {
  S.layout = null;
  S.mapIndex = null;
  S.selected = -1;
  S.plant = [];
  S.jobsAfter = null; S.jobsNext = null; S.jobsPages = [];
  S.auditAfter = null; S.auditNext = null; S.auditPages = [];
  S.lastFetch = {};
  S.dirty.clear();
  S.figures = { mapFirstRenderMs: null, mapLastRenderMs: null, mapDrawMs: null };
  for (const tb of document.querySelectorAll("main tbody")) clear(tb);
  for (const id of ["campus-summary", "campus-tiles", "campus-timeline", "map-legend", "power-now", "power-charts",
    "job-fields", "job-history", "tenant-names"]) clear($(id));
  for (const id of ["map-figures", "submit-msg", "ops-msg", "jobs-page"]) $(id).textContent = "";
  for (const id of ["job-detail", "rack-detail", "jobs-submit", "ops-hardware", "ops-audit"]) $(id).hidden = true;
  const cv = $("map-canvas");
  cv.width = 0; cv.height = 0;
  cv.setAttribute("aria-label", "Rack map: not loaded");
}

function showLogin() {
  for (const v of VIEWS) $(`view-${v}`).hidden = true;
  $("view-login").hidden = false;
  S.view = null;
}

function allowed(v) {
  switch (v) {
    case "campus": case "power": return S.can.read && S.whole;
    case "map": case "jobs": case "tenancy": return S.can.read;
    case "ops": return S.can.hardware || S.can.audit;
    default: return false;
  }
}

// ---------------------------------------------------------------- routing

function route(focus) {
  if (!S.token) { showLogin(); return; }
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  let v = parts[0];
  if (!allowed(v)) {
    v = VIEWS.find(allowed);
    if (!v) { showError("This token's role can read nothing the dashboard shows."); return; }
    history.replaceState(null, "", `#/${v}`);
  }
  showError(null);
  S.view = v;
  for (const name of VIEWS) $(`view-${name}`).hidden = name !== v;
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.getAttribute("href") === `#/${v}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = `${$(`${v}-h`).textContent} - abilene`;
  if (focus) { const h = $(`${v}-h`); h.tabIndex = -1; h.focus(); }
  if (v === "jobs" && parts[1]) showJob(parts[1]);
  refresh(v, true);
}

window.addEventListener("hashchange", () => {
  if (location.hash.startsWith("#token=")) {
    const t = readFragmentToken();
    if (t) login(t, true);
    return;
  }
  route(true);
});

// ---------------------------------------------------------------- refresh scheduling

// Least time between two fetches of a view's data, while events keep
// marking it dirty: the full campus's event rate must not become a
// request rate.
const MIN_INTERVAL = { campus: 2000, map: 1000, jobs: 1000, tenancy: 2000, power: 5000, ops: 2000 };
const inflight = new Set();

async function refresh(v, force) {
  if (!v || inflight.has(v)) return;
  const now = performance.now();
  if (!force && now - (S.lastFetch[v] || 0) < MIN_INTERVAL[v]) return;
  S.lastFetch[v] = now;
  S.dirty.delete(v);
  inflight.add(v);
  try {
    await LOADERS[v]();
  } catch (e) {
    if (S.token) showError(e);
  } finally {
    inflight.delete(v);
  }
}

function invalidate(...views) {
  for (const v of views) S.dirty.add(v);
}

setInterval(() => {
  if (!S.token || !S.view) return;
  if (S.dirty.has(S.view)) refresh(S.view, false);
  // Power has no events of its own: it polls.
  if (S.view === "power") refresh("power", false);
}, 250);

let frameQueued = false;
const frameTasks = new Set();
function onFrame(fn) {
  frameTasks.add(fn);
  if (frameQueued) return;
  frameQueued = true;
  requestAnimationFrame(() => {
    frameQueued = false;
    const tasks = [...frameTasks];
    frameTasks.clear();
    for (const t of tasks) t();
  });
}

// ---------------------------------------------------------------- campus

async function loadCampus() {
  const [campus, map] = await Promise.all([api("/v1/campus"), S.map ? Promise.resolve(S.map) : api("/v1/campus/map")]);
  S.campus = campus;
  if (!S.map) setMap(map);
  renderCampus();
}

function renderCampus() {
  const c = S.campus;
  if (!c) return;
  const r = c.rollup;
  const p = c.plant;
  const pue = p && p.it_kw > 0 ? p.facility_kw / p.it_kw : null;
  const sum = clear($("campus-summary"));
  const fig = (label, value, attrs = {}) => el("div", { class: "fig" }, el("span", { class: "fig-l", text: label }), el("span", { class: "fig-v", text: value, ...attrs }));
  sum.append(
    fig("Campus", `${c.name}, ${campusTime(c.now)} (${c.speed}x)`),
    fig("GPUs", n0(r.campus.gpus), { id: "campus-gpus", "data-gpus": String(r.campus.gpus) }),
    fig("Busy GPUs", n0(r.campus.busy_gpus)),
    fig("Jobs running / pending", `${n0(r.running_jobs)} / ${n0(r.pending_jobs)}`),
    fig("IT MW", p ? n1(p.it_kw / 1000) : "no reading yet"),
    fig("Facility MW", p ? n1(p.facility_kw / 1000) : "no reading yet"),
    fig("PUE", pue ? pue.toFixed(3) : "n/a"),
    fig("ERCOT 4CP hour", p ? (p.four_cp ? "yes: likely peak" : "no") : "n/a"),
  );
  const tiles = clear($("campus-tiles"));
  const info = new Map((S.map ? S.map.buildings : []).map((b) => [b.name, b]));
  const shortfall = new Map((p ? p.shortfall_kw : []).map((s) => [s.building, s.kw]));
  for (const b of r.buildings) {
    const per = b.trays > 0 ? b.gpus / b.trays : 0;
    const down = Math.round(b.trays_down * per);
    const drained = Math.round(b.trays_drained * per);
    const free = Math.max(0, b.free_gpus);
    const meta = info.get(b.name);
    const cap = meta ? meta.capacity_mw : null;
    const sf = shortfall.get(b.name) || 0;
    const alarms = [];
    const trays = (k) => `${n0(k)} tray${k === 1 ? "" : "s"}`;
    if (b.trays_down) alarms.push(`${trays(b.trays_down)} down`);
    if (b.trays_quarantined) alarms.push(`${trays(b.trays_quarantined)} quarantined`);
    if (sf > 0) alarms.push(`cooling short by ${n0(sf)} kW`);
    if (b.cap_kw != null) alarms.push(`power cap ${n0(b.cap_kw)} kW`);
    const bar = el("div", { class: "bar", "aria-hidden": "true" });
    for (const [cls, v] of [["busy", b.busy_gpus], ["free", free], ["drained", drained], ["down", down]]) {
      const seg = el("span", { class: `seg ${cls}` });
      seg.style.width = `${b.gpus > 0 ? (100 * v) / b.gpus : 0}%`;
      bar.append(seg);
    }
    tiles.append(el("li", { class: "tile", "data-building": b.name },
      el("h4", { text: b.name }),
      bar,
      el("dl", { class: "fields" },
        el("dt", { text: "GPUs" }), el("dd", { text: n0(b.gpus) }),
        el("dt", { text: "Busy" }), el("dd", { text: n0(b.busy_gpus) }),
        el("dt", { text: "Free" }), el("dd", { text: n0(free) }),
        el("dt", { text: "Down" }), el("dd", { text: n0(down) }),
        el("dt", { text: "Drained" }), el("dd", { text: n0(drained) }),
        el("dt", { text: "IT MW (projected)" }), el("dd", { text: `${n1(b.draw_kw / 1000)}${cap ? ` of ${n1(cap)}` : ""}` }),
        el("dt", { text: "Alarms" }), el("dd", { class: alarms.length ? "alarm" : "", text: alarms.length ? alarms.join("; ") : "none" }),
      )));
  }
  const tl = clear($("campus-timeline"));
  const phases = [...(S.map ? S.map.buildings : [])].sort((a, b) => a.commissioned.localeCompare(b.commissioned));
  for (const b of phases) {
    tl.append(el("li", {}, el("span", { class: "date", text: b.commissioned }), ` ${b.name} (phase ${b.phase}, ${n1(b.capacity_mw)} MW)`));
  }
}

// ---------------------------------------------------------------- rack map

const STATE_COLOURS = {
  busy: "#1d4ed8",
  partly_busy: "#7fb0f5",
  free: "#d1d5db",
  drained: "#b45309",
  down: "#dc2626",
  quarantined: "#7c3aed",
};
const STATE_LABELS = {
  busy: "Busy (half or more GPUs)",
  partly_busy: "Partly busy",
  free: "Free",
  drained: "Drained",
  down: "Down (a tray)",
  quarantined: "Quarantined (a tray)",
};

function rackState(m, i) {
  const r = m.racks;
  if (r.down[i] > 0) return "down";
  if (r.quarantined[i] > 0) return "quarantined";
  if (r.drained[i] > 0) return "drained";
  if (r.busy_gpus[i] === 0) return "free";
  return 2 * r.busy_gpus[i] >= r.gpus[i] ? "busy" : "partly_busy";
}

function setMap(m) {
  S.map = m;
  S.mapIndex = new Map(m.racks.name.map((n, i) => [n, i]));
}

async function loadMap() {
  if (!S.whole) { await loadTenantMap(); return; }
  $("map-operator").hidden = false;
  $("map-tenant").hidden = true;
  const t0 = performance.now();
  const text = await fetch("/v1/campus/map", { headers: { Authorization: `Bearer ${S.token}` }, cache: "no-store" })
    .then(async (r) => {
      if (!r.ok) {
        let b = {};
        try { b = await r.json(); } catch { /* not JSON */ }
        throw new ApiError(r.status, b.code || `http_${r.status}`, b.message || `HTTP ${r.status}`);
      }
      return r.text();
    });
  const arrived = performance.now();
  setMap(JSON.parse(text));
  drawMapMeasured(arrived, t0);
}

// The figure the lead asked for: from the data's arrival to the frame
// that shows it painted (the draw calls, then the next frame, then the
// task after it).
function drawMapMeasured(arrived) {
  const d0 = performance.now();
  drawMap();
  const drawn = performance.now();
  requestAnimationFrame(() => setTimeout(() => {
    const ms = performance.now() - arrived;
    if (S.figures.mapFirstRenderMs == null) S.figures.mapFirstRenderMs = ms;
    S.figures.mapLastRenderMs = ms;
    S.figures.mapDrawMs = drawn - d0;
    $("map-figures").textContent = `Map of ${n0(S.map.racks.name.length)} racks drawn in ${ms.toFixed(0)} ms (parse and draw ${(drawn - d0 + (d0 - arrived)).toFixed(0)} ms).`;
  }, 0));
}

function computeLayout(m, width) {
  const nb = m.buildings.length;
  const cols = Math.min(4, nb);
  const gap = 16;
  const bw = Math.floor((width - gap * (cols - 1)) / cols);
  const cell = Math.max(3, Math.min(12, Math.floor(bw / 44)));
  const perRow = Math.max(1, Math.floor(bw / cell));
  const label = 16;
  // Height of each building: its halls stacked, a gap row between halls.
  const hallsOf = Array.from({ length: nb }, () => []);
  m.halls.forEach((h, i) => hallsOf[h.building].push(i));
  const bh = hallsOf.map((hs) => label + hs.reduce((acc, h) => acc + Math.ceil(m.halls[h].racks / perRow) * cell + cell, 0));
  const rowsOfBuildings = Math.ceil(nb / cols);
  const rowH = [];
  for (let r = 0; r < rowsOfBuildings; r++) rowH.push(Math.max(...bh.slice(r * cols, r * cols + cols)));
  const x = new Float32Array(m.racks.name.length);
  const y = new Float32Array(m.racks.name.length);
  const blocks = [];
  let top = 0;
  for (let r = 0; r < rowsOfBuildings; r++) {
    for (let c = 0; c < cols; c++) {
      const b = r * cols + c;
      if (b >= nb) break;
      const left = c * (bw + gap);
      blocks.push({ b, left, top });
      let yy = top + label;
      for (const h of hallsOf[b]) {
        const hall = m.halls[h];
        for (let k = 0; k < hall.racks; k++) {
          const i = hall.first_rack + k;
          x[i] = left + (k % perRow) * cell;
          y[i] = yy + Math.floor(k / perRow) * cell;
        }
        yy += Math.ceil(hall.racks / perRow) * cell + cell;
      }
    }
    top += rowH[r] + gap;
  }
  return { x, y, cell, perRow, blocks, width, height: top - gap, shape: `${m.racks.name.length}/${width}` };
}

function lerpColour(a, b, t) {
  const pa = [1, 3, 5].map((k) => parseInt(a.slice(k, k + 2), 16));
  const pb = [1, 3, 5].map((k) => parseInt(b.slice(k, k + 2), 16));
  const c = pa.map((v, k) => Math.round(v + (pb[k] - v) * Math.max(0, Math.min(1, t))));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function rackColours(m, mode) {
  const n = m.racks.name.length;
  const out = new Array(n);
  const counts = {};
  let lo = Infinity, hi = -Infinity;
  if (mode === "state") {
    for (let i = 0; i < n; i++) {
      const s = rackState(m, i);
      counts[s] = (counts[s] || 0) + 1;
      out[i] = STATE_COLOURS[s];
    }
    return { out, counts };
  }
  const val = new Float64Array(n).fill(NaN);
  for (let i = 0; i < n; i++) {
    const v = mode === "power" ? m.racks.kw[i] : m.halls[m.racks.hall[i]].inlet_c;
    if (v != null) { val[i] = v; lo = Math.min(lo, v); hi = Math.max(hi, v); }
  }
  // Quantised to 16 steps: few distinct fill styles, few state changes.
  const steps = 16;
  const [from, to] = mode === "power" ? ["#e0ecff", "#1e3a8a"] : ["#dbeafe", "#b91c1c"];
  const palette = Array.from({ length: steps }, (_, k) => lerpColour(from, to, k / (steps - 1)));
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(val[i])) { out[i] = "#f3f4f6"; continue; }
    const t = hi > lo ? (val[i] - lo) / (hi - lo) : 0.5;
    out[i] = palette[Math.min(steps - 1, Math.floor(t * steps))];
  }
  return { out, counts, lo, hi, from, to };
}

function drawMap() {
  const m = S.map;
  const canvas = $("map-canvas");
  if (!m || $("view-map").hidden) return;
  const width = Math.max(320, canvas.parentElement.clientWidth);
  if (!S.layout || S.layout.shape !== `${m.racks.name.length}/${width}`) S.layout = computeLayout(m, width);
  const L = S.layout;
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(L.width * dpr) || canvas.height !== Math.round(L.height * dpr)) {
    canvas.width = Math.round(L.width * dpr);
    canvas.height = Math.round(L.height * dpr);
    canvas.style.width = `${L.width}px`;
    canvas.style.height = `${L.height}px`;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, L.width, L.height);
  ctx.fillStyle = "#111827";
  ctx.font = "bold 12px system-ui, sans-serif";
  for (const bl of L.blocks) ctx.fillText(m.buildings[bl.b].name, bl.left, bl.top + 12);
  const mode = $("map-colour").value;
  const { out, counts, lo, hi, from, to } = rackColours(m, mode);
  // One fill style at a time: racks grouped by colour.
  const groups = new Map();
  for (let i = 0; i < out.length; i++) {
    let g = groups.get(out[i]);
    if (!g) { g = []; groups.set(out[i], g); }
    g.push(i);
  }
  const s = L.cell > 4 ? L.cell - 1 : L.cell;
  for (const [colour, idx] of groups) {
    ctx.fillStyle = colour;
    for (const i of idx) ctx.fillRect(L.x[i], L.y[i], s, s);
  }
  if (S.selected >= 0 && S.selected < out.length) {
    ctx.strokeStyle = "#000000";
    ctx.lineWidth = 2;
    ctx.strokeRect(L.x[S.selected] - 1, L.y[S.selected] - 1, s + 2, s + 2);
  }
  renderLegend(mode, counts, lo, hi, from, to);
  renderMapTable();
  const total = m.racks.name.length;
  const st = countStates(m);
  canvas.setAttribute("aria-label",
    `Rack map of ${n0(total)} racks in ${m.buildings.length} buildings: ${Object.entries(st).map(([k, v]) => `${n0(v)} ${STATE_LABELS[k].toLowerCase()}`).join(", ")}. The table below gives the counts per building; type a rack name to see its trays.`);
}

function countStates(m) {
  const st = { busy: 0, partly_busy: 0, free: 0, drained: 0, down: 0, quarantined: 0 };
  for (let i = 0; i < m.racks.name.length; i++) st[rackState(m, i)]++;
  return st;
}

function renderLegend(mode, counts, lo, hi, from, to) {
  const ul = clear($("map-legend"));
  if (mode === "state") {
    for (const k of Object.keys(STATE_COLOURS)) {
      const sw = el("span", { class: "swatch", "aria-hidden": "true" });
      sw.style.background = STATE_COLOURS[k];
      ul.append(el("li", {}, sw, `${STATE_LABELS[k]}: ${n0(counts[k] || 0)}`));
    }
    return;
  }
  const unit = mode === "power" ? "kW" : "°C inlet";
  if (!Number.isFinite(lo)) { ul.append(el("li", { text: "No readings from the fleet yet." })); return; }
  for (const [c, v] of [[from, lo], [to, hi]]) {
    const sw = el("span", { class: "swatch", "aria-hidden": "true" });
    sw.style.background = c;
    ul.append(el("li", {}, sw, `${n1(v)} ${unit}`));
  }
}

function renderMapTable() {
  const m = S.map;
  const tb = clear($("map-table").tBodies[0]);
  const per = m.buildings.map(() => ({ racks: 0, busy: 0, free: 0, drained: 0, down: 0, quarantined: 0, gb: 0, g: 0 }));
  for (let i = 0; i < m.racks.name.length; i++) {
    const p = per[m.racks.building[i]];
    const s = rackState(m, i);
    p.racks++;
    if (s === "busy" || s === "partly_busy") p.busy++; else p[s]++;
    p.gb += m.racks.busy_gpus[i];
    p.g += m.racks.gpus[i];
  }
  per.forEach((p, b) => {
    tb.append(el("tr", {}, el("th", { scope: "row", text: m.buildings[b].name }),
      ...[p.racks, p.busy, p.free, p.drained, p.down, p.quarantined].map((v) => el("td", { text: n0(v) })),
      el("td", { text: `${n0(p.gb)} of ${n0(p.g)}` })));
  });
}

function rackAt(px, py) {
  const L = S.layout;
  const m = S.map;
  if (!L || !m) return -1;
  for (let i = 0; i < m.racks.name.length; i++) {
    if (px >= L.x[i] && px < L.x[i] + L.cell && py >= L.y[i] && py < L.y[i] + L.cell) return i;
  }
  return -1;
}

function selectRack(i, open) {
  if (!S.map || i < 0 || i >= S.map.racks.name.length) return;
  S.selected = i;
  const r = S.map.racks;
  $("map-figures").textContent = `Selected ${r.name[i]}: ${STATE_LABELS[rackState(S.map, i)]}, ${r.busy_gpus[i]} of ${r.gpus[i]} GPUs busy.`;
  onFrame(drawMap);
  if (open) showRack(r.name[i]);
}

async function showRack(name) {
  const sec = $("rack-detail");
  sec.hidden = false;
  $("rack-h").textContent = `Rack ${name}`;
  const tb = $("rack-trays");
  emptyRow(tb, 5, "Loading...");
  $("rack-actions").hidden = !S.can.hardware;
  sec.dataset.rack = name;
  try {
    const v = await api(`/v1/racks/${rackPath(name)}`);
    clear(tb);
    $("rack-caption").textContent = `Trays of ${v.name} (${v.sku})`;
    for (const t of v.trays) {
      const jobs = el("span");
      t.jobs.forEach((j, k) => {
        if (k) jobs.append(", ");
        jobs.append(el("a", { href: `#/jobs/${j}`, text: String(j) }));
      });
      tb.append(el("tr", { "data-condition": t.condition },
        el("td", { text: t.name }), el("td", { text: t.condition }),
        el("td", { text: `${t.busy_gpus} of ${t.gpus}` }), el("td", {}, jobs), el("td", { text: t.drain_reason || "" })));
    }
  } catch (e) {
    emptyRow(tb, 5, `Could not read rack ${name}: ${errText(e)}`);
  }
}

async function rackCommand(name, what, reason) {
  const body = what === "drain" ? { reason: reason || "drained from the dashboard" } : {};
  await api(`/v1/racks/${rackPath(name)}/${what}`, { method: "POST", body, idempotent: true });
}

async function loadTenantMap() {
  $("map-operator").hidden = true;
  $("map-tenant").hidden = false;
  const halls = new Map();
  let after = null;
  for (let page = 0; page < 20; page++) {
    const q = `/v1/jobs?state=running&limit=1000${after != null ? `&after=${after}` : ""}`;
    const p = await api(q);
    for (const j of p.jobs) {
      for (const [h, t] of (j.placement && j.placement.halls) || []) {
        const e = halls.get(h) || { trays: 0, jobs: 0 };
        e.trays += t;
        e.jobs += 1;
        halls.set(h, e);
      }
    }
    if (p.next == null) break;
    after = p.next;
  }
  const tb = $("map-tenant-halls");
  if (!halls.size) { emptyRow(tb, 3, "None of your jobs is running."); return; }
  clear(tb);
  for (const [h, e] of [...halls].sort()) tb.append(row(h, n0(e.trays), n0(e.jobs)));
}

// ---------------------------------------------------------------- jobs

async function loadJobs() {
  const state = $("jobs-state").value;
  const tenant = $("jobs-tenant").value.trim();
  let q = `/v1/jobs?limit=50`;
  if (state) q += `&state=${encodeURIComponent(state)}`;
  if (tenant) q += `&tenant=${encodeURIComponent(tenant)}`;
  if (S.jobsAfter != null) q += `&after=${S.jobsAfter}`;
  const tb = $("jobs-table").tBodies[0];
  let p;
  try {
    p = await api(q);
  } catch (e) {
    emptyRow(tb, 7, `Could not list jobs: ${errText(e)}`);
    return;
  }
  S.jobsNext = p.next == null ? null : p.next;
  clear(tb);
  if (!p.jobs.length) emptyRow(tb, 7, "No jobs.");
  for (const j of p.jobs) {
    const what = j.state === "pending" ? (j.pending_reason || "pending") : (j.placement ? placementText(j.placement) : j.outcome || "");
    tb.append(el("tr", { "data-job-id": String(j.id), "data-project": j.project },
      el("td", {}, el("a", { href: `#/jobs/${j.id}`, text: String(j.id) })),
      el("td", { text: j.project }), el("td", { text: j.kind }), el("td", { text: n0(j.gpus) }),
      el("td", { text: j.priority || "" }), el("td", { text: j.state }), el("td", { text: what })));
  }
  $("jobs-next").disabled = S.jobsNext == null;
  $("jobs-first").disabled = S.jobsAfter == null;
  $("jobs-page").textContent = `Page ${S.jobsPages.length + 1}${S.jobsNext == null ? " (last)" : ""}`;
  $("jobs-submit").hidden = !S.can.submit;
  renderRecent();
}

async function showJob(id) {
  const sec = $("job-detail");
  sec.hidden = false;
  const dl = clear($("job-fields"));
  const hist = clear($("job-history"));
  $("job-h").textContent = `Job ${id}`;
  $("job-cancel").hidden = true;
  if (!/^[0-9]{1,19}$/.test(id)) { dl.append(el("dd", { text: `"${id}" is not a job id (digits only).` })); return; }
  let j;
  try {
    j = await api(`/v1/jobs/${id}`);
  } catch (e) {
    dl.append(el("dd", { class: "error", text: e.status === 404 ? `Job ${id} is not known to this token.` : errText(e) }));
    return;
  }
  const add = (k, v) => dl.append(el("dt", { text: k }), el("dd", { text: v == null ? "" : String(v) }));
  add("Project", j.project);
  add("State", j.state + (j.outcome ? ` (${j.outcome})` : ""));
  add("Kind", j.kind);
  add("GPUs", n0(j.gpus));
  add("SKU", j.sku);
  if (j.priority) add("Priority", j.priority);
  if (j.pending_reason) add("Pending because", j.pending_reason);
  if (j.placement) add("Placement", `${placementText(j.placement)}; trays per hall ${j.placement.halls.map(([h, t]) => `${h} ${n0(t)}`).join(", ")}`);
  add("Submitted", campusTime(j.submitted));
  if (j.finished != null) add("Finished", campusTime(j.finished));
  for (const h of (j.history && j.history.entries) || []) {
    const extra = Object.entries(h).filter(([k]) => k !== "at" && k !== "what").map(([k, v]) => `${k} ${v}`).join(", ");
    hist.append(el("li", { text: `${campusTime(h.at)}: ${h.what}${extra ? ` (${extra})` : ""}` }));
  }
  if (!hist.firstChild) hist.append(el("li", { text: "No history kept." }));
  if (S.can.submit && (j.state === "pending" || j.state === "running")) {
    const b = $("job-cancel");
    b.hidden = false;
    b.dataset.job = String(j.id);
  }
}

function onEventForRecent(kind, data) {
  const body = data[kind] || {};
  const job = body.job;
  if (job == null) return;
  let detail = "";
  if (kind === "started" && body.placement) detail = `${n0(body.placement.gpus)} GPUs in ${body.placement.buildings} building(s), ${body.placement.domains} NVLink domains`;
  else if (kind === "pending" && body.reason) detail = typeof body.reason === "string" ? body.reason : Object.keys(body.reason)[0];
  else if (kind === "finished") detail = body.outcome || "";
  S.recent.unshift({ job, kind, at: data.at, detail });
  if (S.recent.length > 50) S.recent.length = 50;
  if (S.view === "jobs") onFrame(renderRecent);
}

function renderRecent() {
  const tb = $("jobs-recent").tBodies[0];
  if (!S.recent.length) { emptyRow(tb, 4, "Waiting for job events..."); return; }
  clear(tb);
  for (const r of S.recent) {
    tb.append(el("tr", { "data-job-id": String(r.job) },
      el("td", {}, el("a", { href: `#/jobs/${r.job}`, text: String(r.job) })),
      el("td", { text: r.kind }), el("td", { text: campusTime(r.at) }), el("td", { text: r.detail })));
  }
}

async function loadTenantNames() {
  try {
    const t = await api("/v1/tenants");
    const dl = clear($("tenant-names"));
    for (const n of t) dl.append(el("option", { value: n.name }));
  } catch { /* the list is a convenience */ }
}

// ---------------------------------------------------------------- tenancy

async function loadTenancy() {
  const tb = $("tenancy-table").tBodies[0];
  let t;
  try {
    t = await api("/v1/tenants");
  } catch (e) {
    emptyRow(tb, 7, `Could not read the tenancy tree: ${errText(e)}`);
    return;
  }
  clear(tb);
  const base = t.length ? t[0].depth : 0;
  for (const n of t) {
    const skus = n.skus.length ? n.skus : [null];
    skus.forEach((s, k) => {
      const name = el("th", { scope: "row", class: `depth-${Math.min(6, n.depth - base)}`, text: k ? "" : `${n.name}${n.retired ? " (retired)" : ""}` });
      const use = el("td");
      if (s) {
        use.append(`${n0(s.usage)} / ${n0(s.guarantee)} `);
        if (s.guarantee > 0) use.append(el("meter", { min: 0, max: s.guarantee, value: Math.min(s.usage, s.guarantee), high: s.guarantee * 0.95, "aria-label": `${n.name} ${s.sku}: usage of guarantee` }));
      }
      tb.append(el("tr", { "data-tenant": n.name }, name,
        el("td", { text: k ? "" : String(n.weight) }), el("td", { text: k ? "" : n0(n.live_jobs) }),
        el("td", { text: s ? s.sku : "no SKUs" }), use,
        el("td", { text: s ? n0(s.borrowed) : "" }), el("td", { text: s ? (s.borrow_limit == null ? "none" : n0(s.borrow_limit)) : "" })));
    });
  }
}

// ---------------------------------------------------------------- power

async function loadPower() {
  const c = await api("/v1/campus");
  S.campus = c;
  const p = c.plant;
  const now = clear($("power-now"));
  const fig = (label, value) => el("div", { class: "fig" }, el("span", { class: "fig-l", text: label }), el("span", { class: "fig-v", text: value }));
  if (p) {
    now.append(fig("IT MW", n1(p.it_kw / 1000)), fig("Facility MW", n1(p.facility_kw / 1000)),
      fig("PUE", p.it_kw > 0 ? (p.facility_kw / p.it_kw).toFixed(3) : "n/a"),
      fig("On-site generation MW", n1(p.own_generation_mw)), fig("4CP hour", p.four_cp ? "yes" : "no"));
  } else {
    now.append(fig("Plant", "no reading yet"));
  }
  const last = S.plant.length ? S.plant[S.plant.length - 1].at : null;
  let h = null;
  try {
    h = await api(`/v1/campus/plant${last != null ? `?after=${last}` : ""}`);
  } catch (e) {
    if (e.status === 404 && e.code === "not_found") { S.plantMissing = true; } else throw e;
  }
  if (h && Array.isArray(h.readings)) {
    S.plantMissing = false;
    S.plant = S.plant.concat(h.readings.filter((r) => last == null || r.at > last)).slice(-720);
  }
  $("power-empty").hidden = S.plant.length > 0;
  onFrame(drawPower);
}

const CHARTS = [
  { id: "it", title: "IT and facility MW", series: [["it_mw", "IT MW", "#1d4ed8"], ["facility_mw", "Facility MW", "#b91c1c"]] },
  { id: "pue", title: "PUE against ambient temperature", series: [["pue", "PUE", "#15803d"]], right: [["ambient_c", "Ambient °C", "#9a3412"]] },
  { id: "grid", title: "Grid, gas and battery MW", series: [["grid_mw", "Grid MW", "#1d4ed8"], ["gas_mw", "Gas MW", "#6b21a8"], ["battery_mw", "Battery MW", "#047857"]] },
  { id: "price", title: "Price (USD/MWh); 4CP hours shaded", series: [["price_usd_per_mwh", "Price", "#111827"]], shade: "four_cp" },
];

function drawPower() {
  const box = $("power-charts");
  const rs = S.plant;
  if (!rs.length) { clear(box); return; }
  for (const ch of CHARTS) {
    let fig = $(`chart-${ch.id}`);
    if (!fig) {
      const cv = el("canvas", { id: `chart-${ch.id}-canvas`, role: "img" });
      fig = el("figure", { id: `chart-${ch.id}` }, el("figcaption", { text: ch.title }), cv, el("ul", { class: "legend" }));
      box.append(fig);
    }
    const cv = fig.querySelector("canvas");
    drawChart(cv, rs, ch);
    const last = rs[rs.length - 1];
    const all = [...ch.series, ...(ch.right || [])];
    cv.setAttribute("aria-label", `${ch.title}, ${rs.length} readings; latest: ${all.map(([k, l]) => `${l} ${n1(last[k])}`).join(", ")}`);
    const ul = clear(fig.querySelector("ul"));
    for (const [k, l, col] of all) {
      const sw = el("span", { class: "swatch", "aria-hidden": "true" });
      sw.style.background = col;
      ul.append(el("li", {}, sw, `${l}: ${n1(last[k])}`));
    }
  }
}

function drawChart(cv, rs, ch) {
  const w = Math.max(300, cv.parentElement.clientWidth || 600);
  const hgt = 180;
  const dpr = window.devicePixelRatio || 1;
  cv.width = w * dpr; cv.height = hgt * dpr;
  cv.style.width = `${w}px`; cv.style.height = `${hgt}px`;
  const ctx = cv.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, w, hgt);
  const pad = { l: 52, r: ch.right ? 52 : 12, t: 8, b: 22 };
  const t0 = rs[0].at, t1 = rs[rs.length - 1].at;
  const X = (t) => pad.l + (t1 > t0 ? ((t - t0) / (t1 - t0)) : 0.5) * (w - pad.l - pad.r);
  const range = (keys) => {
    let lo = Infinity, hi = -Infinity;
    for (const r of rs) for (const [k] of keys) { const v = r[k]; if (typeof v === "number") { lo = Math.min(lo, v); hi = Math.max(hi, v); } }
    if (!Number.isFinite(lo)) return [0, 1];
    if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
    return [lo, hi];
  };
  if (ch.shade) {
    ctx.fillStyle = "#fde68a";
    const step = rs.length > 1 ? (X(t1) - X(t0)) / (rs.length - 1) : 4;
    for (const r of rs) if (r[ch.shade]) ctx.fillRect(X(r.at) - step / 2, pad.t, Math.max(1, step), hgt - pad.t - pad.b);
  }
  const axis = (keys, side) => {
    const [lo, hi] = range(keys);
    const Y = (v) => hgt - pad.b - ((v - lo) / (hi - lo)) * (hgt - pad.t - pad.b);
    ctx.fillStyle = "#374151"; ctx.font = "11px system-ui, sans-serif";
    ctx.textAlign = side === "l" ? "right" : "left";
    for (const v of [lo, (lo + hi) / 2, hi]) ctx.fillText(v.toFixed(Math.abs(hi - lo) < 10 ? 2 : 0), side === "l" ? pad.l - 4 : w - pad.r + 4, Y(v) + 4);
    for (const [k, , col] of keys) {
      ctx.strokeStyle = col; ctx.lineWidth = 1.5; ctx.beginPath();
      let started = false;
      for (const r of rs) {
        const v = r[k];
        if (typeof v !== "number") { started = false; continue; }
        if (!started) { ctx.moveTo(X(r.at), Y(v)); started = true; } else ctx.lineTo(X(r.at), Y(v));
      }
      ctx.stroke();
      // One reading is a point, not a line: mark it.
      const pts = rs.filter((r) => typeof r[k] === "number");
      if (pts.length === 1) {
        ctx.fillStyle = col;
        ctx.beginPath();
        ctx.arc(X(pts[0].at), Y(pts[0][k]), 3, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
  };
  ctx.strokeStyle = "#9ca3af"; ctx.lineWidth = 1;
  ctx.strokeRect(pad.l, pad.t, w - pad.l - pad.r, hgt - pad.t - pad.b);
  axis(ch.series, "l");
  if (ch.right) axis(ch.right, "r");
  ctx.fillStyle = "#374151"; ctx.textAlign = "left";
  ctx.fillText(campusTime(t0), pad.l, hgt - 6);
  ctx.textAlign = "right";
  ctx.fillText(campusTime(t1), w - pad.r, hgt - 6);
}

// ---------------------------------------------------------------- operations

async function loadOps() {
  $("ops-hardware").hidden = !S.can.hardware;
  $("ops-audit").hidden = !S.can.audit;
  if (!S.can.audit) return;
  let q = `/v1/audit?limit=50`;
  if (S.auditAfter != null) q += `&after=${S.auditAfter}`;
  if ($("audit-refused").checked) q += `&refused=true`;
  const tb = $("audit-table").tBodies[0];
  let p;
  try {
    p = await api(q);
  } catch (e) {
    emptyRow(tb, 7, `Could not read the audit log: ${errText(e)}`);
    return;
  }
  S.auditNext = p.next == null ? null : p.next;
  clear(tb);
  if (!p.records.length) emptyRow(tb, 7, "No records.");
  for (const r of p.records) {
    tb.append(row(r.seq, new Date(r.at_ms).toISOString().replace("T", " ").slice(0, 19),
      r.token_name || r.token || "(none)", r.role || "", `${r.method} ${r.path}`, r.what, `${r.status}${r.code ? ` ${r.code}` : ""}`));
  }
  $("audit-next").disabled = S.auditNext == null;
  $("audit-first").disabled = S.auditAfter == null;
}

const LOADERS = { campus: loadCampus, map: loadMap, jobs: loadJobs, tenancy: loadTenancy, power: loadPower, ops: loadOps };

// ---------------------------------------------------------------- events

function setLive(text) { $("live").textContent = text; }

function startStream() {
  const gen = ++S.streamGen;
  if (S.stream) S.stream.abort();
  runStream(gen);
}

async function runStream(gen) {
  let backoff = 500;
  while (S.token && gen === S.streamGen) {
    const ctrl = new AbortController();
    S.stream = ctrl;
    let gotAny = false;
    try {
      const headers = { Authorization: `Bearer ${S.token}`, Accept: "text/event-stream" };
      if (S.lastEventId) headers["Last-Event-ID"] = S.lastEventId;
      S.resumedFrom = S.lastEventId;
      S.connects = (S.connects || 0) + 1;
      const r = await fetch("/v1/events", { headers, signal: ctrl.signal, cache: "no-store" });
      if (r.status === 401) { logout("The server refused the token on the event stream."); return; }
      if (r.status === 410) {
        // Events after our last one are gone: start from now, reload all.
        S.lastEventId = null;
        invalidate(...VIEWS);
        continue;
      }
      if (r.status === 403) { setLive("Live updates: not allowed for this role"); return; }
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      setLive("Live: connected");
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value.replace(/\r\n?/g, "\n");
        let cut;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          if (dispatchSse(block)) gotAny = true;
        }
      }
    } catch (e) {
      if (gen !== S.streamGen) return;
    }
    if (gen !== S.streamGen) return;
    if (gotAny) backoff = 500;
    const wait = backoff + Math.floor(Math.random() * 250);
    setLive(`Live: reconnecting in ${(wait / 1000).toFixed(1)} s`);
    await new Promise((res) => setTimeout(res, wait));
    backoff = Math.min(backoff * 2, 15000);
  }
}

function dispatchSse(block) {
  let id = null, event = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const i = line.indexOf(":");
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? "" : line.slice(i + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "id") id = value;
    else if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length && id == null) return false;
  if (id) S.lastEventId = id;
  let parsed = {};
  try { parsed = JSON.parse(data.join("\n")); } catch { parsed = {}; }
  onEvent(event, parsed);
  return true;
}

function onEvent(kind, data) {
  S.eventCount = (S.eventCount || 0) + 1;
  if (kind === "events_lost") { S.lastEventId = null; invalidate(...VIEWS); return; }
  if (JOB_EVENTS.has(kind)) {
    onEventForRecent(kind, data);
    invalidate("jobs", "campus", "map", "tenancy");
  } else if (TRAY_EVENTS.has(kind)) {
    invalidate("map", "campus", "jobs");
  } else if (kind === "power_cap") {
    invalidate("campus", "power", "jobs");
  } else if (kind.startsWith("tenant_") || kind === "guarantee_changed") {
    invalidate("tenancy");
  }
  invalidate("ops");
}

// ---------------------------------------------------------------- wiring

function wire() {
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const t = $("login-token").value.trim();
    if (!t) return;
    login(t, true);
  });
  $("logout").addEventListener("click", () => logout(null));
  $("map-colour").addEventListener("change", () => onFrame(drawMap));
  $("map-controls").addEventListener("submit", (e) => {
    e.preventDefault();
    const name = $("map-search").value.trim().toUpperCase();
    const i = S.mapIndex ? S.mapIndex.get(name) : undefined;
    if (i === undefined) {
      $("map-figures").textContent = `No rack named "${name}" (racks are named like B1/H1/R0001).`;
      return;
    }
    selectRack(i, true);
  });
  const canvas = $("map-canvas");
  canvas.addEventListener("click", (e) => {
    const b = canvas.getBoundingClientRect();
    const i = rackAt(e.clientX - b.left, e.clientY - b.top);
    if (i >= 0) selectRack(i, true);
  });
  canvas.addEventListener("keydown", (e) => {
    if (!S.map || !S.layout) return;
    let i = S.selected < 0 ? 0 : S.selected;
    const per = S.layout.perRow;
    const n = S.map.racks.name.length;
    switch (e.key) {
      case "ArrowRight": i = Math.min(n - 1, i + 1); break;
      case "ArrowLeft": i = Math.max(0, i - 1); break;
      case "ArrowDown": i = Math.min(n - 1, i + per); break;
      case "ArrowUp": i = Math.max(0, i - per); break;
      case "Enter": case " ": selectRack(i, true); e.preventDefault(); return;
      default: return;
    }
    e.preventDefault();
    selectRack(i, false);
  });
  // The map's width follows its box (which a scroll bar appearing
  // narrows): lay it out again when the box changes.
  let mapWidth = 0;
  new ResizeObserver((entries) => {
    const w = Math.round(entries[0].contentRect.width);
    if (w === mapWidth) return;
    mapWidth = w;
    S.layout = null;
    onFrame(drawMap);
  }).observe(canvas.parentElement);
  window.addEventListener("resize", () => { if (S.view === "power") onFrame(drawPower); });
  for (const [id, what] of [["rack-drain", "drain"], ["rack-resume", "resume"]]) {
    $(id).addEventListener("click", async () => {
      const name = $("rack-detail").dataset.rack;
      try {
        await rackCommand(name, what, $("rack-reason").value.trim());
        $("map-figures").textContent = `${what === "drain" ? "Drained" : "Resumed"} ${name}.`;
        showRack(name);
        refresh("map", true);
      } catch (e) {
        $("map-figures").textContent = `Could not ${what} ${name}: ${errText(e)}`;
      }
    });
  }
  $("jobs-filter").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = $("jobs-id").value.trim();
    S.jobsAfter = null; S.jobsPages = [];
    if (id) location.hash = `#/jobs/${id}`;
    refresh("jobs", true);
  });
  $("jobs-next").addEventListener("click", () => {
    if (S.jobsNext == null) return;
    S.jobsPages.push(S.jobsAfter);
    S.jobsAfter = S.jobsNext;
    refresh("jobs", true);
  });
  $("jobs-first").addEventListener("click", () => { S.jobsAfter = null; S.jobsPages = []; refresh("jobs", true); });
  $("job-cancel").addEventListener("click", async () => {
    const id = $("job-cancel").dataset.job;
    try {
      await api(`/v1/jobs/${id}/cancel`, { method: "POST", idempotent: true });
      $("submit-msg").textContent = `Job ${id} cancelled.`;
      showJob(id);
      refresh("jobs", true);
    } catch (e) {
      $("submit-msg").textContent = `Could not cancel job ${id}: ${errText(e)}`;
    }
  });
  $("submit-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {
      project: $("submit-project").value.trim(),
      gpus: Number($("submit-gpus").value),
      runtime_s: Number($("submit-runtime").value),
      kind: $("submit-kind").value,
      priority: $("submit-priority").value,
      preemptible: $("submit-preemptible").checked,
    };
    const msg = $("submit-msg");
    msg.textContent = "Submitting...";
    try {
      const j = await api("/v1/jobs", { method: "POST", body, idempotent: true });
      msg.textContent = `Job ${j.id} submitted: ${j.state || "accepted"}${j.pending_reason ? ` (${j.pending_reason})` : ""}.`;
      refresh("jobs", true);
    } catch (err) {
      msg.textContent = `Not submitted: ${errText(err)}`;
    }
  });
  $("ops-rack-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const what = e.submitter && e.submitter.value === "resume" ? "resume" : "drain";
    const name = $("ops-rack").value.trim().toUpperCase();
    const msg = $("ops-msg");
    if (what === "drain" && !$("ops-reason").value.trim()) { msg.textContent = "A drain needs a reason."; $("ops-reason").focus(); return; }
    try {
      await rackCommand(name, what, $("ops-reason").value.trim());
      msg.textContent = `${what === "drain" ? "Drained" : "Resumed"} ${name}.`;
      refresh("ops", true);
    } catch (err) {
      msg.textContent = `Could not ${what} ${name}: ${errText(err)}`;
    }
  });
  $("ops-cap-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const scope = $("ops-cap-scope").value.trim();
    const raw = $("ops-cap-kw").value.trim();
    const msg = $("ops-msg");
    try {
      await api("/v1/power-caps", { method: "POST", body: { scope, kw: raw === "" ? null : Number(raw) }, idempotent: true });
      msg.textContent = raw === "" ? `Lifted the cap on ${scope}.` : `Capped ${scope} at ${raw} kW.`;
      refresh("ops", true);
    } catch (err) {
      msg.textContent = `Could not set the cap: ${errText(err)}`;
    }
  });
  $("audit-refused").addEventListener("change", () => { S.auditAfter = null; S.auditPages = []; refresh("ops", true); });
  $("audit-next").addEventListener("click", () => {
    if (S.auditNext == null) return;
    S.auditPages.push(S.auditAfter);
    S.auditAfter = S.auditNext;
    refresh("ops", true);
  });
  $("audit-first").addEventListener("click", () => { S.auditAfter = null; S.auditPages = []; refresh("ops", true); });
}

// For the browser tests: read-only views of what the page holds.
window.abileneDebug = {
  rackState(name) {
    if (!S.map || !S.mapIndex) return null;
    const i = S.mapIndex.get(name);
    return i === undefined ? null : rackState(S.map, i);
  },
  mapSeq: () => (S.map ? S.map.seq : null),
  figures: () => ({ ...S.figures }),
  view: () => S.view,
  loggedIn: () => S.who != null,
  eventCount: () => S.eventCount || 0,
  liveState: () => $("live").textContent,
  lastEventId: () => S.lastEventId,
  // The stream's connections so far, and the Last-Event-ID the latest sent.
  connects: () => S.connects || 0,
  resumedFrom: () => S.resumedFrom || null,
  // Drops the stream's connection as a network failure would.
  dropStream: () => { if (S.stream) S.stream.abort(); return true; },
};

function boot() {
  wire();
  const fromFragment = readFragmentToken();
  const token = fromFragment || sessionStorage.getItem(TOKEN_KEY);
  if (token) login(token, false);
  else showLogin();
}

boot();
