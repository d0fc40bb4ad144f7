"""Pipecat plugin: time to first byte inside a Pipecat pipeline, in-process against remote.

Each backend runs in one long-lived pipeline (``SupertonicTTSService`` -> a probe), as an
agent's would: the model is loaded, or the socket opened, once at pipeline start. Two
measures per reply:

- **TTFB (Pipecat)**: Pipecat's own ``TTFBMetricsData``, from the audio context's creation
  (just before ``run_tts``) to its first audio frame;
- **first audio at sink**: wall time from queueing the frames into the pipeline to the
  first ``TTSAudioRawFrame`` reaching the processor after the TTS.

For the replies of two sentences, the **second sentence** too: wall time from queueing
the reply to the first word of sentence 2 reaching the probe (its words travel with its
audio), and its **slack**: how long before it is due in a real-time playout (first audio
+ the audio of sentence 1 received before it) it arrives; negative slack is a gap the
listener hears.

Two input shapes: ``speak`` (one ``TTSSpeakFrame`` with the whole text) and ``llm`` (the
text as an LLM token stream, two words a token, queued at once, so Pipecat's sentence
aggregator hands over the first sentence as soon as the second one begins).

The in-process backend runs the engine in this process; the remote one talks to a
``supertonic-server`` subprocess on 127.0.0.1 over the WebSocket protocol. Both use the
``full`` synthetic bundle (real dimensions, random weights: the real model's compute, not
its voice), built once and cached. Both stay up for the whole run and take turns, one
reply at a time (never at once), in ABBA order, so background load that drifts during the
run weighs on both alike.

    uv run python benchmarks/pipecat_ttfb.py [--profile full] [--steps 8] [--repeats 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from common import REPLIES as TEXTS
from common import (
    ServerProcess,
    free_port,
    latency_args,
    machine_and_bundle,
    pct,
    two_word_pieces,
)
from loguru import logger
from pipecat.frames.frames import (
    EndFrame,
    Frame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    MetricsFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    TTSStoppedFrame,
    TTSTextFrame,
)
from pipecat.metrics.metrics import TTFBMetricsData
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.services.tts_service import TTSService
from pipecat.workers.runner import WorkerRunner
from pipecat_supertonic import SupertonicServerTTSService, SupertonicTTSService
from supertonic_core import Engine

SHAPES = ("speak", "llm")
RATE = 24000  # Pipecat's default output rate


def frames_for(shape: str, text: str) -> list[Frame]:
    if shape == "speak":
        return [TTSSpeakFrame(text)]
    tokens = two_word_pieces(text)
    return [LLMFullResponseStartFrame(), *map(LLMTextFrame, tokens), LLMFullResponseEndFrame()]


# ----------------------------------------------------------------------------- measuring


class Probe(FrameProcessor):
    """After the TTS: notes the first audio of each reply, Pipecat's TTFB, and the reply end."""

    def __init__(self) -> None:
        super().__init__()
        self.first_audio: float | None = None
        self.ttfb: list[float] = []
        self.words: list[tuple[float, int]] = []  # (arrival, audio bytes received before)
        self.audio_bytes = 0
        self.done = asyncio.Event()
        self.end_type: type = TTSStoppedFrame

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, TTSAudioRawFrame):
            if self.first_audio is None:
                self.first_audio = time.perf_counter()
            self.audio_bytes += len(frame.audio)
        elif isinstance(frame, TTSTextFrame):
            self.words.append((time.perf_counter(), self.audio_bytes))
        elif isinstance(frame, MetricsFrame):
            self.ttfb += [d.value for d in frame.data if isinstance(d, TTFBMetricsData)]
        elif isinstance(frame, self.end_type):
            self.done.set()
        await self.push_frame(frame, direction)


