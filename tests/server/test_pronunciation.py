"""Pronunciation dictionaries through the real server: ``--lexicon`` files, named per HTTP
request and per WebSocket context, inline entries, and refusals that say what is loaded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import websockets
from supertonic_server import Settings

from .conftest import LiveServer
from .test_errors import refused
from .test_ws import recv_json, recv_until, ws_url

BRANDS_PLS = """<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon"
         alphabet="ipa" xml:lang="en-US">
  <lexeme><grapheme>SQL</grapheme><alias>sequel</alias></lexeme>
  <lexeme><grapheme>GIF</grapheme><alias>jif</alias></lexeme>
</lexicon>
"""
NAMES_JSON = {"Nguyen": "Win", "de": {"SQL": "Es Ku El"}}


@pytest.fixture(scope="module")
def lexicon_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lexicons")
    (folder / "brands.pls").write_text(BRANDS_PLS, encoding="utf-8")
    (folder / "names.json").write_text(json.dumps(NAMES_JSON), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def lexical(base_settings: Settings, lexicon_dir: Path) -> Iterator[LiveServer]:
    """A server started with ``--lexicon brands.pls --lexicon names.json``."""
    files = (str(lexicon_dir / "brands.pls"), str(lexicon_dir / "names.json"))
    server = LiveServer(
        base_settings.model_copy(update={"lexicon_files": files, "warmup": False})
    ).start()
    yield server
    server.stop()


@pytest.fixture()
def http(lexical: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=lexical.base_url, timeout=60) as c:
        yield c


def samples(http: httpx.Client, **body: object) -> int:
    request = {"response_format": "pcm", "sample_rate": 44100, "seed": 3, **body}
    response = http.post("/v1/audio/speech", json=request)
    assert response.status_code == 200, response.text
    return len(np.frombuffer(response.content, dtype="<i2"))


def test_the_loaded_dictionaries_are_listed(http: httpx.Client) -> None:
    listed = {d["name"]: d for d in http.get("/healthz").json()["lexicons"]}
    assert listed["brands"]["entries"] == 2 and listed["brands"]["languages"] == ["en"]
    assert listed["names"]["languages"] == ["*", "de"]


def test_http_applies_the_named_dictionaries(lexical: LiveServer, http: httpx.Client) -> None:
    engine, text = lexical.engine, "Ask Nguyen about SQL."
    every = samples(http, input=text)  # none named: every loaded dictionary
    assert every == samples(http, input="Ask Win about sequel.", lexicons=[])
    assert samples(http, input=text, lexicons=["brands"]) == samples(
        http, input="Ask Nguyen about sequel.", lexicons=[]
    )
    assert every == len(engine.synthesize(text, engine.options(seed=3)))


def test_http_inline_entries_come_first(http: httpx.Client) -> None:
    inline = samples(http, input="SQL.", pronunciations={"SQL": "ess cue ell"})
    assert inline == samples(http, input="ess cue ell.", lexicons=[])


def test_http_refuses_an_unknown_dictionary_naming_the_loaded_ones(http: httpx.Client) -> None:
    response = http.post("/v1/audio/speech", json={"input": "Hi.", "lexicons": ["medical"]})
    error = refused(response, 400, "invalid_lexicon", "lexicons")
    assert "'medical'" in error["message"] and "brands, names" in error["message"]
    response = http.post("/v1/audio/speech", json={"input": "Hi.", "pronunciations": {"SQL": ""}})
    refused(response, 400, "invalid_value", "pronunciations")


async def test_ws_context_names_its_dictionaries_and_words_keep_the_written_form(
    lexical: LiveServer,
) -> None:
    async with websockets.connect(ws_url(lexical)) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "config", "context_id": "a", "lexicons": ["brands"]}))
        assert (await recv_json(ws))["type"] == "config_ack"
        text = "We use SQL and GIF daily."
        await ws.send(json.dumps({"type": "text", "context_id": "a", "text": text}))
        await ws.send(json.dumps({"type": "flush", "context_id": "a"}))
        audio = [m for m in await recv_until(ws, "audio_end") if m["type"] == "audio"]
    words = [w["word"] for m in audio for w in m["words"]]
    assert words == ["We", "use", "SQL", "and", "GIF", "daily."]
    ends = [w["end"] for m in audio for w in m["words"]]
    assert ends == sorted(ends)


async def test_ws_refuses_an_unknown_dictionary(lexical: LiveServer) -> None:
    """A bad value in a config is a bad config (as an unknown voice is), named."""
    async with websockets.connect(ws_url(lexical)) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "config", "context_id": "a", "lexicons": ["nope"]}))
        error = await recv_json(ws)
    assert error["type"] == "error" and error["code"] == "invalid_config"
    assert "'nope'" in error["message"] and "brands, names" in error["message"]


def test_an_inline_entry_that_is_only_whitespace_is_a_400_naming_it(http: httpx.Client) -> None:
    response = http.post("/v1/audio/speech", json={"input": "Hi.", "pronunciations": {"SQL": "\t"}})
    error = refused(response, 400, "invalid_value", "pronunciations")
    assert error["message"].startswith("pronunciations: empty written or spoken form")
