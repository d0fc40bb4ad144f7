"""Split text into chunks the model speaks well, whole or as an LLM streams it.

Why: long chunks drift and tiny ones sound clipped, and in a voice agent the first chunk's
length sets the time to first audio. One sentence per chunk (very short ones joined to the
next), clauses then words for over-long sentences, and an optional short first chunk.
:func:`split_text` and :class:`IncrementalSplitter` run the same state machine, which only
decides a boundary once the text after it proves it, so streaming an answer token by token
yields the same chunks as splitting it whole. Chunks keep the original text, whitespace
collapsed; normalisation happens later, per chunk. Each chunk also says how it ends
(:class:`Boundary`): at a sentence, at a paragraph (a blank line, lost once whitespace is
collapsed), or cut inside a sentence, which the model must not speak as a sentence end.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from .errors import InvalidOptionError
from .languages import check_language
from .punctuation import (
    CJK_CLAUSE,
    CLAUSE_MARKS,
    CLOSERS,
    DASHES,
    NO_BREAK_BEFORE,
    OPENERS,
    STRONG_ENDS,
    sentence_ends,
)

DEFAULT_MAX_CHARS = 300
#: Scripts that carry more speech per character get shorter chunks (the reference uses 120
#: for Korean).
LANGUAGE_MAX_CHARS = {"ko": 120, "ja": 120}
#: Sentences shorter than this ("Yes.", "OK,") are joined to the next one when it fits. CJK
#: and Hangul characters count 2.5 here, since each carries a syllable or more.
MIN_FRAGMENT = 12

_SENTENCE, _PARAGRAPH, _EOF, _OPEN = range(4)

_LIST_MARKER = re.compile(r"(?:[-*•+]|\d{1,3}[.)])\s|#")
_LIST_PREFIX = re.compile(r"[-*•+]|\d{1,3}[.)]?")
_WORD = re.compile(r"\S+")
#: A word after which a long sentence may be cut: a clause mark, a sentence mark that did
#: not end the sentence ('"Stop!" she said', "I think... maybe"), a dash.
_CLAUSE_END = re.compile(
    rf"(?:[{re.escape(CLAUSE_MARKS)}]|[!?…]+|\.{{2,}}|^-+|[{re.escape(DASHES)}])"
    rf"[{re.escape(CLOSERS)}]*$"
)
_MAYBE_CONTINUOUS = re.compile(
    r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3000-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0002ffff]"
)
_WIDE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uf900-\ufaff]")
#: French closing guillemets sit after a no-break space and belong to what precedes them.
_SPACED_CLOSER = "[\u00a0\u202f]+[»›]"


def _wordset(*lines: str) -> frozenset[str]:
    return frozenset(" ".join(lines).split())


# Words before a period that does NOT end the sentence (lower case, without the final dot).
_NEVER_COMMON = _wordset(
    "mr mrs ms mx dr prof st sr sra srta dra vs cf e.g i.e approx dept gen gov lt col capt sgt "
    "rev hon mt pres rep supt insp messrs mme mlle hr fr ing dipl dott sig ca viz al z.b d.h "
    "u.a bzw evtl ggf inkl vgl sog p.ex p.ej ud uds vd bd ste dhr mevr bijv d.w.z m.a.w t.ex "
    "bl.a dvs f.eks esim ns tri np tzw ul mgr inż św např tzn tj npr tzv т.е т.к напр им ул "
    "проф акад г-н г-жа π.χ δηλ örn bkz yth bpk sdr jl tp gs ts ths pgs pvz t.y piem dl "
    "डॉ",
)
# Words before a period that ends the sentence only when a capital letter follows.
_MAYBE_COMMON = _wordset(
    "etc inc ltd co corp jr llc plc bros usw enz ecc atd itd itp apod osv jne ym stb dll dsb "
    "vb kt utt u.c т.д т.п др гг млн млрд тыс κλπ",
)
# Words before a period that ends the sentence unless a digit follows ("No. 5", "Fig. 3").
_BEFORE_NUMBER = _wordset(
    "no nr fig figs vol vols p pp art arts ch chap sec eq tab tel núm n.º kl klo godz hlm lk "
    "str min max č br",
)
#: Languages that write ordinal numbers with a period ("am 3. Oktober").
_ORDINAL_DOT = frozenset({"de", "da", "fi", "cs", "sk", "sl", "hr", "et", "hu", "lv", "tr", "pl"})


@dataclass(frozen=True, slots=True)
class _Sentence:
    end: int  # index just past its last character (a lower bound while _OPEN)
    kind: int  # _SENTENCE, _PARAGRAPH (a blank line follows), _EOF, or _OPEN (not decided yet)


@dataclass(frozen=True, slots=True)
class _Cut:
    head_end: int  # the head is buf[start:head_end]
    tail_start: int  # the rest starts here
    size: int  # length of the head with whitespace collapsed
    clause: bool  # the head ends at a clause mark


_NO_CUT = _Cut(-1, -1, -1, False)


class Boundary(enum.Enum):
    """How a chunk ends; it decides the model's final mark and the pause after the chunk."""

    SENTENCE = "sentence"
    PARAGRAPH = "paragraph"  # a blank line follows
    CUT = "cut"  # inside a sentence: the short first chunk, a clause of a long sentence


