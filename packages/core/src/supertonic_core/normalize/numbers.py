"""Numbers in context: amounts, percentages, dates, times, units, phone numbers, ranges,
ordinals, years, Roman numerals and abbreviations, per language.

Why one module: these rules compete for the same digits ("2026-12-01" is a date, not a
range; "415-555-0100" a phone number), so their patterns are ordered here, most specific
first. Each handler says the match with :mod:`.say` and :mod:`.lexicon`, or copies it
unchanged where the language has no words for it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import say, shorthand
from .lexicon import Lexicon
from .values import SYMBOLS, forms, number_pattern, parse, value, words

if TYPE_CHECKING:
    from .context import Context

_SYMBOL = r"R\$|US\$|[$€£¥₩₽₹₺]"
_CODES = "USD|EUR|GBP|JPY|KRW|RUB|INR|CHF|CNY|TRY"
_SCALES = {"thousand": 3, "k": 3, "K": 3, "million": 6, "M": 6, "billion": 9, "B": 9, "bn": 9}
_SPACE = "[ \t\u00a0\u202f]?"
_ORDINAL_SUFFIX = {
    "en": r"st|nd|rd|th",
    "fr": r"ères|ère|ers|er|res|re|èmes|ème|es|e|è",
    "es": r"\.?[ºª]",
    "pt": r"\.?[ºª]",
    "it": r"\.?[ºª]",
    "ru": r"-(?:й|я|е|го|му|м|ю|х|ой|ый|ий|ая|ое|ье)",
}
_TITLE_CASE_WORD = r"\b[A-ZÀ-ÖØ-ÞА-ЯЁ][^\W\d_]+[ \t]+"
_CYRILLIC_WORD = re.compile(r"[А-ЯЁа-яё]+")
#: I to MMMCMXCIX; one letter (I, V, X) only after a counting word (see :func:`roman`).
_ROMAN = (
    r"(?=[IVXLCDM]+\b)M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})\b"
    r"(?![.'’-]?\w)"
)
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
#: Letters in capitals that read as Roman numerals but are mostly something else.
_NOT_ROMAN = frozenset(
    [
        "CD",
        "DC",
        "CV",
        "MD",
        "MC",
        "DM",
        "MM",
        "CC",
        "CM",
        "DI",
        "MI",
        "LI",
        "CI",
        "XL",
        "DIV",
        "MIX",
        "MIL",
        "CLI",
        "LCD",
        "MDM",
        "DCL",
        "CCL",
        "VC",
    ]
)
_KO_COUNTERS = "시간|시|개|명|살|마리|번째|번|잔|권|달"
_EN_DECADE = r"(?P<dec>1[1-9]\d0|20\d0)s\b|(?:(?<=[Tt]he )|')(?P<dec2>[2-9]0)s\b"
_YEAR = r"(?P<yval>1[1-9]\d\d|20\d\d)(?![\d.,]?\d)"


def patterns(lang: str, lex: Lexicon) -> list[tuple[str, str]]:
    """(group, pattern) for ``lang``, most specific first."""
    num = f"(?:{number_pattern(lex)})"
    start = r"(?<![\d.,A-Za-z])" if lang in ("ko", "ja") else r"(?<![\w.,])"
    sign = r"(?:[-−](?=[$€£¥₩₽₹₺]?\d))?"
    after = r"(?![A-Za-z\d/²³])" if lang in ("ko", "ja") else r"(?![\w/²³])"
    units = "|".join(re.escape(u) for u in sorted(lex.units, key=len, reverse=True))
    out = [
        ("iso", r"(?<![\d.])(?P<iy>\d{4})-(?P<im>0[1-9]|1[0-2])-(?P<id>0[1-9]|[12]\d|3[01])(?!\d)"),
        ("dmy", r"(?<![\d./])(?P<da>\d{1,2})(?P<dsep>[./])(?P<db>\d{1,2})(?P=dsep)(?P<dy>\d{4})(?!\d)"),
        ("time", r"(?<![\d:.,])(?P<th>[01]?\d|2[0-3]):(?P<tm>[0-5]\d)(?::[0-5]\d)?(?![\d:])"
                 r"(?:[ \t]?(?P<ampm>[AaPp]\.?[Mm]\b\.?))?"
                 r"(?P<tto>[ \t]?[-–—][ \t]?(?=(?:[01]?\d|2[0-3]):[0-5]\d))?"),
        ("phone", r"(?<![\w+])(?:\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}|\(\d{2,4}\)[ .-]?\d{3,4}[ .-]?\d{3,4}"
                  r"|\d{3}[-.]\d{3}[-.]\d{4})(?!\d)"),
        ("version", start + r"\d+(?:\.\d+){2,}(?![\d])"),
        ("money_range", start + rf"(?P<gsym>{_SYMBOL})(?P<gnum>{num})[ \t]?[-–—][ \t]?(?P=gsym)?(?P<gnum2>{num})"),
        ("money", start + rf"(?P<msign>[-−])?(?P<msym>{_SYMBOL})[ \t]?(?P<mnum>{num})"
                  rf"(?:[ \t]?(?P<mscale>thousand|million|billion|bn|[kKMB])\b)?"),
        ("money_after", start + rf"(?P<asign>[-−])?(?P<anum>{num}){_SPACE}(?P<acur>[$€£¥₩₽₹₺]|{_CODES})(?![\w])"),
        ("money_code", rf"\b(?P<pcode>{_CODES}){_SPACE}(?P<psign>[-−])?(?P<pnum>{num})"),
        ("percent", start + rf"(?P<csign>[-−])?(?P<cnum>{num}){_SPACE}%"),
    ]  # fmt: skip
    if lex.percent_first:
        out.append(("percent_first", rf"%(?P<fnum>{num})"))
    if lang in _ORDINAL_SUFFIX:
        out.append(("ordinal", start + rf"(?P<ord>\d+)(?P<osuf>{_ORDINAL_SUFFIX[lang]})(?![\w])"))
    if lang == "de":  # "3. Mai", "am 3. Mai", "der 2. Platz": the dot makes an ordinal
        months = "|".join(lex.months)
        out.append(
            (
                "ordinal_dot",
                start + rf"(?P<odnum>\d{{1,3}})\.(?=[ \t]+(?:(?P<odmonth>"
                rf"{months})\b|[A-ZÄÖÜ]|bis\b|und\b))",
            )
        )
    if lang == "tr":  # "3. sınıf": Turkish writes every ordinal with a dot
        out.append(("ordinal_dot", start + r"(?P<odnum>\d{1,4})\.(?=[ \t]+[a-zçğıöşü])"))
    if lang == "ko":
        out.append(("counter", start + rf"(?P<knum>\d{{1,2}})[ \t]?(?P<kword>{_KO_COUNTERS})"))
    if lang == "en":  # before units: "1990s" is not seconds ("90s" after "the" neither)
        out.append(("decade", _EN_DECADE))
    if units:
        out.append(
            (
                "unit",
                start + rf"(?P<usign>[-−])?(?P<unum>{num}){_SPACE}(?P<uname>{units}){after}",
            )
        )
    out += shorthand.patterns(lang, lex, num, start)
    if lex.range_word is not None:
        out.append(("range", start + rf"(?P<rnum>{num})[ \t]?[-–—~][ \t]?(?=[$€£¥₩₽₹₺]?\d)"))
    if lex.year_words:
        words = "|".join(
            f"[{w[0].upper()}{w[0].lower()}]{re.escape(w[1:])}" for w in lex.year_words
        )
        amount = (
            rf"{_SPACE}(?:[%€$£¥₩₽₹₺]|(?:{units or _CODES}){after})"  # "bis 2000 €": not a year
        )
        out.append(("year", rf"(?P<yctx>\b(?:{words})[ \t]+){_YEAR}(?!{amount})"))
    out += [
        ("roman", rf"(?P<rprev>{_TITLE_CASE_WORD})(?P<rnumeral>{_ROMAN})"),
        ("number", start + rf"(?P<nsign>{sign})(?P<num>{num})"),
    ]
    if lex.abbreviations:
        keys = sorted(lex.abbreviations, key=len, reverse=True)
        out.append(("abbr", r"(?<![\w.])(?:" + "|".join(map(re.escape, keys)) + r")(?!\w)"))
    if lex.and_word is not None:
        out.append(("amp", r"(?<=[ \t])&(?=[ \t])"))
    return out


# ------------------------------------------------------------------ handlers


def number(m: re.Match[str], ctx: Context) -> None:
    """A number; a long run of digits (an order or account number) digit by digit."""
    spoken = None if m["nsign"] else shorthand.identifier(m["num"], ctx.lang)
    ctx.say_or_copy(spoken or words(m["num"], ctx.lang, ctx.lex, bool(m["nsign"])), m)


def version(m: re.Match[str], ctx: Context) -> None:
    """``1.2.3`` → "one point two point three"."""
    parts = [say.cardinal(int(p), ctx.lang) for p in m[0].split(".")]
    dot = say.supported(ctx.lang) and say.point_word(ctx.lang)
    ok = all(parts) and dot
    ctx.say_or_copy(f" {dot} ".join(parts) if ok else None, m)  # type: ignore[arg-type]


def percent(m: re.Match[str], ctx: Context) -> None:
    spoken = words(m["cnum"], ctx.lang, ctx.lex, bool(m["csign"]))
    if spoken is None or ctx.lex.percent is None:
        ctx.say_or_copy(None, m)
        return
    count = value(m["cnum"], ctx.lex)
    ctx.say(f"{spoken} {say.plural(count, forms(ctx.lex.percent), ctx.lang)}", m.start(), m.end())


def percent_first(m: re.Match[str], ctx: Context) -> None:
    spoken = words(m["fnum"], ctx.lang, ctx.lex)
    ctx.say_or_copy(None if spoken is None else f"{ctx.lex.percent} {spoken}", m)


def unit(m: re.Match[str], ctx: Context) -> None:
    spoken = words(m["unum"], ctx.lang, ctx.lex, bool(m["usign"]))
    forms = ctx.lex.units[m["uname"]]
    if spoken is None:
        ctx.say_or_copy(None, m)
        return
    noun = say.plural(value(m["unum"], ctx.lex), forms, ctx.lang)
    ctx.say(f"{spoken} {noun}", m.start(), m.end())


def range_(m: re.Match[str], ctx: Context) -> None:
    """``3-5`` → "three to five": the first number and the dash here; the second number
    (with its unit or percent sign) is read by its own rule."""
    spoken = words(m["rnum"], ctx.lang, ctx.lex)
    joiner = ctx.lex.range_word
    if spoken is None:
        ctx.say_or_copy(None, m)
    elif joiner == "-":
        ctx.say(f"{spoken}-", m.start(), m.end())
    else:
        ctx.say(f"{spoken} {joiner} ", m.start(), m.end())


def money_range(m: re.Match[str], ctx: Context) -> None:
    """``$5-10`` → "five to ten dollars"."""
    first = words(m["gnum"], ctx.lang, ctx.lex)
    second = _amount(SYMBOLS[m["gsym"]], m["gnum2"], False, None, ctx)
    joiner = f" {ctx.lex.range_word} " if ctx.lex.range_word != "-" else "-"
    ok = first is not None and second is not None and ctx.lex.range_word is not None
    ctx.say_or_copy(f"{first}{joiner}{second}" if ok else None, m)


def money(m: re.Match[str], ctx: Context) -> None:
    """``$12.50`` → "twelve dollars fifty", ``€5`` → "five euros", ``$2M`` → "two million
    dollars"; kept as written where the currency has no name in the language."""
    if m["msym"] is not None:
        code, text, neg, scale = SYMBOLS[m["msym"]], m["mnum"], m["msign"], m["mscale"]
    elif m["acur"] is not None:
        code, text, neg, scale = SYMBOLS.get(m["acur"], m["acur"]), m["anum"], m["asign"], None
    else:
        code, text, neg, scale = m["pcode"], m["pnum"], m["psign"], None
    ctx.say_or_copy(_amount(code, text, bool(neg), scale, ctx), m)


