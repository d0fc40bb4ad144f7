"""The WebSocket client against servers that misbehave at the greeting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import websockets
from supertonic_core.client import SpeechClient, SpeechClientError


async def _greeting_server(greeting: str, closed: asyncio.Event) -> AsyncIterator[str]:
    async def handler(ws: websockets.ServerConnection) -> None:
        await ws.send(greeting)
        try:
            await ws.wait_closed()
        finally:
            closed.set()

    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


@pytest.mark.parametrize(
    "greeting",
    ["not json at all", "[1, 2]", '{"type": "no_such_message"}', '{"type": "ready"}'],
)
async def test_a_bad_greeting_is_a_client_error_and_closes_the_socket(greeting: str) -> None:
    closed = asyncio.Event()
    async for url in _greeting_server(greeting, closed):
        client = SpeechClient(url, open_timeout=5)
        with pytest.raises(SpeechClientError, match="greet"):
            await client.connect()
        await asyncio.wait_for(closed.wait(), 5)  # the client hung up
