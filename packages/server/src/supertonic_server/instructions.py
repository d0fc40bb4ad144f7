"""What ``instructions`` does: Supertonic takes no style prompt, so only pace words are used.

``instructions`` is OpenAI's free-text style prompt (gpt-4o-mini-tts). Supertonic-3 has no
prompt input, so the server reads one thing from it, the pace, and only when the request
gives no explicit ``speed``:

==========================================  ==========================
words in the instructions                   speed (× the server default)
==========================================  ==========================
"very slow", "very slowly", "extremely slow"  0.75
"slow", "slowly", "slower", "calm", "relaxed"  0.88
"fast", "quickly", "quick", "faster", "brisk"   1.2
"very fast", "very quickly", "rapid", "rapidly" 1.4
==========================================  ==========================

The result is kept within the model's 0.5..2.0. Everything else in the text is ignored;
the effective speed is returned in the ``X-Speed`` header so nothing is hidden.
"""

from __future__ import annotations

import re

from supertonic_core.options import SPEED_RANGE

#: Checked in order; the first pattern found decides.
PACE_WORDS: tuple[tuple[re.Pattern[str], float], ...] = (
    (re.compile(r"\b(very|extremely|really)\s+slow(ly)?\b"), 0.75),
    (re.compile(r"\b(very|extremely|really)\s+(fast|quick(ly)?)\b|\brapid(ly)?\b"), 1.4),
    (re.compile(r"\b(slow(ly|er)?|calm(ly)?|relaxed)\b"), 0.88),
    (re.compile(r"\b(fast(er)?|quick(ly|er)?|brisk(ly)?)\b"), 1.2),
)


def pace_factor(instructions: str | None) -> float | None:
    """The speed factor the instructions ask for, or None when they say nothing of pace."""
    if not instructions:
        return None
    text = instructions.lower()
    for pattern, factor in PACE_WORDS:
        if pattern.search(text):
            return factor
    return None


def speed_from_instructions(instructions: str | None, default_speed: float) -> float | None:
    """The speed to use for ``instructions`` (within the model's range), or None."""
    factor = pace_factor(instructions)
    if factor is None:
        return None
    lo, hi = SPEED_RANGE
    return round(min(hi, max(lo, default_speed * factor)), 3)