def _amount(code: str, text: str, negative: bool, scale: str | None, ctx: Context) -> str | None:
    lang, lex = ctx.lang, ctx.lex
    known = lex.currencies.get(code)
    library = say.currency_forms(code, lang)
    unit_forms = known or (library[0] if library else None)
    if unit_forms is None:
        return None
    whole, frac = parse(text, lex)
    minus = f"{say.minus(lang)} " if negative else ""
    if scale is not None:
        if lang != "en":
            return None
        amount = words(text, lang, lex)
        big = {3: "thousand", 6: "million", 9: "billion"}[_SCALES[scale]]
        return f"{minus}{amount} {big} {say.plural(2, unit_forms, lang)}"
    if len(unit_forms) == 1 or len(frac) not in (0, 2):  # 12.5달러, $0.005: a plain number
        amount = words(text.rstrip("0").rstrip(".,") if frac else text, lang, lex)
        noun = say.plural(value(text, lex), unit_forms, lang)
        return None if amount is None else f"{minus}{amount} {noun}"
    units = say.cardinal(int(whole), lang)
    if units is None:
        return None
    spoken = f"{minus}{units} {say.plural(int(whole), unit_forms, lang)}"
    if frac and int(frac):
        spoken += f" {say.cardinal(int(frac), lang)}"
    return spoken


