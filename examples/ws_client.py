"""Stream text into the server's WebSocket the way an LLM would, and save (or play) the audio.

Start a server first (``uv run supertonic-server``, or ``--synthetic tiny`` to try it
without the model), then:

    uv run python examples/ws_client.py "Hello! This text arrives word by word." -o hello.wav
    echo "Piped text works too." | uv run python examples/ws_client.py - --play

``--play`` pipes raw PCM to ``aplay`` (ALSA) or ``ffplay`` if one is installed.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import time
import wave

from supertonic_core.client import SpeechClient
from supertonic_core.protocol import Audio, AudioEnd, AudioStart, Error


def player(rate: int) -> subprocess.Popen[bytes] | None:
    if shutil.which("aplay"):
        cmd = ["aplay", "-q", "-f", "S16_LE", "-c", "1", "-r", str(rate)]
    elif shutil.which("ffplay"):
        cmd = [
            "ffplay",
            "-nodisp",
            "-autoexit",
            "-loglevel",
            "quiet",
            "-f",
            "s16le",
            "-ar",
            str(rate),
            "-i",
            "-",
        ]
    else:
        print("no aplay or ffplay found; saving only", file=sys.stderr)
        return None
    return subprocess.Popen(cmd, stdin=subprocess.PIPE)


async def run(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    config = {"voice": args.voice, "lang": args.lang, "sample_rate": args.sample_rate}
    pcm = bytearray()
    sink = player(args.sample_rate) if args.play else None
    async with SpeechClient(args.url, api_key=args.api_key, config=config) as client:
        started = time.perf_counter()

        async def feed() -> None:
            for word in text.split(" "):  # LLM-like token stream
                await client.send_text(word + " ")
                await asyncio.sleep(args.token_delay)
            await client.flush()

        feeder = asyncio.create_task(feed())
        async for event in client.events():
            if isinstance(event, AudioStart):
                print(f"first audio after {time.perf_counter() - started:.3f} s", file=sys.stderr)
            elif isinstance(event, Audio):
                pcm += event.audio
                if sink and sink.stdin:
                    sink.stdin.write(event.audio)
                if event.text:
                    print(f"  [{event.offset_s:6.2f} s] {event.text}", file=sys.stderr)
            elif isinstance(event, Error):
                print(f"error: {event.message}", file=sys.stderr)
                if event.fatal:
                    return 1
            elif isinstance(event, AudioEnd):
                print(f"done: {event.stats}", file=sys.stderr)
                break
        await feeder
        if client.ready and client.ready.synthetic:
            print("note: the server runs a SYNTHETIC model: this audio is noise", file=sys.stderr)
    if sink and sink.stdin:
        sink.stdin.close()
        sink.wait()
    if args.output:
        with wave.open(args.output, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(args.sample_rate)
            wav.writeframes(bytes(pcm))
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("text", help="text to speak, or - for stdin")
    parser.add_argument("--url", default="ws://127.0.0.1:8000")
    parser.add_argument("--api-key")
    parser.add_argument("--voice", default="alloy")
    parser.add_argument("--lang", default="en")
    parser.add_argument("--sample-rate", type=int, default=24000)
    parser.add_argument("--token-delay", type=float, default=0.03, help="seconds between words")
    parser.add_argument("-o", "--output", help="save a WAV file")
    parser.add_argument("--play", action="store_true")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
