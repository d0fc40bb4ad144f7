// The observatory view: /metrics/summary and /metrics/recent polled once a second while the
// view is open (and not paused): totals, rates, percentiles, scheduler, a waterfall of requests.

import {
  $,
  el,
  fmtBytes,
  fmtClock,
  fmtMs,
  fmtRtf,
  fmtSeconds,
  getJSON,
} from "/ui/util.js";

const PERIOD_MS = 1000;
const RECENT = 50;
const RATE_WINDOW_MS = 60_000;

let active = false;
let paused = false;
let timer = 0;
let inFlight = false;
let selected = null; // id of the request shown in the detail panel
let lastRecent = null;
let seen = []; // {at, requests, errors} of each poll in the last minute, for the rates

export function initObservatory() {
  const pause = $("pause");
  pause.addEventListener("click", () => {
    paused = !paused;
    pause.setAttribute("aria-pressed", String(paused));
    pause.textContent = paused ? "▶ Resume" : "❚❚ Pause";
    $("live-dot").className = paused ? "live-dot" : "live-dot on";
    if (!paused) poll();
  });
  $("detail-close").addEventListener("click", () => select(null));
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") select(null);
  });
  window.addEventListener("themechange", () => lastRecent && drawChart(lastRecent.data));
}

export function setObservatoryActive(on) {
  active = on;
  clearTimeout(timer);
  if (on) poll();
}

async function poll() {
  clearTimeout(timer);
  if (!active || paused || inFlight) return;
  inFlight = true;
  try {
    const [summary, recent] = await Promise.all([
      getJSON("/metrics/summary"),
      getJSON(`/metrics/recent?limit=${RECENT}`).catch((err) => ({ error: err.message })),
    ]);
    renderSummary(summary);
    renderRecent(recent);
    $("live-dot").className = "live-dot on";
    $("obs-updated").textContent = `live · updated ${new Date().toLocaleTimeString([], { hour12: false })}`;
  } catch (err) {
    $("live-dot").className = "live-dot err";
    $("obs-updated").textContent = `cannot read metrics: ${err.message}`;
  } finally {
    inFlight = false;
    if (active && !paused) timer = setTimeout(poll, PERIOD_MS);
  }
}

// ------------------------------------------------------------------ summary

function set(id, text, cls) {
  const node = $(id);
  node.textContent = text;
  if (cls !== undefined) node.classList.toggle(cls[0], cls[1]);
}

/** Requests finished per second and the share that failed, from the counters' growth over
 *  the last minute of polls (as Prometheus' rate() reads them); null before a second poll. */
function rates(t) {
  const now = performance.now();
  if (seen.length && t.requests < seen[seen.length - 1].requests) seen = []; // counters restarted
  seen = seen.filter((p) => now - p.at <= RATE_WINDOW_MS);
  seen.push({ at: now, requests: t.requests, errors: t.error });
  const span = (now - seen[0].at) / 1000;
  const n = t.requests - seen[0].requests;
  return span > 0 ? { rps: n / span, errors: n ? (t.error - seen[0].errors) / n : 0 } : null;
}

function renderSummary(s) {
  const t = s.totals;
  const r = rates(t);
  set("st-active", String(s.active), ["hot", s.active > 0]);
  set("st-active-sub", `http ${s.active_by_transport.http} · ws ${s.active_by_transport.ws}`);
  set("st-total", t.requests.toLocaleString());
  set("st-total-sub", `ok ${t.ok} · cancelled ${t.cancelled}`);
  set("st-rps", r ? r.rps.toFixed(2) : "—");
  set("st-errors", t.error.toLocaleString(), ["bad", t.error > 0]);
  set("st-errors-sub", r ? `${(r.errors * 100).toFixed(1)}% of the last minute` : "");
  set("st-audio", fmtSeconds(t.audio_s));
  set("st-audio-sub", `http ${fmtSeconds(t.by_transport.http.audio_s)} · ws ${fmtSeconds(t.by_transport.ws.audio_s)}`);
  set("st-bytes", fmtBytes(t.bytes));
  set("st-uptime", `up ${fmtSeconds(s.uptime_s)}`);
  const p = s.percentiles;
  for (const k of ["p50", "p95", "p99"]) {
    set(`ttfb-${k}`, fmtMs(p.ttfb_ms[k]));
    set(`rtf-${k}`, fmtRtf(p.rtf[k]));
  }
  const m = s.model;
  $("obs-model").textContent = m
    ? `${m.model}${m.synthetic ? " · SYNTHETIC (noise)" : ""} · ${m.sample_rate} Hz · ${(m.providers || []).join(", ")}`
    : "model loading";
  renderScheduler(s.scheduler);
}

