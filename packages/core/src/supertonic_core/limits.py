"""What a speech session may hold: its limits, and shares of utterances across sessions.

A session shares the server with others: :class:`SessionLimits` bounds what one holds
(timers, text waiting, events waiting for its reader), and a :class:`Share` bounds the
utterances in progress of everything that holds it (one connection, one API key).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ErrorCode
from .protocol import ProtocolError


@dataclass(frozen=True)
class SessionLimits:
    """What one session may hold (None: no bound).

    Attributes:
        flush_after: seconds without new text after which a context's buffered text is
            spoken, and a paused utterance gives its scheduler place back.
        context_idle_timeout: seconds without messages or audio after which a context with
            nothing to synthesize is closed (``context_closed`` with ``reason``).
        max_context_chars: characters one context may have waiting to be spoken.
        max_pending_chars: characters the whole session may have waiting to be spoken.
        max_queued_events: events of any kind waiting for the reader before the session
            waits too (audio has its own, lower bound).
        max_queued_bytes: bytes of audio waiting for the reader before synthesis waits (one
            chunk is always let through, however large): a count of chunks alone let a
            socket that stopped reading hold sixteen chunks of float32 at 48 kHz, over 50 MB.
    """

    flush_after: float | None = None
    context_idle_timeout: float | None = None
    max_context_chars: int | None = None
    max_pending_chars: int | None = None
    max_queued_events: int = 64
    max_queued_bytes: int = 1 << 20


class Share:
    """A bound on the utterances in progress (first text to ``audio_end``) of everything
    that holds it: one connection, or every connection of one API key. Sessions of one
    event loop share it, so no lock."""

    def __init__(self, limit: int, holder: str) -> None:
        self.limit = limit
        self.holder = holder
        self.used = 0

    def acquire(self) -> None:
        """Take one unit, or raise ProtocolError ``too_many_utterances``."""
        if self.used >= self.limit:
            raise ProtocolError(
                f"{self.holder} already has {self.used} utterances in progress (limit "
                f"{self.limit}); wait for an audio_end, or cancel one",
                code=ErrorCode.TOO_MANY_UTTERANCES,
            )
        self.used += 1

    def release(self) -> None:
        self.used -= 1
