"""One left-to-right pass over the text: every rule's pattern in one regular expression.

Why one pass: the output then maps to the input directly (:class:`.SpokenText`), with no
map to compose per stage, and each character is looked at once. Rules that contain text
(a link's label, a heading, a table cell) normalise it again through :meth:`Context.recurse`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from . import dates, markup, numbers, pauses
from .context import Context
from .lexicon import LEXICONS
from .mapping import Pause

_PLAIN = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*[.,;:!?]?")

Handler = Callable[[re.Match[str], "Context"], None]


class Rules:
    """The compiled rules of one language and emoji choice."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.lex = LEXICONS.get(lang, LEXICONS["na"])
        groups: list[tuple[str, str]] = [("pause", pauses.PATTERN), *markup.PATTERNS]
        groups += numbers.patterns(lang, self.lex)
        self.pattern = re.compile("|".join(f"(?P<{name}>{p})" for name, p in groups))
        self.abbreviation_parts = frozenset(
            part for key in self.lex.abbreviations for part in key.split()
        )
        self.handlers: dict[str, Handler] = {
            "pause": _pause,
            **markup.HANDLERS,
            **dates.HANDLERS,
            **numbers.HANDLERS,
        }

    def plain(self, token: str) -> bool:
        """A word no rule reads together with its neighbours (see :mod:`.streaming`)."""
        return (
            bool(_PLAIN.fullmatch(token))
            and not token.isupper()
            and token not in self.abbreviation_parts
        )

    def run(self, ctx: Context, start: int, end: int) -> None:
        """Normalise ``ctx.text[start:end]`` into ``ctx.out``."""
        if ctx.words is not None:
            self._run_with_words(ctx, start, end)
            return
        pos = start
        for m in self.pattern.finditer(ctx.text, start, end):
            if m.start() > pos:
                ctx.copy(pos, m.start())
            self.handlers[m.lastgroup or ""](m, ctx)
            pos = m.end()
        if end > pos:
            ctx.copy(pos, end)

    def _run_with_words(self, ctx: Context, start: int, end: int) -> None:
        """:meth:`run` with the request's pronunciation dictionaries: of a rule's match and
        a dictionary's key, the one that starts first is read, then the longer, then the
        key (so an entry for ``Dr.`` replaces the abbreviation, while a heading, a link or
        "Louis XIV" read the keys inside them through :meth:`Context.recurse`)."""
        words, text = ctx.words, ctx.text
        assert words is not None
        rules = self.pattern.finditer(text, start, end)
        rule, word = next(rules, None), words.search(text, start, end)
        pos = start
        while rule is not None or word is not None:
            if word is not None and (
                rule is None
                or word.start < rule.start()
                or (word.start == rule.start() and word.end >= rule.end())
            ):
                if word.start > pos:
                    ctx.copy(pos, word.start)
                ctx.respell(word.spoken, word.start, word.end)
                pos = word.end
                if rule is not None and rule.start() < pos:  # read again after the key
                    rules = self.pattern.finditer(text, pos, end)
                    rule = next(rules, None)
                word = words.search(text, pos, end)
                continue
            assert rule is not None
            if rule.start() > pos:
                ctx.copy(pos, rule.start())
            self.handlers[rule.lastgroup or ""](rule, ctx)
            pos = rule.end()
            rule = next(rules, None)
            if word is not None and word.start < pos:
                word = words.search(text, pos, end)
        if end > pos:
            ctx.copy(pos, end)


def _pause(m: re.Match[str], ctx: Context) -> None:
    if m["esc"]:  # escaped: the tag stays as text, without its backslash
        ctx.say("", m.start(), m.start() + 1)
        ctx.copy(m.start() + 1, m.end())
        return
    seconds = pauses.seconds(m["tnum"], m["tunit"], m["battrs"])
    ctx.say(" ", m.start(), m.end())
    ctx.pauses.append((ctx.out.length, Pause(seconds, (ctx.base + m.start(), ctx.base + m.end()))))


@functools.lru_cache(maxsize=64)
def rules_for(lang: str) -> Rules:
    """The compiled rules of ``lang`` (built once per language)."""
    return Rules(lang)
