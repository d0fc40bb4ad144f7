"""``WS /v1/audio/speech/stream`` on the real server, with the real ``websockets`` client."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import warnings
from typing import Any

import httpx
import numpy as np
import pytest
import websockets
from supertonic_core.client import SpeechClient, SpeechClientError
from supertonic_core.mux import SessionError, SpeechMux
from supertonic_core.protocol import Audio, AudioEnd, Cancelled, Error

from .conftest import LiveServer, submitted_steps

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # a standard G.711 codec (the audioop-lts package from Python 3.13)

PATH = "/v1/audio/speech/stream"


def ws_url(server: LiveServer) -> str:
    return f"ws://127.0.0.1:{server.port}{PATH}"


async def recv_json(ws, timeout: float = 20.0) -> dict[str, Any]:
    while True:
        raw = await asyncio.wait_for(ws.recv(), timeout)
        if isinstance(raw, str):
            return json.loads(raw)


async def recv_until(ws, kind: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    seen = []
    async with asyncio.timeout(timeout):
        while True:
            msg = await recv_json(ws)
            seen.append(msg)
            if msg["type"] == kind:
                return seen


async def test_seed_message_flow(live: LiveServer) -> None:
    """config → text → flush → audio_start / audio / audio_end, as the seed's README shows."""
    async with websockets.connect(ws_url(live)) as ws:
        ready = await recv_json(ws)
        assert (
            ready["type"] == "ready"
            and ready["sample_rate"] == 44100
            and ready["synthetic"] is True
        )
        await ws.send(
            json.dumps(
                {"type": "config", "voice": "alloy", "lang": "en", "speed": 1.05, "total_steps": 8}
            )
        )
        ack = await recv_json(ws)
        assert ack["type"] == "config_ack" and ack["config"]["voice"] == "alloy"
        await ws.send(json.dumps({"type": "text", "text": "Hello, "}))
        await ws.send(json.dumps({"type": "text", "text": "world."}))
        await ws.send(json.dumps({"type": "flush"}))
        msgs = await recv_until(ws, "audio_end")
        kinds = [m["type"] for m in msgs]
        assert kinds[0] == "audio_start" and "ttfb_ms" in msgs[0]
        audio = [m for m in msgs if m["type"] == "audio"]
        pcm = b"".join(base64.b64decode(m["chunk"]) for m in audio)
        assert len(pcm) % 2 == 0
        assert len(pcm) / 2 / 44100 == pytest.approx(msgs[-1]["stats"]["audio_s"], abs=0.05)
        assert all(m["context_id"] == "default" for m in audio)
        from .conftest import wait_for

        def ws_record():
            recent = httpx.get(f"{live.base_url}/metrics/recent", params={"limit": 5}).json()
            found = [r for r in recent["data"] if r["transport"] == "ws"]
            return found[0] if found else None

        record = wait_for(ws_record, what="the utterance's metrics record")
        assert record["ttfb_ms"] == pytest.approx(msgs[0]["ttfb_ms"], abs=5)
        assert record["text"] == "Hello, world." and record["status"] == "ok"
        assert record["bytes"] == len(pcm)
        await ws.send(json.dumps({"type": "close"}))
        with pytest.raises(websockets.ConnectionClosedOK):
            await recv_until(ws, "never", timeout=10)


async def test_tokens_produce_audio_before_the_text_ends(live: LiveServer) -> None:
    async with websockets.connect(ws_url(live)) as ws:
        await recv_json(ws)
        for token in ["The", "first", "sentence", "is", "complete.", "The", "second"]:
            await ws.send(json.dumps({"type": "text", "text": token + " "}))
        first = await recv_until(ws, "audio")
        assert first[-1]["text"] == "The first sentence is complete."
        words = first[-1]["words"]
        assert [w["word"] for w in words] == ["The", "first", "sentence", "is", "complete."]
        assert words[0]["start"] == 0.0 and all(
            a["end"] <= b["start"] + 1e-6 for a, b in itertools.pairwise(words)
        )
        await ws.send(json.dumps({"type": "text", "text": "one arrives later."}))
        await ws.send(json.dumps({"type": "flush"}))
        rest = await recv_until(ws, "audio_end")
        spoken = [m["text"] for m in first + rest if m["type"] == "audio" and m["text"]]
        assert spoken == ["The first sentence is complete.", "The second one arrives later."]


