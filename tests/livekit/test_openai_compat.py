"""LiveKit's stock ``openai.TTS`` pointed at our server works unchanged.

The OpenAI plugin assumes 24 kHz for ``pcm`` (OpenAI's rate, our server's default for
pcm) and asks for an SSE stream with ``gpt-4o-mini-tts``; both paths must give the audio
our own plugin gets from the same server for the same text and settings.
"""

from __future__ import annotations

import pytest
from livekit.agents import APIConnectOptions, APIStatusError
from livekit.plugins import openai, supertonic

from .conftest import NO_RETRY

TEXT = "The stock OpenAI plugin talks to our server."


@pytest.mark.parametrize(
    ("model", "response_format", "tolerance"),
    [
        ("tts-1", "pcm", 0.02),  # raw bytes at 24 kHz
        ("gpt-4o-mini-tts", "pcm", 0.02),  # SSE speech.audio.delta events
        ("tts-1", "mp3", 0.1),  # decoded by LiveKit (the codec adds a little padding)
    ],
)
async def test_openai_plugin_against_our_server(
    lk_server, model: str, response_format: str, tolerance: float
) -> None:
    stock = openai.TTS(
        base_url=lk_server.base_url + "/v1",
        api_key="not-checked",
        model=model,
        voice="alloy",
        response_format=response_format,
    )
    ours = supertonic.TTS(base_url=lk_server.base_url, voice="alloy", speed=1.0, sample_rate=24000)
    try:
        frame = await stock.synthesize(TEXT, conn_options=NO_RETRY).collect()
        reference = await ours.synthesize(TEXT, conn_options=NO_RETRY).collect()
    finally:
        await stock.aclose()
        await ours.aclose()
    assert frame.sample_rate == 24000 and frame.num_channels == 1
    assert reference.duration > 1.0
    assert frame.duration == pytest.approx(reference.duration, abs=tolerance)


async def test_openai_plugin_gets_our_errors(lk_server) -> None:
    stock = openai.TTS(
        base_url=lk_server.base_url + "/v1",
        api_key="not-checked",
        model="tts-1",
        voice="nobody",
        response_format="pcm",
    )
    try:
        with pytest.raises(APIStatusError) as info:
            await stock.synthesize(TEXT, conn_options=APIConnectOptions(max_retry=0)).collect()
    finally:
        await stock.aclose()
    assert info.value.status_code == 400 and not info.value.retryable
