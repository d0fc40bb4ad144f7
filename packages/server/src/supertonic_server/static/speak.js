// The console view: the request form, the streamed call to POST /v1/audio/speech with live
// TTFB and byte counters, playback (while streaming where the browser can), waveform, download.

import { livePlayback, pcmToWav } from "/ui/playback.js";
import { initSnippets } from "/ui/snippets.js";
import {
  $,
  STORE,
  authHeaders,
  el,
  errorMessage,
  fmtBytes,
  fmtMs,
  fmtRtf,
  fmtSeconds,
  getJSON,
  store,
} from "/ui/util.js";
import { Waveform } from "/ui/waveform.js";

export const LANGUAGES = {
  en: "English", ko: "Korean", ja: "Japanese", ar: "Arabic", bg: "Bulgarian", cs: "Czech",
  da: "Danish", de: "German", el: "Greek", es: "Spanish", et: "Estonian", fi: "Finnish",
  fr: "French", hi: "Hindi", hr: "Croatian", hu: "Hungarian", id: "Indonesian", it: "Italian",
  lt: "Lithuanian", lv: "Latvian", nl: "Dutch", pl: "Polish", pt: "Portuguese", ro: "Romanian",
  ru: "Russian", sk: "Slovak", sl: "Slovenian", sv: "Swedish", tr: "Turkish", uk: "Ukrainian",
  vi: "Vietnamese", na: "Other / fallback",
};
const FORMAT_LABELS = {
  mp3: "mp3",
  opus: "opus (Ogg)",
  aac: "aac (ADTS)",
  flac: "flac (lossless)",
  wav: "wav (16-bit)",
  pcm: "pcm (raw s16le)",
};
const EXTENSIONS = { mp3: "mp3", opus: "ogg", aac: "aac", flac: "flac", wav: "wav", pcm: "wav" };
const FALLBACK_CONFIG = {
  model: "supertonic-3",
  api_key_required: false,
  formats: ["mp3", "opus", "aac", "flac", "wav", "pcm"],
  speed_range: [0.5, 2.0],
  steps_range: [1, 32],
  defaults: { voice: "F1", lang: "en", speed: 1.05, steps: 8, first_chunk_steps: null, format: "mp3" },
  max_input_chars: 4096,
};

