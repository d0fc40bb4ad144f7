"""Read LLM output aloud the way a person would: numbers, symbols, markdown and pauses.

The model was trained on plain prose, and Supertonic's own front end does no
normalisation, so "$12.50", "3:30 pm", "**bold**" or a URL reach it raw. This package
rewrites text into what a speaker says, per language, before chunking:

- :mod:`.numbers` and :mod:`.dates`: amounts, percentages, units, dates, times, phone
  numbers, ranges, ordinals, years, Roman numerals, abbreviations (words from
  ``num2words`` through :mod:`.say`, the rest from :mod:`.lexicon`);
- :mod:`.markup`: markdown and chat formatting, URLs, e-mail addresses, emoji;
- :mod:`.pauses`: ``[pause:500ms]`` and ``<break time="1s"/>`` become silence;
- :mod:`.streaming`: ``<lang xml:lang="fr">`` spans and detected sentences switch the
  language (:class:`Switch`), and the request's pronunciation dictionaries
  (:mod:`supertonic_core.pronunciation`) respell words;
- :mod:`.mapping`: every spoken character maps back to the original, so word timings
  name what the LLM wrote;
- :mod:`.streaming`: token-by-token input gives the same result as the whole text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .mapping import Pause, SpokenText, Switch
from .pauses import MAX_PAUSE_S
from .streaming import Detector, StreamNormalizer

if TYPE_CHECKING:
    from ..pronunciation import Pronunciations

__all__ = [
    "MAX_PAUSE_S",
    "Detector",
    "Pause",
    "SpokenText",
    "StreamNormalizer",
    "Switch",
    "speak",
]


def speak(
    text: str,
    lang: str = "en",
    *,
    emoji: str = "remove",
    pronunciations: Pronunciations | None = None,
    detect: Detector | None = None,
) -> str:
    """The spoken form of ``text``, whitespace collapsed, a pause shown as ``[pause:N]``
    (seconds) and a change of language as ``[lang:fr]``: for tests, the CLI and anyone
    checking what will be said."""
    normalizer = StreamNormalizer(
        lang, name_emoji=emoji == "name", pronunciations=pronunciations, detect=detect
    )
    parts = [
        f" [pause:{item.seconds:g}] "
        if isinstance(item, Pause)
        else f" [lang:{item.lang}] "
        if isinstance(item, Switch)
        else item
        for item in normalizer.whole(text)
    ]
    return " ".join("".join(parts).split())
