"""The server's lifecycle: loading → ready → draining (or failed), and the open streams."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection
from supertonic_core.errors import ErrorCode

from .errors import APIError

if TYPE_CHECKING:
    from supertonic_core import Engine, SynthesisStream
    from supertonic_core.session import SpeechSession

LOADING, READY, FAILED, DRAINING = "loading", "ready", "failed", "draining"


@dataclass(eq=False)
class Lifecycle:
    """Kept in ``app.state.lifecycle``: ``streams`` holds every HTTP synthesis stream in
    flight, ``sessions`` every open WebSocket session (what a shutdown drains).

    ``ended`` is set once a shutdown's grace is over (``shutdown.py``): what still runs is
    ended now, and must have sent its last bytes by ``finish_by`` (``time.monotonic()``).
    """

    status: str = LOADING
    error: str | None = None
    streams: set[SynthesisStream] = field(default_factory=set)
    sessions: set[SpeechSession] = field(default_factory=set)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    finish_by: float = math.inf

    @property
    def ready(self) -> bool:
        return self.status == READY

    @property
    def busy(self) -> bool:
        """An HTTP stream or a WebSocket context is still in flight."""
        return bool(self.streams) or any(session.contexts for session in self.sessions)

    def unavailable(self) -> APIError:
        """The 503 that explains why requests cannot be served right now."""
        if self.status == LOADING:
            return APIError(
                ErrorCode.MODEL_LOADING,
                "The model is still loading; retry in a few seconds.",
                headers={"Retry-After": "2"},
            )
        if self.status == DRAINING:
            return APIError(ErrorCode.SHUTTING_DOWN, "The server is shutting down.")
        return APIError(ErrorCode.MODEL_UNAVAILABLE, f"The model failed to load: {self.error}")


def require_engine(conn: HTTPConnection) -> Engine:
    """The loaded engine, or the 503 saying why there is none (usable by any route)."""
    lifecycle: Lifecycle = conn.app.state.lifecycle
    engine = conn.app.state.engine
    if not lifecycle.ready or engine is None:
        raise lifecycle.unavailable()
    return engine
