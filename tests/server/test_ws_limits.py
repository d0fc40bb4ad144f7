"""What one WebSocket client may take from the others, on the real server: no lockout by
unflushed text, bounded shares, text caps, a client that stops reading, idle timeouts that
only real activity resets, metrics per context, quiet logs for bad frames."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import socket
from collections.abc import Iterator

import httpx
import pytest
import websockets
from supertonic_core.session import SpeechSession
from supertonic_server import Settings
from supertonic_server.routes.ws import WS_MAX_FRAME_BYTES

from .conftest import LiveServer, wait_for
from .test_ws import recv_json, recv_until, ws_url


def _server(base: Settings, **changes: object) -> Iterator[LiveServer]:
    server = LiveServer(base.model_copy(update={"warmup": False, **changes})).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def crowded(base_settings: Settings) -> Iterator[LiveServer]:
    """The issue's server: 24 streams playing, 64 waiting; unflushed text stays unflushed
    for the length of a test."""
    yield from _server(
        base_settings,
        max_concurrent=24,
        max_queue=64,
        ws_flush_after=120.0,
        ws_context_idle_timeout=120.0,
    )


@pytest.fixture(scope="module")
def timers(base_settings: Settings) -> Iterator[LiveServer]:
    yield from _server(
        base_settings, ws_flush_after=0.3, ws_context_idle_timeout=1.0, ws_idle_timeout=3.0
    )


async def _drain_until_pong(ws) -> list[dict]:
    await ws.send(json.dumps({"type": "ping"}))
    return await recv_until(ws, "pong")


async def test_unflushed_contexts_cannot_lock_other_clients_out(crowded: LiveServer) -> None:
    """13 sockets x 8 contexts of one unflushed "hello" each (the issue's probe) hold no
    scheduler place; each socket gets its bounded share and a clear error beyond it; HTTP
    and another socket are still served while they stay connected."""
    sockets = [await websockets.connect(ws_url(crowded)) for _ in range(13)]
    try:
        refused = []
        for ws in sockets:
            await recv_json(ws)
            for n in range(8):
                await ws.send(json.dumps({"type": "text", "text": "hello", "context_id": f"c{n}"}))
            seen = await _drain_until_pong(ws)
            refused.append([m["context_id"] for m in seen if m["type"] == "error"])
            assert {m["code"] for m in seen if m["type"] == "error"} <= {"too_many_utterances"}
        assert refused == [["c4", "c5", "c6", "c7"]] * 13  # --ws-max-utterances 4
        state = crowded.engine.scheduler.state()
        assert state["active_streams"] == 0 and state["waiting_streams"] == 0
        async with httpx.AsyncClient(base_url=crowded.base_url, timeout=60) as client:
            response = await client.post(
                "/v1/audio/speech",
                json={"model": "tts-1", "input": "Another client is served.", "voice": "alloy"},
            )
        assert response.status_code == 200 and response.content
        async with websockets.connect(ws_url(crowded)) as other:
            await recv_json(other)
            await other.send(json.dumps({"type": "text", "text": "Me too."}))
            await other.send(json.dumps({"type": "flush"}))
            end = (await recv_until(other, "audio_end"))[-1]
            assert end["stats"]["audio_s"] > 0
    finally:
        for ws in sockets:
            await ws.close()
    wait_for(crowded.idle, what="the scheduler to be idle")


@pytest.fixture(scope="module")
def keyed_shares(base_settings: Settings) -> Iterator[LiveServer]:
    yield from _server(
        base_settings, api_keys=("k1",), ws_max_utterances=2, ws_max_utterances_per_key=3
    )


async def test_one_api_key_gets_a_bounded_share(keyed_shares: LiveServer) -> None:
    headers = {"Authorization": "Bearer k1"}
    async with (
        websockets.connect(ws_url(keyed_shares), additional_headers=headers) as a,
        websockets.connect(ws_url(keyed_shares), additional_headers=headers) as b,
    ):
        await recv_json(a)
        await recv_json(b)
        for cid in ("a1", "a2", "a3"):
            await a.send(json.dumps({"type": "text", "text": "Held open", "context_id": cid}))
        errors = [m for m in await _drain_until_pong(a) if m["type"] == "error"]
        assert [(e["context_id"], e["code"]) for e in errors] == [("a3", "too_many_utterances")]
        assert "this connection" in errors[0]["message"]
        for cid in ("b1", "b2"):
            await b.send(json.dumps({"type": "text", "text": "Held open", "context_id": cid}))
        errors = [m for m in await _drain_until_pong(b) if m["type"] == "error"]
        assert [e["context_id"] for e in errors] == ["b2"] and "this API key" in errors[0][
            "message"
        ]
        assert not errors[0]["fatal"]


@pytest.fixture(scope="module")
def single(base_settings: Settings) -> Iterator[LiveServer]:
    yield from _server(base_settings, max_concurrent=1)


async def test_text_is_capped_per_context_and_per_socket(single: LiveServer) -> None:
    """--max-input-chars (4096) per context, --ws-max-pending-chars (8192) per socket, counted
    over text not spoken yet (none is: the only place is held by a stream nobody reads)."""
    engine = single.engine
    holder = engine.open_stream(engine.options(seed=0))
    holder.add_text("Holding the only place.")
    holder.flush()
    try:
        await _capped(single)
    finally:
        holder.close()


async def _capped(server: LiveServer) -> None:
    async with websockets.connect(ws_url(server)) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "text", "text": "a" * 4000, "context_id": "a"}))
        await ws.send(json.dumps({"type": "text", "text": "b" * 200, "context_id": "a"}))
        await ws.send(json.dumps({"type": "cancel", "context_id": "a"}))
        seen = await recv_until(ws, "cancelled")
        errors = [m for m in seen if m["type"] == "error"]
        assert [e["code"] for e in errors] == ["input_too_long"] and "4096" in errors[0]["message"]
        for cid in ("x", "y"):
            await ws.send(json.dumps({"type": "text", "text": "w" * 4000, "context_id": cid}))
        await ws.send(json.dumps({"type": "text", "text": "v" * 300, "context_id": "z"}))
        seen = await _drain_until_pong(ws)
        errors = [m for m in seen if m["type"] == "error"]
        assert [(e["context_id"], e["code"]) for e in errors] == [("z", "too_much_pending_text")]
        assert "8192" in errors[0]["message"]


async def test_unflushed_text_is_spoken_after_quiet_then_an_idle_context_closes(
    timers: LiveServer,
) -> None:
    async with websockets.connect(ws_url(timers)) as ws:
        await recv_json(ws)
        await ws.send(
            json.dumps({"type": "text", "text": "Nobody flushes this", "context_id": "c"})
        )
        seen = await recv_until(ws, "context_closed")
        spoken = [m["text"] for m in seen if m["type"] == "audio" and m["text"]]
        assert spoken == ["Nobody flushes this"]
        kinds = [m["type"] for m in seen]
        assert kinds.index("audio") < kinds.index("audio_end") < kinds.index("context_closed")
        assert seen[-1]["reason"] == "idle_timeout" and seen[-1]["context_id"] == "c"
    wait_for(timers.idle, what="the scheduler to be idle")


async def test_idle_timeout_is_not_dodged_by_messages_that_do_nothing(
    crowded: LiveServer, timers: LiveServer
) -> None:
    """Empty texts, and messages the session rejects, leave a socket's idle clock where it
    was; a ping moves it. Then a client that chatters such messages is closed all the same.
    The chatter is paced by the server's answers, never by a clock of the test's."""
    sessions = crowded.app.state.lifecycle.sessions
    before = set(sessions)
    async with websockets.connect(ws_url(crowded)) as ws:  # idle timeout: 60 s, never reached
        await recv_json(ws)
        (session,) = set(sessions) - before
        quiet_since = session._last_active  # what the idle timeout counts from
        assert (await _chatter(ws))["code"] == "unknown_type"
        assert session._last_active == quiet_since
        await _drain_until_pong(ws)
        assert session._last_active > quiet_since  # the check above can fail
    async with websockets.connect(ws_url(timers)) as ws:
        await recv_json(ws)
        for _ in range(100_000):
            answer = await _chatter(ws)
            if answer["code"] != "unknown_type":
                break
        assert answer["code"] == "idle_timeout" and answer["fatal"], answer


async def _chatter(ws) -> dict:
    """An empty text, then a message of no known type; the server's next answer (the
    error for the latter, unless the socket was closed first: then that error)."""
    with contextlib.suppress(websockets.ConnectionClosed):
        await ws.send(json.dumps({"type": "text", "text": ""}))
        await ws.send(json.dumps({"type": "nonsense"}))
    return await recv_json(ws, timeout=30)


async def test_a_client_that_stops_reading_is_closed_with_bounded_memory(
    base_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A raw client asks for a long reply and then floods pings without ever reading: the
    session's queue stays within its bound (pongs and errors included), the server stops
    reading in turn, and after --ws-send-timeout without progress the session is closed."""
    server = LiveServer(
        base_settings.model_copy(update={"warmup": False, "ws_send_timeout": 1.0})
    ).start()
    sessions = server.app.state.lifecycle.sessions
    peak = [0]  # the longest the queue was, after every event queued (not sampled on a clock)
    emit = SpeechSession._emit

    async def watched(self: SpeechSession, event: object, *, audio: bool = False) -> None:
        await emit(self, event, audio=audio)  # type: ignore[arg-type]
        peak[0] = max(peak[0], self.queued_events)

    monkeypatch.setattr(SpeechSession, "_emit", watched)
    sock = socket.socket()
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        sock.settimeout(3)
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            f"GET {ws_url(server).split(str(server.port))[1]} HTTP/1.1\r\nHost: x\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        long_reply = {"type": "text", "text": "A long reply that fills the pipes. " * 50}
        sock.sendall(_frame(json.dumps(long_reply)) + _frame('{"type": "flush"}'))
        ping = _frame('{"type": "ping"}')
        with pytest.raises(OSError):  # the server stops reading, then lets go
            for _ in range(2_000_000):
                sock.sendall(ping)
        wait_for(lambda: not sessions, timeout=60, what="the session to be closed")
    finally:
        sock.close()
        server.stop()
    assert 0 < peak[0] <= 64  # SessionLimits.max_queued_events


