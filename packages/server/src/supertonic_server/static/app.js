// Supertonic console entry point: theme, views, server status, the API helper.
// Plain ES modules served by the server itself; nothing is loaded from elsewhere.

import { initObservatory, setObservatoryActive } from "/ui/observatory.js";
import { initSpeak } from "/ui/speak.js";
import { $, STORE, getJSON, store } from "/ui/util.js";

const VIEWS = ["console", "observatory"];

// ------------------------------------------------------------------ theme

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  $("theme-toggle").textContent = theme === "dark" ? "☀" : "☾";
  $("theme-toggle").title = theme === "dark" ? "Switch to light theme" : "Switch to dark theme";
}

function initTheme() {
  applyTheme(store(STORE.theme) === "light" ? "light" : "dark");
  $("theme-toggle").addEventListener("click", () => {
    const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
    store(STORE.theme, next);
    applyTheme(next);
    window.dispatchEvent(new Event("themechange"));
  });
}

// ------------------------------------------------------------------ views

export function showView(view) {
  if (!VIEWS.includes(view)) view = "console";
  for (const v of VIEWS) {
    $(`view-${v}`).hidden = v !== view;
    $(`tab-${v}`).setAttribute("aria-selected", String(v === view));
  }
  store(STORE.view, view);
  if (location.hash !== `#${view}`) history.replaceState(null, "", `#${view}`);
  setObservatoryActive(view === "observatory");
}

function initViews() {
  for (const v of VIEWS) $(`tab-${v}`).addEventListener("click", () => showView(v));
  window.addEventListener("hashchange", () => showView(location.hash.slice(1)));
  const fromHash = location.hash.slice(1);
  showView(VIEWS.includes(fromHash) ? fromHash : store(STORE.view) || "console");
}

// ------------------------------------------------------------------ server status

let lastHealth = null;

function renderHealth(health) {
  const pill = $("server-status");
  const banner = $("banner-status");
  $("banner-synthetic").hidden = health.synthetic !== true;
  $("version").textContent = health.version ? `v${health.version}` : "";
  if (health.status === "ok") {
    pill.textContent = `ready · ${(health.providers || []).join(", ").replace(/ExecutionProvider/g, "") || "?"}`;
    pill.className = "pill ok";
    banner.hidden = true;
  } else {
    pill.textContent = health.status;
    pill.className = health.status === "loading" ? "pill busy" : "pill err";
    banner.hidden = false;
    banner.textContent =
      health.status === "loading"
        ? "The model is loading and warming up; this page fills in once it is ready."
        : `The server is ${health.status}${health.error ? `: ${health.error}` : ""}.`;
  }
}

async function pollHealth(onReady) {
  try {
    const health = await getJSON("/healthz");
    lastHealth = health;
    renderHealth(health);
    if (health.status === "ok") {
      onReady(health);
      return;
    }
    if (health.status === "failed") return;
  } catch (err) {
    $("server-status").textContent = "unreachable";
    $("server-status").className = "pill err";
    $("banner-status").hidden = false;
    $("banner-status").textContent = `Cannot reach the server (${err.message}); retrying…`;
  }
  setTimeout(() => pollHealth(onReady), 1500);
}

export function health() {
  return lastHealth;
}

// ------------------------------------------------------------------ boot

async function boot() {
  initTheme();
  const keyInput = $("api-key");
  keyInput.value = store(STORE.apiKey) || "";
  keyInput.addEventListener("change", () => store(STORE.apiKey, keyInput.value.trim()));

  let config = null;
  try {
    config = await getJSON("/ui/config.json");
  } catch (err) {
    console.error("could not read /ui/config.json", err);
  }
  const speak = initSpeak(config);
  initObservatory();
  initViews();
  pollHealth((h) => speak.ready(h));
}

boot();
