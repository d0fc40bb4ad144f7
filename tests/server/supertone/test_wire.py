"""Supertone's API on the wire, without the SDK: the stream's exact bytes and framing, the
error envelope, content types, and the switch that turns the API off.

The request bodies are the spec's captured ones, byte for byte (``supertone-api.md`` §10).
"""

from __future__ import annotations

import base64
import json
import socket
import struct

import httpx
import pytest

from ..conftest import API_KEY, LiveServer
from .conftest import PREFIX

CAPTURED_CREATE = (
    b'{"text":"Hello world.","language":"en","model":"sona_speech_1",'
    b'"output_format":"wav","include_phonemes":false}'
)
CAPTURED_STREAM = (
    b'{"text":"Streaming test.","language":"en","model":"sona_speech_1",'
    b'"output_format":"wav","include_phonemes":true}'
)
SDK_HEADERS = {
    "user-agent": "speakeasy-sdk/python 0.2.3 2.686.7 0.9.6 supertone",
    "x-sup-api-key": "anything",
    "content-type": "application/json",
}
STREAM_HEADER = (
    b"RIFF\xff\xff\xff\xffWAVEfmt "
    + struct.pack("<IHHIIHH", 16, 1, 1, 44100, 88200, 2, 16)
    + b"data\xff\xff\xff\xff"
)


def _raw_post(server: LiveServer, path: str, body: bytes, accept: str) -> tuple[bytes, bytes]:
    """POST over a plain socket; the response's head and its body exactly as sent."""
    head = (
        f"POST {PREFIX}{path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Accept: {accept}\r\nConnection: close\r\nContent-Length: {len(body)}\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in SDK_HEADERS.items())
        + "\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(head + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    response_head, _, rest = data.partition(b"\r\n\r\n")
    return response_head, rest


def _chunks(body: bytes) -> list[bytes]:
    """The pieces of a ``Transfer-Encoding: chunked`` body, as the server framed them."""
    pieces = []
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return pieces
        pieces.append(body[:size])
        assert body[size : size + 2] == b"\r\n"
        body = body[size + 2 :]


def test_the_stream_sends_the_wav_header_first_then_raw_audio(st_server: LiveServer):
    body = CAPTURED_CREATE.replace(b"Hello world.", b"Streaming is here. With a second part.")
    head, raw = _raw_post(
        st_server,
        "/v1/text-to-speech/F1/stream",
        body,
        "application/x-ndjson;q=1, audio/mpeg;q=0.7, audio/wav;q=0",
    )
    assert head.startswith(b"HTTP/1.1 200")
    assert b"content-type: audio/wav\r\n" in head.lower()
    assert b"transfer-encoding: chunked" in head.lower()
    pieces = _chunks(raw)
    assert len(pieces) >= 2  # the audio leaves as each synthesized chunk is ready
    assert pieces[0][:44] == STREAM_HEADER  # the whole header, in the first piece
    assert len(pieces[0]) > 44  # with the first audio behind it
    audio = b"".join(pieces)[44:]
    assert len(audio) % 2 == 0 and b"RIFF" not in audio and audio.strip(b"\x00")


def test_the_phoneme_stream_is_ndjson_with_the_header_in_its_first_line(st_server: LiveServer):
    head, raw = _raw_post(
        st_server,
        "/v1/text-to-speech/F1/stream",
        CAPTURED_STREAM.replace(b"Streaming test.", b"Streaming test. Then one more."),
        "application/x-ndjson;q=1, audio/mpeg;q=0.7, audio/wav;q=0",
    )
    assert b"content-type: application/x-ndjson\r\n" in head.lower()
    text = b"".join(_chunks(raw)).decode()
    assert text.endswith("\n")
    lines = [json.loads(line) for line in text.splitlines()]
    audio = [base64.b64decode(line["audio_base64"]) for line in lines]
    assert audio[0][:44] == STREAM_HEADER
    assert all(not a.startswith(b"RIFF") for a in audio[1:])
    ph = lines[0]["phonemes"]
    assert ph["symbols"][:9] == list("Streaming") and ph["start_times_seconds"][0] == 0.0


def test_create_ignores_accept_and_answers_by_the_body(st_server: LiveServer):
    with httpx.Client(base_url=st_server.base_url + PREFIX, headers=SDK_HEADERS) as client:
        wav = client.post(
            "/v1/text-to-speech/F1", content=CAPTURED_CREATE, headers={"Accept": "audio/mpeg"}
        )
        mp3 = client.post(  # output_format in the query, as older docs had it
            "/v1/text-to-speech/F1?output_format=mp3",
            content=b'{"text":"Hi.","language":"en"}',
            headers={"Accept": "audio/wav"},
        )
        as_json = client.post(
            "/v1/text-to-speech/F1",
            content=CAPTURED_CREATE.replace(b"false", b"true"),
            headers={"Accept": "audio/wav"},
        )
    assert wav.headers["content-type"] == "audio/wav" and wav.content[:4] == b"RIFF"
    assert float(wav.headers["x-audio-length"]) == pytest.approx(
        (len(wav.content) - 44) / 88200, abs=0.001
    )
    assert mp3.headers["content-type"] == "audio/mpeg" and mp3.content[:2] == b"\xff\xfb"
    assert as_json.headers["content-type"] == "application/json"
    assert set(as_json.json()) == {"audio_base64", "phonemes"}


def test_errors_use_supertones_envelope(st_server: LiveServer):
    with httpx.Client(base_url=st_server.base_url + PREFIX, headers=SDK_HEADERS) as client:
        too_long = client.post("/v1/text-to-speech/F1", json={"text": "a" * 301, "language": "en"})
        no_language = client.post("/v1/text-to-speech/F1", json={"text": "Hi."})
        bad_language = client.post(
            "/v1/predict-duration/F1", json={"text": "Hi.", "language": "xx"}
        )
        unknown_path = client.get("/v1/nothing-here")
        empty = client.post("/v1/text-to-speech/F1", json={"text": "  ", "language": "en"})
    assert too_long.status_code == 400
    assert too_long.json() == {
        "status": "error",
        "message": {
            "message": "text is 301 characters long; the limit is 300 per request "
            "(the SDK splits longer text itself)",
            "error": "Bad Request",
            "status_code": 400,
        },
    }
    assert no_language.status_code == 400 and "language" in no_language.json()["message"]["message"]
    assert (
        bad_language.status_code == 400 and "language" in bad_language.json()["message"]["message"]
    )
    assert unknown_path.status_code == 404
    assert unknown_path.json()["message"]["error"] == "Not Found"
    assert empty.status_code == 400 and empty.json()["status"] == "error"


def test_a_body_announced_too_large_is_refused_before_it_is_read(st_server: LiveServer):
    head = (
        f"POST {PREFIX}/v1/custom-voices/cloned-voice HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 5000000\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", st_server.port), timeout=60) as sock:
        sock.sendall(head)  # and none of the 5 MB: the answer must come without them
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status, _, rest = data.partition(b"\r\n")
    assert status.startswith(b"HTTP/1.1 413")
    assert json.loads(rest.partition(b"\r\n\r\n")[2])["message"]["status_code"] == 413