def phone(m: re.Match[str], ctx: Context) -> None:
    """``+1 415 555 0100`` → "plus one, four one five, five five five, zero one zero zero"."""
    if not say.supported(ctx.lang):
        ctx.say_or_copy(None, m)
        return
    groups = [say.digits(g, ctx.lang) for g in re.findall(r"\d+", m[0])]
    plus = f"{ctx.lex.plus} " if m[0].startswith("+") and ctx.lex.plus else ""
    ctx.say(plus + ", ".join(groups), m.start(), m.end())


def ordinal(m: re.Match[str], ctx: Context) -> None:
    n, suffix, lang = int(m["ord"]), m["osuf"], ctx.lang
    spoken = say.ordinal(n, lang)
    if spoken is not None and lang == "fr" and n == 1:
        spoken = "première" if suffix.startswith(("re", "ère")) else "premier"
    elif spoken is not None and lang in ("es", "pt", "it") and suffix.endswith("ª"):
        spoken = " ".join(w[:-1] + "a" if w.endswith("o") else w for w in spoken.split())
    elif spoken is not None and lang == "ru":
        spoken = _ru_gender(spoken, suffix)
    ctx.say_or_copy(spoken, m)


def _ru_gender(masculine: str, suffix: str) -> str:
    """Russian ordinals agree with the suffix written after the dash (1-я, 1-е, 1-го)."""
    head, _, last = masculine.rpartition(" ")
    endings = {"я": ("ая", "ья"), "е": ("ое", "ье"), "го": ("ого", "его")}
    key = next((k for k in ("я", "е", "го") if suffix.endswith(k)), None)
    if key is None or not last.endswith(("ый", "ой", "ий")):
        return masculine
    hard, soft = endings[key]
    stem = last[:-2]
    word = stem + (soft if last.endswith("ий") and stem.endswith("ть") else hard)
    if last == "третий":
        word = {"я": "третья", "е": "третье", "го": "третьего"}[key]
    return f"{head} {word}".strip()


