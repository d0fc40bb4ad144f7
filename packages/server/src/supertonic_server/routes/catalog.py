"""``GET /v1/models`` and ``GET /v1/voices`` (also ``/v1/audio/voices``): what can be asked for."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from supertonic_core import OPENAI_VOICES, PRESETS
from supertonic_core.errors import ErrorCode, quote_value

from ..errors import APIError, error_responses
from ..schemas import MODEL_ALIASES, NATIVE_MODEL, accepted_model
from ..state import require_engine

router = APIRouter(tags=["catalog"])

_CREATED = 1767225600  # 2026-01-01: the model list has no real creation dates


def _model(model_id: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": model_id,
        "object": "model",
        "created": _CREATED,
        "owned_by": "supertone" if model_id == NATIVE_MODEL else "supertonic-server",
    }
    if model_id != NATIVE_MODEL:
        entry["alias_of"] = NATIVE_MODEL
    return entry


@router.get("/v1/models", summary="List models (OpenAI shape)", responses=error_responses(401))
async def list_models() -> dict[str, Any]:
    """supertonic-3, plus OpenAI's TTS model names as aliases so hard-coded clients work."""
    return {"object": "list", "data": [_model(m) for m in (NATIVE_MODEL, *MODEL_ALIASES)]}


@router.get(
    "/v1/models/{model_id}",
    summary="Retrieve a model (OpenAI shape)",
    responses=error_responses(401, 404),
)
async def get_model(model_id: str) -> dict[str, Any]:
    if not accepted_model(model_id):
        raise APIError(
            ErrorCode.MODEL_NOT_FOUND,
            f"The model {quote_value(model_id)} does not exist",
            param="model",
        )
    return _model(model_id)


def voice_catalog(request: Request) -> dict[str, Any]:
    engine = require_engine(request)
    library = engine.voices
    details = [{"id": p, "name": p, "preset": p, "kind": "preset"} for p in PRESETS]
    details += [{"id": c, "name": c, "preset": c, "kind": "custom"} for c in library.custom]
    details += [
        {"id": n, "name": n, "preset": p, "kind": "openai_alias"} for n, p in OPENAI_VOICES.items()
    ]
    return {
        "voices": [d["id"] for d in details],
        "details": details,
        "default": engine.voices.describe(engine.defaults.voice),
        "blend_example": "F1*0.7+M2*0.3",
    }


@router.get("/v1/voices", summary="List voices", responses=error_responses(401, 503))
async def list_voices(request: Request) -> dict[str, Any]:
    """Every accepted voice name and the preset it maps to; blends combine any of them."""
    return voice_catalog(request)


@router.get(
    "/v1/audio/voices",
    summary="List voices (Kokoro / speaches path)",
    responses=error_responses(401, 503),
)
async def list_audio_voices(request: Request) -> dict[str, Any]:
    return voice_catalog(request)
