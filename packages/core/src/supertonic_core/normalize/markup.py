"""Markdown and chat formatting read the way a person reads a rendered reply.

Why: LLM replies are markdown. Read raw, the model says the asterisks, the hash marks and
the URL behind every link. Emphasis markers, heading marks, list bullets and quote marks
go; a line that ends a heading or list item gets a period, so it is spoken as a unit;
links speak their text; inline code its content; code blocks are skipped; table rows are
read cell by cell; URLs are read as their domain and e-mail addresses in full; emoji are
dropped or named (a choice per request).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import emoji as emoji_lib

if TYPE_CHECKING:
    from .context import Context

_TLDS = "com|org|net|io|ai|dev|app|edu|gov|co|uk|de|fr|es|it|ru|jp|kr|info|me|tv"

#: (group name, pattern) in priority order; each group is handled by ``HANDLERS[name]``.
PATTERNS = (
    ("fence", r"(?m:^)[ \t]*(?:```|~~~)[^\n]*(?:\n(?s:.*?)(?:\n[ \t]*(?:```|~~~)[ \t]*(?=\n|$)|$)|$)"),
    ("heading", r"(?m:^)[ \t]{0,3}#{1,6}[ \t]+(?P<htext>[^\n]*?)[ \t#]*(?=\n|$)"),
    ("row", r"(?m:^)[ \t]*\|(?P<cells>[^\n]*)(?=\n|$)"),
    ("rule", r"(?m:^)[ \t]*(?:[-*_][ \t]*){3,}(?=\n|$)"),
    ("bullet", r"(?m:^)[ \t]*(?:[-*+•]|\d{1,3}[.)])[ \t]+(?=\S)"),
    ("quote", r"(?m:^)[ \t]*>[ \t>]*"),
    ("eol", r"(?<=[\w%)\]])(?=[ \t]*\n[ \t]*(?P<next>\S))"),
    ("link", r"!?\[(?P<ltext>[^\]\n]*)\]\((?P<lurl>[^)\s]*)(?:[ \t]+\"[^\"\n]*\")?\)"),
    ("code", r"`(?P<ctext>[^`\n]+)`"),
    ("email", r"(?<![\w.+-])(?P<user>[\w.+-]+)@(?P<edomain>[\w-]+(?:\.[\w-]+)+)"),
    (
        "url",
        r"(?:https?://|www\.)(?P<host>[\w-]+(?:\.[\w-]+)+)(?::\d+)?(?:[/?#][^\s<>()\[\]]*[^\s<>()\[\].,;:!?'\"])?/?"
        rf"|(?<![\w.@/-])(?P<bare>[\w-]+(?:\.[\w-]+)*\.(?:{_TLDS}))(?![\w@-])",
    ),
    ("br", r"<br\s*/?>"),
    ("emphasis", r"(?<![\w*_~])(?:\*{1,3}|_{1,3}|~~)(?=[^\s*_~])|(?<=[^\s*_~])(?:\*{1,3}|_{1,3}|~~)(?![\w*_~])"),
    ("emoji", r"[\U0001f000-\U0001faff\u2600-\u27bf\u2300-\u23ff\u2b00-\u2bff\u203c\u2049\u2122\u2139\u3030\u303d\u3297\u3299]"
              r"[\ufe0f\u200d\u20e3\U0001f3fb-\U0001f3ff\U0001f000-\U0001faff\u2600-\u27bf\U000e0020-\U000e007f]*"),
)  # fmt: skip


def fence(m: re.Match[str], ctx: Context) -> None:
    """A code block is skipped: its source is mapped to nothing."""
    ctx.say("", m.start(), m.end())


def heading(m: re.Match[str], ctx: Context) -> None:
    """``## Title`` → ``Title``; the line end (rule ``eol``) gets the period."""
    _inner(m, ctx, "htext")


