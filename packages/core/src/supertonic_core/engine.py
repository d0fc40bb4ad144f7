"""The engine: a loaded bundle, its voices and text indexer, and the scheduler that runs it.

Everything above the core (HTTP, WebSocket, Pipecat, LiveKit) goes through
:meth:`Engine.open_stream`, so every transport gets the same chunking, joins, timings,
cancellation and scheduling.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np

from .bundle import Bundle, resolve_bundle
from .errors import (
    EmptyTextError,
    UnsupportedCharactersError,
    quote_value,
)
from .languages import check_language
from .normalize import Pause, StreamNormalizer
from .options import SynthesisOptions
from .phrase_cache import PhraseCache
from .runtime import Runtime, RuntimeOptions
from .scheduler import Scheduler, StreamState
from .stream import AudioChunk, SynthesisStream
from .synthesis import ChunkJob, predict_audio_seconds
from .text import TextIndexer, is_speakable, prepare_text, refused_characters
from .voices import VoiceLibrary, VoiceStyle

logger = logging.getLogger("supertonic_core")

WARMUP_TEXT = "Hello, this is a short warm-up sentence."


class Engine:
    """A ready-to-use model: construct with :meth:`load`, then stream or synthesize.

    Args:
        bundle: a verified bundle.
        runtime: how to run the graphs (device, threads, optimisation).
        voices_dir: optional folder of custom voice-style JSON files.
        defaults: options used where a request gives none.
        policy, max_batch, max_streams, max_queue: passed to the :class:`Scheduler`.
        first_chunk_chars: length the first chunk of a stream is kept under (time to first audio).
        phrase_cache: entries of the phrase cache (short chunks served again without
            synthesis, see :mod:`.phrase_cache`); 0 turns it off.
    """

    def __init__(
        self,
        bundle: Bundle,
        *,
        runtime: RuntimeOptions | None = None,
        voices_dir: str | Path | None = None,
        defaults: SynthesisOptions | None = None,
        policy: str = "deadline",
        max_batch: int | None = None,
        max_streams: int | None = None,
        max_queue: int = 64,
        first_chunk_chars: int | None = 50,
        phrase_cache: int = 0,
    ) -> None:
        self.bundle = bundle
        self.voices = VoiceLibrary(bundle.voices_dir, voices_dir)
        self.languages: tuple[str, ...] = bundle.spec.languages
        self.defaults = self._resolved(defaults or SynthesisOptions())
        self.first_chunk_chars = first_chunk_chars
        self.phrase_cache = PhraseCache(phrase_cache) if phrase_cache else None
        self.indexer = TextIndexer.from_file(bundle.indexer_path)
        self.runtime = Runtime(bundle, runtime)
        self.scheduler = Scheduler(
            self.runtime,
            sample_rate=bundle.sample_rate,
            frame=bundle.samples_per_frame,
            policy=policy,
            max_batch=max_batch,
            max_streams=max_streams,
            max_queue=max_queue,
        )
        self._stream_services = _StreamServices(self)
        if self.synthetic:
            logger.warning(
                "serving a SYNTHETIC bundle (%s profile, random weights): output is noise, "
                "not speech",
                self.synthetic.get("profile"),
            )

    @classmethod
    def load(
        cls,
        model: str = "supertonic-3",
        *,
        model_dir: str | Path | None = None,
        revision: str | None = None,
        download: bool = True,
        **kwargs: Any,
    ) -> Engine:
        """Resolve the bundle (directory, cache or download) and build a ready engine."""
        bundle = resolve_bundle(model, model_dir=model_dir, revision=revision, download=download)
        return cls(bundle, **kwargs)

    # --------------------------------------------------------------- facts

    @property
    def sample_rate(self) -> int:
        return self.bundle.sample_rate

    @property
    def synthetic(self) -> dict[str, Any] | None:
        """The synthetic-bundle marker, or None when serving real weights."""
        return self.bundle.synthetic

    @property
    def providers(self) -> list[str]:
        return self.runtime.providers

    def info(self) -> dict[str, Any]:
        """What the engine serves, for health endpoints and logs."""
        return {
            "model": self.bundle.model,
            "synthetic": self.synthetic is not None,
            "sample_rate": self.sample_rate,
            "providers": self.providers,
            "voices": self.voices.names(),
            "languages": list(self.languages),
        }

    # --------------------------------------------------------------- requests

    def options(self, **overrides: Any) -> SynthesisOptions:
        """Defaults with ``overrides`` (None values ignored), checked, voice and language
        resolved against the model (:class:`InvalidInputError` naming the bad value)."""
        return self._resolved(self.defaults.merged(overrides))

    def style(self, voice: str) -> VoiceStyle:
        return self.voices.resolve(voice)

    def check_text(self, text: str, lang: str, *, normalize: bool = True) -> None:
        """Raise before any audio is produced if ``text`` cannot be spoken at all
        (``normalize``: as the normaliser rewrites it; a text of pause tags only is
        silence, and fine)."""
        if not isinstance(text, str) or not text.strip():
            raise EmptyTextError()
        check_language(lang, self.languages)
        if normalize:
            items = StreamNormalizer(lang).whole(text)
            text = "".join(i for i in items if isinstance(i, str))
            if not is_speakable(text) and any(isinstance(i, Pause) for i in items):
                return
        bad = refused_characters(text, self.indexer)
        if bad:
            raise UnsupportedCharactersError(bad)
        if not is_speakable(text):
            raise EmptyTextError(
                f"nothing to speak in {quote_value(text)}: only punctuation, symbols or emoji"
            )

    def make_job(
        self, chunk: str, style: VoiceStyle, opts: SynthesisOptions, seed: int, *, cut: bool = False
    ) -> ChunkJob:
        """One chunk's synthesis job: the text as the model was trained to read it, encoded.

        ``cut``: the chunk ends inside a sentence, so it gets no final period (see
        :func:`~supertonic_core.text.normalize_text`).
        """
        model_text = prepare_text(
            chunk, opts.lang, self.indexer, cut=cut, tagged=self.bundle.spec.tagged
        )
        ids, _ = self.indexer.encode([model_text])
        return ChunkJob(ids=ids[0], style=style, speed=opts.speed, steps=opts.steps, seed=seed)

    def open_stream(
        self, options: SynthesisOptions | None = None, *, first_chunk_chars: int | None = -1
    ) -> SynthesisStream:
        """A stream to push chunk texts into and read audio chunks from (see SynthesisStream)."""
        opts = options or self.options()
        seed = opts.seed if opts.seed is not None else secrets.randbelow(2**31)
        return SynthesisStream(
            self._stream_services,
            opts.model_copy(update={"seed": seed}),
            first_chunk_chars=self.first_chunk_chars
            if first_chunk_chars == -1
            else first_chunk_chars,
            explicit_seed=opts.seed is not None,
        )

    async def stream(
        self, text: str, options: SynthesisOptions | None = None
    ) -> AsyncIterator[AudioChunk]:
        """Yield :class:`AudioChunk` s for ``text`` as they are ready; the next is synthesized meanwhile."""
        stream = self.open_stream(options)
        stream.add_text(text)
        stream.end()
        async with stream:
            async for chunk in stream:
                yield chunk

    def iter_chunks(
        self, text: str, options: SynthesisOptions | None = None
    ) -> Iterator[AudioChunk]:
        """Blocking twin of :meth:`stream`, for scripts and the CLI."""
        stream = self.open_stream(options)
        stream.add_text(text)
        stream.end()
        with stream:
            yield from stream

    def synthesize(self, text: str, options: SynthesisOptions | None = None) -> np.ndarray:
        """The whole utterance as one float32 array at :attr:`sample_rate`."""
        parts = [c.samples for c in self.iter_chunks(text, options)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def predict_duration(self, text: str, options: SynthesisOptions | None = None) -> float:
        """Seconds of audio :meth:`synthesize` would make of ``text``, without synthesizing.

        Only the duration predictor runs (the smallest graph, off the scheduler's batches).
        The text goes through a stream that is never iterated, so it is normalised, split
        and paused exactly as a stream with a fixed seed does it, and the figure is that
        stream's length; a stream sized by the lead may pack chunks differently and differ
        by a few pauses. The stream takes a place in the scheduler for that instant only
        (a full queue answers :class:`CapacityError`, as for any stream).
        """
        opts = options or self.options()
        self.check_text(text, opts.lang, normalize=opts.normalize)
        stream = self.open_stream(opts.model_copy(update={"seed": opts.seed or 0}))
        try:
            stream.add_text(text)
            stream.end()
            return stream.planned_seconds()
        finally:
            stream.close()

    def warmup(self, text: str = WARMUP_TEXT) -> None:
        """One real synthesis (so the first request pays no graph set-up) and cost calibration."""
        opts = self.options()
        style = self.style(opts.voice)
        self.scheduler.calibrate(self.make_job(text, style, opts, seed=0))
        self.synthesize(text, opts.model_copy(update={"seed": 0}))

    def close(self) -> None:
        self.scheduler.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --------------------------------------------------------------- internals

    def _resolved(self, opts: SynthesisOptions) -> SynthesisOptions:
        """``opts`` with its language code canonical, once the voice resolves."""
        lang = check_language(opts.lang, self.languages)
        self.voices.resolve(opts.voice)
        return opts.model_copy(update={"lang": lang})


class _StreamServices:
    """The engine's side of its streams (:class:`~.stream.StreamServices`): each operation
    a stream may use, mapped onto the engine's voices, front end, runtime, scheduler and
    phrase cache."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._scheduler = engine.scheduler

    @property
    def sample_rate(self) -> int:
        return self._engine.sample_rate

    @property
    def synthetic(self) -> bool:
        return self._engine.synthetic is not None

    @property
    def phrase_cache(self) -> PhraseCache | None:
        return self._engine.phrase_cache

    def style(self, voice: str) -> VoiceStyle:
        return self._engine.style(voice)

    def make_job(
        self, chunk: str, style: VoiceStyle, options: SynthesisOptions, seed: int, *, cut: bool
    ) -> ChunkJob:
        return self._engine.make_job(chunk, style, options, seed, cut=cut)

    def predict_seconds(self, jobs: list[ChunkJob]) -> list[float]:
        engine = self._engine
        return predict_audio_seconds(
            engine.runtime,
            jobs,
            sample_rate=engine.sample_rate,
            frame=engine.bundle.samples_per_frame,
        )

    def open_place(self) -> StreamState:
        return self._scheduler.open_stream()

    def close_place(self, state: StreamState) -> None:
        self._scheduler.close_stream(state)

    def submit(self, job: ChunkJob, state: StreamState) -> Future[np.ndarray]:
        return self._scheduler.submit(job, state)

    def delivered(self, state: StreamState, seconds: float) -> None:
        self._scheduler.delivered(state, seconds)

    def speech_budget(self, state: StreamState, ahead: list[ChunkJob], steps: int) -> float | None:
        return self._scheduler.speech_budget(state, ahead, steps)

    def seconds_per_char(self) -> float:
        return self._scheduler.costs.seconds_per_id

    def ready_in(self, job: ChunkJob) -> float:
        return self._scheduler.ready_in(job)
