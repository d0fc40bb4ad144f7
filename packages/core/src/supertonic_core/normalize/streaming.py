"""Normalise text as it arrives, token by token, with the same result as the whole text.

Why: an LLM streams "$1" then "2.50", "2026-" then "12-01", "[pau" then "se:1s]". Text is
normalised only up to a *safe point*: the end of a plain word followed, on the same line,
by another (letters only, a final mark allowed, not all capitals, no part of an
abbreviation or of a pronunciation key of several words) on a line that is not a heading
or a table row, with no link, code span, code block or tag still open before it. No rule
of the normaliser reaches across such a point, so normalising the text piece by piece
equals normalising it whole. Scripts written without spaces also get safe points after
。！？ between letters.

Languages: ``<lang xml:lang="fr">…</lang>`` gives its text French rules (numbers, words)
and a :class:`~.mapping.Switch` before it and after it, so the chunks after it are French.
With a detector (``lang: auto``), each sentence outside such a span is read in the
language detected for it, or in the stream's language where the detector is not sure;
safe points then fall only at sentence ends, so a sentence is judged whole.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ..languages import LANGUAGES
from ..timing import WordTiming
from .context import Context
from .mapping import Pause, SpokenText, Switch
from .rewrite import rules_for

if TYPE_CHECKING:
    from ..pronunciation import Pronunciations, Respeller

logger = logging.getLogger("supertonic_core")

_TOKEN = re.compile(r"\S+")
_CJK_STOP = "。！？"
#: ``<lang xml:lang="fr-FR">`` (SSML's spelling; ``lang="fr"`` too) and ``</lang>``.
LANG_TAG = re.compile(
    r"<lang\b[^<>]*?\b(?:xml:)?lang\s*=\s*[\"']?(?P<code>[A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*"
    r"[\"']?[^<>]*>|(?P<bare><lang\s*>)|(?P<close></lang\s*>)",
    re.IGNORECASE,
)
#: Where a sentence ends, for per-sentence language detection.
_SENTENCE_END = re.compile(r"[.!?…。！？]+[\"'”’»)\]]*(?=\s|$)|\n")
_SENTENCE_MARKS = ".!?…"

#: A language detector: the language of a sentence when it is sure, else None.
Detector = Callable[[str], "str | None"]


class StreamNormalizer:
    """Feed text with :meth:`push`, end with :meth:`flush`; both return what is now
    certain, in order: spoken text (``str``), :class:`Pause` and :class:`Switch` items.

    Args:
        lang: the language code (number words, units, month names, ...).
        name_emoji: read emoji by name (where the ``emoji`` package knows the language)
            instead of dropping them.
        pronunciations: the request's pronunciation dictionaries.
        detect: per-sentence language detection (``lang: auto``); ``lang`` is the
            language of a sentence it is not sure of.
        rewrite: apply the rules; False only follows the languages (``normalize`` off
            with ``lang: auto``): the text is kept as written.
        languages: those a ``<lang>`` span may switch to (the model's); a span in another
            is read in the language around it.
    """

    def __init__(
        self,
        lang: str,
        *,
        name_emoji: bool = False,
        pronunciations: Pronunciations | None = None,
        detect: Detector | None = None,
        rewrite: bool = True,
        languages: Iterable[str] = tuple(LANGUAGES),
    ) -> None:
        self.lang = lang
        self.languages = frozenset(languages)
        self.rules = rules_for(lang)
        self.pronunciations = pronunciations if pronunciations else None
        self.detect = detect
        self.rewrite = rewrite
        self._spans: list[str] = []  # the languages of the <lang> spans open, innermost last
        self._current = lang  # the language of the text given out last
        self._seen: dict[str, Respeller | None] = {}
        self._parts: frozenset[str] = frozenset()
        self._plains: list[Callable[[str], bool]] = []
        self._respeller(lang)
        self._safe = _SafePoints(self._plain, sentences=detect is not None)
        self.name_emoji = name_emoji
        self.spoken = SpokenText()
        self.source = ""  # everything received, the original the map points into
        self._done = 0  # source consumed so far
        self._cursor = 0  # spoken text already aligned to delivered chunks
        self._reported = 0  # original text already attributed to delivered chunks

    def push(self, delta: str) -> list[str | Pause | Switch]:
        """Add ``delta``; normalise what is now safe."""
        self.source += delta
        cut = self._safe.find(self.source, self._done)
        return self._run(cut) if cut > self._done else []

    def flush(self) -> list[str | Pause | Switch]:
        """Normalise everything received so far."""
        return self._run(len(self.source))

    def whole(self, text: str) -> list[str | Pause | Switch]:
        """Normalise a whole text at once (what :meth:`push` then :meth:`flush` give)."""
        return [*self.push(text), *self.flush()]

    def _run(self, end: int) -> list[str | Pause | Switch]:
        start, spoken_start = self._done, self.spoken.length
        text = self.source[start:end]
        marks: list[tuple[int, Pause | Switch]] = []
        pos = 0
        if self.rewrite and "<" in text:
            for tag in LANG_TAG.finditer(text):
                self._span(text, start, pos, tag.start(), marks)
                self._tag(tag)
                pos = tag.end()
        self._span(text, start, pos, len(text), marks)
        self._done = end
        spoken = self.spoken.text
        items: list[str | Pause | Switch] = []
        pos = spoken_start
        for at, mark in marks:
            if at > pos:
                items.append(spoken[pos:at])
            items.append(mark)
            pos = at
        if self.spoken.length > pos:
            items.append(spoken[pos:])
        return items

    def _tag(self, tag: re.Match[str]) -> None:
        """Open or close a ``<lang>`` span (the tag itself is not spoken)."""
        if tag["close"]:
            if self._spans:
                self._spans.pop()
            return
        code = (tag["code"] or "").lower()
        if code and code not in self.languages:
            logger.warning("<lang> span in a language the model lacks (%r): read in the "
                           "language around it", code)  # fmt: skip
        inner = self._spans[-1] if self._spans else self.lang
        self._spans.append(code if code in self.languages else inner)

    def _span(
        self, text: str, base: int, a: int, b: int, marks: list[tuple[int, Pause | Switch]]
    ) -> None:
        """Normalise ``text[a:b]`` in the language of the span it is in, or sentence by
        sentence in its detected language."""
        if a >= b:
            return
        if self._spans or self.detect is None:
            self._read(text, base, a, b, self._spans[-1] if self._spans else self.lang, marks)
            return
        group_start, group_lang = a, None
        for s_start, s_end in _sentences(text, a, b):
            lang = self.detect(text[s_start:s_end]) if text[s_start:s_end].strip() else None
            lang = lang or self.lang
            if group_lang is not None and lang != group_lang:
                self._read(text, base, group_start, s_start, group_lang, marks)
                group_start = s_start
            group_lang = lang
        self._read(text, base, group_start, b, group_lang or self.lang, marks)

    def _read(
        self,
        text: str,
        base: int,
        a: int,
        b: int,
        lang: str,
        marks: list[tuple[int, Pause | Switch]],
    ) -> None:
        """Normalise ``text[a:b]`` in ``lang``, after a Switch if the language changes."""
        if lang != self._current and text[a:b].strip():
            marks.append((self.spoken.length, Switch(lang)))
            self._current = lang
        if not self.rewrite:
            self.spoken.copy(text[a:b], base + a)
            return
        rules = rules_for(lang)
        ctx = Context(
            lang=lang,
            lex=rules.lex,
            name_emoji=self.name_emoji,
            text=text,
            base=base,
            out=self.spoken,
            rules=rules,
            words=self._respeller(lang),
        )
        rules.run(ctx, a, b)
        marks.extend(ctx.pauses)

    def _respeller(self, lang: str) -> Respeller | None:
        """The dictionaries' respellings in ``lang``; a language seen for the first time
        also adds its abbreviations and keys to what stops a safe point."""
        if lang not in self._seen:
            words = self.pronunciations.respeller(lang) if self.pronunciations else None
            self._seen[lang] = words
            if words is not None:
                self._parts |= words.parts
            self._plains.append(rules_for(lang).plain)
        return self._seen[lang]

    def _plain(self, token: str) -> bool:
        """A word no rule (of any language read so far) nor dictionary key reads together
        with its neighbours."""
        if not all(plain(token) for plain in self._plains):
            return False
        return not self._parts or token.rstrip(".,;:!?").lower() not in self._parts

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


def _sentences(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """``text[a:b]`` cut after each sentence end and line break (the spaces after an end
    go with the sentence before)."""
    spans, start = [], a
    for m in _SENTENCE_END.finditer(text, a, b):
        end = m.end()
        while end < b and text[end] in " \t":
            end += 1
        if end > start:
            spans.append((start, end))
            start = end
    if b > start:
        spans.append((start, b))
    return spans


class _SafePoints:
    """Finds safe points in text that only grows, looking at each character about once:
    what is open (code block, code span, link, tag) is counted incrementally from the last
    safe point, and tokens already judged are not judged again."""

    def __init__(self, plain: Callable[[str], bool], *, sentences: bool = False) -> None:
        self.plain = plain
        self.sentences = sentences  # only after a word that ends a sentence
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
            plain = self.plain
            if self.sentences and tok[0][-1] not in _SENTENCE_MARKS:
                continue
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
