"""Read LLM output aloud the way a person would: numbers, symbols, markdown and pauses.

The model was trained on plain prose, and Supertonic's own front end does no
normalisation, so "$12.50", "3:30 pm", "**bold**" or a URL reach it raw. This package
rewrites text into what a speaker says, per language, before chunking:

- :mod:`.numbers` and :mod:`.dates`: amounts, percentages, units, dates, times, phone
  numbers, ranges, ordinals, years, Roman numerals, abbreviations (words from
  ``num2words`` through :mod:`.say`, the rest from :mod:`.lexicon`);
- :mod:`.markup`: markdown and chat formatting, URLs, e-mail addresses, emoji;
- :mod:`.pauses`: ``[pause:500ms]`` and ``<break time="1s"/>`` become silence;
- :mod:`.mapping`: every spoken character maps back to the original, so word timings
  name what the LLM wrote;
- :mod:`.streaming`: token-by-token input gives the same result as the whole text.
"""

from __future__ import annotations

from .mapping import Pause, SpokenText
from .pauses import MAX_PAUSE_S
from .streaming import StreamNormalizer

__all__ = [
    "MAX_PAUSE_S",
    "Pause",
    "SpokenText",
    "StreamNormalizer",
    "speak",
]


def speak(text: str, lang: str = "en", *, emoji: str = "remove") -> str:
    """The spoken form of ``text``, whitespace collapsed, a pause shown as ``[pause:N]``
    (seconds): for tests, the CLI and anyone checking what will be said."""
    normalizer = StreamNormalizer(lang, name_emoji=emoji == "name")
    parts = [
        f" [pause:{item.seconds:g}] " if isinstance(item, Pause) else item
        for item in normalizer.whole(text)
    ]
    return " ".join("".join(parts).split())
