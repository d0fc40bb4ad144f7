"""A stream's plan: the chunks it will speak, in order, each encoded once.

Text comes in whole or piece by piece (normalised, then split by :mod:`.chunking`). Each
chunk is checked and encoded as it is released, so bad text fails before any audio, and a
pause asked for in the text becomes a chunk of silence. A chunk's extent may still change
when the stream hands it to the scheduler (:meth:`ChunkPlan.fit`): cut to what the
listener's lead pays for, or packed with the chunks after it. Only the new texts that makes
are encoded then.

The plan belongs to its stream: one thread (the stream's) reads and writes it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .audio import pause_after
from .chunking import Boundary, IncrementalSplitter, Piece, cut_head, join_without_space
from .errors import InvalidInputError
from .normalize import Pause, StreamNormalizer
from .punctuation import Mark, final_mark
from .text import is_speakable

if TYPE_CHECKING:
    import numpy as np

    from .frontend import FrontEnd
    from .options import SynthesisOptions
    from .timing import WordTiming


@dataclass(eq=False)
class Planned:
    """One chunk of the plan."""

    text: str
    end: Boundary = Boundary.SENTENCE  # how the text ends: the model's final mark, the pause
    ids: np.ndarray | None = None  # its token ids; None: nothing speakable, only a pause
    silence: float | None = None  # a pause asked for in the text: exactly this, no speech
    future: Future[np.ndarray] | None = None  # its audio, once handed to the scheduler

    def pause(self, lang: str, *, last: bool) -> float:
        """Seconds of silence after this chunk: the pause asked for in the text, else none
        after the last chunk, else by its punctuation in ``lang``; at least 0.2 s with
        nothing spoken."""
        if self.silence is not None:
            return self.silence
        if last:
            return 0.0 if self.ids is not None else 0.2
        pause = pause_after(
            self.text,
            lang=lang,
            paragraph=self.end is Boundary.PARAGRAPH,
            cut=self.end is Boundary.CUT,
        )
        return pause if self.ids is not None else max(pause, 0.2)


class ChunkPlan:
    """The chunks of one stream not delivered yet (:attr:`items`, in order).

    Args:
        front_end: encodes the chunks.
        options: the stream's language, normalisation and emoji choice.
        first_chunk_chars: the first chunk is kept under this length; None: no short first
            chunk.
        accept: called before a chunk joins the plan; False drops it (the stream is closed),
            and what it raises (no place in the scheduler) leaves the chunk out.
    """

    def __init__(
        self,
        front_end: FrontEnd,
        options: SynthesisOptions,
        *,
        first_chunk_chars: int | None,
        accept: Callable[[], bool],
    ) -> None:
        self.items: deque[Planned] = deque()
        self._front_end = front_end
        self._lang = options.lang
        self._accept = accept
        self._splitter = IncrementalSplitter(options.lang, first_chunk_chars=first_chunk_chars)
        self._normalizer = (
            StreamNormalizer(options.lang, name_emoji=options.emoji == "name")
            if options.normalize
            else None
        )

    def add_text(self, delta: str) -> list[str]:
        """Feed a text delta; returns the chunks it released (their end is certain)."""
        if self._normalizer is not None:
            return self._speak(self._normalizer.push(delta))
        return self._add_all(self._splitter.push_pieces(delta))

    def flush(self) -> list[str]:
        """Release whatever text is buffered as chunks now."""
        released = self._speak(self._normalizer.flush()) if self._normalizer is not None else []
        return released + self._add_all(self._splitter.flush_pieces())

    def add_chunk(self, text: str, end: Boundary = Boundary.SENTENCE) -> None:
        """Plan one chunk as is (encoded now: bad text fails here)."""
        text = text.strip()
        if text:
            self._queue(self._planned(text, end))

    def align(self, text: str, words: list[WordTiming]) -> tuple[str, list[WordTiming]]:
        """A chunk's text and word timings on what was written, before normalisation."""
        if self._normalizer is None:
            return text, words
        return self._normalizer.align(text, words)

    def fit(self, position: int, chars: int) -> None:
        """Cut the chunk at ``position`` to at most ``chars`` characters, or pack the chunks
        after it into it up to that length (within a paragraph, as the official does)."""
        item = self.items[position]
        if len(item.text) > chars:
            head, rest = cut_head(item.text, chars)
            if rest:
                self.items[position] = self._planned(head, Boundary.CUT)
                self.items.insert(position + 1, self._planned(rest, item.end))
            return
        merged, end = item.text, item.end
        while position + 1 < len(self.items) and end is not Boundary.PARAGRAPH:
            nxt = self.items[position + 1]
            if nxt.ids is None or len(merged) + 1 + len(nxt.text) > chars:
                break
            space = "" if join_without_space(merged, nxt.text) else " "
            merged, end = f"{merged}{space}{nxt.text}", nxt.end
            del self.items[position + 1]
        if merged != item.text:
            self.items[position] = self._planned(merged, end)

    # ------------------------------------------------------------------ internals

    def _planned(self, text: str, end: Boundary) -> Planned:
        if not is_speakable(text):
            return Planned(text, end)
        return Planned(text, end, self._front_end.encode(text, self._lang, cut=end is Boundary.CUT))

    def _queue(self, item: Planned) -> None:
        if self._accept():
            self.items.append(item)

    def _speak(self, items: list[str | Pause]) -> list[str]:
        """Feed normalised text to the splitter; a pause ends the text before it (cut,
        unless it ends a sentence) and queues its silence."""
        released: list[str] = []
        for item in items:
            if isinstance(item, str):
                released += self._add_all(self._splitter.push_pieces(item))
                continue
            pieces = self._splitter.flush_pieces()
            if pieces and final_mark(pieces[-1].text, self._lang) is not Mark.SENTENCE:
                pieces[-1] = Piece(pieces[-1].text, Boundary.CUT)
            released += self._add_all(pieces)
            self._queue(Planned("", silence=item.seconds))
        return released

    def _add_all(self, pieces: list[Piece]) -> list[str]:
        """Plan every good chunk; a bad one is reported after the rest are planned."""
        error: InvalidInputError | None = None
        for piece in pieces:
            try:
                self.add_chunk(piece.text, piece.end)
            except InvalidInputError as exc:
                error = error or exc
        if error is not None:
            raise error
        return [p.text for p in pieces]
