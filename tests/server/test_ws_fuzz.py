"""A WebSocket fuzzer in the suite: malformed, mistyped, oversized, unknown and out-of-order
messages against the real server. Every message gets either its normal answer or a
non-fatal ``error``; the socket survives (a ``ping`` still gets its ``pong``), no fatal
error arrives, the server logs no ERROR, and the scheduler is idle afterwards. Bounded: a
fixed list plus a seeded random batch."""

from __future__ import annotations

import json
import logging
import random
from typing import Any

import pytest
import websockets
from supertonic_core.protocol import CONFIG_FIELDS

from .conftest import LiveServer, wait_for
from .test_ws import recv_json, recv_until, ws_url

SEED = 1313
RANDOM_MESSAGES = 300

FIXED: list[str | bytes] = [
    "{oops",
    "",
    "null",
    "[]",
    '"text"',
    "42",
    json.dumps({}),
    json.dumps({"type": None}),
    json.dumps({"type": 7}),
    json.dumps({"type": "sing"}),
    json.dumps({"type": "TEXT", "text": "case matters"}),
    json.dumps({"type": "text"}),
    json.dumps({"type": "text", "text": None}),
    json.dumps({"type": "text", "text": 12}),
    json.dumps({"type": "text", "text": ["a"]}),
    json.dumps({"type": "text", "text": "x", "context_id": ""}),
    json.dumps({"type": "text", "text": "x", "context_id": 5}),
    json.dumps({"type": "text", "text": "x", "context_id": "c" * 200}),
    json.dumps({"type": "text", "text": "y" * 70_000}),
    json.dumps({"type": "text", "text": "\ud800 lone surrogate"}),
    json.dumps({"type": "text", "text": "\x00\x07 control \u202e"}),
    json.dumps({"type": "text", "text": "ℵ and 😀 and مرحبا"}),
    json.dumps({"type": "flush", "context_id": "never-seen"}),
    json.dumps({"type": "cancel", "context_id": "never-seen"}),
    json.dumps({"type": "cancel", "context_id": "never-seen"}),
    json.dumps({"type": "close_context"}),
    json.dumps({"type": "close_context", "context_id": "never-seen"}),
    json.dumps({"type": "text", "text": "after close", "context_id": "never-seen"}),
    json.dumps({"type": "flush", "context_id": "never-seen"}),
    json.dumps({"type": "auth", "api_key": "late"}),
    json.dumps({"type": "auth", "api_key": 5}),
    json.dumps({"type": "config", "voice": 3}),
    json.dumps({"type": "config", "voice": "F1*nan"}),
    json.dumps({"type": "config", "speed": "fast"}),
    json.dumps({"type": "config", "speed": 1e308}),
    json.dumps({"type": "config", "steps": -1}),
    json.dumps({"type": "config", "total_steps": True}),
    json.dumps({"type": "config", "seed": "x"}),
    json.dumps({"type": "config", "seed": 2**80}),
    json.dumps({"type": "config", "sample_rate": 12345}),
    json.dumps({"type": "config", "encoding": ["mulaw"]}),
    json.dumps({"type": "config", "binary": "yes"}),
    json.dumps({"type": "config", "lang": {}}),
    json.dumps({"type": "config", "volume": 11}),
    json.dumps({"type": "config", "first_chunk_steps": 99}),
    b"\x00\x01binary",
]

_TYPES = ["text", "flush", "cancel", "close_context", "config", "ping", "auth", "nope", None, 3]
_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    1e309,
    "",
    "x",
    "F1",
    "en",
    "ko",
    "😀",
    [],
    {},
    [1],
    {"a": 1},
    "M1*0.5+F2*0.5",
    "F1*-1",
    "a" * 300,
    2**70,
    "\u0301" * 50,
]
_FIELDS = [*CONFIG_FIELDS, "text", "context_id", "api_key", "extra"]
_TEXTS = [
    "Hello.",
    "Hi there, ",
    "",
    " ",
    "...",
    "12 + 7 = 19.",
    "Ünïcödé!",
    "\t\n",
    "A sentence that runs on",
    "<b>tags</b>",
    "😀😀",
    "z" * 5000,
]


def random_message(rng: random.Random) -> str | bytes:
    """One message of a random kind: mostly plausible, often wrong in one field."""
    roll = rng.random()
    if roll < 0.05:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
    if roll < 0.12:
        return "".join(rng.choice('{}[]":,ab1 \\') for _ in range(rng.randrange(1, 30)))
    msg: dict[str, Any] = {"type": rng.choice(_TYPES)}
    if rng.random() < 0.7:
        msg["context_id"] = rng.choice(["a", "b", "c", "d", "default", "e" * 129, 0, None])
    if msg["type"] == "text" and rng.random() < 0.8:
        msg["text"] = rng.choice(_TEXTS)
    for _ in range(rng.randrange(0, 3)):
        msg[rng.choice(_FIELDS)] = rng.choice(_VALUES)
    return json.dumps(msg)


async def test_fuzzed_messages_never_kill_the_socket(
    live: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    rng = random.Random(SEED)
    batch = FIXED + [random_message(rng) for _ in range(RANDOM_MESSAGES)]
    async with websockets.connect(ws_url(live), max_size=None) as ws:
        await recv_json(ws)
        seen: list[dict] = []
        for n, raw in enumerate(batch):
            await ws.send(raw)
            if n % 25 == 24 or n == len(FIXED) - 1:  # read as we go; the socket must answer
                seen += await _ping(ws)
        seen += await _ping(ws)
        fatal = [m for m in seen if m["type"] == "error" and m["fatal"]]
        assert not fatal
        codes = {m["code"] for m in seen if m["type"] == "error"}
        assert {"invalid_json", "unknown_type", "message_too_large", "invalid_config"} <= codes
        assert "internal_error" not in codes and "synthesis_failed" not in codes
        for cid in ("a", "b", "c", "d", "default"):
            await ws.send(json.dumps({"type": "cancel", "context_id": cid}))
            await recv_until(ws, "cancelled")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    wait_for(live.idle, what="the scheduler to be idle")


async def _ping(ws) -> list[dict]:
    await ws.send(json.dumps({"type": "ping"}))
    return await recv_until(ws, "pong", timeout=60)
