"""Request metrics: the interface every transport reports through (no-op default).

The speech route (and the WebSocket) call, per request::

    tracker = app.state.metrics.start(transport="http", text=..., voice=..., lang=..., format=...)
    tracker.first_byte()                     # the first audio byte left
    tracker.add(bytes_=n, audio_s=s)         # after each piece sent
    tracker.finish(status="ok" | "error" | "cancelled", error=None)

This default records nothing; the observability module replaces the bodies and keeps
these names and signatures.
"""

from __future__ import annotations


class Tracker:
    """One request's record."""

    def first_byte(self) -> None:
        """The first audio byte was sent."""

    def add(self, *, bytes_: int, audio_s: float) -> None:
        """``bytes_`` more bytes carrying ``audio_s`` more seconds of audio were sent."""

    def finish(self, *, status: str, error: str | None = None) -> None:
        """The request ended: ``ok``, ``error`` (with a short reason) or ``cancelled``."""


class Metrics:
    """The recorder kept in ``app.state.metrics``."""

    def start(self, *, transport: str, text: str, voice: str, lang: str, format: str) -> Tracker:
        return Tracker()
