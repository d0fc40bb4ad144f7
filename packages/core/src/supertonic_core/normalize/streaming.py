"""Normalise text as it arrives, token by token, with the same result as the whole text.

Why: an LLM streams "$1" then "2.50", "2026-" then "12-01", "[pau" then "se:1s]". Text is
normalised only up to a *safe point*: the end of a plain word followed, on the same line,
by another (letters only, a final mark allowed, not all capitals, no part of an
abbreviation) on a line that is not a heading or a table row, with no link, code span,
code block or tag still open before it. No rule of the normaliser reaches
across such a point, so normalising the text piece by piece equals normalising it whole.
Scripts written without spaces also get safe points after 。！？ between letters.
"""

from __future__ import annotations

import itertools
import re

from ..timing import WordTiming
from .context import Context
from .mapping import Pause, SpokenText
from .rewrite import Rules, rules_for

_TOKEN = re.compile(r"\S+")
_CJK_STOP = "。！？"


class StreamNormalizer:
    """Feed text with :meth:`push`, end with :meth:`flush`; both return what is now
    certain, in order: spoken text (``str``) and :class:`Pause` items.

    Args:
        lang: the language code (number words, units, month names, ...).
        name_emoji: read emoji by name (where the ``emoji`` package knows the language)
            instead of dropping them.
    """

    def __init__(self, lang: str, *, name_emoji: bool = False) -> None:
        self.rules = rules_for(lang)
        self._safe = _SafePoints(self.rules)
        self.name_emoji = name_emoji
        self.spoken = SpokenText()
        self.source = ""  # everything received, the original the map points into
        self._done = 0  # source consumed so far
        self._cursor = 0  # spoken text already aligned to delivered chunks
        self._reported = 0  # original text already attributed to delivered chunks

    def push(self, delta: str) -> list[str | Pause]:
        """Add ``delta``; normalise what is now safe."""
        self.source += delta
        cut = self._safe.find(self.source, self._done)
        return self._run(cut) if cut > self._done else []

    def flush(self) -> list[str | Pause]:
        """Normalise everything received so far."""
        return self._run(len(self.source))

    def whole(self, text: str) -> list[str | Pause]:
        """Normalise a whole text at once (what :meth:`push` then :meth:`flush` give)."""
        return [*self.push(text), *self.flush()]

    def _run(self, end: int) -> list[str | Pause]:
        start, spoken_start = self._done, self.spoken.length
        ctx = Context(
            lang=self.rules.lang,
            lex=self.rules.lex,
            name_emoji=self.name_emoji,
            text=self.source[start:end],
            base=start,
            out=self.spoken,
            rules=self.rules,
        )
        self.rules.run(ctx, 0, end - start)
        self._done = end
        text = self.spoken.text
        items: list[str | Pause] = []
        pos = spoken_start
        for at, pause in ctx.pauses:
            if at > pos:
                items.append(text[pos:at])
            items.append(pause)
            pos = at
        if self.spoken.length > pos:
            items.append(text[pos:])
        return items

    def align(self, chunk: str, words: list[WordTiming]) -> tuple[str, list[WordTiming]]:
        """The original text of a delivered chunk, and its word timings moved onto the
        original words ("twelve dollars fifty" → one timing for "$12.50").

        Chunks must be aligned in delivery order: each continues where the last ended.
        Original text goes to the first chunk that speaks any of it ("2026-12-01" read
        over two chunks is the first one's word); later chunks keep only what is new.
        """
        spoken = self.spoken.text
        spans = []
        for token in chunk.split():
            at = spoken.find(token, self._cursor)
            if at < 0:
                return chunk, words
            spans.append((at, at + len(token)))
            self._cursor = at + len(token)
        if not spans:
            return chunk, words
        text, end = self._original(spans[0][0], spans[-1][1])
        timings = self._words(spoken, spans[0][0], words)
        self._reported = max(self._reported, end)
        return text, timings

    def _words(self, spoken: str, pos: int, words: list[WordTiming]) -> list[WordTiming]:
        merged: list[tuple[int, int, float, float]] = []
        for w in words:
            at = spoken.find(w.word, pos)
            if at < 0:
                return words
            pos = at + len(w.word)
            a, b = self.spoken.source_span(at, pos)
            if max(a, self._reported) >= b:
                continue  # the rest of a word an earlier chunk already named
            if merged and a < merged[-1][1]:  # the same original word, spoken as several
                pa, pb, start, _, first = merged[-1]
                merged[-1] = (pa, max(pb, b), start, w.end, first)
            else:
                merged.append((a, b, w.start, w.end, at))
        return [
            WordTiming(self._original(first, self.spoken.length, until=b)[0], s, e)
            for _, b, s, e, first in merged
        ]

    def _original(self, start: int, end: int, until: int | None = None) -> tuple[str, int]:
        """The original text spoken as ``[start, end)`` (only up to source offset
        ``until``), less what an earlier chunk named, whitespace collapsed; and where it
        ends in the original."""
        parts, last = [], self._reported
        for a, b in self.spoken.source_pieces(start, end):
            if until is not None and a >= until:
                break
            a, b = max(a, self._reported), b if until is None else min(b, until)
            if a < b:
                parts.append(self.source[a:b])
                last = max(last, b)
        return _collapse("".join(parts)), last


def _collapse(text: str) -> str:
    return " ".join(text.split())


class _SafePoints:
    """Finds safe points in text that only grows, looking at each character about once:
    what is open (code block, code span, link, tag) is counted incrementally from the last
    safe point, and tokens already judged are not judged again."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self._reset(0)

    def _reset(self, start: int) -> None:
        self.start = start  # the last safe point: counts start here
        self.counted = start  # counted up to here
        self.resume = start  # tokens from here on are still to be judged
        self.fences = self.ticks = 0
        self.last = dict.fromkeys(("[", "]", "](", ")", "<", ">"), -1)

    def find(self, source: str, done: int) -> int:
        """The last safe point after ``done`` in ``source``, or ``done``."""
        if done != self.start:
            self._reset(done)
        best = done
        tokens = list(_TOKEN.finditer(source, self.resume))
        for tok, nxt in itertools.pairwise(tokens):
            self.resume = tok.start()
            if "\n" in source[tok.end() : nxt.start()]:
                continue
            plain = self.rules.plain
            if plain(tok[0]) and plain(nxt[0]) and self._closed(source, tok.end()):
                best = tok.end()
        if tokens:
            self.resume = tokens[-1].start()
            stop = max(source.rfind(ch, tokens[-1].start(), len(source) - 1) for ch in _CJK_STOP)
            p = stop + 1
            if stop > tokens[-1].start() and source[stop - 1].isalpha() and source[p].isalpha():
                best = max(best, p if self._closed(source, p) else done)
        return best

    def _closed(self, source: str, end: int) -> bool:
        """No code block, code span, link or tag is open at ``end`` (nor a heading or
        table line: those are normalised whole). ``end`` only grows between calls."""
        text = source[self.counted : end]
        fences = text.count("```")
        self.fences += fences + text.count("~~~")
        self.ticks += text.count("`") - 3 * fences
        for mark in self.last:
            found = text.rfind(mark)
            if found >= 0:
                self.last[mark] = self.counted + found
        self.counted = end
        last = self.last
        if self.fences % 2 or self.ticks % 2:
            return False
        if last["["] > last["]"] or last["]("] > last[")"] or last["<"] > last[">"]:
            return False
        line = source[source.rfind("\n", 0, end) + 1 : end].lstrip()
        return not line.startswith(("#", "|"))
