"""Spoken text built piece by piece, with a map from every spoken character back to the
original text.

Why: word timings, captions and barge-in truncation must refer to what the user's LLM
wrote ("$12.50"), not to what the model was asked to say ("twelve dollars fifty cents").
Every rewrite appends its output with the span of the original it came from; text copied
as is keeps a character-exact map, a rewritten span maps as a whole.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pause:
    """Silence asked for in the text (``[pause:500ms]``, ``<break time="1s"/>``)."""

    seconds: float
    source: tuple[int, int]  # the tag's span in the original text


@dataclass(frozen=True, slots=True)
class Switch:
    """The text after this is in ``lang`` (a ``<lang xml:lang="fr">`` span, its end, or a
    sentence whose language was detected): a chunk never holds two languages."""

    lang: str


class SpokenText:
    """Append-only spoken text with its source map.

    Segments are ``(spoken_start, source_start, source_end, exact)``: an exact segment was
    copied, so its characters map one to one; any other maps every character to its
    whole source span.
    """

    __slots__ = ("_parts", "_segments", "_starts", "length")

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._segments: list[tuple[int, int, int, bool]] = []
        self._starts: list[int] = []
        self.length = 0

    @property
    def text(self) -> str:
        """Everything spoken so far."""
        if len(self._parts) > 1:
            self._parts[:] = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def copy(self, text: str, source_start: int) -> None:
        """Append ``text``, which stands as is at ``source_start`` in the original."""
        self._add(text, source_start, source_start + len(text), exact=True)

    def replace(self, text: str, source_start: int, source_end: int) -> None:
        """Append ``text``, spoken for the original span ``[source_start, source_end)``."""
        self._add(text, source_start, source_end, exact=False)

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The original span that the spoken characters ``[start, end)`` came from."""
        first = self._locate(start)
        last = self._locate(max(start, end - 1))
        return self._source_at(first, start)[0], self._source_at(last, max(start, end - 1))[1]

    def source_pieces(self, start: int, end: int) -> list[tuple[int, int]]:
        """The original spans the spoken characters ``[start, end)`` came from, in order,
        without what was dropped between them (markup, a link's URL)."""
        pieces: list[tuple[int, int]] = []
        for i in range(self._locate(start), len(self._segments)):
            seg_start, src_a, src_b, exact = self._segments[i]
            if seg_start >= end:
                break
            if exact:
                seg_end = self._starts[i + 1] if i + 1 < len(self._starts) else self.length
                lo, hi = max(start, seg_start), min(end, seg_end)
                src_a, src_b = src_a + lo - seg_start, src_a + hi - seg_start
            if pieces and src_a <= pieces[-1][1]:
                pieces[-1] = (pieces[-1][0], max(pieces[-1][1], src_b))
            else:
                pieces.append((src_a, src_b))
        return pieces

    def _locate(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self._starts, pos) - 1)

    def _source_at(self, index: int, pos: int) -> tuple[int, int]:
        start, src_a, src_b, exact = self._segments[index]
        if exact:
            at = min(src_a + pos - start, max(src_a, src_b - 1))
            return at, at + 1
        return src_a, src_b

    def _add(self, text: str, src_a: int, src_b: int, *, exact: bool) -> None:
        if not text:
            return
        if self._segments and exact:
            start, a, b, was_exact = self._segments[-1]
            if was_exact and b == src_a:  # contiguous copy: one segment
                self._segments[-1] = (start, a, src_b, True)
                self._parts.append(text)
                self.length += len(text)
                return
        self._segments.append((self.length, src_a, src_b, exact))
        self._starts.append(self.length)
        self._parts.append(text)
        self.length += len(text)
