"""Pronunciation dictionaries through the LiveKit plugin on both backends: the in-process
engine loads ``dictionaries``, a server its ``--lexicon`` files; ``lexicons`` and
``pronunciations`` reach the session, and the aligned transcript keeps the written words."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from livekit.agents import APIStatusError
from livekit.plugins import supertonic
from supertonic_core import Engine

from .conftest import NO_RETRY
from .test_tts import transcripts

TEXT = "We use SQL daily."


@pytest.fixture(params=["in-process", "remote"])
async def made(
    request: pytest.FixtureRequest, tiny_bundle_dir: Path, brands: Path
) -> AsyncIterator[list[supertonic.TTS]]:
    """A list that makes TTSs whose engine knows ``brands`` (its first item: the kwargs)."""
    if request.param == "in-process":
        base: dict[str, Any] = {"model_dir": tiny_bundle_dir, "dictionaries": [brands]}
    else:
        base = {"base_url": request.getfixturevalue("lexicon_server").base_url}
    created: list[Any] = [base]
    yield created
    for tts in created[1:]:
        await tts.aclose()


async def spoken(made: list[Any], **options: Any) -> tuple[float, list[str]]:
    tts = supertonic.TTS(**made[0], seed=1, **options)
    made.append(tts)
    async with tts.synthesize(TEXT, conn_options=NO_RETRY) as stream:
        events = [ev async for ev in stream]
    samples = sum(ev.frame.samples_per_channel for ev in events)
    return samples / tts.sample_rate, "".join(transcripts(events)).split()


async def test_dictionaries_and_inline_entries_reach_the_engine(made: list[Any]) -> None:
    plain, _ = await spoken(made, lexicons=[])
    respelled, words = await spoken(made, lexicons=["brands"])
    assert respelled > plain  # "structured query language" is longer than "SQL"
    assert words == ["We", "use", "SQL", "daily."]
    inline, words = await spoken(
        made, lexicons=[], pronunciations={"SQL": "structured query language"}
    )
    assert inline == respelled and words == ["We", "use", "SQL", "daily."]


async def test_an_unknown_dictionary_is_a_non_retryable_400(made: list[Any]) -> None:
    tts = supertonic.TTS(**made[0], lexicons=["medical"])
    made.append(tts)
    with pytest.raises(APIStatusError) as refused:
        await tts.synthesize(TEXT, conn_options=NO_RETRY).collect()
    assert refused.value.status_code == 400 and not refused.value.retryable
    assert "'medical'" in str(refused.value) and "brands" in str(refused.value)


def test_dictionaries_need_the_in_process_engine(engine: Engine, brands: Path) -> None:
    with pytest.raises(ValueError, match="dictionaries"):
        supertonic.TTS(base_url="http://127.0.0.1:1", dictionaries=[brands])
    with pytest.raises(ValueError, match="dictionaries"):
        supertonic.TTS(engine=engine, dictionaries=[brands])
