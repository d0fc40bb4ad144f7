"""The scheduler's own cost per decision, with the ONNX calls simulated.

Each graph is replaced by a stand-in that returns arrays of the right shapes and sleeps for
a simulated device time (a denoising step ``--call-ms`` a call plus ``--row-ms`` a row;
prepare and vocode half a call plus the rows), so only the scheduler's Python runs on the
CPU. N callers arrive over ``--ramp`` seconds; each opens a stream, submits a short first
chunk and a longer one, then each next chunk when its listener (playing in real time) has
less than ``--lead`` seconds buffered; the driver delivers finished chunks in order; after
``--chunks`` chunks have played the caller closes and calls again a moment later, so first
chunks keep arriving among playing streams. The defaults keep 256 streams within what the
simulated device sustains (a GPU-like device: a call costs much more than a row). Reported per level: the jobs queued, the decisions taken, the time of one decision
(``Scheduler._pick``, under the lock: which job runs next and which rows join it) and the
worker's time between two simulated calls (decision, padding the batch, settling futures;
waits for an empty queue left out).

    uv run python benchmarks/scheduler_overhead.py [--levels 16,64,256] [--seconds 8]
"""

from __future__ import annotations

import argparse
import heapq
import os
import platform
import queue
import statistics
import threading
import time
from dataclasses import dataclass

import numpy as np
from common import pct
from supertonic_core.chunk_request import CancelToken, ChunkRequest, Place
from supertonic_core.scheduler import Scheduler
from supertonic_core.voices import VoiceStyle

SAMPLE_RATE, FRAME, CHANNELS = 44100, 3072, 144
SECONDS_PER_ID = 0.07  # the stand-in duration predictor's speech per token id


class SimulatedRuntime:
    """The four graphs as stand-ins: right shapes, simulated time, no arithmetic."""

    latent_channels = CHANNELS

    def __init__(self, call_s: float, row_s: float) -> None:
        self.call_s, self.row_s = call_s, row_s
        self.sessions: dict[str, object] = {}
        self.gaps: list[float] = []  # worker seconds between two scheduler calls
        self._left: float | None = None

    def run(self, graph: str, feeds: dict[str, np.ndarray]) -> np.ndarray:
        entered = time.perf_counter()
        if graph != "text_encoder" and self._left is not None:  # the encoder follows dp
            self.gaps.append(entered - self._left)
        if graph == "duration_predictor":  # with the text encoder: half a call
            out = feeds["text_mask"].sum(axis=(1, 2)) * np.float32(SECONDS_PER_ID)
            time.sleep(self.call_s / 2 + self.row_s * out.shape[0])
        elif graph == "text_encoder":
            ids = feeds["text_ids"]
            out = np.zeros((ids.shape[0], 256, ids.shape[1]), dtype=np.float32)
        elif graph == "vector_estimator":
            out = feeds["noisy_latent"]
            time.sleep(self.call_s + self.row_s * out.shape[0])
        else:
            latent = feeds["latent"]
            out = np.zeros((latent.shape[0], latent.shape[2] * FRAME), dtype=np.float32)
            time.sleep(self.call_s / 2 + self.row_s * out.shape[0])
        self._left = time.perf_counter()
        return out


@dataclass
class Slot:
    """One simulated caller: its stream's place, chunks submitted and delivered, and when
    its listener runs out of audio."""

    key: int
    place: Place
    token: CancelToken
    opened: float
    submitted: int = 0
    delivered: int = 0
    play_end: float = 0.0


class Callers:
    """The driver thread: callers that open a stream, submit its chunks while the
    listener has less than ``--lead`` seconds buffered, deliver each finished chunk in
    order, close when the last one has played, and call again after a pause."""

    def __init__(self, sched: Scheduler, streams: int, args: argparse.Namespace) -> None:
        self.sched, self.args = sched, args
        self.rng = np.random.default_rng(0)
        self.style = VoiceStyle(
            "sim",
            self.rng.standard_normal((50, 256), dtype=np.float32),
            self.rng.standard_normal((8, 16), dtype=np.float32),
        )
        self.finished: queue.SimpleQueue[tuple[Slot, int, int]] = queue.SimpleQueue()
        self.timers: list[tuple[float, int, str, int]] = []
        self.slots: dict[int, Slot] = {}
        self.first_audio: list[float] = []
        self.stop = threading.Event()
        self._seq = 0
        start = time.monotonic()
        for key in range(streams):  # callers arrive over the ramp
            self.at(start + float(self.rng.uniform(0, args.ramp)), "open", key)
        self.thread = threading.Thread(target=self.run, daemon=True)

    def at(self, when: float, action: str, key: int) -> None:
        self._seq += 1
        heapq.heappush(self.timers, (when, self._seq, action, key))

    def submit(self, slot: Slot) -> None:
        index = slot.submitted
        size = 12 if index == 0 else int(self.rng.integers(40, 90))
        ids = self.rng.integers(1, 200, size=size, dtype=np.int64)
        request = ChunkRequest(
            ids, self.style, 1.0, self.args.steps, index, slot.place.id, index, slot.token
        )
        slot.submitted += 1
        self.sched.submit(request).add_done_callback(
            lambda f: f.exception() or self.finished.put((slot, index, len(f.result())))
        )

    def run(self) -> None:
        done: dict[tuple[int, int], int] = {}
        while not self.stop.is_set():
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                _, _, action, key = heapq.heappop(self.timers)
                if action == "open":
                    place = self.sched.open_stream()
                    slot = self.slots[key] = Slot(key, place, CancelToken(), now)
                    self.submit(slot)
                    self.submit(slot)
                elif action == "submit" and self.slots[key].submitted < self.args.chunks:
                    self.submit(self.slots[key])
                elif action == "close":
                    self.sched.close_stream(self.slots[key].place)
                    self.at(now + float(self.rng.uniform(0.5, 2.0)), "open", key)
            wait = min(0.05, self.timers[0][0] - now) if self.timers else 0.05
            try:
                slot, index, samples = self.finished.get(timeout=max(0.0, wait))
            except queue.Empty:
                continue
            key = slot.key
            done[(slot.place.id, index)] = samples
            now = time.monotonic()
            while (slot.place.id, slot.delivered) in done:
                seconds = done.pop((slot.place.id, slot.delivered)) / SAMPLE_RATE
                if slot.delivered == 0:
                    self.first_audio.append(now - slot.opened)
                self.sched.delivered(slot.place, seconds)
                slot.play_end = max(now, slot.play_end) + seconds
                slot.delivered += 1
            if slot.delivered >= self.args.chunks:
                self.at(slot.play_end, "close", key)
            elif slot.submitted < self.args.chunks:
                self.at(slot.play_end - self.args.lead, "submit", key)


