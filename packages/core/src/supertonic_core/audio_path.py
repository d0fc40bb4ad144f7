"""The one audio path every transport takes: a chunk's samples → resample → encode → bytes.

A stream's chunks leave the core already faded and followed by their pause (see
:mod:`.stream`); what differs per client is only the rate and the format. HTTP (every
response format), the WebSocket session (and through it the in-process plugins), Wyoming
and Supertone's API each open one :class:`AudioPath` per response or utterance, push each
chunk's samples, and finish it once: the resampler keeps its filter state from chunk to
chunk (resampling chunks on their own clicks at every join) and drains its tail at the end,
then the encoder closes its container.

Resampling and compressed codecs cost milliseconds per chunk; on the event loop they would
hold up every other socket of the server, so :meth:`AudioPath.push` runs them in a worker
thread. Raw formats at the model's own rate cost microseconds and stay on the loop.

Encoders here are the raw sample formats of the speech-session protocol; containers and
codecs (wav, mp3, opus, aac, flac) subclass :class:`Encoder` in the server, which carries
their libraries.
"""

from __future__ import annotations

import asyncio
import threading
from typing import ClassVar, Literal

import numpy as np

from . import g711
from .audio import StreamResampler, to_int16

_EMPTY = np.zeros(0, dtype=np.float32)


class Encoder:
    """Mono float32 samples at :attr:`sample_rate` in, bytes out, as soon as they are ready:
    ``encode`` any number of times, then ``finish`` once (``close`` drops it unfinished).

    ``costly``: encoding takes long enough that it belongs off the event loop.
    """

    format: ClassVar[str]
    costly: ClassVar[bool] = False

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self.samples_in = 0
        self.closed = False

    def encode(self, samples: np.ndarray) -> bytes:
        """The bytes ready after ``samples``; ValueError once finished or closed."""
        if self.closed:
            raise ValueError(f"the {self.format} encoder is closed")
        self.samples_in += len(samples)
        return self._encode(samples)

    def _encode(self, samples: np.ndarray) -> bytes:
        raise NotImplementedError

    def finish(self) -> bytes:
        """Flush what the codec holds, close the container and release the codec; call once,
        at the end (again, or after :meth:`close`, it returns nothing)."""
        if self.closed:
            return b""
        self.closed = True
        return self._finish()

    def close(self) -> None:
        """Release the codec without more output (the stream was abandoned); idempotent."""
        if not self.closed:
            self.closed = True
            self._release()

    def _finish(self) -> bytes:
        """The codec's tail and the container's end; releases the codec."""
        self._release()
        return b""

    def _release(self) -> None:
        """Drop the codec (once), in an encoder that holds one."""


class Pcm16Encoder(Encoder):
    """Little-endian int16, no header."""

    format = "pcm_s16le"

    def _encode(self, samples: np.ndarray) -> bytes:
        return to_int16(samples).astype("<i2", copy=False).tobytes()


class Float32Encoder(Encoder):
    """Little-endian float32, no header."""

    format = "pcm_f32le"

    def _encode(self, samples: np.ndarray) -> bytes:
        return samples.astype("<f4", copy=False).tobytes()


class G711Encoder(Encoder):
    """G.711 μ-law or A-law: one byte a sample (phone lines, 8 kHz)."""

    def __init__(self, sample_rate: int, law: Literal["mulaw", "alaw"]) -> None:
        super().__init__(sample_rate)
        self.format = law  # type: ignore[misc]
        self._law: Literal["mulaw", "alaw"] = law

    def _encode(self, samples: np.ndarray) -> bytes:
        return g711.encode(to_int16(samples), self._law)


def raw_encoder(encoding: str, sample_rate: int) -> Encoder:
    """The encoder of a speech-session ``encoding`` (see ``protocol.ENCODINGS``)."""
    if encoding == "pcm_f32le":
        return Float32Encoder(sample_rate)
    if encoding in ("mulaw", "alaw"):
        return G711Encoder(sample_rate, encoding)  # type: ignore[arg-type]
    return Pcm16Encoder(sample_rate)


class AudioPath:
    """One response's audio: chunks' samples at ``source_rate`` in, ``encoder``'s bytes out."""

    def __init__(self, source_rate: int, encoder: Encoder) -> None:
        self.encoder = encoder
        self.resampler = StreamResampler(source_rate, encoder.sample_rate)
        self._threaded = encoder.costly or source_rate != encoder.sample_rate
        # A push still running in its thread when the response is dropped must not meet
        # close() in the codec: one at a time.
        self._lock = threading.Lock()

    @property
    def sample_rate(self) -> int:
        """The rate of the audio that leaves."""
        return self.encoder.sample_rate

    @property
    def samples_out(self) -> int:
        """Samples encoded so far, at :attr:`sample_rate`."""
        return self.encoder.samples_in

    async def push(self, samples: np.ndarray) -> bytes:
        """The bytes of the next chunk (off the event loop when that costs)."""
        if self._threaded:
            return await asyncio.to_thread(self.push_now, samples)
        return self.push_now(samples)

    async def finish(self) -> bytes:
        """The resampler's tail and the encoder's end (call once)."""
        if self._threaded:
            return await asyncio.to_thread(self.finish_now)
        return self.finish_now()

    def push_now(self, samples: np.ndarray) -> bytes:
        """:meth:`push`, blocking, on the caller's thread (scripts, the CLI)."""
        with self._lock:
            return self.encoder.encode(self.resampler.process(samples))

    def finish_now(self) -> bytes:
        """:meth:`finish`, blocking."""
        with self._lock:
            tail = self.encoder.encode(self.resampler.process(_EMPTY, last=True))
            return tail + self.encoder.finish()

    def close(self) -> None:
        """Release the encoder (after a push still running in its thread)."""
        with self._lock:
            self.encoder.close()
