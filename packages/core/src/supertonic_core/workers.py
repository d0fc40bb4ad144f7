"""How many workers a machine wants, and the runtime options each one gets.

A worker runs one ONNX call at a time on a runtime of its own (its own sessions and
operator threads); the scheduler feeds every worker from one queue. A GPU is fed by one
worker of its own, so a machine with several GPUs gets one worker per visible GPU. On a
CPU, one session over every core may leave cores idle (an operator of a model this size
splits into few pieces of work, and calls run one after another), while N sessions of M
threads run N calls at once; memory bandwidth may cap either, so the split is measured,
not guessed: :func:`choose_workers` doubles the workers while the rows per second all of
them make together keep rising. A worker keeps at least
``MIN_THREADS`` threads, since a lone stream's call on fewer would be slower (its first
audio), so a small CPU (up to 7 cores) keeps one worker and measures nothing.
"""

from __future__ import annotations

import dataclasses
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import synthesis
from .synthesis import Row

if TYPE_CHECKING:
    from .chunk_request import ChunkRequest
    from .runtime import Runtime, RuntimeOptions

MIN_THREADS = 4  # fewest operator threads a CPU worker keeps
GAIN = 1.15  # doubled workers must make at least this many times the rows per second
_STEPS = 3  # denoising steps each worker runs when measured


def cpu_cores() -> int:
    """Cores this process may run on (its affinity, which containers narrow)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def visible_gpus(env: Mapping[str, str] | None = None, dev: Path = Path("/dev")) -> int:
    """NVIDIA GPUs this process may use: those ``CUDA_VISIBLE_DEVICES`` names when it is
    set, else the ``/dev/nvidiaN`` devices (what a container is given)."""
    env = os.environ if env is None else env
    names = env.get("CUDA_VISIBLE_DEVICES")
    if names is not None:
        listed = [n for n in names.split(",") if n.strip()]
        return 0 if listed[:1] in (["-1"], ["NoDevFiles"]) else len(listed)
    return sum(1 for p in dev.glob("nvidia*") if re.fullmatch(r"nvidia\d+", p.name))


def cpu_splits(cores: int) -> list[int]:
    """Worker counts worth measuring on ``cores`` cores: 1, 2, 4... while each worker
    keeps ``MIN_THREADS`` threads."""
    splits = [1]
    while cores // (splits[-1] * 2) >= MIN_THREADS:
        splits.append(splits[-1] * 2)
    return splits


def choose_workers(splits: Sequence[int], rows_per_s: Callable[[int], float]) -> int:
    """The worker count to run: from the first of ``splits``, the next is taken while it
    makes ``GAIN`` times the rows per second of the one before (``rows_per_s(n)``: every
    worker of n measured at once); the search stops at the first that does not."""
    best, rate = splits[0], rows_per_s(splits[0]) if len(splits) > 1 else 0.0
    for workers in splits[1:]:
        measured = rows_per_s(workers)
        if measured < GAIN * rate:
            break
        best, rate = workers, measured
    return best


def worker_options(
    options: RuntimeOptions, workers: int, *, cores: int, gpus: int
) -> list[RuntimeOptions]:
    """Each worker's runtime options.

    On a GPU (``gpus`` visible; 0 when the graphs run on the CPU), worker i runs on GPU
    ``(device_id + i) % gpus`` (more workers than GPUs share them). On a CPU each worker
    gets ``intra_threads`` when given, else an equal share of ``cores``.
    """
    if gpus > 0:
        return [
            dataclasses.replace(options, device_id=(options.device_id + i) % gpus)
            for i in range(workers)
        ]
    threads = options.intra_threads or max(1, cores // workers)
    if workers == 1 and options.intra_threads is None:
        threads = None  # one worker: ONNX Runtime's own default, every core
    return [dataclasses.replace(options, intra_threads=threads) for _ in range(workers)]


def measure_rows_per_s(
    runtimes: Sequence[Runtime], request: ChunkRequest, *, sample_rate: int, frame: int
) -> float:
    """Denoising steps per second of ``request``, every runtime running at once (one
    thread each: one step to warm up, then ``_STEPS`` timed). Memory bandwidth and caches
    are shared, so only running them together tells. One row a call: the batch size is
    calibrated afterwards, on the workers chosen."""
    batches = [[Row(request)] for _ in runtimes]
    for runtime, batch in zip(runtimes, batches, strict=True):
        synthesis.prepare(runtime, batch, sample_rate=sample_rate, frame=frame)
        synthesis.denoise(runtime, batch)
    start = threading.Barrier(len(runtimes) + 1)

    def steps(runtime: Runtime, batch: list[Row]) -> None:
        start.wait()
        for _ in range(_STEPS):
            synthesis.denoise(runtime, batch)

    threads = [
        threading.Thread(target=steps, args=pair) for pair in zip(runtimes, batches, strict=True)
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return len(runtimes) * _STEPS / (time.perf_counter() - began)
