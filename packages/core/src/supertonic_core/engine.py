"""The engine: a loaded bundle, its voices and text indexer, and the scheduler that runs it.

Everything above the core (HTTP, WebSocket, Pipecat, LiveKit) goes through
:meth:`Engine.open_stream`, so every transport gets the same chunking, joins, timings,
cancellation and scheduling.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .bundle import Bundle, resolve_bundle
from .chunk_request import ChunkRequest
from .errors import EmptyTextError, UnsupportedCharactersError, quote_value
from .frontend import FrontEnd
from .languages import check_language
from .normalize import Pause
from .options import SynthesisOptions
from .phrase_cache import PhraseCache
from .pronunciation import PronunciationDictionary
from .runtime import Runtime, RuntimeOptions
from .scheduler import Scheduler
from .stream import AudioChunk, SynthesisStream
from .synthesis import warm_up_buckets
from .text import TextIndexer, is_speakable, refused_characters
from .voices import VoiceLibrary, VoiceStyle
from .workers import (
    choose_workers,
    cpu_cores,
    cpu_splits,
    measure_rows_per_s,
    visible_gpus,
    worker_options,
)

logger = logging.getLogger("supertonic_core")

WARMUP_TEXT = "Hello, this is a short warm-up sentence."


class Engine:
    """A ready-to-use model: construct with :meth:`load`, then stream or synthesize.

    Args:
        bundle: a verified bundle.
        runtime: how to run the graphs (device, threads, optimisation, workers).
        voices_dir: optional folder of custom voice-style JSON files.
        defaults: options used where a request gives none.
        max_batch, max_streams, max_queue: passed to the :class:`Scheduler`.
        first_chunk_chars: length the first chunk of a stream is kept under (time to first
            audio); None: no short first chunk.
        phrase_cache: entries of the phrase cache (short chunks served again without
            synthesis, see :mod:`.phrase_cache`); 0 turns it off.
        lexicons: pronunciation dictionaries requests may name (``lexicons``), each by its
            name; a request that names none gets them all.
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
        lexicons: Iterable[PronunciationDictionary] = (),
    ) -> None:
        self.bundle = bundle
        self.voices = VoiceLibrary(bundle.voices_dir, voices_dir)
        self.languages: tuple[str, ...] = bundle.spec.languages
        self.first_chunk_chars = first_chunk_chars
        self.indexer = TextIndexer.from_file(bundle.indexer_path)
        self.front_end = FrontEnd(
            self.indexer,
            self.voices,
            tagged=bundle.spec.tagged,
            languages=self.languages,
            lexicons=lexicons,
        )
        self.defaults = self._resolved(defaults or SynthesisOptions())
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
        workers = self.runtime.options.workers
        if workers != "auto" or self._gpus() > 1:  # auto on a CPU: measured at warm-up
            self._use_workers(self._gpus() if workers == "auto" else workers)
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
            "lexicons": [d.info() for d in self.lexicons.values()],
        }

    @property
    def lexicons(self) -> dict[str, PronunciationDictionary]:
        """The pronunciation dictionaries requests may name, by name."""
        return self.front_end.lexicons

    # --------------------------------------------------------------- requests

    def options(self, **overrides: Any) -> SynthesisOptions:
        """Defaults with ``overrides`` (None values ignored), checked, voice, language and
        dictionaries resolved against the model (:class:`InvalidInputError` naming the bad
        value). ``lang="auto"`` is the default language with ``detect_lang``."""
        return self._resolved(self.defaults.merged(overrides))

    def style(self, voice: str) -> VoiceStyle:
        return self.front_end.style(voice)

    def check_text(
        self,
        text: str,
        lang: str,
        *,
        normalize: bool = True,
        options: SynthesisOptions | None = None,
    ) -> None:
        """Raise before any audio is produced if ``text`` cannot be spoken at all
        (``normalize``: as the normaliser rewrites it; a text of pause tags only is
        silence, and fine). With ``options``, as they read it (its language, dictionaries
        and detection; ``lang`` and ``normalize`` are then its own)."""
        if not isinstance(text, str) or not text.strip():
            raise EmptyTextError()
        if options is None:
            options = SynthesisOptions(lang=lang, normalize=normalize, lexicons=())
        check_language(options.lang, self.languages)
        normalizer = self.front_end.normalizer(options)
        if normalizer is not None and options.normalize:
            items = normalizer.whole(text)
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
        self.check_text(text, opts.lang, options=opts)
        stream = self.open_stream(opts)
        try:
            stream.add_text(text)
            stream.end()
            return stream.planned_seconds()
        finally:
            stream.close()

    def warmup(self, text: str = WARMUP_TEXT) -> None:
        """Calibration (workers on a many-core CPU, then costs and batch size) and one real
        synthesis, so the first request pays no graph set-up; with shape buckets on, every
        worker visits every bucket up to the chosen batch size too
        (:func:`.synthesis.warm_up_buckets`)."""
        opts = self.options()
        ids = self.front_end.encode(text, opts.lang)
        request = ChunkRequest(ids, self.style(opts.voice), opts.speed, opts.steps, seed=0)
        if self.runtime.options.workers == "auto" and not self._gpus():
            self._calibrate_workers(request)
        self.scheduler.calibrate(request)
        if self.runtime.buckets.batch:
            started = time.perf_counter()
            shapes = sum(
                warm_up_buckets(
                    runtime,
                    self.style(opts.voice),
                    max_batch=self.scheduler.max_batch,
                    sample_rate=self.sample_rate,
                    frame=self.bundle.samples_per_frame,
                )
                for runtime in self.scheduler.runtimes
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

    def _gpus(self) -> int:
        """GPUs visible to the graphs: 0 when they run on the CPU."""
        return max(1, visible_gpus()) if self.runtime.on_gpu else 0

    def _use_workers(self, count: int) -> None:
        """Run ``count`` workers (:func:`.workers.worker_options`); the runtime loaded
        first stays the first worker's where its options are the same."""
        options = worker_options(self.runtime.options, count, cores=cpu_cores(), gpus=self._gpus())
        runtimes = [
            self.runtime if i == 0 and o == self.runtime.options else Runtime(self.bundle, o)
            for i, o in enumerate(options)
        ]
        self._set_runtimes(runtimes)

    def _calibrate_workers(self, request: ChunkRequest) -> None:
        """Split the CPU's cores into the workers measured fastest together
        (:func:`.workers.choose_workers`); a CPU too small to split measures nothing. Only
        the split being measured and the one before it (the best so far: the search
        stops at the first that does not gain) keep their sessions loaded."""
        splits = cpu_splits(cpu_cores())
        tried: dict[int, list[Runtime]] = {1: [self.runtime]}

        def rows_per_s(workers: int) -> float:
            if workers not in tried:
                for smaller in [n for n in tried if n < workers // 2]:
                    del tried[smaller]
                options = worker_options(self.runtime.options, workers, cores=cpu_cores(), gpus=0)
                tried[workers] = [Runtime(self.bundle, o) for o in options]
            return measure_rows_per_s(
                tried[workers],
                request,
                sample_rate=self.sample_rate,
                frame=self.bundle.samples_per_frame,
            )

        chosen = choose_workers(splits, rows_per_s)
        logger.info("%d workers chosen of %s on %d cores", chosen, splits, cpu_cores())
        self._set_runtimes(tried[chosen])

    def _set_runtimes(self, runtimes: list[Runtime]) -> None:
        self.runtime = runtimes[0]
        self.scheduler.set_workers(runtimes)

    def _resolved(self, opts: SynthesisOptions) -> SynthesisOptions:
        """``opts`` with its language code canonical (``auto``: the default language, each
        sentence detected), once the voice and the dictionaries resolve."""
        update: dict[str, Any] = {}
        if opts.lang.strip().lower() == "auto":
            fallback = getattr(self, "defaults", None)
            update = {"lang": fallback.lang if fallback else "en", "detect_lang": True}
        else:
            update = {"lang": check_language(opts.lang, self.languages)}
        self.voices.resolve(opts.voice)
        resolved = opts.model_copy(update=update)
        self.front_end.pronunciations(resolved)  # an unknown name fails here
        return resolved
