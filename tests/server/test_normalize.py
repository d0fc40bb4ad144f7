"""Normalisation through the real server: a markdown-heavy LLM reply over HTTP and over the
WebSocket, with the per-request switch and word timings on the original text."""

from __future__ import annotations

import json

import httpx
import numpy as np
import websockets

from .conftest import LiveServer
from .test_ws import recv_json, recv_until, ws_url

REPLY = (
    "## Plan\n\n"
    "- Tickets cost **$12.50** each.\n"
    "- The tour starts at 3:30 pm, see [the map](https://example.com/map).\n\n"
    "```\nignored()\n```\n"
    "Enjoy! [pause:250ms] Bye."
)


def pcm(client: httpx.Client, **body: object) -> np.ndarray:
    request = {"response_format": "pcm", "sample_rate": 44100, "seed": 5, **body}
    response = client.post("/v1/audio/speech", json=request)
    assert response.status_code == 200, response.text
    return np.frombuffer(response.content, dtype="<i2")


def test_http_reads_the_reply_normalised_unless_told_not_to(
    live: LiveServer, client: httpx.Client
) -> None:
    engine = live.engine
    served = pcm(client, input=REPLY)
    assert len(served) == len(engine.synthesize(REPLY, engine.options(seed=5)))
    raw = pcm(client, input=REPLY, normalize=False)
    assert len(raw) == len(engine.synthesize(REPLY, engine.options(seed=5, normalize=False)))
    assert len(raw) != len(served)


def test_http_bad_values_are_400(client: httpx.Client) -> None:
    for field, value in (("emoji", "spell"), ("normalize", "sometimes")):
        response = client.post("/v1/audio/speech", json={"input": "Hi.", field: value})
        assert response.status_code == 400
        assert response.json()["error"]["param"] == field
    response = client.post("/v1/audio/speech", json={"input": "```\ncode()\n```"})
    assert response.status_code == 400  # nothing left to speak


async def test_ws_words_refer_to_the_original_reply(live: LiveServer) -> None:
    async with websockets.connect(ws_url(live)) as ws:
        await recv_json(ws)
        for i in range(0, len(REPLY), 3):  # as an LLM streams it
            await ws.send(json.dumps({"type": "text", "text": REPLY[i : i + 3]}))
        await ws.send(json.dumps({"type": "flush"}))
        audio = [m for m in await recv_until(ws, "audio_end") if m["type"] == "audio"]
    words = [w["word"] for m in audio for w in m["words"]]
    assert "$12.50" in words and "3:30 pm," in words and "map." in words, " | ".join(words)
    assert not {"twelve", "dollars", "##", "ignored()"} & set(words)
    assert [round(m["duration_s"], 2) for m in audio if not m["text"]] == [0.25]


async def test_ws_config_turns_it_off(live: LiveServer) -> None:
    async with websockets.connect(ws_url(live)) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "config", "normalize": "no"}))
        assert (await recv_json(ws))["code"] == "invalid_config"
        await ws.send(json.dumps({"type": "config", "normalize": False}))
        assert (await recv_json(ws))["type"] == "config_ack"
        await ws.send(json.dumps({"type": "text", "text": "It costs $12.50."}))
        await ws.send(json.dumps({"type": "flush"}))
        audio = [m for m in await recv_until(ws, "audio_end") if m["type"] == "audio"]
    assert [w["word"] for m in audio for w in m["words"]] == ["It", "costs", "$12.50."]
