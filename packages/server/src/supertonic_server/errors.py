"""Every error leaves in OpenAI's envelope: ``{"error": {"message", "type", "param", "code"}}``.

Codes, statuses and retry policy come from the core's one table,
:class:`~supertonic_core.errors.ErrorCode`: a core exception carries its code, and
:class:`APIError` carries the server's own (auth, unknown model, input too long, not ready).
FastAPI's validation errors become 400 (not 422), unknown routes 404, wrong methods 405.
Anything unexpected becomes a generic 500 naming the request id; the details go to the log
only. A failure after the response started cannot change the status any more: the speech
stream handles that itself (see ``streaming.py``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from supertonic_core.errors import (
    QUOTE_CHARS,
    CapacityError,
    ErrorCode,
    SupertonicError,
    quote_value,
)
from supertonic_core.options import ALIASES, NOT_UNICODE, SynthesisOverrides, option_error

from .logs import request_id

logger = logging.getLogger("supertonic_server")

INVALID = "invalid_request_error"
SERVER = "server_error"

#: Pydantic error types → our codes (anything else: ``invalid_value``).
_VALIDATION_CODES = {
    "json_invalid": ErrorCode.INVALID_JSON,
    "missing": ErrorCode.MISSING_REQUIRED_PARAMETER,
    "extra_forbidden": ErrorCode.UNKNOWN_PARAMETER,
    "model_attributes_type": ErrorCode.INVALID_JSON,
    "dict_type": ErrorCode.INVALID_JSON,
}


def openai_type(status: int) -> str:
    """OpenAI's error ``type`` for a status."""
    return "rate_limit_error" if status == 429 else SERVER if status >= 500 else INVALID


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorResponse(BaseModel):
    """OpenAI's error envelope, the body of every refusal."""

    error: ErrorDetail


#: What each refusal status means, for the OpenAPI schema (the message says exactly why).
_STATUS_MEANING = {
    400: "Invalid request: the message names the value and what is accepted.",
    401: "Missing or wrong API key (only when keys are configured).",
    404: "No such model.",
    408: "The request body did not arrive in time (--body-timeout).",
    429: "Queue full: retry after the Retry-After header's seconds.",
    503: "Model loading, failed to load, or server shutting down.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the refusals a route can give, each in the envelope
    (the schema must list every status a client can get: the suite's fuzzer checks it)."""
    return {s: {"model": ErrorResponse, "description": _STATUS_MEANING[s]} for s in statuses}


class APIError(Exception):
    """An error with its HTTP rendering: the code's entry in :class:`ErrorCode` gives the
    status (``status`` only where an envelope without codes, Supertone's, needs another)."""

    def __init__(
        self,
        code: ErrorCode | None,
        message: str,
        *,
        status: int | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status or (code.status if code is not None else 500)
        self.type = openai_type(self.status)
        self.message = message
        self.param = param
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.type, self.param, self.code)

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def error_body(message: str, type: str, param: str | None, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def from_core(exc: SupertonicError) -> APIError:
    """The HTTP form of a core exception: its code, message and parameter."""
    headers = {}
    if isinstance(exc, CapacityError):
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    return APIError(exc.code, str(exc), param=getattr(exc, "param", None), headers=headers)


def internal_error() -> APIError:
    rid = request_id.get()
    return APIError(
        ErrorCode.INTERNAL_ERROR,
        f"The server had an error while processing your request (request id {rid}); "
        "the details are in the server log.",
    )


#: How pydantic names the members of a union in an error's location (``VoiceRef``,
#: ``function-after[_unicode(), str]``): not field names, left out of ``param``.
_UNION_MEMBER = re.compile(r"[A-Z]\w*|.*\[.*\]")


def validation_error(exc: RequestValidationError) -> APIError:
    """The 400 for a request FastAPI could not validate, naming the first bad field."""
    errors = exc.errors() or [{"loc": (), "msg": "invalid request", "type": ""}]
    # Our own errors say most (a union reports one error per member: the string's says why)
    first = next((e for e in errors if str(e.get("type", "")).startswith("supertonic_")), errors[0])
    raw = [p for p in first.get("loc", ()) if p != "body"]
    loc = [str(p) for p in raw if not (isinstance(p, str) and _UNION_MEMBER.fullmatch(p))]
    kind = first.get("type", "")
    param = ".".join(loc) or None
    code = _VALIDATION_CODES.get(kind, ErrorCode.INVALID_VALUE)
    if kind == "json_invalid":
        where = f" at character {loc[0]}" if loc else ""
        message = f"the request body is not valid JSON{where}: {first.get('ctx', {}).get('error')}"
        param = None
    elif kind in ("model_attributes_type", "dict_type") and not loc:
        message = "the request body must be a JSON object (send Content-Type: application/json)"
    elif kind == "extra_forbidden":
        key = ".".join(map(str, raw))
        message = f"unknown parameter {quote_value(key)}"
        param = key.encode("utf-8", "backslashreplace").decode()[:QUOTE_CHARS]  # encodable
    elif kind in ("supertonic_invalid_unicode", "string_unicode"):  # a value, or a key
        message = f"{param or 'a parameter name'} {NOT_UNICODE}"
    elif kind.startswith("supertonic_"):  # our own pydantic errors carry a full message
        message = first["msg"]
        code = ErrorCode(kind.removeprefix("supertonic_"))
    elif loc and loc[0] in (
        *SynthesisOverrides.model_fields,
        *ALIASES.values(),
    ):  # the options' own words
        error = option_error(first, SynthesisOverrides)
        message, param = str(error), loc[0]
    else:
        message = f"{param}: {first['msg']}" if param else str(first["msg"])
    return APIError(code, message, param=param)


async def _handle_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, APIError)
    level = (
        logging.ERROR
        if exc.status == 500
        else logging.WARNING
        if exc.status >= 500
        else logging.INFO
    )
    logger.log(
        level,
        "%s %s -> %d %s: %s",
        request.method,
        request.url.path,
        exc.status,
        exc.code,
        exc.message,
    )
    return exc.response()


async def _handle_core_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SupertonicError)
    return await _handle_api_error(request, from_core(exc))


async def _handle_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return await _handle_api_error(request, validation_error(exc))


async def _handle_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    method, path = request.method, request.url.path
    if exc.status_code == 404:
        err = APIError(ErrorCode.NOT_FOUND, f"Invalid URL ({method} {path})")
    elif exc.status_code == 405:
        err = APIError(ErrorCode.METHOD_NOT_ALLOWED, f"Method {method} is not allowed on {path}")
    elif exc.status_code == 408:
        err = APIError(ErrorCode.REQUEST_TIMEOUT, str(exc.detail))
    else:
        err = APIError(None, str(exc.detail), status=exc.status_code)
    err.headers.update(exc.headers or {})
    return await _handle_api_error(request, err)


def install_error_handlers(app: FastAPI) -> None:
    """The handlers above, and a schema that says what they answer (400, not 422)."""
    app.add_exception_handler(APIError, _handle_api_error)
    app.add_exception_handler(SupertonicError, _handle_core_error)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
    build = app.openapi

    def openapi() -> dict[str, Any]:
        # FastAPI declares 422 on every route with parameters; ours answer 400, which each
        # route declares with error_responses(): drop the 422s and their schemas.
        if app.openapi_schema is None:
            schema = build()
            for operations in schema["paths"].values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
            for name in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(name, None)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


class ErrorBoundaryMiddleware:
    """Last resort: an unexpected exception is logged with its traceback and answered with a
    generic 500 envelope (only if no response has started: then the connection just ends)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            logger.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if not started:
                response = internal_error().response()
                await response(scope, receive, send)
