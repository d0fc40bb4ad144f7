"""Every error leaves in OpenAI's envelope: ``{"error": {"message", "type", "param", "code"}}``.

One table (:data:`ERROR_TABLE`) maps the core's exception classes to status, type and code;
:class:`APIError` carries the server's own (auth, unknown model, input too long, not ready).
FastAPI's validation errors become 400 (not 422), unknown routes 404, wrong methods 405.
Anything unexpected becomes a generic 500 naming the request id; the details go to the log
only. A failure after the response started cannot change the status any more: the speech
stream handles that itself (see ``streaming.py``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from supertonic_core.errors import (
    QUOTE_CHARS,
    BundleError,
    CapacityError,
    EmptyTextError,
    EngineClosedError,
    InvalidInputError,
    InvalidOptionError,
    SupertonicError,
    SynthesisCancelledError,
    UnknownLanguageError,
    UnknownVoiceError,
    UnsupportedCharactersError,
    VoiceStyleError,
    quote_value,
)

from .logs import request_id

logger = logging.getLogger("supertonic_server")

INVALID = "invalid_request_error"
SERVER = "server_error"


@dataclass(frozen=True)
class ErrorSpec:
    status: int
    type: str
    code: str | None


#: Core exception class → HTTP status, OpenAI error type, error code. Looked up along the
#: exception's MRO, so the most specific entry wins.
ERROR_TABLE: dict[type[BaseException], ErrorSpec] = {
    EmptyTextError: ErrorSpec(400, INVALID, "empty_input"),
    UnsupportedCharactersError: ErrorSpec(400, INVALID, "unsupported_characters"),
    UnknownVoiceError: ErrorSpec(400, INVALID, "invalid_voice"),
    VoiceStyleError: ErrorSpec(400, INVALID, "invalid_voice"),
    UnknownLanguageError: ErrorSpec(400, INVALID, "invalid_language"),
    InvalidOptionError: ErrorSpec(400, INVALID, "invalid_value"),
    InvalidInputError: ErrorSpec(400, INVALID, "invalid_value"),
    CapacityError: ErrorSpec(429, "rate_limit_error", "server_busy"),
    SynthesisCancelledError: ErrorSpec(499, INVALID, "request_cancelled"),
    EngineClosedError: ErrorSpec(503, SERVER, "shutting_down"),
    BundleError: ErrorSpec(503, SERVER, "model_unavailable"),
}

#: Core option names that the HTTP API spells differently (``first_chunk_steps`` is spelled
#: the same in both).
_PARAM_NAMES = {"steps": "total_steps"}

#: Pydantic error types → our codes (anything else: ``invalid_value``).
_VALIDATION_CODES = {
    "json_invalid": "invalid_json",
    "missing": "missing_required_parameter",
    "extra_forbidden": "unknown_parameter",
    "model_attributes_type": "invalid_json",
    "dict_type": "invalid_json",
}


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
    """An error with its HTTP rendering decided where it is raised."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = INVALID,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.type, self.param, self.code)

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def error_body(message: str, type: str, param: str | None, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def from_core(exc: SupertonicError) -> APIError:
    """The HTTP form of a core exception, by :data:`ERROR_TABLE`."""
    spec = next(
        (ERROR_TABLE[c] for c in type(exc).__mro__ if c in ERROR_TABLE),
        ErrorSpec(500, SERVER, None),
    )
    param = getattr(exc, "param", None)
    headers = {}
    if isinstance(exc, CapacityError):
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    message = str(exc)
    for core_name, api_name in _PARAM_NAMES.items():
        if param == core_name:
            param = api_name
            message = message.replace(core_name, api_name, 1)
    return APIError(
        spec.status, message, type=spec.type, code=spec.code, param=param, headers=headers
    )


def internal_error() -> APIError:
    rid = request_id.get()
    return APIError(
        500,
        f"The server had an error while processing your request (request id {rid}); "
        "the details are in the server log.",
        type=SERVER,
        code="internal_error",
    )


NOT_UNICODE = (
    "is not valid Unicode: it holds a lone surrogate (a JSON \\uD800-\\uDFFF escape must be "
    "one of a pair)"
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
    code = _VALIDATION_CODES.get(kind, "invalid_value")
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
        code = "invalid_value"
    elif kind.startswith("supertonic_"):  # our own pydantic errors carry a full message
        message = first["msg"]
        code = kind.removeprefix("supertonic_")
    else:
        message = f"{param}: {first['msg']}" if param else str(first["msg"])
    return APIError(400, message, code=code, param=param)


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
        err = APIError(404, f"Invalid URL ({method} {path})", code="not_found")
    elif exc.status_code == 405:
        err = APIError(405, f"Method {method} is not allowed on {path}", code="method_not_allowed")
    elif exc.status_code == 408:
        err = APIError(408, str(exc.detail), code="request_timeout")
    else:
        err = APIError(exc.status_code, str(exc.detail), code=None)
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
