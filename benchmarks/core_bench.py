"""Core engine benchmark: per-stage times, real-time factor at batch 1/4/8, first-chunk time.

Runs on the ``full`` synthetic bundle (real dimensions, random weights: the compute of the
real model, not its voice), built once and cached. Run:

    uv run python benchmarks/core_bench.py [--steps 8] [--repeats 3] [--threads N]
        [--io-binding] [--buckets] [--ab-io-binding]

``--io-binding`` keeps each batch's denoising state on the device between steps (the
vector estimator's calls then bypass ``Runtime.run``, so its per-call time is not shown);
``--buckets`` rounds shapes up to the shape buckets (``supertonic_core.shapes``).
``--ab-io-binding`` instead times the host path and IO binding in turns, in one process,
on the same chunks (a shared box's load then falls on both alike).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
from collections import defaultdict

from supertonic_core import Engine, RuntimeOptions
from supertonic_core.bundle import synthetic_dir, verify_bundle
from supertonic_core.chunk_request import ChunkRequest
from supertonic_core.runtime import Runtime
from supertonic_core.synthesis import Row, Stage, denoise, prepare, vocode
from supertonic_core.synthetic import make_synthetic_bundle

TEXTS = [
    "Hello there.",
    "Sure, I can help you with that.",
    "Your appointment is confirmed for Tuesday at three in the afternoon.",
    "I found three flights that match, and the cheapest one leaves at seven.",
    "Before we continue, could you please confirm the last four digits of your card?",
    "The weather tomorrow looks mostly sunny, with a light breeze coming in from the west.",
    "Thanks for waiting. I have checked with the team, and the replacement part will ship today.",
    "If you would like, I can also send a summary of this conversation to your email address.",
]
LONG_TEXT = " ".join(TEXTS[2:6])


class TimedRuntime:
    """Wraps a Runtime and accumulates wall time per graph (of the calls through ``run``)."""

    def __init__(self, runtime) -> None:
        self.runtime = runtime
        self.times: dict[str, list[float]] = defaultdict(list)

    def __getattr__(self, name: str) -> object:
        return getattr(self.runtime, name)

    def run(self, graph: str, feeds: dict) -> object:
        started = time.perf_counter()
        out = self.runtime.run(graph, feeds)
        self.times[graph].append(time.perf_counter() - started)
        return out


def make_jobs(engine: Engine, texts: list[str], steps: int) -> list[Row]:
    opts = engine.options(steps=steps)
    style = engine.style(opts.voice)
    return [
        Row(ChunkRequest(engine.front_end.encode(t, opts.lang), style, opts.speed, steps, seed=i))
        for i, t in enumerate(texts)
    ]


def run_batch(engine: Engine, rt, jobs: list[Row]) -> float:
    """Synthesize ``jobs`` as one batch (vocoder rows grouped by length); return audio seconds."""
    rate, frame = engine.sample_rate, engine.bundle.samples_per_frame
    prepare(rt, jobs, sample_rate=rate, frame=frame)
    while jobs[0].stage is Stage.DENOISE:
        denoise(rt, jobs)
    by_len: dict[int, list[Row]] = defaultdict(list)
    for job in jobs:
        by_len[job.frames].append(job)
    audio = 0.0
    for group in by_len.values():
        audio += sum(len(w) for w in vocode(rt, group)) / rate
    return audio


async def first_chunk_time(engine: Engine, text: str, steps: int) -> tuple[float, float]:
    started = time.perf_counter()
    first = None
    async for chunk in engine.stream(text, engine.options(steps=steps, seed=0)):
        if first is None:
            first = time.perf_counter() - started
            first_len = len(chunk.text)
    return first or 0.0, first_len


def io_binding_ab(engine: Engine, steps: int, repeats: int) -> None:
    """RTF of the host path and of IO binding, taken in turns, at batch 1 and 4."""
    runtimes = {
        flag: Runtime(engine.bundle, RuntimeOptions(device="cpu", io_binding=flag))
        for flag in (False, True)
    }
    rtfs: dict[tuple[bool, int], list[float]] = defaultdict(list)
    for _ in range(repeats):
        for batch in (1, 4):
            for flag, rt in runtimes.items():
                wall = audio = 0.0
                for i in range(0, len(TEXTS), batch):
                    jobs = make_jobs(engine, TEXTS[i : i + batch], steps)
                    started = time.perf_counter()
                    audio += run_batch(engine, rt, jobs)
                    wall += time.perf_counter() - started
                rtfs[(flag, batch)].append(wall / audio)
    print(f"\nsteps {steps}, {repeats} rounds in turns (median RTF, min-max)\n")
    print("| batch | host path | IO binding |")
    print("|---|---|---|")
    for batch in (1, 4):
        cells = [rtfs[(flag, batch)] for flag in (False, True)]
        print(
            f"| {batch} | "
            + " | ".join(f"{statistics.median(c):.3f} ({min(c):.3f}-{max(c):.3f})" for c in cells)
            + " |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--io-binding", action="store_true")
    parser.add_argument("--buckets", action="store_true")
    parser.add_argument("--ab-io-binding", action="store_true")
    args = parser.parse_args()

    t0 = time.perf_counter()
    path = make_synthetic_bundle(synthetic_dir("full"), profile="full")
    print(f"full synthetic bundle at {path} ({time.perf_counter() - t0:.1f} s)")
    engine = Engine(
        verify_bundle(path),
        runtime=RuntimeOptions(
            device="cpu",
            intra_threads=args.threads,
            io_binding=args.io_binding,
            buckets=args.buckets,
        ),
        max_batch=1,
    )
    engine.synthesize("Warm up.", engine.options(steps=2, seed=0))
    if args.ab_io_binding:
        io_binding_ab(engine, args.steps, args.repeats)
        engine.close()
        return
    rt = TimedRuntime(engine.runtime)

    # Per-stage times, batch 1, every text once per repeat.
    for _ in range(args.repeats):
        for job in make_jobs(engine, TEXTS, args.steps):
            run_batch(engine, rt, [job])
    stage = {g: statistics.median(v) * 1000 for g, v in rt.times.items()}

    rows = []
    for batch in (1, 4, 8):
        rtfs = []
        for _ in range(args.repeats):
            if batch == 1:
                wall = audio = 0.0
                for job in make_jobs(engine, TEXTS, args.steps):
                    started = time.perf_counter()
                    audio += run_batch(engine, rt, [job])
                    wall += time.perf_counter() - started
            else:
                wall = audio = 0.0
                for i in range(0, len(TEXTS), batch):
                    jobs = make_jobs(engine, TEXTS[i : i + batch], args.steps)
                    started = time.perf_counter()
                    audio += run_batch(engine, rt, jobs)
                    wall += time.perf_counter() - started
            rtfs.append(wall / audio)
        rows.append((batch, statistics.median(rtfs), audio))

    firsts = [
        asyncio.run(first_chunk_time(engine, LONG_TEXT, args.steps)) for _ in range(args.repeats)
    ]
    engine.close()

    print()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}")
    print(
        f"steps: {args.steps}, repeats: {args.repeats} (medians); "
        f"io_binding={args.io_binding}, buckets={args.buckets}"
    )
    print()
    print("| stage (batch 1, median per call) | ms |")
    print("|---|---|")
    names = {
        "duration_predictor": "duration predictor",
        "text_encoder": "text encoder",
        "vector_estimator": "one denoising step (vector estimator)",
        "vocoder": "vocoder",
    }
    for graph, label in names.items():
        print(f"| {label} | {stage[graph]:.1f} |" if graph in stage else f"| {label} | (bound) |")
    print()
    print("| batch | RTF (wall / audio) | audio-s per wall-s |")
    print("|---|---|---|")
    for batch, rtf, _ in rows:
        print(f"| {batch} | {rtf:.3f} | {1 / rtf:.2f} |")
    first, first_len = statistics.median(f[0] for f in firsts), firsts[0][1]
    print()
    print(
        f"first-chunk time (stream of {len(LONG_TEXT)} chars, first chunk {first_len} chars): {first * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
