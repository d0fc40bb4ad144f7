"""Ours against the published peers: same box, same bundle, same replies, one server at a time.

The peers are ``supertonic-server`` 0.2.0 (an OpenAI-compatible server, sentence-by-sentence
streaming) and ``supertonic-realtime`` 1.4.0 (the ``supertonic`` package with a clause-by-clause
WebSocket), each installed from the package index into its own virtual environment under
``~/.cache/supertonic-peers/<name>`` (reused when present). Every server runs on 127.0.0.1
with its default settings (8 steps) on the ``full`` synthetic bundle (the real model's
dimensions and compute, random weights: the audio is noise, not speech), the peers offline
(``HF_HUB_OFFLINE=1``, pointed at a symlinked copy of the bundle's layout), and is warmed with
one request before anything is measured. Only one server runs at any moment.

Per server:

- ``POST /v1/audio/speech`` with 15 agent-style replies (8 start with a short opener such as
  "Sure." before a long sentence; short and medium ones; one each in German, French and
  Korean, sent with ``lang``) at 1, 2 and 4 closed-loop streams: each stream goes through the
  list once, from its own starting point, sending the next reply as soon as the previous one
  has arrived; a level takes no new request after ``--level-seconds``. TTFB = request sent →
  first audio byte. Each response is played back in real time from its first byte: an
  underrun is a piece that arrives after everything received before it has played out, and
  its gap is how late it was. Audio-s per wall-s = audio received ÷ the level's wall time.
  Audio seconds come from each server's own sample rate (``X-Sample-Rate``: 24 kHz for ours'
  pcm, OpenAI's; 44.1 kHz for the peers). A 429 is retried after its ``Retry-After`` and
  counted; TTFB is that of the attempt served.
- The same replies as an LLM token stream over the server's WebSocket (two words every
  ``--token-ms``, then the end-of-text message), one reply at a time: first text sent → first
  audio, and last text sent → first audio (negative: speech started before the text ended).

Configs (``--configs``, comma-separated, default all): ``ours``, ``supertonic-server``,
``supertonic-realtime``, ``ours-fast`` (ours with ``--first-chunk-steps 2``: the fastest
start; the default is 4), ``ours-no-fast``
(``--first-chunk-steps`` = ``--steps``: every chunk at full steps, as supertonic-server does),
``ours-cache`` (ours with ``--phrase-cache 256``: only the opener replies, twice, at 1 stream,
to time the second pass's cache hits), or ``ours:FLAGS`` with extra server flags joined by
``+`` (``ours:--max-queue+0``). A config whose flag our server does not have is skipped with
a note.

    uv run python benchmarks/vs_peers.py [--levels 1,2,4] [--configs ours,supertonic-server,...]
                                         [--steps 8] [--quick] [--wait-quiet 600]

Other processes share the CPU with the server under test: each server's line reports the
cores they kept busy meanwhile, and ``--wait-quiet`` waits for a quiet machine before each.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import importlib.metadata
import json
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from common import HttpProcess, free_port, pct, start_server, synthetic_bundle, two_word_pieces
from websockets.asyncio.client import ClientConnection, connect

OURS, SERVER, REALTIME = "ours", "supertonic-server", "supertonic-realtime"
PEERS_HOME = Path.home() / ".cache" / "supertonic-peers"
#: What each peer's virtual environment gets from the package index (uvicorn for
#: supertonic-realtime comes with its ``serve`` extra).
PEER_REQUIREMENTS = {
    SERVER: "supertonic-server==0.2.0",
    REALTIME: "supertonic-realtime[serve]==1.4.0",
}
PEER_DISTRIBUTIONS = {
    SERVER: ("supertonic-server", "supertonic", "onnxruntime"),
    REALTIME: ("supertonic-realtime", "onnxruntime"),
}
MODEL = "supertonic-3"  # supertonic-realtime accepts only the loaded model's own name
VOICE = "F1"  # a preset every server knows by this name (OpenAI's alloy for the other two)
DEFAULT_STEPS = 8  # every server's default
#: supertonic-realtime's /v1/audio/speech has no pcm (wav, flac, ogg) and answers in one piece.
HTTP_FORMAT = {OURS: "pcm", SERVER: "pcm", REALTIME: "wav"}
FALLBACK_RATE = {OURS: 24000, SERVER: 44100, REALTIME: 44100}  # when X-Sample-Rate is missing
WS_PATH = {
    OURS: "/v1/audio/speech/stream",
    SERVER: "/v1/audio/speech/stream",
    REALTIME: "/v1/realtime",
}
WARM_TEXT = "This sentence only warms the server up before anything is measured."


@dataclass(frozen=True)
class Reply:
    text: str
    lang: str = "en"
    opener: bool = False  # a short first sentence before a long one


REPLIES = [
    Reply(
        "Sure. I can move your appointment to Thursday at three in the afternoon, and I will "
        "send you a confirmation email with the new time right away.",
        opener=True,
    ),
    Reply(
        "Hello there! Thanks for calling the support line, I can see your account here, and "
        "your last order left our warehouse yesterday afternoon.",
        opener=True,
    ),
    Reply(
        "Got it. I have changed the delivery address to your office, so the package should "
        "arrive there on Monday morning before noon.",
        opener=True,
    ),
    Reply(
        "Okay. The cheapest flight leaves at seven in the morning and has one stop in Denver, "
        "which adds about two hours to the whole trip.",
        opener=True,
    ),
    Reply(
        "Absolutely! Your table for four is booked for eight tonight, and I have added a note "
        "that one of your guests needs a high chair.",
        opener=True,
    ),
    Reply("Yes, that works for me."),
    Reply("Thank you, goodbye!"),
    Reply("One moment, please."),
    Reply(
        "Your order has shipped and should arrive on Thursday. You will get a tracking link by "
        "email."
    ),
    Reply(
        "I found two restaurants nearby that are open now. The closer one is a ten minute walk "
        "from you."
    ),
    Reply("Before we continue, could you confirm the last four digits of the card on file?"),
    Reply(
        "Here is what I found. The basic plan covers calls and messages, the standard plan adds "
        "twenty gigabytes of data, and the premium plan includes unlimited data and roaming in "
        "forty countries."
    ),
    Reply(
        "Gern. Ich habe Ihren Termin auf Donnerstag um fünfzehn Uhr verschoben, und Sie "
        "bekommen gleich eine Bestätigung per E-Mail.",
        "de",
        opener=True,
    ),
    Reply(
        "Bien sûr. Votre commande a été expédiée ce matin et devrait arriver chez vous jeudi "
        "avant midi.",
        "fr",
        opener=True,
    ),
    Reply(
        "네, 알겠습니다. 예약을 목요일 오후 세 시로 변경했고, 확인 메일을 곧 보내 드리겠습니다.",
        "ko",
        opener=True,
    ),
]
QUICK = (0, 1, 5, 8, 12)  # two English openers, a short, a medium and the German reply


# ----------------------------------------------------------------------------- configs


@dataclass(frozen=True)
class Config:
    name: str
    kind: str  # OURS, SERVER or REALTIME
    flags: tuple[str, ...] = ()  # extra flags for our server
    cache_pass: bool = False  # the openers twice at 1 stream, instead of the levels


KNOWN = {
    c.name: c
    for c in (
        Config(OURS, OURS),
        Config(SERVER, SERVER),
        Config(REALTIME, REALTIME),
        Config("ours-fast", OURS, ("--first-chunk-steps", "2")),
        Config("ours-no-fast", OURS, ("--first-chunk-steps", "{steps}")),
        Config("ours-cache", OURS, ("--phrase-cache", "256"), cache_pass=True),
    )
}


def parse_config(spec: str) -> Config:
    if spec in KNOWN:
        return KNOWN[spec]
    base, sep, extra = spec.partition(":")
    if base == OURS and sep and extra:
        return Config(spec, OURS, tuple(extra.split("+")))
    raise SystemExit(f"unknown config {spec!r}: one of {', '.join(KNOWN)}, or ours:FLAG+VALUE...")


# ----------------------------------------------------------------------------- servers


def ensure_venv(name: str) -> Path:
    """The ``bin`` folder of ``name``'s virtual environment, made and installed when missing."""
    requirement = PEER_REQUIREMENTS[name]
    root = PEERS_HOME / name
    python = root / "bin" / "python"
    marker = root / ".installed"
    if python.exists() and marker.exists() and marker.read_text() == requirement:
        return root / "bin"
    uv = shutil.which("uv")
    if uv is None:
        raise RuntimeError("uv is not on PATH (pip install uv)")
    interpreter = shutil.which("python3.11") or sys.executable
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    print(f"  creating {root} ({requirement}) ...", flush=True)
    subprocess.run(
        [uv, "venv", "--quiet", "--clear", "--python", interpreter, str(root)], check=True, env=env
    )
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(python), requirement], check=True, env=env
    )
    marker.write_text(requirement)
    return root / "bin"


