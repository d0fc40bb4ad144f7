// Ready-to-paste code for the current settings, against this page's own origin.
// The API key itself is never written into a snippet: it reads SUPERTONIC_API_KEY instead.

import { $, apiKey, el, store } from "/ui/util.js";

const TAB_KEY = "supertonic.snippet";
const TABS = [
  ["curl", "curl", curl],
  ["openai", "Python (OpenAI)", pythonOpenAI],
  ["httpx", "Python (httpx)", pythonHttpx],
  ["pipecat", "Pipecat", pipecat],
  ["livekit", "LiveKit", livekit],
  ["js", "JavaScript", javascript],
  ["supertone", "Supertone SDK", supertoneSdk],
];
const EXT = { mp3: "mp3", opus: "ogg", aac: "aac", flac: "flac", wav: "wav", pcm: "pcm" };

const q = (s) => JSON.stringify(s); // a double-quoted literal valid in Python and JS alike
// Strings, numbers, booleans, and lists and maps of strings (JSON is Python for those).
const py = (v) =>
  typeof v === "string" ? q(v) : typeof v === "boolean" ? (v ? "True" : "False") : typeof v === "object" ? JSON.stringify(v) : String(v);
const shellQuote = (s) => `'${s.replace(/'/g, "'\\''")}'`;

function extras(body) {
  // Fields beyond OpenAI's request: sent as extra_body by the OpenAI SDK.
  const out = { lang: body.lang, total_steps: body.total_steps };
  if (body.first_chunk_steps != null) out.first_chunk_steps = body.first_chunk_steps;
  for (const k of ["normalize", "lexicons", "pronunciations"]) if (body[k] != null) out[k] = body[k];
  return out;
}

function curl(body, ctx) {
  const lines = [
    `curl -X POST ${ctx.origin}/v1/audio/speech \\`,
    `  -H "Content-Type: application/json" \\`,
  ];
  if (ctx.key) lines.push(`  -H "Authorization: Bearer $SUPERTONIC_API_KEY" \\`);
  lines.push(`  -d ${shellQuote(JSON.stringify(body, null, 2)).replace(/\n/g, "\n    ")} \\`);
  lines.push(`  --output speech.${EXT[body.response_format]}`);
  return lines.join("\n");
}

function pythonOpenAI(body, ctx) {
  const key = ctx.key ? `os.environ["SUPERTONIC_API_KEY"]` : `"not-needed"`;
  return [
    ctx.key ? "import os\n" : "",
    "from openai import OpenAI",
    "",
    `client = OpenAI(base_url=${q(`${ctx.origin}/v1`)}, api_key=${key})`,
    "",
    "with client.audio.speech.with_streaming_response.create(",
    `    model=${q(body.model)},`,
    `    voice=${q(body.voice)},`,
    `    input=${q(body.input)},`,
    `    response_format=${q(body.response_format)},`,
    `    speed=${body.speed},`,
    `    extra_body=${pyDict(extras(body))},  # Supertonic extensions`,
    ") as response:",
    `    response.stream_to_file("speech.${EXT[body.response_format]}")`,
  ]
    .filter((l, i) => i > 0 || l)
    .join("\n");
}

function pyDict(obj) {
  return `{${Object.entries(obj).map(([k, v]) => `${q(k)}: ${py(v)}`).join(", ")}}`;
}

function pythonHttpx(body, ctx) {
  const lines = [ctx.key ? "import os\n" : "", "import httpx", ""];
  lines.push("body = {");
  for (const [k, v] of Object.entries(body)) lines.push(`    ${q(k)}: ${py(v)},`);
  lines.push("}");
  const headers = ctx.key ? `, headers={"Authorization": f"Bearer {os.environ['SUPERTONIC_API_KEY']}"}` : "";
  lines.push(
    `with httpx.stream("POST", ${q(`${ctx.origin}/v1/audio/speech`)}, json=body${headers}, timeout=60) as r:`,
    "    r.raise_for_status()",
    `    print("sample rate:", r.headers["X-Sample-Rate"], "voice:", r.headers["X-Voice"])`,
    `    with open("speech.${EXT[body.response_format]}", "wb") as f:`,
    "        for chunk in r.iter_bytes():  # audio arrives sentence by sentence",
    "            f.write(chunk)",
  );
  return lines.filter((l, i) => i > 0 || l).join("\n");
}

function pipecat(body, ctx) {
  const key = ctx.key ? `os.environ["SUPERTONIC_API_KEY"]` : `"not-needed"`;
  return [
    ctx.key ? "import os\n" : "",
    "from pipecat.services.openai.tts import OpenAITTSService, OpenAITTSSettings",
    "",
    "# Pipecat's OpenAI service asks for pcm; this server sends it at 24 kHz like OpenAI",
    "# (ask for another rate with sample_rate in the request, e.g. 44100, the model's own).",
    "tts = OpenAITTSService(",
    `    api_key=${key},`,
    `    base_url=${q(`${ctx.origin}/v1`)},`,
    `    settings=OpenAITTSSettings(model=${q(body.model)}, voice=${q(body.voice)}),`,
    "    sample_rate=24000,",
    ")",
    "# Plug into any Pipecat pipeline as the TTS service.",
  ]
    .filter((l, i) => i > 0 || l)
    .join("\n");
}

