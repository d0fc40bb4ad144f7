"""Pronunciation dictionaries: what to say for a written word the model reads wrongly.

Why: Supertonic reads characters, so product names, acronyms, people's names and foreign
words come out as their letters suggest. An entry is a respelling in ordinary letters
(``SQL`` → "sequel", ``Nguyen`` → "Win", ``GIF`` → "jif") that the normaliser says instead
of the written form; word timings and chunk texts still name what was written (the
normaliser's offset map, :mod:`.normalize.mapping`).

Where entries come from (each a :class:`PronunciationDictionary`; where two give the same
word, the first applied wins):

- W3C PLS files: ``<lexeme><grapheme>SQL</grapheme><alias>sequel</alias></lexeme>``, the
  standard the cloud services accept. ``<phoneme>`` entries give sounds, which a character
  model cannot take: they are skipped and counted (:attr:`PronunciationDictionary.skipped`).
  The lexicon's ``xml:lang`` makes its entries that language's (``en-US`` → ``en``).
- JSON: ``{"SQL": "sequel"}`` for every language, ``{"de": {"SQL": "Es-Ku-El"}}`` for one;
  an entry may be ``{"alias": "sequel", "match_case": true}``.
- a request's own entries (``pronunciations``), for every language.

Matching: whole words only (``SQL`` is not found in ``MySQL``), keys of several words
across spaces, the longest key first. A key written in lower case matches any
capitalisation (``gif`` finds ``GIF`` and ``Gif``, and ``Gif`` is said "Jif"); a key with a
capital letter matches as written; ``match_case`` says otherwise. In a language, its own
entries win over those for every language.

Files are read with the standard library (``xml.parsers.expat``), bounded: at most
:data:`MAX_FILE_BYTES` and :data:`MAX_ENTRIES` entries; a DTD or an entity declaration is
refused before anything is expanded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.parsers import expat

from .errors import LexiconError
from .languages import LANGUAGES

#: The language of an entry for every language.
ALL = "*"
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_ENTRIES = 20_000
MAX_KEY_CHARS = 100
MAX_ALIAS_CHARS = 300
#: Entries one request may give inline.
MAX_INLINE_ENTRIES = 200
SUFFIXES = (".pls", ".xml", ".json")

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Entry:
    """One respelling: ``written`` (whitespace collapsed) is said as ``spoken``."""

    written: str
    spoken: str
    lang: str = ALL
    match_case: bool | None = None  # None: by the key (a capital letter: as written)

    @property
    def exact(self) -> bool:
        """Whether the key matches only as written."""
        if self.match_case is not None:
            return self.match_case
        return self.written != self.written.lower()


def entry(
    written: object, spoken: object, *, lang: str = ALL, match_case: object = None, source: str
) -> Entry:
    """A checked :class:`Entry`, or :class:`LexiconError` naming ``source`` and the problem."""
    if not isinstance(written, str) or not isinstance(spoken, str):
        raise LexiconError(source, f"an entry must map text to text, got {written!r}: {spoken!r}")
    key, said = " ".join(written.split()), " ".join(spoken.split())
    if not key or not said:
        raise LexiconError(source, f"empty written or spoken form in {written!r}: {spoken!r}")
    if len(key) > MAX_KEY_CHARS or len(said) > MAX_ALIAS_CHARS:
        raise LexiconError(
            source,
            f"{key[:40]!r}: written forms are at most {MAX_KEY_CHARS} characters, spoken "
            f"forms at most {MAX_ALIAS_CHARS}",
        )
    if match_case is not None and not isinstance(match_case, bool):
        raise LexiconError(source, f"match_case of {key!r} must be true or false")
    return Entry(key, said, language(lang, source), match_case)


def language(code: str, source: str) -> str:
    """``en-US`` / ``en_US`` / ``EN`` → ``en``; ``*`` stays; an unknown code is an error."""
    if code == ALL:
        return ALL
    lang = code.replace("_", "-").split("-")[0].strip().lower()
    if lang not in LANGUAGES:
        raise LexiconError(source, f"unknown language {code!r}; use one of {', '.join(LANGUAGES)}")
    return lang


# ----------------------------------------------------------------------------- matching


def _trie(keys: Iterable[str]) -> str:
    """One regular expression for ``keys`` that tries the longest first (a trie: each
    character is tested once, so thousands of keys cost about what one does)."""
    root: dict[str, Any] = {}
    for key in keys:
        node = root
        for ch in key:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _branches(root)


def _branches(node: dict[str, Any]) -> str:
    edges = [
        ("[ \t]+" if ch == " " else re.escape(ch)) + _branches(child)
        for ch, child in sorted(node.items())
        if ch
    ]
    if not edges:
        return ""
    body = "|".join(edges)
    if "" in node:  # a key ends here: the longer keys are optional (greedy: tried first)
        return f"(?:{body})?"
    return edges[0] if len(edges) == 1 else f"(?:{body})"


class _Layer:
    """One dictionary's respellings in one language, compiled."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.exact: dict[str, str] = {}
        self.folded: dict[str, str] = {}
        for e in entries:
            if e.exact:
                self.exact[e.written] = e.spoken
            else:
                self.folded[e.written.lower()] = e.spoken
        self.patterns: list[tuple[re.Pattern[str], bool]] = []
        if self.exact:
            self.patterns.append((re.compile(rf"(?<!\w)(?:{_trie(self.exact)})(?!\w)"), True))
        if self.folded:
            body = _trie(self.folded)
            self.patterns.append((re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE), False))
        self.parts = frozenset(
            part
            for key in (*self.exact, *self.folded)
            if " " in key
            for part in key.lower().split()
        )

    def spoken(self, written: str, exact: bool) -> str | None:
        key = " ".join(written.split())
        if exact:
            return self.exact.get(key)
        said = self.folded.get(key.lower())
        if said is not None and key[:1].isupper() and said[:1].islower() and not key.isupper():
            said = said[:1].upper() + said[1:]  # "Gif" at the start of a sentence: "Jif"
        return said


