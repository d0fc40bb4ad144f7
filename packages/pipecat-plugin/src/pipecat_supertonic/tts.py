#
# Copyright (c) 2026, the Supertonic stack authors
#
# SPDX-License-Identifier: MIT
#

"""Supertonic-3 text-to-speech services for Pipecat: in-process ONNX engine or remote server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from loguru import logger
from pipecat.frames.frames import (
    CancelFrame,
    EndFrame,
    ErrorFrame,
    Frame,
    InterruptionFrame,
    StartFrame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.settings import TTSSettings
from pipecat.services.tts_service import TTSService
from pipecat.transcriptions.language import Language, resolve_language
from pipecat.utils.time import seconds_to_nanoseconds
from pipecat.utils.tracing.service_decorators import traced_tts
from pipecat.utils.types import NOT_GIVEN, NotGiven, is_given

try:
    from supertonic_core import (
        LANGUAGES,
        Engine,
        InvalidOptionError,
        RuntimeOptions,
        SynthesisOptions,
    )
    from supertonic_core.audio import SAMPLE_RATES
    from supertonic_core.audio_path import AudioPath, Pcm16Encoder
    from supertonic_core.connect import (
        Connector,
        EngineConnector,
        Opened,
        ServerConnector,
        SharedMux,
    )
    from supertonic_core.languages import SCRIPT_CONTINUOUS
    from supertonic_core.mux import ConnectionLost, MuxContext, SessionError, SpeechMux
    from supertonic_core.options import ALIASES, OPTION_NAMES, Emoji
    from supertonic_core.pronunciation import PronunciationDictionary
    from supertonic_core.protocol import Error
    from supertonic_core.resume import ResumableContext
except ModuleNotFoundError as e:
    logger.error(f"Exception: {e}")
    logger.error('In order to use Supertonic, you need to `uv add "pipecat-supertonic-stack"`.')
    raise ImportError(f"Missing module: {e}") from e

#: Seconds without audio before Pipecat gives up on an audio context (its default is 3).
STOP_FRAME_TIMEOUT_S = 10.0
#: Settings that the request model (:class:`~supertonic_core.SynthesisOptions`) names
#: otherwise; every other setting it has is its option of the same name.
_OPTION_OF = {"language": "lang"}

#: Every language the model speaks, as Pipecat names it. Regional variants (``en-US``,
#: ``pt-BR``) resolve through their base language. ``na`` ("no specific language") has no
#: Pipecat name; pass the string ``"na"`` to use it.
LANGUAGE_MAP: dict[Language, str] = {Language(code): code for code in LANGUAGES if code != "na"}


def language_to_supertonic_language(language: Language) -> str | None:
    """Convert a Pipecat ``Language`` to a Supertonic language code, or None if unsupported.

    Supertonic-3 was trained on 31 languages (plus ``na``) and reads the language from a tag
    around the text, so a regional variant speaks as its base language. A language outside
    that set returns None: the model has no voice for it, and guessing one would speak the
    text with the wrong pronunciation rules.

    Args:
        language: The Pipecat language to convert.

    Returns:
        The two-letter code the model was trained with, or None.
    """
    if language in LANGUAGE_MAP:
        return LANGUAGE_MAP[language]
    base = str(language.value).split("-")[0].lower()
    if base not in LANGUAGES:
        return None
    return resolve_language(language, LANGUAGE_MAP, use_base_code=True)


@dataclass
class SupertonicTTSSettings(TTSSettings):
    """Runtime-updatable settings for the Supertonic services.

    One field per option of the core's request model,
    :class:`~supertonic_core.SynthesisOptions`: its defaults, ranges and error wording
    are theirs. ``language`` is the model's ``lang``, as a Pipecat ``Language`` (or one of
    the model's codes, ``"na"`` included). None leaves an option to the session.

    Parameters:
        speed: Speaking rate; 1.0 is the model's natural pace.
        steps: Flow-matching denoising steps; fewer is faster.
        first_chunk_steps: Steps for the first chunk of a turn only ("fast start").
        seed: Makes the audio reproducible; None draws a fresh one per turn.
        normalize: Read numbers, dates, units, markdown and pause tags the way a person
            would; False sends the text as written.
        emoji: ``"remove"`` or ``"name"`` (read emoji names) when normalising.
        detect_lang: Give each sentence its detected language where detection is sure.
        lexicons: The pronunciation dictionaries to apply, by name (the in-process
            service's ``dictionaries``, a server's ``--lexicon`` files); None: all of them.
        pronunciations: This service's own respellings (``{"SQL": "sequel"}``), applied
            before the dictionaries.
    """

    speed: float | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    steps: int | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    first_chunk_steps: int | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    seed: int | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    normalize: bool | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    emoji: Emoji | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    detect_lang: bool | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    lexicons: tuple[str, ...] | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    pronunciations: dict[str, str] | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)

    _aliases: ClassVar[dict[str, str]] = {
        **TTSSettings._aliases,
        **{option: name for name, option in _OPTION_OF.items()},
        **{alias: name for name, alias in ALIASES.items()},
    }


def _options(settings: SupertonicTTSSettings, names: Iterable[str] | None = None) -> dict[str, Any]:
    """The request model's options among the named settings (all that are given unless
    named) that hold a value, as the model names them."""
    options: dict[str, Any] = {}
    for name in settings.given_fields() if names is None else names:
        option, value = _OPTION_OF.get(name, name), getattr(settings, name, None)
        if option in OPTION_NAMES and value is not None and is_given(value):
            options[option] = str(value) if option == "lang" else value
    return options


@dataclass(eq=False)
class _Turn:
    """One Pipecat turn (audio context): its session context and the task reading it."""

    ctx: ResumableContext
    task: asyncio.Task[None] | None = None
    sent_text: bool = False
    ends_with_space: bool = True


class SupertonicBaseTTSService(TTSService):
    """Everything the two Supertonic services share; only the connection differs.

    Shaped like Pipecat's WebSocket services: each turn (one Pipecat audio context) is one
    context of the core's speech session, opened by its first text. :meth:`run_tts` sends
    the text into it and returns at once; the session chunks the turn's text itself and
    synthesizes the next chunk while the previous one plays, with the pauses and word
    offsets of one continuous utterance. A receive loop per turn appends the audio and
    word times to Pipecat's audio context; the turn's end (:meth:`flush_audio`) closes the
    session context, whose ``audio_end`` ends the audio context. An interruption cancels
    the session context, which stops the engine at its next denoising step.

    Sentence aggregation (the default) and token streaming
    (``text_aggregation_mode=TextAggregationMode.TOKEN``) both work: the session releases
    a chunk as soon as its end is certain either way.

    Subclasses choose the :class:`~supertonic_core.connect.Connector`.
    """

    Settings = SupertonicTTSSettings
    _settings: Settings

    def __init__(
        self,
        *,
        connector: Connector,
        model: str,
        keepalive_s: float | None = None,
        settings: Settings | None = None,
        **kwargs: Any,
    ) -> None:
        """Initialize the shared state.

        Args:
            connector: How the speech connection is made.
            model: The model name reported in settings and metrics.
            keepalive_s: Seconds between pings of an idle connection; None sends none.
            settings: Runtime-updatable settings; its values win over the defaults.
            **kwargs: Passed to Pipecat's ``TTSService`` (``sample_rate``, ``name``, ...).
        """
        # The request model's defaults, so in-process and remote start the same.
        defaults = SynthesisOptions().model_dump()
        default_settings = self.Settings(model=model, language=defaults.pop("lang"), **defaults)
        if settings is not None:
            default_settings.apply_update(settings)
        SynthesisOptions.checked(**_options(default_settings))  # or InvalidOptionError
        # A turn's audio context is ended by its ``audio_end``; Pipecat's idle timeout is
        # only a fallback, and its 3 s default is shorter than a first chunk can take on a
        # small CPU.
        kwargs.setdefault("stop_frame_timeout_s", STOP_FRAME_TIMEOUT_S)
        super().__init__(
            push_start_frame=True,
            push_stop_frames=True,
            push_text_frames=False,
            settings=default_settings,
            **kwargs,
        )
        language = self._settings.language
        if str(language).lower() not in LANGUAGES:
            raise ValueError(
                f"Supertonic does not speak {language!s}; supported languages: "
                f"{', '.join(LANGUAGES)} (regional variants such as en-US resolve to their "
                "base language)"
            )
        self._link = SharedMux(
            connector,
            on_open=self._configure_session,
            on_error=self._on_session_error,
            on_lost=self._on_lost,
            keepalive_s=keepalive_s,
        )
        self._background: set[asyncio.Task[None]] = set()
        self._turns: dict[str, _Turn] = {}
        #: Turns whose TTSStartedFrame went out and whose TTSStoppedFrame has not yet.
        self._playing: set[str] = set()
        self._interrupted: list[str] = []
        #: Where the audio pushed so far ends, as a PTS (see :meth:`start_word_timestamps`).
        self._audio_base_pts = 0
        self._audio_pushed_ns = 0

    # ------------------------------------------------------------------ Pipecat hooks

    def can_generate_metrics(self) -> bool:
        """Supertonic services report TTFB, processing and usage metrics."""
        return True

    def language_to_service_language(self, language: Language) -> str | None:
        """Convert a Pipecat language to the model's code (None when it has none)."""
        return language_to_supertonic_language(language)

    async def start(self, frame: StartFrame) -> None:
        """Open the connection (load the model, or reach the server) before any text arrives."""
        await super().start(frame)
        try:
            await self._connection()
        except Exception as exc:
            await self.push_error(f"{self}: {exc}", exception=exc)

    async def stop(self, frame: EndFrame) -> None:
        """Let the audio already produced play out, then close the connection."""
        await super().stop(frame)
        await self._disconnect()

    async def cancel(self, frame: CancelFrame) -> None:
        """Stop at once: the session cancels whatever it was synthesizing."""
        await super().cancel(frame)
        await self._disconnect()

    async def cleanup(self) -> None:
        """Release the connection, and the engine if this service loaded it."""
        await super().cleanup()
        await self._disconnect()
        await self._link.aclose()

    async def flush_audio(self, context_id: str | None = None) -> None:
        """The turn's text is complete: close its session context (its audio ends it)."""
        turn = self._turns.get(context_id or self.get_active_audio_context_id() or "")
        if turn is not None:
            with contextlib.suppress(ConnectionError):
                await turn.ctx.close()

    async def on_audio_context_interrupted(self, context_id: str) -> None:
        """Cancel the turn's session context; the engine stops at its next denoising step."""
        turn = self._turns.pop(context_id, None)
        if turn is not None:
            if turn.task is not None:
                await self.cancel_task(turn.task)
            self._spawn(self._release(turn.ctx), "release")
        if context_id in self._playing:
            self._interrupted.append(context_id)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Pipecat's handling, then a TTSStoppedFrame for each reply an interruption cut."""
        await super().process_frame(frame, direction)
        if isinstance(frame, InterruptionFrame):
            self._audio_base_pts = self._audio_pushed_ns = 0  # what was cut never plays
            interrupted, self._interrupted = self._interrupted, []
            for context_id in interrupted:
                await self.push_frame(TTSStoppedFrame(context_id=context_id))

    async def push_frame(
        self, frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM
    ) -> None:
        """Note which replies are playing and how much of their audio went out."""
        if isinstance(frame, TTSStartedFrame) and frame.context_id:
            self._playing.add(frame.context_id)
        elif isinstance(frame, TTSStoppedFrame):
            self._playing.discard(frame.context_id or "")
        elif isinstance(frame, TTSAudioRawFrame):
            self._audio_pushed_ns += seconds_to_nanoseconds(
                len(frame.audio) / 2 / frame.num_channels / frame.sample_rate
            )
        await super().push_frame(frame, direction)

    async def start_word_timestamps(self) -> None:
        """Start a reply's word clock no earlier than the end of the audio before it.

        Pipecat starts it at the later of the pipeline clock and the last word time it
        saw; it never sees where the previous reply's audio ends (words carry only their
        start), so without this a reply's first words would be timed inside the previous
        reply's last word.
        """
        tracker = self._word_timestamp_tracker  # Pipecat keeps its word clock here
        if not tracker.started:
            saved = tracker.last_pts
            end = self._audio_base_pts + self._audio_pushed_ns if self._audio_base_pts else 0
            tracker.last_pts = max(saved, end)
            await super().start_word_timestamps()
            if tracker.last_pts == max(saved, end):
                tracker.last_pts = saved  # no word yet: keep Pipecat's own bookkeeping
            self._audio_base_pts, self._audio_pushed_ns = tracker.pts(0.0), 0
            return
        await super().start_word_timestamps()

    async def _update_settings(self, delta: Settings) -> dict[str, Any]:
        """Apply a settings delta from the next turn on. A value the request model or the
        session rejects is reported as an error (and rolled back); None is not sent."""
        try:
            SynthesisOptions.checked(**_options(delta))
        except InvalidOptionError as exc:
            await self._settings_rejected(delta.given_fields(), str(exc))
            return {}
        changed = await super()._update_settings(delta)
        applied = [k for k in changed if _options(self._settings, [k])]
        if applied and (mux := self._link.current) is not None:
            try:
                await mux.configure(**_options(self._settings, applied))
            except (SessionError, TimeoutError, ConnectionError) as exc:
                for name in applied:
                    setattr(self._settings, name, changed[name])
                await self._settings_rejected(applied, str(exc) or "no answer in time")
        self._warn_unhandled_updated_settings(set(changed) - set(applied))
        return changed

    async def _settings_rejected(self, names: Iterable[str], reason: str) -> None:
        await self.push_error(
            f"{self}: settings update ({', '.join(sorted(names))}) rejected: {reason}"
        )

    # ------------------------------------------------------------------ synthesis

    @traced_tts
    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame | None, None]:
        """Send text into the turn's session context; its audio arrives through the
        receive loop (this yields only None, or an ErrorFrame if the text could not go).

        Args:
            text: A sentence, or a token when streaming tokens.
            context_id: Pipecat's audio context: one per turn.

        Yields:
            None, or an ``ErrorFrame``.
        """
        turn = self._turns.get(context_id)
        try:
            if turn is None:
                turn = await self._open_turn(context_id)
            await turn.ctx.send_text(self._joined(turn, text))
            await self.start_tts_usage_metrics(text)
        except Exception as exc:
            yield ErrorFrame(error=f"{self}: {exc}", exception=exc)
            if turn is None:  # nothing will come for this context: end it now
                await self._stop_turn(context_id)
            return
        yield None

    def _joined(self, turn: _Turn, text: str) -> str:
        """``text`` as it continues the turn: sentences handed over one by one come
        without the space between them (tokens carry their own)."""
        starts_with_space = text[:1].isspace()
        if (
            turn.sent_text
            and not turn.ends_with_space
            and not starts_with_space
            and self._settings.language not in SCRIPT_CONTINUOUS
            and not self._is_streaming_tokens
        ):
            text = " " + text
        turn.sent_text = True
        turn.ends_with_space = text[-1:].isspace()
        return text

    async def _open_turn(self, context_id: str) -> _Turn:
        async def open_context() -> MuxContext:
            return (await self._connection()).open(context_id)

        # a lost connection (a replica killed or restarted) resumes on a new one
        ctx = await ResumableContext(open_context, self._link.release).start()
        turn = self._turns[context_id] = _Turn(ctx)
        turn.task = self.create_task(self._receive(context_id, turn), f"{self}::receive")
        return turn

    async def _receive(self, context_id: str, turn: _Turn) -> None:
        """Append the turn's audio and word times to its audio context until it ends."""
        spaces = self._settings.language in SCRIPT_CONTINUOUS or None
        path: AudioPath | None = None  # for a rate the session cannot make

        async def play(pcm: bytes) -> None:
            if pcm:
                frame = TTSAudioRawFrame(pcm, self.sample_rate, 1, context_id=context_id)
                await self.append_to_audio_context(context_id, frame)

        try:
            async for event in turn.ctx.utterance():
                if isinstance(event, Error):
                    await self._on_session_error(event)
                    continue
                if event.words:
                    words = [(w.word, w.start) for w in event.words]
                    await self.add_word_timestamps(words, context_id, spaces)
                if event.sample_rate == self.sample_rate:
                    await play(event.audio)
                    continue
                path = path or AudioPath(event.sample_rate, Pcm16Encoder(self.sample_rate))
                samples = np.frombuffer(event.audio, "<i2").astype(np.float32) / 32768
                await play(await path.push(samples))
        except ConnectionLost as exc:
            await self.push_error(f"{self}: connection lost while speaking: {exc.reason}")
        if path is not None:
            await play(await path.finish())
        self._turns.pop(context_id, None)
        self._spawn(self._release(turn.ctx), "release")
        await self._stop_turn(context_id)

    async def _stop_turn(self, context_id: str) -> None:
        await self.append_to_audio_context(context_id, TTSStoppedFrame(context_id=context_id))
        await self.remove_audio_context(context_id)

    async def _release(self, ctx: ResumableContext) -> None:
        if not await ctx.release():
            logger.warning(f"{self}: context {ctx.id} did not end cleanly; using a new connection")

    # ------------------------------------------------------------------ connection

    async def _connection(self) -> SpeechMux:
        try:
            return await self._link.get()
        except Exception as exc:
            await self._call_event_handler("on_connection_error", str(exc))
            raise

    async def _configure_session(self, mux: SpeechMux, opened: Opened) -> None:
        """Send the settings to a new connection, in audio the pipeline can take."""
        rate = self.sample_rate if self.sample_rate in SAMPLE_RATES else opened.sample_rate
        try:
            await mux.configure(sample_rate=rate, encoding="pcm_s16le", **_options(self._settings))
        except (SessionError, TimeoutError) as exc:
            raise ValueError(f"the Supertonic session rejected the settings: {exc}") from exc
        if opened.model and self._settings.model != opened.model:
            self._settings.model = opened.model
            self._sync_model_name_to_metrics()
        logger.debug(f"{self}: connected ({opened.model}, {rate} Hz session audio)")
        await self._call_event_handler("on_connected")

    async def _on_session_error(self, event: Error) -> None:
        await self.push_error(f"{self}: {event.message} ({event.code})")

    async def _on_lost(self, lost: ConnectionLost) -> None:
        logger.warning(f"{self}: connection lost ({lost.reason}); reconnecting")
        await self._call_event_handler("on_disconnected")
        self._spawn(self._reconnect(), "reconnect")

    async def _reconnect(self) -> None:
        try:
            await self._connection()
        except Exception as exc:
            await self.push_error(f"{self}: reconnecting failed: {exc}", exception=exc)

    def _spawn(self, work: Any, name: str) -> None:
        task = self.create_task(work, f"{self}::{name}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _disconnect(self) -> None:
        for task in [*self._background, *(t.task for t in self._turns.values() if t.task)]:
            await self.cancel_task(task)
        self._turns.clear()
        await self._link.disconnect()


class SupertonicTTSService(SupertonicBaseTTSService):
    """Supertonic-3 running in-process: ONNX engine, no server, no network once cached.

    The model loads (and warms up) in a worker thread when the pipeline starts, so the
    event loop never blocks on it; synthesis runs on the engine's own scheduler thread.
    Audio is produced at the pipeline's output rate: the core resamples 44.1 kHz audio to
    8, 16, 22.05, 24 or 48 kHz with a streaming filter, and Pipecat's resampler makes any
    other rate from 44.1 kHz.

    Several services may share one :class:`~supertonic_core.Engine` (pass ``engine=``); its
    scheduler interleaves their turns.

    Example::

        tts = SupertonicTTSService(settings=SupertonicTTSService.Settings(voice="F2"))
    """

    def __init__(
        self,
        *,
        model: str = "supertonic-3",
        model_dir: str | Path | None = None,
        engine: Engine | None = None,
        runtime: RuntimeOptions | None = None,
        voices_dir: str | Path | None = None,
        download: bool = True,
        warmup: bool = True,
        phrase_cache: int = 0,
        dictionaries: Iterable[str | Path | PronunciationDictionary] = (),
        settings: SupertonicTTSSettings | None = None,
        **kwargs: Any,
    ) -> None:
        """Initialize the in-process service.

        Args:
            model: ``supertonic-3`` (default), ``supertonic-2`` or ``supertonic``.
            model_dir: A bundle directory; else the cache (``~/.cache/supertonic3``), else
                a download from the Hugging Face Hub (when ``download`` is True).
            engine: An engine already loaded (shared between services); the service
                neither warms it up nor closes it.
            runtime: ONNX Runtime options (device, threads); defaults to ``device="auto"``.
            voices_dir: A folder of custom voice-style JSON files.
            download: Allow fetching the model when it is not cached.
            warmup: Run one synthesis after loading, so the first turn is not slow (if it
                fails, the engine is closed again and the error reported).
            phrase_cache: Entries of the engine's phrase cache (repeated short chunks, such
                as "Sure." or "One moment, please.", served at once without synthesis);
                0 (the default) turns it off. For an engine passed in, set it there.
            dictionaries: Pronunciation dictionaries the engine loads: W3C PLS (``.pls``,
                ``.xml``) or JSON files, each named by its file name without the extension,
                or loaded ``PronunciationDictionary`` objects; the settings' ``lexicons``
                choose among them (all by default). For an engine passed in, load them there.
            settings: Runtime-updatable settings (see :class:`SupertonicTTSSettings`).
            **kwargs: Passed to Pipecat's ``TTSService`` (``sample_rate``, ``name``, ...).
        """
        connector = EngineConnector(
            model,
            engine=engine,
            model_dir=model_dir,
            download=download,
            runtime=runtime,
            voices_dir=voices_dir,
            warmup=warmup,
            phrase_cache=phrase_cache,
            dictionaries=dictionaries,
        )
        super().__init__(connector=connector, model=connector.model, settings=settings, **kwargs)
        self._connector = connector

    @property
    def engine(self) -> Engine | None:
        """The engine, once loaded (at pipeline start, or the one passed in)."""
        return self._connector.engine


class SupertonicServerTTSService(SupertonicBaseTTSService):
    """Supertonic-3 on a Supertonic server, over its WebSocket speech protocol.

    For deployments where the model runs on another machine. Behaves exactly like
    :class:`SupertonicTTSService` (same settings, word timestamps, interruptions and
    metrics): both speak the same session protocol. The connection opens when the
    pipeline starts; a failed open is retried with exponential back-off, a dropped one is
    reopened in the background, and an idle one is kept alive with pings.

    Example::

        tts = SupertonicServerTTSService(url="ws://tts-box:8000", api_key="...")
    """

    def __init__(
        self,
        *,
        url: str = "ws://127.0.0.1:8000",
        api_key: str | None = None,
        open_timeout_s: float = 10.0,
        reconnect_attempts: int = 5,
        reconnect_backoff_s: float = 0.5,
        keepalive_interval_s: float | None = 20.0,
        settings: SupertonicTTSSettings | None = None,
        **kwargs: Any,
    ) -> None:
        """Initialize the server service.

        Args:
            url: The server's address, ``ws://host:port`` or ``http://host:port`` (the stream
                path ``/v1/audio/speech/stream`` is added), or the full stream URL.
            api_key: The server's API key, if it has one.
            open_timeout_s: Seconds to wait for the socket and the server's greeting.
            reconnect_attempts: Attempts to open the socket before reporting failure.
            reconnect_backoff_s: Delay before the second attempt; doubles up to 8 s.
            keepalive_interval_s: Seconds between pings on an idle socket (the server closes
                silent ones after 60 s by default); None disables them.
            settings: Runtime-updatable settings (see :class:`SupertonicTTSSettings`).
            **kwargs: Passed to Pipecat's ``TTSService`` (``sample_rate``, ``name``, ...).
        """
        connector = ServerConnector(
            url,
            api_key=api_key,
            config={"binary": True},
            open_timeout=open_timeout_s,
            attempts=reconnect_attempts,
            backoff_s=reconnect_backoff_s,
        )
        super().__init__(
            connector=connector,
            model="supertonic-3",
            keepalive_s=keepalive_interval_s,
            settings=settings,
            **kwargs,
        )
