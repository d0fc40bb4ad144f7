"""One scheduler per loaded model: it owns every ONNX call and decides what runs next.

Streams submit chunk jobs; a single worker thread advances them one stage at a time (a
denoising step is one call), so a newly arrived first chunk waits at most one step, a
cancelled row leaves at the next step, and rows of several streams can share a call.

Priorities serve voice agents, and a gap in a voice that is already speaking is the worst
outcome: later chunks run earliest deadline first (the deadline is when the listener,
playing in real time from the first byte, runs out of audio), and a stream's first chunk
goes ahead of them whenever the playing streams have enough audio buffered to pay for it.
Admission control keeps the number of playing streams within the measured capacity;
later streams wait their turn (nothing of theirs runs, so their audio never starts only to
stop), or are refused beyond the queue bound, instead of every playing stream falling
behind. Batches are formed only where measurement says they pay (on a small CPU a batch of
four costs about four singles), and rows of very different lengths are not padded together.

``policy="fifo"`` serves chunks in arrival order, one at a time: the peers' model, kept
for comparison in benchmarks.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from collections import Counter, deque
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import synthesis
from .errors import CapacityError, EngineClosedError, InvalidOptionError, SynthesisCancelledError
from .runtime import Runtime
from .synthesis import ChunkJob, Stage

logger = logging.getLogger("supertonic_core")

POLICIES = ("deadline", "fifo")
_EMA = 0.2
_FIRST_WAIT_BOUND_S = 5.0  # longest a first chunk waits for playing streams' slack
_MARGIN_S = 0.2  # slack kept for misestimated costs before a listener would run dry
_BATCH_CALL_BOUND = 1.5  # a batched call may cost at most this many single calls
_TYPICAL_SPEECH_S = 4.0  # chunk length at which capacity is quoted
_BUDGET_SAFETY = 0.75  # share of a stream's time left that its next chunk may plan to use
_STAGES = (Stage.PREPARE, Stage.DENOISE, Stage.VOCODE)


def _settle(future: Future[Any], result: Any = None, *, exc: BaseException | None = None) -> None:
    """Resolve ``future`` unless its waiter already cancelled it.

    An asyncio task awaiting ``asyncio.wrap_future(f)`` that is cancelled (a client that
    disconnected) cancels ``f`` too; setting a cancelled future raises InvalidStateError,
    which must not kill the worker thread.
    """
    try:
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)
    except InvalidStateError:
        pass


@dataclass(eq=False)
class StreamState:
    """One request's place in the scheduler and its listener's playback clock."""

    id: int
    admitted: Future[None] = field(default_factory=Future)
    first_audio_at: float | None = None
    play_end: float = 0.0  # when the listener runs out of the audio delivered so far
    audio_s: float = 0.0
    underruns: int = 0
    underrun_s: float = 0.0
    closed: bool = False

    def delivered(self, seconds: float, now: float | None = None) -> None:
        """Record audio handed to the listener; an empty buffer before it counts as underrun.

        The worker reads this clock under the scheduler's lock: outside tests, go through
        :meth:`Scheduler.delivered`, which takes it.
        """
        now = time.monotonic() if now is None else now
        if self.first_audio_at is None:
            self.first_audio_at = now
            self.play_end = now
        elif now > self.play_end:
            self.underruns += 1
            self.underrun_s += now - self.play_end
            self.play_end = now
        self.play_end += seconds
        self.audio_s += seconds

    def lead(self, now: float | None = None) -> float:
        """Seconds of audio buffered ahead of real-time playback (0 before the first byte)."""
        if self.first_audio_at is None:
            return 0.0
        return max(0.0, self.play_end - (time.monotonic() if now is None else now))


class _CostLine:
    """Seconds of one call as ``fixed + per_frame * frames``, fitted by least squares over
    recent calls (exponentially weighted). A denoising call on a tiny chunk still costs
    most of a short one (the weights stream through the cores whatever the length), so a
    cost per frame alone would misjudge short chunks several-fold."""

    _WEIGHT = 0.05  # each call's weight in the running means

    def __init__(self, frames: float, seconds: float) -> None:
        self.x, self.y = frames, seconds
        self.xx, self.xy = frames * frames, frames * seconds

    def add(self, frames: float, seconds: float) -> None:
        w = self._WEIGHT
        self.x += w * (frames - self.x)
        self.y += w * (seconds - self.y)
        self.xx += w * (frames * frames - self.xx)
        self.xy += w * (frames * seconds - self.xy)

    def fit(self) -> tuple[float, float]:
        """(fixed seconds, seconds per frame); proportional until lengths have varied."""
        var = self.xx - self.x * self.x
        if var > 0.01 * self.x * self.x:  # lengths spread by over ~10 %
            slope = (self.xy - self.x * self.y) / var
            fixed = self.y - slope * self.x
            if slope >= 0 and 0 <= fixed <= self.y:
                return fixed, slope
        return 0.0, self.y / max(self.x, 1e-9)

    def cost(self, frames: float) -> float:
        fixed, slope = self.fit()
        return fixed + slope * frames


class CostModel:
    """Measured cost of each stage's calls by batch size and length, and seconds of speech
    per text symbol (moving averages)."""

    def __init__(self) -> None:
        self._lines: dict[tuple[Stage, int], _CostLine] = {}
        # until chunks are measured: about English speech; scripts differ several-fold
        self.seconds_per_id = 0.07

    def record_speech(self, symbols: int, seconds: float) -> None:
        """One chunk's predicted duration: what a chunk not prepared yet will likely hold."""
        self.seconds_per_id += _EMA * (seconds / max(1, symbols) - self.seconds_per_id)

    def record(self, stage: Stage, rows: int, frames: int, seconds: float) -> None:
        """One call of ``rows`` rows of ``frames`` frames each took ``seconds``."""
        line = self._lines.get((stage, rows))
        if line is None:
            self._lines[(stage, rows)] = _CostLine(frames, seconds)
        else:
            line.add(frames, seconds)

    def call(self, stage: Stage, frames: float, rows: int = 1) -> float | None:
        """Predicted seconds of one call of ``rows`` rows of ``frames`` frames, or None."""
        line = self._lines.get((stage, rows))
        return None if line is None else line.cost(frames)

    def snapshot(self, frames: float) -> dict[str, float]:
        """Seconds per frame of one row, for chunks of ``frames`` frames."""
        return {
            f"{s.value}@{b}": line.cost(frames) / (b * frames)
            for (s, b), line in sorted(self._lines.items(), key=str)
        }


