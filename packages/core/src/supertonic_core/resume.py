"""An utterance that survives its connection: resumed on another replica, no word lost.

In a fleet, replicas die, are rolled out and scaled in while an agent is mid-sentence. The
protocol says how far each ``audio`` message has spoken in the text the client sent
(``text_end``), so when a connection drops mid-utterance (a replica killed, a
``shutting_down`` with close 1012, a network reset) :class:`ResumableContext` opens a new
context through its opener (the same URL, so the balancer picks a healthy replica, or the
next one the connector knows), sends it the same settings and only the text after the end
of the last audio received, and goes on yielding audio as if nothing happened: offsets,
word times and ``text_end`` continue where the lost connection left them, so the listener
hears every word once and the transcript stays continuous.

A failure that a new connection cannot fix (a refused key, a non-retryable error) still
ends the utterance at once, as :class:`~supertonic_core.mux.ConnectionLost`; so does a
connection lost ``attempts`` times in one utterance. One utterance per context, as the
plugins use them (text, then ``flush`` or ``close``).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

from .errors import ErrorCode
from .mux import ConnectionLost, MuxContext
from .protocol import Audio, Error
from .timing import WordTiming

logger = logging.getLogger("supertonic_core")

#: Connections an utterance may lose and still be resumed.
RESUME_ATTEMPTS = 3


class ResumableContext:
    """A :class:`~supertonic_core.mux.MuxContext` that outlives its connection.

    Args:
        open_context: a fresh context on a live connection (reconnecting as needed).
        give_back: ends a context and returns its connection (or drops a dead one).
        attempts: connections one utterance may lose and still go on.
    """

    def __init__(
        self,
        open_context: Callable[[], Awaitable[MuxContext]],
        give_back: Callable[[MuxContext], Awaitable[Any]],
        *,
        attempts: int = RESUME_ATTEMPTS,
    ) -> None:
        self._open_context = open_context
        self._give_back = give_back
        self._attempts = attempts
        self._ctx: MuxContext | None = None
        self._config: dict[str, Any] = {}
        self._text: list[str] = []  # everything sent, in this utterance's coordinates
        self._ending: str | None = None  # "flush" or "close", once the text is complete
        self._spoken = 0  # text_end of the last audio yielded
        self._played_s = 0.0  # where the last audio yielded ends
        self._base_text = 0  # where the current connection's text starts in ours
        self._base_s = 0.0  # where its audio starts in ours
        self.resumes: list[float] = []  # seconds from each loss to audio again

    @property
    def ctx(self) -> MuxContext:
        assert self._ctx is not None, "call start() first"
        return self._ctx

    @property
    def id(self) -> str:
        return self.ctx.id

    @property
    def cancelled(self) -> bool:
        return self.ctx.cancelled

    async def start(self) -> ResumableContext:
        self._ctx = await self._open_context()
        return self

    async def configure(self, **fields: Any) -> None:
        self._config.update(fields)
        with contextlib.suppress(ConnectionError):  # kept: a resume sends it again
            await self.ctx.configure(**fields)

    async def send_text(self, text: str) -> None:
        self._text.append(text)
        with contextlib.suppress(ConnectionError):  # the text is kept: the resume sends it
            await self.ctx.send_text(text)

    async def flush(self) -> None:
        self._ending = "flush"
        await self._end()

    async def close(self) -> None:
        self._ending = "close"
        await self._end()

    async def cancel(self) -> bool:
        return await self.ctx.cancel()

    async def release(self) -> Any:
        return await self._give_back(self.ctx)

    async def utterance(self, idle_timeout: float | None = None) -> AsyncIterator[Audio | Error]:
        """The audio and errors of the utterance, across lost connections (see the module)."""
        lost_at: float | None = None
        while True:
            try:
                async for event in self.ctx.utterance(idle_timeout):
                    if isinstance(event, Audio):
                        event = self._continued(event)
                        if lost_at is not None:
                            self.resumes.append(time.monotonic() - lost_at)
                            lost_at = None
                    yield event
                return
            except ConnectionLost as lost:
                code = ErrorCode.of(lost.code)
                if (code is not None and not code.retryable) or len(self.resumes) >= self._attempts:
                    raise
                lost_at = lost_at or time.monotonic()
                logger.info("connection lost mid-utterance (%s): resuming", lost.reason)
                await self._resume()

    async def _end(self) -> None:
        with contextlib.suppress(ConnectionError):  # a resume ends the new one the same way
            await (self.ctx.flush() if self._ending == "flush" else self.ctx.close())

    async def _resume(self) -> None:
        """Give the dead context back, open a new one, and send it what is left to say."""
        await self._give_back(self.ctx)
        self._ctx = await self._open_context()
        self._base_text, self._base_s = self._spoken, self._played_s
        if self._config:
            await self._ctx.configure(**self._config)
        rest = "".join(self._text)[self._spoken :]
        self._text = ["".join(self._text)]
        if rest:
            await self._ctx.send_text(rest)
        if self._ending is not None:
            await self._end()

    def _continued(self, event: Audio) -> Audio:
        """``event`` in the utterance's own offsets, seconds and text."""
        shift = self._base_s
        if event.text_end is not None:
            self._spoken = self._base_text + event.text_end
        words = tuple(WordTiming(w.word, w.start + shift, w.end + shift) for w in event.words)
        event = replace(event, offset_s=event.offset_s + shift, words=words, text_end=self._spoken)
        self._played_s = event.offset_s + event.duration_s
        return event
