"""Careless and hostile HTTP clients: huge or malformed values, lax types, bodies that never
arrive. Every case is a clean 4xx in OpenAI's envelope that quotes the client's value
shortened, never a 500, a stall or an echo of a megabyte."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from supertonic_core.voices import MAX_BLEND_TERMS
from supertonic_server import Settings

from .conftest import LiveServer, submitted_steps
from .test_errors import refused, speech

#: An error body, message included, stays this small whatever the client sent.
SHORT_BODY = 1000


def raw_speech(client: httpx.Client, body: str) -> httpx.Response:
    """POST a hand-written JSON body (JSON escapes such as a lone ``\\ud800`` kept as written)."""
    return client.post(
        "/v1/audio/speech",
        content=body.encode("ascii"),
        headers={"content-type": "application/json"},
    )


def test_huge_voice_values_are_refused_short_and_logged_short(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="supertonic_server")
    for voice in ("+".join(["F1"] * 50_000), "x" * 1_000_000, "F1*0.5+" + "M" * 600):
        response = speech(client, voice=voice)
        error = refused(response, 400, "invalid_voice", "voice")
        assert "at most 512 characters" in error["message"]
        assert len(response.content) < SHORT_BODY
    many = speech(client, voice="+".join(["F1"] * (MAX_BLEND_TERMS + 1)))
    assert (
        f"at most {MAX_BLEND_TERMS} terms"
        in refused(many, 400, "invalid_voice", "voice")["message"]
    )
    assert max(len(r.getMessage()) for r in caplog.records) < SHORT_BODY


def test_the_largest_blend_has_a_short_voice_header(client: httpx.Client) -> None:
    response = speech(client, voice="+".join(["F1*3", "M2"] * (MAX_BLEND_TERMS // 2)))
    assert response.status_code == 200, response.text
    assert response.headers["x-voice"].startswith("F1*0.0937+M2*0.0312+")
    assert len(response.headers["x-voice"]) < 400


@pytest.mark.parametrize("weight", ["9" * 400, "0", "0.000"])
def test_blend_weights_must_be_positive_and_finite(client: httpx.Client, weight: str) -> None:
    error = refused(speech(client, voice=f"F1*{weight}+M1"), 400, "invalid_voice", "voice")
    assert "positive finite number" in error["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ('{"model": "\\ud800", "input": "Hello."}', "model"),
        ('{"input": "Hello \\udc00 there."}', "input"),
        ('{"input": "Hello.", "voice": "F1\\ud800"}', "voice"),
        ('{"input": "Hello.", "voice": {"id": "\\udfff"}}', "voice.id"),
        ('{"input": "Hello.", "instructions": "calm \\ud83d"}', "instructions"),
        ('{"input": "Hello.", "lang": "\\ud800"}', "lang"),
        ('{"input": "Hello.", "response_format": "\\ud800"}', "response_format"),
        ('{"input": "Hello.", "\\ud800": 1}', None),
    ],
)
def test_text_that_is_not_unicode_is_a_400_naming_the_field(
    client: httpx.Client, body: str, param: str | None
) -> None:
    response = raw_speech(client, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_value"
    assert error["param"] == param
    assert f"{param or 'a parameter name'} is not valid Unicode" in error["message"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("speed", "1.0"),
        ("speed", True),
        ("total_steps", True),
        ("total_steps", "8"),
        ("total_steps", 8.0),
        ("first_chunk_steps", "2"),
        ("seed", False),
        ("seed", "42"),
        ("sample_rate", "24000"),
        ("input", 12),
    ],
)
def test_lax_types_are_refused(client: httpx.Client, field: str, value: Any) -> None:
    error = refused(speech(client, **{field: value}), 400, "invalid_value", field)
    assert field in error["message"]


def test_an_integer_speed_is_a_number(client: httpx.Client) -> None:
    assert speech(client, speed=1, response_format="pcm").status_code == 200


def test_errors_quote_what_the_client_sent(client: httpx.Client) -> None:
    error = refused(
        speech(client, input="Set \u2135 zero."), 400, "unsupported_characters", "input"
    )
    assert "\u2135" in error["message"] and "U+2135" in error["message"]
    assert "\u05d0" not in error["message"]  # NFKD's form of it, which the client never sent
    error = refused(
        speech(client, input="Ring\x07 the bell."), 400, "unsupported_characters", "input"
    )
    assert "U+0007, a control character" in error["message"]
    huge = "zz" + "x" * 20_000
    response = speech(client, lang=huge)
    refused(response, 400, "invalid_language", "lang")
    assert len(response.content) < SHORT_BODY
    response = speech(client, model=huge)
    refused(response, 400, "invalid_model", "model")
    assert len(response.content) < SHORT_BODY
    response = client.get(f"/v1/models/{huge}")
    refused(response, 404, "model_not_found", "model")
    assert len(response.content) < SHORT_BODY


def test_a_run_of_combining_marks_is_a_few_chunks(client: httpx.Client, live: LiveServer) -> None:
    """4000 accents on one letter took 7 s: cut one mark per chunk, 3700 pauses. Counted,
    not timed: the text reaches the scheduler as at most one job per 300 characters."""
    with submitted_steps(live.engine) as steps:
        response = speech(client, input="a" + "\u0301" * 4000, response_format="pcm")
    assert response.status_code == 200, response.text
    assert len(steps) <= 14
    assert len(response.content) / 2 / 24000 < 14 * 2  # seconds of audio, not minutes


@pytest.fixture(scope="module")
def impatient(base_settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(
        base_settings.model_copy(update={"body_timeout": 0.5, "warmup": False})
    ).start()
    yield server
    server.stop()


def test_a_body_that_never_arrives_gets_408(impatient: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", impatient.port), timeout=30) as sock:
        sock.sendall(
            b"POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            b'{"input": "Hel'
        )
        reply = b""
        while chunk := sock.recv(4096):  # the server answers, then closes the connection
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), reply
    assert b'"code":"request_timeout"' in body
    # a body that does arrive is served as usual
    with httpx.Client(base_url=impatient.base_url, timeout=60) as client:
        assert speech(client, response_format="pcm").status_code == 200


@pytest.mark.parametrize(
    ("path", "status"),
    [("/metrics/recent?limit=AAA", 400), ("/metrics/recent?limit=0", 400), ("/v1/models/x", 404)],
)
def test_statuses_are_declared_in_the_schema(client: httpx.Client, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    route = path.split("?")[0].replace("/x", "/{model_id}")
    declared = client.get("/openapi.json").json()["paths"][route]["get"]["responses"]
    assert str(status) in declared and "422" not in declared
    assert declared[str(status)]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"
    }


def test_readiness_declares_its_503(client: httpx.Client) -> None:
    declared = client.get("/openapi.json").json()["paths"]["/readyz"]["get"]["responses"]
    assert set(declared) == {"200", "503"}
