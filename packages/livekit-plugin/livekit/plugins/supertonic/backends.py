"""Where the speech session runs: in this process, or behind a Supertonic server.

Both backends hand a stream the same thing, a :class:`SpeechContext`: one context of a
:class:`~supertonic_core.protocol.SpeechConnection` (the in-process ``SpeechSession`` or
the WebSocket ``SpeechClient``, which speak the same messages) together with that
context's events. The TTS streams are written once against it; only the way a
connection is made and given back differs:

- :class:`InProcessBackend`: the model loads in a worker thread, one ``SpeechSession``
  serves every stream of the TTS, one context per stream.
- :class:`RemoteBackend`: a ``livekit.agents.utils.ConnectionPool`` of ``SpeechClient``
  sockets; a stream borrows one, uses one context on it and gives it back when the context
  ended cleanly (an interrupted stream's socket is reused once the server confirmed the
  cancel, and closed otherwise).

Every failure leaves this module as a LiveKit ``APIError`` with the right retryability
(:func:`api_error`, :func:`api_error_from_event`): the error mapping has one home.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from livekit.agents import APIConnectionError, APIError, APIStatusError, APITimeoutError, utils
from supertonic_core import (
    BundleError,
    CapacityError,
    Engine,
    EngineClosedError,
    InvalidInputError,
    RuntimeOptions,
)
from supertonic_core.client import SpeechClient, SpeechClientError
from supertonic_core.protocol import Cancelled, Error, Event, SpeechConnection
from supertonic_core.session import SpeechSession

from .log import logger

#: Seconds allowed for the clean-up messages (cancel, close_context) of a finished stream.
CLEANUP_TIMEOUT = 2.0
#: Longest text sent in one message; longer text goes in several (the session joins them).
MAX_MESSAGE_CHARS = 2048

# ------------------------------------------------------------------ error mapping

#: Server and session error codes, by the HTTP status they amount to.
_STATUS_BY_CODE = {
    "invalid_request": 400,
    "invalid_config": 400,
    "invalid_message": 400,
    "invalid_json": 400,
    "invalid_text": 400,
    "unknown_type": 400,
    "message_too_large": 400,
    "context_closed": 400,
    "unauthorized": 401,
    "busy": 429,
    "too_many_contexts": 429,
    "synthesis_failed": 500,
    "model_loading": 503,
    "model_unavailable": 503,
    "unavailable": 503,
    "shutting_down": 503,
}
#: Codes that mean the connection itself is gone: reconnecting is the fix.
_CONNECTION_CODES = frozenset({"idle_timeout", "session_closed"})


def api_error_from_event(event: Error) -> APIError:
    """A session or server ``error`` event as a LiveKit error.

    Bad input (unknown voice, language, characters) is a non-retryable 400; ``busy`` a
    retryable 429; a failed synthesis a retryable 500; a model still loading a 503.
    """
    if event.code in _CONNECTION_CODES:
        return APIConnectionError(f"Supertonic closed the session: {event.message}")
    return APIStatusError(
        event.message,
        status_code=_STATUS_BY_CODE.get(event.code, 500),
        body={"code": event.code, "context_id": event.context_id},
    )


def api_error(exc: BaseException, *, secret: str | None = None) -> APIError:
    """Any failure met while talking to the engine or the server, as a LiveKit error.

    ``secret`` (the API key) is blanked out of messages, which may quote URLs.
    """
    if isinstance(exc, APIError):
        return exc

    def text(value: object) -> str:
        message = str(value)
        return message.replace(secret, "***") if secret else message

    if isinstance(exc, SpeechClientError):
        if exc.code is not None:
            return api_error_from_event(Error(text(exc), code=exc.code))
        if exc.status in (401, 403):
            return APIStatusError(
                "the Supertonic server refused the API key", status_code=401, body=text(exc)
            )
        if exc.status is not None:
            return APIStatusError(text(exc), status_code=exc.status)
        if isinstance(exc.__cause__, TimeoutError):
            return APITimeoutError(f"Supertonic: {text(exc)}")
        return APIConnectionError(f"Supertonic: {text(exc)}")
    if isinstance(exc, TimeoutError):
        return APITimeoutError()
    if isinstance(exc, InvalidInputError):
        return APIStatusError(text(exc), status_code=400, body={"param": exc.param})
    if isinstance(exc, CapacityError):
        return APIStatusError(text(exc), status_code=429, body={"retry_after": exc.retry_after})
    if isinstance(exc, BundleError):
        return APIError(
            f"cannot load the Supertonic model: {text(exc)} (fetch it first with "
            "`python agent.py download-files`, or pass model_dir=)",
            retryable=False,
        )
    if isinstance(exc, EngineClosedError):
        return APIConnectionError("the Supertonic engine is closed", retryable=False)
    return APIConnectionError(f"Supertonic: {type(exc).__name__}: {text(exc)}")


# ------------------------------------------------------------------ contexts


@dataclass(frozen=True)
class InputEnded:
    """Put into a context's inbox by the sender: no more text; ``sent`` if any was sent."""

    sent: bool


