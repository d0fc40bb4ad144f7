"""The events a speech session has for its reader, bounded so that a reader that stops
reading stops the session instead of growing its memory.

Bounded three ways: events of any kind, audio events, and bytes of audio (one audio event
always passes, however large: the bound must not deadlock a big chunk). A producer waits
in :meth:`Outbox.put` while the box is full; the reader takes events with :meth:`take`.
Closing drops what is queued and wakes everyone.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterator

from .protocol import Audio, AudioStart, Event


class Outbox:
    """Args:
    max_events: events of any kind waiting before producers wait.
    max_audio: audio events waiting before audio producers wait.
    max_bytes: bytes of audio waiting before audio producers wait.
    """

    def __init__(self, *, max_events: int, max_audio: int, max_bytes: int) -> None:
        self.max_events = max_events
        self.max_audio = max_audio
        self.max_bytes = max_bytes
        self._events: deque[Event] = deque()
        self._audio_bytes = 0
        self._changed = asyncio.Condition()
        self.closed = False

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[Event]:
        """The events waiting, oldest first (a copy: for inspection)."""
        return iter(list(self._events))

    @property
    def audio_bytes(self) -> int:
        """Bytes of audio waiting for the reader."""
        return self._audio_bytes

    async def put(self, event: Event, *, audio: bool = False) -> None:
        """Queue ``event``, waiting while the box is full; dropped once closed."""
        async with self._changed:
            while not self.closed and self._full(audio):
                await self._changed.wait()
            if self.closed:
                return
            self._events.append(event)
            self._audio_bytes += _size(event)
            self._changed.notify_all()

    async def take(self, finished: Callable[[], bool]) -> Event | None:
        """The next event, waiting for one; None once ``finished()`` and nothing is left."""
        async with self._changed:
            while not self._events and not finished():
                await self._changed.wait()
            if not self._events:
                return None
            event = self._events.popleft()
            self._audio_bytes -= _size(event)
            self._changed.notify_all()
            return event

    async def drop_audio(self, context_id: str) -> None:
        """Forget the queued audio of a context (it was cancelled)."""
        async with self._changed:
            self._events = deque(
                e
                for e in self._events
                if not (isinstance(e, Audio | AudioStart) and e.context_id == context_id)
            )
            self._audio_bytes = sum(_size(e) for e in self._events)
            self._changed.notify_all()

    async def wake(self) -> None:
        """Let waiting readers look again (the session's state changed)."""
        async with self._changed:
            self._changed.notify_all()

    async def close(self) -> None:
        self.closed = True
        await self.wake()

    def _full(self, audio: bool) -> bool:
        if len(self._events) >= self.max_events:
            return True
        if not audio or not self._audio_bytes:
            return False
        queued = sum(isinstance(e, Audio) for e in self._events)
        return queued >= self.max_audio or self._audio_bytes >= self.max_bytes


def _size(event: Event) -> int:
    return len(event.audio) if isinstance(event, Audio) else 0
