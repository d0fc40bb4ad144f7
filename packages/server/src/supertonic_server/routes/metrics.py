"""``GET /metrics`` (Prometheus text), ``/metrics/summary`` and ``/metrics/recent`` (JSON).

Aggregates are open like the health probes, so any scraper can read them. ``/metrics/recent``
carries the start of each request's text, so when API keys are configured it asks for one
(``Authorization: Bearer`` or ``x-api-key``), like the ``/v1/`` routes.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from supertonic_core.errors import ErrorCode

from ..auth import check_key, presented_key
from ..errors import APIError, error_responses
from ..metrics import Metrics
from ..settings import Settings

router = APIRouter(tags=["observability"])

DEFAULT_RECENT = 50


@router.get(
    "/metrics",
    summary="Prometheus text exposition",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
async def prometheus(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    return Response(
        generate_latest(metrics.registry),
        media_type=CONTENT_TYPE_LATEST,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/metrics/summary", summary="Totals, percentiles, model and scheduler")
async def summary(request: Request) -> dict[str, Any]:
    metrics: Metrics = request.app.state.metrics
    return metrics.summary()


@router.get(
    "/metrics/recent",
    summary="Recent requests, newest first",
    responses=error_responses(400, 401),
)
async def recent(
    request: Request,
    limit: int | None = Query(
        None, description=f"How many records (1..buffer size; default {DEFAULT_RECENT})."
    ),
) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    metrics: Metrics = request.app.state.metrics
    check_key(presented_key(dict(request.scope["headers"])), settings.api_keys)
    size = metrics.buffer_size
    if limit is None:
        limit = min(DEFAULT_RECENT, size)
    elif not 1 <= limit <= size:
        raise APIError(
            ErrorCode.INVALID_VALUE,
            f"limit must be between 1 and {size} (the ring buffer's size; raise it with "
            f"--observability-buffer-size), got {limit}",
            param="limit",
        )
    return {
        "object": "list",
        "data": metrics.recent(limit),
        "active": [t.record() for t in metrics.active()],
        "limit": limit,
        "buffer_size": size,
    }
