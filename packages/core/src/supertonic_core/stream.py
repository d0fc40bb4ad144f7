"""One request's audio stream: text in, timed audio chunks out, in order.

Text can be added all at once or piece by piece (LLM deltas); the stream's
:class:`~.plan.ChunkPlan` turns it into chunks. A bounded number of chunks is in flight, so
the next chunk is synthesized while the previous one plays, without queueing a whole book
ahead. Each chunk leaves with a short fade and a pause sized by its punctuation, so joins
never click, and with its text, offset, duration and estimated word timings (exact at chunk
edges).

The stream plans; the scheduler runs. For each chunk the stream decides the extent, the
steps and the seed, hands the scheduler an immutable :class:`~.chunk_request.ChunkRequest`
and gets a future of the waveform back; it never touches a job's state.

Chunks after the first are sized by the lead: when a chunk is handed to the scheduler, its
extent is chosen so that its predicted compute fits in the audio buffered ahead of the
listener. While the lead is thin that is a clause; as it grows, whole sentences, then
several sentences packed up to the model's limit (300 characters, 120 for Korean and
Japanese), which the official pipeline does too: longer chunks read with better prosody
and cost fewer calls per second of audio. The first audio leaves once the second chunk
is predicted to be ready before the first has played out (waiting at most
``FIRST_HOLD_BOUND_S``): a slightly later start rather than a gap after the first words,
which under load is where gaps fell. A seed fixes each chunk's starting noise (the seed
plus the chunk's index), not where the chunks are cut: that follows the lead, which depends
on the machine and its load.

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
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future, InvalidStateError, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .audio import fade_edges, to_int16
from .chunk_request import CancelToken, ChunkRequest, Place
from .chunking import Boundary, default_max_chars
from .errors import SynthesisCancelledError
from .plan import ChunkPlan, Planned
from .timing import WordTiming, estimate_word_timings

if TYPE_CHECKING:
    from .frontend import FrontEnd
    from .options import SynthesisOptions
    from .scheduler import Scheduler

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


class SynthesisStream:
    """Push text with :meth:`add_text` / :meth:`add_chunk`, call :meth:`end`, iterate chunks.

    Iterate with ``async for`` (or plain ``for`` in blocking code). :meth:`cancel` stops the
    synthesis at the next denoising step and ends the iteration quietly.

    Args:
        scheduler: runs the chunks.
        front_end: encodes them and resolves the voice.
        options: how the stream is spoken.
        first_chunk_chars: the first chunk is kept under this length (time to first audio);
            None: no short first chunk.
        synthetic: the model has random weights (said on every chunk).
    """

    def __init__(
        self,
        scheduler: Scheduler,
        front_end: FrontEnd,
        options: SynthesisOptions,
        *,
        first_chunk_chars: int | None,
        synthetic: bool = False,
    ) -> None:
        self._scheduler = scheduler
        self.options = options
        self.style = front_end.style(options.voice)
        self.token = CancelToken()
        self._plan = ChunkPlan(
            front_end, options, first_chunk_chars=first_chunk_chars, accept=self._accept
        )
        self._synthetic = synthetic
        self._ended = False
        self._index = 0  # chunks delivered
        self._submitted = 0  # chunks handed to the scheduler
        self._offset = 0.0
        self._wakeup = asyncio.Event()
        self._closed = False
        self.place: Place | None = None  # the scheduler place, taken by the first chunk

    # ------------------------------------------------------------------ input

    def add_text(self, delta: str) -> list[str]:
        """Feed a text delta; returns the chunks it released (their end is certain)."""
        return self._plan.add_text(delta)

    def flush(self) -> list[str]:
        """Release whatever text is buffered as chunks now, without ending the stream."""
        return self._plan.flush()

    def add_chunk(self, text: str, *, end: Boundary = Boundary.SENTENCE) -> None:
        """Queue one chunk as is (validated now, so bad text fails before any audio).

        ``end``: how the chunk ends (a sentence, a paragraph, or cut inside a sentence).
        """
        self._plan.add_chunk(text, end)

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
        if self._plan.items or self.place is None:
            return False
        self._leave()
        return True

    @property
    def sample_rate(self) -> int:
        """Samples per second of the stream's audio."""
        return self._scheduler.sample_rate

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled

    @property
    def queued_chunks(self) -> int:
        """Chunks queued and not yet delivered."""
        return len(self._plan.items)

    def planned_seconds(self) -> float:
        """Seconds of audio the chunks queued now will make, from the duration predictor
        alone (nothing is synthesized): their speech and the pauses after them.

        Why: :meth:`Engine.predict_duration` times text exactly as a stream splits,
        normalises and pauses it, by asking a stream that is never iterated.
        """
        items = list(self._plan.items)
        opts = self.options
        requests = [
            ChunkRequest(item.ids, self.style, opts.speed, opts.steps)
            for item in items
            if item.ids is not None
        ]
        speech = self._scheduler.predict_seconds(requests) if requests else []
        last = len(items) - 1
        return sum(speech) + sum(
            item.pause(item.lang, last=i == last and self._ended) for i, item in enumerate(items)
        )

    # ------------------------------------------------------------------ output

    async def __aiter__(self) -> AsyncIterator[AudioChunk]:
        while True:
            head = self._next_ready()
            if head is None:
                if (self._ended and not self._plan.items) or self.cancelled:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            try:
                if head.ids is not None and head.future is None:  # waiting for admission
                    await asyncio.wrap_future(self._place.admitted)
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
                if (self._ended and not self._plan.items) or self.cancelled:
                    return
                raise RuntimeError("blocking iteration needs end() before iterating")
            try:
                if head.ids is not None and head.future is None:  # waiting for admission
                    self._place.admitted.result()
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
        if not (self._ended and not self._plan.items):
            self.token.cancel()
        self._drop_pending()
        self._ended = True
        self._closed = True
        self._leave()

    # ------------------------------------------------------------------ internals

    def _accept(self) -> bool:
        """Before a chunk is queued: take a scheduler place if the stream has none (this may
        raise CapacityError; the chunk is then not queued). False once closed."""
        if self._closed or self.cancelled:
            return False
        if self.place is None:
            self.place = self._scheduler.open_stream()
        self._wake()
        return True

    @property
    def _place(self) -> Place:
        """The scheduler place, which a stream with queued chunks always has."""
        assert self.place is not None, "a stream with queued chunks has a scheduler place"
        return self.place

    def _drop_pending(self) -> None:
        """Drop the queued chunks and fail the futures of those handed to the scheduler.

        Why: the scheduler fails a cancelled job only at its next pick, after the call in
        progress (seconds on a slow device), and an iteration awaiting the job's future
        would wait that long; a shutdown's grace would run out meanwhile.
        """
        futures = [item.future for item in self._plan.items if item.future is not None]
        self._plan.items.clear()
        for future in futures:  # one done already (or settled by the worker just now) stays
            with contextlib.suppress(InvalidStateError):
                future.set_exception(SynthesisCancelledError("synthesis cancelled"))

    def _leave(self) -> None:
        if self.place is not None:
            self._scheduler.close_stream(self.place)
            self.place = None

    def _wake(self) -> None:
        self._wakeup.set()

    def _next_ready(self) -> Planned | None:
        """Submit up to LOOKAHEAD chunks and return the head of the queue, if any.

        Nothing is submitted until the scheduler admits the stream: audio that started
        while the stream waits for a slot would stop again mid-reply.
        """
        items = self._plan.items
        if not items or self.cancelled:
            return None
        if self._place.admitted.done():
            ahead: list[Future[np.ndarray]] = []  # submitted, not delivered
            position = 0
            while position < len(items) and len(ahead) < LOOKAHEAD:
                if items[position].ids is not None:
                    if items[position].future is None:
                        self._submit(position, ahead)
                    ahead.append(items[position].future)  # type: ignore[arg-type]
                position += 1
        return items[0]

    def _submit(self, position: int, ahead: list[Future[np.ndarray]]) -> None:
        """Fix the extent of the chunk at ``position`` and hand it to the scheduler.
        ``ahead``: the stream's chunks in flight before it."""
        if self._submitted > 0:
            self._size(position, ahead)
        item = self._plan.items[position]
        assert item.ids is not None
        opts, index = self.options, self._submitted
        steps = opts.steps
        if index == 0 and opts.first_chunk_steps is not None:
            steps = min(steps, opts.first_chunk_steps)
        request = ChunkRequest(
            item.ids,
            self.style,
            opts.speed,
            steps,
            seed=None if opts.seed is None else opts.seed + index,
            stream=self._place.id,
            index=index,
            token=self.token,
        )
        self._submitted += 1
        item.future = self._scheduler.submit(request)

    def _size(self, position: int, ahead: list[Future[np.ndarray]]) -> None:
        """Cut or pack the chunk at ``position`` to what the listener's lead pays for."""
        seconds = self._scheduler.speech_budget(self._place, ahead, self.options.steps)
        if seconds is None:
            return  # costs not measured yet
        if not seconds and self._submitted > 1:
            # A gap comes whatever the size (the device is behind): then the chunk as
            # released wastes least on fixed per-call costs, so the gap is shortest. Right
            # after the first chunk, whose short audio is all the listener will have, the
            # smallest clause is still the shortest wait (see _first_hold).
            return
        per_char = self._scheduler.seconds_per_symbol
        most = default_max_chars(self._plan.items[position].lang)
        self._plan.fit(position, min(most, max(MIN_SIZED_CHARS, int(seconds / per_char))))

    def _first_hold(self, wav: np.ndarray | None) -> tuple[Future[np.ndarray], float] | None:
        """Before the first audio leaves: the next chunk's future and how long to wait for
        it, when it is predicted to be ready only after the first chunk has played out.

        A gap right after the first words is the worst place for one; waiting that long
        instead starts the voice a little later and lets it keep going. Only a gap the
        scheduler predicts is waited for, and never longer than ``FIRST_HOLD_BOUND_S``.
        """
        items = self._plan.items
        if self._index > 0 or wav is None or len(items) < 2:
            return None
        nxt = items[1].future
        if nxt is None or nxt.done():
            return None
        plays = len(wav) / self.sample_rate + items[0].pause(items[0].lang, last=False)
        short = self._scheduler.ready_in(nxt) - plays
        if short <= 0:
            return None
        return nxt, min(short, FIRST_HOLD_BOUND_S)

    def _finish(self, item: Planned, wav: np.ndarray | None) -> AudioChunk:
        self._plan.items.popleft()
        rate = self.sample_rate
        speech = fade_edges(wav, rate) if wav is not None else np.zeros(0, dtype=np.float32)
        pause = item.pause(item.lang, last=self._ended and not self._plan.items)
        samples = np.concatenate([speech, np.zeros(round(pause * rate), dtype=np.float32)])
        speech_s = len(speech) / rate
        words: list[WordTiming] = []
        if wav is not None:
            words = estimate_word_timings(item.text, speech_s, offset=self._offset, lang=item.lang)
        text, words = self._plan.align(item.text, words)  # on what the LLM wrote
        chunk = AudioChunk(
            samples=samples,
            sample_rate=rate,
            text=text,
            index=self._index,
            offset=self._offset,
            duration=len(samples) / rate,
            speech_duration=speech_s,
            words=tuple(words),
            synthetic=self._synthetic,
        )
        self._index += 1
        self._offset += chunk.duration
        self._scheduler.delivered(self._place, chunk.duration)
        return chunk
