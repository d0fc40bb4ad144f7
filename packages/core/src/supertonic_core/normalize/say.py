"""Numbers as words, per language, through ``num2words``.

Why a wrapper: ``num2words`` covers 26 of the model's 31 languages, but not every call in
each (ordinals are missing in Czech, Latvian, ...; currency codes vary; it treats a whole
currency amount as cents). Every function here returns None where the library cannot say
the value, and the caller then keeps the digits, which the model reads as before.
Turkish is written here (:func:`turkish`): ``num2words`` runs its words together
("binikiyüzotuzdört"), one word the length of a sentence to a character model.
"""

from __future__ import annotations

import functools
from decimal import Decimal, InvalidOperation

from num2words import CONVERTER_CLASSES, num2words

#: Languages whose num2words reads a decimal fraction well as a whole number ("целых ...
#: сотых"); elsewhere the fraction is read digit by digit after the decimal word.
_FRACTION_BY_LIBRARY = frozenset({"ru", "uk", "pl", "cs", "sk", "lt", "lv", "hu"})
#: Languages that read a two-digit fraction as a number ("douze virgule cinquante").
_FRACTION_AS_NUMBER = frozenset({"fr", "it", "es", "pt", "ro", "vi", "id", "tr"})
#: num2words years that are worse than the cardinal (Japanese era names, Korean 년).
_YEAR_BY_LIBRARY = frozenset({"en", "de", "nl", "da", "fr", "es", "pt", "it"})
#: Where num2words has no word for the mark, or the word of another country (Spain says
#: "coma" where num2words' Spanish says "punto").
_POINT = {"vi": "phẩy", "it": "virgola", "es": "coma"}
_MINUS = {"it": "meno"}
#: Spelling slips in num2words' output.
_FIXES = {"sv": (("etttusen", "ettusen"),)}
_MAX_WORDS = 10**15  # longer runs of digits are read digit by digit

_KO_NATIVE_UNITS = ("", "한", "두", "세", "네", "다섯", "여섯", "일곱", "여덟", "아홉")
_KO_NATIVE_TENS = ("", "열", "스물", "서른", "마흔", "쉰", "예순", "일흔", "여든", "아흔")


_TR_ONES = ("", "bir", "iki", "üç", "dört", "beş", "altı", "yedi", "sekiz", "dokuz")
_TR_TENS = ("", "on", "yirmi", "otuz", "kırk", "elli", "altmış", "yetmiş", "seksen", "doksan")
_TR_SCALES = ((10**12, "trilyon"), (10**9, "milyar"), (10**6, "milyon"), (10**3, "bin"))
#: The ordinal suffix after a word's last vowel (vowel harmony): -ıncı, -inci, -uncu, -üncü.
_TR_HARMONY = {"a": "ı", "ı": "ı", "e": "i", "i": "i", "o": "u", "u": "u", "ö": "ü", "ü": "ü"}


def turkish(value: int, *, ordinal: bool = False) -> str:
    """Turkish number words, spaced: 1234 → "bin iki yüz otuz dört" (ordinal: "... dördüncü")."""
    if value == 0:
        words = ["sıfır"]
    else:
        words = []
        rest = value
        for size, name in _TR_SCALES:
            count, rest = divmod(rest, size)
            if count:
                words += ([] if count == 1 and size == 1000 else _tr_hundreds(count)) + [name]
        words += _tr_hundreds(rest)
    if ordinal:
        last = words[-1]
        vowel = next(c for c in reversed(last) if c in _TR_HARMONY)
        v = _TR_HARMONY[vowel]
        stem = "dörd" if last == "dört" else last
        words[-1] = stem + (f"nc{v}" if last[-1] in _TR_HARMONY else f"{v}nc{v}")
    return " ".join(words)


def _tr_hundreds(value: int) -> list[str]:
    hundreds, rest = divmod(value, 100)
    tens, ones = divmod(rest, 10)
    words = ([] if hundreds == 1 else [_TR_ONES[hundreds]]) + ["yüz"] if hundreds else []
    return words + [w for w in (_TR_TENS[tens], _TR_ONES[ones]) if w]


def supported(lang: str) -> bool:
    """Whether ``num2words`` speaks ``lang`` at all."""
    return lang in CONVERTER_CLASSES