@dataclass(frozen=True, slots=True)
class Piece:
    """A chunk's text and how it ends."""

    text: str
    end: Boundary


def default_max_chars(lang: str) -> int:
    """Default chunk length for ``lang``: 300 characters, 120 for Korean and Japanese."""
    return LANGUAGE_MAX_CHARS.get(lang, DEFAULT_MAX_CHARS)


def split_text(
    text: str,
    lang: str = "en",
    *,
    max_chars: int | None = None,
    first_chunk_chars: int | None = None,
) -> list[str]:
    """Split ``text`` into chunks: paragraphs, sentences, then clauses and words if too long.

    Args:
        text: the original text; chunks keep it as written, whitespace collapsed.
        lang: language code (see ``LANGUAGES``); sets abbreviations and the default length.
        max_chars: longest chunk, default 300 (120 for ``ko``/``ja``); only a single word
            longer than this is cut inside.
        first_chunk_chars: if set, the first chunk is cut to about this length at a clause or
            word boundary, so the first audio of a stream starts sooner.
    """
    return [
        p.text
        for p in split_pieces(text, lang, max_chars=max_chars, first_chunk_chars=first_chunk_chars)
    ]


def split_pieces(
    text: str,
    lang: str = "en",
    *,
    max_chars: int | None = None,
    first_chunk_chars: int | None = None,
) -> list[Piece]:
    """:func:`split_text`, each chunk with how it ends (:class:`Boundary`)."""
    return _Machine(lang, max_chars, first_chunk_chars).feed(text, final=True)


