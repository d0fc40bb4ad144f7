"""The scheduler's jobs and which runs next: earliest deadline first, and a stream's first
chunk ahead of the others while the playing streams can pay for it.

No model and no lock here: the scheduler calls in under its own lock. :class:`Urgency`
ranks jobs from their listeners' playback clocks and the measured costs, so the policy can
be tested, or timed at hundreds of streams, without running a graph.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .synthesis import Row, Stage

if TYPE_CHECKING:
    import numpy as np

    from .chunk_request import Place
    from .costs import CostModel
    from .phrase_cache import PhraseKey

FIRST_WAIT_BOUND_S = 5.0  # longest a first chunk waits for playing streams' slack
MARGIN_S = 0.2  # slack kept for misestimated costs before a listener would run dry
TYPICAL_SPEECH_S = 4.0  # chunk length at which capacity is quoted
BUDGET_SAFETY = 0.75  # share of a stream's time left that its next chunk may plan to use


@dataclass(eq=False)
class Listener:
    """A stream as the scheduler keeps it: its place, and its listener's playback clock
    (real time from the first audio delivered)."""

    place: Place
    first_audio_at: float | None = None
    play_end: float = 0.0  # when the listener runs out of the audio delivered so far
    audio_s: float = 0.0
    underruns: int = 0
    underrun_s: float = 0.0

    def delivered(self, seconds: float, now: float | None = None) -> None:
        """Record audio handed to the listener; an empty buffer before it counts as underrun."""
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


@dataclass(eq=False)
class Job(Row):
    """A submitted chunk: its synthesis state and its place in the queue."""

    seq: int = 0
    submitted: float = 0.0
    future: Future[np.ndarray] = field(default_factory=Future)
    cache_key: PhraseKey | None = None

    @property
    def stream(self) -> int:
        return self.request.stream

    @property
    def index(self) -> int:
        return self.request.index


class Urgency:
    """Deadlines, slack and remaining compute of jobs, from the measured costs.

    Args:
        costs: what each call costs on this device.
        sample_rate, frame: turn seconds of speech into latent frames.
    """

    def __init__(self, costs: CostModel, *, sample_rate: int, frame: int) -> None:
        self.costs = costs
        self.sample_rate = sample_rate
        self.frame = frame

    @property
    def typical_frames(self) -> float:
        """Latent frames of a chunk of typical length, where capacity is quoted."""
        return TYPICAL_SPEECH_S * self.sample_rate / self.frame

    def candidates(
        self, jobs: Sequence[Job], listeners: Mapping[int, Listener], now: float
    ) -> list[Job]:
        """The jobs of the class that runs next, most urgent first.

        Only each stream's earliest pending chunk is a candidate. Later chunks run
        earliest deadline first (the deadline is when the listener runs out of audio). A
        first chunk goes ahead of them while they have the slack to pay for it, so a
        caller's first words never cost a playing stream a gap; first chunks
        run in arrival order. One that has waited ``FIRST_WAIT_BOUND_S`` goes anyway:
        streams that are already behind (more admitted than the device sustains) must not
        hold a newcomer back for as long as they keep talking.
        """
        deadlines = self.deadlines(jobs, listeners, now)
        heads = _heads(jobs)
        firsts = sorted((j for j in heads if j.index == 0), key=lambda j: j.seq)
        later = sorted((j for j in heads if j.index > 0), key=lambda j: deadlines[id(j)])
        if firsts:
            # The slack is that of every later chunk of the other streams, not only their
            # heads: a chunk waiting behind its stream's head may be the one that runs late.
            owed = sorted(
                (j for j in jobs if j.index > 0 and j.stream != firsts[0].stream),
                key=lambda j: deadlines[id(j)],
            )
            if now - firsts[0].submitted >= FIRST_WAIT_BOUND_S or self.slack(
                owed, deadlines, now
            ) >= self.remaining_cost(firsts[0]):
                return firsts
        return later or firsts

    def deadlines(
        self, jobs: Sequence[Job], listeners: Mapping[int, Listener], now: float
    ) -> dict[int, float]:
        """When each later chunk (by id) must be ready for its listener not to run dry.

        That is when the audio before it runs out: what the listener has buffered plus the
        stream's earlier chunks still pending. A stream not playing yet starts at the
        earliest moment its first chunk could be ready.
        """
        by_stream: dict[int, list[Job]] = {}
        for job in jobs:
            by_stream.setdefault(job.stream, []).append(job)
        deadlines: dict[int, float] = {}
        for stream, queued in by_stream.items():
            queued.sort(key=lambda j: j.index)
            listener = listeners.get(stream)
            if listener is not None and listener.first_audio_at is not None:
                at = listener.play_end
            else:
                at = now + sum(self.remaining_cost(j) for j in queued if j.index == 0)
            for job in queued:
                deadlines[id(job)] = at
                at += self.speech_seconds(job)
        return deadlines

    def ready_in(
        self, job: Job, jobs: Sequence[Job], listeners: Mapping[int, Listener], now: float
    ) -> float:
        """Seconds until ``job`` is done: its own compute and that of every later chunk due
        before it."""
        deadlines = self.deadlines(jobs, listeners, now)
        due = deadlines[id(job)]
        return sum(
            self.remaining_cost(j)
            for j in jobs
            if j is job or (j.index > 0 and deadlines[id(j)] <= due)
        )

    def speech_budget(
        self,
        listener: Listener,
        owing: Sequence[Job],
        *,
        ready_s: float,
        share: int,
        steps: int,
        now: float,
    ) -> float:
        """Seconds of speech a stream's next chunk may hold and still be ready before its
        listener runs dry, after its chunks in flight (``owing``) and ``ready_s`` seconds
        of its audio done but not delivered.

        The time left is the audio buffered and queued ahead minus the compute still owed
        for it; the chunk gets what its ``share`` of the device (split evenly among the
        admitted streams: one between two chunks will want its share back) produces in that
        time, after the fixed cost of its calls, with room for misestimates and streams that
        arrive meanwhile.
        """
        owed = sum(self.remaining_cost(j) for j in owing)
        if listener.first_audio_at is not None:
            runs_dry = max(now, listener.play_end)
        else:  # starts playing when its first chunk is ready
            runs_dry = now + sum(self.remaining_cost(j) for j in owing if j.index == 0)
        runs_dry += ready_s + sum(self.speech_seconds(j) for j in owing)
        fixed = self.cost(0.0, steps)
        per_second = (self.cost(self.typical_frames, steps) - fixed) / TYPICAL_SPEECH_S
        left = BUDGET_SAFETY * (runs_dry - now - MARGIN_S) / share - owed - fixed
        return max(0.0, left) / max(per_second, 1e-6)

    def slack(self, jobs: list[Job], deadlines: dict[int, float], now: float) -> float:
        """Seconds of compute free before the first of ``jobs`` (in deadline order) runs late."""
        busy, slack = 0.0, math.inf
        for job in jobs:
            busy += self.remaining_cost(job)
            slack = min(slack, deadlines[id(job)] - now - busy)
        return slack - MARGIN_S

    def speech_seconds(self, job: Job) -> float:
        """The job's duration, predicted once prepared, estimated from its text before."""
        return job.duration or len(job.request.ids) * self.costs.seconds_per_id

    def remaining_cost(self, job: Job) -> float:
        """Seconds of compute the job still needs, from the measured costs."""
        frames = job.frames or self.speech_seconds(job) * self.sample_rate / self.frame
        return self.cost(
            frames, job.request.steps - job.step, prepared=job.stage is not Stage.PREPARE
        )

    def cost(self, frames: float, steps: int, *, prepared: bool = False) -> float:
        """Seconds of compute for a chunk of ``frames`` frames with ``steps`` steps to go."""
        cost = steps * (self.costs.call(Stage.DENOISE, frames) or 0.0)
        cost += self.costs.call(Stage.VOCODE, frames) or 0.0
        if not prepared:
            cost += self.costs.call(Stage.PREPARE, frames) or 0.0
        return cost


def _heads(jobs: Sequence[Job]) -> list[Job]:
    """Each stream's earliest pending chunk: a stream's chunks run in order, since a
    later one cannot play before the earlier ones, and running it first would only
    delay the stream's own audio (its first words most of all)."""
    heads: dict[int, Job] = {}
    for job in jobs:
        key = job.stream or -id(job)  # a job of no stream is a stream of its own
        if key not in heads or job.index < heads[key].index:
            heads[key] = job
    return list(heads.values())
