"""Supertonic text-to-speech for LiveKit Agents.

``TTS`` streams: text pushed into :class:`SynthesizeStream` goes to a Supertonic speech
session, which splits it into chunks itself and synthesizes each one as soon as its end
is certain, so the first audio follows the first clause, not the whole reply. Audio comes
back as 16-bit PCM at the declared rate (44.1 kHz, the model's own, unless another rate
is chosen: the session resamples), each chunk with its words' timings, which are pushed
as ``TimedString``s for aligned transcripts.

The session runs in this process (the default) or on a Supertonic server (``base_url``);
see :mod:`.backends`. Everything else here is shared.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from livekit.agents import APIConnectOptions, APIError, APITimeoutError, tts, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr
from livekit.agents.utils import is_given
from livekit.agents.voice.io import TimedString
from supertonic_core import SAMPLE_RATES, Engine, RuntimeOptions, SynthesisOptions
from supertonic_core.mux import MuxContext
from supertonic_core.protocol import Audio, Error

from .backends import Backend, InProcessBackend, RemoteBackend, api_error_from_event
from .models import TTSLanguages, TTSModels, TTSSampleRates, TTSVoices

NUM_CHANNELS = 1
DEFAULT_MODEL = "supertonic-3"
DEFAULT_SAMPLE_RATE = 44100
#: Voice, language, speed and steps default to the core's.
_CORE = SynthesisOptions()


@dataclass
class _TTSOptions:
    model: TTSModels | str
    voice: TTSVoices | str
    language: TTSLanguages | str
    speed: float
    steps: int
    first_chunk_steps: int | None
    sample_rate: int
    normalize: bool | None = None
    emoji: str | None = None


class TTS(tts.TTS):
    def __init__(
        self,
        *,
        voice: TTSVoices | str = _CORE.voice,
        language: TTSLanguages | str = _CORE.lang,
        speed: float = _CORE.speed,
        steps: int = _CORE.steps,
        first_chunk_steps: int | None = None,
        sample_rate: TTSSampleRates | int = DEFAULT_SAMPLE_RATE,
        model: NotGivenOr[TTSModels | str] = NOT_GIVEN,
        base_url: NotGivenOr[str] = NOT_GIVEN,
        api_key: NotGivenOr[str] = NOT_GIVEN,
        model_dir: NotGivenOr[str | Path] = NOT_GIVEN,
        engine: Engine | None = None,
        runtime: RuntimeOptions | None = None,
        phrase_cache: int = 0,
        normalize: bool | None = None,
        emoji: str | None = None,
    ) -> None:
        """Create a Supertonic TTS, in-process (default) or against a Supertonic server.

        Args:
            voice: preset ``F1``..``F5``/``M1``..``M5``, an OpenAI voice name, a custom
                voice or a blend such as ``"F1*0.7+M2*0.3"``. Defaults to the core's.
            language: one of the model's language codes (see ``TTSLanguages``), the core's
                default unless given. Supertonic reads text in the language it is told.
            speed: 0.5..2.0; 1.0 is the model's natural pace. Defaults to the core's.
            steps: flow-matching steps, 1..32; fewer is faster. Defaults to the core's.
            first_chunk_steps: steps for the first chunk of each stream only ("fast
                start"), 1..32: the first audio comes sooner (about 40 % less compute for that
                chunk at 4 of 8 steps), the first phrase is slightly less expressive. None
                (the default) uses the session's default: the engine's in-process, the
                server's ``--first-chunk-steps`` remotely.
            sample_rate: output rate in Hz, one of 8000, 16000, 22050, 24000, 44100 (the
                model's native rate, the default) or 48000.
            model: ``supertonic-3`` (default), ``supertonic-2`` or ``supertonic``; defaults
                to ``SUPERTONIC_MODEL`` (as ``download-files`` does), else supertonic-3. A
                remote server serves its own model: then this is only a label.
            base_url: address of a Supertonic server (``http://host:8000``); when given, the
                speech session runs there, over its WebSocket endpoint. Otherwise the model
                runs in this process.
            api_key: the server's key (remote only); defaults to ``SUPERTONIC_API_KEY``.
            model_dir: a model bundle directory (in-process only); defaults to
                ``SUPERTONIC_MODEL_DIR``, else the cache filled by ``download-files``.
            engine: an already loaded ``supertonic_core.Engine`` to share (in-process only);
                the TTS does not close it.
            runtime: ONNX Runtime options, e.g. ``RuntimeOptions(device="cuda")``
                (in-process only).
            phrase_cache: entries of the engine's phrase cache (repeated short chunks served
                at once, without synthesis); 0 (the default) turns it off. In-process only,
                for the engine the TTS loads (build a shared ``engine`` with
                ``Engine.load(..., phrase_cache=N)``); a server has ``--phrase-cache``.
            normalize: read numbers, currency, dates, units, markdown, URLs and pause tags
                the way a person would; False sends the text as written. None (the default)
                uses the session's default: on in-process, the server's ``--normalize``.
            emoji: ``"remove"`` or ``"name"`` (read emoji names) when normalising; None uses
                the session's default.
        """
        if sample_rate not in SAMPLE_RATES:
            raise ValueError(
                f"sample_rate must be one of {', '.join(map(str, SAMPLE_RATES))}, "
                f"got {sample_rate!r}"
            )
        _check_numbers(speed=speed, steps=steps, first_chunk_steps=first_chunk_steps)
        if not is_given(model):
            model = os.environ.get("SUPERTONIC_MODEL") or DEFAULT_MODEL
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=True, aligned_transcript=True),
            sample_rate=sample_rate,
            num_channels=NUM_CHANNELS,
        )
        self._opts = _TTSOptions(
            model=model,
            voice=voice,
            language=language,
            speed=speed,
            steps=steps,
            first_chunk_steps=first_chunk_steps,
            sample_rate=sample_rate,
            normalize=normalize,
            emoji=emoji,
        )
        self._backend: Backend
        if is_given(base_url):
            if engine is not None or is_given(model_dir) or runtime is not None or phrase_cache:
                raise ValueError(
                    "engine, model_dir, runtime and phrase_cache configure the in-process "
                    "engine; leave them out with base_url (the server has its own model)"
                )
            key = api_key if is_given(api_key) else os.environ.get("SUPERTONIC_API_KEY")
            self._backend = RemoteBackend(base_url=base_url, api_key=key or None)
        else:
            directory = model_dir if is_given(model_dir) else os.environ.get("SUPERTONIC_MODEL_DIR")
            self._backend = InProcessBackend(
                model=model,
                model_dir=directory or None,
                runtime=runtime,
                engine=engine,
                phrase_cache=phrase_cache,
            )
        self._streams: weakref.WeakSet[ChunkedStream | SynthesizeStream] = weakref.WeakSet()

    @property
    def model(self) -> str:
        return self._opts.model

    @property
    def provider(self) -> str:
        return "supertonic"

    @property
    def engine(self) -> Engine | None:
        """The in-process engine once loaded (None before, and for a remote TTS)."""
        return self._backend.engine if isinstance(self._backend, InProcessBackend) else None

    def update_options(
        self,
        *,
        voice: NotGivenOr[TTSVoices | str] = NOT_GIVEN,
        language: NotGivenOr[TTSLanguages | str] = NOT_GIVEN,
        speed: NotGivenOr[float] = NOT_GIVEN,
        steps: NotGivenOr[int] = NOT_GIVEN,
        first_chunk_steps: NotGivenOr[int | None] = NOT_GIVEN,
        normalize: NotGivenOr[bool | None] = NOT_GIVEN,
    ) -> None:
        """Change settings for the streams created from now on (running ones keep theirs).

        Args:
            voice: voice name, custom voice or blend.
            language: language code.
            speed: 0.5..2.0.
            steps: flow-matching steps, 1..32.
            first_chunk_steps: steps for each stream's first chunk, 1..32; None goes back to
                the session's default.
            normalize: read text the way a person would (True), as written (False), or
                the session's default (None).
        """
        _check_numbers(
            speed=speed if is_given(speed) else self._opts.speed,
            steps=steps if is_given(steps) else self._opts.steps,
            first_chunk_steps=(
                first_chunk_steps if is_given(first_chunk_steps) else self._opts.first_chunk_steps
            ),
        )
        if is_given(voice):
            self._opts.voice = voice
        if is_given(language):
            self._opts.language = language
        if is_given(speed):
            self._opts.speed = speed
        if is_given(steps):
            self._opts.steps = steps
        if is_given(first_chunk_steps):
            self._opts.first_chunk_steps = first_chunk_steps
        if is_given(normalize):
            self._opts.normalize = normalize

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> ChunkedStream:
        stream = ChunkedStream(tts=self, input_text=text, conn_options=conn_options)
        self._streams.add(stream)
        return stream

    def stream(
        self, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> SynthesizeStream:
        stream = SynthesizeStream(tts=self, conn_options=conn_options)
        self._streams.add(stream)
        return stream

    def prewarm(self) -> None:
        """Start loading and warming up the model (in-process) or opening a socket (remote)."""
        self._backend.prewarm()

    async def aclose(self) -> None:
        """Stop every stream of this TTS, then free the engine or close the sockets."""
        for stream in list(self._streams):
            await stream.aclose()
        self._streams.clear()
        await self._backend.aclose()


class ChunkedStream(tts.ChunkedStream):
    """One text, synthesized whole (``TTS.synthesize``)."""

    def __init__(self, *, tts: TTS, input_text: str, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=tts, input_text=input_text, conn_options=conn_options)
        self._tts: TTS = tts
        self._opts = replace(tts._opts)

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        async with _speech_context(
            self._tts, self._opts, self._conn_options.timeout, output_emitter, stream=False
        ) as ctx:
            await ctx.send_text(self._input_text)
            await ctx.close()
            await _play(ctx, output_emitter, self._opts, self._conn_options.timeout)
        output_emitter.flush()


class SynthesizeStream(tts.SynthesizeStream):
    """Text pushed as it is generated (``TTS.stream``): one segment, spoken as it comes.

    The speech session splits the text into chunks itself (a chunk is released once its end
    is certain), so no sentence tokenizer runs here. As in every LiveKit 1.8 plugin, one
    stream is one segment: the first ``flush()`` (or ``end_input()``) ends its text.
    """

    def __init__(self, *, tts: TTS, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=tts, conn_options=conn_options)
        self._tts: TTS = tts
        self._opts = replace(tts._opts)

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        async with _speech_context(
            self._tts, self._opts, self._conn_options.timeout, output_emitter, stream=True
        ) as ctx:

            async def send_input() -> None:
                sent = False
                async for data in self._input_ch:
                    if isinstance(data, self._FlushSentinel):
                        if sent:
                            break  # the segment's text is complete
                        continue
                    self._mark_started()
                    await ctx.send_text(data)
                    sent = True
                await ctx.close()  # the text is complete: its audio ends the context

            tasks = [
                asyncio.create_task(send_input(), name="supertonic-send"),
                asyncio.create_task(
                    _play(
                        ctx, output_emitter, self._opts, self._conn_options.timeout, segment=ctx.id
                    ),
                    name="supertonic-receive",
                ),
            ]
            try:
                await asyncio.gather(*tasks)
            finally:
                await utils.aio.cancel_and_wait(*tasks)


@asynccontextmanager
async def _speech_context(
    tts_: TTS,
    opts: _TTSOptions,
    timeout: float,
    output_emitter: tts.AudioEmitter,
    *,
    stream: bool,
) -> AsyncIterator[MuxContext]:
    """Start ``output_emitter`` (mono 16-bit PCM at ``opts.sample_rate``; ``stream``: one
    segment fed as text comes), then open one context on the backend, configured by ``opts``."""
    output_emitter.initialize(
        request_id=utils.shortuuid(),
        sample_rate=opts.sample_rate,
        num_channels=NUM_CHANNELS,
        mime_type="audio/pcm",
        stream=stream,
    )
    async with tts_._backend.context(timeout=timeout) as ctx:
        await ctx.configure(**_context_config(opts))
        yield ctx


def _context_config(opts: _TTSOptions) -> dict[str, Any]:
    """The speech session's ``config`` fields for one stream (``first_chunk_steps``,
    ``normalize`` and ``emoji`` only when set: the context then keeps the session's
    default)."""
    config: dict[str, Any] = {
        "voice": opts.voice,
        "lang": opts.language,
        "speed": opts.speed,
        "steps": opts.steps,
        "sample_rate": opts.sample_rate,
        "encoding": "pcm_s16le",
    }
    for name in ("first_chunk_steps", "normalize", "emoji"):
        if getattr(opts, name) is not None:
            config[name] = getattr(opts, name)
    return config


async def _play(
    ctx: MuxContext,
    output_emitter: tts.AudioEmitter,
    opts: _TTSOptions,
    timeout: float,
    *,
    segment: str | None = None,
) -> None:
    """Push the context's audio and word timings into ``output_emitter`` until its
    utterance ends; raise the mapped error on an ``error`` event, and APITimeoutError after
    ``timeout`` seconds without audio once all text was sent.

    ``segment`` (streams only) is the segment id, started with the first audio.
    """
    started = False
    try:
        async for event in ctx.utterance(timeout):
            if isinstance(event, Error):
                raise api_error_from_event(event)
            if event.sample_rate != opts.sample_rate or event.encoding != "pcm_s16le":
                raise APIError(
                    f"Supertonic sent {event.encoding} at {event.sample_rate} Hz, "
                    f"expected pcm_s16le at {opts.sample_rate} Hz",
                    retryable=False,
                )
            if segment is not None and not started:
                output_emitter.start_segment(segment_id=segment)
            started = True
            output_emitter.push_timed_transcript(_timed_words(event))
            output_emitter.push(event.audio)
    except TimeoutError:
        raise APITimeoutError(f"no audio from Supertonic for {timeout:g} s") from None
    if ctx.cancelled:
        raise APIError("Supertonic cancelled the utterance", retryable=False)
    if segment is not None and started:
        output_emitter.end_segment()


def _timed_words(event: Audio) -> list[TimedString]:
    """The chunk's words with their times (seconds from the segment start); a chunk with
    nothing to speak (``...``) keeps its text, spanning its pause."""
    if event.words:
        return [TimedString(f"{w.word} ", start_time=w.start, end_time=w.end) for w in event.words]
    if event.text.strip():
        end = event.offset_s + event.duration_s
        return [TimedString(f"{event.text} ", start_time=event.offset_s, end_time=end)]
    return []


def _check_numbers(*, speed: float, steps: int, first_chunk_steps: int | None) -> None:
    """Fail fast on a speed or step count the model refuses (the messages name the range)."""
    SynthesisOptions.checked(speed=speed, steps=steps, first_chunk_steps=first_chunk_steps)
