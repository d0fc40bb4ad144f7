"""POST /v1/audio/speech end to end: the real server, driven by the OpenAI SDK, httpx and a socket."""

from __future__ import annotations

import base64
import json
import logging
import socket

import httpx
import numpy as np
import openai
import pytest
from supertonic_server.logs import RequestIdFilter

from .conftest import LiveServer, RecordingMetrics, decode, submitted_steps

TEXT = "Hello there. This is a streaming test, with two sentences."
KOREAN = "안녕하세요. 만나서 반갑습니다."

#: Output rate each format gets when the request names none.
DEFAULT_RATES = {
    "pcm": 24000,
    "opus": 48000,
    "mp3": 44100,
    "aac": 44100,
    "flac": 44100,
    "wav": 44100,
}
#: Samples a decoder may add beyond the audio: encoder delay and frame padding.
CODEC_SLACK = {"mp3": 3 * 1152, "aac": 3 * 1024}


def expected_seconds(live: LiveServer, text: str, **opts: object) -> float:
    """How long the engine's own output is for the same request (same seed)."""
    engine = live.engine
    audio = engine.synthesize(text, engine.options(**opts))
    return len(audio) / engine.sample_rate


def assert_duration(fmt: str, samples: np.ndarray, rate: int, seconds: float) -> None:
    expected = seconds * rate
    got = len(samples)
    slack = CODEC_SLACK.get(fmt, 0)
    tolerance = 0.003 * rate  # resampler rounding at the ends
    assert expected - tolerance <= got <= expected + tolerance + slack, (fmt, got, expected)


@pytest.fixture()
def sdk(live: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live.base_url}/v1", api_key="unused", max_retries=0)


@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "wav", "pcm"])
def test_every_format_through_the_openai_sdk(
    live: LiveServer, sdk: openai.OpenAI, fmt: str
) -> None:
    response = sdk.audio.speech.create(
        model="tts-1", voice="alloy", input=TEXT, response_format=fmt, extra_body={"seed": 7}
    )
    headers = response.response.headers
    rate = DEFAULT_RATES[fmt]
    assert headers["x-sample-rate"] == str(rate)
    assert headers["x-voice"] == "F1"
    assert headers["x-synthetic-model"] == "true"
    samples, decoded_rate = decode(fmt, response.content, pcm_rate=rate)
    assert decoded_rate == rate
    assert np.abs(samples).max() > 0.0
    assert_duration(fmt, samples, rate, expected_seconds(live, TEXT, voice="alloy", seed=7))


def test_pcm_at_native_rate_equals_the_engine_output(
    live: LiveServer, client: httpx.Client
) -> None:
    body = {"input": TEXT, "voice": "M2", "response_format": "pcm", "sample_rate": 44100, "seed": 3}
    response = client.post("/v1/audio/speech", json=body)
    assert response.status_code == 200
    assert response.headers["x-audio-encoding"] == "pcm_s16le_44100_1ch"
    served = np.frombuffer(response.content, dtype="<i2").astype(np.float32) / 32767.0
    engine = live.engine
    reference = engine.synthesize(TEXT, engine.options(voice="M2", seed=3))
    assert len(served) == len(reference)
    assert np.max(np.abs(served - np.clip(reference, -1, 1))) < 2e-3


def test_streaming_response_reports_headers_and_streams(sdk: openai.OpenAI) -> None:
    with sdk.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts-2025-12-15", voice="nova", input=TEXT, response_format="pcm"
    ) as response:
        assert response.headers["x-voice"] == "F4"
        assert response.headers["x-language"] == "en"
        assert response.headers["x-audio-encoding"] == "pcm_s16le_24000_1ch"
        assert response.headers["x-request-id"].startswith("req_")
        assert response.headers["content-type"].startswith("audio/pcm")
        assert response.headers.get("transfer-encoding") == "chunked"
        pieces = list(response.iter_bytes())
    data = b"".join(pieces)
    assert len(data) % 2 == 0 and len(data) > 0


