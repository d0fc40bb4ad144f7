"""Estimated word timings for a synthesized chunk.

Why: voice agents need word timestamps (captions, barge-in truncation of the transcript),
but the model gives only a duration per chunk. Spreading that duration over the chunk's
words by a rough spoken weight is accurate enough for those uses, and exact at chunk edges.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from .chunking import _is_continuous
from .errors import InvalidOptionError
from .languages import check_language
from .punctuation import CLOSERS, NO_BREAK_BEFORE, OPENERS, Mark, final_mark
from .text import TAG_RE

#: Weight of the pause after a word, by how it ends (a letter weighs 1): after . ! ? and
#: the other sentence ends, after , ; : and dashes (see :mod:`.punctuation`).
_PAUSE_WEIGHTS = {Mark.SENTENCE: 4.0, Mark.CLAUSE: 2.0, None: 0.0}
_TAG_WEIGHT = 6.0  # an expression tag such as <laugh>


@dataclass(frozen=True, slots=True)
class WordTiming:
    """One word of a chunk, with its punctuation, and when it is spoken (seconds)."""

    word: str
    start: float
    end: float


def estimate_word_timings(
    text: str, duration: float, *, offset: float = 0.0, lang: str = "en"
) -> list[WordTiming]:
    """Spread ``duration`` seconds over the words of ``text``, starting at ``offset``.

    Words are split on whitespace, and per character in scripts written without spaces
    (CJK, kana). Each word weighs by its letters (digits and symbols more, since they are
    read out as words), plus a pause after , or . that goes into the gap before the next
    word. The first word starts at ``offset`` and the last ends at ``offset + duration``.
    """
    check_language(lang)
    if not _is_finite(duration) or duration < 0:
        raise InvalidOptionError("duration", duration, "a finite number of seconds >= 0")
    if not _is_finite(offset):
        raise InvalidOptionError("offset", offset, "a finite number of seconds")
    words = split_words(text)
    if not words:
        return []
    weights = [(_speech_weight(w), _PAUSE_WEIGHTS[final_mark(w, lang)]) for w in words]
    total = sum(s + p for s, p in weights) - weights[-1][1]
    timings: list[WordTiming] = []
    elapsed = 0.0
    for word, (speech, pause) in zip(words, weights, strict=True):
        start = offset + duration * elapsed / total
        elapsed += speech
        timings.append(WordTiming(word, start, offset + duration * elapsed / total))
        elapsed += pause
    last = timings[-1]
    timings[-1] = WordTiming(last.word, last.start, offset + duration)
    return timings


def split_words(text: str) -> list[str]:
    """The chunk's words with their punctuation; CJK and kana one character each."""
    words: list[str] = []
    for token in text.split():
        if TAG_RE.fullmatch(token) or not any(_is_continuous(ch) for ch in token):
            words.append(token)
        else:
            words.extend(_split_continuous(token))
    return words


def _split_continuous(token: str) -> list[str]:
    """Split a spaceless token: each CJK/kana character starts a word, other letters run
    together, punctuation stays with its neighbour (openers with the next character)."""
    pieces: list[str] = []
    current = opening = ""
    for ch in token:
        if opening or not current:
            if ch in OPENERS or _attaches_left(ch):
                opening += ch
                continue
        elif ch in OPENERS:
            opening = ch
            continue
        elif _attaches_left(ch) or _joins_run(current[-1], ch):
            current += ch
            continue
        if current:
            pieces.append(current)
        current, opening = opening + ch, ""
    if current or opening:
        pieces.append(current + opening)
    return pieces


def _attaches_left(ch: str) -> bool:
    if ch in NO_BREAK_BEFORE or ch in CLOSERS:
        return True
    return unicodedata.category(ch)[0] in "MP"


def _joins_run(prev: str, ch: str) -> bool:
    """Letters and digits of spaced scripts (a Latin word inside Japanese) stay together."""
    return not _is_continuous(prev) and not _is_continuous(ch) and prev.isalnum()


def _speech_weight(word: str) -> float:
    if TAG_RE.fullmatch(word):
        return _TAG_WEIGHT
    weight = sum(_char_weight(ch) for ch in word)
    return max(weight, 0.5)


def _char_weight(ch: str) -> float:
    o = ord(ch)
    if 0xAC00 <= o <= 0xD7A3:  # a Hangul syllable is two or three sounds
        return 2.5
    if 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or o >= 0x20000:
        return 3.0  # a CJK ideograph is a syllable or two
    if 0x3040 <= o <= 0x30FF:
        return 1.5  # a kana is one mora
    kind = unicodedata.category(ch)[0]
    if kind == "L":
        return 1.0
    if kind == "N" or kind == "S":
        return 2.0  # "42", "%", "$" are read out as words
    if kind == "M":
        return 0.5  # vowel signs and accents
    return 0.0


def _is_finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True, slots=True)
class SymbolTiming:
    """One character of a chunk, or ``""`` for silence, and when it sounds (seconds)."""

    symbol: str
    start: float
    duration: float


def estimate_character_timings(
    words: Sequence[WordTiming], *, start: float, end: float
) -> list[SymbolTiming]:
    """Spread each word's span over its characters, and mark the silences with ``""``.

    Why: APIs that promise phoneme timings (Supertone's ``include_phonemes``) can get the
    closest thing the model allows: it reads characters and has no phonemes, so each
    character stands for its sounds, timed by the same weights as the word estimates.
    Punctuation takes no time of its own. The symbols cover ``start``..``end`` without a
    gap, the gaps between words and the pause after the last word being ``""`` entries.
    """
    out: list[SymbolTiming] = []
    cursor = start
    for word in words:
        if word.start > cursor:
            out.append(SymbolTiming("", cursor, word.start - cursor))
        weights = [(ch, _char_weight(ch)) for ch in word.word]
        total = sum(w for _, w in weights)
        if total <= 0:  # a word of symbols only, or a tag: one symbol for all of it
            weights, total = [(word.word, 1.0)], 1.0
        span, elapsed = word.end - word.start, 0.0
        for ch, weight in weights:
            if weight > 0:
                out.append(
                    SymbolTiming(ch, word.start + span * elapsed / total, span * weight / total)
                )
                elapsed += weight
        cursor = max(cursor, word.end)
    if end > cursor:
        out.append(SymbolTiming("", cursor, end - cursor))
    return out
