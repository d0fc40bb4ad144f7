"""Many contexts over one speech connection: the machinery both framework plugins share.

A :class:`SpeechMux` holds one :class:`~supertonic_core.protocol.SpeechConnection` (the
in-process :class:`~supertonic_core.session.SpeechSession` or the WebSocket
:class:`~supertonic_core.client.SpeechClient`: the mux never asks which) and reads its
events once, handing each to the :class:`MuxContext` it belongs to. A context sends text
(split under the protocol's message limit), flushes, cancels and waits for the
acknowledgement, and closes; every open context learns when the connection is lost.
Session-level ``config`` is sent one at a time and settled only by its own answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from .protocol import (
    Audio,
    AudioEnd,
    Cancelled,
    ConfigAck,
    ContextClosed,
    Error,
    ErrorCode,
    Event,
    SpeechConnection,
    text_pieces,
)

logger = logging.getLogger("supertonic_core")

#: Seconds allowed to cancel a context and see the acknowledgement, or to close it.
CLEANUP_TIMEOUT_S = 2.0
#: Seconds a session-level ``config`` may wait for its acknowledgement.
CONFIG_TIMEOUT_S = 10.0
#: The codes with which a session answers a session-level ``config`` it refuses; any
#: other context-less error is not about the config (a stray bad message, a warning).
_CONFIG_REFUSALS = frozenset({ErrorCode.INVALID_CONFIG, ErrorCode.INVALID_REQUEST})
#: Errors after which nothing more of the context will come (it was never opened, or
#: its utterance was dropped): the context is over.
_FINAL_ERRORS = frozenset(
    {
        ErrorCode.TOO_MANY_CONTEXTS,
        ErrorCode.CONTEXT_CLOSED,
        ErrorCode.SESSION_CLOSED,
        ErrorCode.BUSY,
        ErrorCode.SYNTHESIS_FAILED,
    }
)


class ConnectionLost(ConnectionError):
    """The connection ended while a context was open; ``code`` when the session said why."""

    def __init__(self, reason: str, *, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class SessionError(Exception):
    """The session refused something (a config, a context): its ``error`` event, raised."""

    def __init__(self, event: Error) -> None:
        super().__init__(event.message)
        self.event = event
        self.code = event.code


def ends_context(event: Error) -> bool:
    """Whether nothing more of ``event``'s context will come after this error."""
    return event.code in _FINAL_ERRORS


class MuxContext:
    """One context of a :class:`SpeechMux`: text in, its own events out, in order."""

    def __init__(self, mux: SpeechMux, context_id: str) -> None:
        self.mux = mux
        self.id = context_id
        self.audio_ended = False  # audio_end or cancelled arrived: nothing left to cancel
        self.closed = False  # close_context sent, or context_closed arrived
        self.cancelled = False  # cancelled arrived: the utterance was cut short
        self._inbox: asyncio.Queue[Event | ConnectionLost] = asyncio.Queue()

    async def configure(self, **fields: Any) -> None:
        """Settings for this context's next utterance (its ``config_ack`` comes as an event)."""
        await self.mux.conn.configure(self.id, **fields)

    async def send_text(self, text: str) -> None:
        """Append ``text``, in as many messages as the protocol's size limit needs."""
        for piece in text_pieces(text):
            await self.mux.conn.send_text(piece, self.id)

    async def flush(self) -> None:
        """End the utterance: its last chunk is synthesized, then ``audio_end`` follows."""
        await self.mux.conn.flush(self.id)

    async def close(self) -> None:
        """Flush, and close the context once its audio is out (``context_closed``)."""
        if not self.closed:
            self.closed = True
            await self.mux.conn.close_context(self.id)

    async def receive(self, timeout: float | None = None) -> Event:
        """The next event of this context; raises :class:`ConnectionLost` once the
        connection is gone, and TimeoutError after ``timeout`` seconds without one."""
        item = await asyncio.wait_for(self._inbox.get(), timeout)
        if isinstance(item, ConnectionLost):
            self._inbox.put_nowait(item)  # every later receive raises too
            raise item
        return item

    async def utterance(self, idle_timeout: float | None = None) -> AsyncIterator[Audio | Error]:
        """The context's audio and errors until its utterance is over: ``audio_end``,
        ``context_closed``, ``cancelled``, or an error after which nothing more comes.

        After ``cancelled`` the utterance was cut short, not finished: :attr:`cancelled`
        says which. ``idle_timeout`` bounds each wait once the context is closed (all its
        text sent); before that the session may rightly be waiting for the rest of a
        sentence. Raises :class:`ConnectionLost` when the connection goes, TimeoutError
        when idle too long.
        """
        while True:
            event = await self.receive(idle_timeout if self.closed else None)
            if isinstance(event, Audio | Error):
                yield event
                if isinstance(event, Error) and ends_context(event):
                    return
            elif isinstance(event, AudioEnd | Cancelled | ContextClosed):
                return

    async def cancel(self, timeout: float = CLEANUP_TIMEOUT_S) -> bool:
        """Stop the context and wait for the session's ``cancelled``; its other events are
        dropped. True once acknowledged; False when the connection died or it took longer
        than ``timeout`` seconds."""
        try:
            async with asyncio.timeout(timeout):
                await self.mux.conn.cancel(self.id)
                while not isinstance(await self.receive(), Cancelled):
                    pass
        except (TimeoutError, ConnectionError):
            return False
        return True

    async def release(self) -> bool:
        """End the context on the connection: cancel it unless its audio ended, close it,
        forget it. True when the connection is clean and can serve other contexts."""
        try:
            if not self.mux.alive:
                return False
            if not self.audio_ended and not await self.cancel():
                return False
            async with asyncio.timeout(CLEANUP_TIMEOUT_S):
                await self.close()
            return self.mux.alive
        except Exception as exc:  # clean-up is best effort; the caller drops the connection
            logger.debug("releasing context %s failed: %r", self.id, exc)
            return False
        finally:
            self.mux.forget(self)

    def deliver(self, item: Event | ConnectionLost) -> None:
        if isinstance(item, AudioEnd | Cancelled):
            self.audio_ended = True
            self.cancelled = isinstance(item, Cancelled)
        elif isinstance(item, ContextClosed):
            self.audio_ended = self.closed = True
        self._inbox.put_nowait(item)


