"""What a written number is worth, and its words: shared by every rule that reads numbers.

A written number follows the language's convention ("1,234.5" / "1.234,5" / "1 234,5";
English-style decimals are accepted everywhere, since LLMs write them).
"""

from __future__ import annotations

import re
from decimal import Decimal

from . import say
from .lexicon import Lexicon

#: Currency symbols and the codes they stand for.
SYMBOLS = {
    "R$": "BRL",
    "US$": "USD",
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₩": "KRW",
    "₽": "RUB",
    "₹": "INR",
    "₺": "TRY",
}


def number_pattern(lex: Lexicon) -> str:
    """A written number in the language's convention (English-style decimals accepted
    everywhere, since LLMs write them)."""
    if lex.decimal == ".":
        return r"\d{1,3}(?:,\d{3})+(?![\d,]\d)(?:\.\d+)?|\d+\.\d+(?!\.\d)|\d+"
    groups = r"[ \u00a0\u202f]" if lex.space_groups else r"\."
    return rf"\d{{1,3}}(?:{groups}\d{{3}})+(?![\d.,]\d)(?:,\d+)?|\d+,\d+|\d+\.\d+(?!\.\d)|\d+"


def parse(text: str, lex: Lexicon) -> tuple[str, str]:
    """Whole and fraction digits of a written number ("1.234,5" in German → 1234, 5)."""
    text = re.sub(r"[ \u00a0\u202f]", "", text)
    if lex.decimal == ".":
        whole, _, frac = text.replace(",", "").partition(".")
        return whole, frac
    if "," in text:
        whole, _, frac = text.partition(",")
        return whole.replace(".", ""), frac
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", text):
        return text.replace(".", ""), ""
    whole, _, frac = text.partition(".")
    return whole, frac


def words(text: str, lang: str, lex: Lexicon, negative: bool = False) -> str | None:
    """A written number as words, or None where the language has none."""
    whole, frac = parse(text, lex)
    spoken = say.decimal(whole, frac, lang) if frac else say.cardinal(int(whole), lang)
    if spoken is None or not negative:
        return spoken
    return f"{say.minus(lang)} {spoken}"


def value(text: str, lex: Lexicon) -> Decimal:
    """What a written number is worth: the count that picks a noun's form (1 km, 2 km)."""
    whole, frac = parse(text, lex)
    return Decimal(f"{whole}.{frac or '0'}")


def forms(spec: str | tuple[str, ...]) -> tuple[str, ...]:
    """A lexicon's noun forms, written ``"процент|процента|процентов"`` or as a tuple."""
    return tuple(spec.split("|")) if isinstance(spec, str) else spec
