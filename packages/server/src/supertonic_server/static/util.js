// Small helpers shared by the console's modules: element lookup, storage, API requests.

export const STORE = {
  theme: "supertonic.theme",
  view: "supertonic.view",
  apiKey: "supertonic.apiKey",
  form: "supertonic.form",
};
export const $ = (id) => document.getElementById(id);

export function store(key, value) {
  try {
    if (value === undefined) return localStorage.getItem(key);
    if (value === null || value === "") localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // storage can be unavailable (private mode, file://): the page still works without it
  }
  return value;
}

export function apiKey() {
  return $("api-key").value.trim();
}

/** Headers for a request to this server: JSON, plus the API key if one was entered. */
export function authHeaders(extra = {}) {
  const headers = { ...extra };
  const key = apiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  return headers;
}

/** The OpenAI-style error message of a failed response (or its status line). */
export async function errorMessage(res) {
  try {
    const body = await res.json();
    if (body && body.error && body.error.message) return `${res.status}: ${body.error.message}`;
  } catch {
    // not JSON
  }
  return `${res.status} ${res.statusText}`;
}

export async function getJSON(path) {
  const res = await fetch(path, { headers: authHeaders(), cache: "no-store" });
  if (!res.ok) throw new Error(await errorMessage(res));
  return res.json();
}

// ------------------------------------------------------------------ formatting

export function fmtBytes(n) {
  if (n == null) return "—";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(2)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function fmtMs(ms) {
  if (ms == null || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export function fmtSeconds(s) {
  if (s == null || !Number.isFinite(s)) return "—";
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} m ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} m`;
}

export function fmtRtf(x) {
  return x == null || !Number.isFinite(x) ? "—" : x.toFixed(3);
}

export function fmtClock(unixSeconds) {
  return new Date(unixSeconds * 1000).toLocaleTimeString([], { hour12: false });
}

/** An element with attributes and children (text nodes for strings): no innerHTML anywhere. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat()) {
    if (child == null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
