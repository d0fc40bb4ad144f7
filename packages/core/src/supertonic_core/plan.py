"""A stream's plan: the chunks it will speak, in order, each encoded once.

Text comes in whole or piece by piece (normalised, then split by :mod:`.chunking`). Each
chunk is checked and encoded as it is released, so bad text fails before any audio, and a
pause asked for in the text becomes a chunk of silence. Each chunk has one language: where
the text changes language (a ``<lang>`` span, a sentence detected in another), the text
before ends a chunk, as at a pause. A chunk's extent may still change
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
from .normalize import Pause, Switch
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
    lang: str = ""  # its language (the stream's, a span's or a detected sentence's)

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
        front_end: encodes the chunks and reads the text aloud (its normaliser).
        options: the stream's language, normalisation, dictionaries and emoji choice.
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
        self._lang = options.lang  # of the text the splitter holds
        self._accept = accept
        self._first_chunk_chars = first_chunk_chars
        self._splitter = IncrementalSplitter(options.lang, first_chunk_chars=first_chunk_chars)
        self._normalizer = front_end.normalizer(options)

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
        """Plan ``text`` as one chunk, after the text given so far (encoded now: bad text
        fails here). Normalised, it may become several: a pause asked for in it is
        silence of its own, and each language its own chunk."""
        self.flush()
        if self._normalizer is None:
            self._chunk(text, end)
            return
        items = [*self._normalizer.push(text), *self._normalizer.flush()]
        pieces: list[Piece] = []
        for item in [*items, None]:  # None: the end of the text
            if isinstance(item, str):
                pieces.append(Piece(item, end))
                continue
            spoken = " ".join("".join(p.text for p in pieces).split())
            pieces = []
            inside = item is not None and final_mark(spoken, self._lang) is not Mark.SENTENCE
            self._plan_all([Piece(spoken, Boundary.CUT if inside else end)] if spoken else [])
            if isinstance(item, Pause):
                self._queue(Planned("", silence=item.seconds, lang=self._lang))
            elif isinstance(item, Switch):
                self._switch(item.lang)

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
                self.items[position] = self._planned(head, Boundary.CUT, item.lang)
                self.items.insert(position + 1, self._planned(rest, item.end, item.lang))
            return
        merged, end = item.text, item.end
        while position + 1 < len(self.items) and end is not Boundary.PARAGRAPH:
            nxt = self.items[position + 1]
            if nxt.ids is None or nxt.lang != item.lang or len(merged) + 1 + len(nxt.text) > chars:
                break
            space = "" if join_without_space(merged, nxt.text) else " "
            merged, end = f"{merged}{space}{nxt.text}", nxt.end
            del self.items[position + 1]
        if merged != item.text:
            self.items[position] = self._planned(merged, end, item.lang)

    # ------------------------------------------------------------------ internals

    def _planned(self, text: str, end: Boundary, lang: str) -> Planned:
        if not is_speakable(text):
            return Planned(text, end, lang=lang)
        ids = self._front_end.encode(text, lang, cut=end is Boundary.CUT)
        return Planned(text, end, ids, lang=lang)

    def _chunk(self, text: str, end: Boundary) -> None:
        """Plan one chunk of text in the current language, as is."""
        text = text.strip()
        if text:
            self._queue(self._planned(text, end, self._lang))

    def _queue(self, item: Planned) -> None:
        if self._accept():
            self.items.append(item)
            self._first_chunk_chars = None  # a new splitter (another language) starts as any

    def _speak(self, items: list[str | Pause | Switch]) -> list[str]:
        """Feed normalised text to the splitter; a pause or a change of language ends the
        text before it (cut, unless it ends a sentence); a pause queues its silence."""
        released: list[str] = []
        for item in items:
            if isinstance(item, str):
                released += self._add_all(self._splitter.push_pieces(item))
                continue
            pieces = self._splitter.flush_pieces()
            if pieces and final_mark(pieces[-1].text, self._lang) is not Mark.SENTENCE:
                pieces[-1] = Piece(pieces[-1].text, Boundary.CUT)
            released += self._add_all(pieces)
            if isinstance(item, Pause):
                self._queue(Planned("", silence=item.seconds, lang=self._lang))
            else:
                self._switch(item.lang)
        return released

    def _switch(self, lang: str) -> None:
        """The text from here on is in ``lang`` (the splitter holds none: it was flushed)."""
        if lang != self._lang:
            self._lang = lang
            self._splitter = IncrementalSplitter(lang, first_chunk_chars=self._first_chunk_chars)

    def _add_all(self, pieces: list[Piece]) -> list[str]:
        """Plan every good chunk; a bad one is reported after the rest are planned."""
        self._plan_all(pieces)
        return [p.text for p in pieces]

    def _plan_all(self, pieces: list[Piece]) -> None:
        error: InvalidInputError | None = None
        for piece in pieces:
            try:
                self._chunk(piece.text, piece.end)
            except InvalidInputError as exc:
                error = error or exc
        if error is not None:
            raise error
