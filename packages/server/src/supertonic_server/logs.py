"""Logging: one format for every logger, and the request id on every line of a request.

The id lives in a context variable set by :class:`RequestIdMiddleware`; a filter on the
handler copies it into each record, so lines from this package, the core and uvicorn's
access log all carry it (``-`` outside a request). A client's ``X-Request-ID`` is kept when
it is a sane token (at most 128 of ``A-Z a-z 0-9 - _ . :``); otherwise a new one is made.
The id is returned in the ``X-Request-ID`` response header.
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
