"""The Wyoming protocol (Home Assistant's voice pipeline) over the server's own engine.

Why: Home Assistant, the largest community of local-TTS users, reaches text-to-speech
services through Wyoming, a JSON-lines-plus-payload protocol over TCP. This module speaks it
with the ``wyoming`` library (the protocol's own implementation) and adds no synthesis of
its own: every request becomes a :class:`~supertonic_core.SynthesisStream` of the same
engine, scheduler and admission limits as the HTTP and WebSocket routes, registered in the
lifecycle so that shutdown drains it like any other stream.

Events served:

* ``describe`` → ``info``: one TTS program, our voices, each with every language.
* ``synthesize`` → ``audio-start``, ``audio-chunk``\\ s (16-bit mono PCM at the model's rate),
  ``audio-stop``.
* ``synthesize-start`` / ``synthesize-chunk``\\ s / ``synthesize-stop`` (Wyoming 1.5+): the
  text deltas feed the core's incremental splitter, so each sentence is synthesized as soon
  as its end arrives and its audio leaves while the next text is still coming; then
  ``audio-stop`` and ``synthesize-stopped``. The whole-text ``synthesize`` that Home
  Assistant also sends inside a stream, for older servers, is ignored there.

A failure is an ``error`` event (``text`` says what, ``code`` is the HTTP API's code) and
the connection stays usable.

Voice and language: ``voice.name`` picks the voice (presets, OpenAI names, custom voices);
``voice.language`` (``en``, ``en-US``, ``en_US``) the language. Home Assistant sends only the
name once a voice is chosen, so without a language the text's language is detected as for
``"lang": "auto"`` on HTTP (falling back to ``--lang``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from supertonic_core import Engine, SupertonicError, SynthesisOptions, SynthesisStream
from supertonic_core.audio_path import AudioPath, Pcm16Encoder
from supertonic_core.detect import detect
from supertonic_core.errors import ErrorCode
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Attribution, Describe, Info, TtsProgram, TtsVoice
from wyoming.server import AsyncEventHandler, AsyncTcpServer
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
    SynthesizeVoice,
)

from .settings import Settings
from .state import Lifecycle
from .version import __version__

logger = logging.getLogger("supertonic_server.wyoming")

#: Samples per ``audio-chunk`` event: ~93 ms at 44.1 kHz, small enough for a satellite's
#: playback buffer, large enough that the event overhead stays negligible.
SAMPLES_PER_EVENT = 4096
_WIDTH, _CHANNELS = 2, 1
_ATTRIBUTION = Attribution(name="Supertone", url="https://huggingface.co/Supertone/supertonic-3")


class ServerState(Protocol):
    """What the handler reads from the app (``app.state``): the engine once loaded, the
    lifecycle (readiness, the streams to drain) and the settings."""

    engine: Engine | None
    lifecycle: Lifecycle
    settings: Settings


class WyomingError(Exception):
    """A request that cannot be served; sent to the client as an ``error`` event."""

    def __init__(self, text: str, code: ErrorCode) -> None:
        super().__init__(text)
        self.code = code


def tts_info(engine: Engine) -> Info:
    """The ``info`` answer: one program; every voice speaks every language of the model."""
    languages = [lang for lang in engine.languages if lang != "na"]
    voices = [
        TtsVoice(
            name=name,
            description=f"Supertonic-3 voice {name}",
            attribution=_ATTRIBUTION,
            installed=True,
            version=None,
            languages=languages,
        )
        for name in engine.voices.names()
    ]
    program = TtsProgram(
        name="supertonic",
        description="Supertonic-3 text-to-speech (supertonic-stack-server)",
        attribution=_ATTRIBUTION,
        installed=True,
        version=__version__,
        voices=voices,
        supports_synthesize_streaming=True,
    )
    return Info(tts=[program])


def _language(voice: SynthesizeVoice | None) -> str | None:
    """``en-US`` / ``en_US`` / ``EN`` → ``en``; None when the client named no language."""
    if voice is None or not voice.language:
        return None
    return voice.language.replace("_", "-").split("-")[0].strip().lower() or None


class WyomingTTSHandler(AsyncEventHandler):
    """One client connection: describe, one-shot synthesis, streaming synthesis."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, state: ServerState
    ) -> None:
        super().__init__(reader, writer)
        self.state = state
        self._streaming = False  # between synthesize-start and synthesize-stop
        self._voice: SynthesizeVoice | None = None
        self._stream: SynthesisStream | None = None
        self._player: asyncio.Task[None] | None = None
        self._chars = 0

    async def handle_event(self, event: Event) -> bool:
        try:
            await self._handle(event)
        except (WyomingError, SupertonicError) as exc:
            await self._fail(str(exc), exc.code)
        return True

    async def disconnect(self) -> None:
        """The client left: stop its synthesis at the next step."""
        await self._reset()

    # ------------------------------------------------------------------ events

    async def _handle(self, event: Event) -> None:
        if Describe.is_type(event.type):
            await self.write_event(tts_info(self._engine()).event())
        elif Synthesize.is_type(event.type):
            if self._streaming:
                return  # the whole text again, for servers without streaming: already spoken
            request = Synthesize.from_event(event)
            self._count(request.text)
            options = self._options(request.voice, request.text)
            self._engine().check_text(request.text, options.lang)
            stream = self._open(options)
            stream.add_text(request.text)
            stream.end()
            await self._play(stream)
        elif SynthesizeStart.is_type(event.type):
            await self._reset()
            self._streaming = True
            self._voice = SynthesizeStart.from_event(event).voice
        elif SynthesizeChunk.is_type(event.type):
            if not self._streaming:
                raise WyomingError(
                    "synthesize-chunk outside synthesize-start/stop", ErrorCode.BAD_EVENT
                )
            text = SynthesizeChunk.from_event(event).text
            self._count(text)
            if self._stream is None:
                if not text.strip():
                    return
                self._stream = self._open(self._options(self._voice, text))
                self._player = asyncio.create_task(self._play(self._stream))
            self._stream.add_text(text)
        elif SynthesizeStop.is_type(event.type):
            if not self._streaming:
                raise WyomingError("synthesize-stop without synthesize-start", ErrorCode.BAD_EVENT)
            await self._finish_stream()

    async def _finish_stream(self) -> None:
        """End the streamed text, wait for its last audio, close with synthesize-stopped."""
        stream, player = self._stream, self._player
        self._streaming, self._stream, self._player, self._chars = False, None, None, 0
        if stream is None:  # nothing speakable was sent: an empty reply is still a reply
            await self._write_start(self._engine().sample_rate)
        else:
            stream.end()
        if player is not None:
            await player
        else:
            await self.write_event(AudioStop().event())
        await self.write_event(SynthesizeStopped().event())

    # ------------------------------------------------------------------ synthesis

    def _engine(self) -> Engine:
        lifecycle = self.state.lifecycle
        engine = self.state.engine
        if not lifecycle.ready or engine is None:
            error = lifecycle.unavailable()
            raise WyomingError(error.message, error.code or ErrorCode.UNAVAILABLE)
        return engine

    def _count(self, text: str) -> None:
        """Bound the text of one request, streamed or not, as the HTTP API does."""
        self._chars += len(text)
        limit = self.state.settings.max_input_chars
        if self._chars > limit:
            self._chars = 0
            raise WyomingError(f"text longer than {limit} characters", ErrorCode.INPUT_TOO_LONG)

    def _options(self, voice: SynthesizeVoice | None, text: str) -> SynthesisOptions:
        engine = self._engine()
        lang = _language(voice)
        if lang is None:
            lang, _ = detect(text, engine.languages, engine.defaults.lang)
        return engine.options(voice=voice.name if voice else None, lang=lang)

    def _open(self, options: SynthesisOptions) -> SynthesisStream:
        """A stream of the shared engine (admission may refuse it: ``busy``)."""
        stream = self._engine().open_stream(options)
        self.state.lifecycle.streams.add(stream)
        return stream

    async def _write_start(self, rate: int) -> None:
        await self.write_event(AudioStart(rate=rate, width=_WIDTH, channels=_CHANNELS).event())

    async def _play(self, stream: SynthesisStream) -> None:
        """audio-start, the stream's audio in small events as it is synthesized, audio-stop.

        Reads the rate from the stream's engine, not through the lifecycle: a stream that
        started before a shutdown finishes while the server drains."""
        rate = stream.sample_rate
        path = AudioPath(rate, Pcm16Encoder(rate))
        try:
            await self._write_start(rate)
            async with stream:
                async for chunk in stream:
                    await self._write_audio(await path.push(chunk.samples), rate)
            await self._write_audio(await path.finish(), rate)
            await self.write_event(AudioStop().event())
        finally:
            self.state.lifecycle.streams.discard(stream)
            self._chars = 0

    async def _write_audio(self, pcm: bytes, rate: int) -> None:
        """``pcm`` as audio-chunk events of at most SAMPLES_PER_EVENT samples."""
        step = SAMPLES_PER_EVENT * _WIDTH * _CHANNELS
        for start in range(0, len(pcm), step):
            chunk = AudioChunk(
                rate=rate, width=_WIDTH, channels=_CHANNELS, audio=pcm[start : start + step]
            )
            await self.write_event(chunk.event())

    async def _fail(self, text: str, code: ErrorCode) -> None:
        logger.info("wyoming request refused: %s (%s)", text, code)
        await self._reset()
        with contextlib.suppress(ConnectionError):
            await self.write_event(Error(text=text, code=code).event())

    async def _reset(self) -> None:
        """Drop a stream in progress (a new start, an error, the client gone)."""
        stream, player = self._stream, self._player
        self._streaming, self._stream, self._player, self._chars = False, None, None, 0
        if stream is not None:
            stream.cancel()
            self.state.lifecycle.streams.discard(stream)
        if player is not None:
            player.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await player


async def start_wyoming(state: ServerState, host: str, port: int) -> AsyncTcpServer:
    """Listen for Wyoming clients on ``host:port`` (non-blocking); ``stop()`` closes it."""
    server = AsyncTcpServer(host, port)

    def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Any:
        return WyomingTTSHandler(reader, writer, state)

    await server.start(handler)
    logger.info("Wyoming TTS on tcp://%s:%d", host, port)
    return server