async def test_async_client_streams_every_byte(live: LiveServer) -> None:
    sdk = openai.AsyncOpenAI(base_url=f"{live.base_url}/v1", api_key="unused", max_retries=0)
    received = bytearray()
    async with sdk.audio.speech.with_streaming_response.create(
        model="tts-1-hd",
        voice="echo",
        input=TEXT,
        response_format="wav",
        extra_body={"seed": 11},
    ) as response:
        assert response.headers["x-voice"] == "M4"
        async for piece in response.iter_bytes():
            received += piece
    await sdk.close()
    samples, rate = decode("wav", bytes(received))
    assert rate == 44100
    assert_duration("wav", samples, rate, expected_seconds(live, TEXT, voice="echo", seed=11))


def _sse_events(response: httpx.Response) -> list[dict]:
    events = []
    for line in response.iter_lines():
        if line.startswith("data: "):
            events.append(json.loads(line[6:]))
        else:
            assert line == "", line
    return events


@pytest.mark.parametrize("fmt", ["pcm", "mp3"])
def test_sse_deltas_then_done_with_usage(live: LiveServer, client: httpx.Client, fmt: str) -> None:
    body = {
        "model": "gpt-4o-mini-tts",
        "input": TEXT,
        "voice": "alloy",
        "response_format": fmt,
        "stream_format": "sse",
        "seed": 5,
    }
    with client.stream("POST", "/v1/audio/speech", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _sse_events(response)
    *deltas, done = events
    assert deltas and all(e["type"] == "speech.audio.delta" for e in deltas)
    assert done["type"] == "speech.audio.done"
    usage = done["usage"]
    assert usage["input_tokens"] == len(TEXT)
    assert usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    audio = b"".join(base64.b64decode(e["audio"]) for e in deltas)
    samples, rate = decode(fmt, audio, pcm_rate=DEFAULT_RATES[fmt])
    assert_duration(fmt, samples, rate, expected_seconds(live, TEXT, voice="alloy", seed=5))


def _read_chunked(sock: socket.socket) -> tuple[str, dict[str, str], bytes]:
    reader = sock.makefile("rb")
    status = reader.readline().decode().strip()
    headers = {}
    while (line := reader.readline().decode().strip()) != "":
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = bytearray()
    assert headers.get("transfer-encoding") == "chunked"
    while True:
        size = int(reader.readline().split(b";")[0], 16)
        if size == 0:
            reader.readline()
            break
        body += reader.read(size)
        assert reader.read(2) == b"\r\n"
    return status, headers, bytes(body)


def test_raw_http11_request_like_curl(live: LiveServer) -> None:
    payload = json.dumps({"input": "Raw socket.", "voice": "F3", "response_format": "wav"})
    request = (
        "POST /v1/audio/speech HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{live.port}\r\n"
        "User-Agent: curl/8.5.0\r\nAccept: */*\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n{payload}"
    )
    with socket.create_connection(("127.0.0.1", live.port), timeout=30) as sock:
        sock.sendall(request.encode())
        status, headers, body = _read_chunked(sock)
    assert status == "HTTP/1.1 200 OK"
    assert headers["content-type"] == "audio/wav"
    assert headers["x-voice"] == "F3"
    assert body[:4] == b"RIFF" and body[4:8] == b"\xff\xff\xff\xff"
    assert body[40:44] == b"\xff\xff\xff\xff"  # data size: unknown, streaming
    samples, rate = decode("wav", body)
    assert rate == 44100 and len(samples) > 0


def test_extensions_lang_rate_blend_steps_and_voice_object(client: httpx.Client) -> None:
    body = {
        "input": KOREAN,
        "voice": "alloy*1+echo",
        "lang": "ko",
        "sample_rate": 16000,
        "total_steps": 2,
        "response_format": "wav",
    }
    response = client.post("/v1/audio/speech", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["x-language"] == "ko"
    assert response.headers["x-voice"] == "F1*0.5+M4*0.5"
    assert response.headers["x-sample-rate"] == "16000"
    _, rate = decode("wav", response.content)
    assert rate == 16000

    response = client.post("/v1/audio/speech", json={"input": "Hi.", "voice": {"id": "onyx"}})
    assert response.status_code == 200
    assert response.headers["x-voice"] == "M1"
    assert response.headers["content-type"] == "audio/mpeg"  # OpenAI's default format


def test_first_chunk_steps_apply_to_the_first_chunk_only(
    client: httpx.Client, live: LiveServer, tuned: LiveServer
) -> None:
    body = {"input": TEXT, "response_format": "pcm", "total_steps": 6}
    with submitted_steps(live.engine) as steps:
        response = client.post("/v1/audio/speech", json={**body, "first_chunk_steps": 2})
    assert response.status_code == 200, response.text
    assert len(steps) >= 2 and steps[0] == 2 and set(steps[1:]) == {6}
    with submitted_steps(live.engine) as steps:  # not given: the server's default, 4
        assert client.post("/v1/audio/speech", json=body).status_code == 200
    assert steps[0] == 4 and set(steps[1:]) == {6}
    with submitted_steps(live.engine) as steps:  # as many as total_steps: fast start off
        response = client.post("/v1/audio/speech", json={**body, "first_chunk_steps": 6})
        assert response.status_code == 200
    assert set(steps) == {6}

    # --first-chunk-steps 2 is the server's default; a request may ask for another count
    with httpx.Client(base_url=tuned.base_url, timeout=60) as other:
        text = "Good morning. The fast start is this server's default."
        with submitted_steps(tuned.engine) as steps:
            assert other.post("/v1/audio/speech", json={**body, "input": text}).status_code == 200
        assert steps[0] == 2 and set(steps[1:]) == {6}
        text = "Good evening. This request asks for five steps first."
        with submitted_steps(tuned.engine) as steps:
            response = other.post(
                "/v1/audio/speech", json={**body, "input": text, "first_chunk_steps": 5}
            )
            assert response.status_code == 200
        assert steps[0] == 5 and set(steps[1:]) == {6}


def test_same_seed_same_bytes(client: httpx.Client) -> None:
    body = {"input": TEXT, "response_format": "pcm", "seed": 42}
    first = client.post("/v1/audio/speech", json=body).content
    second = client.post("/v1/audio/speech", json=body).content
    assert first == second


def test_lang_auto_detects_and_says_how(client: httpx.Client) -> None:
    response = client.post(
        "/v1/audio/speech", json={"input": KOREAN, "lang": "auto", "response_format": "pcm"}
    )
    assert response.status_code == 200
    assert response.headers["x-language"] == "ko"
    assert response.headers["x-language-detection"] in ("heuristic", "lingua")


def test_instructions_set_the_pace_unless_speed_is_given(client: httpx.Client) -> None:
    base = {"input": "Hi.", "response_format": "pcm", "instructions": "Speak slowly and warmly."}
    slow = client.post("/v1/audio/speech", json=base)
    assert slow.headers["x-speed"] == "0.924"  # 1.05 × 0.88
    explicit = client.post("/v1/audio/speech", json={**base, "speed": 1.5})
    assert explicit.headers["x-speed"] == "1.5"
    plain = client.post("/v1/audio/speech", json={**base, "instructions": "Sound cheerful."})
    assert plain.headers["x-speed"] == "1.05"


def test_request_id_is_returned_and_on_every_log_line(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO):
        response = client.post(
            "/v1/audio/speech", json={"input": "Trace me."}, headers={"X-Request-ID": "abc-123"}
        )
    assert response.headers["x-request-id"] == "abc-123"
    mine = [r for r in caplog.records if r.name == "supertonic_server"]
    assert any("speech request" in r.getMessage() for r in mine)
    assert any(r.getMessage().startswith("speech ok") for r in mine)
    assert all(r.request_id == "abc-123" for r in mine)

    unsafe = client.post(
        "/v1/audio/speech", json={"input": "Hi."}, headers={"X-Request-ID": "bad id\twith spaces"}
    )
    assert unsafe.headers["x-request-id"].startswith("req_")


def test_each_request_is_reported_to_the_metrics_hook(
    client: httpx.Client, recorder: RecordingMetrics
) -> None:
    response = client.post("/v1/audio/speech", json={"input": TEXT, "response_format": "flac"})
    assert response.status_code == 200
    (record,) = recorder.records
    assert record.meta == {
        "transport": "http",
        "text": TEXT,
        "voice": "F1",
        "lang": "en",
        "format": "flac",
    }
    assert record.first_byte == 1
    assert record.bytes == len(response.content)
    assert record.audio_s > 1.0
    assert record.finished == [("ok", None)]
