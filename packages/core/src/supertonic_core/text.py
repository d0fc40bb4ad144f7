"""The text preprocessing the model was trained with, and its character indexer.

Why: the model only reads text shaped like its training data, so every chunk goes through
the official front end (``supertonic`` 1.3.1, ``UnicodeProcessor._preprocess_text``) step
by step, with the same patterns in the same order, and then through the same code-point
table. The tests hold it to the official package character for character
(tests/core/test_fidelity.py). We differ only where the official would fail or where a
chunk ends inside a sentence; the core README lists each rule ("Fidelity to the official
pipeline").

- Characters the bundle's indexer refuses (the official would stop with "unsupported
  character", or feed the model id -1): invisible characters and emoji are dropped,
  typographic quotes, dashes and brackets become their plain forms, then the official
  steps run again. What is still refused is reported all at once, with code points.
- A chunk cut inside a sentence gets no final period: it keeps its clause mark, or gets a
  comma, so the model never speaks a mid-sentence cut as a sentence end.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import BundleInvalidError, EmptyTextError, UnsupportedCharactersError
from .languages import check_language
from .punctuation import CONTINUATION

#: Inline expression tags (``<laugh>``, ``<breath>``, ...): words to the timings. The
#: official front end treats them as text, so ``<deep_breath>`` reaches the model as
#: ``<deep breath>``, like every other ``_``.
TAG_RE = re.compile(r"<[a-z_]+>")

# ----------------------------------------------------------------- the official front end
# supertonic 1.3.1, supertonic/core.py: the same patterns, applied in the same order. These
# tables stay here, verbatim, and apart from our own reading of punctuation (.punctuation):
# the model was trained on their output, and the fidelity and oracle tests hold them to the
# official package character for character, where they differ from ours on purpose.

_OFFICIAL_EMOJI = re.compile(
    "[\U0001f600-\U0001f64f\U0001f300-\U0001f5ff\U0001f680-\U0001f6ff\U0001f700-\U0001f77f"
    "\U0001f780-\U0001f7ff\U0001f800-\U0001f8ff\U0001f900-\U0001f9ff\U0001fa00-\U0001fa6f"
    "\U0001fa70-\U0001faff\u2600-\u26ff\u2700-\u27bf\U0001f1e6-\U0001f1ff]+"
)
#: In order (a dict in the official code); U+2011 never matches after NFKD, which turns
#: it into U+2010, and the model then receives U+2010.
_OFFICIAL_SYMBOLS = (
    ("\u2013", "-"),
    ("\u2011", "-"),
    ("\u2014", "-"),
    ("\u00af", " "),
    ("_", " "),
    ("\u201c", '"'),
    ("\u201d", '"'),
    ("\u2018", "'"),
    ("\u2019", "'"),
    ("\u00b4", "'"),
    ("`", "'"),
    ("[", " "),
    ("]", " "),
    ("|", " "),
    ("/", " "),
    ("#", " "),
    ("→", " "),
    ("←", " "),
)
_OFFICIAL_DECORATIVE = re.compile(r"[♥☆♡©\\]")
_OFFICIAL_EXPANSIONS = (("@", " at "), ("e.g.,", "for example, "), ("i.e.,", "that is, "))
#: One plain space before each mark is removed, mark by mark: "a  ," keeps one space.
_OFFICIAL_SPACE_BEFORE = tuple((" " + mark, mark) for mark in ",.!?;:'")
_OFFICIAL_DUPLICATE_QUOTES = re.compile(r"([\"'`])\1+")
_OFFICIAL_WHITESPACE = re.compile(r"\s+")
#: Text ending in none of these gets a period: so "؟", "।" and "-" get one, "»" and ")" not.
_OFFICIAL_ENDING = re.compile(r"[.!?;:,'\"')\]}…。」』】〉》›»]$")

# ------------------------------------------------------- our rules where the official fails

#: Refused characters that carry no sound: invisible format and control characters,
#: variation selectors, the keycap mark, emoji the official pattern does not cover, and
#: the tag characters of subdivision flags.
_SILENT = re.compile(
    "["
    "\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "\ufe00-\ufe0f\u20e3\U000e0000-\U000e007f"
    "\U0001f000-\U0001faff\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff"
    "]"
)
#: Refused typographic characters and their plain forms.
_PLAIN_FORMS = {
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e3a\u2e3b", "-"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\u301d\u301e\u301f", '"'),
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u2039\u203a", "'"),
    **dict.fromkeys("\u3010\u3014\u3016\u3018{", "("),
    **dict.fromkeys("\u3011\u3015\u3017\u3019}", ")"),
    **dict.fromkeys("\u2022\u2023\u2043\u25e6", " "),  # bullets
}


def normalize_text(text: str, indexer: TextIndexer | None = None, *, cut: bool = False) -> str:
    """The text as the model reads it (without language tags); ``""`` when nothing is left.

    The official steps, in order: NFKD; drop emoji; plain forms of a few symbols (``_ [ ]
    | / # → ←`` become spaces); drop ``♥ ☆ ♡ © \\``; expand ``@``, ``e.g.,``, ``i.e.,``;
    remove one space before ``, . ! ? ; : '``; collapse repeated quotes and whitespace; add
    a period unless the text ends in one of ``. ! ? ; : , ' " ) ] } … 。 」 』 】 〉 》 › »``.

    Args:
        text: one chunk of input text.
        indexer: the bundle's indexer. Where the official result holds characters it
            refuses, those characters are dropped (invisible, emoji) or replaced by their
            plain forms (quotes, dashes, brackets, bullets) and the steps run again;
            without an indexer the official result is returned as it is.
        cut: the text ends inside a sentence (a chunk cut at a clause or a word): no
            final period (:func:`prepare_text` then adds the language's comma where the
            text ends without a mark).
    """
    out = _official_steps(text)
    if indexer is not None and out:
        refused = set(indexer.unsupported(out))
        if refused:
            nfkd = unicodedata.normalize("NFKD", text)
            out = _official_steps("".join(_rescue(ch) if ch in refused else ch for ch in nfkd))
    if not out or cut:
        return out
    return out if _OFFICIAL_ENDING.search(out) else out + "."


def _official_steps(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = _OFFICIAL_EMOJI.sub("", text)
    for old, new in _OFFICIAL_SYMBOLS:
        text = text.replace(old, new)
    text = _OFFICIAL_DECORATIVE.sub("", text)
    for old, new in _OFFICIAL_EXPANSIONS:
        text = text.replace(old, new)
    for old, new in _OFFICIAL_SPACE_BEFORE:
        text = text.replace(old, new)
    text = _OFFICIAL_DUPLICATE_QUOTES.sub(r"\1", text)
    return _OFFICIAL_WHITESPACE.sub(" ", text).strip()


def _rescue(ch: str) -> str:
    if ch in _PLAIN_FORMS:
        return _PLAIN_FORMS[ch]
    if _SILENT.match(ch) or unicodedata.category(ch) in ("Cc", "Cf"):
        return ""
    return ch


def rescued_characters(text: str, indexer: TextIndexer) -> list[str]:
    """The characters of ``text`` the official front end would send but ``indexer``
    refuses, which :func:`normalize_text` drops or replaces (for warnings), in order."""
    return indexer.unsupported(_official_steps(text))


def refused_characters(text: str, indexer: TextIndexer) -> list[str]:
    """The characters of ``text``, as the client sent them, that cannot be spoken.

    - Control characters other than whitespace (NUL, BEL, ESC, DEL, C1 codes): not text
      but a sign of a broken client, refused rather than dropped unheard.
    - Characters the indexer refuses after :func:`normalize_text` (with its rescue rules),
      named as sent: NFKD turns ``ℵ`` into the Hebrew ``א``, but the client sent ``ℵ``.
    """
    sent = dict.fromkeys(text)
    controls = [ch for ch in sent if unicodedata.category(ch) == "Cc" and not ch.isspace()]
    bad = set(indexer.unsupported(normalize_text(text, indexer)))
    if not bad:
        return controls
    named = [ch for ch in sent if bad & set(unicodedata.normalize("NFKD", ch))]
    return controls + (named or sorted(bad))


def _end_cut(text: str, lang: str, indexer: TextIndexer | None) -> str:
    if not text or unicodedata.category(text[-1])[0] == "P":
        return text  # it ends at a clause mark (or a closing quote): keep it, add nothing
    mark = CONTINUATION.get(lang, ",")
    if indexer is not None and indexer.unsupported(mark):
        mark = ","
    return text + mark


def wrap_language(text: str, lang: str) -> str:
    """``<en>text</en>``: Supertonic-2/3 read the language from these tags (``na`` = unknown)."""
    code = check_language(lang)
    return f"<{code}>{text}</{code}>"


def prepare_text(
    text: str,
    lang: str,
    indexer: TextIndexer | None = None,
    *,
    cut: bool = False,
    tagged: bool = True,
) -> str:
    """Normalise and wrap one chunk for the model; raises EmptyTextError if nothing is left.

    ``indexer`` and ``cut`` as in :func:`normalize_text`; a cut chunk without a final mark
    ends in the language's comma. ``tagged=False`` (supertonic v1, English only) leaves out
    the language tags, as the official does there.
    """
    code = check_language(lang)
    normalized = normalize_text(text, indexer, cut=cut)
    if not normalized:
        raise EmptyTextError()
    if cut:
        normalized = _end_cut(normalized, code, indexer)
    return wrap_language(normalized, code) if tagged else normalized


def is_speakable(text: str) -> bool:
    """True when the normalised text has a letter or digit in any script.

    Chunks of punctuation only ("...", "—") are not speakable: the engine turns them
    into a pause rather than asking the model to read them (the official would send
    ``<en>...</en>``, or ``<en>.</en>`` for an emoji alone).
    """
    return any(ch.isalnum() for ch in normalize_text(text))


class TextIndexer:
    """Maps characters to the model's token ids through ``unicode_indexer.json``.

    The table has one entry per BMP code point (65,536); ``-1`` marks a character the
    model cannot read, and code points above the table are unsupported too.
    """

    __slots__ = ("_table",)

    def __init__(self, table: Sequence[int] | np.ndarray) -> None:
        self._table = _as_table(table, "unicode indexer")

    @classmethod
    def from_file(cls, path: str | Path) -> TextIndexer:
        """Load a bundle's ``onnx/unicode_indexer.json``."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BundleInvalidError(f"unicode indexer not found: {path}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BundleInvalidError(f"unicode indexer {path} is not readable JSON: {exc}") from exc
        indexer = cls.__new__(cls)
        indexer._table = _as_table(data, f"unicode indexer {path}")
        return indexer

    @property
    def size(self) -> int:
        """Number of code points the table covers."""
        return int(self._table.size)

    def unsupported(self, text: str) -> list[str]:
        """The distinct characters of ``text`` the model cannot read, in order of appearance."""
        codes = _code_points(text)
        bad = codes[self._lookup(codes) < 0]
        if bad.size == 0:
            return []
        unique, first = np.unique(bad, return_index=True)
        return [chr(int(c)) for c in unique[np.argsort(first)]]

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Token ids int64 ``[B, T]`` (zero-padded) and mask float32 ``[B, 1, T]``.

        Raises UnsupportedCharactersError naming every unreadable character of the batch,
        and EmptyTextError for an empty batch or an empty text.
        """
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts; wrap a single text in a list")
        if len(texts) == 0:
            raise EmptyTextError("no texts to encode")
        codes = [_code_points(t) for t in texts]
        lengths = np.array([c.size for c in codes], dtype=np.int64)
        if not lengths.all():
            raise EmptyTextError(f"text {int(np.argmin(lengths))} of the batch is empty")
        flat = np.concatenate(codes)
        flat_ids = self._lookup(flat)
        bad = flat_ids < 0
        if bad.any():
            raise UnsupportedCharactersError(chr(int(c)) for c in np.unique(flat[bad]))
        valid = np.arange(int(lengths.max())) < lengths[:, None]
        ids = np.zeros(valid.shape, dtype=np.int64)
        ids[valid] = flat_ids  # row-major fill matches the concatenation order
        return ids, valid.astype(np.float32)[:, None, :]

    def _lookup(self, codes: np.ndarray) -> np.ndarray:
        table = self._table
        inside = codes < min(table.size, 0x10000)  # the model reads the BMP only
        return np.where(inside, table[np.where(inside, codes, 0)], -1)


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def _as_table(table: object, source: str) -> np.ndarray:
    try:
        arr = np.asarray(table)
    except (TypeError, ValueError) as exc:
        raise BundleInvalidError(f"{source} is not a list of integers: {exc}") from exc
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise BundleInvalidError(
            f"{source} must be a flat, non-empty list of integers (one per code point, "
            f"-1 = unsupported); got shape {arr.shape} of {arr.dtype}"
        )
    arr = arr.astype(np.int64)
    arr.setflags(write=False)
    return arr