class Backend:
    """One service in its own long-lived pipeline, speaking one reply at a time."""

    def __init__(self, tts: TTSService) -> None:
        self.probe = Probe()
        self.worker = PipelineWorker(
            Pipeline([tts, self.probe]),
            params=PipelineParams(audio_out_sample_rate=RATE, enable_metrics=True),
            cancel_on_idle_timeout=False,
        )
        self.runner = WorkerRunner(handle_sigint=False)
        self.results: dict[str, dict[str, list[float]]] = {
            shape: {"ttfb": [], "sink": [], "s2": [], "slack": []} for shape in SHAPES
        }
        self._running: asyncio.Task[None] | None = None

    async def start(self) -> None:
        started = asyncio.Event()

        @self.worker.event_handler("on_pipeline_started")
        async def on_started(worker: PipelineWorker, frame: Frame) -> None:
            started.set()

        await self.runner.add_workers(self.worker)
        self._running = asyncio.create_task(self.runner.run())
        await asyncio.wait_for(started.wait(), 600)  # model load and warm-up / socket open
        await self.reply("speak", "Warming up the path once.")  # not counted

    async def reply(self, shape: str, text: str) -> tuple[float, float, float, float]:
        """Milliseconds: Pipecat's TTFB, queueing to first audio at the sink, and for a
        reply of two sentences queueing to the second's first word and its slack (else nan)."""
        probe = self.probe
        probe.first_audio, probe.ttfb, probe.words, probe.audio_bytes = None, [], [], 0
        probe.end_type = TTSStoppedFrame if shape == "speak" else LLMFullResponseEndFrame
        probe.done.clear()
        queued = time.perf_counter()
        await self.worker.queue_frames(frames_for(shape, text))
        await asyncio.wait_for(probe.done.wait(), 600)
        assert probe.first_audio is not None and probe.ttfb, "no audio or no TTFB metric"
        s2 = slack = float("nan")
        sentences = re.split(r"(?<=[.?!])\s+", text)
        first_words = len(sentences[0].split())
        if len(sentences) == 2 and len(probe.words) > first_words:
            arrival, before = probe.words[first_words]
            s2 = (arrival - queued) * 1000
            slack = (probe.first_audio + before / 2 / RATE - arrival) * 1000
        return probe.ttfb[0] * 1000, (probe.first_audio - queued) * 1000, s2, slack

    async def record(self, shape: str, text: str) -> None:
        for key, value in zip(
            ("ttfb", "sink", "s2", "slack"), await self.reply(shape, text), strict=True
        ):
            if value == value:  # not nan
                self.results[shape][key].append(value)

    async def stop(self) -> None:
        await self.worker.queue_frame(EndFrame())
        if self._running is not None:
            await self._running


async def measure(bundle: Path, url: str, steps: int, repeats: int) -> tuple[Backend, Backend]:
    """Both backends up at once, measured in turn (ABBA order), one reply at a time.

    Alternating keeps the comparison fair on a machine whose background load drifts; the
    idle backend only holds memory meanwhile.
    """
    # Loaded (and warmed up) before the pipeline starts: on a busy machine that takes longer
    # than Pipecat waits for its StartFrame. Not measured either way.
    engine = await asyncio.to_thread(Engine.load, model_dir=bundle)
    await asyncio.to_thread(engine.warmup)
    local = Backend(
        SupertonicTTSService(engine=engine, settings=SupertonicTTSService.Settings(steps=steps))
    )
    remote = Backend(
        SupertonicServerTTSService(
            url=url, settings=SupertonicServerTTSService.Settings(steps=steps)
        )
    )
    await local.start()
    await remote.start()
    try:
        turn = 0
        for _ in range(repeats):
            for text in TEXTS:
                for shape in SHAPES:
                    order = (local, remote) if turn % 2 == 0 else (remote, local)
                    for backend in order:
                        await backend.record(shape, text)
                    turn += 1
    finally:
        await local.stop()
        await remote.stop()
        engine.close()
    return local, remote


@contextmanager
def server(bundle: Path) -> Iterator[str]:
    """A ``supertonic-server`` subprocess on 127.0.0.1; yields its URL once ready."""
    proc = ServerProcess(free_port(), "--no-ui", bundle=bundle)
    try:
        proc.wait_ready()
        yield proc.url
    finally:
        proc.stop()


