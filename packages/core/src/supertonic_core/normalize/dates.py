"""Dates and clock times as each language says them.

Why apart from :mod:`.numbers`: the order of day, month and year, the month names and
the clock words differ per language. ``2026-12-01`` is read in the nine languages with
month names in :mod:`.lexicon` (and Korean and Japanese, with their own counters); other
languages keep the date as written. ``12/01/2026`` is month first in English, day first
elsewhere.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import say

if TYPE_CHECKING:
    from .context import Context

_KO_MONTHS = {6: "유월", 10: "시월"}


#: German words after which an ordinal ends in -e ("der dritte") or -en ("am dritten").
_DE_E = frozenset(["der", "die", "das", "ins", "ans", "aufs"])
_DE_EN = frozenset(
    [
        "dem",
        "den",
        "des",
        "am",
        "im",
        "zum",
        "zur",
        "vom",
        "beim",
        "ab",
        "bis",
        "seit",
        "vor",
        "nach",
        "für",
    ]
)
_LAST_WORD = re.compile(r"([^\W\d_]+)[ \t]+$")


def german_ending(text: str, start: int) -> str | None:
    """The ending a German ordinal at ``text[start]`` takes after the word before it
    (``-e`` after "der", ``-en`` after "am"), or None after any other word (then a strong
    ``-r`` before a month: "erster Dezember")."""
    found = _LAST_WORD.search(text[max(0, start - 12) : start])
    if found is None:
        return None
    word = found.group(1).lower()
    return "" if word in _DE_E else "n" if word in _DE_EN else None


def iso(m: re.Match[str], ctx: Context) -> None:
    ctx.say_or_copy(_date(int(m["iy"]), int(m["im"]), int(m["id"]), ctx, m.start()), m)


def dmy(m: re.Match[str], ctx: Context) -> None:
    a, b, y = int(m["da"]), int(m["db"]), int(m["dy"])
    month, day = (a, b) if ctx.lang == "en" else (b, a)
    ok = 1 <= month <= 12 and 1 <= day <= 31
    ctx.say_or_copy(_date(y, month, day, ctx, m.start()) if ok else None, m)


def ordinal_dot(m: re.Match[str], ctx: Context) -> None:
    """German ``3. Mai`` → "dritter Mai", ``am 3. Mai`` → "am dritten Mai", ``der 2.
    Platz`` → "der zweite Platz" (a dot before a capital counts only after an article or a
    preposition, or before a month); Turkish ``3. sınıf`` → "üçüncü sınıf"."""
    n = int(m["odnum"])
    if ctx.lang == "tr":
        ctx.say_or_copy(say.ordinal(n, "tr"), m)
        return
    ending = german_ending(ctx.text, m.start())
    ordinal = say.ordinal(n, "de")
    if ordinal is None or (ending is None and not m["odmonth"]):
        spoken = say.cardinal(n, "de")  # a sentence that ends in a number
        ctx.say(spoken or m["odnum"], m.start(), m.end() - 1)
        ctx.copy(m.end() - 1, m.end())
        return
    ctx.say(ordinal + (ending if ending is not None else "r"), m.start(), m.end())


def _date(y: int, month: int, day: int, ctx: Context, start: int) -> str | None:
    lang, months = ctx.lang, ctx.lex.months
    if lang == "ko":
        m_word = _KO_MONTHS.get(month) or f"{say.cardinal(month, lang)}월"
        return f"{say.cardinal(y, lang)}년 {m_word} {say.cardinal(day, lang)}일"
    if lang == "ja":
        return f"{say.cardinal(y, lang)}年{say.cardinal(month, lang)}月{say.cardinal(day, lang)}日"
    if not months:
        return None
    name, year = months[month - 1], say.year(y, lang)
    if lang == "en":
        return f"{name} {say.ordinal(day, lang)} {year}"  # no comma: a chunk may cut there
    if lang == "ru":
        return f"{_ru_ordinal(day, 'neuter')} {name} {_ru_ordinal(y, 'genitive')} года"
    first = {"fr": "premier", "it": "primo", "pt": "primeiro"}.get(lang)
    day_word = first if day == 1 and first else say.cardinal(day, lang)
    if lang == "de":  # "am ersten Dezember", "der erste Dezember", "erster Dezember"
        day_word = f"{say.ordinal(day, lang)}{german_ending(ctx.text, start) or 'r'}"
    if lang in ("es", "pt"):
        return f"{day_word} de {name} de {year}"
    return f"{day_word} {name} {year}"


def _ru_ordinal(n: int, form: str) -> str:
    """Russian ordinals in the two forms dates need: "первое" (day), "шестого" (year)."""
    words = say.ordinal(n, "ru") or str(n)
    head, _, last = words.rpartition(" ")
    stem, end = last[:-2], last[-2:]
    if form == "neuter":
        last = "третье" if last == "третий" else stem + ("ое" if end in ("ый", "ой") else "ье")
    else:
        last = "третьего" if last == "третий" else stem + ("ого" if end in ("ый", "ой") else "его")
    return f"{head} {last}".strip()


def time(m: re.Match[str], ctx: Context) -> None:
    """``3:30 pm`` → "three thirty p m", ``15:00`` → "fifteen hundred"... per language."""
    h, minutes, lang = int(m["th"]), int(m["tm"]), ctx.lang
    if not say.supported(lang):
        ctx.say_or_copy(None, m)
        return
    card = lambda n: say.cardinal(n, lang) or str(n)  # noqa: E731
    mins = card(minutes)
    if lang == "en":
        ampm = m["ampm"]
        hour = card(h % 12 or 12) if ampm else card(h)
        if minutes == 0:
            spoken = hour if ampm else f"{hour} o'clock"
        else:
            spoken = f"{hour} oh {mins}" if minutes < 10 else f"{hour} {mins}"
        if ampm:
            letters = ampm.lower().replace(".", "")
            spoken += f" {letters[0]} {letters[1]}" + ("." if ampm.endswith(".") else "")
    elif lang == "ko":
        native = say.korean_native(h) if h else "영"
        spoken = f"{native} 시" + (f" {mins} 분" if minutes else "")
    elif lang == "ja":
        spoken = f"{card(h)}時" + (f"{mins}分" if minutes else "")
    elif lang == "de":
        spoken = f"{card(h)} Uhr" + (f" {mins}" if minutes else "")
    elif lang == "fr":
        hours = "une heure" if h == 1 else f"{card(h)} heures"
        spoken = hours + (f" {mins}" if minutes else "")
    elif lang in ("pt", "it"):
        spoken = card(h) + (f" e {mins}" if minutes else "")
    else:
        zero = f"{card(0)} " if minutes < 10 and lang in ("ru", "uk", "es") else ""
        spoken = card(h) + (f" {zero}{mins}" if minutes else "")
    if m["ampm"] and lang != "en":
        spoken += " " + m["ampm"]
    if m["tto"]:  # "9:00-17:00": nine to seventeen
        joiner = ctx.lex.range_word or "-"
        spoken += "-" if joiner == "-" else f" {joiner} "
    ctx.say(spoken, m.start(), m.end())


HANDLERS = {"iso": iso, "dmy": dmy, "time": time, "ordinal_dot": ordinal_dot}
