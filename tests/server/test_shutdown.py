"""SIGTERM on the real ``supertonic-server`` process, with streams of every transport open.

The clients do not read until after the signal, so every stream is still in flight when the
grace period runs out (the audio is far larger than the socket buffers): each must then end
cleanly (a terminated chunked body that decodes, an SSE ``error`` event, a WebSocket
``error`` message and close), ``/readyz`` must turn 503 at once, and the process must exit 0.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import websockets
from supertonic_core import Engine
from supertonic_server.app import load_engine
from supertonic_server.settings import Settings
from supertonic_server.state import DRAINING

from .conftest import LiveServer, decode, wait_for
from .test_cli import SCRIPT, free_port

LONG = ("One more sentence for the speaker to say. " * 100)[:4000]
GRACE_S = 4


@contextmanager
def server_process(bundle: Path, log: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "SUPERTONIC_MODEL_DIR": str(bundle),
        "SUPERTONIC_WARMUP": "0",
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [SCRIPT, "--log-level", "info", *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


async def wait_ready(proc: subprocess.Popen[bytes], base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as client, asyncio.timeout(60):
        while True:
            assert proc.poll() is None, "the server exited early"
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)


@asynccontextmanager
async def opened(client: httpx.AsyncClient, **body: str) -> AsyncIterator[httpx.Response]:
    request = client.build_request("POST", "/v1/audio/speech", json={"input": LONG, **body})
    response = await client.send(request, stream=True)
    try:
        assert response.status_code == 200
        yield response
    finally:
        await response.aclose()


def sse_events(body: bytes) -> list[dict]:
    return [json.loads(line[6:]) for line in body.split(b"\n\n") if line.startswith(b"data: ")]


async def test_sigterm_gives_every_stream_its_grace_then_ends_it_cleanly(
    tiny_bundle_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    args = ("--port", str(port), "--shutdown-grace", str(GRACE_S))
    with server_process(tiny_bundle_dir, log, *args) as proc:
        await wait_ready(proc, base)
        async with (
            httpx.AsyncClient(base_url=base, timeout=60) as client,
            opened(client, response_format="pcm") as pcm,
            opened(client, response_format="flac") as flac,
            opened(client, response_format="pcm", stream_format="sse") as sse,
            websockets.connect(
                f"ws://127.0.0.1:{port}/v1/audio/speech/stream", max_queue=4, max_size=None
            ) as ws,
        ):
            assert json.loads(await ws.recv())["type"] == "ready"
            await ws.send(json.dumps({"type": "text", "text": LONG}))
            await ws.send(json.dumps({"type": "flush"}))
            assert json.loads(await ws.recv())["type"] == "audio_start"

            proc.send_signal(signal.SIGTERM)
            async with httpx.AsyncClient(base_url=base) as probe:
                # Probes see "not ready" as soon as the signal lands (the socket still answers
                # during the grace), and no new stream is admitted.
                async with asyncio.timeout(30):
                    while (await probe.get("/readyz")).status_code != 503:
                        await asyncio.sleep(0.01)
                refused = await probe.post("/v1/audio/speech", json={"input": "Hi."})
                assert refused.status_code == 503
                assert refused.json()["error"]["code"] == "shutting_down"

            # Only now read: every body is complete (httpx raises on a cut chunked body).
            raw = await pcm.aread()
            assert raw and len(raw) % 2 == 0
            samples, _ = decode("flac", await flac.aread())
            assert len(samples) > 0
            events = sse_events(await sse.aread())
            assert events[-1]["type"] == "error"
            assert events[-1]["error"]["code"] == "shutting_down"
            audio = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
            assert len(audio) % 2 == 0

            messages = []
            try:
                async with asyncio.timeout(60):
                    async for frame in ws:
                        if isinstance(frame, str):
                            messages.append(json.loads(frame))
            except websockets.ConnectionClosed:
                pass
            assert messages[-1]["type"] == "error"
            assert messages[-1]["code"] == "shutting_down" and messages[-1]["fatal"] is True
            assert ws.close_code == 1012
        assert proc.wait(timeout=60) == 0
    output = log.read_text()
    assert "shutdown complete" in output
    assert "timeout graceful shutdown exceeded" not in output


def test_an_engine_still_loading_at_shutdown_is_closed(base_settings: Settings) -> None:
    """The factory returns after the server began to stop: that engine is closed, not leaked."""
    entered, gate = threading.Event(), threading.Event()
    closed: list[bool] = []

    def slow_factory(settings: Settings) -> Engine:
        entered.set()
        gate.wait(30)
        engine = load_engine(settings)
        close = engine.close
        engine.close = lambda: (closed.append(True), close())[1]  # type: ignore[method-assign]
        return engine

    server = LiveServer(
        base_settings.model_copy(update={"warmup": False}), engine_factory=slow_factory
    )
    server.start(wait_ready=False)
    assert entered.wait(30)
    server.server.should_exit = True
    wait_for(lambda: server.app.state.lifecycle.status == DRAINING, what="draining")
    gate.set()
    server.stop()
    assert closed == [True]
