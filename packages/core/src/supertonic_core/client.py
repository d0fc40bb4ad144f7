"""Async client for the server's WebSocket speech protocol.

It has the same methods and yields the same events as the in-process
:class:`~supertonic_core.session.SpeechSession`, so the plugins' remote mode differs from
their in-process mode only in how the connection is made.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any, TypeVar

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidStatus

from .protocol import (
    Audio,
    ConfigAck,
    Error,
    ErrorCode,
    Event,
    ProtocolError,
    Ready,
    SpeechConnection,
    parse_server_message,
)

STREAM_PATH = "/v1/audio/speech/stream"
_E = TypeVar("_E", Ready, ConfigAck)


class SpeechClientError(ConnectionError):
    """The server could not be reached, refused the connection, or closed it early.

    ``code`` is the server's error code when it refused the session with an ``error``
    message (``unauthorized``, ``model_loading``, ...); ``status`` the HTTP status when it
    refused the WebSocket handshake itself (404 for a wrong path). Both are None otherwise.
    """

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status

    @property
    def retryable(self) -> bool:
        """Whether trying again later may work: a server that is down, restarting or still
        loading its model may come back; a refused key or a wrong path will not."""
        if self.status is not None:
            return self.status >= 500 or self.status in (408, 429)
        code = ErrorCode.of(self.code)
        return code is None or code.retryable


class SpeechClient(SpeechConnection):
    """Connect with ``async with SpeechClient(url) as client`` or :meth:`connect`.

    Args:
        url: ``ws://host:port`` (the stream path is added when missing) or the full URL.
        api_key: sent as ``Authorization: Bearer``; None for an open server.
        config: fields for an initial ``config`` message (voice, lang, sample_rate, ...).
        open_timeout: seconds to wait for the connection and the ``ready`` greeting.
        compression: WebSocket compression to offer (``"deflate"``); off by default, because
            PCM audio hardly compresses (about 10 %) and deflating each chunk on the server
            adds about 10 ms to the time to first audio on a small CPU.
    """

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        config: dict[str, Any] | None = None,
        open_timeout: float = 10.0,
        compression: str | None = None,
    ) -> None:
        if url.startswith("http"):
            url = "ws" + url[4:]
        self.url = url if url.rstrip("/").endswith(STREAM_PATH) else url.rstrip("/") + STREAM_PATH
        self.api_key = api_key
        self.initial_config = config or {}
        self.open_timeout = open_timeout
        self.compression = compression
        self.ready: Ready | None = None
        #: The answer to the initial config (``connect`` waits for it).
        self.configured: ConfigAck | None = None
        self._ws: ClientConnection | None = None

    async def connect(self) -> Ready:
        """Open the socket, read ``ready``, send the initial config and read its answer
        (so that no acknowledgement of it is left to pass for the answer to a later one)."""
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else None
        try:
            self._ws = await websockets.connect(
                self.url,
                additional_headers=headers,
                open_timeout=self.open_timeout,
                max_size=None,
                compression=self.compression,
            )
        except (OSError, TimeoutError, websockets.WebSocketException) as exc:
            await self.aclose()
            status = exc.response.status_code if isinstance(exc, InvalidStatus) else None
            raise SpeechClientError(f"cannot open {self.url}: {exc}", status=status) from exc
        self.ready = await self._answer(Ready, "greet with 'ready'", "the session")
        if self.initial_config:
            await self.configure(**self.initial_config)
            self.configured = await self._answer(ConfigAck, "acknowledge the config", "the config")
        return self.ready

    async def _answer(self, kind: type[_E], doing: str, what: str) -> _E:
        """The server's next message, which must be a ``kind``; anything else closes the
        socket and raises a :class:`SpeechClientError` saying what went wrong."""
        assert self._ws is not None
        try:
            event = _parse_opening(await asyncio.wait_for(self._ws.recv(), self.open_timeout))
        except (ValueError, TimeoutError, websockets.WebSocketException) as exc:
            await self.aclose()
            raise SpeechClientError(f"{self.url} did not {doing}: {exc}") from exc
        if isinstance(event, Error):
            await self.aclose()
            raise SpeechClientError(f"{self.url} refused {what}: {event.message}", code=event.code)
        if not isinstance(event, kind):
            await self.aclose()
            raise SpeechClientError(f"{self.url} did not {doing} but sent {event.type!r}")
        return event

    async def send(self, msg: dict[str, Any]) -> None:
        if self._ws is None:
            raise SpeechClientError("not connected; call connect() first")
        try:
            await self._ws.send(json.dumps(msg))
        except websockets.ConnectionClosed as exc:
            raise SpeechClientError(f"connection to {self.url} closed: {exc}") from exc

    async def events(self) -> AsyncIterator[Event]:
        """Server events until the server ends the session; a dropped socket raises."""
        if self._ws is None:
            raise SpeechClientError("not connected; call connect() first")
        try:
            async for raw in self._ws:
                if isinstance(raw, bytes):
                    raise ProtocolError("binary frame without an audio header")
                event = parse_server_message(raw)
                if isinstance(event, Audio) and event.size is not None:
                    payload = await self._ws.recv()
                    if not isinstance(payload, bytes):
                        raise ProtocolError("audio header not followed by a binary frame")
                    event = replace(event, audio=payload, size=None)
                yield event
        except websockets.ConnectionClosedError as exc:
            raise SpeechClientError(f"connection to {self.url} lost: {exc}") from exc

    async def aclose(self) -> None:
        """Drop the socket now (the server cancels whatever was still running)."""
        if self._ws is not None:
            ws, self._ws = self._ws, None
            await ws.close()

    async def __aenter__(self) -> SpeechClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _parse_opening(raw: str | bytes) -> Event:
    """One of the server's first messages as an event; ValueError naming what is wrong."""
    try:
        return parse_server_message(raw)
    except ProtocolError as exc:
        raise ValueError(str(exc)) from None


__all__ = ["Audio", "SpeechClient", "SpeechClientError"]