def row(m: re.Match[str], ctx: Context) -> None:
    """A table row is read cell by cell (``Ann, thirty.``); the separator row
    ``|---|:--:|`` is skipped."""
    start = m.start("cells")
    cells = [c.span() for c in re.finditer(r"[^|\s](?:[^|]*[^|\s])?", m["cells"])]
    if not m["cells"].strip(" \t|:-") or not cells:
        ctx.say("", m.start(), m.end())
        return
    pos = m.start()
    for i, (a, b) in enumerate(cells):
        ctx.say("" if i == 0 else ", ", pos, start + a)
        ctx.recurse(start + a, start + b)
        pos = start + b
    ctx.say(".", pos, m.end())


def drop(m: re.Match[str], ctx: Context) -> None:
    """Markers with no sound: horizontal rules, bullets, quote marks, emphasis."""
    ctx.say("", m.start(), m.end())


def eol(m: re.Match[str], ctx: Context) -> None:
    """A line that ends without punctuation before another line is a unit of its own
    (a heading, a list item): it gets a period; a line wrapped mid-sentence does not."""
    if not m["next"].islower():
        ctx.say(".", m.start(), m.start())


def link(m: re.Match[str], ctx: Context) -> None:
    """``[text](url)`` speaks ``text``; an image ``![alt](src)`` its ``alt``."""
    _inner(m, ctx, "ltext")


def code(m: re.Match[str], ctx: Context) -> None:
    """Inline code is read as it stands (a name, a command), without the backticks."""
    _inner(m, ctx, "ctext", normalise=False)


def _inner(m: re.Match[str], ctx: Context, group: str, *, normalise: bool = True) -> None:
    """Speak only ``group`` of the match: normalised (or as it stands), the rest silent."""
    ctx.say("", m.start(), m.start(group))
    if normalise:
        ctx.recurse(m.start(group), m.end(group))
    else:
        ctx.copy(m.start(group), m.end(group))
    ctx.say("", m.end(group), m.end())


def email(m: re.Match[str], ctx: Context) -> None:
    """``ann.lee@example.com`` → "ann dot lee at example dot com" where the language has
    the words; otherwise as written."""
    lex = ctx.lex
    if lex.at is None or lex.dot is None:
        ctx.copy(m.start(), m.end())
        return
    user = _dotted(m["user"], lex.dot)
    ctx.say(f"{user} {lex.at} {_dotted(m['edomain'], lex.dot)}", m.start(), m.end())


def url(m: re.Match[str], ctx: Context) -> None:
    """A URL is read as its domain: "https://www.example.com/a?b=1" → "example dot com"."""
    host = m["host"] or m["bare"]
    if host.startswith("www."):
        host = host[4:]
    if ctx.lex.dot is None:
        ctx.say(host, m.start(), m.end())
        return
    ctx.say(_dotted(host, ctx.lex.dot), m.start(), m.end())


def br(m: re.Match[str], ctx: Context) -> None:
    ctx.say(" ", m.start(), m.end())


def emoji(m: re.Match[str], ctx: Context) -> None:
    """Dropped, or named in the language when asked and the ``emoji`` package has names
    in it (en, es, de, fr, it, pt, ja, ko, ru, tr, id, ar); otherwise dropped."""
    name = ""
    if ctx.name_emoji:
        language = ctx.lang if ctx.lang in emoji_lib.LANGUAGES else None
        if language is not None:
            names = emoji_lib.demojize(m[0], language=language, delimiters=("\x00", "\x00"))
            words = [w.replace("_", " ") for w in names.split("\x00") if w.strip("\ufe0f ")]
            name = ", ".join(words)
    ctx.say(f" {name} " if name else "", m.start(), m.end())


def _dotted(text: str, dot: str) -> str:
    return f" {dot} ".join(part for part in text.split(".") if part)


HANDLERS = {
    "fence": fence,
    "heading": heading,
    "row": row,
    "rule": drop,
    "bullet": drop,
    "quote": drop,
    "eol": eol,
    "link": link,
    "code": code,
    "email": email,
    "url": url,
    "br": br,
    "emphasis": drop,
    "emoji": emoji,
}
