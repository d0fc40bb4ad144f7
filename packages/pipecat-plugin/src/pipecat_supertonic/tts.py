#
# Copyright (c) 2026, the Supertonic stack authors
#
# SPDX-License-Identifier: MIT
#

"""Supertonic-3 text-to-speech services for Pipecat: in-process ONNX engine or remote server."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from loguru import logger
from pipecat.frames.frames import (
    CancelFrame,
    EndFrame,
    ErrorFrame,
    Frame,
    StartFrame,
    TTSAudioRawFrame,
)
from pipecat.services.settings import TTSSettings
from pipecat.services.tts_service import TextAggregationMode, TTSService
from pipecat.transcriptions.language import Language, resolve_language
from pipecat.utils.tracing.service_decorators import traced_tts
from pipecat.utils.types import NOT_GIVEN, NotGiven

try:
    from supertonic_core import LANGUAGES, Engine, RuntimeOptions, SynthesisOptions
    from supertonic_core.audio import pause_after
    from supertonic_core.client import SpeechClient
    from supertonic_core.languages import SCRIPT_CONTINUOUS
    from supertonic_core.protocol import (
        Audio,
        AudioEnd,
        Cancelled,
        ConfigAck,
        ContextClosed,
        Error,
        Event,
    )
    from supertonic_core.session import SpeechSession
except ModuleNotFoundError as e:
    logger.error(f"Exception: {e}")
    logger.error('In order to use Supertonic, you need to `uv add "pipecat-supertonic-stack"`.')
    raise ImportError(f"Missing module: {e}") from e

from ._connection import (
    OPTIONAL_FIELDS,
    SESSION_FIELDS,
    ConnectionLost,
    PcmConverter,
    SpeechConnectionLike,
    TurnState,
    session_rate,
    silence,
)

#: Seconds to wait for the session to accept or reject a ``config`` message.
CONFIG_TIMEOUT_S = 10.0
#: Seconds without audio before Pipecat gives up on an audio context (its default is 3).
STOP_FRAME_TIMEOUT_S = 10.0
#: Characters per ``text`` message: the server refuses messages over 64 KiB, and JSON may
#: write a character as six bytes (``\uXXXX``). The session joins the pieces seamlessly.
TEXT_PIECE_CHARS = 8000
_CORE_DEFAULTS = SynthesisOptions()
_INTERRUPTED = ConnectionLost("interrupted")

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

    Parameters:
        voice: Preset (``F1``..``F5``, ``M1``..``M5``), OpenAI voice name, custom voice, or a
            blend such as ``"F1*0.7+M2*0.3"``.
        language: A Pipecat ``Language`` (or one of the model's codes, ``"na"`` included).
        speed: Speaking rate, 0.5 to 2.0; 1.0 is the model's natural pace.
        steps: Flow-matching denoising steps, 1 to 32; fewer is faster, 8 is the default.
        first_chunk_steps: Steps for the first chunk of a turn only ("fast start"), 1 to
            32: the first audio comes sooner (about 40 % less compute for that chunk at 4 of
            8 steps), the first phrase is slightly less expressive. None uses the session's
            default: the engine's (4) in-process, the server's ``--first-chunk-steps``
            remotely.
            Once set, it cannot be set back to None at runtime.
        seed: Makes the audio reproducible; None draws a fresh one per sentence. Once set,
            it cannot be set back to None at runtime (the session keeps the last seed).
        normalize: Read numbers, currency, dates, units, markdown, URLs and pause tags the
            way a person would (the core's normaliser); False sends the text as written.
            None uses the session's default (on in-process, the server's ``--normalize``).
        emoji: ``"remove"`` or ``"name"`` (read emoji names) when normalising; None uses
            the session's default.
    """

    speed: float | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    steps: int | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    first_chunk_steps: int | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    seed: int | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    normalize: bool | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)
    emoji: str | NotGiven | None = field(default_factory=lambda: NOT_GIVEN)

    _aliases: ClassVar[dict[str, str]] = {
        "voice_id": "voice",
        "lang": "language",
        "total_steps": "steps",
    }


