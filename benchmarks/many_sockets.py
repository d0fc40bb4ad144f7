"""Many sockets per replica: 1,000 mostly idle WebSocket sessions while 4 agents speak.

Voice platforms keep a socket open per call. For each count of idle sockets (``--idle``,
default ``0,1000``) this starts a fresh ``supertonic-server`` on 127.0.0.1 (``full``
synthetic bundle, or ``--profile tiny``), opens the idle sockets from a separate process (each greets, then sends
a keep-alive ``ping`` every ``--ping-s`` seconds and reads the ``pong``), and measures:

- the server's resident memory before and after they open, per idle socket;
- 4 speakers, each saying ``--rounds`` agent replies one after another (a short opener
  then longer sentences, sent as LLM tokens), first audio per reply (first token → first
  ``audio``): p50/p95 and each reply's own figure;
- the server's event-loop lag (``supertonic_event_loop_lag_seconds``, a 0.1 s timer) over
  the speaking phase: p50/p99 from the histogram's buckets.

Every loop is bounded in count and time, and all traffic stays on loopback.

    uv run python benchmarks/many_sockets.py [--idle 0,1000] [--rounds 6]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections import defaultdict

import httpx
from common import REPLIES, free_port, machine_and_bundle, pct, start_server, two_word_pieces
from prometheus_client.parser import text_string_to_metric_families
from soak import status_of
from supertonic_core.client import SpeechClient
from supertonic_core.protocol import Audio, AudioEnd
from supertonic_server.metrics import bucket_quantile

IDLE_CLIENT = r"""
import asyncio, json, sys, websockets
url, n, ping_s = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
async def idle(i, opened):
    async with websockets.connect(url, open_timeout=60, max_queue=4) as ws:
        await ws.recv()  # ready
        opened.append(i)
        while True:
            await asyncio.sleep(ping_s)
            await ws.send(json.dumps({"type": "ping"}))
            await asyncio.wait_for(ws.recv(), 30)
async def main():
    opened = []
    tasks = []
    for i in range(n):  # in batches, as calls arrive
        tasks.append(asyncio.create_task(idle(i, opened)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)
    async with asyncio.timeout(300):
        while len(opened) < n:
            failed = [t for t in tasks if t.done()]
            if failed:
                raise SystemExit(f"an idle socket failed: {failed[0].exception()!r}")
            await asyncio.sleep(0.1)
    print("open", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
asyncio.run(main())
"""


def lag_buckets(base: str) -> list[tuple[float, float]]:
    """The event-loop lag histogram's cumulative buckets, scraped now."""
    text = httpx.get(f"{base}/metrics", timeout=30).text
    for family in text_string_to_metric_families(text):
        if family.name == "supertonic_event_loop_lag_seconds":
            return sorted(
                (float(s.labels["le"]), s.value)
                for s in family.samples
                if s.name.endswith("_bucket")
            )
    raise SystemExit("the server exports no event-loop lag")


async def speaker(url: str, replies: list[str], firsts: dict[str, list[float]]) -> None:
    async with SpeechClient(url) as client:
        for reply in replies:
            started = time.perf_counter()
            first = None

            async def feed(text: str = reply) -> None:
                for piece in two_word_pieces(text):
                    await client.send_text(piece)
                    await asyncio.sleep(0.02)
                await client.flush()

            feeder = asyncio.create_task(feed())
            async with asyncio.timeout(120):
                async for event in client.events():
                    if isinstance(event, Audio) and first is None:
                        first = time.perf_counter() - started
                    if isinstance(event, AudioEnd):
                        break
            await feeder
            firsts[reply].append(first if first is not None else float("nan"))


async def speak(url: str, rounds: int) -> dict[str, list[float]]:
    firsts: dict[str, list[float]] = defaultdict(list)
    plan = [[REPLIES[(s + r) % len(REPLIES)] for r in range(rounds)] for s in range(4)]
    await asyncio.gather(*(speaker(url, replies, firsts) for replies in plan))
    return firsts


def run(idle: int, args: argparse.Namespace, bundle: object) -> dict[str, object]:
    port = free_port()
    server = start_server(port, "--ws-idle-timeout", "600", bundle=bundle, timeout=300)
    url = f"ws://127.0.0.1:{port}"
    clients = None
    try:
        time.sleep(2)  # settle after warm-up
        before, threads_before = status_of(server.proc.pid)
        if idle:
            clients = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    IDLE_CLIENT,
                    f"{url}/v1/audio/speech/stream",
                    str(idle),
                    str(args.ping_s),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert clients.stdout is not None
            if clients.stdout.readline().strip() != "open":
                raise SystemExit("the idle sockets did not open")
            time.sleep(3)
        opened, threads = status_of(server.proc.pid)
        lag_start = lag_buckets(server.url)
        firsts = asyncio.run(speak(url, args.rounds))
        lag_end = lag_buckets(server.url)
        delta = [
            (le, end - start) for (le, end), (_, start) in zip(lag_end, lag_start, strict=True)
        ]
        return {
            "idle": idle,
            "rss_before": before,
            "rss_open": opened,
            "per_socket_kb": (opened - before) * 1024 / idle if idle else None,
            "threads": (threads_before, threads),
            "firsts": firsts,
            "lag_p50": (bucket_quantile(0.5, delta) or 0) * 1000,
            "lag_p99": (bucket_quantile(0.99, delta) or 0) * 1000,
        }
    finally:
        if clients is not None:
            clients.kill()
            clients.wait()
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle", default="0,1000", help="comma list of idle socket counts")
    parser.add_argument("--rounds", type=int, default=6, help="replies per speaker")
    parser.add_argument("--ping-s", type=float, default=20.0, help="keep-alive interval")
    parser.add_argument(
        "--profile",
        choices=("tiny", "full"),
        default="full",
        help="tiny: the model costs little, so what the idle sockets cost shows",
    )
    args = parser.parse_args()
    bundle = machine_and_bundle(args.profile)
    results = [run(int(n), args, bundle) for n in args.idle.split(",")]
    print(
        "\n| idle sockets | RSS before → open | per idle socket | threads | first audio p50 / p95 | loop lag p50 / p99 |"
    )
    print("|---|---|---|---|---|---|")
    for r in results:
        everything = [v for vs in r["firsts"].values() for v in vs]  # type: ignore[union-attr]
        per = f"{r['per_socket_kb']:.1f} KB" if r["per_socket_kb"] is not None else "-"
        print(
            f"| {r['idle']} | {r['rss_before']:.0f} → {r['rss_open']:.0f} MB | {per} | "
            f"{r['threads'][0]} → {r['threads'][1]} | {pct(everything, 0.5):.3f} / "  # type: ignore[index]
            f"{pct(everything, 0.95):.3f} s | {r['lag_p50']:.1f} / {r['lag_p99']:.1f} ms |"
        )
    print("\nfirst audio per reply (s), p50 / max over the speakers' rounds:")
    print("| reply | " + " | ".join(f"{r['idle']} idle" for r in results) + " |")
    print("|---|" + "---|" * len(results))
    for reply in REPLIES:
        cells = []
        for r in results:
            values = r["firsts"].get(reply, [])  # type: ignore[union-attr]
            cells.append(f"{pct(values, 0.5):.3f} / {max(values):.3f}" if values else "-")
        print(f"| {reply[:40]}… | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
