"""SIGTERM with long streams of every transport open: how long to exit, how each stream ends.

``uv run python benchmarks/shutdown_streams.py [--profile tiny] [--grace 10] [--read-kib-s 256]``
starts ``python -m supertonic_server.cli --shutdown-grace GRACE --max-concurrent 8`` on a
synthetic bundle and opens one long stream (4000 characters) of each transport: raw HTTP
bodies in every format (wav, pcm, flac, mp3, opus, aac), an SSE stream (pcm) and a
WebSocket utterance. Every client reads at most ``--read-kib-s`` KiB/s while the server
runs (on the ``tiny`` bundle the server produces far faster, so its sends back up), and
reads what is left in its socket at once after the server has exited. Once every stream
has sent audio and ``--settle`` seconds more have passed, the server gets SIGTERM.

The table: per stream, when the client saw it end after the signal and how (a raw body
terminated and decoded by PyAV or ``wave``, or cut; the last SSE event; the last WebSocket
message and the close code), then the time from SIGTERM to the process's exit and its
status, and the server's shutdown log lines. Goal (issue 22): exit 0 within grace + 2 s,
every stream ended cleanly. Every wait is bounded (``--limit`` seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import signal
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass

import av
import httpx
import websockets
from common import free_port, machine_and_bundle

FORMATS = ("wav", "pcm", "flac", "mp3", "opus", "aac")
TEXT = " ".join(
    f"Sentence number {n} of a long reply, read aloud to a listener who is in no hurry."
    for n in range(1, 60)
)[:4000]


@dataclass
class Outcome:
    name: str
    started: asyncio.Event
    ended_at: float | None = None  # monotonic
    received: int = 0
    how: str = "still open"
    clean: bool = False


def decoded_seconds(fmt: str, data: bytes) -> float:
    """Seconds of audio in a whole body, by a decoder that is not ours (PyAV, ``wave``)."""
    if fmt == "pcm":
        if len(data) % 2:
            raise ValueError("odd length")
        return len(data) / 2 / 24000
    if fmt == "wav":
        with wave.open(io.BytesIO(data)) as w:
            frames = len(w.readframes(1 << 30)) // 2
            return frames / w.getframerate()
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.rate


class Reader:
    """Reads no faster than ``rate`` bytes per second while the server runs, then at once:
    what the server left in the socket buffers when it exited is all there is to see."""

    def __init__(self, proc: subprocess.Popen[bytes], rate: float) -> None:
        self.proc, self.rate = proc, rate

    async def after(self, size: int) -> None:
        if self.proc.poll() is None:
            await asyncio.sleep(size / self.rate)


async def slow_chunks(response: httpx.Response, reader: Reader):
    """The body in pieces, paced by ``reader``."""
    async for piece in response.aiter_raw(4096):
        yield piece
        await reader.after(len(piece))


async def http_stream(
    client: httpx.AsyncClient, outcome: Outcome, fmt: str, *, sse: bool, reader: Reader
) -> None:
    body = {"input": TEXT, "response_format": "pcm" if sse else fmt}
    if sse:
        body["stream_format"] = "sse"
    data = bytearray()
    try:
        async with client.stream("POST", "/v1/audio/speech", json=body) as response:
            if response.status_code != 200:
                outcome.how = f"HTTP {response.status_code}"
                return
            async for piece in slow_chunks(response, reader):
                data += piece
                outcome.received = len(data)
                outcome.started.set()
    except httpx.HTTPError as exc:
        outcome.how = f"cut: {type(exc).__name__}"
        return
    finally:
        outcome.ended_at = time.monotonic()
        outcome.started.set()
    if sse:
        events = [json.loads(e[6:]) for e in bytes(data).split(b"\n\n") if e.startswith(b"data: ")]
        last = events[-1] if events else {"type": "none"}
        code = last.get("error", {}).get("code")
        audio = b"".join(base64.b64decode(e["audio"]) for e in events if "audio" in e)
        outcome.how = f"{last['type']}{f' {code}' if code else ''}, {len(audio) / 48000:.1f} s"
        outcome.clean = last["type"] in ("error", "speech.audio.done")
        return
    try:
        outcome.how = f"terminated, decodes {decoded_seconds(fmt, bytes(data)):.1f} s"
        outcome.clean = True
    except Exception as exc:  # a body that does not decode is a finding, not a crash
        outcome.how = f"terminated, does not decode ({type(exc).__name__})"


async def ws_stream(url: str, outcome: Outcome, *, reader: Reader) -> None:
    last: dict = {"type": "none"}
    try:
        async with websockets.connect(url, max_size=None, max_queue=2) as ws:
            await ws.recv()  # ready
            await ws.send(json.dumps({"type": "text", "text": TEXT}))
            await ws.send(json.dumps({"type": "flush"}))
            try:
                async for frame in ws:
                    outcome.received += len(frame)
                    if isinstance(frame, str):
                        last = json.loads(frame)
                        if last["type"] == "audio":
                            outcome.started.set()
                    await reader.after(len(frame))
            except websockets.ConnectionClosed:
                pass
            outcome.ended_at = time.monotonic()
            code = ws.close_code
    except (OSError, websockets.WebSocketException) as exc:
        outcome.ended_at = time.monotonic()
        outcome.how = f"failed: {type(exc).__name__}"
        outcome.started.set()
        return
    outcome.started.set()
    what = last["type"] + (f" {last['code']}" if last.get("code") else "")
    outcome.how = f"last message {what}, close {code}"
    outcome.clean = last["type"] == "error" and code == 1012


async def measure(args: argparse.Namespace) -> int:
    bundle = machine_and_bundle(args.profile)
    port = free_port()
    cmd = [
        sys.executable, "-m", "supertonic_server.cli", "--model-dir", str(bundle),
        "--port", str(port), "--log-level", "info", "--shutdown-grace", str(args.grace),
        "--max-concurrent", "8",
    ]  # fmt: skip
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, after its lines are read
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(proc, url, args.limit)
        status, signalled, exited, outcomes = await run_streams(proc, url, args)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    print(f"\n--shutdown-grace {args.grace:g}, clients read {args.read_kib_s:g} KiB/s\n")
    print("| stream | ended after SIGTERM | received | how it ended |")
    print("|---|---|---|---|")
    for o in outcomes.values():
        ended = f"{o.ended_at - signalled:.1f} s" if o.ended_at else "-"
        print(f"| {o.name} | {ended} | {o.received / 1e6:.2f} MB | {o.how} |")
    clean = all(o.clean for o in outcomes.values())
    in_time = exited - signalled <= args.grace + 2
    print(
        f"\nexit status {status} after {exited - signalled:.1f} s (goal: 0 within "
        f"{args.grace + 2:g} s); every stream ended cleanly: {'yes' if clean else 'NO'}"
    )
    log.seek(0)
    lines = log.read().decode(errors="replace").splitlines()
    log.close()
    for line in lines:
        keys = (
            "received SIG",
            "shutting down:",
            "after the grace",
            "graceful",
            "shutdown complete",
        )
        if any(key in line for key in keys):
            print("  server:", line[line.index(" ") + 1 :][:150])
    return 0 if status == 0 and clean and in_time else 1


async def wait_ready(proc: subprocess.Popen[bytes], url: str, limit: float) -> None:
    async with httpx.AsyncClient(base_url=url) as client, asyncio.timeout(limit):
        while True:
            if proc.poll() is not None:
                raise SystemExit("the server exited before it was ready")
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)


async def run_streams(
    proc: subprocess.Popen[bytes], url: str, args: argparse.Namespace
) -> tuple[int, float, float, dict[str, Outcome]]:
    """Open every stream, SIGTERM once all have sent audio; (status, signalled, exited, ...)."""
    reader = Reader(proc, args.read_kib_s * 1024)
    names = [*FORMATS, "sse", "ws"]
    outcomes = {name: Outcome(name, asyncio.Event()) for name in names}
    async with httpx.AsyncClient(base_url=url, timeout=args.limit) as client:
        tasks = [
            asyncio.create_task(http_stream(client, outcomes[f], f, sse=False, reader=reader))
            for f in FORMATS
        ]
        tasks.append(
            asyncio.create_task(
                http_stream(client, outcomes["sse"], "pcm", sse=True, reader=reader)
            )
        )
        ws_url = url.replace("http", "ws", 1) + "/v1/audio/speech/stream"
        tasks.append(asyncio.create_task(ws_stream(ws_url, outcomes["ws"], reader=reader)))
        async with asyncio.timeout(args.limit):
            await asyncio.gather(*(o.started.wait() for o in outcomes.values()))
        await asyncio.sleep(args.settle)
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        status = await asyncio.to_thread(proc.wait, args.limit)
        exited = time.monotonic()
        _, pending = await asyncio.wait(tasks, timeout=args.limit)
        for task in pending:
            task.cancel()
    return status, signalled, exited, outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=("tiny", "full"), default="tiny")
    parser.add_argument("--grace", type=float, default=10.0)
    parser.add_argument("--read-kib-s", type=float, default=256.0)
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--limit", type=float, default=120.0)
    return asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
