"""Stopping: first stop taking work and let what runs finish, only then close the sockets.

Left to itself, uvicorn answers SIGTERM by closing the listening socket and every WebSocket
(1012) at once, gives HTTP responses its graceful timeout and then cancels them mid-chunk;
the app's lifespan hears of the shutdown only after all that, when nothing is left to end
cleanly. So the CLI runs :class:`GracefulServer`, whose signal handler starts
:func:`drain` before uvicorn does anything:

1. ``/readyz`` turns 503 at once and new work is refused (``shutting_down``), while the
   socket still answers, so a load balancer sees the instance leave;
2. HTTP streams and WebSocket contexts in flight get ``shutdown_grace`` seconds to finish;
3. what still runs is cancelled at its next denoising step and ends cleanly: a raw audio
   body with its encoder's tail and a terminating chunk, an SSE ``error`` event, a WebSocket
   ``error`` message and close 1012 (see ``streaming.py`` and ``routes/ws.py``);
4. uvicorn then closes the sockets (giving the last bytes :data:`FLUSH_S`), the lifespan
   closes the engine, and the process exits 0: a drained stop is not a failure, so the
   signal is not re-raised as uvicorn would (which made the exit status 143).

A second signal stops at once, without waiting for anything (uvicorn's force quit).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import signal
import socket
from types import FrameType

import uvicorn
from fastapi import FastAPI

from .state import DRAINING, Lifecycle

logger = logging.getLogger("supertonic_server")

#: Seconds uvicorn waits, after the drain, for the last bytes of the streams it ended.
FLUSH_S = 5.0
_POLL_S = 0.05


def drain(app: FastAPI) -> asyncio.Task[None]:
    """Begin the drain (once: later calls return the same task); ``/readyz`` fails from now."""
    state = app.state
    task: asyncio.Task[None] | None = state.draining
    if task is None:
        lifecycle: Lifecycle = state.lifecycle
        with state.engine_lock:  # an engine finishing its load now sees the flag (app.py)
            lifecycle.status = DRAINING
        if state.starting is not None:
            state.starting.cancel()  # loading or warming: never becomes ready now
        task = state.draining = asyncio.ensure_future(
            _drain(lifecycle, state.settings.shutdown_grace)
        )
    return task


async def _drain(lifecycle: Lifecycle, grace: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    if lifecycle.busy:
        logger.info("shutting down: streams in flight get up to %g s to finish", grace)
    while lifecycle.busy and loop.time() < deadline:
        await asyncio.sleep(_POLL_S)
    if lifecycle.busy:
        logger.warning(
            "shutdown: ending %d HTTP stream(s) and %d WebSocket session(s) after the grace",
            len(lifecycle.streams),
            len(lifecycle.sessions),
        )
    for stream in list(lifecycle.streams):
        stream.cancel()
    for session in list(lifecycle.sessions):
        await session.aclose()
    # Each socket now sends what its session still holds, then the error and its close:
    # wait for that before uvicorn closes the sockets that remain with a bare 1012.
    deadline = loop.time() + FLUSH_S
    while lifecycle.sessions and loop.time() < deadline:
        await asyncio.sleep(_POLL_S)


class GracefulServer(uvicorn.Server):
    """uvicorn's server, but a signal drains ``app`` before the sockets close (see above)."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self.app = app
        self._loop: asyncio.AbstractEventLoop | None = None
        self._signals = 0

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._signals += 1
        if self._loop is None or self._signals > 1:
            self.should_exit = self.force_exit = True
        else:  # a fresh context: not the request id of whatever the signal interrupted
            name = signal.Signals(sig).name
            self._loop.call_soon_threadsafe(self._begin_drain, name, context=contextvars.Context())

    def _begin_drain(self, signal_name: str) -> None:
        logger.info("received %s: draining", signal_name)
        drain(self.app).add_done_callback(lambda _: setattr(self, "should_exit", True))
