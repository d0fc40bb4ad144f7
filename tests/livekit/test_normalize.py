"""A markdown LLM reply through the LiveKit plugin on both backends: the aligned transcript
holds what the LLM wrote, and ``normalize=False`` turns normalisation off."""

from __future__ import annotations

from .conftest import Backend
from .test_tts import pieces, transcripts

REPLY = (
    "Tickets cost **$12.50** each, and the tour starts at 3:30 pm. See you [there](https://x.io)!"
)


async def test_transcript_names_the_original_words(backend: Backend) -> None:
    async with backend.tts().stream() as stream:
        for piece in pieces(REPLY):
            stream.push_text(piece)
        stream.end_input()
        events = [ev async for ev in stream]
    words = "".join(transcripts(events)).split()
    assert "$12.50" in words and "there!" in words and "twelve" not in words
    assert " ".join(words) == REPLY.replace("**", "").replace("[there](https://x.io)", "there")


async def test_normalize_off(backend: Backend) -> None:
    async with backend.tts(normalize=False).synthesize("It costs $12.50.") as stream:
        events = [ev async for ev in stream]
    assert "".join(transcripts(events)).split() == ["It", "costs", "$12.50."]
