"""Pause tags: ``[pause:500ms]`` and SSML ``<break time="1s"/>`` become silence.

Why: voice agents ask for a beat before a punchline or after a question, and LLMs can be
prompted to write these tags. A tag is bounded (:data:`MAX_PAUSE_S`; longer asks are
clamped, with a warning) and escaped with a backslash (``\\[pause:1s]``), which leaves the
literal text (the official front end then reads its words).
"""

from __future__ import annotations

import logging
import re

logger = logging.getLogger("supertonic_core")

#: The longest silence one tag may ask for: a longer one is clamped to it.
MAX_PAUSE_S = 5.0
#: SSML ``strength`` values, in seconds (the SSML 1.1 order, sized like our chunk pauses).
STRENGTHS = {
    "none": 0.0,
    "x-weak": 0.1,
    "weak": 0.2,
    "medium": 0.4,
    "strong": 0.7,
    "x-strong": 1.0,
}

#: ``[pause:500ms]``, ``[pause: 1.5s]``, ``[pause]``; an SSML break with a time or a
#: strength, or none (medium). A leading backslash escapes either.
PATTERN = (
    r"(?P<esc>\\)?(?:"
    r"\[pause(?::\s*(?P<tnum>\d+(?:\.\d+)?)\s*(?P<tunit>ms|s))?\s*\]"
    r"|<break\b(?P<battrs>[^<>]*?)/?>"
    r")"
)
_TIME = re.compile(r"""time\s*=\s*["']?\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*["']?""", re.IGNORECASE)
_STRENGTH = re.compile(r"""strength\s*=\s*["']?([\w-]+)""", re.IGNORECASE)


def seconds(number: str | None, unit: str | None, attrs: str | None) -> float:
    """The silence a matched tag asks for, clamped to ``[0, MAX_PAUSE_S]``."""
    if attrs is not None:
        if (found := _TIME.search(attrs)) is not None:
            number, unit = found.groups()
        else:
            strength = _STRENGTH.search(attrs)
            return STRENGTHS.get(strength.group(1).lower() if strength else "medium", 0.4)
    if number is None:
        return STRENGTHS["medium"]
    value = float(number) / (1000.0 if (unit or "s").lower() == "ms" else 1.0)
    if value > MAX_PAUSE_S:
        logger.warning("pause of %.3g s clamped to %.3g s", value, MAX_PAUSE_S)
        return MAX_PAUSE_S
    return value
