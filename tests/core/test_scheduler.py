"""Scheduler behaviour, deterministic (no timing asserts): order, bounds, cancellation, fairness."""

from __future__ import annotations

import dataclasses
import threading
import time

import numpy as np
import pytest
from supertonic_core import (
    CapacityError,
    Engine,
    EngineClosedError,
    InvalidOptionError,
    SynthesisCancelledError,
)
from supertonic_core.chunk_request import CancelToken, ChunkRequest, Place
from supertonic_core.jobs import Job, JobQueue, Listener
from supertonic_core.runtime import Runtime, RuntimeOptions
from supertonic_core.scheduler import Scheduler
from supertonic_core.synthesis import Stage
from supertonic_core.voices import VoiceStyle


class GatedRuntime:
    """Wraps the real runtime; blocks the first call until released, records call order."""

    def __init__(self, runtime) -> None:
        self.runtime = runtime
        self.sessions = runtime.sessions
        self.latent_channels = runtime.latent_channels
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.order: list[int] = []  # text length of row 0 of each vector-estimator call
        self.current: list = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.runtime, name)  # the device path's settings: the real runtime's

    def run(self, graph, feeds):
        self.entered.set()
        self.gate.wait(30)
        return self.runtime.run(graph, feeds)


def _job(engine: Engine, text: str, seed: int = 0, steps: int = 2, **place: object) -> ChunkRequest:
    """A chunk request; ``place``: its ``stream``, ``index`` or ``token``."""
    ids = engine.front_end.encode(text, "en")
    return ChunkRequest(ids, engine.style("F1"), 1.05, steps, seed, **place)  # type: ignore[arg-type]


def _scheduler(engine: Engine, runtime=None, **kwargs) -> Scheduler:
    return Scheduler(
        runtime or engine.runtime, sample_rate=engine.sample_rate, frame=3072, **kwargs
    )


def _first_calls(sched: Scheduler) -> list[ChunkRequest]:
    """Order in which requests first took part in a call."""
    seen: list[ChunkRequest] = []
    original = sched._execute

    def execute(stage, batch, runtime):
        for job in batch:
            if job.request not in seen:
                seen.append(job.request)
        return original(stage, batch, runtime)

    sched._execute = execute  # type: ignore[method-assign]
    return seen


def _candidates(sched: Scheduler, now: float, jobs: list[Job] | None = None) -> list[Job]:
    """The scheduler's candidates for its next call; ``jobs``: of these jobs instead of
    the queued ones (a queue of their own, the scheduler's listeners)."""
    queue = sched._queue
    if jobs is not None:
        queue = JobQueue(sched._streams)
        for job in jobs:
            queue.add(job)
    return list(queue.candidates(sched.urgency, now))


def test_first_chunks_and_earliest_deadline_go_first(engine: Engine) -> None:
    gated = GatedRuntime(engine.runtime)
    sched = _scheduler(engine, gated, max_batch=1)
    seen = _first_calls(sched)
    try:
        blocker = _job(engine, "Blocking first chunk.", stream=sched.open_stream().id)
        f0 = sched.submit(blocker)
        assert gated.entered.wait(10)
        buffered_long = sched.open_stream()
        sched.delivered(buffered_long, 30.0)  # 30 s of audio ahead of its listener
        buffered_short = sched.open_stream()
        sched.delivered(buffered_short, 20.0)
        newcomer = sched.open_stream()
        jobs = [  # the first two are later chunks of their streams
            _job(engine, "Later chunk, long buffer.", stream=buffered_long.id, index=3),
            _job(engine, "Later chunk, shorter buffer.", stream=buffered_short.id, index=3),
            _job(engine, "A new stream's first chunk.", stream=newcomer.id),
        ]
        futures = [sched.submit(j) for j in jobs]
        gated.gate.set()
        for f in [f0, *futures]:
            f.result(timeout=30)
        long, short, new = jobs
        assert seen == [blocker, new, short, long]
    finally:
        sched.close()


def test_admission_queue_is_bounded(engine: Engine) -> None:
    sched = _scheduler(engine, max_streams=1, max_queue=1)
    try:
        playing = sched.open_stream()
        waiting = sched.open_stream()
        assert playing.admitted.done() and not waiting.admitted.done()
        with pytest.raises(CapacityError) as info:
            sched.open_stream()
        assert info.value.retry_after >= 1
        sched.close_stream(playing)
        assert waiting.admitted.done()
        assert sched.state()["waiting_streams"] == 0
    finally:
        sched.close()


