"""Soak: mixed clients against one server for minutes; does memory or the thread count grow?

``uv run python benchmarks/soak.py [--minutes 10] [--clients 8]`` starts the server on the
``tiny`` synthetic bundle (the server's own code is what soaks, not the model) and runs
``--clients`` clients at once, each cycling through every kind of request: every response
format streamed over HTTP, SSE, a WebSocket utterance, and cancels (an HTTP stream dropped
after its first bytes, a WebSocket context cancelled mid-utterance). Every ``--interval``
seconds it samples the server's RSS and thread count (``/proc/PID/status``) and prints a row.
After the load it waits for the threads to come back to the idle count measured before.

Goals (printed at the end; the exit status is 1 if one is missed): RSS growth under 5 %
from minute 2 to the end (median of minutes 2-4 against median of the last two), threads back to their idle count once idle, zero errors.
Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import websockets
from common import REPLIES, free_port, machine_and_bundle, start_server

FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
KINDS = (*FORMATS, "sse", "ws", "cancel-http", "cancel-ws")


@dataclass
class Tally:
    """Requests and errors since the last sample (and in all)."""

    requests: int = 0
    errors: int = 0
    total_requests: int = 0
    total_errors: int = 0
    messages: list[str] = field(default_factory=list)

    def ok(self) -> None:
        self.requests += 1
        self.total_requests += 1

    def error(self, what: str) -> None:
        self.ok()
        self.errors += 1
        self.total_errors += 1
        if len(self.messages) < 10:
            self.messages.append(what)

    def take(self) -> tuple[int, int]:
        counts = self.requests, self.errors
        self.requests = self.errors = 0
        return counts


def status_of(pid: int) -> tuple[float, int]:
    """The process's resident memory (MB) and thread count."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["Threads"])


async def http_speech(client: httpx.AsyncClient, text: str, kind: str) -> None:
    sse = kind == "sse"
    body = {"input": text, "response_format": "pcm" if sse else kind}
    if sse:
        body["stream_format"] = "sse"
    async with client.stream("POST", "/v1/audio/speech", json=body) as response:
        if response.status_code != 200:
            raise RuntimeError(f"{kind}: HTTP {response.status_code}")
        data = await response.aread()
    if not data:
        raise RuntimeError(f"{kind}: empty body")
    if sse and b'"speech.audio.done"' not in data.rsplit(b"data: ", 1)[-1]:
        raise RuntimeError("sse: no speech.audio.done at the end")


async def http_cancel(client: httpx.AsyncClient, text: str) -> None:
    body = {"input": text, "response_format": "pcm"}
    async with client.stream("POST", "/v1/audio/speech", json=body) as response:
        if response.status_code != 200:
            raise RuntimeError(f"cancel-http: HTTP {response.status_code}")
        async for _ in response.aiter_bytes():
            break  # leave after the first bytes: the server must cancel


async def ws_utterance(url: str, text: str, *, cancel: bool) -> None:
    async with websockets.connect(url, max_size=None) as ws:
        if json.loads(await ws.recv())["type"] != "ready":
            raise RuntimeError("ws: no ready")
        await ws.send(json.dumps({"type": "text", "text": text, "context_id": "c"}))
        await ws.send(json.dumps({"type": "flush", "context_id": "c"}))
        while True:
            msg = json.loads(await ws.recv())
            if msg["type"] == "error":
                raise RuntimeError(f"ws: {msg.get('code')}: {msg.get('message')}")
            if msg["type"] == "audio" and cancel:
                await ws.send(json.dumps({"type": "cancel", "context_id": "c"}))
                cancel = False  # once; then "cancelled" (or "audio_end" if the end won)
            if msg["type"] in ("audio_end", "cancelled"):
                return


async def client_loop(n: int, base: str, deadline: float, tally: Tally) -> None:
    ws_url = base.replace("http", "ws", 1) + "/v1/audio/speech/stream"
    kinds = itertools.islice(itertools.cycle(KINDS), n, None)  # clients start out of step
    texts = itertools.cycle(REPLIES[n % len(REPLIES) :] + REPLIES[: n % len(REPLIES)])
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        while time.monotonic() < deadline:
            kind, text = next(kinds), next(texts)
            try:
                if kind in (*FORMATS, "sse"):
                    await http_speech(client, text, kind)
                elif kind == "cancel-http":
                    await http_cancel(client, text)
                else:
                    await ws_utterance(ws_url, text, cancel=kind == "cancel-ws")
                tally.ok()
            except Exception as exc:  # every failure is a finding: count it, go on
                tally.error(f"{kind}: {type(exc).__name__}: {exc}")


def rss_growth(samples: list[tuple[float, float]], *, start_minute: float) -> float:
    """Percent growth of RSS from ``start_minute`` to the end: the median of the first two
    minutes of that span against the median of the last two, so that one sample taken
    while many streams hold their buffers does not read as a trend."""
    span = [(minute, rss) for minute, rss in samples if minute >= start_minute]
    if len(span) < 2:
        return 0.0
    end = span[-1][0]
    early = [rss for minute, rss in span if minute < start_minute + 2] or [span[0][1]]
    late = [rss for minute, rss in span if minute > end - 2] or [span[-1][1]]
    return (statistics.median(late) / statistics.median(early) - 1) * 100


async def soak(args: argparse.Namespace, base: str, pid: int) -> bool:
    idle_rss, idle_threads = status_of(pid)
    print(f"idle before the load: RSS {idle_rss:.0f} MB, {idle_threads} threads\n")
    print("| minute | RSS (MB) | threads | requests | errors |")
    print("|---|---|---|---|---|")
    tally = Tally()
    start = time.monotonic()
    deadline = start + args.minutes * 60
    clients = [
        asyncio.create_task(client_loop(n, base, deadline, tally)) for n in range(args.clients)
    ]
    samples: list[tuple[float, float]] = []
    while time.monotonic() < deadline:
        await asyncio.sleep(min(args.interval, max(0.0, deadline - time.monotonic())))
        minute = (time.monotonic() - start) / 60
        rss, threads = status_of(pid)
        requests, errors = tally.take()
        samples.append((minute, rss))
        print(f"| {minute:.1f} | {rss:.0f} | {threads} | {requests} | {errors} |", flush=True)
    await asyncio.gather(*clients)

    threads_after = status_of(pid)[1]
    settle = time.monotonic() + 30
    while threads_after > idle_threads and time.monotonic() < settle:
        await asyncio.sleep(0.5)
        threads_after = status_of(pid)[1]

    growth = rss_growth(samples, start_minute=min(2.0, args.minutes / 5))
    goals = {
        f"RSS growth from minute 2 to the end (medians): {growth:+.1f} % (goal < 5 %)": growth < 5,
        f"threads once idle: {threads_after} (idle before: {idle_threads})": threads_after
        <= idle_threads,
        f"errors: {tally.total_errors} of {tally.total_requests} requests": tally.total_errors == 0,
    }
    print()
    for line, met in goals.items():
        print(f"{'ok  ' if met else 'MISS'} {line}")
    for message in tally.messages:
        print(f"  error: {message}")
    return all(goals.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--interval", type=float, default=30, help="seconds between samples")
    args = parser.parse_args()
    bundle = machine_and_bundle("tiny")
    server = start_server(free_port(), bundle=bundle)
    try:
        return 0 if asyncio.run(soak(args, server.url, server.proc.pid)) else 1
    finally:
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
