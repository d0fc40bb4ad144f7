"""One request's audio stream: chunk texts in, timed audio chunks out, in order.

Text can be added all at once or piece by piece (LLM deltas, through the incremental
splitter); a bounded number of chunks is in flight, so the next chunk is synthesized while
the previous one plays, without queueing a whole book ahead. Each chunk leaves with a
short fade and a pause sized by its punctuation, so joins never click, and with its text,
offset, duration and estimated word timings (exact at chunk edges).

Chunks after the first are sized by the lead: when a chunk is handed to the scheduler, its
extent is chosen so that its predicted compute fits in the audio buffered ahead of the
listener. While the lead is thin that is a clause; as it grows, whole sentences, then
several sentences packed up to the model's limit (300 characters, 120 for Korean and
Japanese), which the official pipeline does too: longer chunks read with better prosody
and cost fewer calls per second of audio. The first audio leaves once the second chunk
is predicted to be ready before the first has played out (waiting at most
``FIRST_HOLD_BOUND_S``): a slightly later start rather than a gap after the first words,
which under load is where gaps fell. A stream with an explicit seed keeps the fixed
split (short first chunk, then sentences), so the same text and seed give the same audio
on any machine and under any load.

A stream takes its place in the scheduler (a playing or a waiting slot) with its first
chunk, not when it is opened: text still being typed, under the splitter's threshold,
holds nothing, so clients that open streams and never finish them cannot lock others out.
:meth:`SynthesisStream.release` gives the place back while nothing is queued (a client that
paused mid-utterance); the next chunk takes a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future, InvalidStateError, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .audio import fade_edges, pause_after, to_int16
from .chunking import (
    Boundary,
    IncrementalSplitter,
    Piece,
    cut_head,
    default_max_chars,
    join_without_space,
)
from .errors import InvalidInputError, SynthesisCancelledError
from .normalize import Pause, StreamNormalizer
from .phrase_cache import MAX_PHRASE_CHARS, PhraseKey, style_digest
from .punctuation import Mark, final_mark
from .scheduler import StreamState
from .synthesis import CancelToken, ChunkJob, Stage
from .text import is_speakable
from .timing import WordTiming, estimate_word_timings

if TYPE_CHECKING:
    from .engine import SynthesisOptions
    from .phrase_cache import PhraseCache
    from .voices import VoiceStyle

logger = logging.getLogger("supertonic_core")
LOOKAHEAD = 2
#: A lead-sized chunk holds at least this many characters: below it the fixed cost of a
#: chunk's calls outweighs its audio, and the lead would shrink instead of grow.
MIN_SIZED_CHARS = 40
#: Longest the first audio waits for the second chunk to be ready in time (see _first_hold).
FIRST_HOLD_BOUND_S = 1.5


def _retrieved(future: asyncio.Future[object]) -> None:
    """Mark a future's exception as seen: it is raised where the future is awaited again."""
    if not future.cancelled():
        future.exception()


@dataclass(frozen=True)
class AudioChunk:
    """One chunk of a stream: speech followed by its pause, float32 mono at ``sample_rate``."""

    samples: np.ndarray
    sample_rate: int
    text: str
    index: int
    offset: float  # seconds from the start of the stream
    duration: float  # seconds, pause included
    speech_duration: float
    words: tuple[WordTiming, ...]
    synthetic: bool

    def pcm16(self) -> bytes:
        """Little-endian int16 PCM bytes."""
        return to_int16(self.samples).tobytes()


@dataclass(eq=False)
class _Pending:
    text: str
    job: ChunkJob | None  # None: nothing speakable, only a pause
    future: Future[np.ndarray] | None = None  # set when submitted (or served from the cache)
    key: PhraseKey | None = None  # where the phrase cache keeps its audio
    end: Boundary = Boundary.SENTENCE  # how the text ends: the model's final mark, the pause
    silence: float | None = None  # a pause asked for in the text: exactly this, no speech

    def pause(self, lang: str, *, last: bool) -> float:
        """Seconds of silence after this chunk: the pause asked for in the text, else none
        after the last chunk, else by its punctuation in ``lang``; at least 0.2 s with
        nothing spoken."""
        if self.silence is not None:
            return self.silence
        if last:
            return 0.0 if self.job is not None else 0.2
        pause = pause_after(
            self.text,
            lang=lang,
            paragraph=self.end is Boundary.PARAGRAPH,
            cut=self.end is Boundary.CUT,
        )
        return pause if self.job is not None else max(pause, 0.2)


