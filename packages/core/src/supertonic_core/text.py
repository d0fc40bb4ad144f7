"""The text preprocessing the model was trained with, and its character indexer.

Why: the model only reads text shaped like its training data, so every chunk goes through
the same normalisation and the same code-point table before inference. Characters the
table cannot map are reported all at once, with their code points, instead of crashing.
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

#: Inline expression tags (``<laugh>``, ``<breath>``, ...) pass through untouched.
TAG_RE = re.compile(r"<[a-z_]+>")
_TAG_SPLIT = re.compile(r"(<[a-z_]+>)")

_EMOJI = re.compile(
    "["
    "\U0001f000-\U0001faff"  # pictographs, emoticons, transport, flags, extended symbols
    "\u2300-\u23ff"  # technical symbols used as emoji (watch, hourglass, play buttons)
    "\u2600-\u27bf"  # miscellaneous symbols and dingbats
    "\u2b00-\u2bff"  # arrows and stars used as emoji
    "\ufe0e\ufe0f\u20e3"  # variation selectors, keycap
    "\U000e0020-\U000e007f"  # tag characters of subdivision flags
    "]+"
)
# Invisible format and control characters carry no sound (ZWJ, BOM, soft hyphen, bidi marks).
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
_CHAR_MAP = str.maketrans(
    {
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e3a\u2e3b", "-"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\u301d\u301e\u301f", '"'),
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u0060\u00b4\u2032\u2039\u203a", "'"),
        **dict.fromkeys("\u3010\u3014\u3016\u3018", "("),
        **dict.fromkeys("\u3011\u3015\u3017\u3019", ")"),
        **dict.fromkeys("[]{}_|/#\u2192\u2190\u2022", " "),
        **dict.fromkeys("\u2665\u2606\u2661\u00a9\\", ""),
    }
)
_EXPANSIONS = (("e.g.,", "for example, "), ("i.e.,", "that is, "), ("@", " at "))
_SPACE_BEFORE_PUNCT = re.compile(r"\s+(?=[,!?;:']|\.(?!\d))")
_REPEATED_QUOTES = re.compile(r"(\"|')\1+")
#: Text ending in one of these (before closing quotes/brackets) gets no extra period.
_FINAL_PUNCT = frozenset(".!?;:,…。！？｡؟।॥۔、，-–—")
_TRAILING_CLOSERS = "\"')]}」』〉》»”’"


def normalize_text(text: str) -> str:
    """Apply the model's training-time preprocessing; ``""`` when nothing is left.

    NFKD; drop emoji and invisible characters; plain dashes, quotes and brackets; drop
    decorative symbols; expand ``@``, ``e.g.,``, ``i.e.,``; no space before ``, . ! ? ; : '``;
    collapse repeated quotes and whitespace; end with punctuation. Expression tags such as
    ``<laugh>`` are kept as they are.
    """
    parts = _TAG_SPLIT.split(text)
    parts[::2] = [_normalize_plain(part) for part in parts[::2]]
    out = _SPACE_BEFORE_PUNCT.sub("", "".join(parts))
    out = _REPEATED_QUOTES.sub(r"\1", out)
    out = " ".join(out.split())
    return _with_final_punct(out)


def _normalize_plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = _EMOJI.sub("", text)
    text = _INVISIBLE.sub("", text)
    text = text.translate(_CHAR_MAP)
    for old, new in _EXPANSIONS:
        text = text.replace(old, new)
    return text


def _with_final_punct(text: str) -> str:
    if not text:
        return text
    body = text.rstrip(_TRAILING_CLOSERS)
    if body and body[-1] in _FINAL_PUNCT:
        return text
    return text + "."


def wrap_language(text: str, lang: str) -> str:
    """``<en>text</en>``: Supertonic-2/3 read the language from these tags (``na`` = unknown)."""
    code = check_language(lang)
    return f"<{code}>{text}</{code}>"


def prepare_text(text: str, lang: str) -> str:
    """Normalise and wrap one chunk for the model; raises EmptyTextError if nothing is left."""
    code = check_language(lang)
    normalized = normalize_text(text)
    if not normalized:
        raise EmptyTextError()
    return wrap_language(normalized, code)


def is_speakable(text: str) -> bool:
    """True when the normalised text has a letter or digit in any script.

    Chunks of punctuation only ("...", "—") are not speakable: the engine turns them
    into a pause rather than asking the model to read them.
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
