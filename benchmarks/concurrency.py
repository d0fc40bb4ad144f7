"""Many concurrent streams through the real server: latency, throughput and underruns.

For each configuration, starts ``supertonic-server`` on the ``full`` synthetic bundle (real
dimensions, random weights) on 127.0.0.1, then runs 1, 2, 4, 8 and 16 closed-loop streams
(each sends its next request as soon as the previous one has arrived) of mixed-length
English text with ``response_format=pcm``. Every byte's arrival time is recorded, and each
stream is played back in real time from its first byte to count underruns. A request
refused with 429 is retried after its ``Retry-After``, as the OpenAI SDK does; TTFB is
measured on the attempt that was served, and "first audio" from the first attempt.
Bounded: each level runs for ``--seconds`` of wall time (requests in flight then finish).
The peers' arrival-order servers are measured by ``vs_peers.py`` directly.

    uv run python benchmarks/concurrency.py [--levels 1,2,4,8,16] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import time
from dataclasses import dataclass, field

import httpx
from common import start_server, synthetic_bundle

TEXTS = [
    "Sure, I can help with that.",
    "Got it. I have updated your address.",
    "Your order has shipped and should arrive on Thursday. You will get a tracking link by email.",
    "I found three flights that match. The cheapest one leaves at seven in the morning, "
    "and it has one stop in Denver.",
    "Before we continue, could you please confirm the last four digits of the card on file? "
    "I need them to verify the account.",
    "The weather tomorrow looks mostly sunny, with a light breeze from the west. Expect a high "
    "of twenty degrees in the afternoon. It should cool down quickly after sunset, so bring a jacket.",
    "Thanks for waiting. I checked with the team, and the replacement part will ship today. "
    "It should reach you within two business days. If it does not, just reply to this message "
    "and we will send another one right away.",
    "Okay.",
]
RATE = 24000  # pcm default of the server (OpenAI's)


@dataclass
class Request:
    ttfb: float = 0.0  # of the attempt that was served
    first_audio: float = 0.0  # from the first attempt, waits for Retry-After included
    refused: int = 0
    audio_s: float = 0.0
    underruns: int = 0
    underrun_s: float = 0.0


@dataclass
class Stream:
    requests: list[Request] = field(default_factory=list)

    @property
    def underruns(self) -> int:
        return sum(r.underruns for r in self.requests)


async def one_request(client: httpx.AsyncClient, text: str) -> Request:
    body = {"model": "tts-1", "input": text, "voice": "alloy", "response_format": "pcm"}
    req = Request()
    first_try = time.perf_counter()
    while True:
        started = time.perf_counter()
        async with client.stream("POST", "/v1/audio/speech", json=body) as resp:
            if resp.status_code != 429:
                resp.raise_for_status()
                await receive(resp, req, started, first_try)
                return req
            req.refused += 1
            await asyncio.sleep(float(resp.headers.get("retry-after", "1")))


async def receive(resp: httpx.Response, req: Request, started: float, first_try: float) -> None:
    """Play the response back in real time from its first byte, counting underruns."""
    play_end = None
    async for piece in resp.aiter_bytes():
        now = time.perf_counter()
        seconds = len(piece) / 2 / RATE
        if play_end is None:
            req.ttfb = now - started
            req.first_audio = now - first_try
            play_end = now
        elif now > play_end:
            req.underruns += 1
            req.underrun_s += now - play_end
            play_end = now
        play_end += seconds
        req.audio_s += seconds


async def closed_loop(base_url: str, stream: Stream, stop_at: float, seed: int) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base_url, timeout=300) as client:
        while time.perf_counter() < stop_at:
            stream.requests.append(await one_request(client, rng.choice(TEXTS)))


async def level(base_url: str, n: int, seconds: float) -> dict[str, float]:
    streams = [Stream() for _ in range(n)]
    started = time.perf_counter()
    await asyncio.gather(
        *(closed_loop(base_url, s, started + seconds, i) for i, s in enumerate(streams))
    )
    wall = time.perf_counter() - started
    reqs = [r for s in streams for r in s.requests]
    ttfbs = sorted(r.ttfb for r in reqs)
    firsts = sorted(r.first_audio for r in reqs)
    return {
        "streams": n,
        "requests": len(reqs),
        "refused": sum(r.refused for r in reqs),
        "ttfb_p50": statistics.median(ttfbs),
        "ttfb_p95": ttfbs[min(len(ttfbs) - 1, int(0.95 * len(ttfbs)))],
        "first_audio_p50": statistics.median(firsts),
        "first_audio_p95": firsts[min(len(firsts) - 1, int(0.95 * len(firsts)))],
        "throughput": sum(r.audio_s for r in reqs) / wall,
        "underruns": sum(s.underruns for s in streams),
        "underrun_s": sum(r.underrun_s for r in reqs),
        "clean_streams": sum(1 for s in streams if s.underruns == 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--levels", default="1,2,4,8,16")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--port", type=int, default=8931)
    parser.add_argument(
        "--configs",
        default="default",
        help="comma list of configurations: 'default', or extra server flags joined by +, "
        "e.g. default,--max-queue+0",
    )
    args = parser.parse_args()
    synthetic_bundle("full")
    levels = [int(x) for x in args.levels.split(",")]
    results: dict[str, list[dict[str, float]]] = {}
    for config in args.configs.split(","):
        flags = [] if config == "default" else config.split("+")
        server = start_server(args.port, *flags, timeout=300)
        try:
            base = server.url
            state = httpx.get(f"{base}/metrics/summary", timeout=10).json().get("scheduler", {})
            print(
                f"{config}: scheduler max_streams={state.get('max_streams')} "
                f"max_batch={state.get('max_batch')} capacity={state.get('capacity_audio_s_per_s')}",
                flush=True,
            )
            results[config] = []
            for n in levels:
                row = asyncio.run(level(base, n, args.seconds))
                results[config].append(row)
                print(f"  {n:2d} streams: {row}", flush=True)
        finally:
            server.stop(signal.SIGINT)

    print()
    print(f"machine: {os.cpu_count()} cores; {args.seconds:g} s per level; pcm 24 kHz; closed loop")
    print()
    print(
        "| config | streams | requests | refused (429) | TTFB p50 (s) | TTFB p95 (s) | first audio p50 / p95 (s) | audio-s / wall-s | underruns | underrun s | streams without underrun |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for config, rows in results.items():
        for r in rows:
            print(
                f"| {config} | {r['streams']} | {r['requests']} | {r['refused']} | {r['ttfb_p50']:.2f} | {r['ttfb_p95']:.2f} | "
                f"{r['first_audio_p50']:.2f} / {r['first_audio_p95']:.2f} | "
                f"{r['throughput']:.2f} | {r['underruns']} | {r['underrun_s']:.1f} | {r['clean_streams']}/{r['streams']} |"
            )


if __name__ == "__main__":
    main()