class StreamServices(Protocol):
    """All a stream uses from the engine that opens it: the contract in one place.

    Why: a stream decides what to synthesize and when (extents, order, pauses, timings);
    the engine owns how (voices, the text front end, the model, the scheduler, the cache).
    The stream asks for exactly these operations and knows nothing else of the engine, so
    each side can change without reading the other. The engine hands every stream one
    (``Engine.open_stream``).
    """

    @property
    def sample_rate(self) -> int:
        """Samples per second of the audio the model makes."""

    @property
    def synthetic(self) -> bool:
        """The bundle has random weights: the audio is noise, not speech."""

    @property
    def phrase_cache(self) -> PhraseCache | None:
        """Audio of short chunks, served again without synthesis; None when off."""

    def style(self, voice: str) -> VoiceStyle:
        """The style of a voice name (a preset, custom voice or blend)."""

    def make_job(
        self, chunk: str, style: VoiceStyle, options: SynthesisOptions, seed: int, *, cut: bool
    ) -> ChunkJob:
        """One chunk's synthesis job (validates and encodes the text)."""

    def predict_seconds(self, jobs: list[ChunkJob]) -> list[float]:
        """Seconds of speech each job will make, from the duration predictor alone."""

    def open_place(self) -> StreamState:
        """Take a place in the scheduler (playing or waiting); may raise CapacityError."""

    def close_place(self, state: StreamState) -> None:
        """Give a place back."""

    def submit(self, job: ChunkJob, state: StreamState) -> Future[np.ndarray]:
        """Hand a job to the scheduler under the stream's place."""

    def delivered(self, state: StreamState, seconds: float) -> None:
        """Record audio handed to the listener (the scheduler's playback clock)."""

    def speech_budget(self, state: StreamState, ahead: list[ChunkJob], steps: int) -> float | None:
        """Seconds of speech the next chunk may hold so that it is ready before the
        listener's lead runs out; None before costs are measured."""

    def seconds_per_char(self) -> float:
        """Measured compute per input character, to turn a speech budget into a length."""

    def ready_in(self, job: ChunkJob) -> float:
        """Predicted seconds until a submitted job's audio is ready."""


