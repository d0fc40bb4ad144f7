"""The speech connection the services talk to, and what they need to know about it.

Both services speak the core's speech-session protocol; only the object on the other end
differs (an in-process :class:`~supertonic_core.session.SpeechSession` or a
:class:`~supertonic_core.client.SpeechClient` over the server's WebSocket). This module
names that shared surface and the small audio helpers the services use.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from supertonic_core.audio import SAMPLE_RATES, StreamResampler, to_int16
from supertonic_core.protocol import Event

#: Protocol messages name the language ``lang``; Pipecat settings name it ``language``.
SESSION_FIELDS = {"voice": "voice", "language": "lang", "speed": "speed", "steps": "steps"}
#: Applied only when given: the protocol cannot set ``seed`` back to "random", nor
#: ``first_chunk_steps`` (or ``normalize``, ``emoji``) back to "the session's default".
OPTIONAL_FIELDS = {
    "seed": "seed",
    "first_chunk_steps": "first_chunk_steps",
    "normalize": "normalize",
    "emoji": "emoji",
}


class SpeechConnectionLike(Protocol):
    """What :class:`SpeechSession` and :class:`SpeechClient` both offer."""

    async def configure(self, context_id: str | None = None, **config: Any) -> None: ...

    async def send_text(self, text: str, context_id: str | None = None) -> None: ...

    async def cancel(self, context_id: str | None = None) -> None: ...

    async def close_context(self, context_id: str) -> None: ...

    async def send(self, msg: dict[str, Any]) -> None: ...

    def events(self) -> AsyncIterator[Event]: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class ConnectionLost:
    """Put in a sentence's inbox when the connection dies before its audio ended."""

    reason: str


@dataclass(eq=False)
class TurnState:
    """One Pipecat audio context: the audio it has played so far and its sentence in flight.

    Pipecat counts word times from the first audio of the audio context, while the session
    counts them from the start of each sentence, so each sentence is shifted by what came
    before it (``audio_s``).
    """

    audio_s: float = 0.0
    last_text: str = ""
    inflight: str | None = None  # session context id of the sentence being synthesized
    closed: bool = False


@dataclass(eq=False)
class PcmConverter:
    """int16 audio at the session's rate → int16 at the pipeline's, one sentence at a time.

    Used only when the pipeline rate is not one the session can produce; the filter tail is
    drained at the end of each sentence, so no audio of one sentence leaks into the next.
    """

    out_rate: int
    _resampler: StreamResampler | None = field(default=None, init=False)

    def convert(self, pcm: bytes, in_rate: int) -> bytes:
        if in_rate == self.out_rate:
            return pcm
        if self._resampler is None or self._resampler.in_rate != in_rate:
            self._resampler = StreamResampler(in_rate, self.out_rate)
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        return to_int16(self._resampler.process(samples)).astype("<i2").tobytes()

    def drain(self) -> bytes:
        if self._resampler is None:
            return b""
        tail = self._resampler.process(np.zeros(0, dtype=np.float32), last=True)
        self._resampler = None
        return to_int16(tail).astype("<i2").tobytes()


def session_rate(pipeline_rate: int, native_rate: int) -> int:
    """The rate to ask the session for: the pipeline's when it can make it, else native."""
    return pipeline_rate if pipeline_rate in SAMPLE_RATES else native_rate


def silence(seconds: float, rate: int) -> bytes:
    return b"\x00\x00" * round(seconds * rate)
