"""``WS /v1/audio/speech/stream``: the speech-session protocol over a WebSocket.

The protocol itself (contexts, auto-release, flush, cancel, timings, encodings, what a
session may hold) lives in :mod:`supertonic_core.session`; this module only moves its
messages across the socket, authenticates, bounds what one client may take (per socket and
per API key), closes idle sockets and sockets whose client stopped reading, and reports to
the metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from supertonic_core.protocol import (
    MAX_MESSAGE_BYTES,
    Audio,
    AudioEnd,
    AudioStart,
    Auth,
    Cancelled,
    Error,
    ErrorCode,
    Event,
    ProtocolError,
    parse_client_message,
    to_message,
)
from supertonic_core.session import SessionLimits, Share, SpeechSession

from ..auth import check_key, presented_key
from ..errors import APIError
from ..metrics import Metrics, Tracker, snippet
from ..settings import Settings
from ..state import DRAINING, Lifecycle

logger = logging.getLogger("supertonic_server")
router = APIRouter(tags=["websocket"])

AUTH_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 2.0  # a close frame to a client that does not read would wait forever
CLOSE_POLICY = 1008  # authentication failed; the client stopped reading
CLOSE_TRY_LATER = 1013  # model not ready
CLOSE_RESTART = 1012  # the server is shutting down
#: Largest frame the server reads (uvicorn's ``ws_max_size``; 1009 beyond it). Messages over
#: MAX_MESSAGE_BYTES up to this get the protocol's own ``message_too_large`` error.
WS_MAX_FRAME_BYTES = 16 * MAX_MESSAGE_BYTES
#: uvicorn's WebSocket options, wherever the server runs. No per-message deflate: speech
#: audio hardly compresses (about 10 %), and each socket that negotiates it holds zlib's
#: state: 78 → 38 KB of server memory per idle socket (benchmarks/many_sockets.py).
UVICORN_WS_OPTIONS: dict[str, object] = {
    "ws_max_size": WS_MAX_FRAME_BYTES,
    "ws_per_message_deflate": False,
}


class _QuietInvalidUtf8(logging.Filter):
    """uvicorn logs a text frame that is not UTF-8 as an ERROR with a traceback, though it
    closes the socket correctly (1007): a client's mistake, so one INFO line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not (record.exc_info and isinstance(record.exc_info[1], UnicodeDecodeError)):
            return True
        record.levelno, record.levelname = logging.INFO, "INFO"
        record.msg, record.args = "WebSocket closed 1007: a text frame was not valid UTF-8", ()
        record.exc_info, record.exc_text = None, None
        return logging.getLogger(record.name).isEnabledFor(logging.INFO)


logging.getLogger("uvicorn.error").addFilter(_QuietInvalidUtf8())


@router.websocket("/v1/audio/speech/stream")
async def speech_stream(ws: WebSocket) -> None:
    """One speech session per socket; see the README's protocol table."""
    settings: Settings = ws.app.state.settings
    lifecycle: Lifecycle = ws.app.state.lifecycle
    await ws.accept()
    authenticated, key = await _authenticate(ws, settings)
    if not authenticated:
        return
    engine = ws.app.state.engine
    if not lifecycle.ready or engine is None:
        err = lifecycle.unavailable()
        await _send_error(
            ws, Error(err.message, code=err.code or ErrorCode.UNAVAILABLE, fatal=True)
        )
        await ws.close(CLOSE_TRY_LATER)
        return
    shares = [Share(settings.ws_max_utterances, "this connection")]
    if key is not None:
        shares.append(_key_share(ws, settings, key))
    session = SpeechSession(
        engine,
        max_contexts=settings.ws_max_contexts,
        max_queued_audio=settings.ws_send_queue,
        limits=SessionLimits(
            flush_after=settings.ws_flush_after,
            context_idle_timeout=settings.ws_context_idle_timeout,
            max_context_chars=settings.max_input_chars,
            max_pending_chars=settings.ws_max_pending_chars,
        ),
        shares=shares,
    )
    lifecycle.sessions.add(session)  # a shutdown drains it, then ends it (shutdown.py)
    sender: asyncio.Task[None] | None = None
    try:
        try:
            await _send(ws, session, session.ready())
            sender = asyncio.create_task(_pump(ws, session, ws.app.state.metrics, settings))
            await _receive(ws, session, settings, sender, lifecycle.ended)
        except WebSocketDisconnect:
            pass
        finally:
            await session.aclose()
            if sender is not None:  # after a shutdown's grace: what it still holds is dropped
                sender.cancel()
                await asyncio.gather(sender, return_exceptions=True)
        if lifecycle.status == DRAINING:  # the shutdown ended it: say so before closing
            await _close_for_shutdown(ws, lifecycle)
        else:
            await _close(ws)
    finally:
        lifecycle.sessions.discard(session)  # after the close: the drain waits for it


