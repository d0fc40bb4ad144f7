"""Synthesize text through the LiveKit plugin, offline, into a WAV file.

The plugin is driven exactly as an ``AgentSession`` drives it: ``tts.stream()``, text
pushed a few words at a time as an LLM would, ``end_input()``, then the audio frames read
back (with their word timings). No LiveKit server is involved.

    uv run python examples/livekit_to_wav.py "Hello from Supertonic." -o hello.wav
    uv run python examples/livekit_to_wav.py --synthetic "Testing without the model." -o t.wav
    uv run python examples/livekit_to_wav.py --base-url http://127.0.0.1:8000 "Via a server."

``--synthetic`` generates (once, then cached) the tiny random-weight bundle: the file then
holds noise shaped like speech, not speech. Without it the real model is used (fetch it
first with ``python -m livekit.agents download-files``, or pass ``--model-dir``).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import wave

from livekit.agents.types import USERDATA_TIMED_TRANSCRIPT
from livekit.plugins import supertonic


def pieces(text: str) -> list[str]:
    """Text as an LLM streams it: two words (with their spaces) at a time."""
    words = re.findall(r"\S+\s*", text)
    return ["".join(words[i : i + 2]) for i in range(0, len(words), 2)]


async def synthesize(args: argparse.Namespace) -> int:
    kwargs: dict[str, object] = {
        "voice": args.voice,
        "language": args.lang,
        "sample_rate": args.sample_rate,
        "steps": args.steps,
    }
    if args.base_url:
        kwargs["base_url"] = args.base_url
    elif args.synthetic:
        from supertonic_core.bundle import synthetic_dir
        from supertonic_core.synthetic import make_synthetic_bundle

        kwargs["model_dir"] = make_synthetic_bundle(synthetic_dir("tiny"), profile="tiny")
        print("using the SYNTHETIC tiny bundle: the audio is noise, not speech", file=sys.stderr)
    elif args.model_dir:
        kwargs["model_dir"] = args.model_dir

    tts = supertonic.TTS(**kwargs)  # type: ignore[arg-type]
    pcm = bytearray()
    words = []
    try:
        async with tts.stream() as stream:
            for piece in pieces(args.text):
                stream.push_text(piece)
            stream.end_input()
            async for ev in stream:
                pcm += ev.frame.data.tobytes()
                words += ev.frame.userdata.get(USERDATA_TIMED_TRANSCRIPT, [])
    finally:
        await tts.aclose()

    with wave.open(args.output, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(tts.sample_rate)
        out.writeframes(bytes(pcm))
    seconds = len(pcm) / 2 / tts.sample_rate
    print(f"wrote {args.output}: {seconds:.2f} s at {tts.sample_rate} Hz, {len(words)} words")
    if args.words:
        for w in words:
            print(f"  {w.start_time:6.2f} {w.end_time:6.2f}  {w.strip()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("text", help="what to say")
    parser.add_argument("-o", "--output", default="supertonic.wav", help="WAV file to write")
    parser.add_argument("--voice", default="F1", help="F1..F5, M1..M5, an OpenAI name, a blend")
    parser.add_argument("--lang", default="en", help="language code (default en)")
    parser.add_argument("--sample-rate", type=int, default=44100, help="output rate in Hz")
    parser.add_argument("--steps", type=int, default=8, help="flow-matching steps, 1..32")
    parser.add_argument("--words", action="store_true", help="print the word timings")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--synthetic", action="store_true", help="use a generated tiny bundle")
    source.add_argument("--model-dir", help="a Supertonic model bundle directory")
    source.add_argument("--base-url", help="a Supertonic server instead of this process")
    return asyncio.run(synthesize(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