@dataclass(frozen=True, slots=True)
class Respelling:
    """A key found in the text: ``text[start:end]`` is said as ``spoken``."""

    start: int
    end: int
    spoken: str


class Respeller:
    """The respellings a request applies in one language, its dictionaries in order.

    :meth:`search` finds the next key: the earliest, then the longest, then the one of the
    first dictionary (and an exact-case key before a key of any case).
    """

    def __init__(self, layers: Sequence[_Layer]) -> None:
        self._layers = tuple(layers)
        #: The words of keys of several words: no streaming safe point falls between them.
        self.parts = frozenset().union(*(layer.parts for layer in self._layers))

    def search(self, text: str, pos: int, end: int) -> Respelling | None:
        best: Respelling | None = None
        for layer in self._layers:
            for pattern, exact in layer.patterns:
                m = pattern.search(text, pos, end)
                while m is not None:
                    spoken = layer.spoken(m[0], exact)
                    if spoken is not None:
                        break
                    m = pattern.search(text, m.start() + 1, end)  # (unreachable in practice)
                if m is None or spoken is None:
                    continue
                if best is None or (m.start(), -m.end()) < (best.start, -best.end):
                    best = Respelling(m.start(), m.end(), spoken)
        return best


# ----------------------------------------------------------------------------- dictionaries