async def test_two_contexts_interleave_and_cancel_is_final(live: LiveServer) -> None:
    async with websockets.connect(ws_url(live)) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "config", "context_id": "long", "total_steps": 32}))
        await ws.send(
            json.dumps({"type": "text", "context_id": "long", "text": "A long turn. " * 30})
        )
        await ws.send(
            json.dumps({"type": "text", "context_id": "next", "text": "The prefetched next turn."})
        )
        await ws.send(json.dumps({"type": "flush", "context_id": "next"}))
        seen: list[dict] = []
        async with asyncio.timeout(30):
            while not (
                any(m["type"] == "audio_end" and m.get("context_id") == "next" for m in seen)
                and any(m["type"] == "audio" and m.get("context_id") == "long" for m in seen)
            ):
                seen.append(await recv_json(ws))
        await ws.send(json.dumps({"type": "cancel", "context_id": "long"}))
        after = await recv_until(ws, "cancelled")
        assert after[-1]["context_id"] == "long"
        await ws.send(json.dumps({"type": "ping"}))
        tail = await recv_until(ws, "pong")
        assert not [m for m in tail if m.get("context_id") == "long"]  # nothing after the ack
        seqs = [m["seq"] for m in seen if m["type"] == "audio" and m["context_id"] == "next"]
        assert seqs == list(range(len(seqs)))
    assert_idle(live)


def assert_idle(live: LiveServer) -> None:
    from .conftest import wait_for

    wait_for(live.idle, what="the scheduler to be idle")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{oops", "invalid_json"),
        (json.dumps({"type": "sing"}), "unknown_type"),
        (json.dumps({"type": "text", "text": "x" * 70000}), "message_too_large"),
        (json.dumps({"type": "config", "voice": "nobody"}), "invalid_config"),
        (json.dumps({"type": "config", "encoding": "flac"}), "invalid_config"),
        (json.dumps({"type": "config", "first_chunk_steps": 0}), "invalid_config"),
        (json.dumps({"type": "config", "first_chunk_steps": "four"}), "invalid_config"),
    ],
)
async def test_errors_keep_the_socket_usable(live: LiveServer, raw: str, code: str) -> None:
    async with websockets.connect(ws_url(live)) as ws:
        await recv_json(ws)
        await ws.send(raw)
        error = await recv_json(ws)
        assert error["type"] == "error" and error["code"] == code and error["fatal"] is False
        await ws.send(json.dumps({"type": "text", "text": "Still alive."}))
        await ws.send(json.dumps({"type": "flush"}))
        await recv_until(ws, "audio_end")


async def test_first_chunk_steps_in_config_and_from_the_server_default(
    live: LiveServer, tuned: LiveServer
) -> None:
    async with websockets.connect(ws_url(live)) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "config", "first_chunk_steps": 3}))
        ack = await recv_json(ws)
        assert ack["type"] == "config_ack" and ack["config"]["first_chunk_steps"] == 3
        await ws.send(json.dumps({"type": "config", "first_chunk_steps": 33}))
        error = await recv_json(ws)
        assert error["code"] == "invalid_config" and not error["fatal"]
        assert "first_chunk_steps must be between 1 and 32, got 33" in error["message"]
    with submitted_steps(
        tuned.engine
    ) as steps:  # --first-chunk-steps 2: every session starts there
        async with websockets.connect(ws_url(tuned)) as ws:
            await recv_json(ws)
            await ws.send(json.dumps({"type": "config", "voice": "M1", "total_steps": 6}))
            ack = await recv_json(ws)
            assert ack["config"]["first_chunk_steps"] == 2 and ack["config"]["steps"] == 6
            text = "Right. Every session on this server starts with the fast start."
            await ws.send(json.dumps({"type": "text", "text": text}))
            await ws.send(json.dumps({"type": "flush"}))
            await recv_until(ws, "audio_end")
    assert len(steps) >= 2 and steps[0] == 2 and set(steps[1:]) == {6}


