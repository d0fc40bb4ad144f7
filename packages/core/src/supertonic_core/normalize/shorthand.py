"""LLM shorthand: ``1.5M users``, ``10k``, ``2x faster``, ``1920x1080``, ``~50``,
``10,000+``, ``+5%``, ``#1``, ``1/2 cup``, ``4.5/5``, ``3pm``, ``9am-5pm``.

Why: replies write counts the way chat and slides do, and read digit by digit or symbol by
symbol each comes out at the wrong length: "1.5M" said "one point five M", "3pm" one
word "threepm", "#123456789" a number of nine words where a person reads the digits, "1/2"
"one two" (the slash is a space to the model). Each rule here says what a person says, in
the words of :mod:`.lexicon` (where a language has none, the written form stays).
:mod:`.numbers` places these patterns after units and before ranges and bare numbers.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import say
from .lexicon import Lexicon
from .values import SYMBOLS, parse, value, words

if TYPE_CHECKING:
    from .context import Context

_CLOCK = r"(?:1[0-2]|0?[1-9])"
_AMPM = r"[AaPp]\.?[Mm]\b\.?"
_CURRENCY = r"[$€£¥₩₽₹₺]|USD|EUR|GBP|JPY|KRW|RUB|INR|TRY"
#: Digits in a row, with no separator, from which a number is an identifier read digit by
#: digit (an order, an account, a ticket), unless it ends in 000 (a round quantity).
ID_DIGITS = 7
#: ``#`` numbers of this many digits or more are read digit by digit ("#12345").
HASH_DIGITS = 5
_UNICODE_FRACTIONS = {"½": (1, 2), "⅓": (1, 3), "⅔": (2, 3), "¼": (1, 4), "¾": (3, 4)}
#: "из пяти": Russian's "out of" takes the genitive.
_RU_GENITIVE = {"5": "пяти", "10": "десяти", "100": "ста"}
#: Languages where a count under two takes a singular noun ("1,5 million" in French).
_SINGULAR_BELOW_TWO = frozenset({"fr", "pt"})


def patterns(lang: str, lex: Lexicon, num: str, start: str) -> list[tuple[str, str]]:
    """(group, pattern) of the shorthand ``lang`` has words for; ``num`` a written number,
    ``start`` what may come before one."""
    out: list[tuple[str, str]] = []
    if lang == "en":
        out.append(
            (
                "clock",
                rf"(?<![\w.,:])(?P<ch>{_CLOCK})[ \t]?(?P<cap>{_AMPM})"
                rf"(?P<cto>[ \t]?[-–—][ \t]?(?={_CLOCK}(?::[0-5]\d)?[ \t]?{_AMPM}))?",
            )
        )
    if lex.scales:
        glued = [k for k in lex.scales if len(k) <= 2 and k.isalpha() and k.isascii()]
        spaced = [k for k in lex.scales if k not in glued]
        alt = "|".join(re.escape(k) for k in sorted(glued, key=len, reverse=True))
        words = "|".join(re.escape(k) for k in sorted(spaced, key=len, reverse=True))
        scale = rf"(?P<sglued>{alt})" + (rf"|[ \t]?(?P<sword>{words})\.?" if words else "")
        out.append(
            (
                "scale",
                start + rf"(?P<ssign>[-−])?(?P<snum>{num})(?:{scale})(?![\w])"
                rf"(?:[ \t]?(?P<scur>{_CURRENCY})(?![\w]))?",
            )
        )
    if lex.fractions:
        out.append(
            ("fraction", start + r"(?:(?P<fa>[1-4])/(?P<fb>[234])(?![\d/])|(?P<fu>[½⅓⅔¼¾]))")
        )
    if lex.out_of:
        out.append(
            ("out_of", start + rf"(?P<oa>{num})[ \t]?/[ \t]?(?P<ob>5|10|100)(?![\d/]|[.,]\d)")
        )
    if lex.by:
        out.append(
            ("dimension", start + rf"(?!0[xX])(?P<xa>{num})[ \t]?[x×][ \t]?(?P<xb>{num})(?![\w])")
        )
    if lex.times:
        out.append(("times", start + rf"(?P<xnum>{num})(?:[x×]|[ \t]×)(?![\w])"))
    if lex.number_sign:
        out.append(("hash", r"(?<![\w&#])#(?P<hnum>\d+)(?![\w])"))
    if lex.about:
        out.append(("about", r"(?<![\w~])~[ \t]?(?=[-−]?(?:[$€£¥₩₽₹₺][ \t]?)?\d)"))
    if lex.plus:
        out.append(("plus_sign", r"(?<![\w+])\+(?=(?:[$€£¥₩₽₹₺][ \t]?)?\d)"))
        out.append(("plus_after", r"(?<=\d)\+(?![\w+])"))
    return out


def clock(m: re.Match[str], ctx: Context) -> None:
    """``3pm`` → "three p m"; ``9am-5pm`` → "nine a m to five p m"."""
    hour = say.cardinal(int(m["ch"]), "en") or m["ch"]
    letters = m["cap"].lower().replace(".", "")
    spoken = f"{hour} {letters[0]} {letters[1]}" + ("." if m["cap"].endswith(".") else "")
    ctx.say(spoken + (f" {ctx.lex.range_word} " if m["cto"] else ""), m.start(), m.end())


def scale(m: re.Match[str], ctx: Context) -> None:
    """``10k`` → "ten thousand", ``1.5M`` → "one point five million", ``2,5 Mio. €`` →
    "zwei Komma fünf Millionen Euro": a whole count is said as the whole number, a
    fraction as the number and the scale word."""
    power, forms = ctx.lex.scales[m["sglued"] or m["sword"]]
    whole, frac = parse(m["snum"], ctx.lex)
    negative = bool(m["ssign"])
    if not frac:
        spoken = say.cardinal(int(whole) * 10**power, ctx.lang)
        if spoken is not None and negative:
            spoken = f"{say.minus(ctx.lang)} {spoken}"
    else:
        number = words(m["snum"], ctx.lang, ctx.lex, negative)
        count = value(m["snum"], ctx.lex)
        if ctx.lang in _SINGULAR_BELOW_TWO and abs(count) < 2:
            noun = forms[0]
        else:
            noun = say.plural(count, forms, ctx.lang)
        spoken = None if number is None else f"{number} {noun}"
    if spoken is not None and m["scur"]:
        currency = _currency(m["scur"], ctx)
        spoken = None if currency is None else f"{spoken} {currency}"
    ctx.say_or_copy(spoken, m)


def _currency(written: str, ctx: Context) -> str | None:
    """A currency's name after a scale word ("Millionen Euro", "миллионов рублей")."""
    code = SYMBOLS.get(written, written)
    forms = ctx.lex.currencies.get(code)
    if forms is None:
        library = say.currency_forms(code, ctx.lang)
        forms = library[0] if library else None
    return None if forms is None else forms[-1]


