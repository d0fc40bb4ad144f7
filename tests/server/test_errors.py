"""Every refusal is a clean 4xx in OpenAI's envelope, before any audio is sent."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from fastapi import FastAPI
from supertonic_server.errors import ErrorBoundaryMiddleware, install_error_handlers
from supertonic_server.logs import RequestIdMiddleware

from .conftest import LiveServer


def refused(response: httpx.Response, status: int, code: str | None, param: str | None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == code
    assert error["param"] == param
    assert error["type"] == ("invalid_request_error" if status < 500 else "server_error")
    assert error["message"]
    return error


def speech(client: httpx.Client, **body: Any) -> httpx.Response:
    return client.post("/v1/audio/speech", json={"input": "Hello.", **body})


def test_unknown_voice_lists_the_valid_ones(client: httpx.Client) -> None:
    error = refused(speech(client, voice="F9"), 400, "invalid_voice", "voice")
    for name in ("F1", "M5", "alloy", "nova", "cedar"):
        assert name in error["message"]
    refused(speech(client, voice={"id": "nobody"}), 400, "invalid_voice", "voice")
    refused(speech(client, voice="F1*0+M1*0"), 400, "invalid_voice", "voice")


def test_unknown_model_lists_the_accepted_ones(client: httpx.Client) -> None:
    error = refused(speech(client, model="eleven_turbo"), 400, "invalid_model", "model")
    for name in ("supertonic-3", "tts-1", "tts-1-hd", "gpt-4o-mini-tts"):
        assert name in error["message"]


def test_input_too_long_empty_and_unreadable(client: httpx.Client, live: LiveServer) -> None:
    limit = live.app.state.settings.max_input_chars
    error = refused(speech(client, input="a" * (limit + 1)), 400, "input_too_long", "input")
    assert str(limit) in error["message"]
    refused(speech(client, input=""), 400, "empty_input", "input")
    refused(speech(client, input="   \n "), 400, "empty_input", "input")
    refused(speech(client, input="..."), 400, "empty_input", "input")
    error = refused(speech(client, input="Shalom שלום"), 400, "unsupported_characters", "input")
    assert "U+05E9" in error["message"]
    refused(
        client.post("/v1/audio/speech", json={"voice": "alloy"}),
        400,
        "missing_required_parameter",
        "input",
    )


@pytest.mark.parametrize(
    ("field", "value", "code", "needle"),
    [
        ("speed", 3.0, "invalid_value", "between 0.5 and 2.0"),
        ("speed", 0.25, "invalid_value", "between 0.5 and 2.0"),
        ("total_steps", 0, "invalid_value", "total_steps must be between 1 and 32"),
        ("total_steps", 33, "invalid_value", "total_steps"),
        ("first_chunk_steps", 0, "invalid_value", "first_chunk_steps must be between 1 and 32"),
        ("first_chunk_steps", 33, "invalid_value", "first_chunk_steps must be between 1 and 32"),
        ("first_chunk_steps", "four", "invalid_value", "first_chunk_steps must be an integer"),
        ("first_chunk_steps", 2.5, "invalid_value", "first_chunk_steps"),
        ("sample_rate", 12345, "invalid_value", "8000, 16000, 22050, 24000, 44100, 48000"),
        ("lang", "xx", "invalid_language", "valid languages: en, ko"),
        ("response_format", "ogg", "invalid_value", "mp3"),
        ("stream_format", "ws", "invalid_value", "sse"),
        ("seed", -1, "invalid_value", "seed"),
        ("speed", "fast", "invalid_value", "speed"),
    ],
)
def test_out_of_range_values_name_the_range(
    client: httpx.Client, field: str, value: Any, code: str, needle: str
) -> None:
    error = refused(speech(client, **{field: value}), 400, code, field)
    assert needle in error["message"]


def test_opus_at_another_rate_is_refused_not_resampled_silently(client: httpx.Client) -> None:
    error = refused(
        speech(client, response_format="opus", sample_rate=24000),
        400,
        "invalid_value",
        "sample_rate",
    )
    assert "48000" in error["message"]


def test_bad_json_unknown_fields_and_wrong_body(client: httpx.Client) -> None:
    bad = client.post(
        "/v1/audio/speech", content=b'{"input": "hi",', headers={"content-type": "application/json"}
    )
    refused(bad, 400, "invalid_json", None)
    refused(speech(client, sped=1.2), 400, "unknown_parameter", "sped")
    form = client.post(
        "/v1/audio/speech",
        content=b"input=hi",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    error = refused(form, 400, "invalid_json", None)
    assert "Content-Type: application/json" in error["message"]


def test_unknown_route_and_wrong_method(client: httpx.Client) -> None:
    error = refused(client.get("/v1/nothing/here"), 404, "not_found", None)
    assert error["message"] == "Invalid URL (GET /v1/nothing/here)"
    refused(client.get("/v1/audio/speech"), 405, "method_not_allowed", None)


def test_the_sdk_raises_typed_errors_with_the_code(live: LiveServer) -> None:
    sdk = openai.OpenAI(base_url=f"{live.base_url}/v1", api_key="x", max_retries=0)
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.audio.speech.create(model="tts-1", voice="nobody", input="Hi.")  # type: ignore[arg-type]
    assert caught.value.code == "invalid_voice"
    assert caught.value.param == "voice"
    with pytest.raises(openai.NotFoundError):
        sdk.models.retrieve("whisper-1")


def test_unexpected_errors_are_a_generic_500_with_the_request_id() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail /etc/passwd")

    app.add_middleware(ErrorBoundaryMiddleware)
    app.add_middleware(RequestIdMiddleware)
    transport = httpx.ASGITransport(app=app)

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.get("/boom", headers={"X-Request-ID": "r-500"})

    import asyncio

    response = asyncio.run(call())
    error = refused(response, 500, "internal_error", None)
    assert "r-500" in error["message"]
    assert "secret" not in response.text
    assert response.headers["x-request-id"] == "r-500"