async def speak_8k(live: LiveServer, encoding: str, text: str) -> bytes:
    """The audio bytes of ``text`` at 8 kHz in ``encoding``, sent as binary frames, with a
    fixed voice and seed (so two encodings carry the same samples)."""
    config = {"binary": True, "encoding": encoding, "sample_rate": 8000, "seed": 7}
    async with websockets.connect(ws_url(live)) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "config", "voice": "M2", **config}))
        await recv_json(ws)
        await ws.send(json.dumps({"type": "text", "text": text}))
        await ws.send(json.dumps({"type": "flush"}))
        audio = b""
        async with asyncio.timeout(30):
            while True:
                msg = json.loads(await ws.recv())
                if msg["type"] == "audio":
                    payload = await ws.recv()
                    assert isinstance(payload, bytes) and len(payload) == msg["bytes"]
                    assert msg["encoding"] == encoding and msg["sample_rate"] == 8000
                    assert "chunk" not in msg
                    audio += payload
                elif msg["type"] == "audio_end":
                    width = 2 if encoding == "pcm_s16le" else 1
                    assert len(audio) / width / 8000 == pytest.approx(
                        msg["stats"]["audio_s"], abs=0.05
                    )
                    return audio


@pytest.mark.parametrize("law", ["mulaw", "alaw"])
async def test_telephony_audio_is_g711(live: LiveServer, law: str) -> None:
    """μ-law and A-law bytes, decoded by a standard G.711 decoder (CPython's ``audioop``, not
    ours), carry the same audio as the pcm output of the same request: G.711's ~37 dB SNR,
    where the old offset-binary μ-law gave -4 to -7 dB (noise on a phone line)."""
    text = "Telephony audio at eight kilohertz."
    pcm = np.frombuffer(await speak_8k(live, "pcm_s16le", text), "<i2").astype(np.float64)
    encoded = await speak_8k(live, law, text)
    decode = audioop.ulaw2lin if law == "mulaw" else audioop.alaw2lin
    decoded = np.frombuffer(decode(encoded, 2), "<i2").astype(np.float64)
    assert len(decoded) == len(pcm)
    snr = 10 * np.log10(np.sum(pcm**2) / np.sum((pcm - decoded) ** 2))
    assert snr >= 30, f"{law}: SNR {snr:.1f} dB"


async def test_disconnect_mid_stream_frees_the_scheduler(live: LiveServer) -> None:
    async with websockets.connect(ws_url(live)) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "config", "total_steps": 32}))
        await ws.send(json.dumps({"type": "text", "text": "Talking for a long while. " * 30}))
        await recv_until(ws, "audio")
    assert_idle(live)


async def test_python_client(live: LiveServer) -> None:
    async with SpeechClient(live.base_url, config={"voice": "M2", "sample_rate": 24000}) as client:
        assert client.ready is not None and client.ready.synthetic
        await client.send_text("The client speaks the same protocol.", "c1")
        await client.flush("c1")
        got = []
        async for event in client.events():
            got.append(event)
            if isinstance(event, AudioEnd):
                break
        audio = [e for e in got if isinstance(e, Audio)]
        assert audio and {a.sample_rate for a in audio} == {24000}
        await client.cancel("c1")
        async for event in client.events():
            if isinstance(event, Cancelled):
                break


async def test_python_client_sends_first_chunk_steps(live: LiveServer) -> None:
    async with SpeechClient(live.base_url, config={"first_chunk_steps": 4}) as client:
        assert client.configured is not None
        assert client.configured.config["first_chunk_steps"] == 4


async def test_a_refused_initial_config_is_a_client_error(live: LiveServer) -> None:
    client = SpeechClient(live.base_url, config={"first_chunk_steps": 0})
    with pytest.raises(SpeechClientError, match="first_chunk_steps") as caught:
        await client.connect()
    assert caught.value.code == "invalid_config" and not caught.value.retryable


async def test_a_config_after_the_initial_one_is_settled_by_its_own_answer(
    live: LiveServer,
) -> None:
    """The initial config's acknowledgement must not pass for the answer to the next one."""
    async with SpeechClient(live.base_url, config={"binary": True}) as client:
        mux = SpeechMux(client)
        with pytest.raises(SessionError, match="first_chunk_steps"):
            await mux.configure(first_chunk_steps=0)
        await mux.aclose()