class Scheduler:
    """Runs chunk jobs of many streams on one model.

    Args:
        runtime: the loaded sessions.
        sample_rate: output rate of the vocoder.
        frame: audio samples per latent frame.
        policy: ``deadline`` (default) or ``fifo`` (arrival order, no batching).
        max_batch: most rows in one call; 1 disables batching. None chooses from measured cost
            (see :meth:`calibrate`).
        max_streams: streams synthesized at once; later ones wait. None chooses from the
            measured capacity (the real-time streams the device sustains).
        max_queue: streams allowed to wait; one more is refused with :class:`CapacityError`.
        max_padding: largest share of padded frames tolerated in a batched call.
    """

    def __init__(
        self,
        runtime: Runtime,
        *,
        sample_rate: int,
        frame: int,
        policy: str = "deadline",
        max_batch: int | None = None,
        max_streams: int | None = None,
        max_queue: int = 64,
        max_padding: float = 0.25,
    ) -> None:
        if policy not in POLICIES:
            raise InvalidOptionError("policy", policy, f"one of {', '.join(POLICIES)}")
        if max_batch is not None and max_batch < 1:
            raise InvalidOptionError("max_batch", max_batch, "at least 1")
        if max_streams is not None and max_streams < 1:
            raise InvalidOptionError("max_streams", max_streams, "at least 1")
        if max_queue < 0:
            raise InvalidOptionError("max_queue", max_queue, "zero or more")
        self.runtime = runtime
        self.sample_rate = sample_rate
        self.frame = frame
        self.policy = policy
        self.max_queue = max_queue
        self.max_padding = max_padding
        self._max_batch = 1 if policy == "fifo" else max_batch
        self._max_streams = max_streams
        self.costs = CostModel()
        self.batch_sizes: Counter[int] = Counter()
        self.calls = 0
        self.streams_total = 0
        self.rejected_total = 0  # streams refused with CapacityError (HTTP 429)
        self.underruns_total = 0  # of closed streams; open ones are added in state()
        self.underrun_s_total = 0.0
        self._cond = threading.Condition()
        self._jobs: list[ChunkJob] = []
        self._streams: dict[int, StreamState] = {}
        self._waiting: deque[StreamState] = deque()
        self._ids = itertools.count(1)
        self._seq = itertools.count()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="supertonic-scheduler", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ public

    @property
    def max_batch(self) -> int:
        return self._max_batch or 1

    @property
    def max_streams(self) -> int:
        if self._max_streams is not None:
            return self._max_streams
        if self.policy == "fifo":
            return 1_000_000  # the peers admit everyone and queue chunks in arrival order
        capacity = self.capacity()
        # As many streams as the device keeps in real time; the rest wait.
        return max(1, math.floor(capacity)) if capacity else 4

    def capacity(self, steps: int = 8) -> float | None:
        """Estimated audio-seconds produced per wall-second at ``steps`` steps, for chunks of
        typical length, or None if unmeasured."""
        frames = self._typical_frames
        per_row = []
        for rows in sorted({1, self.max_batch}):
            costs = [self.costs.call(st, frames, rows) for st in _STAGES]
            if all(c is not None for c in costs):
                prepare, denoise, vocode = costs
                per_row.append((prepare + steps * denoise + vocode) / rows)  # type: ignore[operator]
        return _TYPICAL_SPEECH_S / min(per_row) if per_row else None

    def open_stream(self) -> StreamState:
        """Register a stream; it starts at once or waits its turn, or raises CapacityError."""
        with self._cond:
            if self._closed:
                raise EngineClosedError("the engine is closed")
            stream = StreamState(id=next(self._ids))
            active = self._active()
            if active < self.max_streams and not self._waiting:
                _settle(stream.admitted, None)
            elif len(self._waiting) >= self.max_queue:
                self.rejected_total += 1
                raise CapacityError(
                    f"server busy: {active} streams playing and {len(self._waiting)} waiting",
                    retry_after=self._retry_after(),
                )
            else:
                self._waiting.append(stream)
            self._streams[stream.id] = stream
            self.streams_total += 1
            return stream

    def close_stream(self, stream: StreamState) -> None:
        """Forget a stream and let the next waiting one start."""
        with self._cond:
            if not stream.closed and self._streams.pop(stream.id, None) is not None:
                self.underruns_total += stream.underruns
                self.underrun_s_total += stream.underrun_s
            stream.closed = True
            if stream in self._waiting:
                self._waiting.remove(stream)
            if not stream.admitted.done():
                _settle(stream.admitted, exc=SynthesisCancelledError("stream closed"))
            self._admit_waiting()
            self._cond.notify_all()

    def submit(self, job: ChunkJob, stream: StreamState | None = None) -> Future[np.ndarray]:
        """Queue one chunk; the future resolves to its float32 waveform."""
        with self._cond:
            if self._closed:
                raise EngineClosedError("the engine is closed")
            job.seq = next(self._seq)
            job.submitted = time.monotonic()
            job.stream_id = stream.id if stream else 0
            self._jobs.append(job)
            self._cond.notify_all()
        return job.future

    def delivered(self, stream: StreamState, seconds: float) -> None:
        """Record ``seconds`` of ``stream``'s audio handed to its listener (from any thread)."""
        with self._cond:
            stream.delivered(seconds)

    def speech_budget(self, stream: StreamState, ahead: list[ChunkJob], steps: int) -> float | None:
        """Seconds of speech ``stream``'s next chunk may hold and still be ready before its
        listener runs dry, after the stream's chunks ``ahead`` (submitted, not delivered).

        The time left is the audio buffered and queued ahead minus the compute still owed
        for it; the chunk gets what its share of the device (split evenly among the admitted
        streams: one between two chunks will want its share back) produces in that time,
        after the fixed cost of its calls, with room for misestimates and streams that
        arrive meanwhile. None until costs are measured.
        """
        with self._cond:
            if any(self.costs.call(st, 1.0) is None for st in _STAGES):
                return None
            now = time.monotonic()
            owing = [j for j in ahead if j.stage is not Stage.DONE]
            owed = sum(self._remaining_cost(j) for j in owing)
            if stream.first_audio_at is not None:
                runs_dry = max(now, stream.play_end)
            else:  # starts playing when its first chunk is ready
                runs_dry = now + sum(self._remaining_cost(j) for j in owing if j.index == 0)
            runs_dry += sum(self._speech_seconds(j) for j in ahead)
            share = max(1, self._active())
            fixed = self._cost(0.0, steps)
            per_second = (self._cost(self._typical_frames, steps) - fixed) / _TYPICAL_SPEECH_S
            left = _BUDGET_SAFETY * (runs_dry - now - _MARGIN_S) / share - owed - fixed
            return max(0.0, left) / max(per_second, 1e-6)

    def ready_in(self, job: ChunkJob) -> float:
        """Predicted seconds until ``job`` is done: its own compute and that of every later
        chunk due before it (earliest deadline first)."""
        with self._cond:
            if job.stage is Stage.DONE or job not in self._jobs:
                return 0.0
            deadlines = self._deadlines(time.monotonic())
            due = deadlines[id(job)]
            busy = sum(
                self._remaining_cost(j)
                for j in self._jobs
                if j is job or (j.index > 0 and deadlines[id(j)] <= due)
            )
            return busy

    def state(self) -> dict[str, object]:
        """Numbers for metrics: queue depth, streams, batch sizes, capacity, leads, underruns."""
        now = time.monotonic()
        with self._cond:
            streams = list(self._streams.values())
            return {
                "policy": self.policy,
                "queued_jobs": len(self._jobs),
                "active_streams": self._active(),
                "waiting_streams": len(self._waiting),
                "max_streams": self.max_streams,
                "max_batch": self.max_batch,
                "batch_sizes": dict(self.batch_sizes),
                "calls": self.calls,
                "capacity_audio_s_per_s": self.capacity(),
                "stream_leads_s": {s.id: round(s.lead(now), 3) for s in streams},
                "underruns": sum(s.underruns for s in streams),
                "underruns_total": self.underruns_total + sum(s.underruns for s in streams),
                "underrun_s_total": round(
                    self.underrun_s_total + sum(s.underrun_s for s in streams), 3
                ),
                "streams_total": self.streams_total,
                "rejected_total": self.rejected_total,
                "costs_s_per_frame": self.costs.snapshot(self._typical_frames),
            }

    def close(self) -> None:
        """Stop the worker; pending jobs fail with EngineClosedError."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=10)

    def calibrate(self, job: ChunkJob, *, sizes: tuple[int, ...] = (2, 4, 8)) -> None:
        """Measure stage costs, then choose the batch size from what was measured.

        Runs ``job`` once alone (every stage), then one denoising step at each batch size in
        ``sizes``, twice (the first call at a new shape may pay set-up costs). Batching is
        enabled up to the largest size whose call costs at most ``_BATCH_CALL_BOUND`` times
        a single call. That bounds both sides: every row's step is at most that much slower
        (the most urgent row pays for the others), and rows gain at least
        ``size / bound``-fold throughput. On a small CPU a batch of four costs about four
        singles and nothing is batched; on a GPU a batch of eight costs little more than
        one. Call it before serving.
        """
        short = self._copy(job)
        short.ids = job.ids[: max(4, len(job.ids) // 4)]  # a second length for the cost lines
        for sample in (short, self._copy(job)):
            self._run_to_end([sample])
        if self._max_batch is not None:
            return
        solo = self._step_cost([job])
        best, report = 1, []
        for size in sizes:
            call = self._step_cost([job] * size)
            report.append(f"{size}: {call / solo:.2f}x")
            if call <= _BATCH_CALL_BOUND * solo:
                best = size
        self._max_batch = best
        logger.info(
            "batch size %d chosen; cost of one call by batch size, against a single: %s",
            best,
            ", ".join(report),
        )

    def _step_cost(self, jobs: list[ChunkJob]) -> float:
        """Seconds of one denoising call over copies of ``jobs`` (best of two)."""
        rows = [self._copy(j) for j in jobs]
        self._execute(Stage.PREPARE, rows)
        times = []
        for _ in range(2):
            started = time.perf_counter()
            self._execute(Stage.DENOISE, rows)
            times.append(time.perf_counter() - started)
        return min(times)

    # ------------------------------------------------------------------ internals

    @property
    def _typical_frames(self) -> float:
        """Latent frames of a chunk of typical length, where capacity is quoted."""
        return _TYPICAL_SPEECH_S * self.sample_rate / self.frame

    @staticmethod
    def _copy(job: ChunkJob) -> ChunkJob:
        return ChunkJob(
            ids=job.ids, style=job.style, speed=job.speed, steps=job.steps, seed=job.seed
        )

    def _run_to_end(self, jobs: list[ChunkJob]) -> None:
        while jobs[0].stage is not Stage.DONE:
            stage = jobs[0].stage
            if stage is Stage.VOCODE:
                for job in jobs:
                    self._execute(Stage.VOCODE, [job])
            else:
                self._execute(stage, jobs)

    def _retry_after(self) -> float:
        capacity = self.capacity() or 1.0
        return round(max(1.0, min(30.0, len(self._waiting) / max(capacity, 0.1) * 2.0)), 1)

    def _active(self) -> int:
        """Streams admitted and not closed yet (call with the lock held)."""
        return sum(1 for s in self._streams.values() if s.admitted.done())

    def _admit_waiting(self) -> None:
        active = self._active()
        while self._waiting and active < self.max_streams:
            stream = self._waiting.popleft()
            _settle(stream.admitted, None)
            active += 1

    def _candidates(self, now: float) -> list[ChunkJob]:
        """The jobs of the class that runs next, most urgent first.

        Only each stream's earliest pending chunk is a candidate. Later chunks run
        earliest deadline first (the deadline is when the listener runs out of audio). A
        first chunk goes ahead of them while they have the slack to pay for it, so a
        caller's first words never cost a playing stream a gap; first chunks
        run in arrival order. One that has waited ``_FIRST_WAIT_BOUND_S`` goes anyway:
        streams that are already behind (more admitted than the device sustains) must not
        hold a newcomer back for as long as they keep talking.
        """
        deadlines = self._deadlines(now)
        heads = self._heads()
        firsts = sorted((j for j in heads if j.index == 0), key=lambda j: j.seq)
        later = sorted((j for j in heads if j.index > 0), key=lambda j: deadlines[id(j)])
        if firsts:
            # The slack is that of every later chunk of the other streams, not only their
            # heads: a chunk waiting behind its stream's head may be the one that runs late.
            owed = sorted(
                (j for j in self._jobs if j.index > 0 and j.stream_id != firsts[0].stream_id),
                key=lambda j: deadlines[id(j)],
            )
            if now - firsts[0].submitted >= _FIRST_WAIT_BOUND_S or self._slack(
                owed, deadlines, now
            ) >= self._remaining_cost(firsts[0]):
                return firsts
        return later or firsts

    def _heads(self) -> list[ChunkJob]:
        """Each stream's earliest pending chunk: a stream's chunks run in order, since a
        later one cannot play before the earlier ones, and running it first would only
        delay the stream's own audio (its first words most of all)."""
        heads: dict[int, ChunkJob] = {}
        for job in self._jobs:
            key = job.stream_id or -id(job)  # a job of no stream is a stream of its own
            if key not in heads or job.index < heads[key].index:
                heads[key] = job
        return list(heads.values())

    def _deadlines(self, now: float) -> dict[int, float]:
        """When each later chunk (by id) must be ready for its listener not to run dry.

        That is when the audio before it runs out: what the listener has buffered plus the
        stream's earlier chunks still pending. A stream not playing yet starts at the
        earliest moment its first chunk could be ready.
        """
        by_stream: dict[int, list[ChunkJob]] = {}
        for job in self._jobs:
            by_stream.setdefault(job.stream_id, []).append(job)
        deadlines: dict[int, float] = {}
        for stream_id, jobs in by_stream.items():
            jobs.sort(key=lambda j: j.index)
            stream = self._streams.get(stream_id)
            if stream is not None and stream.first_audio_at is not None:
                at = stream.play_end
            else:
                at = now + sum(self._remaining_cost(j) for j in jobs if j.index == 0)
            for job in jobs:
                deadlines[id(job)] = at
                at += self._speech_seconds(job)
        return deadlines

    def _slack(self, jobs: list[ChunkJob], deadlines: dict[int, float], now: float) -> float:
        """Seconds of compute free before the first of ``jobs`` (in deadline order) runs late."""
        busy, slack = 0.0, math.inf
        for job in jobs:
            busy += self._remaining_cost(job)
            slack = min(slack, deadlines[id(job)] - now - busy)
        return slack - _MARGIN_S

    def _speech_seconds(self, job: ChunkJob) -> float:
        """The job's duration, predicted once prepared, estimated from its text before."""
        return job.duration or len(job.ids) * self.costs.seconds_per_id

    def _remaining_cost(self, job: ChunkJob) -> float:
        """Seconds of compute the job still needs, from the measured costs."""
        frames = job.frames or self._speech_seconds(job) * self.sample_rate / self.frame
        return self._cost(frames, job.steps - job.step, prepared=job.stage is not Stage.PREPARE)

    def _cost(self, frames: float, steps: int, *, prepared: bool = False) -> float:
        """Seconds of compute for a chunk of ``frames`` frames with ``steps`` steps to go."""
        cost = steps * (self.costs.call(Stage.DENOISE, frames) or 0.0)
        cost += self.costs.call(Stage.VOCODE, frames) or 0.0
        if not prepared:
            cost += self.costs.call(Stage.PREPARE, frames) or 0.0
        return cost

    def _pick(self) -> tuple[Stage, list[ChunkJob]] | None:
        """Choose the next call: the most urgent job's stage, plus rows that can share it."""
        for job in [j for j in self._jobs if j.token.cancelled]:
            self._jobs.remove(job)
            _settle(job.future, exc=SynthesisCancelledError("synthesis cancelled"))
        if not self._jobs:
            return None
        if self.policy == "fifo":
            lead = min(self._jobs, key=lambda j: j.seq)
            return lead.stage, [lead]
        # A first chunk shares its call only with other first chunks: a batch costs more
        # than one row, and that time would come out of its listener's wait.
        lead, *rest = self._candidates(time.monotonic())
        batch = [lead]
        for job in rest:
            if len(batch) >= self.max_batch:
                break
            if job.stage is lead.stage and self._fits(batch, job, lead.stage):
                batch.append(job)
        return lead.stage, batch

    def _fits(self, batch: list[ChunkJob], job: ChunkJob, stage: Stage) -> bool:
        if stage is Stage.VOCODE:
            return job.frames == batch[0].frames
        sizes = [len(j.ids) if stage is Stage.PREPARE else j.frames for j in [*batch, job]]
        padded = max(sizes) * len(sizes)
        return (padded - sum(sizes)) / padded <= self.max_padding

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed and not (picked := self._pick()):
                    self._cond.wait()
                if self._closed:
                    for job in self._jobs:
                        _settle(job.future, exc=EngineClosedError("the engine is closed"))
                    self._jobs.clear()
                    return
                stage, batch = picked  # type: ignore[misc]
            results, failed = self._execute_rows(stage, batch)
            with self._cond:
                for job, exc in failed:  # a failed row fails its request, never the worker
                    self._jobs.remove(job)
                    _settle(job.future, exc=exc)
                for job, wav in results:
                    self._jobs.remove(job)
                    _settle(job.future, wav)

    def _execute_rows(
        self, stage: Stage, batch: list[ChunkJob]
    ) -> tuple[list[tuple[ChunkJob, np.ndarray]], list[tuple[ChunkJob, Exception]]]:
        """Run one call; if a batched call fails, run its rows one by one, so a row that
        fails on its own (other clients' chunks share its call) fails alone.

        Returns the finished rows with their audio and the failed rows with their error.
        Retrying is safe: a failed call leaves each row's inputs as they were (prepare
        starts over from the text and seed; denoise and vocode change a row only once the
        graph has answered).
        """
        try:
            return self._execute(stage, batch), []
        except Exception as exc:
            logger.exception("synthesis call failed (%s, %d rows)", stage.value, len(batch))
            if len(batch) == 1:
                return [], [(batch[0], exc)]
        results: list[tuple[ChunkJob, np.ndarray]] = []
        failed: list[tuple[ChunkJob, Exception]] = []
        for job in batch:
            done, lost = self._execute_rows(stage, [job])
            results += done
            failed += lost
        return results, failed

    def _execute(self, stage: Stage, batch: list[ChunkJob]) -> list[tuple[ChunkJob, np.ndarray]]:
        started = time.perf_counter()
        done: list[tuple[ChunkJob, np.ndarray]] = []
        if stage is Stage.PREPARE:
            synthesis.prepare(self.runtime, batch, sample_rate=self.sample_rate, frame=self.frame)
            frames = sum(j.frames for j in batch)
            for job in batch:
                self.costs.record_speech(len(job.ids), job.duration)
        elif stage is Stage.DENOISE:
            frames = max(j.frames for j in batch) * len(batch)
            synthesis.denoise(self.runtime, batch)
        else:
            frames = batch[0].frames * len(batch)
            wavs = synthesis.vocode(self.runtime, batch)
            done = list(zip(batch, wavs, strict=True))
        self.costs.record(stage, len(batch), frames // len(batch), time.perf_counter() - started)
        self.batch_sizes[len(batch)] += 1
        self.calls += 1
        return done