def test_cancelled_row_leaves_and_frees_its_place(engine: Engine) -> None:
    gated = GatedRuntime(engine.runtime)
    sched = _scheduler(engine, gated)
    try:
        stream = sched.open_stream()
        token = CancelToken()
        request = _job(
            engine, "This row will be cancelled.", steps=8, stream=stream.id, token=token
        )
        future = sched.submit(request)
        with sched._cond:
            job = sched._queue.job_of(future)
        assert gated.entered.wait(10)
        token.cancel()
        gated.gate.set()
        with pytest.raises(SynthesisCancelledError):
            future.result(timeout=30)
        assert job.step <= 1  # left after at most the step in progress
        sched.close_stream(stream)
        state = sched.state()
        assert state["queued_jobs"] == 0 and state["active_streams"] == 0
    finally:
        sched.close()


def test_no_stream_starves_under_mixed_load(engine: Engine) -> None:
    """Many streams, long and short, urgent and buffered: every chunk completes."""
    sched = _scheduler(engine, max_batch=4)
    try:
        futures = []
        for i in range(12):
            stream = sched.open_stream()
            if i % 3 == 0:
                sched.delivered(stream, 5.0 * i)
            for k in range(3):
                text = "Short." if (i + k) % 2 else "A much longer chunk of text for this stream."
                request = _job(engine, text, seed=i * 10 + k, stream=stream.id, index=k)
                futures.append(sched.submit(request))
        deadline = time.monotonic() + 60
        for f in futures:
            f.result(timeout=max(0.1, deadline - time.monotonic()))
        assert sched.state()["queued_jobs"] == 0
        assert sum(sched.batch_sizes.values()) == sched.calls
    finally:
        sched.close()


def test_state_reports_for_metrics(engine: Engine) -> None:
    state = engine.scheduler.state()
    for key in (
        "queued_jobs",
        "active_streams",
        "waiting_streams",
        "batch_sizes",
        "capacity_audio_s_per_s",
        "stream_leads_s",
        "underruns",
    ):
        assert key in state
    assert state["capacity_audio_s_per_s"] > 0  # measured at warm-up


def test_listener_clock_counts_underruns() -> None:
    s = Listener(Place(1))
    s.delivered(1.0, now=10.0)  # plays 10..11
    s.delivered(1.0, now=10.5)  # arrives early: plays 11..12
    assert s.underruns == 0 and s.lead(now=10.5) == pytest.approx(1.5)
    s.delivered(1.0, now=12.25)  # 0.25 s of silence before it
    assert s.underruns == 1 and s.underrun_s == pytest.approx(0.25)
    assert s.play_end == pytest.approx(13.25)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"max_batch": 0}, "max_batch"),
        ({"max_queue": -1}, "max_queue"),
    ],
)
def test_bad_settings(engine: Engine, kwargs, name) -> None:
    with pytest.raises(InvalidOptionError) as info:
        _scheduler(engine, **kwargs)
    assert name in str(info.value)


async def test_cancel_while_waiting_for_admission(tiny_bundle) -> None:
    import asyncio

    with Engine(tiny_bundle, max_streams=1, max_queue=4) as engine:
        playing = engine.open_stream(engine.options(seed=0))
        playing.add_text("Holding the only slot.")
        playing.flush()  # a stream takes its place with its first chunk
        waiting = engine.open_stream(engine.options(seed=1))
        waiting.add_text("Waiting for a slot.")
        waiting.end()
        assert not waiting.place.admitted.done()
        reader = asyncio.create_task(_drain(waiting))
        await asyncio.sleep(0)
        waiting.cancel()
        assert await asyncio.wait_for(reader, 10) == []
        assert engine.scheduler.state()["waiting_streams"] == 0
        playing.close()


async def _drain(stream) -> list:
    return [chunk async for chunk in stream]


def test_a_waiting_stream_runs_nothing_until_admitted(tiny_bundle) -> None:
    """Audio that started while waiting for a slot would stop again mid-reply."""
    with Engine(tiny_bundle, max_streams=1, max_queue=4) as engine:
        playing = engine.open_stream(engine.options(seed=0))
        playing.add_text("Holding the only slot.")
        playing.flush()  # a stream takes its place with its first chunk
        waiting = engine.open_stream(engine.options(seed=1))
        waiting.add_text("The first sentence is here. The second sentence follows it. And a third.")
        waiting.end()
        waiting._next_ready()  # what iterating does first
        assert not waiting.place.admitted.done()
        assert engine.scheduler.state()["queued_jobs"] == 0
        playing.close()
        chunks = list(waiting)
        assert [c.index for c in chunks] == list(range(len(chunks))) and len(chunks) > 1
        waiting.close()


