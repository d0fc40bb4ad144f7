"""Speak text to a WAV file through a Pipecat pipeline, with Supertonic on a server.

The pipeline talks to a Supertonic server over its WebSocket protocol, as a deployment
does when the model runs on another machine. Point it at a running server:

    uv run supertonic-server --port 8000 &
    uv run python examples/pipecat_server.py --url ws://127.0.0.1:8000 "Hello from the server."

or let it start one in this process, on a free local port (``--synthetic`` serves a
generated random-weight bundle: noise, not speech, but no model download needed):

    uv run python examples/pipecat_server.py --serve --synthetic

Halfway through, a ``TTSUpdateSettingsFrame`` switches the voice, as an application would
at runtime; it applies from the next sentence on.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from loguru import logger
from pipecat.frames.frames import Frame, TTSSpeakFrame, TTSUpdateSettingsFrame
from pipecat_supertonic import SupertonicServerTTSService
from supertonic_core.bundle import synthetic_dir
from supertonic_core.synthetic import make_synthetic_bundle

sys.path.insert(0, str(Path(__file__).parent))
from pipecat_to_wav import speak

FIRST = "This first sentence comes from a Supertonic server, in the voice F1."
SECOND = "And after a settings update, this one is spoken in the voice M2."


@contextmanager
def local_server(model_dir: Path | None) -> Iterator[str]:
    """A Supertonic server on 127.0.0.1 in a background thread; yields its ws:// URL."""
    import uvicorn
    from supertonic_server import Settings, create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(Settings(model_dir=str(model_dir) if model_dir else None, port=port))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not (server.started and app.state.lifecycle.ready):  # model loaded and warmed up
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the local server did not become ready")
        time.sleep(0.05)
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def frames(first: str, second: str) -> list[Frame]:
    delta = SupertonicServerTTSService.Settings(voice="M2")
    return [TTSSpeakFrame(first), TTSUpdateSettingsFrame(delta=delta), TTSSpeakFrame(second)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("text", nargs="?", default=None, help="text to speak (else a demo)")
    parser.add_argument("-o", "--output", type=Path, default=Path("pipecat_supertonic_server.wav"))
    parser.add_argument("--url", default="ws://127.0.0.1:8000", help="the server's address")
    parser.add_argument("--api-key", default=None, help="the server's API key, if it has one")
    parser.add_argument("--rate", type=int, default=24000, help="pipeline output rate, Hz")
    parser.add_argument("--serve", action="store_true", help="start a local server for the demo")
    parser.add_argument("--synthetic", action="store_true", help="with --serve: synthetic bundle")
    parser.add_argument("-v", "--verbose", action="store_true", help="show Pipecat's debug log")
    args = parser.parse_args(argv)
    logger.remove()
    logger.add(sys.stderr, level="DEBUG" if args.verbose else "WARNING")

    model_dir = make_synthetic_bundle(synthetic_dir("tiny")) if args.synthetic else None
    with local_server(model_dir) if args.serve else _given(args.url) as url:
        tts = SupertonicServerTTSService(url=url, api_key=args.api_key, reconnect_attempts=2)
        script = [TTSSpeakFrame(args.text)] if args.text else frames(FIRST, SECOND)
        recorder = asyncio.run(speak(tts, script, args.output, rate=args.rate))
    for error in recorder.errors:
        print(f"error: {error}", file=sys.stderr)
    if not recorder.seconds:
        print("no audio was produced", file=sys.stderr)
        return 1
    note = " (synthetic bundle: noise, not speech)" if args.synthetic else ""
    print(f"wrote {args.output}: {recorder.seconds:.2f} s at {recorder.rate} Hz from {url}{note}")
    return 0


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    sys.exit(main())