async def _authenticate(ws: WebSocket, settings: Settings) -> tuple[bool, str | None]:
    """(accepted, the key) from a header, ``?api_key=`` or a first ``auth`` message.

    Every refusal is the same, whichever way the key came: an ``unauthorized`` error, then
    close 1008 (the middleware lets sockets through to here, so a browser, which cannot read
    a refused handshake's status, learns why too).
    """
    if not settings.api_keys:
        return True, None
    key = presented_key(
        dict(ws.scope["headers"]), ws.scope.get("query_string", b""), websocket=True
    )
    try:
        if key is None:
            raw = await asyncio.wait_for(ws.receive_text(), AUTH_TIMEOUT_S)
            msg = parse_client_message(raw)
            if not isinstance(msg, Auth):
                raise ProtocolError('authenticate first: send {"type": "auth", "api_key": ...}')
            key = msg.api_key
        check_key(key, settings.api_keys)
        return True, key
    except (TimeoutError, ProtocolError, APIError) as exc:
        message = (
            exc.message if isinstance(exc, APIError) else str(exc) or "authentication timed out"
        )
        logger.info("WebSocket refused: %s", message)
        await _send_error(ws, Error(message, code=ErrorCode.UNAUTHORIZED, fatal=True))
        await _close(ws, CLOSE_POLICY)
        return False, None
    except WebSocketDisconnect:
        return False, None


def _key_share(ws: WebSocket, settings: Settings, key: str) -> Share:
    """The share of every socket of one API key (one of the configured keys: bounded)."""
    shares: dict[str, Share] | None = getattr(ws.app.state, "ws_key_shares", None)
    if shares is None:
        shares = ws.app.state.ws_key_shares = {}
    if key not in shares:
        shares[key] = Share(settings.ws_max_utterances_per_key, "this API key")
    return shares[key]


async def _receive(
    ws: WebSocket,
    session: SpeechSession,
    settings: Settings,
    sender: asyncio.Task[None],
    ended: asyncio.Event,
) -> None:
    """Client messages into the session until the client leaves, closes, or idles out, or
    ``ended`` is set (a shutdown's grace is over).

    Idle means no message that did something (an empty ``text`` does not count) and no
    audio for ``--ws-idle-timeout`` seconds, while nothing is synthesizing or playing.
    """
    receive: asyncio.Future[Any] | None = None
    stop = asyncio.ensure_future(ended.wait())
    try:
        while not sender.done() and not ended.is_set():
            left = settings.ws_idle_timeout - session.idle_s()
            if left <= 0:
                await _send_error(
                    ws,
                    Error(
                        f"closing idle connection after {settings.ws_idle_timeout:g} s without "
                        'messages or audio; send {"type": "ping"} to keep it open',
                        code=ErrorCode.IDLE_TIMEOUT,
                        fatal=True,
                    ),
                )
                return
            if receive is None:
                receive = asyncio.ensure_future(ws.receive())
            done, _ = await asyncio.wait(
                {receive, sender, stop}, timeout=left, return_when=asyncio.FIRST_COMPLETED
            )
            if receive not in done:
                continue  # idle time to check again, or the session or the server ended it
            message, receive = receive.result(), None
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                await session.handle(message["bytes"])
            else:
                await session.handle(message.get("text") or "")
    finally:
        stop.cancel()
        if receive is not None:
            receive.cancel()