def test_a_first_chunk_is_not_batched_with_later_chunks(engine: Engine) -> None:
    gated = GatedRuntime(engine.runtime)
    sched = _scheduler(engine, gated, max_batch=8, max_padding=1.0)
    seen_batches: list[list[int]] = []
    original = sched._execute

    def execute(stage, batch, runtime):
        seen_batches.append([j.index for j in batch])
        return original(stage, batch, runtime)

    sched._execute = execute  # type: ignore[method-assign]
    try:
        blocker = sched.submit(_job(engine, "Blocking."))
        assert gated.entered.wait(10)
        later = sched.open_stream()
        sched.delivered(later, 10.0)
        second = _job(engine, "A later chunk of a playing stream.", stream=later.id, index=1)
        futures = [
            sched.submit(second),
            sched.submit(_job(engine, "A first chunk.", stream=sched.open_stream().id)),
        ]
        gated.gate.set()
        for f in [blocker, *futures]:
            f.result(timeout=30)
        assert not [b for b in seen_batches if 0 in b and 1 in b]
    finally:
        sched.close()


def test_a_first_chunk_goes_first_only_while_playing_streams_can_pay_for_it(
    engine: Engine,
) -> None:
    """Earliest deadline first among later chunks; a new stream's first chunk jumps the
    line when the playing streams' buffered audio covers its cost, and otherwise waits (for
    a bounded time)."""
    sched = _scheduler(engine)
    try:
        for stage in (Stage.PREPARE, Stage.DENOISE, Stage.VOCODE):
            sched.costs.record(stage, 1, 1, 0.005)  # seconds per frame
        playing = sched.open_stream()
        clock = sched._streams[playing.id]
        later = Job(_job(engine, "A later chunk of a playing stream.", stream=playing.id, index=1))
        first = Job(_job(engine, "A first chunk.", seed=1, stream=sched.open_stream().id))
        first.submitted = 99.0
        queued = [later, first]  # a queue set by hand, out of the worker's reach
        with sched._cond:
            assert 0.1 < sched.urgency.remaining_cost(first) < 1.0  # what it costs to run it now
            clock.delivered(0.5, now=100.0)  # its listener runs dry at 100.5
            assert _candidates(sched, 100.0, queued)[0] is later
            clock.delivered(30.0, now=100.0)  # 30 s more buffered: it can wait
            assert _candidates(sched, 100.0, queued)[0] is first
            clock.first_audio_at, clock.play_end = 100.0, 100.5  # again 0.5 s left
            assert _candidates(sched, 100.0, queued)[0] is later
            # streams that stay behind hold a newcomer back for a bounded time only
            assert _candidates(sched, 105.0, queued)[0] is first
    finally:
        sched.close()


@pytest.mark.parametrize(
    ("call_cost", "chosen", "tried"),
    [
        # a small CPU: two rows cost two singles; the search stops at once
        ({1: 1.0, 2: 2.0}, 1, [1, 2]),
        # rows almost free up to 4, then the cost per row stops falling
        ({1: 1.0, 2: 1.1, 4: 1.3, 8: 2.5}, 4, [1, 2, 4, 8]),
        # a GPU: 64 rows cost a few singles
        ({1: 1.0, 2: 1.0, 4: 1.1, 8: 1.2, 16: 1.4, 32: 1.9, 64: 3.0}, 64, [1, 2, 4, 8, 16, 32, 64]),
    ],
)
def test_calibration_batches_while_the_cost_per_row_falls(
    engine: Engine, call_cost: dict[int, float], chosen: int, tried: list[int]
) -> None:
    sched = _scheduler(engine)
    measured: list[int] = []

    def step_cost(jobs: list) -> float:
        measured.append(len(jobs))
        return call_cost[len(jobs)]

    sched._step_cost = step_cost  # type: ignore[method-assign]
    try:
        sched.calibrate(_job(engine, "Calibration text."))
        assert sched.max_batch == chosen
        assert measured == tried  # no size past the first that does not pay
    finally:
        sched.close()