def _frame(text: str) -> bytes:
    """One masked client text frame."""
    payload, mask = text.encode(), os.urandom(4)
    size = len(payload)
    head = bytes([0x81])
    if size < 126:
        head += bytes([0x80 | size])
    elif size < 65536:
        head += bytes([0x80 | 126]) + size.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + size.to_bytes(8, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def test_metrics_record_the_context_voice_and_language(live: LiveServer) -> None:
    async with websockets.connect(ws_url(live)) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "config", "voice": "F2"}))
        await ws.send(
            json.dumps({"type": "config", "context_id": "m", "voice": "M4", "lang": "fr"})
        )
        await ws.send(json.dumps({"type": "text", "text": "Bonjour à tous.", "context_id": "m"}))
        await ws.send(json.dumps({"type": "flush", "context_id": "m"}))
        start = next(m for m in await recv_until(ws, "audio_end") if m["type"] == "audio_start")
        assert (start["voice"], start["lang"]) == ("M4", "fr")

    def record() -> dict | None:
        recent = httpx.get(f"{live.base_url}/metrics/recent", params={"limit": 10}).json()
        found = [r for r in recent["data"] if r["transport"] == "ws" and "Bonjour" in r["text"]]
        return found[0] if found else None

    found = wait_for(record, what="the utterance's metrics record")
    assert (found["voice"], found["lang"]) == ("M4", "fr")


