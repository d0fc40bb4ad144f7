"""What a rule handler works on: the text it reads and the spoken text it writes.

A leaf of the package: the rules (:mod:`.rewrite`) and their handlers (:mod:`.markup`,
:mod:`.dates`, :mod:`.numbers`) both use it, and it uses neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import re

    from ..pronunciation import Respeller
    from .lexicon import Lexicon
    from .mapping import Pause, SpokenText


class Runner(Protocol):
    """What :meth:`Context.recurse` needs of the rules: normalise a span into ``ctx.out``."""

    def run(self, ctx: Context, start: int, end: int) -> None: ...


@dataclass
class Context:
    """What a rule handler writes to, and the text it reads (offsets are local to
    ``text``; ``base`` makes them absolute in the stream)."""

    lang: str
    lex: Lexicon
    name_emoji: bool
    text: str
    base: int
    out: SpokenText
    rules: Runner
    pauses: list[tuple[int, Pause]] = field(default_factory=list)
    words: Respeller | None = None  # the request's pronunciation dictionaries, this language

    def respell(self, spoken: str, start: int, end: int) -> None:
        """Say a dictionary's respelling for ``text[start:end]``, as the entry spells it."""
        self.out.replace(spoken, self.base + start, self.base + end)

    def say(self, spoken: str, start: int, end: int) -> None:
        """Speak ``spoken`` for ``text[start:end]`` (Japanese number words run together)."""
        if self.lang == "ja":
            spoken = spoken.replace(" ", "")
        self.out.replace(spoken, self.base + start, self.base + end)

    def copy(self, start: int, end: int) -> None:
        """Keep ``text[start:end]`` as it is."""
        self.out.copy(self.text[start:end], self.base + start)

    def say_or_copy(self, spoken: str | None, m: re.Match[str]) -> None:
        """Speak ``spoken`` for the match, or keep the match as written when None."""
        if spoken is None:
            self.copy(m.start(), m.end())
        else:
            self.say(spoken, m.start(), m.end())

    def recurse(self, start: int, end: int) -> None:
        """Normalise ``text[start:end]`` (a link label, a heading, a table cell)."""
        self.rules.run(self, start, end)
