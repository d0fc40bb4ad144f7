"""One request's audio stream: chunk texts in, timed audio chunks out, in order.

Text can be added all at once or piece by piece (LLM deltas, through the incremental
splitter); a bounded number of chunks is in flight, so the next chunk is synthesized while
the previous one plays, without queueing a whole book ahead. Each chunk leaves with a
short fade and a pause sized by its punctuation, so joins never click, and with its text,
offset, duration and estimated word timings (exact at chunk edges).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .audio import fade_edges, pause_after, to_int16
from .chunking import IncrementalSplitter
from .errors import InvalidInputError, SynthesisCancelledError
from .synthesis import CancelToken, ChunkJob
from .text import is_speakable
from .timing import WordTiming, estimate_word_timings

if TYPE_CHECKING:
    from .engine import Engine, SynthesisOptions

logger = logging.getLogger("supertonic_core")
LOOKAHEAD = 2


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
    future: Future[np.ndarray] | None = None


class SynthesisStream:
    """Push text with :meth:`add_text` / :meth:`add_chunk`, call :meth:`end`, iterate chunks.

    Iterate with ``async for`` (or plain ``for`` in blocking code). :meth:`cancel` stops the
    synthesis at the next denoising step and ends the iteration quietly.
    """

    def __init__(
        self, engine: Engine, options: SynthesisOptions, *, first_chunk_chars: int | None
    ) -> None:
        self.engine = engine
        self.options = options
        self.style = engine.style(options.voice)
        self.token = CancelToken()
        self._splitter = IncrementalSplitter(options.lang, first_chunk_chars=first_chunk_chars)
        self._pending: deque[_Pending] = deque()
        self._ended = False
        self._index = 0  # chunks delivered
        self._added = 0  # chunks queued
        self._offset = 0.0
        self._wakeup = asyncio.Event()
        self.state = engine.scheduler.open_stream()

    # ------------------------------------------------------------------ input

    def add_text(self, delta: str) -> list[str]:
        """Feed a text delta; returns the chunks it released (their end is certain)."""
        chunks = self._splitter.push(delta)
        self._add_all(chunks)
        return chunks

    def flush(self) -> list[str]:
        """Release whatever text is buffered as chunks now, without ending the stream."""
        chunks = self._splitter.flush()
        self._add_all(chunks)
        return chunks

    def add_chunk(self, text: str) -> None:
        """Queue one chunk as is (validated now, so bad text fails before any audio)."""
        text = text.strip()
        if not text:
            return
        if is_speakable(text):
            seed = (self.options.seed or 0) + self._added
            job = self.engine.make_job(text, self.style, self.options, seed)
            job.token = self.token
            job.index = self._added
            self._pending_add(_Pending(text, job))
        else:
            self._pending_add(_Pending(text, None))
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
        self._pending.clear()
        self._ended = True
        self.engine.scheduler.close_stream(self.state)
        self._wake()

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled

    @property
    def queued_chunks(self) -> int:
        """Chunks queued and not yet delivered."""
        return len(self._pending)

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
                    await asyncio.wrap_future(self.state.admitted)
                    continue
                wav = await asyncio.wrap_future(head.future) if head.future else None
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
                    self.state.admitted.result()
                    continue
                wav = head.future.result() if head.future else None
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
        self._pending.clear()
        self._ended = True
        self.engine.scheduler.close_stream(self.state)

    # ------------------------------------------------------------------ internals

    def _add_all(self, chunks: list[str]) -> None:
        """Queue every good chunk; a bad one is reported after the rest are queued."""
        error: InvalidInputError | None = None
        for chunk in chunks:
            try:
                self.add_chunk(chunk)
            except InvalidInputError as exc:
                error = error or exc
        if error is not None:
            raise error

    def _pending_add(self, item: _Pending) -> None:
        self._pending.append(item)
        self._wake()

    def _wake(self) -> None:
        self._wakeup.set()

    def _next_ready(self) -> _Pending | None:
        """Submit up to LOOKAHEAD jobs and return the head of the queue, if any.

        Nothing is submitted until the scheduler admits the stream: audio that started
        while the stream waits for a slot would stop again mid-reply.
        """
        if not self._pending or self.cancelled:
            return None
        if self.state.admitted.done():
            submitted = 0
            for item in self._pending:
                if submitted >= LOOKAHEAD:
                    break
                if item.job is not None:
                    if item.future is None:
                        item.future = self.engine.scheduler.submit(item.job, self.state)
                    submitted += 1
        return self._pending[0]

    def _finish(self, item: _Pending, wav: np.ndarray | None) -> AudioChunk:
        self._pending.popleft()
        rate = self.engine.sample_rate
        speech = fade_edges(wav, rate) if wav is not None else np.zeros(0, dtype=np.float32)
        last = self._ended and not self._pending
        pause = 0.0 if last else pause_after(item.text)
        if wav is None:
            pause = max(pause, 0.2)
        samples = np.concatenate([speech, np.zeros(round(pause * rate), dtype=np.float32)])
        speech_s = len(speech) / rate
        chunk = AudioChunk(
            samples=samples,
            sample_rate=rate,
            text=item.text,
            index=self._index,
            offset=self._offset,
            duration=len(samples) / rate,
            speech_duration=speech_s,
            words=tuple(
                estimate_word_timings(
                    item.text, speech_s, offset=self._offset, lang=self.options.lang
                )
            )
            if wav is not None
            else (),
            synthetic=self.engine.synthetic is not None,
        )
        self._index += 1
        self._offset += chunk.duration
        self.state.delivered(chunk.duration)
        return chunk
