"""WebSocket latency: first text delta → first audio, and cancel → last audio frame.

Starts ``supertonic-server`` on the ``full`` synthetic bundle (real dimensions, random
weights) on 127.0.0.1 and drives it with the core's ``SpeechClient``:

- *first audio*: a sentence sent word by word at LLM pace (``--token-ms``), timed from
  the first delta to the first ``audio`` message;
- *cancel*: a long utterance at ``--steps`` steps; once audio flows, ``cancel`` is sent and
  the times to the last ``audio`` frame of that context and to ``cancelled`` are taken,
  against the measured time of one denoising step of that chunk.

    uv run python benchmarks/ws_latency.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx
from common import start_server
from supertonic_core.client import SpeechClient
from supertonic_core.protocol import Audio, Cancelled

SENTENCES = [
    "Sure, I can help you with that right away.",
    "Your table for two is booked for eight tonight.",
    "The package left our warehouse this morning and should arrive tomorrow.",
]
LONG = "This is a long answer that keeps going for quite a while. " * 12


async def first_audio(url: str, text: str, token_s: float) -> float:
    async with SpeechClient(url) as client:
        words = text.split(" ")
        started = time.perf_counter()

        async def feed() -> None:
            for word in words:
                await client.send_text(word + " ")
                await asyncio.sleep(token_s)
            await client.flush()

        feeder = asyncio.create_task(feed())
        async for event in client.events():
            if isinstance(event, Audio):
                elapsed = time.perf_counter() - started
                break
        feeder.cancel()
        await client.cancel()
        return elapsed


async def cancel_latency(url: str, steps: int) -> tuple[float, float]:
    async with SpeechClient(url, config={"steps": steps}) as client:
        await client.send_text(LONG)
        await client.flush()
        cancelled_at = None
        last_audio = None
        async for event in client.events():
            now = time.perf_counter()
            if isinstance(event, Audio) and cancelled_at is None:
                cancelled_at = time.perf_counter()
                await client.cancel()
            elif isinstance(event, Audio):
                last_audio = now
            elif isinstance(event, Cancelled):
                return (last_audio or cancelled_at) - cancelled_at, now - cancelled_at  # type: ignore[operator]
    raise RuntimeError("no cancelled event")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--token-ms", type=float, default=30.0)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--port", type=int, default=8932)
    args = parser.parse_args()
    server = start_server(args.port, timeout=300)
    url = f"ws://127.0.0.1:{args.port}"
    try:
        firsts = [
            asyncio.run(first_audio(url, SENTENCES[i % len(SENTENCES)], args.token_ms / 1000))
            for i in range(args.repeats)
        ]
        cancels = [asyncio.run(cancel_latency(url, args.steps)) for _ in range(args.repeats)]
        summary = httpx.get(f"http://127.0.0.1:{args.port}/metrics/summary", timeout=10).json()
    finally:
        server.stop()
    costs = summary.get("scheduler", {}).get("costs_s_per_frame", {})
    step_per_frame = costs.get("denoise@1")
    # A 50-character chunk is about 3 s of audio: 3 * 44100 / 3072 ≈ 43 latent frames.
    step_ms = step_per_frame * 43 * 1000 if step_per_frame else float("nan")
    print()
    print(f"| measure (median of {args.repeats}) | ms |")
    print("|---|---|")
    print(
        f"| first text delta → first audio ({args.token_ms:g} ms per word) | {statistics.median(firsts) * 1000:.0f} |"
    )
    print(
        f"| cancel → last audio frame of the context | {statistics.median(c[0] for c in cancels) * 1000:.0f} |"
    )
    print(
        f"| cancel → `cancelled` acknowledgement | {statistics.median(c[1] for c in cancels) * 1000:.0f} |"
    )
    print(f"| one denoising step of a ~3 s chunk (measured by the scheduler) | {step_ms:.0f} |")


if __name__ == "__main__":
    main()