class SpeechMux:
    """One connection, many contexts; reads the connection's events from the start.

    Args:
        conn: an open session or client.
        on_error: called with each error event that belongs to no context and answers no
            config (a warning, a stray bad message).
        on_lost: called once when the connection ends (every open context has been told).
    """

    def __init__(
        self,
        conn: SpeechConnection,
        *,
        on_error: Callable[[Error], Awaitable[None]] | None = None,
        on_lost: Callable[[ConnectionLost], Awaitable[None]] | None = None,
    ) -> None:
        self.conn = conn
        self._on_error = on_error
        self._on_lost = on_lost
        self._contexts: dict[str, MuxContext] = {}
        self._config_lock = asyncio.Lock()
        self._config_answer: asyncio.Future[None] | None = None
        self._lost: ConnectionLost | None = None
        self._reader = asyncio.create_task(self._read(), name="supertonic-mux")

    @property
    def alive(self) -> bool:
        return self._lost is None

    @property
    def lost(self) -> ConnectionLost | None:
        """Why the connection ended, once it has."""
        return self._lost

    @property
    def open_contexts(self) -> int:
        """Contexts opened and not yet released."""
        return len(self._contexts)

    def open(self, context_id: str | None = None) -> MuxContext:
        """A new context (a fresh id unless given); its events start arriving at once."""
        ctx = MuxContext(self, context_id or uuid.uuid4().hex)
        self._contexts[ctx.id] = ctx
        if self._lost is not None:
            ctx.deliver(self._lost)
        return ctx

    def forget(self, ctx: MuxContext) -> None:
        """Stop routing events to ``ctx`` (late ones are dropped)."""
        if self._contexts.get(ctx.id) is ctx:
            del self._contexts[ctx.id]

    async def configure(self, **fields: Any) -> None:
        """Change the session's settings and wait until they are accepted.

        Raises :class:`SessionError` when the session refuses them, TimeoutError without
        an answer in :data:`CONFIG_TIMEOUT_S`, :class:`ConnectionLost` if it goes away.
        """
        async with self._config_lock:  # one at a time: an answer names no request
            if self._lost is not None:
                raise self._lost
            answer = self._config_answer = asyncio.get_running_loop().create_future()
            try:
                await self.conn.configure(**fields)
                await asyncio.wait_for(asyncio.shield(answer), CONFIG_TIMEOUT_S)
            finally:
                self._config_answer = None
                if not answer.done():
                    answer.cancel()

    async def aclose(self) -> None:
        """Close the connection (idempotent); open contexts see it lost."""
        try:
            with contextlib.suppress(Exception):
                await self.conn.aclose()
        finally:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            await self._lose(ConnectionLost("the connection was closed"))

    async def _read(self) -> None:
        lost = ConnectionLost("the connection closed")
        try:
            async for event in self.conn.events():
                if (fatal := await self._dispatch(event)) is not None:
                    lost = fatal
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            lost = ConnectionLost(str(exc) or type(exc).__name__)
        await self._lose(lost)

    async def _dispatch(self, event: Event) -> ConnectionLost | None:
        context_id = getattr(event, "context_id", None)
        if context_id is not None:
            if (ctx := self._contexts.get(context_id)) is not None:
                ctx.deliver(event)
            return None
        answer = self._config_answer
        if isinstance(event, ConfigAck):
            if answer is not None and not answer.done():
                answer.set_result(None)
        elif isinstance(event, Error):
            if event.fatal:
                return ConnectionLost(event.message, code=event.code)
            if answer is not None and not answer.done() and event.code in _CONFIG_REFUSALS:
                answer.set_exception(SessionError(event))
            elif self._on_error is not None:
                await self._on_error(event)
        return None

    async def _lose(self, lost: ConnectionLost) -> None:
        if self._lost is not None:
            return
        self._lost = lost
        if self._config_answer is not None and not self._config_answer.done():
            self._config_answer.set_exception(lost)
        for ctx in self._contexts.values():
            ctx.deliver(lost)
        if self._on_lost is not None:
            await self._on_lost(lost)
