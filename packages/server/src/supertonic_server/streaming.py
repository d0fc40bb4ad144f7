"""From a synthesis stream to response bytes: resample, encode, send as each chunk is ready.

:class:`SpeechStreamer` drives one request's :class:`~supertonic_core.SynthesisStream`:
every audio chunk goes through the core's one audio path
(:class:`~supertonic_core.audio_path.AudioPath`: stateful resampling, the encoder, off the
event loop where that costs) and is handed to the response at once, either raw (``stream_format=audio``) or as
OpenAI's SSE events (``speech.audio.delta`` … ``speech.audio.done``).

A chunk's audio is encoded and handed over in pieces of :data:`PIECE_S` seconds, not
whole (a chunk can hold 20 s of audio: 1.7 MB of ``wav``, over a second of LAME on a small
CPU). The server's send waits while its buffer is full, so to a slow reader at most one
piece is ever committed beyond what the socket already holds; a cancellation takes effect
at the next piece, not after the whole chunk; and the event loop is given back between
pieces (a send to a reader that keeps up returns without it), so other streams, and a
shutdown's signal and deadlines, never wait for a whole chunk's encoding.

Whatever happens, the stream is closed in a ``finally``, so the scheduler gets its slot
back: a client that disconnects cancels synthesis at the next denoising step (a watcher
task notices the disconnect even while no chunk is being sent). A failure after the first
byte cannot change the status code any more; it is logged with the request id, counted as
``error``, and the response ends cleanly: audio with the encoder's tail (a valid file up
to the last piece sent), SSE with an ``error`` event instead of ``speech.audio.done``.
A stream the server cancels at shutdown, after its grace, ends the same way (``error``
code ``shutting_down``), recorded as ``cancelled``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send
from supertonic_core import (
    AudioChunk,
    Engine,
    SupertonicError,
    SynthesisCancelledError,
    SynthesisOptions,
    SynthesisStream,
)
from supertonic_core.audio_path import AudioPath

from .encoders import Encoder
from .errors import SERVER
from .metrics import Tracker

logger = logging.getLogger("supertonic_server")

#: Seconds of audio encoded and sent at once (see above).
PIECE_S = 0.2


class ShuttingDown(Exception):
    """The server ended the stream at shutdown, after the grace (the client is still there)."""


def sse_event(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


class SpeechStreamer:
    """One response's worth of audio out of ``stream``.

    Args:
        stream: an opened stream with all its text added and ended.
        encoder: the response format's encoder, at the output rate.
        request: the HTTP request (to notice a disconnect).
        tracker: this request's metrics record.
        frame: audio samples per latent frame (for the ``usage`` of SSE).
        input_chars: characters of input (for the ``usage`` of SSE).
        on_close: called with ``stream`` once it is closed.
    """

    def __init__(
        self,
        stream: SynthesisStream,
        encoder: Encoder,
        *,
        request: Request,
        tracker: Tracker,
        frame: int,
        input_chars: int,
        on_close: Callable[[SynthesisStream], None],
    ) -> None:
        self.stream = stream
        self.encoder = encoder
        self.path = AudioPath(stream.sample_rate, encoder)
        self.request = request
        self.tracker = tracker
        self.frame = frame
        self.input_chars = input_chars
        self.on_close = on_close
        self.started = time.perf_counter()
        self.first_byte_s: float | None = None
        self.audio_s = 0.0
        self.native_samples = 0
        self.bytes_sent = 0
        self.chunks = 0
        self.chunk: AudioChunk | None = None  # the chunk the bytes last yielded belong to
        self.complete = False
        self.disconnected = False
        self._reported_s = 0.0
        self.closed = False
        self._watcher: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ transports

    def audio(self) -> AsyncIterator[bytes]:
        """Raw encoded bytes (``stream_format=audio``)."""
        return self._serve(wrap=lambda data: data, done=lambda: b"", failed=self._audio_tail)

    def sse(self) -> AsyncIterator[bytes]:
        """OpenAI's server-sent events (``stream_format=sse``)."""
        return self._serve(wrap=self._delta, done=self._done_event, failed=self._error_event)

    def _delta(self, data: bytes) -> bytes:
        return sse_event({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()})

    def usage(self) -> dict[str, int]:
        """Input characters and output latent frames: the model's own units."""
        output = math.ceil(self.native_samples / self.frame)
        return {
            "input_tokens": self.input_chars,
            "output_tokens": output,
            "total_tokens": self.input_chars + output,
        }

    def _done_event(self) -> bytes:
        return sse_event({"type": "speech.audio.done", "usage": self.usage()})

    def _error_event(self, exc: BaseException) -> bytes:
        rid = getattr(self.request.state, "request_id", "-")
        if isinstance(exc, ShuttingDown):
            message = "the server is shutting down: the stream was ended after its grace period"
            code = "shutting_down"
        else:
            message = (
                f"synthesis failed after the stream started (request id {rid}); "
                "the details are in the server log"
            )
            code = "synthesis_failed"
        error = {"message": message, "type": SERVER, "param": None, "code": code}
        return sse_event({"type": "error", "error": error})

    def _audio_tail(self, exc: BaseException) -> bytes:
        try:
            return self.encoder.finish()
        except Exception:  # the encoder itself may be what failed
            logger.exception("could not finish the %s stream", self.encoder.format)
            return b""

    # ------------------------------------------------------------------ the loop

    async def _encoded(self) -> AsyncIterator[bytes]:
        """Encoded bytes as chunks arrive, piece by piece until the stream is cancelled; the
        resampler's and encoder's tails at the end."""
        piece = max(1, round(PIECE_S * self.stream.sample_rate))
        async for chunk in self.stream:
            self.chunks += 1
            self.chunk = chunk
            self.native_samples += len(chunk.samples)
            self.audio_s += chunk.duration
            for start in range(0, len(chunk.samples), piece):
                await asyncio.sleep(0)  # see PIECE_S
                if self.stream.cancelled:
                    break
                data = await self.path.push(chunk.samples[start : start + piece])
                if data:
                    yield data
        if self.stream.cancelled:
            if self.disconnected:
                return  # client gone: nobody wants the tail
            raise ShuttingDown
        tail = await self.path.finish()
        self.complete = True
        if tail:
            yield tail

    async def _serve(
        self,
        *,
        wrap: Callable[[bytes], bytes],
        done: Callable[[], bytes],
        failed: Callable[[BaseException], bytes],
    ) -> AsyncIterator[bytes]:
        self._watcher = asyncio.create_task(self._watch_disconnect())
        status, error, last = "cancelled", None, b""
        try:
            try:
                async for data in self._encoded():
                    self._sent(data)
                    yield wrap(data)
            except SynthesisCancelledError:
                return  # closed while waiting for its turn: the client left
            except ShuttingDown as exc:
                last = failed(exc)
            except Exception as exc:
                status, error = "error", f"{type(exc).__name__}: {exc}"
                logger.exception("synthesis failed after the response started; ending it")
                last = failed(exc)
            else:
                if self.complete:
                    status = "ok"
                    last = done()
            if last:
                yield last
        finally:
            self.close(status, error)

    def close(self, status: str = "cancelled", error: str | None = None) -> None:
        """Release the stream and the encoder and record the outcome; only the first call counts.

        The response calls this too, for the case where the body was never iterated (the
        client left before the first byte), so the scheduler slot is never leaked.
        """
        if self.closed:
            return
        self.closed = True
        if self._watcher is not None:
            self._watcher.cancel()
        self.stream.close()
        self.path.close()
        self.tracker.finish(status=status, error=error)
        self.on_close(self.stream)
        self._log_end(status)

    def _sent(self, data: bytes) -> None:
        if self.first_byte_s is None:
            self.first_byte_s = time.perf_counter() - self.started
            self.tracker.first_byte()
        self.bytes_sent += len(data)
        self.tracker.add(bytes_=len(data), audio_s=self.audio_s - self._reported_s)
        self._reported_s = self.audio_s

    async def _watch_disconnect(self) -> None:
        """Cancel synthesis as soon as the client goes away, even between two chunks."""
        while True:
            message = await self.request.receive()
            if message["type"] == "http.disconnect":
                self.disconnected = True
                self.stream.cancel()
                self.stream.close()  # also leaves the scheduler's queue if still waiting there
                return

    def _reason(self) -> str:
        if self.disconnected:
            return " (client disconnected)"
        return " (server shutting down)" if self.stream.cancelled and not self.complete else ""

    def _log_end(self, status: str) -> None:
        elapsed = time.perf_counter() - self.started
        ttfb = f"{self.first_byte_s * 1000:.0f}" if self.first_byte_s is not None else "-"
        rtf = f"{elapsed / self.audio_s:.3f}" if self.audio_s else "-"
        level = logging.INFO if status != "error" else logging.ERROR
        logger.log(
            level,
            "speech %s%s chunks=%d audio_s=%.2f bytes=%d ttfb_ms=%s rtf=%s",
            status,
            self._reason(),
            self.chunks,
            self.audio_s,
            self.bytes_sent,
            ttfb,
            rtf,
        )