# ----------------------------------------------------------------------------- report


Results = dict[str, dict[str, list[float]]]


def _rows(
    local: Results, remote: Results, cells: Callable[[dict[str, list[float]]], str | None]
) -> list[str]:
    """One table row per backend and input shape; ``cells`` writes the figures (None: no row)."""
    rows = []
    for name, results in (("in-process", local), ("remote (WebSocket)", remote)):
        for shape in SHAPES:
            label = "TTSSpeakFrame" if shape == "speak" else "LLM tokens"
            if (figures := cells(results[shape])) is not None:
                rows.append(f"| {name} | {label} | {figures} |")
    return rows


def report(
    local: dict[str, dict[str, list[float]]],
    remote: dict[str, dict[str, list[float]]],
    args: argparse.Namespace,
    background: float,
) -> str:
    n = len(local["speak"]["ttfb"])
    lines = [
        f"{n} replies per row ({len(TEXTS)} texts x {args.repeats}), {args.profile} synthetic "
        f"bundle, steps={args.steps}, voice F1, pipeline at {RATE} Hz; backends measured in "
        f"turn (ABBA); other processes kept {background:.2f} cores busy on average meanwhile",
        "",
        "| backend | input | TTFB (Pipecat) p50 | p90 | first audio at sink p50 | p90 | max |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += _rows(
        local,
        remote,
        lambda r: (
            f"{pct(r['ttfb'], 0.5):.0f} ms | {pct(r['ttfb'], 0.9):.0f} ms "
            f"| {pct(r['sink'], 0.5):.0f} ms | {pct(r['sink'], 0.9):.0f} ms "
            f"| {max(r['sink']):.0f} ms"
        ),
    )
    lines += [
        "",
        "Second sentence (replies of two sentences): first word at the sink, from queueing;",
        "slack = due time in a real-time playout minus arrival (negative: an audible gap)",
        "",
        "| backend | input | sentence 2 at sink p50 | max | slack p50 | min |",
        "|---|---|---|---|---|---|",
    ]
    lines += _rows(
        local,
        remote,
        lambda r: (
            (
                f"{pct(r['s2'], 0.5):.0f} ms | {max(r['s2']):.0f} ms "
                f"| {pct(r['slack'], 0.5):+.0f} ms | {min(r['slack']):+.0f} ms"
            )
            if r["s2"]
            else None
        ),
    )
    lines.append("")
    for shape in SHAPES:
        extra = [r - x for r, x in zip(remote[shape]["sink"], local[shape]["sink"], strict=True)]
        lines.append(
            f"remote minus in-process, {shape}: first audio at sink p50 {pct(extra, 0.5):+.0f} "
            f"ms, p90 {pct(extra, 0.9):+.0f} ms (same text, paired)"
        )
    return "\n".join(lines)


def main() -> None:
    args = latency_args(__doc__, repeats=2)
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    bundle = machine_and_bundle(args.profile)
    before = cpu_snapshot()
    print("starting the server subprocess and the in-process engine ...", flush=True)
    with server(bundle) as url:
        local, remote = asyncio.run(measure(bundle, url, args.steps, args.repeats))
    print()
    print(report(local.results, remote.results, args, background_cores(before)))


def cpu_snapshot() -> tuple[float, float, float]:
    """(machine busy CPU-seconds, this process's and its waited children's, wall time)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n")[0].split()[1:]
        jiffies = [int(x) for x in fields]
        busy = (sum(jiffies) - jiffies[3] - jiffies[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        busy = float("nan")
    t = os.times()
    return busy, t.user + t.system + t.children_user + t.children_system, time.monotonic()


def background_cores(before: tuple[float, float, float]) -> float:
    """Cores other processes kept busy on average since ``before`` (the server is waited)."""
    after = cpu_snapshot()
    return ((after[0] - before[0]) - (after[1] - before[1])) / (after[2] - before[2])


if __name__ == "__main__":
    main()