class SynthesisStream:
    """Push text with :meth:`add_text` / :meth:`add_chunk`, call :meth:`end`, iterate chunks.

    Iterate with ``async for`` (or plain ``for`` in blocking code). :meth:`cancel` stops the
    synthesis at the next denoising step and ends the iteration quietly.
    """

    def __init__(
        self,
        services: StreamServices,
        options: SynthesisOptions,
        *,
        first_chunk_chars: int | None,
        explicit_seed: bool,
    ) -> None:
        self._services = services
        self.options = options
        self.style = services.style(options.voice)
        self.token = CancelToken()
        self._splitter = IncrementalSplitter(options.lang, first_chunk_chars=first_chunk_chars)
        self._normalizer = (
            StreamNormalizer(options.lang, name_emoji=options.emoji == "name")
            if options.normalize
            else None
        )
        self._pending: deque[_Pending] = deque()
        self._ended = False
        self._index = 0  # chunks delivered
        self._added = 0  # chunks queued
        self._submitted = 0  # chunks handed to the scheduler (or the cache)
        self._explicit_seed = explicit_seed  # then the fixed split, else sized by the lead
        self._max_chars = default_max_chars(options.lang)
        self._style_key = style_digest(self.style) if services.phrase_cache else b""
        self._offset = 0.0
        self._wakeup = asyncio.Event()
        self._closed = False
        self.state: StreamState | None = None  # the scheduler place, taken by the first chunk

    # ------------------------------------------------------------------ input

    def add_text(self, delta: str) -> list[str]:
        """Feed a text delta; returns the chunks it released (their end is certain)."""
        if self._normalizer is not None:
            return self._speak(self._normalizer.push(delta))
        pieces = self._splitter.push_pieces(delta)
        self._add_all(pieces)
        return [p.text for p in pieces]

    def flush(self) -> list[str]:
        """Release whatever text is buffered as chunks now, without ending the stream."""
        released = self._speak(self._normalizer.flush()) if self._normalizer is not None else []
        pieces = self._splitter.flush_pieces()
        self._add_all(pieces)
        return released + [p.text for p in pieces]

    def add_chunk(self, text: str, *, end: Boundary = Boundary.SENTENCE) -> None:
        """Queue one chunk as is (validated now, so bad text fails before any audio).

        ``end``: how the chunk ends (a sentence, a paragraph, or cut inside a sentence).
        """
        text = text.strip()
        if not text:
            return
        if is_speakable(text):
            self._pending_add(_Pending(text, self._job(text, self._added, end), end=end))
        else:
            self._pending_add(_Pending(text, None, end=end))
        self._added += 1

    def end(self) -> list[str]:
        """No more text: flush the splitter and let the iteration finish after the last chunk."""
        try:
            return self.flush()
        finally:
            self._ended = True
            self._wake()

    def cancel(self) -> None:
        """Stop synthesis at the next step; queued text is dropped; a stream still waiting
        for admission leaves the queue."""
        self.token.cancel()
        self._drop_pending()
        self._ended = True
        self._leave()
        self._wake()

    def release(self) -> bool:
        """Give the scheduler place back if nothing is queued; True if there was one to give.

        The stream stays usable: its next chunk asks for a place again (and may wait).
        """
        if self._pending or self.state is None:
            return False
        self._leave()
        return True

    @property
    def holds_place(self) -> bool:
        """True while the stream has a scheduler place (playing or waiting)."""
        return self.state is not None

    @property
    def sample_rate(self) -> int:
        """Samples per second of the stream's audio."""
        return self._services.sample_rate

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled

    @property
    def queued_chunks(self) -> int:
        """Chunks queued and not yet delivered."""
        return len(self._pending)

    def planned_seconds(self) -> float:
        """Seconds of audio the chunks queued now will make, from the duration predictor
        alone (nothing is synthesized): their speech and the pauses after them.

        Why: :meth:`Engine.predict_duration` times text exactly as a stream splits,
        normalises and pauses it, by asking a stream that is never iterated.
        """
        items = list(self._pending)
        jobs = [item.job for item in items if item.job is not None]
        speech = self._services.predict_seconds(jobs) if jobs else []
        last = len(items) - 1
        return sum(speech) + sum(
            item.pause(self.options.lang, last=i == last and self._ended)
            for i, item in enumerate(items)
        )

    # ------------------------------------------------------------------ output

    async def __aiter__(self) -> AsyncIterator[AudioChunk]:
        while True:
            head = self._next_ready()
            if head is None:
                if (self._ended and not self._pending) or self.cancelled:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            try:
                if head.job is not None and head.future is None:  # waiting for admission
                    await asyncio.wrap_future(self._state.admitted)
                    continue
                wav = await asyncio.wrap_future(head.future) if head.future else None
                if (hold := self._first_hold(wav)) is not None:
                    nxt = asyncio.wrap_future(hold[0])
                    nxt.add_done_callback(_retrieved)  # its outcome is read when it is the head
                    await asyncio.wait([nxt], timeout=hold[1])
            except SynthesisCancelledError:
                return
            if self.cancelled:
                return
            yield self._finish(head, wav)

    def __iter__(self) -> Iterator[AudioChunk]:
        while True:
            head = self._next_ready()
            if head is None:
                if (self._ended and not self._pending) or self.cancelled:
                    return
                raise RuntimeError("blocking iteration needs end() before iterating")
            try:
                if head.job is not None and head.future is None:  # waiting for admission
                    self._state.admitted.result()
                    continue
                wav = head.future.result() if head.future else None
                if (hold := self._first_hold(wav)) is not None:
                    wait([hold[0]], timeout=hold[1])
            except SynthesisCancelledError:
                return
            yield self._finish(head, wav)

    async def __aenter__(self) -> SynthesisStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def __enter__(self) -> SynthesisStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Cancel what is left and give the stream's place back to the scheduler."""
        if not (self._ended and not self._pending):
            self.token.cancel()
        self._drop_pending()
        self._ended = True
        self._closed = True
        self._leave()

    # ------------------------------------------------------------------ internals

    def _speak(self, items: list[str | Pause]) -> list[str]:
        """Feed normalised text to the splitter; a pause ends the text before it (cut,
        unless it ends a sentence) and queues its silence."""
        released: list[str] = []
        for item in items:
            if isinstance(item, str):
                pieces = self._splitter.push_pieces(item)
            else:
                pieces = self._splitter.flush_pieces()
                if pieces and final_mark(pieces[-1].text, self.options.lang) is not Mark.SENTENCE:
                    pieces[-1] = Piece(pieces[-1].text, Boundary.CUT)
            self._add_all(pieces)
            released += [p.text for p in pieces]
            if isinstance(item, Pause):
                self._pending_add(_Pending("", None, silence=item.seconds))
                self._added += 1
        return released

    def _add_all(self, pieces: list[Piece]) -> None:
        """Queue every good chunk; a bad one is reported after the rest are queued."""
        error: InvalidInputError | None = None
        for piece in pieces:
            try:
                self.add_chunk(piece.text, end=piece.end)
            except InvalidInputError as exc:
                error = error or exc
        if error is not None:
            raise error

    def _pending_add(self, item: _Pending) -> None:
        """Queue a chunk, taking a scheduler place first if the stream has none (this may
        raise CapacityError; the chunk is then not queued)."""
        if self._closed or self.cancelled:
            return
        if self.state is None:
            self.state = self._services.open_place()
        self._pending.append(item)
        self._wake()

    @property
    def _state(self) -> StreamState:
        """The scheduler place, which a stream with queued chunks always has."""
        assert self.state is not None, "a stream with queued chunks has a scheduler place"
        return self.state

    def _drop_pending(self) -> None:
        """Drop the queued chunks and fail the futures of those handed to the scheduler.

        Why: the scheduler fails a cancelled job only at its next pick, after the call in
        progress (seconds on a slow device), and an iteration awaiting the job's future
        would wait that long; a shutdown's grace would run out meanwhile.
        """
        futures = [item.future for item in self._pending if item.future is not None]
        self._pending.clear()
        for future in futures:  # one done already (or settled by the worker just now) stays
            with contextlib.suppress(InvalidStateError):
                future.set_exception(SynthesisCancelledError("synthesis cancelled"))

    def _leave(self) -> None:
        if self.state is not None:
            self._services.close_place(self.state)
            self.state = None

    def _wake(self) -> None:
        self._wakeup.set()

    def _job(self, text: str, index: int, end: Boundary = Boundary.SENTENCE) -> ChunkJob:
        """The synthesis job of the stream's chunk number ``index`` (validates the text)."""
        opts = self.options
        if index == 0 and opts.first_chunk_steps is not None:
            opts = opts.model_copy(update={"steps": min(opts.steps, opts.first_chunk_steps)})
        job = self._services.make_job(
            text, self.style, opts, (opts.seed or 0) + index, cut=end is Boundary.CUT
        )
        job.token = self.token
        job.index = index
        return job

    def _next_ready(self) -> _Pending | None:
        """Submit up to LOOKAHEAD jobs and return the head of the queue, if any.

        Nothing is submitted until the scheduler admits the stream: audio that started
        while the stream waits for a slot would stop again mid-reply.
        """
        if not self._pending or self.cancelled:
            return None
        if self._state.admitted.done():
            ahead: list[ChunkJob] = []  # submitted, not delivered
            position = 0
            while position < len(self._pending) and len(ahead) < LOOKAHEAD:
                item = self._pending[position]
                if item.job is not None:
                    if item.future is None:
                        self._submit(position, ahead)
                    ahead.append(item.job)  # type: ignore[arg-type]
                position += 1
        return self._pending[0]

    def _submit(self, position: int, ahead: list[ChunkJob]) -> None:
        """Fix the extent of the chunk at ``position`` and hand it to the cache or the
        scheduler. ``ahead``: the stream's jobs in flight before it."""
        item = self._pending[position]
        if not self._explicit_seed and self._submitted > 0:
            self._resize(position, ahead)
        assert item.job is not None
        if item.job.index != self._submitted:
            item.job = self._job(item.text, self._submitted, item.end)
        self._submitted += 1
        cache = self._services.phrase_cache
        if cache is not None and len(item.text) <= MAX_PHRASE_CHARS:
            item.key = PhraseKey(
                ids=item.job.ids.tobytes(),
                style=self._style_key,
                speed=item.job.speed,
                steps=item.job.steps,
                seed=item.job.seed if self._explicit_seed else None,
            )
            if (wav := cache.get(item.key)) is not None:
                item.job.duration = len(wav) / self._services.sample_rate
                item.job.stage = Stage.DONE
                item.job.future.set_result(wav)
                item.future, item.key = item.job.future, None
                return
        item.future = self._services.submit(item.job, self._state)

    def _resize(self, position: int, ahead: list[ChunkJob]) -> None:
        """Cut or pack the chunk at ``position`` to what the listener's lead pays for."""
        seconds = self._services.speech_budget(self._state, ahead, self.options.steps)
        if seconds is None:
            return  # costs not measured yet
        if not seconds and self._submitted > 1:
            # A gap comes whatever the size (the device is behind): then the chunk as
            # released wastes least on fixed per-call costs, so the gap is shortest. Right
            # after the first chunk, whose short audio is all the listener will have, the
            # smallest clause is still the shortest wait (see _first_hold).
            return
        per_char = self._services.seconds_per_char()
        chars = min(self._max_chars, max(MIN_SIZED_CHARS, int(seconds / per_char)))
        item = self._pending[position]
        if len(item.text) > chars:
            head, rest = cut_head(item.text, chars)
            if rest:
                end, item.text, item.end = item.end, head, Boundary.CUT
                item.job = self._job(head, self._submitted, Boundary.CUT)
                rest_job = self._job(rest, self._submitted + 1, end)
                self._pending.insert(position + 1, _Pending(rest, rest_job, end=end))
            return
        merged, end = item.text, item.end
        while position + 1 < len(self._pending) and end is not Boundary.PARAGRAPH:
            nxt = self._pending[position + 1]
            if nxt.job is None or len(merged) + 1 + len(nxt.text) > chars:
                break
            space = "" if join_without_space(merged, nxt.text) else " "
            merged, end = f"{merged}{space}{nxt.text}", nxt.end
            del self._pending[position + 1]
        if merged != item.text:
            item.text, item.end = merged, end
            item.job = self._job(merged, self._submitted, end)

    def _first_hold(self, wav: np.ndarray | None) -> tuple[Future[np.ndarray], float] | None:
        """Before the first audio leaves: the next chunk's future and how long to wait for
        it, when it is predicted to be ready only after the first chunk has played out.

        A gap right after the first words is the worst place for one; waiting that long
        instead starts the voice a little later and lets it keep going. Only a gap the
        scheduler predicts is waited for, and never longer than ``FIRST_HOLD_BOUND_S``.
        """
        if self._index > 0 or wav is None or len(self._pending) < 2:
            return None
        nxt = self._pending[1]
        if nxt.job is None or nxt.future is None or nxt.future.done():
            return None
        plays = len(wav) / self._services.sample_rate + self._pending[0].pause(
            self.options.lang, last=False
        )
        short = self._services.ready_in(nxt.job) - plays
        if short <= 0:
            return None
        return nxt.future, min(short, FIRST_HOLD_BOUND_S)

    def _finish(self, item: _Pending, wav: np.ndarray | None) -> AudioChunk:
        self._pending.popleft()
        if item.key is not None and wav is not None and self._services.phrase_cache is not None:
            self._services.phrase_cache.put(item.key, wav)
        rate = self._services.sample_rate
        speech = fade_edges(wav, rate) if wav is not None else np.zeros(0, dtype=np.float32)
        pause = item.pause(self.options.lang, last=self._ended and not self._pending)
        samples = np.concatenate([speech, np.zeros(round(pause * rate), dtype=np.float32)])
        speech_s = len(speech) / rate
        text, words = item.text, []
        if wav is not None:
            words = estimate_word_timings(
                text, speech_s, offset=self._offset, lang=self.options.lang
            )
        if self._normalizer is not None:  # timings and text on what the LLM wrote
            text, words = self._normalizer.align(text, words)
        chunk = AudioChunk(
            samples=samples,
            sample_rate=rate,
            text=text,
            index=self._index,
            offset=self._offset,
            duration=len(samples) / rate,
            speech_duration=speech_s,
            words=tuple(words),
            synthetic=self._services.synthetic,
        )
        self._index += 1
        self._offset += chunk.duration
        self._services.delivered(self._state, chunk.duration)
        return chunk