async def test_client_connection_errors() -> None:
    with pytest.raises(SpeechClientError, match="cannot open"):
        await SpeechClient("ws://127.0.0.1:9", open_timeout=2).connect()


@pytest.fixture(scope="module")
def keyed(base_settings) -> LiveServer:
    server = LiveServer(
        base_settings.model_copy(update={"api_keys": ("sekrit",), "warmup": False})
    ).start()
    yield server
    server.stop()


async def test_auth_by_header_first_message_or_refusal(keyed: LiveServer) -> None:
    async with websockets.connect(
        ws_url(keyed), additional_headers={"Authorization": "Bearer sekrit"}
    ) as ws:
        assert (await recv_json(ws))["type"] == "ready"
    async with websockets.connect(ws_url(keyed)) as ws:
        await ws.send(json.dumps({"type": "auth", "api_key": "sekrit"}))
        assert (await recv_json(ws))["type"] == "ready"
    async with websockets.connect(ws_url(keyed)) as ws:
        await ws.send(json.dumps({"type": "auth", "api_key": "wrong"}))
        error = await recv_json(ws)
        assert error["type"] == "error" and error["code"] == "unauthorized" and error["fatal"]
        with pytest.raises(websockets.ConnectionClosed) as info:
            await ws.recv()
        assert info.value.rcvd.code == 1008
    with pytest.raises(SpeechClientError) as refused:
        await SpeechClient(keyed.base_url, api_key="wrong").connect()
    assert refused.value.code == "unauthorized"  # a header key is refused the same way


@pytest.mark.parametrize(
    ("headers", "query", "first"),
    [
        ({"Authorization": "Bearer wrong"}, "", None),
        ({"x-api-key": "wrong"}, "", None),
        ({}, "?api_key=wrong", None),
        ({}, "", {"type": "auth", "api_key": 12345}),
        ({}, "", {"type": "auth", "api_key": "\ud800"}),  # a lone surrogate: not UTF-8
        ({}, "", {"type": "auth", "api_key": ["sekrit"]}),
        ({}, "", {"type": "auth"}),
        ({}, "", {"type": "text", "text": "no auth first"}),
    ],
)
async def test_every_refusal_is_unauthorized_then_1008(
    keyed: LiveServer, headers: dict, query: str, first: dict | None
) -> None:
    """A wrong key by header, query or message, or an ``api_key`` that is not a string, gets
    the documented ``unauthorized`` error and close 1008 (no 403 handshake, no traceback)."""
    async with websockets.connect(ws_url(keyed) + query, additional_headers=headers) as ws:
        if first is not None:
            await ws.send(json.dumps(first))
        error = await recv_json(ws)
        assert error["type"] == "error" and error["code"] == "unauthorized" and error["fatal"]
        with pytest.raises(websockets.ConnectionClosed) as info:
            await recv_json(ws)
        assert info.value.rcvd.code == 1008


async def test_idle_timeout(base_settings) -> None:
    server = LiveServer(
        base_settings.model_copy(update={"ws_idle_timeout": 0.3, "warmup": False})
    ).start()
    try:
        async with websockets.connect(ws_url(server)) as ws:
            await recv_json(ws)
            error = await recv_json(ws, timeout=10)
            assert error["code"] == "idle_timeout"
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
    finally:
        server.stop()


async def test_error_event_type(live: LiveServer) -> None:
    async with SpeechClient(live.base_url) as client:
        await client.configure(voice="Q7")
        async for event in client.events():
            if isinstance(event, Error):
                assert "unknown voice 'Q7'" in event.message
                break


async def test_per_message_deflate_is_not_negotiated(live: LiveServer) -> None:
    """Audio hardly compresses, and a socket that negotiates deflate holds zlib's state for
    its whole life (twice the memory of an idle socket): the server declines the offer."""
    async with websockets.connect(ws_url(live), compression="deflate") as ws:
        await recv_json(ws)
        assert ws.protocol.extensions == []
