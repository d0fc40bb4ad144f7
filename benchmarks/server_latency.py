"""Server latency: TTFB and RTF over HTTP, and what the server adds on top of the core.

Like the peer's published table: 8 mixed-length English texts sent one after another to
``POST /v1/audio/speech`` (voice alloy, response_format pcm, default 8 steps). Then the same
texts, same seeds, through the engine in-process (``open_stream``, time to first chunk),
so the difference is the server's own overhead: HTTP, validation, resampling to 24 kHz,
encoding, the event loop. Runs on the ``full`` synthetic bundle (real dimensions, random
weights: the real model's compute, not its voice), built once and cached.

    uv run python benchmarks/server_latency.py [--profile full] [--steps 8] [--repeats 1]

The server runs as a subprocess (``python -m supertonic_server.cli``), so client and
server do not share an interpreter. Core and server measurements alternate text by text
(core, then server, for each text), so that whatever else the machine is doing weighs on
both alike; the load average is printed with the results.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from common import REPLIES, free_port, latency_args, machine_and_bundle, pct, start_server
from supertonic_core import Engine

TEXTS = [
    *REPLIES,
    "Thanks for waiting. I have checked with the team, and the replacement part will ship "
    "today. You should receive a tracking number by email within the hour, and delivery "
    "usually takes two to three business days.",
    "Here is a quick summary of your options. The basic plan covers calls and messages. "
    "The standard plan adds twenty gigabytes of data and international texts. The premium "
    "plan includes unlimited data, roaming in forty countries, and a new phone every two "
    "years. Would you like me to go through the prices?",
]
PCM_RATE = 24000


@dataclass
class Sample:
    text: int
    ttfb_s: float
    total_s: float
    audio_s: float

    @property
    def rtf(self) -> float:
        return self.total_s / self.audio_s


# ----------------------------------------------------------------------------- server


class Server:
    """The server in a subprocess, on a free port, with an HTTP client, until :meth:`stop`."""

    def __init__(self, bundle: Path, steps: int) -> None:
        self.proc = start_server(
            free_port(), "--total-steps", str(steps), bundle=bundle, timeout=900
        )
        self.client = httpx.Client(base_url=self.proc.url, timeout=600)

    def measure(self, i: int, text: str) -> Sample:
        body = {
            "model": "supertonic-3",
            "input": text,
            "voice": "alloy",
            "response_format": "pcm",
            "seed": i,
        }
        started = time.perf_counter()
        first = None
        size = 0
        with self.client.stream("POST", "/v1/audio/speech", json=body) as response:
            response.raise_for_status()
            for piece in response.iter_raw():
                if first is None and piece:
                    first = time.perf_counter() - started
                size += len(piece)
        total = time.perf_counter() - started
        assert first is not None
        return Sample(i, first, total, size / 2 / PCM_RATE)

    def stop(self) -> None:
        self.client.close()
        self.proc.stop()


# ----------------------------------------------------------------------------- core


async def core_one(engine: Engine, i: int, text: str) -> Sample:
    opts = engine.options(voice="alloy", seed=i)
    started = time.perf_counter()
    stream = engine.open_stream(opts)
    stream.add_text(text)
    stream.end()
    first = None
    audio = 0.0
    async with stream:
        async for chunk in stream:
            if first is None:
                first = time.perf_counter() - started
            audio += chunk.duration
    total = time.perf_counter() - started
    assert first is not None
    return Sample(i, first, total, audio)


def run(bundle: Path, steps: int, repeats: int) -> tuple[list[Sample], list[Sample]]:
    """Core, then server, text by text; returns (server samples, core samples)."""
    server = Server(bundle, steps)
    try:
        engine = Engine.load(model_dir=bundle)
        try:
            engine.defaults = engine.options(steps=steps)
            engine.warmup()
            server_samples, core_samples = [], []
            for _ in range(repeats):
                for i, text in enumerate(TEXTS):
                    core_samples.append(asyncio.run(core_one(engine, i, text)))
                    server_samples.append(server.measure(i, text))
                    print(
                        f"  text {i + 1}: core first {core_samples[-1].ttfb_s * 1000:.0f} ms, "
                        f"server TTFB {server_samples[-1].ttfb_s * 1000:.0f} ms",
                        flush=True,
                    )
        finally:
            engine.close()
    finally:
        server.stop()
    return server_samples, core_samples


# ----------------------------------------------------------------------------- report


def report(server: list[Sample], core: list[Sample], args: argparse.Namespace) -> str:
    ttfb = [s.ttfb_s * 1000 for s in server]
    core_first = [s.ttfb_s * 1000 for s in core]
    overhead = [s.ttfb_s * 1000 - c.ttfb_s * 1000 for s, c in zip(server, core, strict=True)]
    rtf = [s.rtf for s in server]
    core_rtf = [c.rtf for c in core]
    lines = [
        f"{len(server)} requests ({len(TEXTS)} texts x {args.repeats}), {args.profile} synthetic "
        f"bundle, total_steps={args.steps}, voice=alloy, response_format=pcm (24 kHz)",
        "",
        "| measure | p50 | p95 |",
        "|---|---|---|",
        f"| server TTFB (HTTP, first PCM byte) | {pct(ttfb, 0.5):.0f} ms | {pct(ttfb, 0.95):.0f} ms |",
        f"| core first chunk (in-process) | {pct(core_first, 0.5):.0f} ms "
        f"| {pct(core_first, 0.95):.0f} ms |",
        f"| server overhead on TTFB | {pct(overhead, 0.5):.0f} ms | {pct(overhead, 0.95):.0f} ms |",
        f"| server RTF (total / audio) | {pct(rtf, 0.5):.3f} | {pct(rtf, 0.95):.3f} |",
        f"| core RTF | {pct(core_rtf, 0.5):.3f} | {pct(core_rtf, 0.95):.3f} |",
        "",
        "| text | chars | audio s | server TTFB ms | core first ms | server RTF |",
        "|---|---|---|---|---|---|",
    ]
    for s, c in zip(server, core, strict=True):
        lines.append(
            f"| {s.text + 1} | {len(TEXTS[s.text])} | {s.audio_s:.2f} | {s.ttfb_s * 1000:.0f} "
            f"| {c.ttfb_s * 1000:.0f} | {s.rtf:.3f} |"
        )
    lines.append("")
    lines.append(f"mean server overhead on TTFB: {statistics.mean(overhead):.1f} ms")
    return "\n".join(lines)


def main() -> None:
    args = latency_args(__doc__, repeats=1)
    bundle = machine_and_bundle(args.profile)
    load_before = os.getloadavg()[0]
    server, core = run(bundle, args.steps, args.repeats)
    print()
    print(report(server, core, args))
    print(f"load average (1 min) before/after: {load_before:.2f} / {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
