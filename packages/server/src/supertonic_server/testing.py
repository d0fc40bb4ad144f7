"""Run the real server in a thread, for tests: uvicorn on 127.0.0.1, a random free port.

:class:`LiveServer` serves ``create_app(settings)`` from a background thread of the test
process, so a test can talk to it over real sockets (HTTP, WebSocket) and still reach its
engine. Waits are bounded polls (:func:`wait_for`), never sleeps of a guessed length.
Uses only the standard library beyond the server's own dependencies.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Future, InvalidStateError
from contextlib import contextmanager
from functools import partial
from typing import Any

import uvicorn
from fastapi import FastAPI
from supertonic_core import Engine, EngineClosedError

from .app import create_app
from .routes.ws import UVICORN_WS_OPTIONS
from .settings import Settings

__all__ = ["ChunkGate", "LiveServer", "engine_idle", "submitted_steps", "wait_for"]

#: Straight to the loopback address, whatever proxy the environment names.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def wait_for(
    predicate: Callable[[], Any], *, timeout: float = 20.0, what: str = "condition"
) -> Any:
    """Poll ``predicate`` every 20 ms until it returns something truthy, at most ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def engine_idle(engine: Engine) -> bool:
    """No stream active or waiting and no job queued in ``engine``'s scheduler."""
    state = engine.scheduler.state()
    return (
        state["active_streams"] == 0 and state["waiting_streams"] == 0 and state["queued_jobs"] == 0
    )


@contextmanager
def submitted_steps(engine: Engine) -> Iterator[list[int]]:
    """The step counts of the chunk jobs ``engine``'s scheduler is handed during the block,
    in order: what a request's options became (a stream's first chunk comes first; chunks
    the phrase cache serves never reach the scheduler)."""
    scheduler = engine.scheduler
    submit = scheduler.submit
    steps: list[int] = []

    def spy(job: Any, *args: Any, **kwargs: Any) -> Any:
        steps.append(job.steps)
        return submit(job, *args, **kwargs)

    scheduler.submit = spy  # type: ignore[method-assign]
    try:
        yield steps
    finally:
        del scheduler.submit  # the class's own method again


class ChunkGate:
    """Holds every chunk after a stream's first back from the scheduler until :meth:`open`.

    Why: a test that needs streams still in flight at a given moment (a shutdown's grace
    running out) cannot count on synthesis being slow. Behind a closed gate each stream
    synthesizes and sends its first chunk, then waits for its second, which does not come:
    no stream can finish, on a fast machine or a slow one. :meth:`open` hands over what was
    held and lets every later chunk through. Thread-safe: a test may open it from any thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: list[tuple[Any, Future[Any]]] = []
        self._submit: Callable[..., Future[Any]] | None = None
        self.is_open = False

    def hold(self, engine: Engine) -> Engine:
        """Put ``engine``'s scheduler behind the gate (for the engine's life); returns it."""
        submit = self._submit = engine.scheduler.submit

        def gated(request: Any) -> Future[Any]:
            with self._lock:
                if not self.is_open and request.index > 0:
                    waiting: Future[Any] = Future()
                    self._held.append((request, waiting))
                    return waiting
            return submit(request)

        engine.scheduler.submit = gated  # type: ignore[method-assign]
        return engine

    def open(self) -> None:
        """Submit what was held (unless its stream gave up on it) and let the rest through."""
        with self._lock:
            self.is_open = True
            held, self._held = self._held, []
        assert self._submit is not None or not held
        for request, waiting in held:
            if waiting.done():
                continue
            with contextlib.suppress(EngineClosedError):
                self._submit(request).add_done_callback(partial(_pass_on, waiting))


def _pass_on(waiting: Future[Any], done: Future[Any]) -> None:
    """Settle ``waiting`` as ``done`` was (unless its stream settled it meanwhile)."""
    with contextlib.suppress(InvalidStateError):
        if done.exception() is not None:
            waiting.set_exception(done.exception())  # type: ignore[arg-type]
        else:
            waiting.set_result(done.result())


class LiveServer:
    """A uvicorn server running ``create_app(settings, ...)`` in a background thread."""

    def __init__(self, settings: Settings, **app_kwargs: Any) -> None:
        self.app: FastAPI = create_app(settings, **app_kwargs)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self.app,
            log_config=None,
            lifespan="on",
            **UVICORN_WS_OPTIONS,  # type: ignore[arg-type]
            timeout_graceful_shutdown=max(1, int(settings.shutdown_grace)),
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def start(self, *, wait_ready: bool = True) -> LiveServer:
        self.thread.start()
        wait_for(lambda: self.server.started, what="uvicorn to start")
        if wait_ready:
            wait_for(self.ready, what="/readyz to say 200")
        return self

    def ready(self) -> bool:
        """``GET /readyz`` says 200 (any other status: not ready; no answer at all raises)."""
        try:
            with _direct.open(f"{self.base_url}/readyz", timeout=5) as response:
                return response.status == 200
        except urllib.error.HTTPError:
            return False

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()
        assert not self.thread.is_alive(), "the server thread did not stop"

    @property
    def engine(self) -> Engine:
        return self.app.state.engine

    def idle(self) -> bool:
        """No stream active or waiting and no job queued in the scheduler."""
        return engine_idle(self.engine)