def counter(m: re.Match[str], ctx: Context) -> None:
    """Korean counters take native numbers: 3시 → 세 시, 5개 → 다섯 개, 1번째 → 첫 번째."""
    n, word = int(m["knum"]), m["kword"]
    native = "첫" if word == "번째" and n == 1 else say.korean_native(n)
    ctx.say_or_copy(None if native is None else f"{native} {word}", m)


def year(m: re.Match[str], ctx: Context) -> None:
    ctx.copy(m.start("yctx"), m.end("yctx"))
    spoken = say.year(int(m["yval"]), ctx.lang)
    ctx.say(spoken or m["yval"], m.start("yval"), m.end("yval"))


def decade(m: re.Match[str], ctx: Context) -> None:
    """``1990s`` → "nineteen nineties", ``the 90s`` and ``'90s`` → "nineties"."""
    if m["dec2"]:
        tens = say.cardinal(int(m["dec2"]), "en") or m["dec2"]
        ctx.say(tens[:-1] + "ies", m.start(), m.end())
        return
    spoken = say.year(int(m["dec"]), "en") or ""
    head, _, last = spoken.rpartition(" ")
    last = last[:-1] + "ies" if last.endswith("y") else last + "s"
    ctx.say(f"{head} {last}".strip(), m.start(), m.end())


