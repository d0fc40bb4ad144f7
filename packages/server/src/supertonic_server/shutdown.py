"""Stopping: first stop taking work and let what runs finish, only then close the sockets.

Left to itself, uvicorn answers SIGTERM by closing the listening socket and every WebSocket
(1012) at once, gives HTTP responses its graceful timeout and then cancels them mid-chunk;
the app's lifespan hears of the shutdown only after all that, when nothing is left to end
cleanly. So the CLI runs :class:`GracefulServer`, whose signal handler starts
:func:`drain` before uvicorn does anything:

1. ``/readyz`` turns 503 at once and new work is refused (``shutting_down``), while the
   socket still answers, so a load balancer sees the instance leave;
2. HTTP streams and WebSocket contexts in flight get ``shutdown_grace`` seconds to finish;
3. what still runs is then ended at once, even while its next chunk is still being
   synthesized, and ends cleanly: a raw audio body with its encoder's tail and a
   terminating chunk, an SSE ``error`` event, a WebSocket ``error`` message and close 1012
   (see ``streaming.py`` and ``routes/ws.py``). The audio already synthesized for it and
   not yet sent is dropped;
4. those last bytes get :data:`FLUSH_S`; then uvicorn closes the sockets, the lifespan
   closes the engine, and the process exits 0 (a drained stop is not a failure, so the
   signal is not re-raised as uvicorn would, which made the exit status 143). From the
   signal to the exit: the grace, :data:`FLUSH_S`, and uvicorn's own steps (tenths of a
   second), whatever the clients do.

A client that reads slowly still gets a clean end if, within :data:`FLUSH_S`, it reads
what is ahead of that end on the server's side (what its own socket buffer holds reaches it
even after the process exits): for an HTTP body about 150 KB (the kernel's unsent queue,
:data:`UNSENT_BYTES` plus up to one 64 KB segment, the transport's 64 KiB buffer, one 0.2 s
piece of audio, see ``streaming.py``); for a WebSocket, the audio message being sent,
which can be a whole chunk (20 s of audio, 1.3 MB of base64 pcm at 24 kHz). A client that does not read that much in time (or at all) cannot
be given its end: its connection is closed once :data:`FLUSH_S` is over (the body is cut,
the socket closes without the ``error``), so it never holds up the exit.

A second signal stops at once, without waiting for anything (uvicorn's force quit).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import signal
import socket
import time
from types import FrameType

import uvicorn
from fastapi import FastAPI

from .state import DRAINING, Lifecycle

logger = logging.getLogger("supertonic_server")

#: Seconds after the grace for what was ended to send its last bytes (see above).
FLUSH_S = 1.0
#: Unsent bytes the kernel may queue per connection (see GracefulServer.startup).
UNSENT_BYTES = 16 * 1024
_POLL_S = 0.05


def drain(app: FastAPI, since: float | None = None) -> asyncio.Task[None]:
    """Begin the drain (once: later calls return the same task); ``/readyz`` fails from now.

    ``since``: when the grace began (``time.monotonic()``: the signal's arrival, since a
    busy event loop may run this a little later), else now.
    """
    state = app.state
    task: asyncio.Task[None] | None = state.draining
    if task is None:
        lifecycle: Lifecycle = state.lifecycle
        with state.engine_lock:  # an engine finishing its load now sees the flag (app.py)
            lifecycle.status = DRAINING
        if state.starting is not None:
            state.starting.cancel()  # loading or warming: never becomes ready now
        task = state.draining = asyncio.ensure_future(
            _drain(lifecycle, state.settings.shutdown_grace, since)
        )
    return task


async def _drain(lifecycle: Lifecycle, grace: float, since: float | None) -> None:
    deadline = (time.monotonic() if since is None else since) + grace
    if lifecycle.busy:
        logger.info("shutting down: streams in flight get up to %g s to finish", grace)
    while lifecycle.busy and time.monotonic() < deadline:
        await asyncio.sleep(_POLL_S)
    if lifecycle.busy:
        logger.warning(
            "shutdown: ending %d HTTP stream(s) and %d WebSocket session(s) after the grace",
            len(lifecycle.streams),
            len(lifecycle.sessions),
        )
    lifecycle.finish_by = time.monotonic() + FLUSH_S
    lifecycle.ended.set()  # each WebSocket route stops sending audio, then says why
    for stream in list(lifecycle.streams):
        stream.cancel()
    for session in list(lifecycle.sessions):
        await session.aclose()
    # The WebSockets must have sent their error and close before uvicorn closes the rest
    # with a bare 1012; the HTTP bodies' last bytes are what uvicorn's own wait is for.
    while lifecycle.sessions and time.monotonic() < lifecycle.finish_by:
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

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's startup, then the listening sockets report a connection writable only
        while it has under :data:`UNSENT_BYTES` unsent (``TCP_NOTSENT_LOWAT``; accepted
        sockets inherit it).

        Why: to a slow reader the kernel would otherwise queue megabytes (its send buffer
        grows to 4 MiB), and report the socket writable again only once the client has
        read about a third of them, which no slow reader does within :data:`FLUSH_S`: a
        stream ended at shutdown could not get its last bytes out. Audio at real time
        needs far less than this in flight.
        """
        await super().startup(sockets)
        option = getattr(socket, "TCP_NOTSENT_LOWAT", None)
        for server in self.servers:
            for sock in server.sockets:
                if option is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                    sock.setsockopt(socket.IPPROTO_TCP, option, UNSENT_BYTES)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's shutdown, its wait for the connections bounded by the drain's deadline
        (what is left of :data:`FLUSH_S`) rather than a fixed timeout of its own."""
        lifecycle: Lifecycle = self.app.state.lifecycle
        if lifecycle.ended.is_set():
            left = lifecycle.finish_by - time.monotonic()
            self.config.timeout_graceful_shutdown = max(0.0, left)  # type: ignore[assignment]
        await super().shutdown(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._signals += 1
        if self._loop is None or self._signals > 1:
            self.should_exit = self.force_exit = True
        else:  # a fresh context: not the request id of whatever the signal interrupted
            name, now = signal.Signals(sig).name, time.monotonic()
            self._loop.call_soon_threadsafe(
                self._begin_drain, name, now, context=contextvars.Context()
            )

    def _begin_drain(self, signal_name: str, received: float) -> None:
        logger.info("received %s: draining", signal_name)
        drain(self.app, received).add_done_callback(lambda _: setattr(self, "should_exit", True))