function renderScheduler(state) {
  const box = $("sched");
  if (!state) {
    box.replaceChildren(el("dt", {}, "state"), el("dd", {}, "model loading"));
    return;
  }
  const batches = Object.entries(state.batch_sizes || {})
    .sort((a, b) => Number(a[0]) - Number(b[0]))
    .map(([size, n]) => `${size}×${n}`)
    .join("  ");
  const rows = [
    ["streams", `${state.active_streams} active / ${state.max_streams} max · ${state.waiting_streams} waiting`],
    ["queued jobs", String(state.queued_jobs)],
    ["max batch", String(state.max_batch)],
    ["capacity", state.capacity_audio_s_per_s == null ? "not measured yet" : `${state.capacity_audio_s_per_s.toFixed(1)} s of audio per s`],
    ["lead", leadText(Object.values(state.stream_leads_s || {}))],
    ["underruns", String(state.underruns)],
    ["model calls", `${state.calls}${batches ? ` · by batch size ${batches}` : ""}`],
  ];
  box.replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

/** Audio buffered ahead of playback per open stream (0 also for streams not started yet). */
function leadText(leads) {
  if (!leads.length) return "— (no open stream)";
  const n = `${leads.length} stream${leads.length > 1 ? "s" : ""}`;
  if (leads.length === 1) return `${leads[0].toFixed(2)} s buffered · ${n}`;
  return `min ${Math.min(...leads).toFixed(2)} s · max ${Math.max(...leads).toFixed(2)} s · ${n}`;
}

// ------------------------------------------------------------------ waterfall

function renderRecent(recent) {
  const list = $("waterfall");
  if (recent.error) {
    list.replaceChildren(el("div", { class: "muted small empty" }, `Recent requests unavailable: ${recent.error}`));
    $("waterfall-empty").hidden = true;
    return;
  }
  lastRecent = recent;
  const rows = [...recent.active.slice().reverse(), ...recent.data];
  $("waterfall-empty").hidden = rows.length > 0;
  const scale = Math.max(1, ...rows.map((r) => r.total_ms || 0));
  list.replaceChildren(...rows.map((r) => row(r, scale)));
  drawChart(recent.data);
  if (selected != null) {
    const record = rows.find((r) => r.id === selected);
    if (record) showDetail(record);
  }
}

function row(r, scale) {
  const ttfb = r.ttfb_ms ?? (r.status === "active" ? r.total_ms : 0);
  const ttfbPct = (100 * Math.min(ttfb, r.total_ms)) / scale;
  const streamPct = (100 * Math.max(0, r.total_ms - ttfb)) / scale;
  const seg = (cls, left, width) => {
    const s = el("span", { class: cls });
    s.style.left = `${left}%`;
    s.style.width = `${Math.max(width, 0.4)}%`;
    return s;
  };
  const bar = el(
    "div",
    { class: "bar", title: `TTFB ${fmtMs(r.ttfb_ms)} · total ${fmtMs(r.total_ms)}` },
    seg("seg-ttfb", 0, ttfbPct),
    r.ttfb_ms != null ? seg("seg-stream", ttfbPct, streamPct) : null,
  );
  const node = el(
    "div",
    {
      class: `wf-row ${r.status}${r.id === selected ? " selected" : ""}`,
      role: "listitem",
      tabindex: "0",
      "data-id": String(r.id),
      "data-request-id": r.request_id,
      "data-status": r.status,
    },
    el("span", { class: "t" }, fmtClock(r.started)),
    el("span", { class: "tag" }, r.transport),
    el("span", { class: `status ${r.status}` }, r.status),
    el("span", { class: "vf" }, [r.voice, r.lang, r.format].filter(Boolean).join(" · ")),
    el("span", { class: "text", title: r.text }, r.text || (r.transport === "ws" ? "(streamed text)" : "")),
    bar,
    el("span", { class: "nums" }, `${fmtMs(r.ttfb_ms)} · ${fmtMs(r.total_ms)}`),
  );
  const open = () => select(r.id, r);
  node.addEventListener("click", open);
  node.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      open();
    }
  });
  return node;
}

function select(id, record) {
  selected = id;
  for (const n of document.querySelectorAll(".wf-row")) n.classList.toggle("selected", Number(n.dataset.id) === id);
  $("waterfall-body").classList.toggle("with-detail", id != null);
  if (id == null) $("detail").hidden = true;
  else showDetail(record);
}

function showDetail(r) {
  $("detail-id").textContent = `#${r.id}`;
  const fields = [
    ["status", r.status],
    ["transport", r.transport],
    ["request id", r.request_id],
    ["started", new Date(r.started * 1000).toLocaleString()],
    ["voice", r.voice],
    ["language", r.lang],
    ["format", r.format],
    ["text", `${r.text} (${r.text_chars} chars)`],
    ["TTFB", fmtMs(r.ttfb_ms)],
    ["total", fmtMs(r.total_ms)],
    ["audio", fmtSeconds(r.audio_s)],
    ["RTF", fmtRtf(r.rtf)],
    ["bytes", fmtBytes(r.bytes)],
    ["error", r.error || "—"],
  ];
  $("detail-body").replaceChildren(...fields.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v ?? "—")]));
  $("detail").hidden = false;
}

// ------------------------------------------------------------------ TTFB chart

function drawChart(records) {
  const canvas = $("ttfb-chart");
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
  const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
  canvas.width = width;
  canvas.height = height;
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, width, height);
  const points = records.filter((r) => r.ttfb_ms != null).reverse();
  if (!points.length) return;
  const css = getComputedStyle(document.documentElement);
  const max = Math.max(...points.map((r) => r.ttfb_ms)) * 1.1;
  const pad = 6 * ratio;
  const barW = Math.max(2 * ratio, (width - 2 * pad) / Math.max(points.length, 20) - ratio);
  points.forEach((r, i) => {
    const h = Math.max(ratio, (r.ttfb_ms / max) * (height - 2 * pad));
    g.fillStyle = css.getPropertyValue(r.status === "error" ? "--err" : r.status === "cancelled" ? "--cancel" : "--ttfb").trim();
    g.fillRect(pad + i * (barW + ratio), height - pad - h, barW, h);
  });
  g.fillStyle = css.getPropertyValue("--muted").trim();
  g.font = `${10 * ratio}px ui-monospace, monospace`;
  g.fillText(`max ${fmtMs(max / 1.1)}`, width - 90 * ratio, 12 * ratio);
}
