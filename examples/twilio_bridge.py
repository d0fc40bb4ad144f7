"""A phone bridge: speak into a call through Twilio Media Streams (8 kHz G.711 μ-law).

Twilio connects a call to a WebSocket of yours (TwiML ``<Connect><Stream url="wss://...">``)
and plays whatever ``media`` messages you send back: base64 μ-law at 8 kHz, the phone
network's own format. This bridge is that WebSocket: for each call it opens a session on
the Supertonic server with ``encoding: mulaw, sample_rate: 8000``, so the server's audio
goes to the caller as it is, with no transcoding here. After each reply it sends a
``mark``; Twilio echoes it back once the caller has heard everything before it. To
interrupt (the caller speaks over the agent), :meth:`Call.interrupt` cancels the
synthesis and sends Twilio a ``clear``, which drops the audio it still holds.

Start a server (``uv run supertonic-server``, or ``--synthetic tiny`` to try it without
the model: noise, not speech), then the bridge, and point Twilio's stream at it through a
public tunnel:

    uv run python examples/twilio_bridge.py --port 8765 --greeting "Hello! How can I help?"

SIP trunks and phone networks outside North America and Japan usually want A-law:
``--encoding alaw`` (Twilio itself always sends and expects μ-law). Your agent's replies
go through :meth:`Call.say`; here the bridge says the greeting and then echoes any DTMF
digit the caller presses.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import logging
import sys
from typing import Any

import websockets
from supertonic_core.client import SpeechClient
from supertonic_core.protocol import Audio, AudioEnd, Error

logger = logging.getLogger("twilio_bridge")


class Call:
    """One phone call: Twilio's socket on one side, a speech session on the other."""

    def __init__(self, twilio: Any, stream_sid: str, speech: SpeechClient) -> None:
        self.twilio = twilio
        self.stream_sid = stream_sid
        self.speech = speech
        self.replies = 0

    async def say(self, text: str) -> None:
        """Queue a reply; its audio is forwarded as it is synthesized (see :meth:`forward`)."""
        await self.speech.send_text(text)
        await self.speech.flush()

    async def interrupt(self) -> None:
        """Barge-in: stop the synthesis and make Twilio drop what it has buffered."""
        await self.speech.cancel()
        await self._send({"event": "clear"})

    async def forward(self) -> None:
        """Speech-session events to Twilio: audio as ``media``, each reply's end as a ``mark``."""
        async for event in self.speech.events():
            if isinstance(event, Audio):
                payload = base64.b64encode(event.audio).decode("ascii")
                await self._send({"event": "media", "media": {"payload": payload}})
            elif isinstance(event, AudioEnd):
                self.replies += 1
                await self._send({"event": "mark", "mark": {"name": f"reply-{self.replies}"}})
            elif isinstance(event, Error):
                logger.warning("speech error: %s (%s)", event.message, event.code)

    async def _send(self, message: dict[str, Any]) -> None:
        await self.twilio.send(json.dumps({**message, "streamSid": self.stream_sid}))


async def handle_call(twilio: Any, args: argparse.Namespace) -> None:
    """Serve one Twilio Media Stream until the call stops."""
    call: Call | None = None
    forwarder: asyncio.Task[None] | None = None
    config = {"encoding": args.encoding, "sample_rate": 8000, "voice": args.voice}
    try:
        async for raw in twilio:
            message = json.loads(raw)
            event = message.get("event")
            if event == "start" and call is None:
                speech = SpeechClient(args.server, api_key=args.api_key, config=config)
                await speech.connect()
                call = Call(twilio, message["start"]["streamSid"], speech)
                forwarder = asyncio.create_task(call.forward())
                greeting = message["start"].get("customParameters", {}).get("greeting")
                await call.say(greeting or args.greeting)
            elif event == "dtmf" and call is not None:
                await call.say(f"You pressed {message['dtmf']['digit']}.")
            elif event == "mark":
                logger.info("the caller heard %s", message["mark"]["name"])
            elif event == "stop":
                break
    finally:
        if call is not None:
            await call.speech.aclose()
        if forwarder is not None:
            await asyncio.gather(forwarder, return_exceptions=True)


async def serve(args: argparse.Namespace, started: asyncio.Future[int] | None = None) -> None:
    """Accept Twilio's sockets on ``args.host:args.port`` (port 0: any free one, which
    ``started`` receives) until cancelled."""
    async with websockets.serve(lambda ws: handle_call(ws, args), args.host, args.port) as server:
        port = server.sockets[0].getsockname()[1]
        logger.info("Twilio Media Streams bridge on ws://%s:%d", args.host, port)
        if started is not None:
            started.set_result(port)
        await asyncio.Future()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--server", default="ws://127.0.0.1:8000", help="the Supertonic server")
    p.add_argument("--api-key")
    p.add_argument("--voice", default="alloy")
    p.add_argument("--encoding", choices=["mulaw", "alaw"], default="mulaw")
    p.add_argument("--greeting", default="Hello! Thanks for calling. How can I help?")
    return p


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parser().parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