def cut_head(text: str, chars: int) -> tuple[str, str]:
    """Split chunk text into a head of at most ``chars`` characters and the rest: at the
    last clause mark that keeps a few words in the head, else at the last word boundary
    (or, in scripts without spaces, between characters). Returns ``(text, "")`` when no
    cut fits or the rest would be too short to speak well on its own."""
    if len(text) <= chars:
        return text, ""
    low = min(chars, max(MIN_FRAGMENT, chars // 3))
    clause = word = None
    for cut in _cuts(text, 0, len(text)):
        if cut.size > chars:
            break
        if _spoken_len(text, cut.tail_start, len(text)) < MIN_FRAGMENT:
            break
        if cut.size >= low:
            word = cut
            if cut.clause:
                clause = cut
    chosen = clause or word
    if chosen is None:
        return text, ""
    return text[: chosen.head_end].rstrip(), text[chosen.tail_start :].lstrip()


class IncrementalSplitter:
    """:func:`split_text` for streamed text: push LLM deltas, get chunks whose end is certain.

    A sentence end is released only when what follows proves it (after "Dr." or "3." it
    waits for the next word). The first chunk and over-long sentences are released clause
    by clause as soon as their cut point is certain. :meth:`flush` releases the rest and
    starts a new utterance.
    """

    def __init__(
        self,
        lang: str = "en",
        *,
        max_chars: int | None = None,
        first_chunk_chars: int | None = None,
    ) -> None:
        self._machine = _Machine(lang, max_chars, first_chunk_chars)

    @property
    def pending(self) -> str:
        """Text received but not released yet."""
        return self._machine.buf

    def push(self, delta: str) -> list[str]:
        """Add a text delta; return the chunks it completed (often none)."""
        return [p.text for p in self.push_pieces(delta)]

    def flush(self) -> list[str]:
        """Release everything buffered and reset for the next utterance."""
        return [p.text for p in self.flush_pieces()]

    def push_pieces(self, delta: str) -> list[Piece]:
        """:meth:`push`, each chunk with how it ends."""
        return self._machine.feed(delta, final=False)

    def flush_pieces(self) -> list[Piece]:
        """:meth:`flush`, each chunk with how it ends."""
        chunks = self._machine.feed("", final=True)
        self._machine.reset()
        return chunks


class _Machine:
    """The splitter's state: the unreleased text and where it stands in the utterance."""

    def __init__(self, lang: str, max_chars: int | None, first_chunk_chars: int | None) -> None:
        self.lang = check_language(lang)
        self.max = _check_size("max_chars", max_chars, default_max_chars(self.lang))
        first = _check_size("first_chunk_chars", first_chunk_chars, None)
        self.first_max = min(first, self.max) if first is not None else None
        self.scanner = _Scanner(self.lang)
        self.reset()

    def reset(self) -> None:
        self.buf = ""
        self.first = True  # the next chunk is the utterance's first
        self.at_start = True  # buf starts at a sentence start (not after a cut)

    def feed(self, delta: str, *, final: bool) -> list[Piece]:
        buf = self.buf + delta
        out: list[Piece] = []
        pos = done = 0
        while (pos := _skip_space(buf, done)) < len(buf):
            nxt = self._step(buf, pos, final, out)
            if nxt is None:
                break
            done = nxt
        self.buf = buf[done:]
        return out

    def _step(self, buf: str, pos: int, final: bool, out: list[Piece]) -> int | None:
        """Release one chunk starting at ``pos``; None when its end is not certain yet."""
        sent = self.scanner.scan(buf, pos, final, at_start=self.at_start)
        size = _collapsed_len(buf, pos, sent.end, self.max)
        short = _spoken_len(buf, pos, sent.end) < MIN_FRAGMENT
        if self.at_start and sent.kind == _SENTENCE and short:
            end = self._merge_end(buf, pos, sent.end, final)
            if end is None:
                return None
            if end != sent.end:
                return self._emit(out, buf, pos, end, end, at_start=True)
        if self.first and self.first_max is not None and size > self.first_max:
            cut = self._first_cut(buf, pos, sent, size)
            if cut is None:
                return None
            if cut is not _NO_CUT:
                return self._emit(out, buf, pos, cut.head_end, cut.tail_start, at_start=False)
        if size > self.max:
            cut = self._long_cut(buf, pos, sent.end)
            return self._emit(out, buf, pos, cut.head_end, cut.tail_start, at_start=False)
        if sent.kind == _OPEN:
            return None
        return self._emit(out, buf, pos, sent.end, sent.end, at_start=True)

    def _emit(
        self, out: list[Piece], buf: str, pos: int, end: int, resume: int, *, at_start: bool
    ) -> int:
        if not at_start:
            boundary = Boundary.CUT
        elif _newlines(buf[end : _skip_space(buf, end)]) >= 2:
            boundary = Boundary.PARAGRAPH
        else:
            boundary = Boundary.SENTENCE
        out.append(Piece(" ".join(buf[pos:end].split()), boundary))
        self.first = False
        self.at_start = at_start
        return resume

    def _merge_end(self, buf: str, pos: int, end: int, final: bool) -> int | None:
        """End of a short sentence joined with the next ones that fit; None while unsure."""
        limit = self.first_max if self.first and self.first_max is not None else self.max
        while True:
            start = _skip_space(buf, end)
            if start == len(buf):
                return end if final else None
            nxt = self.scanner.scan(buf, start, final, at_start=True)
            if _collapsed_len(buf, pos, nxt.end, self.max) > limit:
                return end
            if nxt.kind == _OPEN:
                return None
            end = nxt.end
            if nxt.kind != _SENTENCE or _spoken_len(buf, pos, end) >= MIN_FRAGMENT:
                return end

    def _first_cut(self, buf: str, pos: int, sent: _Sentence, size: int) -> _Cut | None:
        """Where to end a long first chunk: the first clause mark past a few words, else
        the last word boundary before ``first_max``; _NO_CUT if none, None while unsure."""
        cap = self.first_max or 0
        low = min(cap, max(MIN_FRAGMENT, cap // 3))
        clause = word = beyond = None
        for cut in _cuts(buf, pos, sent.end):
            if cut.size > cap:
                beyond = cut
                break
            if cut.size >= low:
                if cut.clause:
                    clause = cut
                    break
                word = cut
        chosen = clause or word or beyond
        if chosen is not None and chosen.size > self.max:
            return _NO_CUT  # a first word longer than max_chars: the long-sentence cut applies
        complete = sent.kind != _OPEN
        if chosen is None:
            # Any cut still to come lies past max_chars: the long-sentence cut decides then.
            return _NO_CUT if complete or size > self.max else None
        if _spoken_len(buf, chosen.tail_start, sent.end) >= MIN_FRAGMENT:
            return chosen
        return _NO_CUT if complete else None

    def _long_cut(self, buf: str, pos: int, end: int) -> _Cut:
        """Cut an over-long sentence: the last clause mark that keeps a sizeable head, else
        the last word boundary, else (one huge word) hard at ``max`` characters."""
        clause = word = None
        for cut in _cuts(buf, pos, end):
            if cut.size > self.max:
                break
            if cut.clause and cut.size >= self.max // 4:
                clause = cut
            word = cut
        return clause or word or _hard_cut(buf, pos, self.max)


class _Scanner:
    """Finds where the sentence starting at a position ends, and whether that is certain."""

    def __init__(self, lang: str) -> None:
        ends = re.escape(sentence_ends(lang))
        self.trigger = re.compile(rf"[\n\u2028\u2029{ends}]")  # a fast search, then:
        closers = re.escape(CLOSERS)
        self.candidates = re.compile(
            rf"(?P<nl>[\n\u2028\u2029]\s*)"
            # closing marks, also French » › after a no-break space: « Bonjour. »
            rf"|(?P<run>[{ends}]+)(?:[{closers}]|{_SPACED_CLOSER})*"
        )
        self.never = _NEVER_COMMON
        self.maybe = _MAYBE_COMMON
        self.ordinal_dot = lang in _ORDINAL_DOT

    def scan(self, buf: str, start: int, final: bool, *, at_start: bool) -> _Sentence:
        pos = start
        while (hit := self.trigger.search(buf, pos)) is not None:
            m = self.candidates.match(buf, hit.start())
            assert m is not None
            if m["nl"]:
                found = self._newline(buf, start, m, final)
            else:
                found = self._run(buf, start, m, final, at_start)
            if found is not None:
                return found
            pos = m.end()
        return _Sentence(_rstrip(buf, start, len(buf)), _EOF if final else _OPEN)

    def _newline(self, buf: str, start: int, m: re.Match[str], final: bool) -> _Sentence | None:
        """A line break ends a sentence before a blank line, a list item or a heading."""
        end, after = _rstrip(buf, start, m.start()), m.end()
        if _newlines(m["nl"]) >= 2:
            return _Sentence(end, _PARAGRAPH)
        if after == len(buf):
            return _Sentence(end, _EOF if final else _OPEN)
        if _LIST_MARKER.match(buf, after):
            return _Sentence(end, _SENTENCE)
        if not final and _LIST_PREFIX.fullmatch(buf, after):
            return _Sentence(end, _OPEN)
        return None

    def _run(
        self, buf: str, start: int, m: re.Match[str], final: bool, at_start: bool
    ) -> _Sentence | None:
        """A run of sentence-final marks (plus closing quotes): decide from what follows."""
        run, i, k, n = m["run"], m.start(), m.end(), len(buf)
        if any(ch in STRONG_ENDS for ch in run):
            return _after_end(buf, k, final)
        if k == n:
            return _Sentence(k, _EOF if final else _OPEN)
        if not buf[k].isspace():
            joined = i > start and _is_continuous(buf[i - 1]) and _is_continuous(buf[k])
            return _Sentence(k, _SENTENCE) if joined else None
        follow = _skip_space(buf, k)
        if follow == n:
            return _Sentence(k, _EOF if final else _OPEN)
        if _newlines(buf[k:follow]) >= 2:
            return _Sentence(k, _PARAGRAPH)
        c_pos = _skip_openers(buf, follow)
        if c_pos == n:
            return _Sentence(k, _SENTENCE if final else _OPEN)
        c = buf[c_pos]
        if c.islower():  # '"Stop!" she said', 'I think... maybe', 'approx. five'
            return None
        if run == "." and not self._period_ends(buf, start, i, c, at_start):
            return None
        return _Sentence(k, _SENTENCE)

    def _period_ends(self, buf: str, start: int, dot: int, nxt: str, at_start: bool) -> bool:
        """Whether a single period followed by a space and ``nxt`` ends the sentence."""
        begin = dot
        while begin > start and not buf[begin - 1].isspace():
            begin -= 1
        token = buf[begin:dot].lstrip(OPENERS)
        low = token.lower()
        if not token:
            return True
        if low in self.never or (nxt.isdigit() and low in _BEFORE_NUMBER):
            return False
        if len(token) == 1 and token.isalpha() and (token.isupper() or token.islower()):
            return False  # an initial: "J. R. R. Tolkien"
        if token.isdigit():
            short = len(token) <= 3
            list_marker = at_start and begin == start
            return not (short and (list_marker or self.ordinal_dot))
        if low in self.maybe or "." in token:  # "etc.", "U.S.", "p.m.", "example.com"
            return nxt.isupper()
        return True


def _after_end(buf: str, k: int, final: bool) -> _Sentence:
    follow = _skip_space(buf, k)
    if follow == len(buf):
        return _Sentence(k, _EOF if final else _OPEN)
    return _Sentence(k, _PARAGRAPH if _newlines(buf[k:follow]) >= 2 else _SENTENCE)


def _cuts(buf: str, start: int, end: int) -> Iterator[_Cut]:
    """Every place ``buf[start:end]`` may be cut, in order: between words, and between
    characters of scripts written without spaces (after 、， as clause marks)."""
    words = _WORD.finditer(buf, start, end)
    word = next(words, None)
    size = -1
    while word is not None:
        w_start, w_end = word.span()
        base = size + 1
        if _MAYBE_CONTINUOUS.search(word[0]):
            for p in _inner_cuts(buf, w_start, w_end):
                yield _Cut(p, p, base + p - w_start, buf[p - 1] in CJK_CLAUSE)
        size = base + w_end - w_start
        following = next(words, None)
        if following is not None and not _closes(following[0]):
            yield _Cut(w_end, following.start(), size, bool(_CLAUSE_END.search(word[0])))
        word = following


def join_without_space(left: str, right: str) -> bool:
    """Whether two chunks packed into one join with no space: between characters of
    scripts written without spaces ("ですね。" + "明日"), as the text was written."""
    return bool(left and right) and _is_continuous(left[-1]) and _is_continuous(right[0])


def _closes(word: str) -> bool:
    """A "word" of closing marks only (French "!" or "»" after a space): never a chunk start."""
    return all(ch in CLOSERS or _is_trailing_punct(ch) for ch in word)


def _inner_cuts(buf: str, start: int, end: int) -> Iterator[int]:
    for p in range(start + 1, end):
        a, b = buf[p - 1], buf[p]
        if a in OPENERS or b in NO_BREAK_BEFORE:
            continue
        if unicodedata.category(b)[0] == "M" or (b in CLOSERS or _is_trailing_punct(b)):
            continue
        if a in CJK_CLAUSE or _is_continuous(a) or _is_continuous(b):
            yield p


def _hard_cut(buf: str, start: int, size: int) -> _Cut:
    """Cut a single over-long word at ``size`` characters, never before a combining mark.

    A run of marks longer than ``size`` (one letter with 4000 accents) has nowhere to cut
    outside a mark: it is cut at ``size`` all the same. Backing off to the letter instead
    cut such a run one character per chunk, each a pause of its own (7 s of work and 12
    minutes of silence for 4000 accents).
    """
    end = start + size
    p = end
    while p > start + 1 and unicodedata.category(buf[p])[0] == "M":
        p -= 1
    if p == start + 1 and unicodedata.category(buf[p])[0] == "M":
        p = end
    return _Cut(p, p, p - start, False)


def _is_continuous(ch: str) -> bool:
    """Characters of scripts written without spaces: CJK, kana, Thai, Lao, Khmer, Myanmar."""
    o = ord(ch)
    return (
        0x3040 <= o <= 0x30FF
        or 0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF
        or 0xF900 <= o <= 0xFAFF
        or 0x3000 <= o <= 0x303F
        or 0xFF00 <= o <= 0xFFEF
        or 0x0E00 <= o <= 0x0EFF
        or 0x1000 <= o <= 0x109F
        or 0x1780 <= o <= 0x17FF
        or 0x31F0 <= o <= 0x31FF
        or 0x20000 <= o <= 0x2FFFF
    )


def _is_trailing_punct(ch: str) -> bool:
    return unicodedata.category(ch) in ("Po", "Pe", "Pf", "Pd") and ch not in OPENERS


def _newlines(space: str) -> int:
    return space.count("\n") + space.count("\u2028") + 2 * space.count("\u2029")


def _skip_space(buf: str, pos: int) -> int:
    n = len(buf)
    while pos < n and buf[pos].isspace():
        pos += 1
    return pos


def _skip_openers(buf: str, pos: int) -> int:
    n = len(buf)
    while pos < n and buf[pos] in OPENERS:
        pos += 1
    return pos


def _rstrip(buf: str, start: int, end: int) -> int:
    while end > start and buf[end - 1].isspace():
        end -= 1
    return end


def _collapsed_len(buf: str, start: int, end: int, limit: int) -> int:
    """Length of ``buf[start:end]`` with whitespace collapsed: exact up to ``limit``, some
    larger value beyond it (a huge sentence is measured only as far as needed)."""
    window = min(end, start + 2 * limit + 2)
    size = len(" ".join(buf[start:window].split()))
    if window == end or size > limit:
        return size
    return len(" ".join(buf[start:end].split()))


def _spoken_len(buf: str, start: int, end: int) -> float:
    """Collapsed length with CJK and Hangul characters counting 2.5 (a syllable or more);
    exact below MIN_FRAGMENT, which is all it is compared with."""
    window = min(end, start + 2 * MIN_FRAGMENT + 2)
    text = " ".join(buf[start:window].split())
    size = len(text) + 1.5 * len(_WIDE.findall(text))
    if window == end or size >= MIN_FRAGMENT:
        return size
    text = " ".join(buf[start:end].split())
    return len(text) + 1.5 * len(_WIDE.findall(text))


def _check_size(name: str, value: int | None, default: int | None) -> int | None:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidOptionError(name, value, "a positive number of characters")
    return value