def installed(python: Path | None, dists: tuple[str, ...]) -> str:
    """``name version`` of each distribution, in ``python``'s environment (None: this one)."""
    if python is None:
        return ", ".join(f"{d} {importlib.metadata.version(d)}" for d in dists)
    code = (
        "import importlib.metadata as m, sys; "
        "print(', '.join(d + ' ' + m.version(d) for d in sys.argv[1:]))"
    )
    out = subprocess.run([str(python), "-c", code, *dists], capture_output=True, text=True)
    return out.stdout.strip() or out.stderr.strip()[-200:]


def peer_env(**extra: str) -> dict[str, str]:
    """This environment without any SUPERTONIC_* setting of ours, offline for Hugging Face."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SUPERTONIC_") and k not in ("VIRTUAL_ENV", "PYTHONPATH")
    }
    env.update(HF_HUB_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1", **extra)
    return env


def bundle_layout(bundle: Path, into: Path) -> Path:
    """``into/bundle``: symlinks to the bundle's ``onnx`` and ``voice_styles``, the layout
    both peers load (``supertonic.TTS(model_dir=...)``); whatever a peer writes next to them
    (supertonic-realtime's ``custom_styles``) stays out of the shared bundle."""
    layout = into / "bundle"
    layout.mkdir()
    for part in ("onnx", "voice_styles"):
        (layout / part).symlink_to(bundle / part, target_is_directory=True)
    return layout


def start(cfg: Config, args: argparse.Namespace, bundle: Path, workdir: Path) -> HttpProcess:
    """Start ``cfg``'s server on a free port and wait until it says it is ready."""
    port = free_port()
    steps = [] if args.steps == DEFAULT_STEPS else ["--total-steps", str(args.steps)]
    if cfg.kind == OURS:
        flags = [*steps, *(f.format(steps=args.steps) for f in cfg.flags)]
        print(
            f"  start: {sys.executable} -m supertonic_server.cli --model-dir {bundle} "
            f"--port {port} --log-level warning {' '.join(flags)}".rstrip(),
            flush=True,
        )
        return start_server(port, *flags, bundle=bundle)
    bin_dir = ensure_venv(cfg.kind)
    print(f"  installed: {installed(bin_dir / 'python', PEER_DISTRIBUTIONS[cfg.kind])}")
    layout = bundle_layout(bundle, workdir)
    if cfg.kind == SERVER:
        cmd = [
            str(bin_dir / "supertonic-server"), "--model-dir", str(layout),
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", *steps,
        ]  # fmt: skip
        env = peer_env()
        health = "/healthz"  # answers once the model is loaded and warmed (the lifespan)
    else:
        # No --model-dir: TTS(model=...) loads from get_cache_dir(), i.e. $SUPERTONIC_CACHE_DIR.
        cmd = [
            str(bin_dir / "supertonic"), "serve",
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
        ]  # fmt: skip
        env = peer_env(
            SUPERTONIC_CACHE_DIR=str(layout),
            SUPERTONIC_CUSTOM_STYLES_DIR=str(workdir / "custom_styles"),
        )
        health = "/v1/health"  # 503 "loading" until the model is loaded
    shown = " ".join(f"{k}={v}" for k, v in env.items() if k.startswith(("HF_", "SUPERTONIC_")))
    print(f"  start (cwd {workdir}): {shown} {' '.join(cmd)}", flush=True)
    peer = HttpProcess(cmd, port, health=health, env=env, cwd=workdir)
    peer.wait_ready()
    return peer


def revision() -> str:
    """This repository's commit, with ``-dirty`` when the working tree has changes."""
    out = subprocess.run(
        ["git", "-C", str(Path(__file__).parent), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
    )
    return out.stdout.strip() or "unknown"


def server_flags(timeout: float = 120) -> set[str]:
    """The flags our server accepts, from its ``--help``."""
    out = subprocess.run(
        [sys.executable, "-m", "supertonic_server.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return set(re.findall(r"--[a-z0-9][a-z0-9-]*", out.stdout))


# ----------------------------------------------------------------------------- measuring


def busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy since boot (``/proc/stat``)."""
    with open("/proc/stat") as f:
        user, nice, system, _idle, _iowait, irq, softirq = map(int, f.readline().split()[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int, *, children: bool = True) -> float:
    """CPU seconds used by process ``pid`` (and its waited-for children)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = map(int, fields[11:15] if children else fields[11:13])
    return sum(ticks) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(max_wait_s: float, below: float = 0.3, sample_s: float = 10.0) -> None:
    """Wait (at most ``max_wait_s``) until other processes use under ``below`` cores."""
    deadline = time.monotonic() + max_wait_s
    while time.monotonic() < deadline:
        busy, own, t0 = busy_cpu_s(), process_cpu_s(os.getpid(), children=False), time.monotonic()
        time.sleep(sample_s)
        others = busy_cpu_s() - busy - (process_cpu_s(os.getpid(), children=False) - own)
        cores = others / (time.monotonic() - t0)
        if cores < below:
            return
        print(f"  waiting for a quieter machine: other processes use {cores:.2f} cores", flush=True)


@dataclass
class OtherLoad:
    """How busy everything but this script and the server under test kept the CPUs."""

    server_pid: int
    started: float = field(default_factory=time.monotonic)
    busy: float = field(default_factory=busy_cpu_s)
    own: float = field(default_factory=lambda: process_cpu_s(os.getpid(), children=False))
    server: float = 0.0

    def __post_init__(self) -> None:
        self.server = process_cpu_s(self.server_pid)

    def cores(self) -> float:
        """Average cores used by other processes since this was made; call before the server
        exits."""
        others = (
            busy_cpu_s()
            - self.busy
            - (process_cpu_s(os.getpid(), children=False) - self.own)
            - (process_cpu_s(self.server_pid) - self.server)
        )
        return max(0.0, others) / (time.monotonic() - self.started)


@dataclass
class Playback:
    """Audio pieces played in real time from the first one: first-audio time and underruns."""

    started: float
    first: float | None = None
    play_end: float = 0.0
    audio_s: float = 0.0
    underruns: int = 0
    gap_s: float = 0.0

    def add(self, now: float, seconds: float) -> None:
        if seconds <= 0:
            return
        if self.first is None:
            self.first = self.play_end = now
        elif now > self.play_end:
            self.underruns += 1
            self.gap_s += now - self.play_end
            self.play_end = now
        self.play_end += seconds
        self.audio_s += seconds


@dataclass
class Sample:
    """One reply: TTFB (request or first text → first audio) and how it played."""

    index: int  # in the reply list
    ttfb_s: float = math.nan
    late_s: float = math.nan  # HTTP: from the first attempt; WebSocket: from the last text
    audio_s: float = 0.0
    underruns: int = 0
    gap_s: float = 0.0
    refused: int = 0
    error: str | None = None

    @classmethod
    def played(cls, index: int, play: Playback, since: float, refused: int = 0) -> Sample:
        if play.first is None:
            return cls(index, refused=refused, error="no audio")
        return cls(
            index,
            ttfb_s=play.first - play.started,
            late_s=play.first - since,
            audio_s=play.audio_s,
            underruns=play.underruns,
            gap_s=play.gap_s,
            refused=refused,
        )


class WavStripper:
    """Passes through the samples of a streamed WAV file, dropping its header."""

    def __init__(self) -> None:
        self._head = b""
        self.in_data = False
        self.rate: int | None = None

    def feed(self, data: bytes) -> bytes:
        if self.in_data:
            return data
        self._head += data
        pos = 12  # RIFF, size, WAVE
        while pos + 8 <= len(self._head):
            chunk, size = self._head[pos : pos + 4], int.from_bytes(self._head[pos + 4 : pos + 8], "little")  # fmt: skip
            if chunk == b"fmt " and pos + 16 <= len(self._head):
                self.rate = int.from_bytes(self._head[pos + 12 : pos + 16], "little")
            if chunk == b"data":
                self.in_data = True
                rest, self._head = self._head[pos + 8 :], b""
                return rest
            pos += 8 + size + (size & 1)
        return b""


async def speak(client: httpx.AsyncClient, kind: str, index: int, reply: Reply) -> Sample:
    """``reply`` through ``POST /v1/audio/speech``, retrying a 429 after its Retry-After."""
    body = {
        "model": MODEL,
        "input": reply.text,
        "voice": VOICE,
        "response_format": HTTP_FORMAT[kind],
        "lang": reply.lang,
    }
    refused = 0
    first_try = time.perf_counter()
    while True:
        started = time.perf_counter()
        async with client.stream("POST", "/v1/audio/speech", json=body) as resp:
            if resp.status_code == 429:
                refused += 1
                await asyncio.sleep(float(resp.headers.get("retry-after", "1")))
                continue
            if resp.status_code != 200:
                detail = (await resp.aread()).decode(errors="replace")[:200]
                return Sample(index, refused=refused, error=f"HTTP {resp.status_code} {detail}")
            rate = int(resp.headers.get("x-sample-rate") or FALLBACK_RATE[kind])
            wav = WavStripper() if body["response_format"] == "wav" else None
            play = Playback(started)
            async for piece in resp.aiter_bytes():
                now = time.perf_counter()
                pcm = wav.feed(piece) if wav else piece
                play.add(now, len(pcm) / 2 / ((wav and wav.rate) or rate))
            return Sample.played(index, play, first_try, refused)


@dataclass
class Level:
    streams: int
    samples: list[Sample]
    wall_s: float

    @property
    def ok(self) -> list[Sample]:
        return [s for s in self.samples if s.error is None]

    def ttfb(self, q: float) -> float:
        values = [s.ttfb_s for s in self.ok]
        return pct(values, q) if values else math.nan

    @property
    def throughput(self) -> float:
        return sum(s.audio_s for s in self.ok) / self.wall_s


async def closed_loop(
    url: str, kind: str, replies: list[Reply], streams: int, cap_s: float
) -> Level:
    """``streams`` workers, each through ``replies`` once from its own offset, back to back."""
    samples: list[Sample] = []
    started = time.perf_counter()

    async def worker(w: int) -> None:
        offset = w * len(replies) // streams
        async with httpx.AsyncClient(base_url=url, timeout=600) as client:
            for k in range(len(replies)):
                if time.perf_counter() - started >= cap_s:
                    return
                i = (offset + k) % len(replies)
                samples.append(await speak(client, kind, i, replies[i]))

    await asyncio.gather(*(worker(w) for w in range(streams)))
    return Level(streams, samples, time.perf_counter() - started)


async def _expect(ws: ClientConnection, kind: str) -> dict[str, Any]:
    """The next JSON message, which must be of type ``kind``."""
    raw = await ws.recv()
    msg = json.loads(raw)
    if msg.get("type") != kind:
        raise RuntimeError(f"expected {kind!r}, got {str(msg)[:200]}")
    return msg


async def token_stream(
    url: str, kind: str, index: int, reply: Reply, token_s: float, steps: int
) -> Sample:
    """``reply`` as two-word pieces ``token_s`` apart over the server's WebSocket."""
    settings: dict[str, Any] = {"voice": VOICE, "lang": reply.lang}
    async with connect(url.replace("http://", "ws://") + WS_PATH[kind], max_size=None) as ws:
        if kind == REALTIME:
            await _expect(ws, "session.created")
            if steps != DEFAULT_STEPS:
                settings["steps"] = steps  # the first clause keeps its own first_chunk_steps
            await ws.send(json.dumps({"type": "session.update", **settings}))
            rate = (await _expect(ws, "session.updated"))["sample_rate"]
            text_type, done, end = "input.text.delta", "input.text.done", "response.done"
        else:  # ours and supertonic-server: ready, config, text..., flush
            rate = (await _expect(ws, "ready"))["sample_rate"]
            await ws.send(json.dumps({"type": "config", **settings}))
            await _expect(ws, "config_ack")
            text_type, done, end = "text", "flush", "audio_end"

        pieces = two_word_pieces(reply.text)
        play = Playback(time.perf_counter())
        last_text = play.started

        async def feed() -> None:
            nonlocal last_text
            for n, piece in enumerate(pieces):
                if n:
                    await asyncio.sleep(token_s)
                await ws.send(json.dumps({"type": text_type, "text": piece}))
            last_text = time.perf_counter()
            await ws.send(json.dumps({"type": done}))

        feeder = asyncio.create_task(feed())
        try:
            async for raw in ws:
                now = time.perf_counter()
                if isinstance(raw, bytes):  # supertonic-realtime: the PCM after an audio.chunk
                    play.add(now, len(raw) / 2 / rate)
                    continue
                msg = json.loads(raw)
                if msg.get("type") == "audio":
                    pcm = base64.b64decode(msg["chunk"])
                    play.add(now, len(pcm) / 2 / msg.get("sample_rate", rate))
                elif msg.get("type") == end:
                    break
                elif msg.get("type") == "error":
                    return Sample(index, error=f"error {str(msg)[:200]}")
        finally:
            await feeder
        return Sample.played(index, play, last_text)


async def token_streams(
    url: str, kind: str, replies: list[Reply], token_s: float, steps: int
) -> list[Sample]:
    out = []
    for i, reply in enumerate(replies):
        try:
            sample = await asyncio.wait_for(token_stream(url, kind, i, reply, token_s, steps), 300)
        except Exception as exc:  # a protocol surprise of a peer is a result, not a crash
            sample = Sample(i, error=f"{type(exc).__name__}: {exc}"[:200])
        out.append(sample)
    return out


async def openers_twice(
    url: str, kind: str, replies: list[Reply]
) -> tuple[list[Sample], list[Sample]]:
    """The opener replies one after another, then again (the second pass: cache hits)."""
    openers = [(i, r) for i, r in enumerate(replies) if r.opener]
    async with httpx.AsyncClient(base_url=url, timeout=600) as client:
        first = [await speak(client, kind, i, r) for i, r in openers]
        second = [await speak(client, kind, i, r) for i, r in openers]
    return first, second


async def warm(url: str, kind: str) -> tuple[Sample, str]:
    """One request before measuring; returns it and what the HTTP audio is."""
    async with httpx.AsyncClient(base_url=url, timeout=600) as client:
        sample = await speak(client, kind, -1, Reply(WARM_TEXT))
        head = await client.post(
            "/v1/audio/speech",
            json={
                "model": MODEL,
                "input": "Hi.",
                "voice": VOICE,
                "response_format": HTTP_FORMAT[kind],
            },
        )
    rate = head.headers.get("x-sample-rate", "?")
    return sample, f"{HTTP_FORMAT[kind]} at {rate} Hz, {head.headers.get('content-type', '?')}"


# ----------------------------------------------------------------------------- running


@dataclass
class Run:
    cfg: Config
    skipped: str | None = None
    http_audio: str = ""
    levels: dict[int, Level] = field(default_factory=dict)
    ws: list[Sample] = field(default_factory=list)
    cache: tuple[list[Sample], list[Sample]] | None = None
    load: tuple[float, float] = (math.nan, math.nan)
    other_cores: float = math.nan  # used by other processes while this ran


def run_config(
    cfg: Config, args: argparse.Namespace, bundle: Path, replies: list[Reply], flags: set[str]
) -> Run:
    run = Run(cfg)
    missing = [f for f in cfg.flags if f.startswith("--") and f not in flags]
    if missing:
        run.skipped = f"our server has no {' '.join(missing)} (yet)"
        print(f"{cfg.name}: skipped, {run.skipped}", flush=True)
        return run
    print(f"{cfg.name}:", flush=True)
    if args.wait_quiet:
        wait_for_quiet(args.wait_quiet)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix=f"vs-peers-{cfg.name}-") as tmp:
        try:
            server = start(cfg, args, bundle, Path(tmp))
        except (Exception, SystemExit) as exc:  # start_server exits; a peer raises
            run.skipped = f"did not start: {str(exc).strip().splitlines()[-1][:200]}"
            print(f"  {run.skipped}", flush=True)
            return run
        other = OtherLoad(server.proc.pid)
        try:
            warmed, run.http_audio = asyncio.run(warm(server.url, cfg.kind))
            print(
                f"  warm: {run.http_audio}; TTFB {warmed.ttfb_s:.2f} s"
                + (f" ({warmed.error})" if warmed.error else ""),
                flush=True,
            )
            if cfg.cache_pass:
                run.cache = asyncio.run(openers_twice(server.url, cfg.kind, replies))
                for label, samples in zip(("pass 1", "pass 2"), run.cache, strict=True):
                    print(f"  {label}: TTFB {fmt_ms([s.ttfb_s for s in samples])}", flush=True)
            else:
                for n in args.levels:
                    level = asyncio.run(
                        closed_loop(server.url, cfg.kind, replies, n, args.level_seconds)
                    )
                    run.levels[n] = level
                    print(
                        f"  {n} stream(s): {len(level.samples)} requests in {level.wall_s:.0f} s, "
                        f"TTFB p50 {level.ttfb(0.5):.2f} s p95 {level.ttfb(0.95):.2f} s, "
                        f"{level.throughput:.2f} audio-s/s, "
                        f"errors {len(level.samples) - len(level.ok)}",
                        flush=True,
                    )
                run.ws = asyncio.run(
                    token_streams(server.url, cfg.kind, replies, args.token_ms / 1000, args.steps)
                )
                ok = [s.ttfb_s for s in run.ws if s.error is None]
                print(f"  WebSocket token streams: first audio {fmt_ms(ok)}", flush=True)
            run.other_cores = other.cores()
            print(f"  other processes: {run.other_cores:.2f} cores on average", flush=True)
        finally:
            server.stop(signal.SIGINT)
    run.load = (load_before, os.getloadavg()[0])
    return run


# ----------------------------------------------------------------------------- printing


def ms(value: float) -> str:
    return "–" if math.isnan(value) else f"{value * 1000:.0f}"


def fmt_ms(values: list[float]) -> str:
    return " ".join(ms(v) for v in values) + " ms"


def sec(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f}"


def ratio(ours: float, peer: float) -> str:
    if math.isnan(ours) or math.isnan(peer) or peer == 0:
        return "–"
    return f"{ours / peer:.2f}"


def short(text: str, width: int = 42) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def p(values: list[float], q: float) -> float:
    return pct(values, q) if values else math.nan


def errors(samples: list[Sample]) -> list[str]:
    return sorted({s.error for s in samples if s.error})


def per_reply_table(
    title: str, runs: list[Run], replies: list[Reply], cell: Callable[[Run, int], str]
) -> None:
    """One row per reply, one column per run (nothing when no run has the figure)."""
    if not runs:
        return
    print()
    print(title)
    print()
    print("| # | lang | reply | chars | " + " | ".join(r.cfg.name for r in runs) + " |")
    print("|---|---|---|---|" + "---|" * len(runs))
    for i, reply in enumerate(replies):
        cells = " | ".join(cell(r, i) for r in runs)
        print(f"| {i + 1} | {reply.lang} | {short(reply.text)} | {len(reply.text)} | {cells} |")


def report(runs: list[Run], replies: list[Reply], args: argparse.Namespace) -> None:
    done = [r for r in runs if r.skipped is None]
    swept = [r for r in done if not r.cfg.cache_pass]
    print()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores; {len(replies)} replies, voice "
        f"{VOICE}, {args.steps} steps; levels {','.join(map(str, args.levels))} (each stream "
        f"through the list once, cap {args.level_seconds:g} s); WebSocket pieces of two words "
        f"every {args.token_ms:g} ms; the `full` synthetic bundle (random weights: noise)"
    )
    for r in runs:
        state = r.skipped or (
            f"HTTP audio {r.http_audio}; load average (1 min) {r.load[0]:.2f} → {r.load[1]:.2f}; "
            f"other processes kept {r.other_cores:.2f} cores busy on average"
        )
        print(f"- {r.cfg.name}: {state}")

    def http_ttfb(r: Run, i: int) -> str:
        hit = [s for s in r.levels[1].samples if s.index == i]
        return "–" if not hit or hit[0].error else f"{hit[0].ttfb_s * 1000:.0f}"

    def ws_first_audio(r: Run, i: int) -> str:
        return "–" if r.ws[i].error else f"{r.ws[i].ttfb_s * 1000:.0f}"

    per_reply_table(
        "TTFB per reply, 1 stream, HTTP (ms):",
        [r for r in swept if 1 in r.levels],
        replies,
        http_ttfb,
    )
    with_ws = [r for r in swept if r.ws]
    per_reply_table(
        "First text sent → first audio per reply, WebSocket token stream (ms):",
        with_ws,
        replies,
        ws_first_audio,
    )

    if swept:
        print()
        print("HTTP `POST /v1/audio/speech`, closed loop:")
        print()
        print(
            "| server | streams | requests | errors | refused (429) | TTFB p50 (s) | TTFB p95 (s) "
            "| first audio p95 incl. retries (s) | underruns | gap s | audio-s / wall-s |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in swept:
            for n, lv in r.levels.items():
                ok = lv.ok
                print(
                    f"| {r.cfg.name} | {n} | {len(lv.samples)} | {len(lv.samples) - len(ok)} | "
                    f"{sum(s.refused for s in lv.samples)} | {sec(lv.ttfb(0.5))} | "
                    f"{sec(lv.ttfb(0.95))} | {sec(p([s.late_s for s in ok], 0.95))} | "
                    f"{sum(s.underruns for s in ok)} | {sum(s.gap_s for s in ok):.1f} | "
                    f"{lv.throughput:.2f} |"
                )

    if with_ws:
        print()
        print("WebSocket token streams, one at a time:")
        print()
        print(
            "| server | replies | errors | first text → first audio p50 (s) | p95 (s) "
            "| last text → first audio p50 (s) | underruns | gap s |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for r in with_ws:
            ok = [s for s in r.ws if s.error is None]
            print(
                f"| {r.cfg.name} | {len(r.ws)} | {len(r.ws) - len(ok)} | "
                f"{sec(p([s.ttfb_s for s in ok], 0.5))} | {sec(p([s.ttfb_s for s in ok], 0.95))} | "
                f"{sec(p([s.late_s for s in ok], 0.5))} | {sum(s.underruns for s in ok)} | "
                f"{sum(s.gap_s for s in ok):.1f} |"
            )

    peer = next((r for r in swept if r.cfg.kind == SERVER), None)
    if peer is not None:
        others = [r for r in swept if r is not peer]
        print()
        print(
            "Ratios to supertonic-server (this ÷ supertonic-server; TTFB: below 1 is faster, "
            "throughput: above 1 is more):"
        )
        print()
        print(
            "| server | TTFB p50, 1 stream | TTFB p95, 2 streams | WebSocket first audio p50 | "
            + " | ".join(f"audio-s/wall-s, {n}" for n in args.levels)
            + " |"
        )
        print("|---|---|---|---|" + "---|" * len(args.levels))

        def level_stat(r: Run, n: int, what: str) -> float:
            lv = r.levels.get(n)
            if lv is None:
                return math.nan
            return {"p50": lv.ttfb(0.5), "p95": lv.ttfb(0.95), "tp": lv.throughput}[what]

        def ws_p50(r: Run) -> float:
            return p([s.ttfb_s for s in r.ws if s.error is None], 0.5)

        for r in others:
            cells = [
                ratio(level_stat(r, 1, "p50"), level_stat(peer, 1, "p50")),
                ratio(level_stat(r, 2, "p95"), level_stat(peer, 2, "p95")),
                ratio(ws_p50(r), ws_p50(peer)),
                *(ratio(level_stat(r, n, "tp"), level_stat(peer, n, "tp")) for n in args.levels),
            ]
            print(f"| {r.cfg.name} | " + " | ".join(cells) + " |")

    for r in done:
        if r.cache is None:
            continue
        first, second = r.cache
        plain = next((x for x in swept if x.cfg.name == OURS and 1 in x.levels), None)
        print()
        print(
            f"{r.cfg.name}: the opener replies twice at 1 stream (pass 2 = cache hits), "
            "HTTP TTFB (ms):"
        )
        print()
        print("| # | reply | pass 1 | pass 2 |" + (" ours, no cache |" if plain else ""))
        print("|---|---|---|---|" + ("---|" if plain else ""))
        for a, b in zip(first, second, strict=True):
            row = f"| {a.index + 1} | {short(replies[a.index].text)} | {ms(a.ttfb_s)} | {ms(b.ttfb_s)} |"
            if plain:
                hit = [s for s in plain.levels[1].samples if s.index == a.index and not s.error]
                row += f" {ms(hit[0].ttfb_s) if hit else '–'} |"
            print(row)
        for label, passed in (("pass 1", first), ("pass 2", second)):
            ok = [s for s in passed if s.error is None]
            ttfbs = [s.ttfb_s for s in ok]
            print(
                f"{label}: TTFB p50 {sec(p(ttfbs, 0.5))} s, p95 {sec(p(ttfbs, 0.95))} s; "
                f"{sum(s.underruns for s in ok)} underruns, {sum(s.gap_s for s in ok):.1f} s of "
                f"gaps, {sum(s.audio_s for s in ok):.1f} s of audio"
            )

    for r in done:
        samples = [s for lv in r.levels.values() for s in lv.samples] + r.ws
        if r.cache:
            samples += r.cache[0] + r.cache[1]
        for e in errors(samples):
            print(f"{r.cfg.name} error: {e}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--levels", default="1,2,4", help="concurrent streams, comma-separated")
    parser.add_argument(
        "--configs",
        default=",".join(KNOWN),
        help=f"comma-separated, from {', '.join(KNOWN)}, or ours:FLAG+VALUE...",
    )
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    parser.add_argument("--quick", action="store_true", help=f"{len(QUICK)} replies: a smoke run")
    parser.add_argument(
        "--level-seconds",
        type=float,
        default=None,
        help="no new request after this (300; quick 120)",
    )
    parser.add_argument("--token-ms", type=float, default=30.0)
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each server, wait up to this long for other processes to use < 0.3 cores",
    )
    args = parser.parse_args()
    # A plain `kill` (or SIGINT, which a background job ignores) unwinds, stopping the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args.levels = [int(x) for x in args.levels.split(",")]
    if args.level_seconds is None:
        args.level_seconds = 120.0 if args.quick else 300.0
    configs = [parse_config(c) for c in args.configs.split(",") if c]
    replies = [REPLIES[i] for i in QUICK] if args.quick else REPLIES

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()}")
    print(f"ours: {installed(None, ('supertonic-stack-server', 'supertonic-core', 'onnxruntime'))}")
    print(f"repository: {revision()}")
    print("building/using the full synthetic bundle ...", flush=True)
    bundle = synthetic_bundle("full")
    flags = server_flags() if any(c.flags for c in configs) else set()
    started = time.perf_counter()
    runs = [run_config(c, args, bundle, replies, flags) for c in configs]
    report(runs, replies, args)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