@dataclass(frozen=True)
class _Lost:
    error: APIError


class SpeechContext:
    """One context of a connection: send text into it, receive its events in order."""

    def __init__(self, connection: _Connection, context_id: str) -> None:
        self.connection = connection
        self.id = context_id
        self.finished = False  # audio_end arrived: nothing to cancel
        self._inbox: asyncio.Queue[Event | InputEnded | _Lost] = asyncio.Queue()

    async def configure(self, **fields: object) -> None:
        await self._call(self.connection.conn.configure(context_id=self.id, **fields))

    async def send_text(self, text: str) -> None:
        # in pieces: the server refuses messages over 64 KiB (JSON may escape each character)
        for start in range(0, len(text), MAX_MESSAGE_CHARS):
            piece = text[start : start + MAX_MESSAGE_CHARS]
            await self._call(self.connection.conn.send_text(piece, self.id))

    async def flush(self) -> None:
        await self._call(self.connection.conn.flush(self.id))

    def end_input(self, *, sent: bool) -> None:
        self._inbox.put_nowait(InputEnded(sent))

    async def receive(self, timeout: float | None = None) -> Event | InputEnded:
        """The next event of this context; raises the mapped error if the connection died.

        ``timeout`` bounds the wait (None: wait for as long as it takes, used while text
        may still arrive and the session is rightly waiting for it).
        """
        try:
            item = await asyncio.wait_for(self._inbox.get(), timeout)
        except TimeoutError:
            raise APITimeoutError(f"no audio from Supertonic for {timeout:g} s") from None
        if isinstance(item, _Lost):
            raise item.error
        return item

    def deliver(self, item: Event | _Lost) -> None:
        self._inbox.put_nowait(item)

    async def _call(self, sending: Awaitable[None]) -> None:
        try:
            await sending
        except Exception as exc:
            raise self.connection.map_error(exc) from None

    async def _await_cancelled(self, timeout: float) -> bool:
        async with asyncio.timeout(timeout):
            while True:
                item = await self._inbox.get()
                if isinstance(item, _Lost):
                    return False
                if isinstance(item, Cancelled):
                    return True