class PronunciationDictionary:
    """Respellings by language; a later entry for the same key and language replaces one
    before it.

    Args:
        name: how requests name it (a file's stem).
        entries: the respellings.
        skipped: entries of the source that give no respelling (PLS ``<phoneme>`` only).
    """

    def __init__(self, name: str, entries: Iterable[Entry], *, skipped: int = 0) -> None:
        self.name = name
        self.skipped = skipped
        self._by_lang: dict[str, dict[tuple[str, bool], Entry]] = {}
        for e in entries:
            key = (e.written if e.exact else e.written.lower(), e.exact)
            self._by_lang.setdefault(e.lang, {})[key] = e
        self._layers: dict[str, _Layer | None] = {}
        if len(self) > MAX_ENTRIES:
            raise LexiconError(name, f"{len(self)} entries; at most {MAX_ENTRIES}")

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._by_lang.values())

    def __repr__(self) -> str:
        return f"PronunciationDictionary({self.name!r}, {len(self)} entries)"

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages it has entries for (``*``: every language)."""
        return tuple(sorted(self._by_lang))

    def entries(self, lang: str | None = None) -> list[Entry]:
        """Its entries, or those that apply in ``lang``."""
        if lang is None:
            return [e for entries in self._by_lang.values() for e in entries.values()]
        return list({**self._by_lang.get(ALL, {}), **self._by_lang.get(lang, {})}.values())

    def info(self) -> dict[str, Any]:
        """What a listing shows: the name, the number of entries, the languages."""
        return {"name": self.name, "entries": len(self), "languages": list(self.languages)}

    def layer(self, lang: str) -> _Layer | None:
        """Its respellings in ``lang``, compiled once per language."""
        if lang not in self._layers:
            entries = self.entries(lang)
            self._layers[lang] = _Layer(entries) if entries else None
        return self._layers[lang]

    @classmethod
    def from_mapping(
        cls, name: str, mapping: object, *, source: str = ""
    ) -> PronunciationDictionary:
        """From JSON's shape: ``{"SQL": "sequel", "de": {"SQL": "Es-Ku-El"}}``."""
        source = source or name
        if not isinstance(mapping, Mapping):
            raise LexiconError(source, 'expected an object like {"SQL": "sequel"}')
        found: list[Entry] = []
        for key, value in mapping.items():
            if isinstance(value, Mapping) and not _is_entry(value):
                lang = language(str(key), source)
                found += [_json_entry(k, v, lang, source) for k, v in value.items()]
            else:
                found.append(_json_entry(key, value, ALL, source))
            if len(found) > MAX_ENTRIES:
                raise LexiconError(source, f"more than {MAX_ENTRIES} entries")
        return cls(name, found)


def _is_entry(value: Mapping[str, Any]) -> bool:
    return isinstance(value.get("alias"), str) and set(value) <= {"alias", "match_case"}


def _json_entry(key: object, value: object, lang: str, source: str) -> Entry:
    if isinstance(value, Mapping):
        if not _is_entry(value):
            raise LexiconError(
                source, f"{key!r}: an entry is text or {{'alias': ..., 'match_case': ...}}"
            )
        return entry(
            key, value["alias"], lang=lang, match_case=value.get("match_case"), source=source
        )
    return entry(key, value, lang=lang, source=source)


class Pronunciations:
    """The dictionaries one request applies, the first winning where two give a word: its
    inline entries, then the named dictionaries in the order named."""

    def __init__(self, dictionaries: Sequence[PronunciationDictionary]) -> None:
        self.dictionaries = tuple(d for d in dictionaries if len(d))
        self._respellers: dict[str, Respeller | None] = {}

    def __bool__(self) -> bool:
        return bool(self.dictionaries)

    def respeller(self, lang: str) -> Respeller | None:
        """What applies in ``lang``; None: nothing."""
        if lang not in self._respellers:
            layers = [layer for d in self.dictionaries if (layer := d.layer(lang)) is not None]
            self._respellers[lang] = Respeller(layers) if layers else None
        return self._respellers[lang]


# ----------------------------------------------------------------------------- files


def load_dictionaries(
    sources: Iterable[str | Path | PronunciationDictionary],
) -> list[PronunciationDictionary]:
    """Dictionaries from files (:func:`load_dictionary`) or as given: what an engine loads
    from a server's ``--lexicon`` flags or a plugin's ``dictionaries`` argument."""
    return [s if isinstance(s, PronunciationDictionary) else load_dictionary(s) for s in sources]


