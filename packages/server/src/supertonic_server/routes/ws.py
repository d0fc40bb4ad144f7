"""``WS /v1/audio/speech/stream``: the speech-session protocol over a WebSocket.

The protocol itself (contexts, auto-release, flush, cancel, timings, encodings) lives in
:mod:`supertonic_core.session`; this module only moves its messages across the socket,
authenticates, times out idle sockets and reports to the metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from supertonic_core.protocol import (
    Audio,
    AudioEnd,
    AudioStart,
    Cancelled,
    Error,
    Event,
    ProtocolError,
    parse_client_message,
    to_message,
)
from supertonic_core.session import SpeechSession

from ..auth import check_key, presented_key
from ..errors import APIError
from ..metrics import Metrics, Tracker, snippet
from ..settings import Settings
from ..state import DRAINING, Lifecycle

logger = logging.getLogger("supertonic_server")
router = APIRouter(tags=["websocket"])

AUTH_TIMEOUT_S = 10.0
CLOSE_POLICY = 1008  # authentication failed
CLOSE_TRY_LATER = 1013  # model not ready
CLOSE_RESTART = 1012  # the server is shutting down


@router.websocket("/v1/audio/speech/stream")
async def speech_stream(ws: WebSocket) -> None:
    """One speech session per socket; see the README's protocol table."""
    settings: Settings = ws.app.state.settings
    lifecycle: Lifecycle = ws.app.state.lifecycle
    await ws.accept()
    if not await _authenticate(ws, settings):
        return
    engine = ws.app.state.engine
    if not lifecycle.ready or engine is None:
        err = lifecycle.unavailable()
        await _send_error(ws, Error(err.message, code=err.code or "unavailable", fatal=True))
        await ws.close(CLOSE_TRY_LATER)
        return
    session = SpeechSession(
        engine, max_contexts=settings.ws_max_contexts, max_queued_audio=settings.ws_send_queue
    )
    await _send(ws, session, session.ready())
    sender = asyncio.create_task(_pump(ws, session, ws.app.state.metrics))
    lifecycle.sessions.add(session)  # a shutdown drains it, then ends it (shutdown.py)
    try:
        try:
            await _receive(ws, session, settings, sender)
        finally:
            await session.aclose()
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            if lifecycle.status == DRAINING:
                err = lifecycle.unavailable()
                await _send_error(ws, Error(err.message, code=err.code or "", fatal=True))
                await ws.close(CLOSE_RESTART)
            await ws.close()
    finally:
        lifecycle.sessions.discard(session)


async def _authenticate(ws: WebSocket, settings: Settings) -> bool:
    """Keys by header or ``?api_key=`` (checked by the middleware), or a first ``auth`` message."""
    if not settings.api_keys:
        return True
    key = presented_key(
        dict(ws.scope["headers"]), ws.scope.get("query_string", b""), websocket=True
    )
    try:
        if key is None:
            raw = await asyncio.wait_for(ws.receive_text(), AUTH_TIMEOUT_S)
            msg = parse_client_message(raw)
            if msg["type"] != "auth":
                raise ProtocolError('authenticate first: send {"type": "auth", "api_key": ...}')
            key = msg.get("api_key")
        check_key(key, settings.api_keys)
        return True
    except (TimeoutError, ProtocolError, APIError) as exc:
        message = (
            exc.message if isinstance(exc, APIError) else str(exc) or "authentication timed out"
        )
        await _send_error(ws, Error(message, code="unauthorized", fatal=True))
        await ws.close(CLOSE_POLICY)
        return False
    except WebSocketDisconnect:
        return False


async def _receive(
    ws: WebSocket, session: SpeechSession, settings: Settings, sender: asyncio.Task[None]
) -> None:
    """Client messages into the session until the client leaves, closes, or idles out."""
    while not sender.done():
        receive = asyncio.ensure_future(ws.receive())
        done, _ = await asyncio.wait(
            {receive, sender}, timeout=settings.ws_idle_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if receive not in done:
            receive.cancel()
            if sender in done:
                return  # the session ended (after "close"): the socket closes
            if session.contexts:
                continue  # audio still flowing: not idle
            await _send_error(
                ws,
                Error(
                    f'closing idle connection after {settings.ws_idle_timeout:g} s without messages; send {{"type": "ping"}} to keep it open',
                    code="idle_timeout",
                    fatal=True,
                ),
            )
            return
        message = receive.result()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("bytes") is not None:
            await session.handle(message["bytes"])
        else:
            await session.handle(message.get("text") or "")


async def _pump(ws: WebSocket, session: SpeechSession, metrics: Metrics) -> None:
    """Session events onto the socket, with per-utterance metrics."""
    trackers: dict[str, Tracker] = {}
    try:
        async for event in session.events():
            _track(event, trackers, metrics, session)
            await _send(ws, session, event)
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client went away mid-send; the receiver notices and cleans up
    finally:
        for tracker in trackers.values():
            tracker.finish(status="cancelled")


def _track(
    event: Event, trackers: dict[str, Tracker], metrics: Metrics, session: SpeechSession
) -> None:
    """One metrics record per utterance, from its first text (``audio_start`` carries the
    time since then) to ``audio_end``, ``cancelled`` or a synthesis error."""
    if isinstance(event, AudioStart):
        cfg = session.config
        tracker = metrics.start(
            transport="ws",
            text="",
            voice=cfg.voice or "",
            lang=cfg.lang or "",
            format=cfg.encoding or "",
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
    msg, payload = to_message(event, binary=bool(session.config.binary))
    await ws.send_text(json.dumps(msg, ensure_ascii=False))
    if payload is not None:
        await ws.send_bytes(payload)


async def _send_error(ws: WebSocket, error: Error) -> None:
    msg: dict[str, Any] = to_message(error)[0]
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await ws.send_text(json.dumps(msg))