async def _pump(
    ws: WebSocket, session: SpeechSession, metrics: Metrics, settings: Settings
) -> None:
    """Session events onto the socket, with per-utterance metrics.

    A send that makes no progress for ``--ws-send-timeout`` seconds means the client stopped
    reading: the session ends (its queue is bounded, so memory was too) and the socket closes.
    """
    trackers: dict[str, Tracker] = {}
    try:
        async for event in session.events():
            _track(event, trackers, metrics)
            try:
                await asyncio.wait_for(_send(ws, session, event), settings.ws_send_timeout)
            except TimeoutError:
                logger.info(
                    "closing a WebSocket whose client stopped reading (%g s without progress)",
                    settings.ws_send_timeout,
                )
                await session.aclose()
                return
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client went away mid-send; the receiver notices and cleans up
    finally:
        for tracker in trackers.values():
            tracker.finish(status="cancelled")


def _track(event: Event, trackers: dict[str, Tracker], metrics: Metrics) -> None:
    """One metrics record per utterance, from its first text (``audio_start`` carries the
    time since then, and the voice, language and encoding of its context) to ``audio_end``,
    ``cancelled`` or a synthesis error."""
    if isinstance(event, AudioStart):
        tracker = metrics.start(
            transport="ws",
            text="",
            voice=event.voice,
            lang=event.lang,
            format=event.encoding,
            elapsed_s=event.ttfb_ms / 1000,
        )
        tracker.first_byte()
        trackers[event.context_id] = tracker
    elif isinstance(event, Audio) and event.context_id in trackers:
        tracker = trackers[event.context_id]
        tracker.add(bytes_=len(event.audio), audio_s=event.duration_s)
        if event.text:
            spoken = f"{tracker.meta['text']} {event.text}".strip()
            tracker.meta["text"] = snippet(spoken)
            tracker.meta["text_chars"] += len(event.text)
    elif isinstance(event, AudioEnd) and event.context_id in trackers:
        trackers.pop(event.context_id).finish(status="ok")
    elif isinstance(event, Cancelled) and event.context_id in trackers:
        trackers.pop(event.context_id).finish(status="cancelled")
    elif (
        isinstance(event, Error)
        and event.context_id in trackers
        and event.code == "synthesis_failed"
    ):
        trackers.pop(event.context_id).finish(status="error", error=event.message)


async def _send(ws: WebSocket, session: SpeechSession, event: Event) -> None:
    text, payload = to_message(event, binary=bool(session.config.binary))
    await ws.send_text(text)
    if payload is not None:
        await ws.send_bytes(payload)


async def _send_error(ws: WebSocket, error: Error) -> None:
    with contextlib.suppress(RuntimeError, WebSocketDisconnect, TimeoutError):
        await asyncio.wait_for(ws.send_text(to_message(error)[0]), CLOSE_TIMEOUT_S)


async def _close_for_shutdown(ws: WebSocket, lifecycle: Lifecycle) -> None:
    """The ``shutting_down`` error, then close 1012, by the drain's deadline (shutdown.py),
    after which uvicorn closes the socket anyway."""
    err = lifecycle.unavailable()
    left = min(CLOSE_TIMEOUT_S, lifecycle.finish_by - time.monotonic())
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(max(0.0, left)):
            await _send_error(
                ws, Error(err.message, code=err.code or ErrorCode.SHUTTING_DOWN, fatal=True)
            )
            await _close(ws, CLOSE_RESTART)


async def _close(ws: WebSocket, code: int = 1000) -> None:
    """Close, unless the client is gone or not reading (then the server lets go anyway)."""
    with contextlib.suppress(RuntimeError, WebSocketDisconnect, TimeoutError):
        await asyncio.wait_for(ws.close(code), CLOSE_TIMEOUT_S)