def load_dictionary(path: str | Path) -> PronunciationDictionary:
    """A PLS (``.pls``, ``.xml``) or JSON (``.json``) file, named by its stem."""
    path = Path(path)
    source = str(path)
    if path.suffix.lower() not in SUFFIXES:
        raise LexiconError(source, f"unknown kind of file; use {', '.join(SUFFIXES)}")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LexiconError(source, f"{size} bytes; at most {MAX_FILE_BYTES}")
        data = path.read_bytes()
    except OSError as exc:
        raise LexiconError(source, f"cannot be read ({exc.strerror or exc})") from None
    if path.suffix.lower() == ".json":
        return parse_json(data, path.stem, source=source)
    return parse_pls(data, path.stem, source=source)


def parse_json(data: bytes | str, name: str, *, source: str = "") -> PronunciationDictionary:
    """A JSON dictionary (see the module's docstring for its shape)."""
    source = source or name
    if len(data) > MAX_FILE_BYTES:
        raise LexiconError(source, f"{len(data)} bytes; at most {MAX_FILE_BYTES}")
    try:
        mapping = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LexiconError(source, f"not valid JSON ({exc})") from None
    return PronunciationDictionary.from_mapping(name, mapping, source=source)


def parse_pls(data: bytes | str, name: str, *, source: str = "") -> PronunciationDictionary:
    """A W3C PLS 1.0 lexicon: its ``<alias>`` entries (``<phoneme>`` ones are skipped)."""
    source = source or name
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_FILE_BYTES:
        raise LexiconError(source, f"{len(raw)} bytes; at most {MAX_FILE_BYTES}")
    reader = _PlsReader(source)
    try:
        reader.parser.Parse(raw, True)
    except expat.ExpatError as exc:
        raise LexiconError(source, f"not valid XML ({expat.errors.messages[exc.code]}, "
                           f"line {exc.lineno})") from None  # fmt: skip
    if not reader.seen_root:
        raise LexiconError(source, "no <lexicon> element")
    return PronunciationDictionary(name, reader.entries, skipped=reader.skipped)


class _PlsReader:
    """Expat handlers for PLS: a DTD or an entity declaration stops the parse."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.entries: list[Entry] = []
        self.skipped = 0
        self.seen_root = False
        self.lang = ALL
        self._stack: list[str] = []
        self._text: list[str] = []
        self._graphemes: list[str] = []
        self._aliases: list[tuple[str, bool]] = []
        self._phonemes = 0
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self._refuse
        parser.EntityDeclHandler = self._refuse
        parser.ExternalEntityRefHandler = self._refuse
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._chars
        self.parser = parser

    def _refuse(self, *_: object) -> None:
        raise LexiconError(self.source, "a DTD or entity declaration; PLS files need neither")

    def _start(self, tag: str, attrs: dict[str, str]) -> None:
        local = tag.rsplit(" ", 1)[-1]
        if not self._stack:
            if local != "lexicon":
                raise LexiconError(self.source, f"the root element is <{local}>, not <lexicon>")
            self.seen_root = True
            code = next((v for k, v in attrs.items() if k.rsplit(" ", 1)[-1] == "lang"), None)
            self.lang = language(code, self.source) if code else ALL
        elif local == "lexeme":
            self._graphemes, self._aliases, self._phonemes = [], [], 0
        self._stack.append(local)
        self._text = []
        self._prefer = attrs.get("prefer") == "true"

    def _chars(self, data: str) -> None:
        self._text.append(data)

    def _end(self, tag: str) -> None:
        local = self._stack.pop()
        text = "".join(self._text)
        self._text = []
        if local == "grapheme":
            self._graphemes.append(text)
        elif local == "alias":
            self._aliases.append((text, self._prefer))
        elif local == "phoneme":
            self._phonemes += 1
        elif local == "lexeme":
            self._lexeme()

    def _lexeme(self) -> None:
        if not self._aliases:
            self.skipped += len(self._graphemes) if self._phonemes else 0
            return
        preferred = [a for a, prefer in self._aliases if prefer]
        alias = preferred[0] if preferred else self._aliases[0][0]
        for grapheme in self._graphemes:
            self.entries.append(entry(grapheme, alias, lang=self.lang, source=self.source))
            if len(self.entries) > MAX_ENTRIES:
                raise LexiconError(self.source, f"more than {MAX_ENTRIES} entries")
