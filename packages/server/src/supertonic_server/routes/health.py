"""``GET /healthz`` (liveness and facts) and ``GET /readyz`` (503 until loaded and warmed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ..errors import error_responses
from ..settings import Settings
from ..state import READY, Lifecycle, require_engine
from ..version import __version__

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and what is served")
async def healthz(request: Request) -> dict[str, Any]:
    """Always 200 while the process runs; ``status`` says loading, ok, failed or draining."""
    settings: Settings = request.app.state.settings
    lifecycle: Lifecycle = request.app.state.lifecycle
    engine = request.app.state.engine
    info: dict[str, Any] = {
        "status": "ok" if lifecycle.status == READY else lifecycle.status,
        "ready": lifecycle.ready,
        "version": __version__,
        "model": settings.model,
        "synthetic": None,
        "sample_rate": None,
        "voices": [],
        "languages": [],
        "providers": [],
        "ws_enabled": settings.ws_enabled,
        "ui_enabled": settings.ui_enabled,
    }
    if engine is not None:
        facts = engine.info()
        info.update(
            model=facts["model"],
            synthetic=facts["synthetic"],
            sample_rate=facts["sample_rate"],
            voices=facts["voices"],
            languages=facts["languages"],
            providers=facts["providers"],
        )
    if lifecycle.error:
        info["error"] = lifecycle.error
    return info


@router.get(
    "/readyz",
    summary="Readiness: 200 once the model is loaded and warmed",
    responses=error_responses(503),
)
async def readyz(request: Request) -> dict[str, str]:
    require_engine(request)
    return {"status": "ready"}
