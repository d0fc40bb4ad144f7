"""``examples/twilio_bridge.py`` against the real server, with a client speaking Twilio's
Media Streams messages (the ones Twilio documents: connected, start, media, mark, stop)."""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import warnings
from pathlib import Path

import numpy as np
import websockets

from .conftest import LiveServer

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # a standard G.711 codec (the audioop-lts package from Python 3.13)

EXAMPLE = Path(__file__).parents[2] / "examples" / "twilio_bridge.py"


def load_bridge():
    spec = importlib.util.spec_from_file_location("twilio_bridge", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_a_call_hears_the_greeting_as_mulaw_then_a_mark(live: LiveServer) -> None:
    bridge = load_bridge()
    args = bridge.parser().parse_args(
        ["--port", "0", "--server", f"ws://127.0.0.1:{live.port}", "--greeting", "Hi there."]
    )
    started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    server = asyncio.create_task(bridge.serve(args, started))
    try:
        port = await asyncio.wait_for(started, 10)
        async with websockets.connect(f"ws://127.0.0.1:{port}") as twilio:
            await twilio.send(json.dumps({"event": "connected", "protocol": "Call"}))
            start = {
                "streamSid": "MZ0001",
                "callSid": "CA0001",
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                "customParameters": {},
            }
            await twilio.send(json.dumps({"event": "start", "streamSid": "MZ0001", "start": start}))
            payload = b""
            async with asyncio.timeout(30):
                while True:
                    message = json.loads(await twilio.recv())
                    assert message["streamSid"] == "MZ0001"
                    if message["event"] == "mark":
                        assert message["mark"]["name"] == "reply-1"
                        break
                    assert message["event"] == "media"
                    payload += base64.b64decode(message["media"]["payload"])
            await twilio.send(json.dumps({"event": "stop", "streamSid": "MZ0001"}))
        samples = np.frombuffer(audioop.ulaw2lin(payload, 2), "<i2")
        assert 0.3 < len(samples) / 8000 < 5  # "Hi there." at 8 kHz, one byte a sample
        assert np.abs(samples).max() > 1000  # audio, not μ-law silence (0xFF)
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)
