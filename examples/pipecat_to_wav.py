"""Speak text to a WAV file through a Pipecat pipeline, with Supertonic running in-process.

No credentials and no network: the model comes from the local cache (``supertonic download``
puts it there), or, with ``--synthetic``, from a generated random-weight bundle (its output
is noise, not speech; it shows the pipeline works end to end).

    uv run python examples/pipecat_to_wav.py "Hello from Pipecat." -o hello.wav
    uv run python examples/pipecat_to_wav.py --synthetic --as-llm --rate 16000

The text goes in as one ``TTSSpeakFrame``, or with ``--as-llm`` as a stream of LLM tokens
that Pipecat gathers into sentences. Each word is printed as Pipecat times it (from the
service's word timestamps); the audio is written at the pipeline's output rate.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import wave
from collections.abc import Sequence
from pathlib import Path

from loguru import logger
from pipecat.frames.frames import (
    EndFrame,
    ErrorFrame,
    Frame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    TTSTextFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.services.tts_service import TTSService
from pipecat.workers.runner import WorkerRunner
from pipecat_supertonic import SupertonicTTSService
from supertonic_core.bundle import synthetic_dir
from supertonic_core.synthetic import make_synthetic_bundle

TEXT = (
    "Hello! This sentence was spoken by Supertonic inside a Pipecat pipeline. "
    "Each word you see printed carries the time at which it is heard."
)


class WavRecorder(FrameProcessor):
    """Collects the TTS audio, prints timed words and errors, writes a WAV file at the end."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.audio = bytearray()
        self.rate = 0
        self.errors: list[str] = []
        self._first_pts: int | None = None

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, TTSAudioRawFrame):
            self.audio += frame.audio
            self.rate = frame.sample_rate
        elif isinstance(frame, TTSTextFrame) and frame.pts is not None:
            self._first_pts = self._first_pts if self._first_pts is not None else frame.pts
            print(f"  {(frame.pts - self._first_pts) / 1e9:6.2f} s  {frame.text}")
        elif isinstance(frame, ErrorFrame):
            self.errors.append(frame.error)
        elif isinstance(frame, EndFrame) and self.rate:
            with wave.open(str(self.path), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(self.rate)
                out.writeframes(bytes(self.audio))
        await self.push_frame(frame, direction)

    @property
    def seconds(self) -> float:
        return len(self.audio) / 2 / self.rate if self.rate else 0.0


def llm_tokens(text: str) -> list[Frame]:
    """``text`` as an LLM would stream it: a start frame, word-sized tokens, an end frame."""
    tokens = re.findall(r"\s*\S+", text)
    return [LLMFullResponseStartFrame(), *map(LLMTextFrame, tokens), LLMFullResponseEndFrame()]


async def speak(
    tts: TTSService, frames: Sequence[Frame], path: Path, *, rate: int = 24000
) -> WavRecorder:
    """Run ``frames`` through ``tts`` in a pipeline and record the audio into ``path``."""
    recorder = WavRecorder(path)
    # The recorder sits after the TTS; errors travel upstream, so it also watches that way.
    worker = PipelineWorker(
        Pipeline([tts, recorder]),
        params=PipelineParams(audio_out_sample_rate=rate),
        cancel_on_idle_timeout=False,
    )

    @worker.event_handler("on_pipeline_error")
    async def on_error(worker: PipelineWorker, frame: ErrorFrame) -> None:
        recorder.errors.append(frame.error)

    await worker.queue_frames([*frames, EndFrame()])
    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)
    await runner.run()
    return recorder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("text", nargs="?", default=TEXT)
    parser.add_argument("-o", "--output", type=Path, default=Path("pipecat_supertonic.wav"))
    parser.add_argument("--rate", type=int, default=24000, help="pipeline output rate, Hz")
    parser.add_argument("--voice", default="F1")
    parser.add_argument("--language", default="en")
    parser.add_argument("--speed", type=float, default=1.05)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--model-dir", type=Path, help="a bundle directory (else the cache)")
    parser.add_argument(
        "--synthetic", action="store_true", help="use a generated tiny bundle (noise, not speech)"
    )
    parser.add_argument(
        "--as-llm", action="store_true", help="stream the text as LLM tokens, not one frame"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show Pipecat's debug log")
    args = parser.parse_args(argv)
    logger.remove()
    logger.add(sys.stderr, level="DEBUG" if args.verbose else "WARNING")

    model_dir = args.model_dir
    if args.synthetic:
        model_dir = make_synthetic_bundle(synthetic_dir("tiny"), profile="tiny")
    tts = SupertonicTTSService(
        model_dir=model_dir,
        download=False,  # no network: a missing model is an error that says what to do
        settings=SupertonicTTSService.Settings(
            voice=args.voice, language=args.language, speed=args.speed, steps=args.steps
        ),
    )
    frames = llm_tokens(args.text) if args.as_llm else [TTSSpeakFrame(args.text)]
    recorder = asyncio.run(speak(tts, frames, args.output, rate=args.rate))
    for error in recorder.errors:
        print(f"error: {error}", file=sys.stderr)
    if not recorder.seconds:
        hint = "" if args.synthetic else " (no model in the cache? try --synthetic)"
        print(f"no audio was produced{hint}", file=sys.stderr)
        return 1
    note = " (synthetic bundle: noise, not speech)" if args.synthetic else ""
    print(f"wrote {args.output}: {recorder.seconds:.2f} s at {recorder.rate} Hz{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
