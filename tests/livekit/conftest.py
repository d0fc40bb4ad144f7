"""Fixtures for the LiveKit plugin tests: one TTS factory per backend, live servers.

The remote backend is tested against the real server (uvicorn on 127.0.0.1, a random
port, in a thread) with ``supertonic_server.testing.LiveServer``, as the server tests are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from livekit.agents import APIConnectOptions
from livekit.plugins import supertonic
from supertonic_core import Engine
from supertonic_server import Settings
from supertonic_server.testing import LiveServer, engine_idle

API_KEY = "livekit-test-key"
#: No retries and a bounded wait: a failure surfaces at once, with its own type.
NO_RETRY = APIConnectOptions(max_retry=0, timeout=20.0)


@pytest.fixture(scope="session")
def lk_server(tiny_bundle_dir: Path) -> Iterator[Any]:
    server = LiveServer(Settings(model_dir=str(tiny_bundle_dir), shutdown_grace=1.0)).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def lk_busy_server(tiny_bundle_dir: Path) -> Iterator[Any]:
    """One stream at a time, none waiting, and an API key."""
    settings = Settings(
        model_dir=str(tiny_bundle_dir),
        shutdown_grace=1.0,
        max_concurrent=1,
        max_queue=0,
        warmup=False,
        api_keys=(API_KEY,),
    )
    server = LiveServer(settings).start()
    yield server
    server.stop()


@dataclass
class Backend:
    """One way of running the plugin, and how to see the scheduler that serves it."""

    name: str
    engine: Engine  # the engine that synthesizes (in this process, or the server's)
    base_url: str | None = None
    tts_kwargs: dict[str, Any] = field(default_factory=dict)  # e.g. the busy server's key
    made: list[supertonic.TTS] = field(default_factory=list)

    def tts(self, **kwargs: Any) -> supertonic.TTS:
        kwargs = {**self.tts_kwargs, **kwargs}
        if self.base_url is not None:
            tts = supertonic.TTS(base_url=self.base_url, **kwargs)
        else:
            tts = supertonic.TTS(engine=self.engine, **kwargs)
        self.made.append(tts)
        return tts

    def idle(self) -> bool:
        """No stream active or waiting and no job queued."""
        return engine_idle(self.engine)

    async def aclose(self) -> None:
        for tts in self.made:
            await tts.aclose()


@pytest.fixture(params=["in-process", "remote"])
async def backend(request: pytest.FixtureRequest, engine: Engine) -> AsyncIterator[Backend]:
    if request.param == "remote":
        server = request.getfixturevalue("lk_server")
        b = Backend("remote", server.engine, base_url=server.base_url)
    else:
        b = Backend("in-process", engine)
    yield b
    await b.aclose()


def capture(tts: supertonic.TTS, event: str) -> Callable[[], list[Any]]:
    """Record the TTS's ``event`` emissions from now on; call the result to read them."""
    seen: list[Any] = []
    tts.on(event, seen.append)
    return lambda: seen