def test_speech_per_symbol_is_learned_from_prepared_chunks(engine: Engine) -> None:
    """Deadlines of chunks not prepared yet come from their text length and this rate."""
    sched = _scheduler(engine)
    prepared: list = []
    original = sched._execute

    def execute(stage, batch, runtime):
        prepared.extend(batch if stage is Stage.PREPARE else [])
        return original(stage, batch, runtime)

    sched._execute = execute  # type: ignore[method-assign]
    try:
        before = sched.costs.seconds_per_id
        sched.submit(_job(engine, "A sentence long enough to measure its spoken length.")).result(
            timeout=30
        )
        (job,) = prepared
        measured = job.duration / len(job.request.ids)
        after = sched.costs.seconds_per_id
        assert abs(after - measured) < abs(before - measured) or before == measured
    finally:
        sched.close()


def test_a_streams_own_chunks_run_in_order_first_chunk_first(engine: Engine) -> None:
    """An agent reply "Sure. <long sentence>": the short first chunk must not wait for the
    stream's own long second chunk (whose deadline counts only the first chunk's audio)."""
    gated = GatedRuntime(engine.runtime)
    sched = _scheduler(engine, gated, max_batch=1)
    seen = _first_calls(sched)
    try:
        blocker = _job(engine, "Blocking first chunk.", stream=sched.open_stream().id)
        f0 = sched.submit(blocker)
        assert gated.entered.wait(10)
        for stage in (Stage.PREPARE, Stage.DENOISE, Stage.VOCODE):
            sched.costs.record(stage, 1, 1, 0.02)  # seconds per frame: a slow device
        reply = sched.open_stream().id
        first = _job(engine, "Sure.", stream=reply)
        second = _job(
            engine, "I found three flights that match: " * 6, seed=1, stream=reply, index=1
        )
        futures = [sched.submit(first), sched.submit(second)]
        with sched._cond:
            candidates = [j.request for j in _candidates(sched, time.monotonic())]
            assert first in candidates and second not in candidates
        gated.gate.set()
        for f in [f0, *futures]:
            f.result(timeout=30)
        assert seen == [blocker, first, second]
    finally:
        sched.close()


def test_a_first_chunk_waits_when_a_chunk_behind_a_head_would_run_late(engine: Engine) -> None:
    """The slack that pays for a newcomer's first chunk is that of every later chunk of
    the playing streams, not only of the chunk each of them runs next."""
    sched = _scheduler(engine)
    try:
        for stage in (Stage.PREPARE, Stage.DENOISE, Stage.VOCODE):
            sched.costs.record(stage, 1, 1, 0.005)  # seconds per frame
        playing = sched.open_stream()
        head = Job(_job(engine, "A short later chunk.", stream=playing.id, index=1), duration=1.0)
        behind = Job(
            _job(engine, "A long chunk queued behind it.", seed=1, stream=playing.id, index=2),
            duration=20.0,
        )
        first = Job(_job(engine, "A first chunk.", seed=2, stream=sched.open_stream().id))
        first.submitted = 99.0
        with sched._cond:
            sched._streams[playing.id].delivered(3.0, now=100.0)  # the head could wait 2.5 s
            assert _candidates(sched, 100.0, [head, behind, first])[0] is head
    finally:
        sched.close()


def test_a_failing_row_fails_alone_not_its_batch(engine: Engine) -> None:
    """A row that cannot be synthesized (here a style of NaNs, which no validated voice
    gives) fails its own request only; the rows batched with it are served."""
    gated = GatedRuntime(engine.runtime)
    sched = _scheduler(engine, gated, max_batch=8, max_padding=1.0)
    batches: list[int] = []
    original = sched._execute

    def execute(stage, batch, runtime):
        batches.append(len(batch))
        return original(stage, batch, runtime)

    sched._execute = execute  # type: ignore[method-assign]
    try:
        blocker = sched.submit(_job(engine, "Blocking."))
        assert gated.entered.wait(10)
        good = [_job(engine, "A good row.", seed=s) for s in (1, 2)]
        style = engine.style("F1")
        broken = VoiceStyle(
            "broken", np.full_like(style.ttl, np.nan), np.full_like(style.dp, np.nan)
        )
        bad = dataclasses.replace(_job(engine, "A bad row.", seed=3), style=broken)
        futures = [sched.submit(job) for job in (good[0], bad, good[1])]
        gated.gate.set()
        blocker.result(timeout=30)
        assert all(f.result(timeout=30).size > 0 for f in (futures[0], futures[2]))
        with pytest.raises(ValueError):
            futures[1].result(timeout=30)
        assert 3 in batches  # the three rows did share a call
    finally:
        sched.close()


