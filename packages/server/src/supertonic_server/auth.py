"""API keys: ``Authorization: Bearer <key>`` or ``x-api-key: <key>`` on every ``/v1/`` route.

No keys configured means the API is open (the default, bound to loopback). With keys, a
request without a valid one gets 401 in OpenAI's envelope before its body is even read, so
an unauthenticated client learns nothing about validation. WebSocket clients (browsers
cannot set headers there) may also pass ``?api_key=`` or authenticate with a first
``auth`` message (all checked by the WebSocket route); a refused socket gets an
``unauthorized`` error, then close 1008. Health, readiness and the docs stay open for probes. Keys are compared in
constant time and never logged.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send
from supertonic_core.errors import ErrorCode

from .errors import APIError

logger = logging.getLogger("supertonic_server")

PROTECTED_PREFIXES = ("/v1/",)


def presented_key(
    headers: dict[bytes, bytes], query: bytes = b"", *, websocket: bool = False
) -> str | None:
    """The key a request presents, or None."""
    auth = headers.get(b"authorization", b"").decode("latin-1").strip()
    if auth[:7].lower() == "bearer " and auth[7:].strip():
        return auth[7:].strip()
    key = headers.get(b"x-api-key", b"").decode("latin-1").strip()
    if key:
        return key
    if websocket:
        values = parse_qs(query.decode("latin-1")).get("api_key")
        return values[0] if values else None
    return None


def key_matches(presented: str, keys: Iterable[str]) -> bool:
    """``presented`` is one of ``keys``, compared in constant time (no timing oracle).

    A key from a JSON message may hold lone surrogates (``"\\ud800"``), which UTF-8 cannot
    encode: ``surrogatepass`` keeps them, so such a key is simply wrong, not a crash.
    """
    given = presented.encode("utf-8", "surrogatepass")
    return any(hmac.compare_digest(given, k.encode()) for k in keys)


def check_key(presented: str | None, keys: Iterable[str]) -> None:
    """Raise a 401 :class:`APIError` unless ``presented`` is one of ``keys``."""
    keys = list(keys)
    if not keys:
        return
    if presented is None:
        raise APIError(
            ErrorCode.MISSING_API_KEY,
            "Missing API key: send it as 'Authorization: Bearer <key>' or 'x-api-key: <key>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not key_matches(presented, keys):
        raise APIError(
            ErrorCode.INVALID_API_KEY,
            "Incorrect API key provided.",
            headers={"WWW-Authenticate": "Bearer"},
        )


class ApiKeyMiddleware:
    """Refuse ``/v1/`` requests that do not present one of ``keys``."""

    def __init__(self, app: ASGIApp, keys: Iterable[str]) -> None:
        self.app = app
        self.keys = tuple(keys)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if (
            not self.keys
            or kind not in ("http", "websocket")
            or not scope["path"].startswith(PROTECTED_PREFIXES)
            or (kind == "http" and scope["method"] == "OPTIONS")  # CORS preflight carries no key
        ):
            await self.app(scope, receive, send)
            return
        if kind == "websocket":
            # The route checks the key (header, query or a first ``auth`` message) and refuses
            # every way alike: an ``unauthorized`` error, then close 1008.
            await self.app(scope, receive, send)
            return
        key = presented_key(dict(scope["headers"]))
        try:
            check_key(key, self.keys)
        except APIError as err:
            logger.info("%s %s -> 401 %s", scope["method"], scope["path"], err.code)
            await err.response()(scope, receive, send)
            return
        await self.app(scope, receive, send)