def run_level(streams: int, args: argparse.Namespace) -> dict[str, float]:
    runtime = SimulatedRuntime(args.call_ms / 1000, args.row_ms / 1000)
    sched = Scheduler(
        runtime,  # type: ignore[arg-type]
        sample_rate=SAMPLE_RATE,
        frame=FRAME,
        max_batch=args.max_batch,
        max_streams=streams,
        max_queue=streams,
    )
    picks: list[float] = []  # wall seconds of a decision
    cpu: list[float] = []  # the worker thread's CPU seconds (others' load left out)
    queued: list[int] = []
    measuring = threading.Event()
    jobs = getattr(sched, "_queue", None)
    jobs = getattr(sched, "_jobs", None) if jobs is None else jobs  # before issue 25
    pick = sched._pick

    def timed_pick():  # type: ignore[no-untyped-def]
        started, started_cpu = time.perf_counter(), time.thread_time()
        picked = pick()
        if picked is not None and measuring.is_set():
            picks.append(time.perf_counter() - started)
            cpu.append(time.thread_time() - started_cpu)
            queued.append(len(jobs))  # type: ignore[arg-type]
        return picked

    sched._pick = timed_pick  # type: ignore[method-assign]
    callers = Callers(sched, streams, args)
    callers.thread.start()
    time.sleep(args.ramp)
    runtime.gaps.clear()
    measuring.set()
    calls_before = sched.calls
    time.sleep(args.seconds)
    measuring.clear()
    callers.stop.set()
    callers.thread.join(10)
    state = sched.state()
    gaps = [g for g in runtime.gaps if g < 0.05]  # longer: the worker waited for work
    sched.close()
    return {
        "streams": streams,
        "queued": statistics.mean(queued) if queued else 0.0,
        "decisions": len(picks),
        "cpu_p50_us": pct(cpu, 0.5) * 1e6,
        "cpu_p95_us": pct(cpu, 0.95) * 1e6,
        "pick_p50_us": pct(picks, 0.5) * 1e6,
        "pick_p95_us": pct(picks, 0.95) * 1e6,
        "pick_max_us": max(picks) * 1e6,
        "gap_p50_us": pct(gaps, 0.5) * 1e6,
        "gap_p95_us": pct(gaps, 0.95) * 1e6,
        "rows_per_call": sum(k * v for k, v in state["batch_sizes"].items())  # type: ignore[union-attr]
        / max(1, state["calls"]),  # type: ignore[arg-type]
        "calls": state["calls"] - calls_before,  # type: ignore[operator]
        "first_p95": pct(callers.first_audio, 0.95),
        "underruns": state["underruns_total"],  # type: ignore[dict-item]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="16,64,256")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured, after the ramp")
    parser.add_argument("--ramp", type=float, default=4.0, help="seconds over which callers arrive")
    parser.add_argument("--lead", type=float, default=6.0, help="audio buffered ahead, seconds")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--chunks", type=int, default=6, help="chunks of a stream before it ends")
    parser.add_argument("--max-batch", type=int, default=16)
    parser.add_argument("--call-ms", type=float, default=2.0, help="simulated ms of a call")
    parser.add_argument("--row-ms", type=float, default=0.1, help="simulated ms of a row")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python "
        f"{platform.python_version()}; {args.seconds:g} s a level, steps {args.steps}, "
        f"max batch {args.max_batch}, simulated call {args.call_ms} ms + {args.row_ms} ms a row"
    )
    rows = [run_level(int(n), args) for n in args.levels.split(",")]
    print(
        "\n| streams | jobs queued (mean) | decisions | decision CPU µs p50 / p95 "
        "| decision wall µs p50 / p95 / max | worker wall µs between calls p50 / p95 "
        "| rows a call | first audio p95 s | underruns |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['streams']} | {r['queued']:.0f} | {r['decisions']} | "
            f"{r['cpu_p50_us']:.0f} / {r['cpu_p95_us']:.0f} | {r['pick_p50_us']:.0f} / {r['pick_p95_us']:.0f} / {r['pick_max_us']:.0f} | "
            f"{r['gap_p50_us']:.0f} / {r['gap_p95_us']:.0f} | {r['rows_per_call']:.1f} | "
            f"{r['first_p95']:.2f} | {r['underruns']} |"
        )


if __name__ == "__main__":
    main()