def test_delivery_is_recorded_under_the_schedulers_lock(engine: Engine) -> None:
    """The stream records delivered audio from the event loop's thread while the worker
    reads the same playback clock under the lock: a delivery must take the lock too. With
    the lock held here, a delivery waits; once it is released, it lands."""
    sched = _scheduler(engine, max_batch=1)
    try:
        stream = sched.open_stream()
        delivery = threading.Thread(target=sched.delivered, args=(stream, 2.0))
        with sched._cond:
            delivery.start()
            delivery.join(0.2)
            assert delivery.is_alive() and sched.listener(stream).first_audio_at is None
        delivery.join(10)
        clock = sched.listener(stream)
        assert clock.audio_s == 2.0 and clock.first_audio_at is not None
    finally:
        sched.close()


# ------------------------------------------------------------------ several workers


class HeldRuntime:
    """A runtime of its own (same bundle, same options as its twin) whose calls wait for
    ``gate``; ``entered`` is set by its first call."""

    def __init__(self, bundle, gate: threading.Event | None = None) -> None:
        self.runtime = Runtime(bundle, RuntimeOptions(intra_threads=1))
        self.gate = gate or threading.Event()
        self.entered = threading.Event()

    def __getattr__(self, name: str) -> object:
        return getattr(self.runtime, name)  # sessions, shapes, the device path's settings

    def run(self, graph, feeds):
        self.entered.set()
        assert self.gate.wait(30)
        return self.runtime.run(graph, feeds)


def _two_held_workers(engine: Engine, bundle) -> tuple[Scheduler, threading.Event, list]:
    """A scheduler of two workers, one row a call, whose calls wait for the gate."""
    gate = threading.Event()
    held = [HeldRuntime(bundle, gate) for _ in range(2)]
    sched = _scheduler(engine, held[0], max_batch=1)
    sched.set_workers(held)
    return sched, gate, held


def _in_flight_watch(sched: Scheduler) -> tuple[list[int], set]:
    """Streams found in two calls at once (stays empty), and the runtimes that ran calls."""
    lock, running, overlaps, used = threading.Lock(), set(), [], set()
    original = sched._execute

    def execute(stage, batch, runtime):
        streams = {j.request.stream for j in batch}
        with lock:
            overlaps.extend(streams & running)
            running.update(streams)
            used.add(runtime)
        try:
            return original(stage, batch, runtime)
        finally:
            with lock:
                running.difference_update(streams)

    sched._execute = execute  # type: ignore[method-assign]
    return overlaps, used


def _replies(engine: Engine, sched: Scheduler, streams: int = 4) -> list[ChunkRequest]:
    texts = ["Sure.", "I found three flights that match your dates.", "Which one?"]
    requests = []
    for s in range(streams):
        place = sched.open_stream()
        for k, text in enumerate(texts):
            requests.append(_job(engine, text, seed=10 * s + k, stream=place.id, index=k))
    return requests


def test_two_workers_give_the_audio_of_one(engine: Engine, tiny_bundle) -> None:
    """Same requests, same seeds: the same samples whichever worker ran each call, and
    both workers did run calls (the first waits until the second has started one)."""
    both_in = threading.Event()
    first, second = HeldRuntime(tiny_bundle, both_in), HeldRuntime(tiny_bundle)
    second.gate.set()
    threading.Thread(target=lambda: second.entered.wait(30) and both_in.set()).start()
    one = _scheduler(engine, HeldRuntime(tiny_bundle, second.gate), max_batch=1)
    two = _scheduler(engine, first, max_batch=1)
    two.set_workers([first, second])
    overlaps, used = _in_flight_watch(two)
    try:
        alone = [one.submit(r) for r in _replies(engine, one)]  # all queued at once
        shared = [two.submit(r) for r in _replies(engine, two)]
        alone, shared = [[f.result(timeout=60) for f in fs] for fs in (alone, shared)]
        for a, b in zip(alone, shared, strict=True):
            np.testing.assert_array_equal(a, b)
        assert used == {first, second} and overlaps == []
        assert two.state()["workers"] == 2
    finally:
        one.close()
        two.close()


