"""Fixtures for the Pipecat plugin tests: one live server, and both services behind one factory.

The same test functions run against ``SupertonicTTSService`` (in-process, on the session's
tiny synthetic bundle) and ``SupertonicServerTTSService`` (the same bundle served by a real
uvicorn on 127.0.0.1), so the two are held to exactly the same behaviour.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pipecat_supertonic import SupertonicServerTTSService, SupertonicTTSService
from supertonic_core import Engine
from supertonic_server import Settings
from supertonic_server.testing import LiveServer, engine_idle


@pytest.fixture(scope="session")
def pipecat_server(tiny_bundle_dir: Path) -> Iterator[LiveServer]:
    server = LiveServer(Settings(model_dir=str(tiny_bundle_dir), shutdown_grace=2.0)).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def short_input_server(tiny_bundle_dir: Path) -> Iterator[LiveServer]:
    """A server that takes at most 40 characters of waiting text per context."""
    settings = Settings(model_dir=str(tiny_bundle_dir), max_input_chars=40, warmup=False)
    server = LiveServer(settings).start()
    yield server
    server.stop()


@dataclass
class Variant:
    """One way of running the service, and the engine that ends up doing the work."""

    name: str
    make: Callable[..., Any]
    engine: Engine

    def idle(self) -> bool:
        """No stream active or waiting and no job queued in the engine's scheduler."""
        return engine_idle(self.engine)


@pytest.fixture(params=["in-process", "server"])
def variant(request: pytest.FixtureRequest) -> Variant:
    if request.param == "in-process":
        engine: Engine = request.getfixturevalue("engine")
        return Variant("in-process", lambda **kw: SupertonicTTSService(engine=engine, **kw), engine)
    server: LiveServer = request.getfixturevalue("pipecat_server")
    return Variant(
        "server",
        lambda **kw: SupertonicServerTTSService(url=server.base_url, **kw),
        server.engine,
    )


async def eventually(predicate: Callable[[], Any], *, timeout: float = 20.0, what: str) -> Any:
    """Poll ``predicate`` every 10 ms without blocking the loop, at most ``timeout`` s."""
    try:
        async with asyncio.timeout(timeout):
            while not (value := predicate()):
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None
    return value