async def test_an_empty_flush_gets_audio_end(live: LiveServer) -> None:
    async with websockets.connect(ws_url(live)) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "flush"}))
        end = await recv_json(ws)
        assert end["type"] == "audio_end" and end["context_id"] == "default"
        assert end["stats"]["chars"] == 0


async def test_invalid_utf8_closes_1007_with_one_quiet_line(
    live: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with websockets.connect(ws_url(live)) as ws:
        await recv_json(ws)
        await ws.send(b"\xff\xfe{", text=True)
        with pytest.raises(websockets.ConnectionClosed) as info:
            await recv_json(ws)
        assert info.value.rcvd.code == 1007
    lines = [r for r in caplog.records if "UTF-8" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO and not lines[0].exc_info


async def test_a_frame_far_over_the_message_limit_is_not_read_whole(live: LiveServer) -> None:
    """Our own check answers a message over 64 KiB with an error; a frame of megabytes is
    refused by the server's reader (1009) before it is buffered, not after 16 MiB."""
    async with websockets.connect(ws_url(live), max_size=None) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"type": "text", "text": "x" * 100_000}))
        error = await recv_json(ws)
        assert error["code"] == "message_too_large" and not error["fatal"]
        with pytest.raises(websockets.ConnectionClosed) as closed:  # while sending, or after
            await ws.send("x" * (4 * WS_MAX_FRAME_BYTES))
            await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