def test_a_stream_in_one_workers_call_is_no_candidate_for_another(
    engine: Engine, tiny_bundle
) -> None:
    sched, gate, held = _two_held_workers(engine, tiny_bundle)
    overlaps, _ = _in_flight_watch(sched)
    try:
        futures = [sched.submit(r) for r in _replies(engine, sched, streams=2)]
        assert all(h.entered.wait(10) for h in held)  # each holds one stream's first chunk
        with sched._cond:
            assert _candidates(sched, time.monotonic()) == []
            assert sched.state()["queued_jobs"] == 6
        gate.set()
        for f in futures:
            f.result(timeout=60)
        assert overlaps == []
    finally:
        sched.close()


def test_cancel_and_close_fail_pending_futures_with_two_workers(
    engine: Engine, tiny_bundle
) -> None:
    sched, gate, held = _two_held_workers(engine, tiny_bundle)
    token = CancelToken()
    cancelled_place, other_place = sched.open_stream(), sched.open_stream()
    cancelled = [
        sched.submit(
            _job(engine, "Cancelled.", steps=8, stream=cancelled_place.id, index=k, token=token)
        )
        for k in range(3)
    ]
    others = [
        sched.submit(_job(engine, "Closed.", steps=8, stream=other_place.id, index=k))
        for k in range(3)
    ]
    assert all(h.entered.wait(10) for h in held)  # both streams' heads in a call
    token.cancel()
    closer = threading.Thread(target=sched.close)
    closer.start()
    with sched._cond:
        assert sched._cond.wait_for(lambda: sched._closed, timeout=10)
    gate.set()
    closer.join(30)
    assert not closer.is_alive() and not sched._threads
    for f in cancelled:
        with pytest.raises((SynthesisCancelledError, EngineClosedError)):
            f.result(timeout=10)
    for f in others:
        with pytest.raises(EngineClosedError):
            f.result(timeout=10)


# ------------------------------------------------------------------ who shares a call


def _prepared(engine: Engine, frames: int, **place: object) -> Job:
    """A job past prepare, ``frames`` latent frames long."""
    job = Job(_job(engine, "A prepared chunk.", **place), stage=Stage.DENOISE)
    job.latent = np.zeros((engine.runtime.latent_channels, frames), np.float32)
    job.frames = frames
    job.text_emb = np.zeros((256, len(job.request.ids)), np.float32)
    return job


@pytest.mark.parametrize(
    ("two_rows_s", "frames", "shared"),
    [
        (0.25, 100, True),  # a GPU-like call: a second row costs a quarter of a single
        (0.25, 30, True),  # 35 % of the call is padding, and it is still cheaper than alone
        (0.45, 100, False),  # a CPU-like call: two rows cost more than two singles
    ],
)
def test_rows_share_a_call_when_the_costs_say_it_pays(
    engine: Engine, two_rows_s: float, frames: int, shared: bool
) -> None:
    sched = _scheduler(engine, max_batch=4, max_padding=0.0)  # the padding cap is not asked
    try:
        sched.costs.record(Stage.DENOISE, 1, 100, 0.2)
        sched.costs.record(Stage.DENOISE, 2, 100, two_rows_s)
        jobs = [_prepared(engine, 100, stream=sched.open_stream().id, index=1)]
        jobs.append(_prepared(engine, frames, stream=sched.open_stream().id, index=1))
        with sched._cond:
            for job in jobs:
                sched._queue.add(job)
            stage, batch = sched._pick()
            sched._queue.clear()
        assert stage is Stage.DENOISE and len(batch) == (2 if shared else 1)
    finally:
        sched.close()


@pytest.mark.parametrize(("two_rows_s", "rides"), [(0.205, True), (0.3, False)])
def test_later_chunks_ride_with_a_first_chunk_only_for_free(
    engine: Engine, two_rows_s: float, rides: bool
) -> None:
    """A later chunk shares a first chunk's call when the call stays within 5 % of its
    cost alone: the first audio pays nothing for it."""
    sched = _scheduler(engine, max_batch=4)
    try:
        sched.costs.record(Stage.DENOISE, 1, 100, 0.2)
        sched.costs.record(Stage.DENOISE, 2, 100, two_rows_s)
        playing = sched.open_stream()
        sched.delivered(playing, 30.0)  # plenty buffered: the first chunk goes first
        later = _prepared(engine, 100, stream=playing.id, index=1)
        first = _prepared(engine, 100, stream=sched.open_stream().id, index=0)
        with sched._cond:
            sched._queue.add(later)
            sched._queue.add(first)
            _, batch = sched._pick()
            sched._queue.clear()
        assert batch == ([first, later] if rides else [first])
    finally:
        sched.close()
