"""Fixtures for the Pipecat plugin tests: one live server, and both services behind one factory.

The same test functions run against ``SupertonicTTSService`` (in-process, on the session's
tiny synthetic bundle) and ``SupertonicServerTTSService`` (the same bundle served by a real
uvicorn on 127.0.0.1), so the two are held to exactly the same behaviour.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pipecat_supertonic import SupertonicServerTTSService, SupertonicTTSService
from supertonic_core import Engine
from supertonic_server import Settings


def _server_helpers() -> ModuleType:
    """The server tests' conftest, loaded by path (``tests`` is not a package to import from)."""
    name = "_pipecat_tests_server_helpers"
    if name not in sys.modules:
        path = Path(__file__).parents[1] / "server" / "conftest.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_helpers = _server_helpers()
LiveServer = _helpers.LiveServer
wait_for = _helpers.wait_for


@pytest.fixture(scope="session")
def pipecat_server(tiny_bundle_dir: Path) -> Iterator[LiveServer]:
    server = LiveServer(Settings(model_dir=str(tiny_bundle_dir), shutdown_grace=2.0)).start()
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
        state = self.engine.scheduler.state()
        return (
            state["queued_jobs"] == 0
            and state["active_streams"] == 0
            and state["waiting_streams"] == 0
        )


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