@functools.lru_cache(maxsize=4096)
def cardinal(value: int, lang: str) -> str | None:
    """``1234`` → "one thousand, two hundred and thirty-four" (commas dropped)."""
    if not supported(lang) or abs(value) >= _MAX_WORDS:
        return None
    if value < 0:
        inner = cardinal(-value, lang)
        return None if inner is None else f"{minus(lang)} {inner}"
    if lang == "tr":
        return turkish(value)
    return _call(value, lang)


def minus(lang: str) -> str:
    """The word for a negative sign."""
    if not supported(lang):
        return "-"
    word = getattr(CONVERTER_CLASSES[lang], "negword", None) or _MINUS.get(lang, "-")
    return word.strip()


@functools.lru_cache(maxsize=1024)
def ordinal(value: int, lang: str) -> str | None:
    """``21`` → "twenty-first"; None where the library has no ordinals."""
    if not supported(lang) or not 0 < value < _MAX_WORDS:
        return None
    if lang == "tr":
        return turkish(value, ordinal=True)
    return _call(value, lang, to="ordinal")


def year(value: int, lang: str) -> str | None:
    """``1999`` → "nineteen ninety-nine" where the language reads years in pairs."""
    if lang in _YEAR_BY_LIBRARY:
        return _call(value, lang, to="year")
    return cardinal(value, lang)


def decimal(whole: str, fraction: str, lang: str) -> str | None:
    """``("3", "14")`` → "three point one four" (or the language's own reading)."""
    if not supported(lang):
        return None
    if lang in _FRACTION_BY_LIBRARY:
        try:
            return _call(Decimal(f"{whole}.{fraction}"), lang)
        except InvalidOperation:
            return None
    head = cardinal(int(whole), lang)
    point = point_word(lang)
    if head is None:
        return None
    if lang in _FRACTION_AS_NUMBER and len(fraction) <= 2 and not fraction.startswith("0"):
        tail = cardinal(int(fraction), lang)
    else:
        tail = digits(fraction, lang)
    return f"{head} {point} {tail}"


def point_word(lang: str) -> str:
    """The word for the decimal mark ("point", "Komma", "virgule", 点)."""
    word = _POINT.get(lang) or getattr(CONVERTER_CLASSES[lang], "pointword", None) or "."
    return word[0] if isinstance(word, tuple) else word  # Japanese gives (kanji, kana)


def digits(text: str, lang: str) -> str:
    """Each digit as a word: "0100" → "zero one zero zero"."""
    return " ".join(cardinal(int(d), lang) or d for d in text if d.isdigit())


def plural(count: Decimal | int, forms: tuple[str, ...], lang: str) -> str:
    """The form of a counted noun: one form, (singular, plural), or Slavic (1, 2-4, 5+)."""
    if len(forms) == 1:
        return forms[0]
    whole = isinstance(count, int) or count == count.to_integral_value()
    if not whole:
        return forms[1]  # "2.5 kilometers", "2,5 километра"
    n = abs(int(count))
    if len(forms) == 2:
        return forms[0] if n == 1 else forms[1]
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


def currency_forms(code: str, lang: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(unit forms, cent forms) of a currency in num2words' own table, if it has one."""
    table = getattr(CONVERTER_CLASSES.get(lang), "CURRENCY_FORMS", {})
    forms = table.get(code)
    if not forms or not all(isinstance(f, tuple | list) and f for f in forms[:2]):
        return None  # Korean's table has no cent forms, for one
    return tuple(forms[0]), tuple(forms[1])


def korean_native(value: int) -> str | None:
    """Native Korean numbers before counters (세 시, 다섯 개), 1..99; None beyond."""
    if not 0 < value < 100:
        return None
    tens, units = divmod(value, 10)
    word = _KO_NATIVE_TENS[tens] + _KO_NATIVE_UNITS[units]
    return "스무" if value == 20 else word


def _call(value: int | Decimal, lang: str, **kwargs: str) -> str | None:
    try:
        words = num2words(value, lang=lang, **kwargs)
    except (NotImplementedError, ValueError, TypeError, AttributeError, KeyError, IndexError):
        return None
    words = " ".join(words.replace(",", " ").split())
    for wrong, right in _FIXES.get(lang, ()):
        words = words.replace(wrong, right)
    return words or None
