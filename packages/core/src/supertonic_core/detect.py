"""``"lang": "auto"``: guess the language of a text among the model's languages.

:func:`detect` names the language of a whole request (the server's HTTP answer says which
detector decided, ``X-Language-Detection``); :func:`confident` the language of one
sentence only when the evidence is clear, which is what a stream with ``detect_lang``
gives each sentence (see :mod:`.normalize.streaming`). Two detectors:

* ``lingua``: the statistical detector of ``lingua-language-detector``, restricted to the
  model's languages, used when that package is installed (``pip install
  "supertonic-core[detect]"``, or the server's ``[detect]`` extra). Accurate on short
  text too.
* ``heuristic``: always available, no dependency. The writing system settles Korean,
  Japanese, Arabic, Hindi and Greek; Cyrillic text is Ukrainian or Bulgarian when their own
  letters appear, Russian otherwise; Latin text is scored by letters typical of one language
  (``ß``, ``ñ``, ``ő``, ``ğ``, …) and by frequent function words. Good on sentences, weak on
  a word or two.

When neither finds any evidence (digits only, a name), the server's default language is
used and the header says ``default``.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

logger = logging.getLogger("supertonic_core")
#: lingua's confidence a sentence must reach to be given its language.
CONFIDENCE = 0.7
#: Share of a text's letters a non-Latin script must have to settle its language.
SCRIPT_SHARE = 0.6

#: Letters that point at one language (or a pair) in Latin script.
_LETTERS: dict[str, str] = {
    "ß": "de",
    "ñ": "es",
    "¿": "es",
    "¡": "es",
    "ã": "pt",
    "õ": "pt",
    "ç": "fr",
    "œ": "fr",
    "è": "fr",
    "ê": "fr",
    "ù": "fr",
    "ì": "it",
    "ò": "it",
    "ő": "hu",
    "ű": "hu",
    "ğ": "tr",
    "ı": "tr",
    "ş": "tr",
    "ș": "ro",
    "ț": "ro",
    "ă": "ro",
    "ł": "pl",
    "ń": "pl",
    "ś": "pl",
    "ź": "pl",
    "ż": "pl",
    "ą": "pl",
    "ę": "pl",
    "ě": "cs",
    "ř": "cs",
    "ů": "cs",
    "ľ": "sk",
    "ĺ": "sk",
    "ŕ": "sk",
    "ô": "sk",
    "ė": "lt",
    "į": "lt",
    "ų": "lt",
    "ā": "lv",
    "ē": "lv",
    "ī": "lv",
    "ģ": "lv",
    "ķ": "lv",
    "ļ": "lv",
    "ņ": "lv",
    "đ": "hr",
    "ć": "hr",
    "æ": "da",
    "ø": "da",
    "å": "sv",
    "ä": "de",
    "ö": "de",
    "ü": "de",
    "č": "sl",
    "š": "sl",
    "ž": "sl",
}

#: Frequent function words per Latin-script language (a word list is a vote, not a verdict).
_WORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "the and is are of to in that it you was for with this be have not",
        "de": "der die das und ist nicht ich sie es ein eine zu mit den auf wir",
        "nl": "de het een en is niet ik je van dat op te zijn met voor",
        "fr": "le la les et est une un des je il elle pas que du pour dans ce",
        "es": "el la los las y es un una de que no en por con para se lo",
        "pt": "o a os as e é um uma de que não em para com do da se",
        "it": "il lo la gli le e è un una di che non per con del della sono",
        "id": "yang dan di ini itu dengan untuk tidak ada saya dari ke akan",
        "sv": "och är det att jag en ett inte som på med för av har",
        "da": "og er det at jeg en et ikke som på med for af har den",
        "fi": "ja on ei se että hän minä olen mutta kun tämä oli",
        "et": "ja on ei see et ta mina kui aga oli ole",
        "pl": "i w nie się na to jest że do z jak co",
        "cs": "a je se na to že v ne jsem jak do",
        "sk": "a je sa na to že v nie som ako do",
        "sl": "in je se na da ne v so za to",
        "hr": "i je se na da ne u su za to",
        "ro": "și este în nu de la un o cu pe care",
        "hu": "a az és egy hogy nem is van ez de",
        "tr": "ve bir bu da de için ile ne çok",
        "vi": "và là của có không một những được cho với",
        "lt": "ir yra kad ne tai su į kaip",
        "lv": "un ir ka ne tas ar uz kā",
    }.items()
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def _script_counts(text: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for ch in text:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        script = name.split(" ")[0]
        if script in ("HANGUL",):
            counts["ko"] += 1
        elif script in ("HIRAGANA", "KATAKANA", "CJK"):
            counts["ja"] += 1
        elif script == "ARABIC":
            counts["ar"] += 1
        elif script == "DEVANAGARI":
            counts["hi"] += 1
        elif script == "GREEK":
            counts["el"] += 1
        elif script == "CYRILLIC":
            counts["cyrillic"] += 1
        elif script == "LATIN":
            counts["latin"] += 1
    return counts


def _cyrillic(text: str) -> str:
    low = text.lower()
    if any(c in low for c in "іїєґ"):
        return "uk"
    if "ъ" in low and not any(c in low for c in "ыэё"):
        return "bg"
    return "ru"


def _latin_votes(text: str) -> Counter[str]:
    """Votes per language of Latin-script text: 2 a telling letter, 1 a function word
    (Vietnamese's own letters settle it)."""
    low = text.lower()
    votes: Counter[str] = Counter()
    if any("\u1ea0" <= c <= "\u1ef9" for c in low) or "ơ" in low or "ư" in low:
        votes["vi"] = 1000
        return votes
    for ch in low:
        if ch in _LETTERS:
            votes[_LETTERS[ch]] += 2
    for word in _WORD.findall(low):
        for lang, words in _WORDS.items():
            if word in words:
                votes[lang] += 1
    return votes


def _latin(text: str) -> str | None:
    votes = _latin_votes(text)
    return votes.most_common(1)[0][0] if votes else None


def heuristic(text: str) -> str | None:
    """The script/letter/word guess described in the module docstring, or None."""
    counts = _script_counts(text)
    if not counts:
        return None
    script, _ = counts.most_common(1)[0]
    if script == "cyrillic":
        return _cyrillic(text)
    if script == "latin":
        return _latin(text)
    return script


@functools.cache
def _lingua(languages: tuple[str, ...]) -> object | None:
    try:
        from lingua import IsoCode639_1, LanguageDetectorBuilder
    except ImportError:
        return None
    wanted = []
    for code in languages:
        iso = getattr(IsoCode639_1, code.upper(), None)
        if iso is not None:
            wanted.append(iso)
    logger.info("language detection: lingua over %d languages", len(wanted))
    return LanguageDetectorBuilder.from_iso_codes_639_1(*wanted).build()


def warm_up(languages: Sequence[str]) -> str:
    """Build the detector now (lingua loads its models on first use: seconds); returns the
    method ``auto`` will use, ``lingua`` or ``heuristic``."""
    allowed = tuple(lang for lang in languages if lang != "na")
    detector = _lingua(allowed)
    if detector is None:
        return "heuristic"
    detector.detect_language_of("warm up")  # type: ignore[attr-defined]
    return "lingua"


def detect(text: str, languages: Sequence[str], default: str) -> tuple[str, str]:
    """``(language, method)`` for ``text``; method is ``lingua``, ``heuristic`` or ``default``."""
    allowed = tuple(lang for lang in languages if lang != "na")
    detector = _lingua(allowed)
    if detector is not None:
        found = detector.detect_language_of(text)  # type: ignore[attr-defined]
        if found is not None:
            code = found.iso_code_639_1.name.lower()
            if code in allowed:
                return code, "lingua"
    guess = heuristic(text)
    if guess is not None and guess in allowed:
        return guess, "heuristic"
    return default, "default"


def confident(text: str, languages: Sequence[str]) -> str | None:
    """The language of ``text`` (a sentence) when the evidence is clear, else None.

    With lingua: its language when its confidence is at least :data:`CONFIDENCE`. Else (and
    where lingua is unsure) the heuristic's, when one script other than Latin has most of
    the letters, or when the Latin letters and words vote for one language at least twice,
    and twice as often as for any other.
    """
    allowed = tuple(lang for lang in languages if lang != "na")
    detector = _lingua(allowed)
    if detector is not None:
        values = detector.compute_language_confidence_values(text)  # type: ignore[attr-defined]
        if values and values[0].value >= CONFIDENCE:
            code = values[0].language.iso_code_639_1.name.lower()
            if code in allowed:
                return code
    guess = _sure(text)
    return guess if guess in allowed else None


def _sure(text: str) -> str | None:
    counts = _script_counts(text)
    letters = sum(counts.values())
    if not letters:
        return None
    script, count = counts.most_common(1)[0]
    if script != "latin":
        if count < 2 or count < SCRIPT_SHARE * letters:
            return None
        return _cyrillic(text) if script == "cyrillic" else script
    ranked = _latin_votes(text).most_common(2)
    if not ranked or ranked[0][1] < 2:
        return None
    if len(ranked) > 1 and ranked[0][1] < 2 * ranked[1][1]:
        return None
    return ranked[0][0]
