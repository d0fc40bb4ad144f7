"""One command for a GPU machine: how many agent streams the engine serves, on the GPU and
on the machine's CPU cores.

Prepared on a CPU box so that a GPU machine, when one is lent, is spent running it. It
builds (or finds) the ``full`` synthetic bundle: the real model's dimensions and compute
with random weights, so the audio is noise and the timings are the real model's. It
prints the providers ONNX Runtime offers, then for each configuration (the GPU with
the device path: IO binding and shape buckets, every bucket visited at warm-up; then the
CPU provider on all cores) runs 1, 16, 64, 128 and 256 concurrent streams, each a closed
loop of agent replies (a short opener, then long sentences) played in real time from
their first chunk: time to first audio p50/p95, underruns, audio-seconds per
wall-second, and the GPU memory used (``nvidia-smi``, sampled). Then the most streams
with no underrun and the real-time factor of one stream.

Bounded: every level starts replies for ``--seconds`` and gives those in flight as long
again to finish (the rest are cut off and counted); the whole run stops starting levels
after ``--budget`` seconds (under 8 minutes in all by default), and a level that no longer
fits is skipped and says so.

    uv run python benchmarks/gpu.py [--cuda-graph] [--levels 1,16,64,128,256] [--seconds 15]
    uv run python benchmarks/gpu.py --simulate   # the whole script on a CPU, in a minute

``--simulate`` runs every step on this machine with the ``tiny`` bundle, small levels and
short levels, the device path forced on over the CPU provider: a test of the script, not
a measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import onnxruntime as ort
from common import OPENER_REPLIES, Run, machine_and_bundle, pct, speak
from supertonic_core import Engine, RuntimeOptions
from supertonic_core.bundle import verify_bundle

GOAL_STREAMS, GOAL_P95_S = 128, 0.25  # the goal on an H100


@dataclass
class Level:
    streams: int
    runs: list[Run] = field(default_factory=list)
    cut_off: int = 0  # replies not done when the level's time ran out
    wall_s: float = 0.0
    skipped: str = ""

    @property
    def clean(self) -> bool:
        """Every reply done, none with an underrun."""
        return bool(self.runs) and not self.cut_off and not any(r.underruns for r in self.runs)


@dataclass
class Sweep:
    name: str
    providers: list[str]
    levels: list[Level]
    rtf: float | None
    gpu_mem_mb: int | None


@contextlib.contextmanager
def gpu_memory(device_id: int) -> Iterator[list[int]]:
    """Samples ``nvidia-smi``'s memory used on the GPU every half second; yields the list
    the samples go to (empty without ``nvidia-smi``)."""
    samples: list[int] = []
    stop = threading.Event()
    smi = shutil.which("nvidia-smi")
    query = [smi or "", "--query-gpu=memory.used", "--format=csv,noheader,nounits"]

    def sample() -> None:
        while not stop.wait(0.5):
            out = subprocess.run([*query, "-i", str(device_id)], capture_output=True, text=True)
            if out.returncode == 0 and out.stdout.strip().isdigit():
                samples.append(int(out.stdout.strip()))

    thread = threading.Thread(target=sample, daemon=True)
    if smi:
        thread.start()
    try:
        yield samples
    finally:
        stop.set()
        if smi:
            thread.join()


async def level(engine: Engine, n: int, seconds: float, steps: int) -> Level:
    """``n`` streams, each starting replies back to back for ``seconds``; the replies in
    flight then get as long again to finish."""
    result = Level(n)
    started = time.perf_counter()

    async def talk(seed: int) -> None:
        rng = random.Random(seed)
        while time.perf_counter() - started < seconds:
            result.runs.append(await speak(engine, rng.choice(OPENER_REPLIES), steps=steps))

    tasks = [asyncio.create_task(talk(i)) for i in range(n)]
    done, pending = await asyncio.wait(tasks, timeout=2 * seconds)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        task.result()  # a failure is a finding: raise it
    result.cut_off = len(pending)
    result.wall_s = time.perf_counter() - started
    return result


def sweep(
    name: str, bundle_path: str, options: RuntimeOptions, args: argparse.Namespace, end: float
) -> Sweep:
    """One configuration: load, warm up (every bucket when buckets are on), the real-time
    factor of one reply, then the levels while the budget lasts."""
    levels = [int(x) for x in args.levels.split(",")]
    print(f"\n{name}: loading and warming up ...", flush=True)
    with (
        Engine(verify_bundle(bundle_path), runtime=options, max_queue=max(levels)) as engine,
        gpu_memory(options.device_id) as memory,
    ):
        started = time.perf_counter()
        engine.warmup()
        rt = engine.runtime
        print(
            f"  providers {rt.providers}; io_binding={rt.io_binding}, "
            f"buckets={bool(rt.buckets.batch)}, cuda_graph={options.cuda_graph}; "
            f"max_batch {engine.scheduler.max_batch}, max_streams {engine.scheduler.max_streams}; "
            f"warm-up {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        one = asyncio.run(speak(engine, OPENER_REPLIES[0], steps=args.steps))
        results = []
        for i, n in enumerate(levels):
            left = end - time.perf_counter()
            seconds = min(args.seconds, (left / (len(levels) - i) - 5) / 2)
            if seconds < args.seconds / 3:
                results.append(Level(n, skipped=f"skipped: {left:.0f} s of budget left"))
                continue
            results.append(asyncio.run(level(engine, n, seconds, args.steps)))
            print(f"  {n} streams: {row(results[-1])}", flush=True)
        return Sweep(
            name, rt.providers, results, one.wall_s / one.audio_s, max(memory, default=None)
        )


def row(lv: Level) -> str:
    if lv.skipped:
        return lv.skipped
    if not lv.runs:
        return f"no reply done in {lv.wall_s:.0f} s ({lv.cut_off} cut off)"
    firsts = [r.first_s for r in lv.runs]
    audio = sum(r.audio_s for r in lv.runs)
    return (
        f"{len(lv.runs)} replies, {lv.cut_off} cut off; first audio p50 {pct(firsts, 0.5):.3f} s, "
        f"p95 {pct(firsts, 0.95):.3f} s; underruns {sum(r.underruns for r in lv.runs)}; "
        f"{audio / lv.wall_s:.1f} audio-s per wall-s"
    )


def report(sweeps: list[Sweep]) -> None:
    print(
        "\n| config | streams | replies done / cut off | TTFB (first audio) p50 (s) | p95 (s) |",
        end="",
    )
    print(" underruns | audio-s per wall-s |")
    print("|---|---|---|---|---|---|---|")
    for s in sweeps:
        for lv in s.levels:
            if lv.skipped or not lv.runs:
                print(f"| {s.name} | {lv.streams} | {row(lv)} | | | | |")
                continue
            firsts = [r.first_s for r in lv.runs]
            print(
                f"| {s.name} | {lv.streams} | {len(lv.runs)} / {lv.cut_off} | "
                f"{pct(firsts, 0.5):.3f} | {pct(firsts, 0.95):.3f} | "
                f"{sum(r.underruns for r in lv.runs)} | "
                f"{sum(r.audio_s for r in lv.runs) / lv.wall_s:.1f} |"
            )
    print("\n| config | providers | most streams, no underrun | of those, p95 ≤ 250 ms |", end="")
    print(" RTF of one reply | GPU memory used (MB) |")
    print("|---|---|---|---|---|---|")
    for s in sweeps:
        clean = [lv for lv in s.levels if lv.clean]
        fast = [lv for lv in clean if pct([r.first_s for r in lv.runs], 0.95) <= GOAL_P95_S]
        most = max((lv.streams for lv in clean), default=0)
        most_fast = max((lv.streams for lv in fast), default=0)
        memory = "n/a (no nvidia-smi)" if s.gpu_mem_mb is None else str(s.gpu_mem_mb)
        print(f"| {s.name} | {s.providers[0]} | {most} | {most_fast} | {s.rtf:.3f} | {memory} |")
    print(f"\ngoal on an H100: >= {GOAL_STREAMS} streams, no underrun, first audio p95 <= 250 ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--simulate", action="store_true", help="the whole script on a CPU")
    parser.add_argument("--levels", help="concurrent streams per level (1,16,64,128,256)")
    parser.add_argument("--seconds", type=float, help="seconds a level starts replies (15)")
    parser.add_argument("--budget", type=float, help="whole run, seconds (440)")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--device-id", type=int, default=0)
    parser.add_argument("--cuda-graph", action="store_true", help="CUDA graphs on the GPU")
    parser.add_argument("--no-cpu", action="store_true", help="skip the CPU-workers sweep")
    args = parser.parse_args()
    defaults = ("1,2,4", 3.0, 120.0) if args.simulate else ("1,16,64,128,256", 15.0, 440.0)
    for name, value in zip(("levels", "seconds", "budget"), defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, value)
    end = time.perf_counter() + args.budget
    profile = "tiny" if args.simulate else "full"
    print(
        f"SYNTHETIC bundle ({profile}): random weights, the real model's dimensions"
        + (
            " scaled down: --simulate tests the script, it measures nothing"
            if args.simulate
            else ""
        )
    )
    available = ort.get_available_providers()
    print(f"onnxruntime {ort.__version__}, providers: {', '.join(available)}")
    bundle = str(machine_and_bundle(profile))
    cores = os.cpu_count() or 1
    configs: list[tuple[str, RuntimeOptions]] = []
    if args.simulate:
        configs.append(
            (
                "device path on the CPU (simulated)",
                RuntimeOptions(device="cpu", io_binding=True, buckets=True),
            )
        )
    elif "CUDAExecutionProvider" in available:
        gpu = RuntimeOptions(device="cuda", device_id=args.device_id, cuda_graph=args.cuda_graph)
        configs.append(("GPU" + (" + CUDA graphs" if args.cuda_graph else ""), gpu))
    else:
        print("no CUDA provider in this onnxruntime: the GPU sweep is skipped")
    if not args.no_cpu:
        configs.append((f"CPU, {cores} cores", RuntimeOptions(device="cpu")))
    sweeps = []
    for i, (name, options) in enumerate(configs):
        share = (end - time.perf_counter()) / (len(configs) - i)
        sweeps.append(sweep(name, bundle, options, args, time.perf_counter() + share))
    report(sweeps)


if __name__ == "__main__":
    main()
