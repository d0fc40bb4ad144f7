"""The scheduler's jobs and which runs next: earliest deadline first, and a stream's first
chunk ahead of the others while the playing streams can pay for it.

No model and no lock here: the scheduler calls in under its own lock. :class:`Urgency`
ranks jobs from their listeners' playback clocks and the measured costs, so the policy can
be tested, or timed at hundreds of streams, without running a graph. :class:`JobQueue`
keeps the queued jobs in the order the policy reads them (a heap for each class of
stream), so a decision costs about the jobs it runs, not the jobs queued.
"""

from __future__ import annotations

import bisect
import itertools
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .synthesis import Row, Stage

if TYPE_CHECKING:
    import numpy as np

    from .chunk_request import CancelToken, Place
    from .costs import CostModel, Rates
    from .phrase_cache import PhraseKey

FIRST_WAIT_BOUND_S = 5.0  # longest a first chunk waits for playing streams' slack
MARGIN_S = 0.2  # slack kept for misestimated costs before a listener would run dry
TYPICAL_SPEECH_S = 4.0  # chunk length at which capacity is quoted
BUDGET_SAFETY = 0.75  # share of a stream's time left that its next chunk may plan to use
_ROUNDING_S = 1e-9  # float sums in another order differ by far less (clocks are ~1e5 s)


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

    def ready_in(self, job: Job, queue: JobQueue, now: float) -> float:
        """Seconds until ``job`` is done: its own compute and that of every later chunk due
        before it."""
        rates = self.costs.rates()
        deadlines: dict[Job, float] = {}
        for stream, line in queue.lines():
            due = self.deadlines(line, queue.listener(stream), now, rates)
            deadlines.update(zip(line, due, strict=True))
        due = deadlines[job]
        return sum(
            self.remaining_cost(j, rates)
            for j in queue
            if j is job or (j.index > 0 and deadlines[j] <= due)
        )

    def speech_budget(
        self,
        listener: Listener,
        owing: Sequence[Job],
        *,
        ready_s: float,
        share: float,
        steps: int,
        now: float,
    ) -> float:
        """Seconds of speech a stream's next chunk may hold and still be ready before its
        listener runs dry, after its chunks in flight (``owing``) and ``ready_s`` seconds
        of its audio done but not delivered.

        The time left is the audio buffered and queued ahead minus the compute still owed
        for it; the chunk gets what its ``share`` of the device (the admitted streams per
        worker: one between two chunks will want its share back) produces in that
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

    def pays_for(self, first: Job, queue: JobQueue, now: float, rates: Rates | None = None) -> bool:
        """Whether ``first`` (a first chunk) may run before the later chunks of the other
        streams: it has waited ``FIRST_WAIT_BOUND_S``, or their slack covers its cost.

        The slack is that of every later chunk of the other streams, not only their
        heads: a chunk waiting behind its stream's head may be the one that runs late.
        It is the compute free before the first of them, taken in deadline order, would
        run late. This is the one decision that reads every queued job, so it prices them
        inline (:meth:`deadlines` and :meth:`remaining_cost`, same arithmetic), and it
        sorts them only when the earliest deadline less all their compute leaves too
        little slack.
        """
        if now - first.submitted >= FIRST_WAIT_BOUND_S:
            return True
        rates = rates or self.costs.rates()
        pf, ps, df, ds, vf, vs = rates
        per_id, rate, frame = self.costs.seconds_per_id, self.sample_rate, self.frame
        own, prepare = queue.stream_of(first), Stage.PREPARE
        owed: list[tuple[float, int, float]] = []
        total, earliest = 0.0, math.inf
        for stream, line in queue.lines():
            if stream == own:
                continue
            priced = []
            for job in line:
                request = job.request
                speech = job.duration or len(request.ids) * per_id
                latent = job.latent
                frames = (0 if latent is None else latent.shape[1]) or speech * rate / frame
                cost = (request.steps - job.step) * (df + ds * frames)
                cost += vf + vs * frames
                if job.stage is prepare:
                    cost += pf + ps * frames
                priced.append((request.index, speech, cost, job.seq))
            listener = queue.listener(stream)
            if listener is not None and listener.first_audio_at is not None:
                at = listener.play_end
            else:
                at = now + sum(cost for index, _, cost, _ in priced if index == 0)
            for index, speech, cost, seq in priced:
                if index > 0:
                    owed.append((at, seq, cost))
                    total += cost
                    if at < earliest:
                        earliest = at
                at += speech
        need = self.remaining_cost(first, rates)
        if earliest - now - total - MARGIN_S >= need + _ROUNDING_S:
            return True  # no job can run late, whatever the order
        owed.sort()
        busy = 0.0
        for due, _, cost in owed:
            busy += cost
            if due - now - busy - MARGIN_S < need:
                return False
        return True

    def deadlines(
        self, line: Sequence[Job], listener: Listener | None, now: float, rates: Rates
    ) -> list[float]:
        """When each of a stream's queued chunks (``line``, in chunk order) must be ready
        for its listener not to run dry.

        That is when the audio before it runs out: what the listener has buffered plus the
        stream's earlier chunks still pending. A stream not playing yet starts at the
        earliest moment its first chunk could be ready.
        """
        if listener is not None and listener.first_audio_at is not None:
            at = listener.play_end
        else:
            at = now + sum(self.remaining_cost(j, rates) for j in line if j.index == 0)
        due = []
        for job in line:
            due.append(at)
            at += self.speech_seconds(job)
        return due

    def speech_seconds(self, job: Job) -> float:
        """The job's duration, predicted once prepared, estimated from its text before."""
        return job.duration or len(job.request.ids) * self.costs.seconds_per_id

    def frames(self, job: Job) -> float:
        """The job's latent frames, estimated from its text before it is prepared."""
        return job.frames or self.speech_seconds(job) * self.sample_rate / self.frame

    def remaining_cost(self, job: Job, rates: Rates | None = None) -> float:
        """Seconds of compute the job still needs, from the measured costs (``rates``:
        :meth:`.CostModel.rates`, taken once for many jobs)."""
        pf, ps, df, ds, vf, vs = rates or self.costs.rates()
        frames = self.frames(job)
        cost = (job.request.steps - job.step) * (df + ds * frames)
        cost += vf + vs * frames
        if job.stage is Stage.PREPARE:
            cost += pf + ps * frames
        return cost

    def cost(self, frames: float, steps: int, *, prepared: bool = False) -> float:
        """Seconds of compute for a chunk of ``frames`` frames with ``steps`` steps to go."""
        cost = steps * (self.costs.call(Stage.DENOISE, frames) or 0.0)
        cost += self.costs.call(Stage.VOCODE, frames) or 0.0
        if not prepared:
            cost += self.costs.call(Stage.PREPARE, frames) or 0.0
        return cost


