"""A markdown LLM reply through both Pipecat services: spoken normalised, word timestamps
on what the LLM wrote, and ``normalize=False`` in the settings turns it off."""

from __future__ import annotations

from pipecat.frames.frames import (
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TTSTextFrame,
)

from .conftest import Variant
from .test_tts import errors, run

TOKENS = ["Tickets", " cost", " **$1", "2.50**", " each", ".", " See", " you at", " 3:30", " pm!"]


async def test_a_markdown_reply_keeps_its_words(variant: Variant) -> None:
    frames = [LLMFullResponseStartFrame(), *map(LLMTextFrame, TOKENS), LLMFullResponseEndFrame()]
    down, up = await run(variant.make(), frames)
    words = [f.text for f in down if isinstance(f, TTSTextFrame)]
    # Pipecat lines the words up with the sentence it aggregated (markdown included).
    assert " ".join(words) == "Tickets cost **$12.50** each. See you at 3:30 pm!"
    assert "3:30 pm!" in words
    assert not errors(up)


async def test_normalize_off_in_settings(variant: Variant) -> None:
    tts = variant.make(settings=variant.make().Settings(normalize=False))
    down, up = await run(tts, [LLMFullResponseStartFrame(), LLMTextFrame("It costs $12.50."),
                               LLMFullResponseEndFrame()])  # fmt: skip
    assert [f.text for f in down if isinstance(f, TTSTextFrame)] == ["It", "costs", "$12.50."]
    assert not errors(up)
