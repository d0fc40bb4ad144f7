"""API keys: Bearer or x-api-key on /v1/, 401 in the envelope otherwise; probes stay open."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest
from supertonic_server import Settings
from supertonic_server.auth import check_key, presented_key
from supertonic_server.errors import APIError

from .conftest import LiveServer

KEYS = ("sk-first", "sk-second")


@pytest.fixture(scope="module")
def keyed(base_settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(
        base_settings.model_copy(update={"api_keys": KEYS, "warmup": False})
    ).start()
    yield server
    server.stop()


def test_no_key_or_a_wrong_key_is_401_before_the_body_is_read(keyed: LiveServer) -> None:
    with httpx.Client(base_url=keyed.base_url) as client:
        missing = client.post("/v1/audio/speech", content=b"not even json")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        assert missing.headers["x-request-id"].startswith("req_")
        assert missing.json()["error"]["code"] == "missing_api_key"
        wrong = client.get("/v1/models", headers={"Authorization": "Bearer sk-nope"})
        assert wrong.status_code == 401
        error = wrong.json()["error"]
        assert error == {
            "message": "Incorrect API key provided.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
        assert "sk-nope" not in wrong.text


def test_bearer_and_x_api_key_both_work(keyed: LiveServer) -> None:
    with httpx.Client(base_url=keyed.base_url) as client:
        bearer = client.post(
            "/v1/audio/speech", json={"input": "Hi."}, headers={"Authorization": "Bearer sk-second"}
        )
        assert bearer.status_code == 200
        header = client.get("/v1/voices", headers={"x-api-key": "sk-first"})
        assert header.status_code == 200


def test_the_sdk_sends_its_key_as_bearer(keyed: LiveServer) -> None:
    good = openai.OpenAI(base_url=f"{keyed.base_url}/v1", api_key="sk-first", max_retries=0)
    assert good.audio.speech.create(model="tts-1", voice="alloy", input="Hi.").content
    bad = openai.OpenAI(base_url=f"{keyed.base_url}/v1", api_key="sk-bad", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        bad.models.list()
    assert caught.value.code == "invalid_api_key"


def test_probes_and_docs_stay_open(keyed: LiveServer) -> None:
    with httpx.Client(base_url=keyed.base_url) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
        assert client.get("/docs").status_code == 200


def test_key_helpers() -> None:
    assert presented_key({b"authorization": b"Bearer abc"}) == "abc"
    assert presented_key({b"authorization": b"bearer  abc "}) == "abc"
    assert presented_key({b"x-api-key": b"xyz"}) == "xyz"
    assert presented_key({}, b"api_key=q") is None
    assert presented_key({}, b"api_key=q", websocket=True) == "q"
    check_key(None, ())  # no keys configured: open
    check_key("a", ("a",))
    with pytest.raises(APIError) as caught:
        check_key("b", ("a",))
    assert caught.value.status == 401