class SupertonicBaseTTSService(TTSService):
    """Everything the two Supertonic services share; only the connection differs.

    Each sentence Pipecat hands to :meth:`run_tts` becomes one context of the core's speech
    session (``text`` then ``close_context``); its audio comes back as ``audio`` events with
    word timings and ends with ``audio_end``. The sentences of one turn share Pipecat's
    audio context, so word times carry a running offset from sentence to sentence and a
    pause sized by the previous sentence's punctuation separates them. An interruption
    cancels the sentence in flight, which stops the engine at its next denoising step.

    Subclasses implement :meth:`_open_connection`.
    """

    Settings = SupertonicTTSSettings
    _settings: Settings

    def __init__(
        self,
        *,
        model: str | None = "supertonic-3",
        reconnect_attempts: int = 1,
        reconnect_backoff_s: float = 0.5,
        settings: Settings | None = None,
        **kwargs: Any,
    ) -> None:
        """Initialize the shared state.

        Args:
            model: The model name reported in settings and metrics.
            reconnect_attempts: Attempts to open the connection before reporting failure.
            reconnect_backoff_s: Delay before the second attempt; it doubles after each one
                (at most 8 s).
            settings: Runtime-updatable settings; its values win over the defaults.
            **kwargs: Passed to Pipecat's ``TTSService`` (``sample_rate``, ``name``, ...).
        """
        # 1. Hardcoded defaults: the core's, so in-process and remote start the same.
        default_settings = self.Settings(
            model=model,
            voice=_CORE_DEFAULTS.voice,
            language=Language(_CORE_DEFAULTS.lang),
            speed=_CORE_DEFAULTS.speed,
            steps=_CORE_DEFAULTS.steps,
            first_chunk_steps=_CORE_DEFAULTS.first_chunk_steps,
            seed=None,
            normalize=None,
            emoji=None,
        )

        # 2. (No deprecated init arguments: these services start with the Settings API.)
        # 3. (No params object.)

        # 4. Apply settings delta (canonical API, always wins)
        if settings is not None:
            default_settings.apply_update(settings)

        # Each turn's audio is closed by the service itself when its last sentence ends;
        # Pipecat's idle timeout is only a fallback, and its 3 s default is shorter than a
        # first chunk can take on a small CPU (the context would end before its audio).
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
        if self._text_aggregation_mode != TextAggregationMode.SENTENCE:
            raise ValueError(
                "Supertonic speaks whole sentences (it chunks text itself and needs the end "
                "of a sentence for its prosody): use the default "
                "text_aggregation_mode=TextAggregationMode.SENTENCE"
            )
        if reconnect_attempts < 1:
            raise ValueError(f"reconnect_attempts must be at least 1, got {reconnect_attempts}")

        self._reconnect_attempts = reconnect_attempts
        self._reconnect_backoff_s = reconnect_backoff_s
        self._conn: SpeechConnectionLike | None = None
        self._connect_lock = asyncio.Lock()
        self._pump_task: asyncio.Task[None] | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._keepalive_task: asyncio.Task[None] | None = None
        self._keepalive_interval_s: float | None = None
        self._closing = False
        self._inboxes: dict[str, asyncio.Queue[Event | ConnectionLost]] = {}
        self._config_waiters: deque[asyncio.Future[str | None]] = deque()
        self._turns: dict[str, TurnState] = {}
        self._sentence_ids = itertools.count()
        #: Extra ``config`` fields the transport wants (binary audio frames for the socket).
        self._transport_config: dict[str, Any] = {}

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
        self._closing = False
        try:
            await self._ensure_connection()
        except Exception as exc:
            await self.push_error(f"{self}: {exc}", exception=exc)
        if self._keepalive_interval_s:
            self._keepalive_task = self.create_task(self._keepalive(), f"{self}::keepalive")

    async def stop(self, frame: EndFrame) -> None:
        """Let the audio already produced play out, then close the connection."""
        await super().stop(frame)
        await self._disconnect()

    async def cancel(self, frame: CancelFrame) -> None:
        """Stop at once: the session cancels whatever it was synthesizing."""
        await super().cancel(frame)
        await self._disconnect()

    async def cleanup(self) -> None:
        """Release the connection (idempotent after stop or cancel)."""
        await super().cleanup()
        await self._disconnect()

    async def on_audio_context_interrupted(self, context_id: str) -> None:
        """Cancel the sentence in flight: the engine stops at its next denoising step."""
        state = self._turns.pop(context_id, None)
        if state is None:
            return
        state.closed = True
        if state.inflight is not None:
            await self._cancel_sentence(state.inflight)

    async def on_audio_context_completed(self, context_id: str) -> None:
        """Forget the turn's running offset: Pipecat starts the next context's clock at 0."""
        state = self._turns.pop(context_id, None)
        if state is not None:
            state.closed = True

    async def _update_settings(self, delta: Settings) -> dict[str, Any]:
        """Apply a settings delta; voice, language, speed, steps, first_chunk_steps and seed
        apply from the next sentence on. A value the model rejects is reported as an error
        and rolled back."""
        changed = await super()._update_settings(delta)
        if not changed:
            return changed
        applied = [
            k
            for k in changed
            if k in SESSION_FIELDS
            or (k in OPTIONAL_FIELDS and getattr(self._settings, k) is not None)
        ]
        if applied and self._conn is not None:
            error = await self._configure(self._conn, **self._config_fields(applied))
            if error is not None:
                for name in applied:
                    setattr(self._settings, name, changed[name])
                await self.push_error(
                    f"{self}: settings update ({', '.join(sorted(applied))}) rejected: {error}"
                )
        self._warn_unhandled_updated_settings(set(changed) - set(applied))
        return changed

    # ------------------------------------------------------------------ synthesis

    @traced_tts
    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame | None, None]:
        """Speak one sentence: stream its audio, word times and errors into the context.

        Args:
            text: The text to speak (a sentence, when Pipecat aggregates an LLM stream).
            context_id: Pipecat's audio context; the sentences of a turn share it.

        Yields:
            Frame: ``TTSAudioRawFrame`` at the pipeline's sample rate, or ``ErrorFrame``.
        """
        if not text.strip():
            return
        state = self._turns.get(context_id)
        if state is None or state.closed:
            state = self._turns[context_id] = TurnState()
        sid = f"{context_id}:{next(self._sentence_ids)}"  # never reused, even for one context
        state.inflight = sid
        try:
            inbox = await self._start_sentence(text, sid, fast_start=state.audio_s == 0)
        except asyncio.CancelledError:
            await self._cancel_sentence(sid)  # interrupted while sending: it may have gone out
            raise
        except Exception as exc:
            state.inflight = None
            yield ErrorFrame(error=f"{self}: {exc}", exception=exc)
            return

        converter = PcmConverter(self.sample_rate)
        spaces = self._settings.language in SCRIPT_CONTINUOUS
        finished = False
        try:
            await self.start_tts_usage_metrics(text)
            if state.audio_s > 0:
                # The session ends each sentence without a pause; put back the one the
                # core would have left after this punctuation inside a longer text.
                pause = silence(pause_after(state.last_text), self.sample_rate)
                state.audio_s += len(pause) / 2 / self.sample_rate
                yield TTSAudioRawFrame(pause, self.sample_rate, 1, context_id=context_id)
            base = state.audio_s
            while not finished:
                event = await inbox.get()
                if isinstance(event, Audio):
                    if event.words:
                        await self.add_word_timestamps(
                            [(w.word, base + w.start) for w in event.words],
                            context_id,
                            includes_inter_frame_spaces=spaces or None,
                        )
                    pcm = converter.convert(event.audio, event.sample_rate)
                    if pcm:
                        state.audio_s += len(pcm) / 2 / self.sample_rate
                        await self.stop_ttfb_metrics()
                        yield TTSAudioRawFrame(pcm, self.sample_rate, 1, context_id=context_id)
                elif isinstance(event, Error):
                    # Bad text is followed by audio_end, a failed synthesis by
                    # context_closed: either way the loop ends on its own.
                    yield ErrorFrame(error=f"{self}: {event.message} ({event.code})")
                elif isinstance(event, ConnectionLost):
                    finished = True
                    if event is not _INTERRUPTED:
                        yield ErrorFrame(
                            error=f"{self}: connection lost while speaking: {event.reason}"
                        )
                else:  # AudioEnd, Cancelled, ContextClosed
                    finished = isinstance(event, AudioEnd | Cancelled | ContextClosed)
            tail = converter.drain()
            if tail:
                state.audio_s += len(tail) / 2 / self.sample_rate
                yield TTSAudioRawFrame(tail, self.sample_rate, 1, context_id=context_id)
        finally:
            if state.inflight == sid:
                state.inflight = None
            state.last_text = text
            if not finished:  # cancelled (interruption) or failed mid-sentence
                await self._cancel_sentence(sid)
            self._inboxes.pop(sid, None)
            await self.stop_ttfb_metrics()

    async def _start_sentence(
        self, text: str, sid: str, *, fast_start: bool = True
    ) -> asyncio.Queue[Event | ConnectionLost]:
        """Send one sentence as its own session context; return the queue its events go to.

        ``fast_start``: the sentence may use the session's ``first_chunk_steps`` (nothing of
        its turn has played yet); otherwise its first chunk gets all the ``steps``, as the
        rest of the turn does: the listener is hearing the sentences before it meanwhile.

        A connection that died since the last sentence (a server restart between turns) is
        reopened once, transparently.
        """
        for attempt in (1, 2):
            conn = await self._ensure_connection()
            inbox: asyncio.Queue[Event | ConnectionLost] = asyncio.Queue()
            self._inboxes[sid] = inbox  # before sending: the first event may come at once
            try:
                if not fast_start:
                    await conn.configure(sid, first_chunk_steps=self._settings.steps)
                for start in range(0, len(text), TEXT_PIECE_CHARS):
                    await conn.send_text(text[start : start + TEXT_PIECE_CHARS], sid)
                await conn.close_context(sid)
                return inbox
            except ConnectionError as exc:
                self._inboxes.pop(sid, None)
                if attempt == 2:
                    raise
                await self._connection_lost(conn, str(exc))
        raise AssertionError("unreachable")

    async def _cancel_sentence(self, sid: str) -> None:
        """Stop one sentence's synthesis; its late events are dropped (no inbox)."""
        inbox = self._inboxes.pop(sid, None)
        if inbox is None:
            return
        inbox.put_nowait(_INTERRUPTED)  # ends a run_tts still waiting on it
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(ConnectionError):
                await conn.cancel(sid)

    # ------------------------------------------------------------------ connection

    async def _open_connection(self) -> tuple[SpeechConnectionLike, int, str]:
        """Open a connection; return it, the model's native sample rate and model name."""
        raise NotImplementedError

    def _retryable(self, exc: Exception) -> bool:
        """Whether a failed open is worth another attempt."""
        return False

    async def _ensure_connection(self) -> SpeechConnectionLike:
        conn = self._conn
        if conn is not None:
            return conn
        async with self._connect_lock:
            if self._conn is None:
                await self._connect()
            assert self._conn is not None
            return self._conn

    async def _connect(self) -> None:
        """Open and configure the connection, retrying transport failures with back-off."""
        delay = self._reconnect_backoff_s
        for attempt in range(1, self._reconnect_attempts + 1):
            try:
                conn, native_rate, model = await self._open_connection()
                break
            except Exception as exc:
                await self._call_event_handler("on_connection_error", str(exc))
                if attempt == self._reconnect_attempts or not self._retryable(exc):
                    if attempt > 1:
                        raise ConnectionError(f"{exc} (gave up after {attempt} attempts)") from exc
                    raise
                logger.warning(f"{self}: attempt {attempt} failed ({exc}); retrying in {delay:g} s")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 8.0)
        self._conn = conn
        self._pump_task = self.create_task(self._pump(conn), f"{self}::events")
        fields = {
            "sample_rate": session_rate(self.sample_rate, native_rate),
            "encoding": "pcm_s16le",
            **self._transport_config,
            **self._config_fields([*SESSION_FIELDS, *OPTIONAL_FIELDS]),
        }
        error = await self._configure(conn, **fields)
        if error is not None:
            self._conn = None
            with contextlib.suppress(Exception):
                await conn.aclose()
            raise ValueError(f"the Supertonic session rejected the settings: {error}")
        if model and self._settings.model != model:
            self._settings.model = model
            self._sync_model_name_to_metrics()
        logger.debug(f"{self}: connected ({model}, {fields['sample_rate']} Hz session audio)")
        await self._call_event_handler("on_connected")

    def _config_fields(self, names: list[str]) -> dict[str, Any]:
        """Protocol ``config`` fields for the named settings (None values are left out)."""
        mapping = {**SESSION_FIELDS, **OPTIONAL_FIELDS}
        values = {mapping[n]: getattr(self._settings, n) for n in names}
        return {k: (str(v) if k == "lang" else v) for k, v in values.items() if v is not None}

    async def _configure(self, conn: SpeechConnectionLike, **fields: Any) -> str | None:
        """Send session-level ``config``; None once acknowledged, else the reason it failed."""
        waiter: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._config_waiters.append(waiter)
        try:
            await conn.configure(**fields)
            return await asyncio.wait_for(waiter, CONFIG_TIMEOUT_S)
        except TimeoutError:
            return f"no answer within {CONFIG_TIMEOUT_S:g} s"
        except ConnectionError as exc:
            return str(exc)
        finally:
            if waiter in self._config_waiters:
                self._config_waiters.remove(waiter)

    async def _pump(self, conn: SpeechConnectionLike) -> None:
        """Route the connection's events to the sentence waiting for them."""
        reason = "the connection was closed"
        try:
            async for event in conn.events():
                await self._dispatch(event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = str(exc) or type(exc).__name__
        await self._connection_lost(conn, reason)

    async def _dispatch(self, event: Event) -> None:
        context_id = getattr(event, "context_id", None)
        if context_id is None:
            if isinstance(event, ConfigAck) and self._config_waiters:
                self._config_waiters.popleft().set_result(None)
            elif isinstance(event, Error):
                if self._config_waiters and not event.fatal:
                    self._config_waiters.popleft().set_result(event.message)
                else:
                    await self.push_error(f"{self}: {event.message} ({event.code})")
            return
        inbox = self._inboxes.get(context_id)
        if inbox is not None:  # else: late events of a cancelled sentence
            inbox.put_nowait(event)

    async def _connection_lost(self, conn: SpeechConnectionLike, reason: str) -> None:
        if self._conn is not conn:
            return
        self._conn = None
        for inbox in self._inboxes.values():
            inbox.put_nowait(ConnectionLost(reason))
        while self._config_waiters:
            self._config_waiters.popleft().set_result(reason)
        if self._closing:
            return
        logger.warning(f"{self}: connection lost ({reason}); reconnecting")
        await self._call_event_handler("on_disconnected")
        self._reconnect_task = self.create_task(self._reconnect(), f"{self}::reconnect")

    async def _reconnect(self) -> None:
        try:
            await self._ensure_connection()
        except Exception as exc:
            await self.push_error(f"{self}: reconnecting failed: {exc}", exception=exc)

    async def _keepalive(self) -> None:
        """Ping an idle connection so the server does not close it."""
        assert self._keepalive_interval_s
        while True:
            await asyncio.sleep(self._keepalive_interval_s)
            conn = self._conn
            if conn is not None:
                with contextlib.suppress(ConnectionError):
                    await conn.send({"type": "ping"})

    async def _disconnect(self) -> None:
        self._closing = True
        for task in (self._keepalive_task, self._reconnect_task):
            if task is not None:
                await self.cancel_task(task)
        self._keepalive_task = self._reconnect_task = None
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.aclose()
        if self._pump_task is not None:
            await self.cancel_task(self._pump_task)
            self._pump_task = None
        for inbox in self._inboxes.values():
            inbox.put_nowait(ConnectionLost("the service stopped"))


class SupertonicTTSService(SupertonicBaseTTSService):
    """Supertonic-3 running in-process: ONNX engine, no server, no network once cached.

    The model loads (and warms up) in a worker thread when the pipeline starts, so the
    event loop never blocks on it; synthesis runs on the engine's own scheduler thread.
    Audio is produced at the pipeline's output rate: the core resamples 44.1 kHz audio to
    8, 16, 22.05, 24 or 48 kHz with a streaming filter, and any other rate is resampled
    here, one sentence at a time, from 44.1 kHz.

    Several services may share one :class:`~supertonic_core.Engine` (pass ``engine=``); its
    scheduler interleaves their sentences.

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
            warmup: Run one synthesis after loading, so the first sentence is not slow.
            phrase_cache: Entries of the engine's phrase cache (repeated short chunks, such
                as "Sure." or "One moment, please.", served at once without synthesis);
                0 (the default) turns it off. For an engine passed in, set it there.
            settings: Runtime-updatable settings (voice, language, speed, steps,
                first_chunk_steps, seed).
            **kwargs: Passed to Pipecat's ``TTSService`` (``sample_rate``, ``name``, ...).
        """
        if engine is not None and phrase_cache:
            raise ValueError(
                "phrase_cache configures the engine this service loads; for an engine passed "
                "in, build it with Engine.load(..., phrase_cache=N)"
            )
        super().__init__(
            model=engine.bundle.model if engine is not None else model,
            settings=settings,
            **kwargs,
        )
        self._engine = engine
        self._owns_engine = False
        self._load_error: RuntimeError | None = None
        self._model_name = model
        self._model_dir = model_dir
        self._runtime = runtime
        self._voices_dir = voices_dir
        self._download = download
        self._warmup = warmup
        self._phrase_cache = phrase_cache

    @property
    def engine(self) -> Engine | None:
        """The engine, once loaded (at pipeline start, or the one passed in)."""
        return self._engine

    async def _open_connection(self) -> tuple[SpeechConnectionLike, int, str]:
        if self._load_error is not None:
            # Loading is not retried: a missing or broken bundle stays missing or broken.
            raise self._load_error
        if self._engine is None:
            try:
                self._engine = await asyncio.to_thread(self._load_engine)
            except Exception as exc:
                self._load_error = RuntimeError(f"could not load the Supertonic model: {exc}")
                raise self._load_error from exc
            self._owns_engine = True
        engine = self._engine
        return SpeechSession(engine), engine.sample_rate, engine.bundle.model

    def _load_engine(self) -> Engine:
        engine = Engine.load(
            self._model_name,
            model_dir=self._model_dir,
            download=self._download,
            runtime=self._runtime,
            voices_dir=self._voices_dir,
            phrase_cache=self._phrase_cache,
        )
        if self._warmup:
            engine.warmup()
        return engine

    async def cleanup(self) -> None:
        """Close the connection, and the engine if this service loaded it."""
        await super().cleanup()
        if self._owns_engine and self._engine is not None:
            engine, self._engine = self._engine, None
            self._owns_engine = False
            await asyncio.to_thread(engine.close)


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
            settings: Runtime-updatable settings (voice, language, speed, steps,
                first_chunk_steps, seed).
            **kwargs: Passed to Pipecat's ``TTSService`` (``sample_rate``, ``name``, ...).
        """
        super().__init__(
            reconnect_attempts=reconnect_attempts,
            reconnect_backoff_s=reconnect_backoff_s,
            settings=settings,
            **kwargs,
        )
        self._url = url
        self._api_key = api_key
        self._open_timeout_s = open_timeout_s
        self._keepalive_interval_s = keepalive_interval_s
        self._transport_config = {"binary": True}

    async def _open_connection(self) -> tuple[SpeechConnectionLike, int, str]:
        client = SpeechClient(self._url, api_key=self._api_key, open_timeout=self._open_timeout_s)
        ready = await client.connect()
        return client, ready.sample_rate, ready.model

    def _retryable(self, exc: Exception) -> bool:
        # A server that is down, restarting or still loading its model is worth waiting for;
        # a refused key is not (``status``/``code`` tell them apart when the core's client
        # provides them).
        if not isinstance(exc, ConnectionError):
            return False
        refused = getattr(exc, "status", None) in (401, 403)
        return not refused and getattr(exc, "code", None) != "unauthorized"
