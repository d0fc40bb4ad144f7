"""Where the speech session runs: in this process, or behind a Supertonic server.

Both backends lend a stream the same thing: one context of a core
:class:`~supertonic_core.mux.SpeechMux`, over the in-process ``SpeechSession`` or the
WebSocket ``SpeechClient`` (which speak the same messages). Only the way a connection is
made and given back differs:

- :class:`InProcessBackend`: the core's :class:`~supertonic_core.connect.SharedMux` over an
  :class:`~supertonic_core.connect.EngineConnector`: the model loads in a worker thread, one
  ``SpeechSession`` serves every stream of the TTS, and a session whose context could not
  be ended cleanly is retired (new streams get a fresh one).
- :class:`RemoteBackend`: a ``livekit.agents.utils.ConnectionPool`` of sockets opened by a
  :class:`~supertonic_core.connect.ServerConnector`; a stream borrows one, uses one context
  on it and gives it back when the context ended cleanly (an interrupted stream's socket is
  reused once the server confirmed the cancel, and closed otherwise).

Every failure leaves a stream's context as a LiveKit ``APIError`` with the retryability of
the core's :class:`~supertonic_core.errors.ErrorCode` table (:func:`api_error`).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
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
from supertonic_core.client import SpeechClientError
from supertonic_core.connect import EngineConnector, ServerConnector, SharedMux
from supertonic_core.errors import ErrorCode
from supertonic_core.mux import ConnectionLost, MuxContext, SpeechMux
from supertonic_core.pronunciation import PronunciationDictionary
from supertonic_core.protocol import Error
from supertonic_core.resume import ResumableContext

from .log import logger

# ------------------------------------------------------------------ error mapping


def api_error_from_event(event: Error) -> APIError:
    """A session or server ``error`` event as a LiveKit error, by the core's code table
    (a code this version does not know counts as a retryable 500)."""
    code = ErrorCode.of(event.code)
    if code is not None and code.closes:
        return APIConnectionError(f"Supertonic closed the session: {event.message}")
    return APIStatusError(
        event.message,
        status_code=code.status if code is not None else 500,
        body={"code": event.code, "context_id": event.context_id},
        retryable=code.retryable if code is not None else True,
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

    if isinstance(exc, SpeechClientError | ConnectionLost) and exc.code is not None:
        return api_error_from_event(Error(text(exc), code=exc.code))
    if isinstance(exc, SpeechClientError) and exc.status is not None:
        if exc.status in (401, 403):
            return APIStatusError(
                "the Supertonic server refused the API key", status_code=401, body=text(exc)
            )
        return APIStatusError(text(exc), status_code=exc.status)
    if isinstance(exc, ConnectionError):
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


async def _log_session_error(event: Error) -> None:
    logger.warning("Supertonic session error: %s (%s)", event.message, event.code)


# ------------------------------------------------------------------ backends


class Backend(ABC):
    """Makes connections and lends one context of one to each stream."""

    secret: str | None = None

    @asynccontextmanager
    async def context(self, *, timeout: float) -> AsyncIterator[ResumableContext]:
        """A fresh context, released (cancelled if unfinished) when the block exits; any
        failure inside leaves as an ``APIError``. A connection lost mid-utterance (a
        replica killed or restarted) is resumed on a new one (see the core's
        :mod:`~supertonic_core.resume`)."""
        context_id = utils.shortuuid("lk-")

        async def open_context() -> MuxContext:
            return (await self._acquire(timeout)).open(context_id)

        try:
            ctx = await ResumableContext(open_context, self._give_back).start()
        except Exception as exc:
            raise api_error(exc, secret=self.secret) from None  # the cause may quote the key
        try:
            yield ctx
        except Exception as exc:
            raise api_error(exc, secret=self.secret) from None
        finally:
            await ctx.release()

    @abstractmethod
    async def _acquire(self, timeout: float) -> SpeechMux: ...

    @abstractmethod
    async def _give_back(self, ctx: MuxContext) -> None:
        """End ``ctx`` and keep its connection only if it ended cleanly."""

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
        dictionaries: pronunciation dictionaries of the loaded engine (files or loaded).
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
        dictionaries: Iterable[str | Path | PronunciationDictionary] = (),
    ) -> None:
        self._connector = EngineConnector(
            model,
            engine=engine,
            model_dir=model_dir,
            download=False,
            runtime=runtime,
            phrase_cache=phrase_cache,
            dictionaries=dictionaries,
            max_contexts=max_contexts,
        )
        self._link = SharedMux(self._connector, on_error=_log_session_error)
        self._prewarm: asyncio.Task[SpeechMux] | None = None

    @property
    def engine(self) -> Engine | None:
        return self._connector.engine

    def prewarm(self) -> None:
        self._prewarm = asyncio.create_task(self._link.get(), name="supertonic-prewarm")
        self._prewarm.add_done_callback(_log_prewarm_failure)

    async def connect(self) -> None:
        """Load the model (if needed) and open the session now."""
        await self._acquire(0)

    async def _acquire(self, timeout: float) -> SpeechMux:
        try:
            return await self._link.get()
        except ConnectionError:  # closed
            raise APIConnectionError("the Supertonic TTS is closed", retryable=False) from None
        except RuntimeError as exc:  # the model did not load
            raise api_error(exc.__cause__ or exc) from exc

    async def _give_back(self, ctx: MuxContext) -> None:
        await self._link.release(ctx)

    async def aclose(self) -> None:
        await self._link.aclose()


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
        self.secret = api_key
        # A replica that is draining or restarting refuses with a code that may pass: the
        # next attempt, through the same URL, reaches a healthy one behind the balancer.
        self._connector = ServerConnector(
            base_url, api_key=api_key, config={"binary": True}, attempts=3, backoff_s=0.25
        )
        self._pool = utils.ConnectionPool[SpeechMux](
            connect_cb=self._connect,
            close_cb=self._disconnect,
            max_session_duration=max_session_duration,
            mark_refreshed_on_get=True,
        )

    def prewarm(self) -> None:
        self._pool.prewarm()

    async def _connect(self, timeout: float) -> SpeechMux:
        try:
            opened = await self._connector.open(timeout)
        except Exception as exc:
            raise api_error(exc, secret=self.secret) from None  # the cause may quote the key
        return SpeechMux(opened.conn, on_error=_log_session_error)

    @staticmethod
    async def _disconnect(mux: SpeechMux) -> None:
        await mux.aclose()

    async def _acquire(self, timeout: float) -> SpeechMux:
        mux = await self._pool.get(timeout=timeout)
        while not mux.alive:  # the server closed it while it sat in the pool
            self._pool.remove(mux)
            mux = await self._pool.get(timeout=timeout)
        return mux

    async def _give_back(self, ctx: MuxContext) -> None:
        mux = ctx.mux
        if await ctx.release():
            self._pool.put(mux)
        else:
            self._pool.remove(mux)
            await mux.aclose()  # now, so the server stops at once

    async def aclose(self) -> None:
        await self._pool.aclose()


def _log_prewarm_failure(task: asyncio.Task[SpeechMux]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        logger.warning("Supertonic prewarm failed: %s", exc)
