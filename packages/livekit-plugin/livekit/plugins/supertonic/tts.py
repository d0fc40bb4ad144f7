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
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from livekit.agents import APIConnectOptions, APIError, APITimeoutError, tts, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr
from livekit.agents.utils import is_given
from livekit.agents.voice.io import TimedString
from supertonic_core import Engine, RuntimeOptions, SynthesisOptions
from supertonic_core.audio import check_sample_rate
from supertonic_core.options import OPTION_NAMES, Emoji, SynthesisOverrides
from supertonic_core.pronunciation import PronunciationDictionary
from supertonic_core.protocol import Audio, Error
from supertonic_core.resume import ResumableContext

from .backends import Backend, InProcessBackend, RemoteBackend, api_error_from_event
from .models import TTSLanguages, TTSModels, TTSSampleRates, TTSVoices

NUM_CHANNELS = 1
DEFAULT_MODEL = "supertonic-3"
DEFAULT_SAMPLE_RATE = 44100
#: Arguments that the request model (:class:`~supertonic_core.SynthesisOptions`) names
#: otherwise; every other argument it has is its option of the same name.
_OPTION_OF = {"language": "lang"}


class TTS(tts.TTS):
    def __init__(
        self,
        *,
        voice: TTSVoices | str | None = None,
        language: TTSLanguages | str | None = None,
        speed: float | None = None,
        steps: int | None = None,
        first_chunk_steps: int | None = None,
        seed: int | None = None,
        normalize: bool | None = None,
        emoji: Emoji | None = None,
        detect_lang: bool | None = None,
        lexicons: Sequence[str] | None = None,
        pronunciations: dict[str, str] | None = None,
        sample_rate: TTSSampleRates | int = DEFAULT_SAMPLE_RATE,
        model: NotGivenOr[TTSModels | str] = NOT_GIVEN,
        base_url: NotGivenOr[str] = NOT_GIVEN,
        api_key: NotGivenOr[str] = NOT_GIVEN,
        model_dir: NotGivenOr[str | Path] = NOT_GIVEN,
        engine: Engine | None = None,
        runtime: RuntimeOptions | None = None,
        phrase_cache: int = 0,
        dictionaries: Iterable[str | Path | PronunciationDictionary] = (),
    ) -> None:
        """Create a Supertonic TTS, in-process (default) or against a Supertonic server.

        The options ``voice`` to ``pronunciations`` are those of the core's request model,
        :class:`~supertonic_core.SynthesisOptions` (``language`` is its ``lang``), which
        gives their ranges and checks them: a bad value raises its ``InvalidOptionError``.
        None (the default) leaves an option to the session: the model's default
        in-process, the server's setting remotely.

        Args:
            voice: preset ``F1``..``F5``/``M1``..``M5``, an OpenAI voice name, a custom
                voice or a blend such as ``"F1*0.7+M2*0.3"``.
            language: one of the model's language codes (see ``TTSLanguages``).
            speed: speaking rate; 1.0 is the model's natural pace.
            steps: flow-matching steps; fewer is faster.
            first_chunk_steps: steps for the first chunk of each stream only ("fast start").
            seed: makes the audio reproducible.
            normalize: read numbers, dates, units, markdown and pause tags the way a person
                would; False sends the text as written.
            emoji: ``"remove"`` or ``"name"`` (read emoji names) when normalising.
            detect_lang: give each sentence its detected language where detection is sure.
            lexicons: the pronunciation dictionaries to apply, by name (``dictionaries``
                in-process, the server's ``--lexicon`` files remotely); None: all of them.
            pronunciations: this TTS's own respellings (``{"SQL": "sequel"}``), applied
                before the dictionaries.
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
            dictionaries: pronunciation dictionaries the in-process engine loads: W3C PLS
                (``.pls``, ``.xml``) or JSON files, each named by its file name without the
                extension, or loaded ``PronunciationDictionary`` objects (in-process only; a
                server has ``--lexicon``).
        """
        self._opts = _updated(SynthesisOverrides(), locals())
        check_sample_rate(sample_rate)
        if not is_given(model):
            model = os.environ.get("SUPERTONIC_MODEL") or DEFAULT_MODEL
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=True, aligned_transcript=True),
            sample_rate=sample_rate,
            num_channels=NUM_CHANNELS,
        )
        self._model = model
        self._backend: Backend
        if is_given(base_url):
            local = engine is not None or is_given(model_dir) or runtime is not None
            if local or phrase_cache or dictionaries:
                raise ValueError(
                    "engine, model_dir, runtime, phrase_cache and dictionaries configure the "
                    "in-process engine; leave them out with base_url (the server has its own "
                    "model and --lexicon files)"
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
                dictionaries=dictionaries,
            )
        self._streams: weakref.WeakSet[ChunkedStream | SynthesizeStream] = weakref.WeakSet()

    @property
    def model(self) -> str:
        return self._model

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
        voice: NotGivenOr[TTSVoices | str | None] = NOT_GIVEN,
        language: NotGivenOr[TTSLanguages | str | None] = NOT_GIVEN,
        speed: NotGivenOr[float | None] = NOT_GIVEN,
        steps: NotGivenOr[int | None] = NOT_GIVEN,
        first_chunk_steps: NotGivenOr[int | None] = NOT_GIVEN,
        seed: NotGivenOr[int | None] = NOT_GIVEN,
        normalize: NotGivenOr[bool | None] = NOT_GIVEN,
        emoji: NotGivenOr[Emoji | None] = NOT_GIVEN,
        detect_lang: NotGivenOr[bool | None] = NOT_GIVEN,
        lexicons: NotGivenOr[Sequence[str] | None] = NOT_GIVEN,
        pronunciations: NotGivenOr[dict[str, str] | None] = NOT_GIVEN,
    ) -> None:
        """Change options for the streams created from now on (running ones keep theirs).

        The arguments are the constructor's; None goes back to the session's default. A
        bad value raises the request model's ``InvalidOptionError`` and changes nothing.
        """
        self._opts = _updated(self._opts, locals())

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
        self._opts = tts._opts  # frozen: update_options replaces it, this one stays

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        async with _speech_context(
            self._tts, self._opts, self._conn_options.timeout, output_emitter, stream=False
        ) as ctx:
            await ctx.send_text(self._input_text)
            await ctx.close()
            await _play(ctx, output_emitter, self._tts.sample_rate, self._conn_options.timeout)
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
        self._opts = tts._opts  # frozen: update_options replaces it, this one stays

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
                        ctx,
                        output_emitter,
                        self._tts.sample_rate,
                        self._conn_options.timeout,
                        segment=ctx.id,
                    ),
                    name="supertonic-receive",
                ),
            ]
            try:
                await asyncio.gather(*tasks)
            finally:
                await utils.aio.cancel_and_wait(*tasks)