def open_streamer(
    request: Request,
    engine: Engine,
    opts: SynthesisOptions,
    text: str,
    encoder: Encoder,
    *,
    voice: str,
    format: str,
    on_close: Callable[[SpeechStreamer], None] | None = None,
) -> SpeechStreamer:
    """Start synthesizing ``text`` and return the streamer that will send it.

    The stream is registered with the app's lifecycle (shutdown waits for it) and the
    request with its metrics. A failure before the streamer exists releases the stream,
    the encoder and the metrics record, then raises. ``on_close`` is called with the
    streamer once it is closed (its ``audio_s`` is then final).
    """
    lifecycle = request.app.state.lifecycle
    tracker = request.app.state.metrics.start(
        transport="http", text=text, voice=voice, lang=opts.lang, format=format
    )
    try:
        stream = engine.open_stream(opts)
    except SupertonicError as exc:
        tracker.finish(status="error", error=type(exc).__name__)
        encoder.close()
        raise
    lifecycle.streams.add(stream)
    try:
        stream.add_text(text)
        stream.end()
    except BaseException as exc:
        stream.close()
        lifecycle.streams.discard(stream)
        tracker.finish(status="error", error=type(exc).__name__)
        encoder.close()
        raise

    def closed(stream: SynthesisStream) -> None:
        lifecycle.streams.discard(stream)
        if on_close is not None:
            on_close(streamer)

    streamer = SpeechStreamer(
        stream,
        encoder,
        request=request,
        tracker=tracker,
        frame=engine.bundle.samples_per_frame,
        input_chars=len(text),
        on_close=closed,
    )
    return streamer


class SpeechResponse(StreamingResponse):
    """A streaming response that always closes its streamer, even if never iterated.

    ``body`` and ``media_type`` replace the streamer's own audio or SSE (another API's
    framing of the same audio).
    """

    def __init__(
        self,
        streamer: SpeechStreamer,
        *,
        sse: bool,
        headers: dict[str, str],
        body: AsyncIterator[bytes] | None = None,
        media_type: str | None = None,
    ) -> None:
        if body is None:
            body = streamer.sse() if sse else streamer.audio()
        if media_type is None:
            media_type = "text/event-stream" if sse else streamer.encoder.media_type
        super().__init__(body, media_type=media_type, headers=headers)
        self.streamer = streamer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.streamer.close()