class _Connection:
    """A :class:`SpeechConnection` and the reader that hands each context its events."""

    def __init__(
        self,
        conn: SpeechConnection,
        events: AsyncIterator[Event],
        *,
        close: Callable[[], Awaitable[None]],
        secret: str | None = None,
    ) -> None:
        self.conn = conn
        self._close = close
        self._secret = secret
        self._contexts: dict[str, SpeechContext] = {}
        self._reader = asyncio.create_task(self._read(events), name="supertonic-events")

    @property
    def alive(self) -> bool:
        return not self._reader.done()

    def map_error(self, exc: BaseException) -> APIError:
        return api_error(exc, secret=self._secret)

    def open_context(self) -> SpeechContext:
        ctx = SpeechContext(self, utils.shortuuid("lk-"))
        self._contexts[ctx.id] = ctx
        if not self.alive:
            ctx.deliver(_Lost(APIConnectionError("the Supertonic connection is closed")))
        return ctx

    async def release(self, ctx: SpeechContext) -> bool:
        """End ``ctx`` on the connection (cancel it first if it was still running).

        Returns True when the connection is clean and can serve another stream.
        """
        try:
            if not self.alive:
                return False
            async with asyncio.timeout(CLEANUP_TIMEOUT):
                if not ctx.finished:
                    await self.conn.cancel(ctx.id)
                    if not await ctx._await_cancelled(CLEANUP_TIMEOUT):
                        return False
                await self.conn.close_context(ctx.id)
            return self.alive
        except Exception as exc:  # clean-up is best effort; the caller drops the connection
            logger.debug("releasing context %s failed: %r", ctx.id, exc)
            return False
        finally:
            self._contexts.pop(ctx.id, None)

    async def aclose(self) -> None:
        """Close the connection (idempotent); open contexts see a connection error."""
        try:
            await self._close()
        finally:
            await utils.aio.cancel_and_wait(self._reader)

    async def _read(self, events: AsyncIterator[Event]) -> None:
        error: APIError = APIConnectionError("the Supertonic connection closed")
        try:
            async for event in events:
                context_id = getattr(event, "context_id", None)
                if context_id is not None:
                    if (ctx := self._contexts.get(context_id)) is not None:
                        ctx.deliver(event)
                elif isinstance(event, Error):
                    if event.fatal:
                        error = api_error_from_event(event)
                    else:
                        logger.warning("Supertonic session error: %s", event.message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            error = self.map_error(exc)
        finally:
            for ctx in self._contexts.values():
                ctx.deliver(_Lost(error))


# ------------------------------------------------------------------ backends


class Backend(ABC):
    """Makes connections and lends one context of one to each stream."""

    @contextlib.asynccontextmanager
    async def context(self, *, timeout: float) -> AsyncIterator[SpeechContext]:
        """A fresh context, cleaned up (cancelled if unfinished) when the block exits."""
        connection = await self._acquire(timeout)
        ctx = connection.open_context()
        try:
            yield ctx
        finally:
            reusable = await connection.release(ctx)
            await self._give_back(connection, reusable=reusable)

    @abstractmethod
    async def _acquire(self, timeout: float) -> _Connection: ...

    @abstractmethod
    async def _give_back(self, connection: _Connection, *, reusable: bool) -> None: ...

    @abstractmethod
    def prewarm(self) -> None: ...

    @abstractmethod
    async def aclose(self) -> None: ...


class InProcessBackend(Backend):
    """The engine in this process: loaded (and warmed up) once in a worker thread, then one
    ``SpeechSession`` for every stream.

    Args:
        model: the bundle to load.
        model_dir: a bundle directory; None looks in the cache (it never downloads at run
            time: ``download-files`` does that).
        runtime: ONNX Runtime options (device, threads).
        engine: an engine to use instead of loading one; it is not closed by :meth:`aclose`.
        max_contexts: streams served at once by this TTS instance.
        phrase_cache: entries of the loaded engine's phrase cache; 0 turns it off.
    """

    def __init__(
        self,
        *,
        model: str = "supertonic-3",
        model_dir: str | Path | None = None,
        runtime: RuntimeOptions | None = None,
        engine: Engine | None = None,
        max_contexts: int = 64,
        phrase_cache: int = 0,
    ) -> None:
        self.model = model
        self.model_dir = model_dir
        self.runtime = runtime
        self.phrase_cache = phrase_cache
        self.engine = engine
        self._owns_engine = engine is None
        self._max_contexts = max_contexts
        self._connection: _Connection | None = None
        self._opening: asyncio.Task[_Connection] | None = None
        self._closed = False

    def prewarm(self) -> None:
        self._start_opening().add_done_callback(_log_prewarm_failure)

    async def connect(self) -> None:
        """Load the model (if needed) and open the session now."""
        await self._acquire(0)

    async def _acquire(self, timeout: float) -> _Connection:
        if self._closed:
            raise APIConnectionError("the Supertonic TTS is closed", retryable=False)
        if self._connection is not None and self._connection.alive:
            return self._connection
        # shielded: an interrupted stream must not abort a load other streams wait for
        return await asyncio.shield(self._start_opening())

    async def _give_back(self, connection: _Connection, *, reusable: bool) -> None:
        if not connection.alive and self._connection is connection:
            self._connection = None  # the next stream opens a new session

    def _start_opening(self) -> asyncio.Task[_Connection]:
        task = self._opening
        stale = (
            task is not None
            and task.done()
            and (task.cancelled() or task.exception() is not None or self._connection is None)
        )
        if task is None or stale:
            task = self._opening = asyncio.create_task(self._open(), name="supertonic-load")
        return task

    async def _open(self) -> _Connection:
        if self.engine is None:
            try:
                engine = await asyncio.to_thread(
                    _load_engine, self.model, self.model_dir, self.runtime, self.phrase_cache
                )
            except Exception as exc:
                raise api_error(exc) from exc
            if self._closed:  # closed while loading
                await asyncio.to_thread(engine.close)
                raise APIConnectionError("the Supertonic TTS is closed", retryable=False)
            self.engine = engine
        session = SpeechSession(self.engine, max_contexts=self._max_contexts)
        self._connection = _Connection(session, session.events(), close=session.aclose)
        return self._connection

    async def aclose(self) -> None:
        self._closed = True
        if self._opening is not None and not self._opening.done():
            self._opening.cancel()
            await asyncio.gather(self._opening, return_exceptions=True)
        if self._connection is not None:
            await self._connection.aclose()
            self._connection = None
        if self._owns_engine and self.engine is not None:
            engine, self.engine = self.engine, None
            await asyncio.to_thread(engine.close)


class RemoteBackend(Backend):
    """A Supertonic server's WebSocket speech endpoint, through a pool of sockets.

    Args:
        base_url: ``http(s)://`` or ``ws(s)://`` address of the server.
        api_key: sent as ``Authorization: Bearer``; None for an open server.
        max_session_duration: seconds a socket is reused before it is replaced.
    """

    def __init__(
        self, *, base_url: str, api_key: str | None = None, max_session_duration: float = 300.0
    ) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self._pool = utils.ConnectionPool[_Connection](
            connect_cb=self._connect,
            close_cb=self._disconnect,
            max_session_duration=max_session_duration,
            mark_refreshed_on_get=True,
        )

    def prewarm(self) -> None:
        self._pool.prewarm()

    async def _connect(self, timeout: float) -> _Connection:
        client = SpeechClient(
            self.base_url, api_key=self.api_key, config={"binary": True}, open_timeout=timeout
        )
        try:
            await client.connect()
        except Exception as exc:
            raise api_error(exc, secret=self.api_key) from None  # the cause may quote the key
        return _Connection(client, client.events(), close=client.aclose, secret=self.api_key)

    @staticmethod
    async def _disconnect(connection: _Connection) -> None:
        await connection.aclose()

    async def _acquire(self, timeout: float) -> _Connection:
        connection = await self._pool.get(timeout=timeout)
        while not connection.alive:  # the server closed it while it sat in the pool
            self._pool.remove(connection)
            connection = await self._pool.get(timeout=timeout)
        return connection

    async def _give_back(self, connection: _Connection, *, reusable: bool) -> None:
        if reusable:
            self._pool.put(connection)
        else:
            self._pool.remove(connection)
            await connection.aclose()  # now, so the server stops at once

    async def aclose(self) -> None:
        await self._pool.aclose()


def _load_engine(
    model: str, model_dir: str | Path | None, runtime: RuntimeOptions | None, phrase_cache: int
) -> Engine:
    engine = Engine.load(
        model, model_dir=model_dir, runtime=runtime, download=False, phrase_cache=phrase_cache
    )
    try:
        engine.warmup()
    except BaseException:
        engine.close()
        raise
    return engine


def _log_prewarm_failure(task: asyncio.Task[_Connection]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        logger.warning("Supertonic prewarm failed: %s", exc)
