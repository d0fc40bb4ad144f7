"""Supertone's error envelope, its API key check, and the route class that applies both.

The SDK raises its typed errors (``UnauthorizedErrorResponse`` and so on, carrying our
message) only for this exact body, snake_case and a string message::

    {"status": "error", "message": {"message": "...", "error": "Not Found", "status_code": 404}}

so every error a Supertone route meets (ours, the core's, FastAPI's validation, Starlette's
HTTP errors, an unexpected crash) leaves in it, with the status codes of the spec (§8).
:class:`SupertoneRoute` does this per route, because the app's own handlers answer in
OpenAI's envelope. It also checks ``x-sup-api-key`` first, before the body is read, so an
unauthenticated client learns nothing about validation, then refuses a body announced
larger than :data:`MAX_BODY` (413) before reading it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from supertonic_core import SupertonicError

from ..auth import key_matches
from ..errors import APIError, from_core, internal_error, validation_error

logger = logging.getLogger("supertonic_server")

KEY_HEADER = "x-sup-api-key"
#: Largest request body read: the 3 MB upload limit and its multipart framing. Checked from
#: ``Content-Length`` before the body is parsed (the SDK always sends it).
MAX_BODY = 4 * 1024 * 1024


class _ErrorMessage(BaseModel):
    message: str
    error: str
    status_code: int


class ErrorEnvelope(BaseModel):
    """Supertone's error body (for the OpenAPI document)."""

    status: str
    message: _ErrorMessage


_WHY = {
    400: "Invalid request; the message names the value.",
    401: "Missing or wrong x-sup-api-key (only when the server has keys).",
    402: "The balance set by --supertone-credits is spent.",
    403: "No custom voices folder (--voices-dir).",
    404: "Unknown voice or custom voice.",
    413: "Request body or upload too large.",
    415: "An audio upload: cloning from audio needs an external tool.",
    429: "Server busy: retry after Retry-After seconds.",
    503: "Model loading, failed to load, or server shutting down.",
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that may answer ``statuses`` in the envelope."""
    return {s: {"description": _WHY[s], "model": ErrorEnvelope} for s in statuses}


class SupertoneError(APIError):
    """An error answered in Supertone's envelope (an :class:`APIError` with no OpenAI code)."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(None, message, status=status, headers=headers)


def envelope(status: int, message: str) -> dict[str, Any]:
    """Supertone's error body: what the SDK's error models require."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    return {
        "status": "error",
        "message": {"message": message, "error": reason, "status_code": status},
    }


def _as_api_error(exc: Exception) -> APIError:
    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, SupertonicError):
        return from_core(exc)
    if isinstance(exc, RequestValidationError):
        return validation_error(exc)
    if isinstance(exc, StarletteHTTPException):
        return APIError(
            None, str(exc.detail), status=exc.status_code, headers=dict(exc.headers or {})
        )
    logger.exception("unhandled error in a Supertone route")
    return internal_error()


def error_response(request: Request, exc: Exception) -> JSONResponse:
    """``exc`` in Supertone's envelope, logged like the server's other errors."""
    err = _as_api_error(exc)
    level = logging.ERROR if err.status >= 500 else logging.INFO
    logger.log(level, "%s %s -> %d: %s", request.method, request.url.path, err.status, err.message)
    return JSONResponse(envelope(err.status, err.message), err.status, headers=err.headers)


def check_api_key(request: Request) -> None:
    """Raise a 401 unless ``x-sup-api-key`` is one of the server's keys (any, when none set)."""
    keys: tuple[str, ...] = request.app.state.settings.api_keys
    if not keys:
        return
    presented = request.headers.get(KEY_HEADER, "").strip()
    if not presented:
        raise SupertoneError(401, f"Missing API key: send it in the '{KEY_HEADER}' header.")
    if not key_matches(presented, keys):
        raise SupertoneError(401, "Invalid API key")


class SupertoneRoute(APIRoute):
    """A route that checks the Supertone API key first and answers errors in its envelope."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                check_api_key(request)
                size = request.headers.get("content-length", "")
                if size.isdigit() and int(size) > MAX_BODY:
                    raise SupertoneError(413, f"the request body is over {MAX_BODY // 2**20} MB")
                return await handler(request)
            except Exception as exc:
                return error_response(request, exc)

        return route
