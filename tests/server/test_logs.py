"""What reaches the log: no API key from a URL, and events rather than every poll."""

from __future__ import annotations

import asyncio
import logging
import threading

import httpx
import pytest
import websockets
from supertonic_core import Engine
from supertonic_server.app import load_engine
from supertonic_server.settings import Settings

from .conftest import API_KEY, LiveServer


def server_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the server logged (the test's own HTTP client logs its URLs too)."""
    return [r.getMessage() for r in caplog.records if r.name.startswith(("uvicorn", "supertonic"))]


def test_an_api_key_in_the_query_never_reaches_the_log(
    keyed: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    httpx.get(f"{keyed.base_url}/v1/models?api_key={API_KEY}&x=1")

    async def connect() -> None:
        url = f"ws://127.0.0.1:{keyed.port}/v1/audio/speech/stream?api_key={API_KEY}"
        async with websockets.connect(url) as ws:
            await ws.recv()

    asyncio.run(connect())
    logged = "\n".join(server_lines(caplog))
    assert "/v1/models?api_key=***&x=1" in logged
    assert "/v1/audio/speech/stream?api_key=***" in logged
    assert API_KEY not in logged


POLLED = ("/healthz", "/readyz", "/metrics", "/metrics/summary", "/metrics/recent")


def test_polls_are_not_logged_but_requests_are(
    live: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for _ in range(3):
        for path in POLLED:
            assert httpx.get(live.base_url + path).status_code == 200
    httpx.get(f"{live.base_url}/v1/models")
    access = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert not [line for line in access if any(f'"GET {p} ' in line for p in POLLED)]
    assert any('"GET /v1/models HTTP/1.1" 200' in line for line in access)


def test_polls_are_logged_at_debug(live: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    httpx.get(live.base_url + "/readyz")
    access = [r for r in caplog.records if r.name == "uvicorn.access"]
    assert [r.levelno for r in access if '"GET /readyz ' in r.getMessage()] == [logging.DEBUG]


def test_polling_readyz_while_loading_logs_nothing_per_poll(
    base_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The state ("loading") is an event worth a line; each probe that asks about it is not."""
    caplog.set_level(logging.INFO)
    gate = threading.Event()

    def slow_factory(settings: Settings) -> Engine:
        gate.wait(30)
        return load_engine(settings)

    server = LiveServer(
        base_settings.model_copy(update={"warmup": False}), engine_factory=slow_factory
    )
    server.start(wait_ready=False)
    try:
        for _ in range(5):
            assert httpx.get(server.base_url + "/readyz").status_code == 503
    finally:
        gate.set()
        server.stop()
    polls = [line for line in server_lines(caplog) if "readyz" in line]
    assert polls == []
