"""Pronunciation dictionaries through both Pipecat services: the in-process engine loads
``dictionaries``, a server its ``--lexicon`` files; the settings' ``lexicons`` and
``pronunciations`` reach the session, and word timestamps keep the written words."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pipecat.frames.frames import TTSSpeakFrame, TTSTextFrame
from pipecat_supertonic import SupertonicServerTTSService, SupertonicTTSService
from supertonic_core import Engine
from supertonic_server.testing import LiveServer

from .test_tts import audio_of, errors, run, seconds

TEXT = "We use SQL daily."


@pytest.fixture(params=["in-process", "server"])
def make(request: pytest.FixtureRequest, tiny_bundle_dir: Path, brands: Path) -> Callable[..., Any]:
    """A service whose engine knows the ``brands`` dictionary, either way."""
    if request.param == "in-process":
        return lambda **kw: SupertonicTTSService(
            model_dir=tiny_bundle_dir, warmup=False, dictionaries=[brands], **kw
        )
    server: LiveServer = request.getfixturevalue("lexicon_server")
    return lambda **kw: SupertonicServerTTSService(url=server.base_url, **kw)


async def spoken(make: Callable[..., Any], **settings: Any) -> tuple[float, list[str]]:
    tts = make(settings=SupertonicTTSService.Settings(seed=1, **settings))
    down, up = await run(tts, [TTSSpeakFrame(TEXT)])
    assert not errors(up), errors(up)
    return seconds(audio_of(down)), [f.text for f in down if isinstance(f, TTSTextFrame)]


async def test_dictionaries_and_inline_entries_reach_the_engine(make: Callable[..., Any]) -> None:
    plain, _ = await spoken(make, lexicons=[])
    respelled, words = await spoken(make, lexicons=["brands"])
    assert respelled > plain  # "structured query language" is longer than "SQL"
    assert words == ["We", "use", "SQL", "daily."]
    inline, words = await spoken(
        make, lexicons=[], pronunciations={"SQL": "structured query language"}
    )
    assert inline == respelled and words == ["We", "use", "SQL", "daily."]


async def test_an_unknown_dictionary_is_an_error_frame(make: Callable[..., Any]) -> None:
    tts = make(settings=SupertonicTTSService.Settings(lexicons=["medical"]))
    _, up = await run(tts, [TTSSpeakFrame(TEXT)])
    assert any("'medical'" in e and "brands" in e for e in errors(up)), errors(up)


def test_dictionaries_for_an_engine_passed_in_are_refused(engine: Engine, brands: Path) -> None:
    with pytest.raises(ValueError, match="dictionaries"):
        SupertonicTTSService(engine=engine, dictionaries=[brands])
