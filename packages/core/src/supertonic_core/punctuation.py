"""Our reading of punctuation: which marks end a sentence, which a clause, which open or
close a quotation, in one place.

Why one home: the splitter (:mod:`.chunking`) decides where chunks end, the pause after a
chunk (:mod:`.audio`) and the word timings (:mod:`.timing`) follow how text ends. Each once
kept its own table and they drifted: a chunk the splitter ended at ``｡`` or ``۔`` got the
short pause of an unknown ending, a sentence inside ``「」`` lost its pause, and ``;``
weighed like a period in the timings but paused like a comma. All three now ask
:func:`final_mark`, or build their patterns from the sets below.

The choices, as a listener expects them:

- ``;`` is a clause mark (a comma's pause), except in Greek, where it is the question
  mark and ends a sentence. U+037E GREEK QUESTION MARK is canonically ``;`` (NFC turns one
  into the other), so outside Greek it reads as ``;`` does.
- The middle dot ``·`` and the Greek ano teleia (U+0387, canonically ``·``) are clause
  marks, as are the full-width and Arabic ``，；：、،؛``.
- An en or em dash at the end of a word is a clause mark; a hyphen is one only as a word
  of its own (``and then - well``), never at the end of a prefix (``pre- and post-war``).
- Closing quotes and brackets of every script are looked through: ``「はい。」`` ends at
  ``。``.

The official front end's own table (text ending in none of its marks gets a period) is
not ours to change: it stays in :mod:`.text` as ``_OFFICIAL_ENDING``, verbatim.
"""

from __future__ import annotations

import enum

#: End a sentence when what follows agrees (a capital after "Dr." does not; the splitter
#: decides). Always a sentence at the end of a chunk.
WESTERN_ENDS = ".!?…"
#: End a sentence whatever follows: CJK full stops and marks, the half-width ``｡``, Arabic
#: ``؟``, Devanagari dandas, Urdu ``۔``.
STRONG_ENDS = "。！？｡؟।॥۔"
#: Greek question marks: sentence ends in Greek, clause marks (as ``;``) elsewhere.
GREEK_QUESTION = ";\u037e"
#: Clause marks: a short pause, and where an over-long sentence is best cut.
CLAUSE_MARKS = ",;:、，；：،؛·\u0387\u037e"
#: Clause marks of scripts written without spaces: a chunk may be cut right after one.
CJK_CLAUSE = "、，；："
#: Dashes that end a clause when they end a word (a hyphen does only as a word of its own).
DASHES = "–—"
#: Closing quotes and brackets: they belong to the text before them and are looked through.
CLOSERS = "\"'”’»)]}」』）】〕》〉›"
#: Opening quotes and brackets (and Spanish ``¿ ¡``): they belong to the text after them.
OPENERS = "\"'“‘«([{¿¡「『（【〔《〈‹"
#: Japanese characters that never start a line (small kana, the long vowel mark,
#: iteration marks): never a chunk or word start.
NO_BREAK_BEFORE = frozenset("ーゃゅょぁぃぅぇぉっゎャュョァィゥェォッヮヵヶ々ゝゞヽヾ")
#: Where a chunk cut inside a sentence ends without a mark, the mark it gets: the clause
#: mark of the language's own training text, else ``,``.
CONTINUATION = {"ja": "、", "ar": "،"}

_LOOKED_THROUGH = frozenset(CLOSERS) | frozenset(" \t\n\u00a0\u202f")


class Mark(enum.Enum):
    """How a text ends, for the pause after it and the weight of the gap after a word."""

    SENTENCE = "sentence"
    CLAUSE = "clause"


def sentence_ends(lang: str) -> str:
    """The marks that end a sentence in ``lang``."""
    return WESTERN_ENDS + STRONG_ENDS + (GREEK_QUESTION if lang == "el" else "")


def final_mark(text: str, lang: str = "en") -> Mark | None:
    """Whether ``text`` (a word or a chunk) ends a sentence, a clause, or neither, looking
    through closing quotes and brackets."""
    end = len(text)
    while end and text[end - 1] in _LOOKED_THROUGH:
        end -= 1
    if not end:
        return None
    last = text[end - 1]
    if last in sentence_ends(lang):
        return Mark.SENTENCE
    if last in CLAUSE_MARKS or last in DASHES:
        return Mark.CLAUSE
    if last == "-" and not text[:end].rsplit(None, 1)[-1].strip("-"):
        return Mark.CLAUSE
    return None