export function initSpeak(serverConfig) {
  const config = serverConfig || FALLBACK_CONFIG;
  const form = $("speak-form");
  const fields = {
    text: $("text"),
    voice: $("voice"),
    lang: $("lang"),
    format: $("format"),
    speed: $("speed"),
    steps: $("steps"),
    firstChunkSteps: $("first-chunk-steps"),
    normalize: $("normalize"),
    lexicon: $("lexicon"),
    pronunciations: $("pronunciations"),
    livePlay: $("live-play"),
  };
  const player = $("player");
  const waveform = new Waveform($("waveform"), player, $("wave-empty"));
  const snippets = initSnippets(config);
  let saved = {};
  try {
    saved = JSON.parse(store(STORE.form) || "{}") || {};
  } catch {
    saved = {};
  }
  let run = null; // the request in flight
  let objectUrl = null;
  let isReady = false;

  // --------------------------------------------------------------- form

  const [slo, shi] = config.speed_range;
  Object.assign(fields.speed, { min: slo, max: shi, value: saved.speed ?? config.defaults.speed });
  const [tlo, thi] = config.steps_range;
  Object.assign(fields.steps, { min: tlo, max: thi, value: saved.steps ?? config.defaults.steps });
  // Fast start: 0 on the slider is "off" (the first chunk gets as many steps as the rest).
  const firstSteps = saved.firstChunkSteps ?? config.defaults.first_chunk_steps ?? 0;
  Object.assign(fields.firstChunkSteps, { min: 0, max: thi, value: firstSteps });
  for (const f of config.formats) fields.format.append(el("option", { value: f }, FORMAT_LABELS[f] || f));
  fields.format.value = config.formats.includes(saved.format) ? saved.format : config.defaults.format;
  if (typeof saved.text === "string" && saved.text.trim()) fields.text.value = saved.text;
  if (typeof saved.livePlay === "boolean") fields.livePlay.checked = saved.livePlay;
  const normalizeDefault = config.defaults.normalize === false ? "off" : "on";
  fields.normalize.value = saved.normalize === "off" || saved.normalize === "on" ? saved.normalize : normalizeDefault;
  // Dictionaries: every one the server loaded (its default), none, or one by name.
  const lexicons = config.lexicons || [];
  fields.lexicon.replaceChildren(
    el("option", { value: "" }, lexicons.length ? "all the server's" : "none loaded (--lexicon)"),
    ...(lexicons.length ? [el("option", { value: "-" }, "none")] : []),
    ...lexicons.map((name) => el("option", { value: name }, name)),
  );
  fields.lexicon.disabled = !lexicons.length;
  fields.lexicon.value = lexicons.includes(saved.lexicon) || saved.lexicon === "-" ? saved.lexicon : "";
  if (typeof saved.pronunciations === "string") fields.pronunciations.value = saved.pronunciations;
  const keyNote = $("key-required");
  keyNote.textContent = config.api_key_required ? "(required by this server)" : "(not required)";
  keyNote.classList.toggle("required", config.api_key_required);
  $("speak").disabled = true;

  function values() {
    return {
      text: fields.text.value,
      voice: fields.voice.value || config.defaults.voice,
      lang: fields.lang.value || config.defaults.lang,
      format: fields.format.value,
      speed: Number(fields.speed.value),
      steps: Number(fields.steps.value),
      firstChunkSteps: Number(fields.firstChunkSteps.value),
      normalize: fields.normalize.value,
      lexicon: fields.lexicon.value,
      pronunciations: fields.pronunciations.value,
      livePlay: fields.livePlay.checked,
    };
  }

  function requestBody(v = values()) {
    const body = {
      model: config.model,
      input: v.text,
      voice: v.voice,
      response_format: v.format,
      speed: v.speed,
      lang: v.lang,
      total_steps: v.steps,
    };
    if (v.firstChunkSteps > 0) body.first_chunk_steps = v.firstChunkSteps;
    // Off, on a server whose default is a fast start: say "as many steps as the rest".
    else if (config.defaults.first_chunk_steps != null) body.first_chunk_steps = v.steps;
    if (v.normalize === "off") body.normalize = false;
    if (v.lexicon) body.lexicons = v.lexicon === "-" ? [] : [v.lexicon];
    const entries = respellings(v.pronunciations);
    if (entries && Object.keys(entries).length) body.pronunciations = entries;
    return body;
  }

  // "SQL = sequel" a line; a line without "=" marks the field invalid (the form then
  // refuses to submit and says why), so nothing typed is silently dropped.
  function respellings(text) {
    const entries = {};
    const bad = [];
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      const at = line.indexOf("=");
      const written = at < 0 ? "" : line.slice(0, at).trim();
      const spoken = at < 0 ? "" : line.slice(at + 1).trim();
      if (written && spoken) entries[written] = spoken;
      else bad.push(line.trim());
    }
    fields.pronunciations.setCustomValidity(
      bad.length ? `Write each respelling as written = spoken (not: ${bad[0]})` : "",
    );
    return bad.length ? null : entries;
  }

  function changed() {
    const v = values();
    $("speed-value").textContent = `${v.speed.toFixed(2)}×`;
    $("steps-value").textContent = String(v.steps);
    $("first-chunk-steps-value").textContent = v.firstChunkSteps > 0 ? String(v.firstChunkSteps) : "off";
    const n = v.text.length;
    const count = $("char-count");
    count.textContent = `${n.toLocaleString()} / ${config.max_input_chars.toLocaleString()} chars`;
    count.classList.toggle("over", n > config.max_input_chars);
    store(STORE.form, JSON.stringify(v));
    snippets.update(requestBody(v));
  }

  for (const f of Object.values(fields)) f.addEventListener("input", changed);
  $("api-key").addEventListener("input", changed);
  fields.text.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (isReady) speak();
  });
  $("stop").addEventListener("click", () => run && run.controller.abort());
  fields.pronunciations.addEventListener("invalid", () => showError(fields.pronunciations.validationMessage));
  changed();

  async function fillVoices(health) {
    let catalog = null;
    try {
      catalog = await getJSON("/v1/voices");
    } catch (err) {
      showError(`Could not list voices: ${err.message}`);
    }
    const details = catalog ? catalog.details : (health.voices || []).map((id) => ({ id, preset: id, kind: "preset" }));
    const groups = [
      ["OpenAI voices", "openai_alias", (d) => `${d.id} → ${d.preset}`],
      ["Supertonic presets", "preset", (d) => `${d.id} (${d.id[0] === "F" ? "female" : "male"} ${d.id.slice(1)})`],
      ["Custom voices", "custom", (d) => d.id],
    ];
    fields.voice.replaceChildren();
    for (const [label, kind, name] of groups) {
      const members = details.filter((d) => d.kind === kind);
      if (!members.length) continue;
      fields.voice.append(el("optgroup", { label }, members.map((d) => el("option", { value: d.id }, name(d)))));
    }
    const ids = details.map((d) => d.id);
    const preferred = [saved.voice, catalog && catalog.default, config.defaults.voice];
    fields.voice.value = preferred.find((v) => v && ids.includes(v)) || ids[0] || "";
  }

  function fillLanguages(health) {
    const codes = health.languages || [];
    const named = codes
      .filter((c) => c !== "na")
      .map((c) => [c, LANGUAGES[c] || c])
      .sort((a, b) => a[1].localeCompare(b[1]));
    fields.lang.replaceChildren(
      el("option", { value: "auto" }, "Detect from the text (auto)"),
      ...named.map(([c, n]) => el("option", { value: c }, `${n} (${c})`)),
      ...(codes.includes("na") ? [el("option", { value: "na" }, `${LANGUAGES.na} (na)`)] : []),
    );
    const preferred = [saved.lang, config.defaults.lang, "en"];
    fields.lang.value = preferred.find((c) => c && (c === "auto" || codes.includes(c))) || "auto";
  }

  // --------------------------------------------------------------- result panel

  function setState(text, kind) {
    const pill = $("result-state");
    pill.textContent = text;
    pill.className = `pill ${kind || ""}`;
  }

  function showError(message) {
    const box = $("speak-error");
    box.hidden = !message;
    box.textContent = message || "";
  }

  function resetReadouts() {
    for (const id of ["ttfb", "bytes", "elapsed", "duration", "rtf"]) {
      $(id).textContent = "—";
      $(id).classList.remove("live");
      delete $(id).dataset.ms;
    }
    $("response-meta").textContent = "";
    delete $("response-meta").dataset.requestId;
    showError("");
  }

  /** The player, download link and their blob shown only what the current request gave. */
  function clearPlayer() {
    player.pause();
    player.removeAttribute("src");
    player.load();
    $("download").hidden = true;
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = null;
  }

  function tick() {
    if (!run) return;
    const now = performance.now() - run.t0;
    $("elapsed").textContent = fmtMs(now);
    if (run.ttfb == null) $("ttfb").textContent = fmtMs(now);
  }

  function describe(res, v) {
    const h = (name) => res.headers.get(name);
    const parts = [
      `voice ${h("X-Voice") || v.voice}`,
      `lang ${h("X-Language") || v.lang}${h("X-Language-Detection") ? ` (${h("X-Language-Detection")})` : ""}`,
      `${h("X-Sample-Rate") || "?"} Hz`,
      h("Content-Type"),
      h("X-Request-ID") && `request ${h("X-Request-ID")}`,
    ];
    if (h("X-Synthetic-Model") === "true") parts.push("SYNTHETIC model (noise)");
    return parts.filter(Boolean).join(" · ");
  }

  // --------------------------------------------------------------- the request

  async function speak() {
    if (run) run.controller.abort();
    const v = values();
    resetReadouts();
    waveform.clear();
    clearPlayer();
    const current = {
      controller: new AbortController(),
      t0: performance.now(),
      ttfb: null,
      bytes: 0,
      live: null,
    };
    run = current;
    $("stop").disabled = false;
    $("ttfb").classList.add("live");
    setState("waiting…", "busy");
    const ticker = setInterval(tick, 47);
    const chunks = [];
    let outcome = "done";
    try {
      const res = await fetch("/v1/audio/speech", {
        method: "POST",
        headers: authHeaders({ "Content-Type": "application/json" }),
        body: JSON.stringify(requestBody(v)),
        signal: current.controller.signal,
      });
      if (!res.ok) {
        const message = await errorMessage(res);
        if (res.status === 401) $("api-key").focus();
        throw new Error(message);
      }
      $("response-meta").textContent = describe(res, v);
      $("response-meta").dataset.requestId = res.headers.get("X-Request-ID") || "";
      const rate = Number(res.headers.get("X-Sample-Rate")) || 24000;
      const mediaType = (res.headers.get("Content-Type") || "").split(";")[0].trim();
      if (v.livePlay) current.live = livePlayback(v.format, mediaType, rate, player);
      setState("streaming…", "busy");
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (current.ttfb == null) {
          current.ttfb = performance.now() - current.t0;
          $("ttfb").textContent = fmtMs(current.ttfb);
          $("ttfb").dataset.ms = String(Math.round(current.ttfb));
          $("ttfb").classList.remove("live");
          $("bytes").classList.add("live");
        }
        chunks.push(value);
        current.bytes += value.byteLength;
        $("bytes").textContent = fmtBytes(current.bytes);
        if (current.live) current.live.push(value);
      }
      if (current.live) current.live.end();
      const blob = v.format === "pcm" ? pcmToWav(chunks, rate) : new Blob(chunks, { type: mediaType || "application/octet-stream" });
      await present(blob, v, current);
    } catch (err) {
      if (current.live) current.live.stop();
      if (err.name === "AbortError") {
        outcome = "cancelled";
      } else {
        outcome = "error";
        showError(err.message);
        if (run === current) clearPlayer(); // a partial live clip is not the result
      }
    } finally {
      clearInterval(ticker);
      if (run === current) {
        tick();
        if (current.ttfb == null) $("ttfb").textContent = "—"; // no byte ever came
        run = null;
        $("stop").disabled = true;
        $("ttfb").classList.remove("live");
        $("bytes").classList.remove("live");
        setState(outcome, outcome === "done" ? "ok" : outcome === "cancelled" ? "cancelled" : "err");
      }
    }
  }

  async function present(blob, v, current) {
    const elapsed = performance.now() - current.t0;
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = URL.createObjectURL(blob);
    const live = current.live;
    if (!live || !live.ownsPlayer || live.failed) {
      player.src = objectUrl;
      if (v.livePlay && !(live && live.played)) player.play().catch(() => {});
    }
    const link = $("download");
    link.href = objectUrl;
    link.download = `supertonic-${v.voice}-${Date.now()}.${EXTENSIONS[v.format] || "bin"}`;
    link.hidden = false;
    try {
      const audio = await waveform.decode(blob);
      $("duration").textContent = fmtSeconds(audio.duration);
      $("rtf").textContent = fmtRtf(elapsed / 1000 / audio.duration);
    } catch (err) {
      $("duration").textContent = "?";
      console.warn("could not decode the audio for the waveform", err);
    }
  }

  return {
    async ready(health) {
      fillLanguages(health);
      await fillVoices(health);
      isReady = true;
      $("speak").disabled = false;
      changed();
    },
  };
}
