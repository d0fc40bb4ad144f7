"""The engine: a loaded bundle, its voices and text indexer, and the scheduler that runs it.

Everything above the core (HTTP, WebSocket, Pipecat, LiveKit) goes through
:meth:`Engine.open_stream`, so every transport gets the same chunking, joins, timings,
cancellation and scheduling.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .bundle import Bundle, resolve_bundle
from .chunk_request import ChunkRequest
from .errors import EmptyTextError, UnsupportedCharactersError, quote_value
from .frontend import FrontEnd
from .languages import check_language
from .normalize import Pause, StreamNormalizer
from .options import SynthesisOptions
from .phrase_cache import PhraseCache
from .runtime import Runtime, RuntimeOptions
from .scheduler import Scheduler
from .stream import AudioChunk, SynthesisStream
from .synthesis import warm_up_buckets
from .text import TextIndexer, is_speakable, refused_characters
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
        max_batch, max_streams, max_queue: passed to the :class:`Scheduler`.
        first_chunk_chars: length the first chunk of a stream is kept under (time to first
            audio); None: no short first chunk.
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
        self.indexer = TextIndexer.from_file(bundle.indexer_path)
        self.front_end = FrontEnd(self.indexer, self.voices, tagged=bundle.spec.tagged)
        self.runtime = Runtime(bundle, runtime)
        self.scheduler = Scheduler(
            self.runtime,
            sample_rate=bundle.sample_rate,
            frame=bundle.samples_per_frame,
            max_batch=max_batch,
            max_streams=max_streams,
            max_queue=max_queue,
            phrase_cache=PhraseCache(phrase_cache) if phrase_cache else None,
        )
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
    def phrase_cache(self) -> PhraseCache | None:
        """Audio of short chunks, served again without synthesis (the scheduler's); None
        when off."""
        return self.scheduler.phrase_cache

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
        return self.front_end.style(voice)

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

    def open_stream(self, options: SynthesisOptions | None = None) -> SynthesisStream:
        """A stream to push chunk texts into and read audio chunks from (see SynthesisStream)."""
        return SynthesisStream(
            self.scheduler,
            self.front_end,
            options or self.options(),
            first_chunk_chars=self.first_chunk_chars,
            synthetic=self.synthetic is not None,
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
        and paused exactly as a stream does it before the listener's lead sizes its
        chunks; a stream that then packs or cuts chunks differs by a few pauses. The stream
        takes a place in the scheduler for that instant only (a full queue answers
        :class:`CapacityError`, as for any stream).
        """
        opts = options or self.options()
        self.check_text(text, opts.lang, normalize=opts.normalize)
        stream = self.open_stream(opts)
        try:
            stream.add_text(text)
            stream.end()
            return stream.planned_seconds()
        finally:
            stream.close()

    def warmup(self, text: str = WARMUP_TEXT) -> None:
        """One real synthesis (so the first request pays no graph set-up) and cost
        calibration; with shape buckets on, every bucket up to the chosen batch size is
        visited too (:func:`.synthesis.warm_up_buckets`)."""
        opts = self.options()
        ids = self.front_end.encode(text, opts.lang)
        self.scheduler.calibrate(
            ChunkRequest(ids, self.style(opts.voice), opts.speed, opts.steps, seed=0)
        )
        if self.runtime.buckets.batch:
            started = time.perf_counter()
            shapes = warm_up_buckets(
                self.runtime,
                self.style(opts.voice),
                max_batch=self.scheduler.max_batch,
                sample_rate=self.sample_rate,
                frame=self.bundle.samples_per_frame,
            )
            logger.info(
                "warmed %d shape buckets up to %d rows in %.1f s",
                shapes,
                self.scheduler.max_batch,
                time.perf_counter() - started,
            )
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
