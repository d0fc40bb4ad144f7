"""GET /v1/models and /v1/voices (+ /v1/audio/voices)."""

from __future__ import annotations

import httpx
import openai
from supertonic_core import OPENAI_VOICES, PRESETS

from .conftest import LiveServer


def test_models_list_has_the_native_model_and_the_openai_aliases(live: LiveServer) -> None:
    sdk = openai.OpenAI(base_url=f"{live.base_url}/v1", api_key="x", max_retries=0)
    ids = [m.id for m in sdk.models.list()]
    assert ids == ["supertonic-3", "tts-1", "tts-1-hd", "gpt-4o-mini-tts"]
    model = sdk.models.retrieve("gpt-4o-mini-tts-2025-12-15")
    assert model.id == "gpt-4o-mini-tts-2025-12-15"
    assert model.object == "model"


def test_voices_list_every_name_with_its_preset(client: httpx.Client) -> None:
    for path in ("/v1/voices", "/v1/audio/voices"):
        body = client.get(path).json()
        assert body["voices"] == [*PRESETS, *OPENAI_VOICES]
        mapping = {d["id"]: d["preset"] for d in body["details"]}
        assert mapping["alloy"] == "F1"
        assert mapping["echo"] == "M4"
        assert mapping["M3"] == "M3"
        kinds = {d["kind"] for d in body["details"]}
        assert kinds == {"preset", "openai_alias"}
        assert body["default"] == "F1"