def test_the_key_is_checked_only_when_the_server_has_keys(keyed: LiveServer):
    url = keyed.base_url + PREFIX + "/v1/credits"
    missing = httpx.get(url)
    wrong = httpx.get(url, headers={"x-sup-api-key": "nope"})
    right = httpx.get(url, headers={"x-sup-api-key": API_KEY})
    openai_style = httpx.get(url, headers={"Authorization": f"Bearer {API_KEY}"})
    assert missing.status_code == 401 and "x-sup-api-key" in missing.json()["message"]["message"]
    assert wrong.json() == {
        "status": "error",
        "message": {"message": "Invalid API key", "error": "Unauthorized", "status_code": 401},
    }
    assert right.status_code == 200 and right.json() == {"balance": None}
    assert openai_style.status_code == 401  # Supertone's clients send x-sup-api-key


def test_usage_also_counts_characters(st_server: LiveServer):
    base = st_server.base_url + PREFIX
    text = "Characters are counted too."
    assert httpx.post(
        f"{base}/v1/text-to-speech/M4", json={"text": text, "language": "hr"}, timeout=60
    ).is_success
    usages = httpx.get(f"{base}/v1/voice-usage?start_date=2000-01-01&end_date=2100-01-01").json()
    (mine,) = [u for u in usages["usages"] if (u["voice_id"], u["language"]) == ("M4", "hr")]
    assert mine["characters_used"] == len(text)


def test_the_root_voices_route_stays_openai_style(st_server: LiveServer):
    assert "voices" in httpx.get(st_server.base_url + "/v1/voices").json()


def test_the_api_can_be_switched_off(base_settings):
    server = LiveServer(
        base_settings.model_copy(update={"supertone_enabled": False, "warmup": False})
    ).start()
    try:
        response = httpx.get(server.base_url + PREFIX + "/v1/voices")
    finally:
        server.stop()
    assert response.status_code == 404 and "error" in response.json()  # OpenAI's envelope