def roman(m: re.Match[str], ctx: Context) -> None:
    """After a capitalised word: "World War II" → two, "Louis XIV" → the fourteenth, "Pope
    Leo XIV", "Super Bowl LVIII". One letter (I, V, X) only after a counting word ("World
    War I", "Chapter V") or, in Russian, a Cyrillic name ("Пётр I"): "Then I" stays, as do
    capitals that are mostly not numerals (``DC``, ``CD``, ``XL``)."""
    ctx.recurse(m.start("rprev"), m.end("rprev"))
    numeral, lang, prev = m["rnumeral"], ctx.lang, m["rprev"].strip()
    counted = prev.lower() in ctx.lex.roman_counts
    named = lang == "ru" and _CYRILLIC_WORD.fullmatch(prev) is not None
    letter_ok = numeral in "IVX" and (counted or named)
    if numeral in _NOT_ROMAN or (len(numeral) == 1 and not letter_ok):
        ctx.copy(m.start("rnumeral"), m.end("rnumeral"))
        return
    value = _roman_value(numeral)
    if counted:
        spoken = say.cardinal(value, lang)
    elif lang == "en":
        spoken = f"the {say.ordinal(value, lang)}"
    elif lang == "de":
        spoken = f"der {(say.ordinal(value, lang) or '').capitalize()}"
    elif lang == "fr":
        spoken = "premier" if value == 1 else say.cardinal(value, lang)
    elif lang in ("es", "pt"):
        spoken = say.ordinal(value, lang) if value <= 10 else say.cardinal(value, lang)
    elif lang in ("it", "ru"):
        spoken = say.ordinal(value, lang)
    else:
        spoken = None
    ctx.say(spoken or numeral, m.start("rnumeral"), m.end("rnumeral"))


def _roman_value(text: str) -> int:
    total = 0
    for ch, nxt in zip(text, text[1:] + " ", strict=True):
        v = _ROMAN_VALUES[ch]
        total += -v if nxt != " " and _ROMAN_VALUES[nxt] > v else v
    return total


def abbr(m: re.Match[str], ctx: Context) -> None:
    spoken = ctx.lex.abbreviations[m[0]]
    if spoken.endswith("."):
        rest = ctx.text[m.end() :].lstrip()
        keep = not rest or not (rest[0].islower() or rest[0] in ",;:)")
        spoken = spoken if keep else spoken[:-1]
    ctx.say(spoken, m.start(), m.end())


def amp(m: re.Match[str], ctx: Context) -> None:
    ctx.say(ctx.lex.and_word or "&", m.start(), m.end())


HANDLERS = {
    **shorthand.HANDLERS,
    "version": version,
    "money_range": money_range,
    "money": money,
    "money_after": money,
    "money_code": money,
    "percent": percent,
    "percent_first": percent_first,
    "ordinal": ordinal,
    "counter": counter,
    "unit": unit,
    "range": range_,
    "decade": decade,
    "year": year,
    "roman": roman,
    "number": number,
    "abbr": abbr,
    "amp": amp,
    "phone": phone,
}
