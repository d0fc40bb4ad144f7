"""Scheduler behaviour, deterministic (no timing asserts): order, bounds, cancellation, fairness."""

from __future__ import annotations

import dataclasses
import threading
import time

import numpy as np
import pytest
from supertonic_core import CapacityError, Engine, InvalidOptionError, SynthesisCancelledError
from supertonic_core.chunk_request import CancelToken, ChunkRequest, Place
from supertonic_core.jobs import Job, Listener
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

    def execute(stage, batch):
        for job in batch:
            if job.request not in seen:
                seen.append(job.request)
        return original(stage, batch)

    sched._execute = execute  # type: ignore[method-assign]
    return seen


def _candidates(sched: Scheduler, now: float) -> list[Job]:
    return sched.urgency.candidates(sched._jobs, sched._streams, now)


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
            job = sched._jobs[-1]
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

    def execute(stage, batch):
        seen_batches.append([j.index for j in batch])
        return original(stage, batch)

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
        with sched._cond:  # the worker stays out while the queue is set by hand
            sched._jobs[:] = [later, first]
            assert 0.1 < sched.urgency.remaining_cost(first) < 1.0  # what it costs to run it now
            clock.delivered(0.5, now=100.0)  # its listener runs dry at 100.5
            assert _candidates(sched, 100.0)[0] is later
            clock.delivered(30.0, now=100.0)  # 30 s more buffered: it can wait
            assert _candidates(sched, 100.0)[0] is first
            clock.first_audio_at, clock.play_end = 100.0, 100.5  # again 0.5 s left
            assert _candidates(sched, 100.0)[0] is later
            # streams that stay behind hold a newcomer back for a bounded time only
            assert _candidates(sched, 105.0)[0] is first
            sched._jobs.clear()
    finally:
        sched.close()


@pytest.mark.parametrize(
    ("call_cost", "chosen"),
    [
        ({1: 1.0, 2: 2.0, 4: 3.4, 8: 6.4}, 1),  # a small CPU: batching would stall the urgent row
        ({1: 1.0, 2: 1.1, 4: 1.3, 8: 2.5}, 4),  # rows almost free up to 4
        ({1: 1.0, 2: 1.0, 4: 1.1, 8: 1.2}, 8),  # a GPU
    ],
)
def test_calibration_batches_only_where_a_call_stays_cheap(
    engine: Engine, call_cost: dict[int, float], chosen: int
) -> None:
    sched = _scheduler(engine)
    sched._step_cost = lambda jobs: call_cost[len(jobs)]  # type: ignore[method-assign]
    try:
        sched.calibrate(_job(engine, "Calibration text."))
        assert sched.max_batch == chosen
    finally:
        sched.close()


def test_speech_per_symbol_is_learned_from_prepared_chunks(engine: Engine) -> None:
    """Deadlines of chunks not prepared yet come from their text length and this rate."""
    sched = _scheduler(engine)
    prepared: list = []
    original = sched._execute

    def execute(stage, batch):
        prepared.extend(batch if stage is Stage.PREPARE else [])
        return original(stage, batch)

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
            sched._jobs[:] = [head, behind, first]
            sched._streams[playing.id].delivered(3.0, now=100.0)  # the head could wait 2.5 s
            assert _candidates(sched, 100.0)[0] is head
            sched._jobs.clear()
    finally:
        sched.close()


def test_a_failing_row_fails_alone_not_its_batch(engine: Engine) -> None:
    """A row that cannot be synthesized (here a style of NaNs, which no validated voice
    gives) fails its own request only; the rows batched with it are served."""
    gated = GatedRuntime(engine.runtime)
    sched = _scheduler(engine, gated, max_batch=8, max_padding=1.0)
    batches: list[int] = []
    original = sched._execute

    def execute(stage, batch):
        batches.append(len(batch))
        return original(stage, batch)

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