def fraction(m: re.Match[str], ctx: Context) -> None:
    """``1/2`` → "one half", ``3/4`` → "three quarters", ``½``; other fractions stay."""
    pair = _UNICODE_FRACTIONS[m["fu"]] if m["fu"] else (int(m["fa"]), int(m["fb"]))
    ctx.say_or_copy(ctx.lex.fractions.get(pair), m)


def out_of(m: re.Match[str], ctx: Context) -> None:
    """``4.5/5`` → "four point five out of five", ``9/10`` → "nine out of ten"."""
    a = words(m["oa"], ctx.lang, ctx.lex)
    b = _RU_GENITIVE[m["ob"]] if ctx.lang == "ru" else say.cardinal(int(m["ob"]), ctx.lang)
    ctx.say_or_copy(None if a is None or b is None else f"{a} {ctx.lex.out_of} {b}", m)


def dimension(m: re.Match[str], ctx: Context) -> None:
    """``1920x1080`` → "one thousand nine hundred and twenty by one thousand and eighty"."""
    a, b = words(m["xa"], ctx.lang, ctx.lex), words(m["xb"], ctx.lang, ctx.lex)
    ctx.say_or_copy(None if a is None or b is None else f"{a} {ctx.lex.by} {b}", m)


def times(m: re.Match[str], ctx: Context) -> None:
    """``2x`` → "two times", ``1.5×`` → "one point five times"."""
    number = words(m["xnum"], ctx.lang, ctx.lex)
    noun = say.plural(value(m["xnum"], ctx.lex), ctx.lex.times, ctx.lang)
    ctx.say_or_copy(None if number is None else f"{number} {noun}", m)


def hash_(m: re.Match[str], ctx: Context) -> None:
    """``#1`` → "number one"; ``#48213`` → "number four eight two one three"."""
    digits = m["hnum"]
    if len(digits) >= HASH_DIGITS or digits.startswith("0"):
        spoken: str | None = say.digits(digits, ctx.lang) if say.supported(ctx.lang) else None
    else:
        spoken = say.cardinal(int(digits), ctx.lang)
    ctx.say_or_copy(None if spoken is None else f"{ctx.lex.number_sign} {spoken}", m)


def about(m: re.Match[str], ctx: Context) -> None:
    """``~50`` → "about fifty" (the number by its own rule)."""
    ctx.say(f"{ctx.lex.about} ", m.start(), m.end())


def plus_sign(m: re.Match[str], ctx: Context) -> None:
    """``+5%`` → "plus five percent"."""
    ctx.say(f"{ctx.lex.plus} ", m.start(), m.end())


def plus_after(m: re.Match[str], ctx: Context) -> None:
    """``10,000+`` → "ten thousand plus"."""
    ctx.say(f" {ctx.lex.plus}", m.start(), m.end())


def identifier(digits: str, lang: str) -> str | None:
    """A long run of digits read digit by digit (an order or account number), or None
    where it is a quantity (:data:`ID_DIGITS`)."""
    if not digits.isdigit() or len(digits) < ID_DIGITS or digits.endswith("000"):
        return None
    if not say.supported(lang):
        return None
    return say.digits(digits, lang)


HANDLERS = {
    "clock": clock,
    "scale": scale,
    "fraction": fraction,
    "out_of": out_of,
    "dimension": dimension,
    "times": times,
    "hash": hash_,
    "about": about,
    "plus_sign": plus_sign,
    "plus_after": plus_after,
}
