"""The context multiplexer over a real in-process speech session."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from supertonic_core import Engine
from supertonic_core.mux import ConnectionLost, SessionError, SpeechMux
from supertonic_core.protocol import (
    MAX_MESSAGE_BYTES,
    Audio,
    AudioEnd,
    ContextClosed,
    ErrorCode,
    SpeechConnection,
    text_pieces,
)
from supertonic_core.session import SpeechSession

LONG = " ".join(["This sentence keeps the synthesizer busy for a while."] * 30)


def _recorder() -> tuple[list[Any], Callable[[Any], Awaitable[None]]]:
    """A list, and a callback that appends what it is called with to it."""
    seen: list[Any] = []

    async def record(item: Any) -> None:
        seen.append(item)

    return seen, record


async def _until(ctx: Any, kind: type) -> list[Any]:
    events = []
    while not isinstance(event := await asyncio.wait_for(ctx.receive(), 20), kind):
        events.append(event)
    return events


async def test_contexts_get_their_own_events_in_order(engine: Engine) -> None:
    mux = SpeechMux(SpeechSession(engine))
    a, b = mux.open(), mux.open()
    await a.send_text("First context.")
    await b.send_text("Second one.")
    await b.close()
    await a.close()
    for ctx in (a, b):
        audio = [e for e in await _until(ctx, AudioEnd) if isinstance(e, Audio)]
        assert audio and {e.context_id for e in audio} == {ctx.id}
        assert [e.seq for e in audio] == sorted(e.seq for e in audio)
        assert isinstance(await ctx.receive(), ContextClosed)
        assert await ctx.release()
    assert mux.open_contexts == 0
    await mux.aclose()


async def test_cancel_waits_for_the_acknowledgement_and_stops_the_engine(
    engine: Engine,
) -> None:
    mux = SpeechMux(SpeechSession(engine))
    ctx = mux.open()
    await ctx.configure(steps=32)
    await ctx.send_text(LONG)
    await ctx.flush()
    await _until(ctx, Audio)
    assert await ctx.cancel()
    assert await ctx.release()  # closed on the session: its place is free again
    async with asyncio.timeout(20):
        while mux.conn.contexts:
            await asyncio.sleep(0.01)
    await mux.aclose()


async def test_a_config_is_settled_by_its_own_answer_only(engine: Engine) -> None:
    stray, on_error = _recorder()
    session = SpeechSession(engine)
    mux = SpeechMux(session, on_error=on_error)
    await session.handle("{")  # an error with no context, queued before the config
    await mux.configure(voice="M1")
    assert session.config.voice == "M1"
    with pytest.raises(SessionError, match="unknown voice") as info:
        await mux.configure(voice="nobody")
    assert info.value.code == ErrorCode.INVALID_CONFIG
    assert [e.code for e in stray] == [ErrorCode.INVALID_JSON]
    await mux.aclose()


async def test_every_open_context_learns_that_the_connection_is_lost(engine: Engine) -> None:
    lost, on_lost = _recorder()
    session = SpeechSession(engine)
    mux = SpeechMux(session, on_lost=on_lost)
    a, b = mux.open(), mux.open()
    await a.send_text("Held open")
    await session.aclose()  # the transport went away
    for ctx in (a, b):
        with pytest.raises(ConnectionLost):
            await asyncio.wait_for(ctx.receive(), 20)
        with pytest.raises(ConnectionLost):  # and stays lost
            await ctx.receive()
        assert not await ctx.release()
    assert len(lost) == 1 and not mux.alive
    with pytest.raises(ConnectionLost):
        await mux.configure(voice="F1")
    await mux.aclose()


@pytest.mark.parametrize("char", ["a", "é", "\n", '"', "😀"])
def test_text_is_split_under_the_message_limit(char: str) -> None:
    text = char * 40_000
    pieces = list(text_pieces(text))
    assert "".join(pieces) == text
    for piece in pieces:
        msg = {"type": "text", "text": piece, "context_id": "c" * 128}
        assert len(json.dumps(msg).encode()) <= MAX_MESSAGE_BYTES
    assert list(text_pieces("")) == []


async def test_the_mux_sends_long_text_in_pieces() -> None:
    sent: list[dict[str, Any]] = []

    class Recorder(SpeechConnection):
        async def send(self, msg: dict[str, Any]) -> None:
            sent.append(msg)

        async def events(self):  # a connection that never answers
            await asyncio.Event().wait()
            yield

        async def aclose(self) -> None:
            pass

    mux = SpeechMux(Recorder())
    ctx = mux.open()
    text = "word " * 30_000
    await ctx.send_text(text)
    await mux.aclose()
    assert "".join(m["text"] for m in sent) == text and len(sent) == 3
    assert {m["context_id"] for m in sent} == {ctx.id}


def test_error_codes_say_what_to_do() -> None:
    assert ErrorCode.of("busy") is ErrorCode.BUSY and ErrorCode.BUSY == "busy"
    assert (ErrorCode.BUSY.status, ErrorCode.BUSY.retryable) == (429, True)
    assert not ErrorCode.INVALID_REQUEST.retryable and ErrorCode.IDLE_TIMEOUT.closes
    assert not ErrorCode.MODEL_LOADING.closes
    assert ErrorCode.of("something_new") is None
    assert json.dumps({"code": ErrorCode.BUSY}) == '{"code": "busy"}'