def _updated(opts: SynthesisOverrides, args: dict[str, Any]) -> SynthesisOverrides:
    """``opts`` with the request options among ``args`` (the ``locals()`` of a signature
    that names them, so that only the signature spells them) that were given, checked by
    the model (a bad value raises its ``InvalidOptionError``)."""
    given = {_OPTION_OF.get(k, k): v for k, v in args.items() if is_given(v)}
    given = {k: v for k, v in given.items() if k in OPTION_NAMES}
    checked = SynthesisOptions.checked(**given)  # as the model holds them: a list → a tuple
    return opts.model_copy(
        update={k: v if v is None else getattr(checked, k) for k, v in given.items()}
    )


@asynccontextmanager
async def _speech_context(
    tts_: TTS,
    opts: SynthesisOverrides,
    timeout: float,
    output_emitter: tts.AudioEmitter,
    *,
    stream: bool,
) -> AsyncIterator[ResumableContext]:
    """Start ``output_emitter`` (mono 16-bit PCM at the TTS's rate; ``stream``: one segment
    fed as text comes), then open one context on the backend, configured by ``opts`` (the
    options not given are the session's)."""
    output_emitter.initialize(
        request_id=utils.shortuuid(),
        sample_rate=tts_.sample_rate,
        num_channels=NUM_CHANNELS,
        mime_type="audio/pcm",
        stream=stream,
    )
    async with tts_._backend.context(timeout=timeout) as ctx:
        options = opts.model_dump(exclude_none=True)
        await ctx.configure(**options, sample_rate=tts_.sample_rate, encoding="pcm_s16le")
        yield ctx


async def _play(
    ctx: ResumableContext,
    output_emitter: tts.AudioEmitter,
    sample_rate: int,
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
            if event.sample_rate != sample_rate or event.encoding != "pcm_s16le":
                raise APIError(
                    f"Supertonic sent {event.encoding} at {event.sample_rate} Hz, "
                    f"expected pcm_s16le at {sample_rate} Hz",
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