function livekit(body, ctx) {
  const key = ctx.key ? `os.environ["SUPERTONIC_API_KEY"]` : `"not-needed"`;
  return [
    ctx.key ? "import os\n" : "",
    "from livekit.plugins import openai",
    "",
    "tts = openai.TTS(",
    `    base_url=${q(`${ctx.origin}/v1`)},`,
    `    api_key=${key},`,
    `    model=${q(body.model)},`,
    `    voice=${q(body.voice)},`,
    `    speed=${body.speed},`,
    ")",
    "# Use it as the tts= of an AgentSession.",
  ]
    .filter((l, i) => i > 0 || l)
    .join("\n");
}

function javascript(body, ctx) {
  const lines = [
    `const res = await fetch(${q(`${ctx.origin}/v1/audio/speech`)}, {`,
    `  method: "POST",`,
    ctx.key
      ? `  headers: { "Content-Type": "application/json", Authorization: \`Bearer \${SUPERTONIC_API_KEY}\` },`
      : `  headers: { "Content-Type": "application/json" },`,
    "  body: JSON.stringify({",
    ...Object.entries(body).map(([k, v]) => `    ${k}: ${JSON.stringify(v)},`),
    "  }),",
    "});",
    "if (!res.ok) throw new Error((await res.json()).error.message);",
    "",
    "// Read the stream as it arrives (first bytes come after the first sentence).",
    "const reader = res.body.getReader();",
    "const chunks = [];",
    "for (;;) {",
    "  const { done, value } = await reader.read();",
    "  if (done) break;",
    "  chunks.push(value);",
    "}",
    `const blob = new Blob(chunks, { type: res.headers.get("Content-Type") });`,
    "await new Audio(URL.createObjectURL(blob)).play();",
  ];
  return lines.join("\n");
}

// Supertone's cloud API, served under /supertone: its SDK needs only a new server_url.
const SUPERTONE_LANGS = new Set(
  "en ko ja bg cs da el es et fi hu it nl pl pt ro ar de fr hi id ru vi hr lt lv sk sl sv tr uk".split(" "),
);

function supertoneSdk(body, ctx) {
  const key = ctx.key ? `os.environ["SUPERTONIC_API_KEY"]` : `"not-needed"`;
  const fmt = body.response_format === "mp3" ? "mp3" : "wav";
  const lang = SUPERTONE_LANGS.has(body.lang) ? body.lang : "en";
  return [
    ctx.supertone ? "" : "# This server runs with --no-supertone: start it without that flag first.\n",
    ctx.key ? "import os\n" : "",
    "from supertone import Supertone  # pip install supertone (Python 3.12+)",
    "",
    `client = Supertone(api_key=${key}, server_url=${q(`${ctx.origin}/supertone`)})`,
    `# TypeScript: new Supertone({ apiKey, serverURL: ${q(`${ctx.origin}/supertone`)} })`,
    "",
    "response = client.text_to_speech.create_speech(",
    `    voice_id=${q(body.voice)},`,
    `    text=${q(body.input)},`,
    `    language=${q(lang)},`,
    `    output_format=${q(fmt)},  # Supertone's formats: wav or mp3`,
    `    voice_settings={"speed": ${body.speed}},`,
    ")",
    `with open("speech.${fmt}", "wb") as f:`,
    "    f.write(response.result.read())",
  ]
    .filter((l, i) => i > 1 || l)
    .join("\n");
}

/** Comments muted, strings coloured: a few spans built as nodes, never as HTML. */
function highlight(code, lang) {
  const comment = lang === "js" ? /\/\/[^\n]*/ : lang === "curl" ? /(?!)/ : /#[^\n]*/;
  const token = new RegExp(`(${comment.source})|("(?:[^"\\\\\\n]|\\\\.)*"|'(?:[^'\\\\\\n]|\\\\.)*')`, "g");
  const nodes = [];
  let last = 0;
  for (const m of code.matchAll(token)) {
    if (m.index > last) nodes.push(code.slice(last, m.index));
    nodes.push(el("span", { class: m[1] ? "c" : "s" }, m[0]));
    last = m.index + m[0].length;
  }
  nodes.push(code.slice(last));
  return nodes;
}

export function initSnippets(config) {
  const tabs = $("snippet-tabs");
  const code = $("snippet");
  let active = TABS.some(([id]) => id === store(TAB_KEY)) ? store(TAB_KEY) : "curl";
  let lastBody = null;
  const buttons = TABS.map(([id, label]) => {
    const b = el("button", { type: "button", role: "tab", "data-tab": id, id: `snippet-tab-${id}` }, label);
    b.addEventListener("click", () => {
      active = id;
      store(TAB_KEY, id);
      render();
    });
    return b;
  });
  tabs.replaceChildren(...buttons);

  function render() {
    if (!lastBody) return;
    for (const b of buttons) b.setAttribute("aria-selected", String(b.dataset.tab === active));
    const [, , make] = TABS.find(([id]) => id === active);
    const ctx = {
      origin: location.origin,
      key: config.api_key_required || Boolean(apiKey()),
      supertone: config.supertone_enabled,
    };
    const text = make(lastBody, ctx);
    code.dataset.tab = active;
    code.replaceChildren(...highlight(text, active));
  }

  $("copy").addEventListener("click", async () => {
    const button = $("copy");
    try {
      await navigator.clipboard.writeText(code.textContent);
      button.textContent = "Copied ✓";
    } catch {
      const range = document.createRange();
      range.selectNodeContents(code);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      button.textContent = "Selected: press Ctrl+C";
    }
    setTimeout(() => {
      button.textContent = "Copy";
    }, 1600);
  });

  return {
    update(body) {
      lastBody = body;
      render();
    },
  };
}
