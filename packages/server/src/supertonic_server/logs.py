"""Logging: one format for every logger, and the request id on every line of a request.

The id lives in a context variable set by :class:`RequestIdMiddleware`; a filter on the
handler copies it into each record, so lines from this package, the core and uvicorn's
access log all carry it (``-`` outside a request). A client's ``X-Request-ID`` is kept when
it is a sane token (at most 128 of ``A-Z a-z 0-9 - _ . :``); otherwise a new one is made.
The id is returned in the ``X-Request-ID`` response header.

Two filters on uvicorn's loggers keep the log for events (:func:`install_filters`): an API key
passed in a URL (``?api_key=``, as browsers must for a WebSocket) is replaced by ``***`` in
every line that carries the URL, and the access lines of probes and dashboards polling
(:data:`POLLED`) drop to DEBUG, so a load balancer or the open console does not bury the
requests that matter.
"""

from __future__ import annotations

import contextvars
import logging
import re
import secrets
import sys

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("supertonic_server")

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SANE_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")
#: Query parameters whose value is a secret, redacted wherever a URL is logged.
_SECRET_PARAM = re.compile(r"(?i)([?&](?:api_key|api-key|key|token|access_token)=)[^&#\s\"]*")
#: Paths that probes and the console poll: their access lines are logged at DEBUG.
POLLED = frozenset({"/healthz", "/readyz", "/metrics", "/metrics/summary", "/metrics/recent"})
FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def configure_logging(level: str = "info") -> None:
    """Route every logger (ours, the core's, uvicorn's) through one stderr handler."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


def redact(text: str) -> str:
    """``text`` with the value of every secret query parameter replaced by ``***``."""
    return _SECRET_PARAM.sub(r"\1***", text)


class RedactFilter(logging.Filter):
    """Takes secrets out of a record's string arguments (uvicorn logs the URL as one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


class AccessFilter(RedactFilter):
    """uvicorn's access lines: redacted, and those of a poll (a GET of :data:`POLLED`) at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        super().filter(record)
        args = record.args
        # uvicorn.access: (client, method, path with query, http version, status)
        if not (isinstance(args, tuple) and len(args) == 5 and args[1] == "GET"):
            return True
        if str(args[2]).partition("?")[0] not in POLLED:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


_FILTERS = {"uvicorn.access": AccessFilter(), "uvicorn.error": RedactFilter()}


def install_filters() -> None:
    """Put the filters on uvicorn's loggers (idempotent): every app does, however it is served."""
    for name, log_filter in _FILTERS.items():
        logging.getLogger(name).addFilter(log_filter)


def new_request_id() -> str:
    return "req_" + secrets.token_hex(12)


class RequestIdMiddleware:
    """Give each HTTP request and WebSocket an id: in the context variable, scope and response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _SANE_ID.match(given) else new_request_id()
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)