class JobQueue:
    """The queued jobs, kept so that a decision looks at the jobs it may run, not at every
    job queued.

    Each stream's jobs are kept in chunk order, and only its head (its earliest chunk) is
    a candidate: a stream's chunks run in order, since a later one cannot play before the
    earlier ones, and running it first would only delay the stream's own audio (its first
    words most of all). The heads are kept in three sorted lists, one entry a stream:

    - first chunks (heads of index 0), in arrival order;
    - later heads of playing streams, by deadline: when the listener runs out of the
      audio delivered (every chunk before the head has been);
    - later heads of streams not playing yet (their first chunk is done, not delivered),
      whose deadline is now: they tie, in arrival order.

    A stream's entry moves (a binary search and a shift of the list) when its head
    changes or its listener's clock moves (the scheduler calls :meth:`moved` after a
    delivery); a decision reads the lists in order and stops when its batch is full.
    "Arrival" of a stream is that of its earliest queued job. A job of no stream
    (stream 0) is a stream of its own.

    A stream whose head a worker has taken (:meth:`take`, until :meth:`release`) has no
    entry: with several workers, no two run one stream's chunks, so each job's state is
    written by one thread at a time.

    Args:
        listeners: the streams' playback clocks, by stream id (the scheduler's, read live).
    """

    def __init__(self, listeners: Mapping[int, Listener]) -> None:
        self._listeners = listeners
        self._jobs: dict[Job, tuple[int, int]] = {}  # job -> (stream key, arrival)
        self._lines: dict[int, list[Job]] = {}  # stream key -> its jobs, in chunk order
        self._futures: dict[int, Job] = {}  # id(job.future) -> job
        self._tokens: dict[CancelToken, dict[Job, None]] = {}
        self._firsts: list[tuple[int, int, int]] = []  # seq, arrival, key
        self._playing: list[tuple[float, int, int]] = []  # play_end, arrival, key
        self._waiting: list[tuple[int, int]] = []  # arrival, key
        self._entry: dict[int, tuple[list[Any], tuple[Any, ...]]] = {}  # key -> list, entry
        self._taken: dict[Job, int] = {}  # job in a worker's call -> its stream key
        self._busy: set[int] = set()  # keys of those streams (one job each: its head)
        self._arrivals = itertools.count(1)

    def __len__(self) -> int:
        return len(self._jobs)

    def __iter__(self) -> Iterator[Job]:
        """The jobs in arrival order."""
        return iter(self._jobs)

    def __contains__(self, job: object) -> bool:
        return job in self._jobs

    # ------------------------------------------------------------------ changes

    def add(self, job: Job) -> None:
        arrival = next(self._arrivals)
        key = job.stream or -arrival
        self._jobs[job] = (key, arrival)
        self._futures[id(job.future)] = job
        self._tokens.setdefault(job.request.token, {})[job] = None
        line = self._lines.setdefault(key, [])
        bisect.insort(line, job, key=lambda j: (j.index, self._jobs[j][1]))
        self._rekey(key)

    def remove(self, job: Job) -> None:
        key, _ = self._jobs.pop(job)
        del self._futures[id(job.future)]
        waiting = self._tokens[job.request.token]
        del waiting[job]
        if not waiting:
            del self._tokens[job.request.token]
        line = self._lines[key]
        line.remove(job)
        if not line:
            del self._lines[key]
        self._rekey(key)

    def take(self, jobs: Sequence[Job]) -> None:
        """``jobs`` are in a worker's call: their streams are no candidates until
        :meth:`release`."""
        for job in jobs:
            key = self._taken[job] = self._jobs[job][0]
            self._busy.add(key)
            self._rekey(key)

    def release(self, jobs: Sequence[Job]) -> None:
        """The call of ``jobs`` is over (they may have been removed meanwhile, at close)."""
        for job in jobs:
            key = self._taken.pop(job, None)
            if key is not None:
                self._busy.discard(key)
                self._rekey(key)

    def moved(self, stream: int) -> None:
        """The listener of ``stream`` has changed: delivered audio, started, closed."""
        if stream in self._lines:
            self._rekey(stream)

    def clear(self) -> list[Job]:
        """Empty the queue; returns what it held, in arrival order."""
        jobs = list(self._jobs)
        self._taken.clear()
        self._busy.clear()
        for job in jobs:
            self.remove(job)
        return jobs

    # ------------------------------------------------------------------ reading

    def cancelled(self) -> list[Job]:
        """The jobs whose cancel token is set, in arrival order (one check a token: a
        stream's chunks share one), but those in a worker's call: they leave when it is
        over."""
        jobs = [
            j
            for token, js in self._tokens.items()
            if token.cancelled
            for j in js
            if j not in self._taken
        ]
        return sorted(jobs, key=self.order)

    def job_of(self, future: Future[np.ndarray]) -> Job | None:
        return self._futures.get(id(future))

    def line(self, stream: int) -> list[Job]:
        """The queued jobs of ``stream``, in chunk order (do not change the list)."""
        return self._lines.get(stream, [])

    def lines(self) -> Iterator[tuple[int, list[Job]]]:
        """Every stream's queued jobs, in chunk order, with the stream's key."""
        return iter(self._lines.items())

    def listener(self, key: int) -> Listener | None:
        return self._listeners.get(key)

    def stream_of(self, job: Job) -> int:
        return self._jobs[job][0]

    def order(self, job: Job) -> int:
        """The job's place in arrival order."""
        return self._jobs[job][1]

    def candidates(self, urgency: Urgency, now: float) -> Iterator[Job]:
        """The jobs of the class that runs next, most urgent first, as they are read.

        Later chunks run earliest deadline first (the deadline is when the listener runs
        out of audio). A first chunk goes ahead of them while they have the slack to pay
        for it (:meth:`Urgency.pays_for`), so a caller's first words never cost a playing
        stream a gap; first chunks run in arrival order. One that has waited
        ``FIRST_WAIT_BOUND_S`` goes anyway: streams that are already behind (more admitted
        than the device sustains) must not hold a newcomer back for as long as they keep
        talking.
        """
        heads = self._lines
        if not self._firsts:
            return (heads[key][0] for key in self._later(now))
        first = heads[self._firsts[0][2]][0]
        if (self._playing or self._waiting) and not urgency.pays_for(first, self, now):
            return (heads[key][0] for key in self._later(now))
        return (heads[key][0] for _, _, key in self._firsts)

    def companions(self, lead: Job, now: float) -> Iterator[Job]:
        """Heads of the class that does not run next, for rows that may share ``lead``'s
        call when it costs nothing: behind a first chunk, the later heads by deadline;
        behind a later chunk, the first chunks by arrival."""
        heads = self._lines
        keys = self._later(now) if lead.index == 0 else (key for _, _, key in self._firsts)
        return (heads[key][0] for key in keys)

    # ------------------------------------------------------------------ internals

    def _later(self, now: float) -> Iterator[int]:
        """Keys of the later heads by deadline: the playing streams' and, at ``now``, the
        others' (ties by arrival)."""
        playing = self._playing
        early = bisect.bisect_left(playing, (now,))
        late = bisect.bisect_left(playing, (now, math.inf))
        if early == late:
            at_now = self._waiting
        else:  # play_end exactly now: in arrival order among those not playing
            at_now = sorted([(a, k) for _, a, k in playing[early:late]] + self._waiting)
        yield from (key for _, _, key in itertools.islice(playing, early))
        yield from (key for _, key in at_now)
        yield from (key for _, _, key in itertools.islice(playing, late, None))

    def _rekey(self, key: int) -> None:
        """Give the stream ``key`` the entry its head and listener call for."""
        line = self._lines.get(key)
        old = self._entry.pop(key, None)
        entry: tuple[Any, ...] | None = None
        if line and key not in self._busy:
            head = line[0]
            arrival = min(self._jobs[j][1] for j in line)
            if head.index == 0:
                into, entry = self._firsts, (head.seq, arrival, key)
            elif (listener := self._listeners.get(key)) and listener.first_audio_at is not None:
                into, entry = self._playing, (listener.play_end, arrival, key)
            else:
                into, entry = self._waiting, (arrival, key)
            self._entry[key] = (into, entry)
            if old is not None and old[0] is into and old[1] == entry:
                return
        if old is not None:
            held, was = old
            del held[bisect.bisect_left(held, was)]
        if entry is not None:
            bisect.insort(into, entry)
