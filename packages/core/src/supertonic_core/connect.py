"""Getting a speech connection, in this process or from a server, and keeping one open.

Both framework plugins need the same three things before they can speak, whichever mode
they run in:

- a :class:`Connector`, which makes connections: :class:`EngineConnector` loads the model
  once, in a worker thread, and opens in-process sessions on it; :class:`ServerConnector`
  opens a WebSocket to a Supertonic server, retrying with back-off while the server is down,
  restarting or still loading its model;
- a :class:`SharedMux`, for a plugin that keeps one connection for all its work: the live
  :class:`~supertonic_core.mux.SpeechMux`, opened once for every caller at once, replaced
  when it is lost, and retired (closed after its last context) when a context could not be
  ended cleanly, so a stuck context never uses up the session's context limit;
- keep-alive pings, so a server does not close an idle socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .client import SpeechClient, SpeechClientError
from .engine import Engine
from .loading import load_engine
from .mux import ConnectionLost, MuxContext, SpeechMux
from .pronunciation import PronunciationDictionary, load_dictionaries
from .protocol import Error, SpeechConnection
from .runtime import RuntimeOptions
from .session import SpeechSession

logger = logging.getLogger("supertonic_core")

#: The longest wait between two attempts to reach a server.
MAX_BACKOFF_S = 8.0


@dataclass(frozen=True)
class Opened:
    """A connection just opened, with what it serves: the model and its native rate."""

    conn: SpeechConnection
    sample_rate: int
    model: str


class Connector(ABC):
    """Makes speech connections of one kind."""

    @abstractmethod
    async def open(self, timeout: float | None = None) -> Opened:
        """A new, open connection; ``timeout`` bounds one attempt where it applies."""

    async def aclose(self) -> None:  # noqa: B027 (most connectors hold nothing)
        """Free what the connector holds (an engine it loaded)."""


class EngineConnector(Connector):
    """In-process sessions on one engine, loaded on the first :meth:`open`.

    The load runs in a worker thread and is shared by every caller waiting for it (one that
    gives up does not abort it for the others). A failed load is not retried: a missing or
    broken bundle stays missing or broken, and a second attempt could cost a long offline
    download timeout on every turn.

    Args:
        model: the bundle to load.
        engine: an engine already loaded (shared); it is used as is and never closed here.
        model_dir, download, runtime, voices_dir: as for :meth:`Engine.load`.
        warmup: run one synthesis after loading (see :func:`~supertonic_core.load_engine`).
        phrase_cache: entries of the loaded engine's phrase cache; 0 turns it off.
        dictionaries: pronunciation dictionaries (PLS or JSON files, or loaded ones) of the
            loaded engine, which requests name in ``lexicons``; read here, so a bad file
            fails at once, not on the first turn.
        max_contexts: contexts each session serves at once.
    """

    def __init__(
        self,
        model: str = "supertonic-3",
        *,
        engine: Engine | None = None,
        model_dir: str | Path | None = None,
        download: bool = True,
        runtime: RuntimeOptions | None = None,
        voices_dir: str | Path | None = None,
        warmup: bool = True,
        phrase_cache: int = 0,
        dictionaries: Iterable[str | Path | PronunciationDictionary] = (),
        max_contexts: int = 64,
    ) -> None:
        lexicons = load_dictionaries(dictionaries)
        if engine is not None and (phrase_cache or lexicons):
            raise ValueError(
                "phrase_cache and dictionaries configure the engine loaded here; for an "
                "engine passed in, build it with Engine.load(..., phrase_cache=N, lexicons=...)"
            )
        self.model = engine.bundle.model if engine is not None else model
        self.engine = engine
        self._owns_engine = engine is None
        self._load_options: dict[str, Any] = {
            "model_dir": model_dir,
            "download": download,
            "runtime": runtime,
            "voices_dir": voices_dir,
            "phrase_cache": phrase_cache,
            "lexicons": lexicons,
        }
        self._warmup = warmup
        self._max_contexts = max_contexts
        self._loading: asyncio.Task[Engine] | None = None
        self._closed = False

    async def load(self) -> Engine:
        """The engine, loading it first if needed."""
        if self._closed:
            raise ConnectionError("the connector is closed")
        if self.engine is not None:
            return self.engine
        if self._loading is None:
            self._loading = asyncio.create_task(self._load(), name="supertonic-load")
            self._loading.add_done_callback(_retrieve)
        return await asyncio.shield(self._loading)

    async def open(self, timeout: float | None = None) -> Opened:
        engine = await self.load()
        session = SpeechSession(engine, max_contexts=self._max_contexts)
        return Opened(session, engine.sample_rate, engine.bundle.model)

    async def _load(self) -> Engine:
        try:
            engine = await asyncio.to_thread(
                load_engine, self.model, warmup=self._warmup, **self._load_options
            )
        except Exception as exc:
            raise RuntimeError(f"could not load the Supertonic model: {exc}") from exc
        if self._closed:  # closed while it loaded
            await asyncio.to_thread(engine.close)
            raise ConnectionError("the connector is closed")
        self.engine = engine
        return engine

    async def aclose(self) -> None:
        self._closed = True
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()  # the thread finishes, then _load closes what it made
            await asyncio.gather(self._loading, return_exceptions=True)
        if self._owns_engine and self.engine is not None:
            engine, self.engine = self.engine, None
            await asyncio.to_thread(engine.close)


class ServerConnector(Connector):
    """WebSocket connections to a Supertonic server.

    Args:
        url: ``ws(s)://`` or ``http(s)://`` address of the server, or the full stream URL.
        attempts: tries before giving up; only failures that may pass are retried
            (:attr:`SpeechClientError.retryable`: down, restarting, loading, not a bad key).
        backoff_s: wait before the second attempt, doubled after each (at most 8 s).
        **client: :class:`SpeechClient`'s options (``api_key``, ``config`` for every
            connection's initial ``config``, ``open_timeout`` per attempt, ...).
    """

    def __init__(
        self, url: str, *, attempts: int = 1, backoff_s: float = 0.5, **client: Any
    ) -> None:
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {attempts}")
        self.url = url
        self._client = client
        self._attempts = attempts
        self._backoff_s = backoff_s

    async def open(self, timeout: float | None = None) -> Opened:
        delay = self._backoff_s
        options = self._client if timeout is None else {**self._client, "open_timeout": timeout}
        for attempt in range(1, self._attempts + 1):
            client = SpeechClient(self.url, **options)
            try:
                ready = await client.connect()
                return Opened(client, ready.sample_rate, ready.model)
            except SpeechClientError as exc:
                if attempt == self._attempts or not exc.retryable:
                    if attempt > 1:
                        raise SpeechClientError(
                            f"{exc} (gave up after {attempt} attempts)",
                            code=exc.code,
                            status=exc.status,
                        ) from exc
                    raise
                logger.warning("attempt %d failed (%s); retrying in %g s", attempt, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_S)
        raise AssertionError("unreachable")  # the loop returns or raises


class SharedMux:
    """One live :class:`SpeechMux` over a connector, for everything a plugin says.

    Args:
        connector: how connections are made.
        on_open: awaited with each new mux and what was opened, before anyone uses it
            (session-level ``config`` goes here); if it raises, the mux is closed and
            :meth:`get` raises that.
        on_error: the mux's handler of errors that belong to no context.
        on_lost: awaited once when the current mux is lost (not when this closes it).
        keepalive_s: seconds between pings of the current connection; None sends none.
    """

    def __init__(
        self,
        connector: Connector,
        *,
        on_open: Callable[[SpeechMux, Opened], Awaitable[None]] | None = None,
        on_error: Callable[[Error], Awaitable[None]] | None = None,
        on_lost: Callable[[ConnectionLost], Awaitable[None]] | None = None,
        keepalive_s: float | None = None,
    ) -> None:
        self.connector = connector
        self._on_open = on_open
        self._on_error = on_error
        self._on_lost = on_lost
        self._keepalive_s = keepalive_s
        self._mux: SpeechMux | None = None
        self._retired: set[SpeechMux] = set()
        self._opening: asyncio.Task[SpeechMux] | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def current(self) -> SpeechMux | None:
        """The live mux, if one is open."""
        return self._mux if self._mux is not None and self._mux.alive else None

    async def get(self) -> SpeechMux:
        """The live mux, opening one if needed; callers waiting at once share one open,
        and one that gives up does not abort it for the others."""
        if self._closed:
            raise ConnectionError("the connection is closed")
        if (mux := self.current) is not None:
            return mux
        if self._opening is None or self._opening.done():
            self._opening = asyncio.create_task(self._open(), name="supertonic-open")
            self._opening.add_done_callback(_retrieve)
        return await asyncio.shield(self._opening)

    async def release(self, ctx: MuxContext) -> bool:
        """End ``ctx`` (cancelled unless its audio ended). True when it ended cleanly; if
        not, its mux is retired: new contexts get a fresh connection, and the old one
        closes once its last context is released."""
        clean = await ctx.release()
        mux = ctx.mux
        if not clean:
            if self._mux is mux:
                self._mux = None
            self._retired.add(mux)
        if mux in self._retired and not mux.open_contexts:
            self._retired.discard(mux)
            await mux.aclose()
        return clean

    async def disconnect(self) -> None:
        """Close every connection; the next :meth:`get` opens a new one."""
        for task in (self._opening, self._keepalive):
            if task is not None and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        muxes = [*self._retired, *([self._mux] if self._mux else [])]
        self._mux, self._retired = None, set()
        for mux in muxes:
            await mux.aclose()

    async def aclose(self) -> None:
        """Close every connection, then the connector (and the engine it loaded)."""
        self._closed = True
        await self.disconnect()
        await self.connector.aclose()

    async def _open(self) -> SpeechMux:
        opened = await self.connector.open()
        mux = self._mux = SpeechMux(opened.conn, on_error=self._on_error, on_lost=self._lost)
        try:
            if self._on_open is not None:
                await self._on_open(mux, opened)
        except BaseException:
            self._mux = None
            await mux.aclose()
            raise
        if self._keepalive_s and (self._keepalive is None or self._keepalive.done()):
            self._keepalive = asyncio.create_task(self._ping(), name="supertonic-keepalive")
        return mux

    async def _lost(self, lost: ConnectionLost) -> None:
        if self._mux is None or self._mux.lost is not lost:
            return  # closed here, or an old mux
        self._mux = None
        if self._on_lost is not None:
            await self._on_lost(lost)

    async def _ping(self) -> None:
        assert self._keepalive_s
        while True:
            await asyncio.sleep(self._keepalive_s)
            if (mux := self.current) is not None:
                with contextlib.suppress(ConnectionError):
                    await mux.conn.ping()


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a shared task's failure as seen: its waiters may all have given up."""
    if not task.cancelled():
        task.exception()
