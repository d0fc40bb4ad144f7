"""``GET /healthz`` (liveness and facts) and ``GET /readyz`` (503 until loaded and warmed,
while draining, and while the waiting queue is full)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from supertonic_core.errors import ErrorCode

from ..errors import APIError, error_responses
from ..settings import Settings
from ..state import READY, Lifecycle
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
        "lexicons": [],
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
            lexicons=facts["lexicons"],
        )
    if lifecycle.error:
        info["error"] = lifecycle.error
    return info


@router.get(
    "/readyz",
    summary="Readiness: 200 while a new stream would be served",
    responses=error_responses(503),
)
async def readyz(request: Request) -> Any:
    """503 while loading or draining, and while every slot plays and the waiting queue is
    full: the next stream would get 429, so a load balancer should send it elsewhere.

    Answered here, not raised: the error handler logs every error and a probe polls this;
    the state changes are logged once, as they happen (loading, ready, failed, draining)."""
    lifecycle: Lifecycle = request.app.state.lifecycle
    engine = request.app.state.engine
    if not lifecycle.ready or engine is None:
        return lifecycle.unavailable().response()
    settings: Settings = request.app.state.settings
    state = engine.scheduler.state()
    active, waiting = int(state["active_streams"]), int(state["waiting_streams"])  # type: ignore[call-overload]
    if active >= int(state["max_streams"]) and waiting >= settings.max_queue:  # type: ignore[call-overload]
        return APIError(
            ErrorCode.QUEUE_FULL,
            f"Full: {active} streams playing and {waiting} waiting; new streams get 429.",
            headers={"Retry-After": "1"},
        ).response()
    return {"status": "ready"}
