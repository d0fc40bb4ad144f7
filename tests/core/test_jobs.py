"""The job queue's decisions equal the policy's definition, on random queues.

:class:`JobQueue` keeps the heads of streams in heaps so that a decision does not sort
every job. Its candidates must be exactly those of the rule it replaced: the definition
below (each stream's head; first chunks by arrival, ahead of the others while their slack
pays for them; later chunks earliest deadline first), computed from scratch over a list
of jobs, as the scheduler did until issue 25.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from supertonic_core.chunk_request import ChunkRequest, Place
from supertonic_core.costs import CostModel
from supertonic_core.jobs import FIRST_WAIT_BOUND_S, MARGIN_S, Job, JobQueue, Listener, Urgency
from supertonic_core.synthesis import Stage
from supertonic_core.voices import VoiceStyle

STYLE = VoiceStyle("x", np.zeros((50, 256), np.float32), np.zeros((8, 16), np.float32))
NOW = 1000.0


# ------------------------------------------------------------------ the definition


def _deadlines(urgency: Urgency, jobs: list[Job], listeners, now: float) -> dict[int, float]:
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
            at = now + sum(urgency.remaining_cost(j) for j in queued if j.index == 0)
        for job in queued:
            deadlines[id(job)] = at
            at += urgency.speech_seconds(job)
    return deadlines


def _defined_candidates(urgency: Urgency, jobs: list[Job], listeners, now: float) -> list[Job]:
    deadlines = _deadlines(urgency, jobs, listeners, now)
    heads: dict[int, Job] = {}
    for job in jobs:
        if job.stream not in heads or job.index < heads[job.stream].index:
            heads[job.stream] = job
    firsts = sorted((j for j in heads.values() if j.index == 0), key=lambda j: j.seq)
    later = sorted((j for j in heads.values() if j.index > 0), key=lambda j: deadlines[id(j)])
    if firsts:
        owed = sorted(
            (j for j in jobs if j.index > 0 and j.stream != firsts[0].stream),
            key=lambda j: deadlines[id(j)],
        )
        busy, slack = 0.0, math.inf
        for job in owed:
            busy += urgency.remaining_cost(job)
            slack = min(slack, deadlines[id(job)] - now - busy)
        if now - firsts[
            0
        ].submitted >= FIRST_WAIT_BOUND_S or slack - MARGIN_S >= urgency.remaining_cost(firsts[0]):
            return firsts
    return later or firsts


def _defined_ready_in(urgency: Urgency, job: Job, jobs: list[Job], listeners, now: float) -> float:
    deadlines = _deadlines(urgency, jobs, listeners, now)
    due = deadlines[id(job)]
    return sum(
        urgency.remaining_cost(j)
        for j in jobs
        if j is job or (j.index > 0 and deadlines[id(j)] <= due)
    )


# ------------------------------------------------------------------ random queues


class World:
    """Streams with listeners and queued jobs in every stage, changed at random."""

    def __init__(self, rng: random.Random, streams: int) -> None:
        self.rng = rng
        self.costs = CostModel()
        for stage in (Stage.PREPARE, Stage.DENOISE, Stage.VOCODE):
            for _ in range(rng.randint(0, 4)):  # sometimes unmeasured
                self.costs.record(stage, 1, rng.randint(5, 120), rng.uniform(0.001, 0.2))
        self.costs.seconds_per_id = rng.uniform(0.03, 0.12)
        self.urgency = Urgency(self.costs, sample_rate=44100, frame=3072)
        self.listeners: dict[int, Listener] = {}
        self.queue = JobQueue(self.listeners)
        self.jobs: list[Job] = []  # in arrival order, as the scheduler's list was
        self.next_index: dict[int, int] = {}
        self.seq = 0
        for stream in range(1, streams + 1):
            if rng.random() < 0.9:
                self.listeners[stream] = Listener(Place(stream))
                if rng.random() < 0.6:
                    self.listeners[stream].delivered(
                        rng.uniform(0.1, 10), now=NOW - rng.uniform(0, 8)
                    )
            self.next_index[stream] = 0 if rng.random() < 0.4 else rng.randint(1, 5)
            for _ in range(rng.randint(1, 4)):
                self.submit(stream)
        # arrivals interleaved across streams, in order within each
        rng.shuffle(self.jobs)
        self.jobs.sort(key=lambda j: (j.stream, j.index))
        order: list[Job] = []
        pending = {s: [j for j in self.jobs if j.stream == s] for s in range(1, streams + 1)}
        while any(pending.values()):
            stream = rng.choice([s for s, js in pending.items() if js])
            order.append(pending[stream].pop(0))
        self.jobs = []
        for job in order:
            self.add(job)

    def submit(self, stream: int) -> Job:
        index = self.next_index[stream]
        self.next_index[stream] += 1
        ids = np.ones(self.rng.randint(3, 120), dtype=np.int64)
        steps = self.rng.choice([2, 4, 8])
        job = Job(ChunkRequest(ids, STYLE, 1.0, steps, stream=stream, index=index))
        job.submitted = NOW - self.rng.choice([0.0, 0.5, 2.0, 6.0])
        stage = self.rng.choice([Stage.PREPARE, Stage.DENOISE, Stage.DENOISE, Stage.VOCODE])
        if stage is not Stage.PREPARE:
            job.stage = stage
            job.duration = self.rng.uniform(0.2, 8.0)
            job.latent = np.zeros((1, self.rng.randint(1, 120)), np.float32)
            job.frames = job.latent.shape[1]
            job.step = steps if stage is Stage.VOCODE else self.rng.randrange(steps)
        self.jobs.append(job)
        return job

    def add(self, job: Job) -> None:
        job.seq = self.seq
        self.seq += 1
        if job not in self.jobs:
            self.jobs.append(job)
        self.queue.add(job)

    def change(self) -> None:
        """One thing a scheduler sees happen: a row finishes or steps, audio is
        delivered, a stream closes, a chunk or a stream arrives, costs move."""
        rng, what = self.rng, self.rng.randrange(7)
        if what == 0 and self.jobs:
            job = rng.choice(self.jobs)
            self.jobs.remove(job)
            self.queue.remove(job)
        elif what == 1 and self.jobs:
            job = rng.choice(self.jobs)
            if job.stage is Stage.DENOISE and job.step + 1 < job.request.steps:
                job.step += 1
        elif what == 2 and self.listeners:
            stream = rng.choice(list(self.listeners))
            self.listeners[stream].delivered(rng.uniform(0.1, 4), now=NOW - rng.uniform(0, 3))
            self.queue.moved(stream)
        elif what == 3 and self.listeners:
            stream = rng.choice(list(self.listeners))
            del self.listeners[stream]
            self.queue.moved(stream)
        elif what == 4 and self.next_index:
            self.add(self.submit(rng.choice(list(self.next_index))))
        elif what == 5:
            stream = max(self.next_index) + 1
            self.listeners[stream] = Listener(Place(stream))
            self.next_index[stream] = 0
            self.add(self.submit(stream))
        else:
            stage = rng.choice([Stage.PREPARE, Stage.DENOISE, Stage.VOCODE])
            self.costs.record(stage, 1, rng.randint(5, 120), rng.uniform(0.001, 0.2))
            self.costs.seconds_per_id = rng.uniform(0.03, 0.12)


@pytest.mark.parametrize("seed", range(40))
def test_candidates_are_those_of_the_definition(seed: int) -> None:
    rng = random.Random(seed)
    world = World(rng, streams=rng.choice([1, 3, 12, 40]))
    for _ in range(150):
        now = NOW + rng.choice([0.0, 0.3, 3.0, 7.0])
        got = list(world.queue.candidates(world.urgency, now))
        assert got == _defined_candidates(world.urgency, world.jobs, world.listeners, now)
        assert list(world.queue) == world.jobs
        if world.jobs:
            job = rng.choice(world.jobs)
            assert world.urgency.ready_in(job, world.queue, now) == pytest.approx(
                _defined_ready_in(world.urgency, job, world.jobs, world.listeners, now),
                rel=1e-12,
            )
        world.change()


def test_one_entry_a_stream_however_often_its_clock_moves() -> None:
    world = World(random.Random(1), streams=8)
    for i in range(500):
        streams = list(world.listeners)
        stream = streams[i % len(streams)]
        world.listeners[stream].delivered(0.01, now=NOW)
        world.queue.moved(stream)
        if i % 50 == 0:
            world.change()
    kept = world.queue._firsts + world.queue._playing + world.queue._waiting
    assert len(kept) == len(list(world.queue.lines()))
    assert list(world.queue.candidates(world.urgency, NOW)) == _defined_candidates(
        world.urgency, world.jobs, world.listeners, NOW
    )


def test_cancelled_jobs_in_arrival_order_and_clear() -> None:
    world = World(random.Random(2), streams=6)
    token = world.jobs[3].request.token
    token.cancel()
    assert world.queue.cancelled() == [j for j in world.jobs if j.request.token is token]
    assert world.queue.clear() == world.jobs and len(world.queue) == 0
    assert list(world.queue.candidates(world.urgency, NOW)) == []
