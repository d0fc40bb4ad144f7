"""One scheduler per loaded model: it owns every synthesis job and decides what runs next.

Streams hand it immutable chunk requests (:mod:`.chunk_request`) and get each chunk's
waveform back through a future; everything that changes while a chunk is synthesized (its
stage, step, latent, predicted duration) lives in the scheduler's own job record, which
only the worker running it writes. A worker advances jobs one stage at a time (a
denoising step is one call), so a newly arrived first chunk waits at most one step, a
cancelled row leaves at the next step, and rows of several streams can share a call. On a
big machine several workers (:mod:`.workers`: a runtime each, with its own sessions and
threads, or its own GPU) take calls from the same queue; a stream in one worker's call is
no candidate for the others, so a job is never in two calls at once. The
phrase cache sits behind the same :meth:`Scheduler.submit`: a hit returns a future that is
already done.

Priorities serve voice agents, and a gap in a voice that is already speaking is the worst
outcome: later chunks run earliest deadline first (the deadline is when the listener,
playing in real time from the first byte, runs out of audio), and a stream's first chunk
goes ahead of them whenever the playing streams have enough audio buffered to pay for it.
Admission control keeps the number of playing streams within the measured capacity;
later streams wait their turn (nothing of theirs runs, so their audio never starts only to
stop), or are refused beyond the queue bound, instead of every playing stream falling
behind. Batches are formed only where measurement says they pay (on a small CPU a batch of
four costs about four singles): a row joins a call when the measured costs say the call
with it (padded to its longest row) costs less than the two calls apart, and a row that is
not due yet rides along only when it costs the call nothing.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
import threading
import time
from collections import Counter, deque
from collections.abc import Sequence
from concurrent.futures import Future, InvalidStateError
from typing import Any, TypeVar

import numpy as np

from . import synthesis
from .chunk_request import ChunkRequest, Place
from .costs import CostModel
from .errors import CapacityError, EngineClosedError, InvalidOptionError, SynthesisCancelledError
from .jobs import TYPICAL_SPEECH_S, Job, JobQueue, Listener, Urgency
from .phrase_cache import MAX_PHRASE_IDS, PhraseCache, PhraseKey, style_digest
from .runtime import Runtime
from .synthesis import Row, Stage

logger = logging.getLogger("supertonic_core")

#: Transitional: the server's settings still import it for ``--policy``, which goes with
#: their rewrite (issue 23); the deadline scheduler is the only one.
POLICIES = ("deadline",)
LARGEST_BATCH = 64  # largest batch calibration tries
_PER_ROW_GAIN = 0.9  # a doubled batch must cut the cost per row by 10 % to be used
FREE_SHARE = 0.05  # rows ride along in a call while they make it at most 5 % longer
_STAGES = (Stage.PREPARE, Stage.DENOISE, Stage.VOCODE)
_R = TypeVar("_R", bound=Row)


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


class Scheduler:
    """Runs the chunks of many streams on one model.

    Args:
        runtime: the loaded sessions of the first worker (:meth:`set_workers` for more).
        sample_rate: output rate of the vocoder.
        frame: audio samples per latent frame.
        max_batch: most rows in one call; 1 disables batching. None chooses from measured cost
            (see :meth:`calibrate`).
        max_streams: streams synthesized at once; later ones wait. None chooses from the
            measured capacity (the real-time streams the device sustains).
        max_queue: streams allowed to wait; one more is refused with :class:`CapacityError`.
        max_padding: largest share of padded frames tolerated in a batched call while the
            measured costs cannot price it yet (before :meth:`calibrate` or the first calls
            at that size); once they can, they decide.
        phrase_cache: where short chunks' audio is kept and served again; None for none.
    """

    def __init__(
        self,
        runtime: Runtime,
        *,
        sample_rate: int,
        frame: int,
        max_batch: int | None = None,
        max_streams: int | None = None,
        max_queue: int = 64,
        max_padding: float = 0.25,
        phrase_cache: PhraseCache | None = None,
    ) -> None:
        if max_batch is not None and max_batch < 1:
            raise InvalidOptionError("max_batch", max_batch, "at least 1")
        if max_streams is not None and max_streams < 1:
            raise InvalidOptionError("max_streams", max_streams, "at least 1")
        if max_queue < 0:
            raise InvalidOptionError("max_queue", max_queue, "zero or more")
        self.sample_rate = sample_rate
        self.frame = frame
        self.max_queue = max_queue
        self.max_padding = max_padding
        self.phrase_cache = phrase_cache
        self._max_batch = max_batch
        self._max_streams = max_streams
        self.costs = CostModel()
        self.urgency = Urgency(self.costs, sample_rate=sample_rate, frame=frame)
        self.batch_sizes: Counter[int] = Counter()
        self.calls = 0
        self.streams_total = 0
        self.rejected_total = 0  # streams refused with CapacityError (HTTP 429)
        self.underruns_total = 0  # of closed streams; open ones are added in state()
        self.underrun_s_total = 0.0
        self._cond = threading.Condition()
        self._streams: dict[int, Listener] = {}
        self._queue = JobQueue(self._streams)
        self._waiting: deque[Place] = deque()
        self._ids = itertools.count(1)
        self._seq = itertools.count()
        self._closed = False
        self._runtimes: list[Runtime] = []
        self._threads: dict[int, threading.Thread] = {}  # worker index -> its thread
        self.set_workers([runtime])

    # ------------------------------------------------------------------ public

    @property
    def runtime(self) -> Runtime:
        """The first worker's runtime: calibration and duration previews run on it."""
        return self._runtimes[0]

    @property
    def workers(self) -> int:
        return len(self._runtimes)

    @property
    def runtimes(self) -> tuple[Runtime, ...]:
        """Every worker's runtime (each warms its own shape buckets)."""
        return tuple(self._runtimes)

    def set_workers(self, runtimes: Sequence[Runtime]) -> None:
        """Feed these runtimes from now on, one worker thread each.

        Why a swap: how many workers a machine wants is chosen by calibration
        (:func:`.workers.choose_workers`), on the engine's first runtime, after the
        scheduler has started. A worker whose runtime is dropped ends after its call in
        progress; the others take their runtime anew at every call.
        """
        if not runtimes:
            raise InvalidOptionError("workers", 0, "at least one runtime")
        with self._cond:
            self._runtimes = list(runtimes)
            for index in range(len(self._runtimes)):
                if index not in self._threads:
                    thread = threading.Thread(
                        target=self._loop,
                        args=(index,),
                        name=f"supertonic-scheduler-{index}",
                        daemon=True,
                    )
                    self._threads[index] = thread
                    thread.start()
            self._cond.notify_all()

    @property
    def max_batch(self) -> int:
        return self._max_batch or 1

    @property
    def max_streams(self) -> int:
        if self._max_streams is not None:
            return self._max_streams
        capacity = self.capacity()
        # As many streams as the device keeps in real time; the rest wait.
        return max(1, math.floor(capacity)) if capacity else 4

    def capacity(self, steps: int = 8) -> float | None:
        """Estimated audio-seconds produced per wall-second at ``steps`` steps, for chunks of
        typical length, by every worker, or None if unmeasured."""
        frames = self.urgency.typical_frames
        per_row = []
        with self._cond:
            for rows in sorted({1, self.max_batch}):
                costs = [self.costs.call(st, frames, rows) for st in _STAGES]
                if all(c is not None for c in costs):
                    prepare, denoise, vocode = costs
                    per_row.append((prepare + steps * denoise + vocode) / rows)  # type: ignore[operator]
            workers = len(self._runtimes)
        return workers * TYPICAL_SPEECH_S / min(per_row) if per_row else None

    def open_stream(self) -> Place:
        """A place for a stream: admitted at once, or waiting its turn (``admitted`` resolves
        then); raises CapacityError beyond the queue bound."""
        with self._cond:
            if self._closed:
                raise EngineClosedError("the engine is closed")
            place = Place(next(self._ids))
            active = self._active()
            if active < self.max_streams and not self._waiting:
                _settle(place.admitted, None)
            elif len(self._waiting) >= self.max_queue:
                self.rejected_total += 1
                raise CapacityError(
                    f"server busy: {active} streams playing and {len(self._waiting)} waiting",
                    retry_after=self._retry_after(),
                )
            else:
                self._waiting.append(place)
            self._streams[place.id] = Listener(place)
            self.streams_total += 1
            return place

    def close_stream(self, place: Place) -> None:
        """Forget a stream and let the next waiting one start."""
        with self._cond:
            listener = self._streams.pop(place.id, None)
            if listener is not None:
                self.underruns_total += listener.underruns
                self.underrun_s_total += listener.underrun_s
                self._queue.moved(place.id)
            if place in self._waiting:
                self._waiting.remove(place)
            if not place.admitted.done():
                _settle(place.admitted, exc=SynthesisCancelledError("stream closed"))
            self._admit_waiting()
            self._cond.notify_all()

    def submit(self, request: ChunkRequest) -> Future[np.ndarray]:
        """Queue one chunk; the future resolves to its float32 waveform (at once from the
        phrase cache)."""
        key = self._cache_key(request)
        if key is not None and (wav := self.phrase_cache.get(key)) is not None:  # type: ignore[union-attr]
            served: Future[np.ndarray] = Future()
            served.set_result(wav)
            return served
        with self._cond:
            if self._closed:
                raise EngineClosedError("the engine is closed")
            job = Job(request, seq=next(self._seq), submitted=time.monotonic(), cache_key=key)
            self._queue.add(job)
            self._cond.notify_all()
        return job.future

    def delivered(self, place: Place, seconds: float) -> None:
        """Record ``seconds`` of a stream's audio handed to its listener (from any thread)."""
        with self._cond:
            if (listener := self._streams.get(place.id)) is not None:
                listener.delivered(seconds)
                self._queue.moved(place.id)

    def listener(self, place: Place) -> Listener:
        """A copy of the stream's playback clock: audio delivered, underruns."""
        with self._cond:
            return dataclasses.replace(self._streams.get(place.id) or Listener(place))

    @property
    def seconds_per_symbol(self) -> float:
        """Seconds of speech per token id, learned from the chunks prepared so far."""
        with self._cond:
            return self.costs.seconds_per_id

    def speech_budget(
        self, place: Place, ahead: Sequence[Future[np.ndarray]], steps: int
    ) -> float | None:
        """Seconds of speech a stream's next chunk may hold and still be ready before its
        listener runs dry, after the stream's chunks ``ahead`` (the futures of those
        submitted and not delivered yet).

        See :meth:`.Urgency.speech_budget`; None until costs are measured.
        """
        with self._cond:
            if any(self.costs.call(st, 1.0) is None for st in _STAGES):
                return None
            running = {id(j.future): j for j in self._queue.line(place.id)}
            owing = [running[id(f)] for f in ahead if id(f) in running]
            ready = [f.result() for f in ahead if id(f) not in running and _succeeded(f)]
            return self.urgency.speech_budget(
                self._streams.get(place.id) or Listener(place),
                owing,
                ready_s=sum(len(wav) for wav in ready) / self.sample_rate,
                share=max(1.0, self._active() / len(self._runtimes)),
                steps=steps,
                now=time.monotonic(),
            )

    def ready_in(self, future: Future[np.ndarray]) -> float:
        """Predicted seconds until the chunk of ``future`` is done: its own compute and that
        of every later chunk due before it (earliest deadline first)."""
        with self._cond:
            job = self._queue.job_of(future)
            if job is None:
                return 0.0
            return self.urgency.ready_in(job, self._queue, time.monotonic())

    def predict_seconds(self, requests: Sequence[ChunkRequest]) -> list[float]:
        """Seconds of audio each request will make, from the duration predictor alone (run
        on the caller's thread, outside the batches: the smallest graph, no job)."""
        return synthesis.predict_audio_seconds(
            self.runtime, requests, sample_rate=self.sample_rate, frame=self.frame
        )

    def state(self) -> dict[str, object]:
        """Numbers for metrics: queue depth, streams, batch sizes, capacity, leads, underruns."""
        now = time.monotonic()
        with self._cond:
            clocks = self._streams
            return {
                "queued_jobs": len(self._queue),
                "active_streams": self._active(),
                "waiting_streams": len(self._waiting),
                "max_streams": self.max_streams,
                "max_batch": self.max_batch,
                "workers": len(self._runtimes),
                "batch_sizes": dict(self.batch_sizes),
                "calls": self.calls,
                "capacity_audio_s_per_s": self.capacity(),
                "stream_leads_s": {i: round(c.lead(now), 3) for i, c in clocks.items()},
                "underruns": sum(c.underruns for c in clocks.values()),
                "underruns_total": self.underruns_total + sum(c.underruns for c in clocks.values()),
                "underrun_s_total": round(
                    self.underrun_s_total + sum(c.underrun_s for c in clocks.values()), 3
                ),
                "streams_total": self.streams_total,
                "rejected_total": self.rejected_total,
                "costs_s_per_frame": self.costs.snapshot(self.urgency.typical_frames),
            }

    def close(self) -> None:
        """Stop the worker; pending jobs fail with EngineClosedError."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout=10)

    def calibrate(self, request: ChunkRequest, *, largest: int = LARGEST_BATCH) -> None:
        """Measure stage costs, then choose the batch size from the measured cost per row.

        Runs ``request`` once alone (every stage), then one denoising step at batch sizes
        2, 4, 8... up to ``largest``, each twice (the first call at a new shape may pay
        set-up costs), for as long as a doubling cuts the cost per row by a tenth or more;
        batching is enabled up to the last size that did. The search stops at the first
        size that does not pay, so a small CPU, where two rows cost about two singles,
        measures one size and keeps a short warm-up; a GPU, where 64 rows may cost a few
        singles, goes on. The cost lines measured at each size then decide, call by call,
        which rows share a call (:class:`_Batch`), and the capacity admission control
        quotes counts the batch. Call it before serving.
        """
        ids = request.ids
        short = dataclasses.replace(request, ids=ids[: max(4, len(ids) // 4)])
        for sample in (short, request):  # two lengths for the cost lines
            self._run_to_end([Row(sample)])
        if self._max_batch is not None:
            return
        solo = self._step_cost([request])
        best, per_row, report = 1, solo, [f"1: {solo * 1000:.1f} ms"]
        size = 2
        while size <= largest:
            call = self._step_cost([request] * size)
            report.append(f"{size}: {call * 1000:.1f} ms")
            if call / size > _PER_ROW_GAIN * per_row:
                break
            best, per_row = size, call / size
            size *= 2
        self._max_batch = best
        logger.info(
            "batch size %d chosen; one denoising call by batch size: %s",
            best,
            ", ".join(report),
        )

    def _step_cost(self, requests: list[ChunkRequest]) -> float:
        """Seconds of one denoising call over rows of ``requests`` (best of two)."""
        rows = [Row(r) for r in requests]
        self._execute(Stage.PREPARE, rows, self.runtime)
        times = []
        for _ in range(2):
            started = time.perf_counter()
            self._execute(Stage.DENOISE, rows, self.runtime)
            times.append(time.perf_counter() - started)
        return min(times)

    # ------------------------------------------------------------------ internals

    def _cache_key(self, request: ChunkRequest) -> PhraseKey | None:
        """Where the phrase cache keeps the request's audio; None if it is not kept."""
        if self.phrase_cache is None or len(request.ids) > MAX_PHRASE_IDS:
            return None
        return PhraseKey(
            ids=request.ids.tobytes(),
            style=style_digest(request.style),
            speed=request.speed,
            steps=request.steps,
            seed=request.seed,
        )

    def _run_to_end(self, rows: list[Row]) -> None:
        while rows[0].stage is not Stage.DONE:
            self._execute(rows[0].stage, rows, self.runtime)

    def _retry_after(self) -> float:
        capacity = self.capacity() or 1.0
        return round(max(1.0, min(30.0, len(self._waiting) / max(capacity, 0.1) * 2.0)), 1)

    def _active(self) -> int:
        """Streams admitted and not closed yet (call with the lock held)."""
        return sum(1 for s in self._streams.values() if s.place.admitted.done())

    def _admit_waiting(self) -> None:
        active = self._active()
        while self._waiting and active < self.max_streams:
            _settle(self._waiting.popleft().admitted, None)
            active += 1

    def _pick(self) -> tuple[Stage, list[Job]] | None:
        """Choose the next call: the most urgent job's stage, plus rows that can share it.

        A first chunk shares its call with other first chunks, and with later chunks only
        when they ride along for free (the call with them costs at most ``FREE_SHARE``
        more): any more would come out of its listener's wait. Later chunks likewise take
        first chunks along when it is free.
        """
        for job in self._queue.cancelled():
            self._queue.remove(job)
            _settle(job.future, exc=SynthesisCancelledError("synthesis cancelled"))
        if not self._queue:
            return None
        now = time.monotonic()
        candidates = self._queue.candidates(self.urgency, now)
        lead = next(candidates, None)
        if lead is None:  # every stream with queued jobs is in another worker's call
            return None
        batch = _Batch(lead, self.urgency, self.max_padding)
        for job in candidates:
            if len(batch.jobs) >= self.max_batch:
                break
            if job.stage is lead.stage:
                batch.join(job)
        for job in self._queue.companions(lead, now):
            if len(batch.jobs) >= self.max_batch or not batch.has_free_room():
                break
            if job.stage is lead.stage:
                batch.ride(job)
        return lead.stage, batch.jobs

    def _loop(self, index: int) -> None:
        """Worker ``index``: pick a call, run it on its runtime outside the lock, settle."""
        while True:
            with self._cond:
                while (
                    not self._closed
                    and index < len(self._runtimes)
                    and not (picked := self._pick())
                ):
                    self._cond.wait()
                if self._closed:
                    for job in self._queue.clear():
                        _settle(job.future, exc=EngineClosedError("the engine is closed"))
                if self._closed or index >= len(self._runtimes):
                    del self._threads[index]
                    return
                stage, batch = picked
                runtime = self._runtimes[index]
                self._queue.take(batch)
            results, failed = self._execute_rows(stage, batch, runtime)
            for job, wav in results:  # cached before its waiter hears, who may ask again
                if job.cache_key is not None and self.phrase_cache is not None:
                    self.phrase_cache.put(job.cache_key, wav)
            with self._cond:
                self._queue.release(batch)
                for job, exc in failed:  # a failed row fails its request, never the worker
                    self._finish(job, exc=exc)
                for job, wav in results:
                    self._finish(job, wav)
                self._cond.notify_all()  # the streams of ``batch`` are candidates again

    def _finish(
        self, job: Job, wav: np.ndarray | None = None, *, exc: BaseException | None = None
    ) -> None:
        """Settle a job that is done (call with the lock held); at close, the queue was
        cleared and its future failed while the call was running."""
        if job in self._queue:
            self._queue.remove(job)
            _settle(job.future, wav, exc=exc)

    def _execute_rows(
        self, stage: Stage, batch: list[Job], runtime: Runtime
    ) -> tuple[list[tuple[Job, np.ndarray]], list[tuple[Job, Exception]]]:
        """Run one call; if a batched call fails, run its rows one by one, so a row that
        fails on its own (other clients' chunks share its call) fails alone.

        Returns the finished rows with their audio and the failed rows with their error.
        Retrying is safe: a failed call leaves each row's inputs as they were (prepare
        starts over from the text and seed; denoise and vocode change a row only once the
        graph has answered).
        """
        try:
            return self._execute(stage, batch, runtime), []
        except Exception as exc:
            logger.exception("synthesis call failed (%s, %d rows)", stage.value, len(batch))
            if len(batch) == 1:
                return [], [(batch[0], exc)]
        results: list[tuple[Job, np.ndarray]] = []
        failed: list[tuple[Job, Exception]] = []
        for job in batch:
            done, lost = self._execute_rows(stage, [job], runtime)
            results += done
            failed += lost
        return results, failed

    def _execute(
        self, stage: Stage, batch: list[_R], runtime: Runtime
    ) -> list[tuple[_R, np.ndarray]]:
        """Run one call of ``stage`` on ``batch`` with ``runtime`` and record what it cost
        (under the lock, where every reader of the costs looks), by the frames of its
        longest row: the call is padded to it."""
        started = time.perf_counter()
        done: list[tuple[_R, np.ndarray]] = []
        if stage is Stage.PREPARE:
            synthesis.prepare(runtime, batch, sample_rate=self.sample_rate, frame=self.frame)
        elif stage is Stage.DENOISE:
            frames = max(r.frames for r in batch)
            synthesis.denoise(runtime, batch)
        else:
            frames = batch[0].frames
            done = list(zip(batch, synthesis.vocode(runtime, batch), strict=True))
        seconds = time.perf_counter() - started
        with self._cond:
            if stage is Stage.PREPARE:
                frames = max(r.frames for r in batch)
                for row in batch:
                    self.costs.record_speech(len(row.request.ids), row.duration)
            self.costs.record(stage, len(batch), frames, seconds)
            self.batch_sizes[len(batch)] += 1
            self.calls += 1
        return done


class _Batch:
    """Rows gathered for one call, behind its lead.

    The call is padded to its longest row (text for prepare, frames for denoise; sizes
    are in frames, estimated from the text before prepare). A row joins when the measured
    costs say the call with it costs no more than the call without it plus the row alone:
    padding is tolerated exactly as far as it pays. Until the costs can price a call of
    that size (calibration and the first calls measure them), a row joins if the padding
    stays within ``max_padding`` of the call. The vocoder takes rows of any lengths too
    (:func:`.synthesis.vocode` makes padded ends again exactly).
    """

    def __init__(self, lead: Job, urgency: Urgency, max_padding: float) -> None:
        self.jobs = [lead]
        self.stage = lead.stage
        self.urgency = urgency
        self.costs = urgency.costs
        self.max_padding = max_padding
        self._longest = self._total = urgency.frames(lead)
        self._without_riders: float | None = None

    def join(self, job: Job) -> bool:
        size = self.urgency.frames(job)
        rows, longest = len(self.jobs), max(self._longest, size)
        joined = self.costs.batch_call(self.stage, longest, rows + 1)
        apart = self.costs.batch_call(self.stage, self._longest, rows)
        alone = self.costs.call(self.stage, size)
        if joined is None or apart is None or alone is None:
            padded = longest * (rows + 1)
            fits = (padded - self._total - size) / padded <= self.max_padding
        else:
            fits = joined <= apart + alone
        if fits:
            self._add(job, size)
        return fits

    def has_free_room(self) -> bool:
        """Whether a row no longer than the longest could ride along for free: the
        measured costs price the bigger call at most ``FREE_SHARE`` above the call as it
        stands. Unpriced sizes are not free."""
        if self._without_riders is None:
            self._without_riders = self.costs.batch_call(self.stage, self._longest, len(self.jobs))
        bigger = self.costs.batch_call(self.stage, self._longest, len(self.jobs) + 1)
        return self._free(bigger)

    def ride(self, job: Job) -> bool:
        """Add ``job`` if the call stays free (see :meth:`has_free_room`)."""
        size = self.urgency.frames(job)
        longest = max(self._longest, size)
        fits = self._free(self.costs.batch_call(self.stage, longest, len(self.jobs) + 1))
        if fits:
            self._add(job, size)
        return fits

    def _free(self, seconds: float | None) -> bool:
        base = self._without_riders
        return seconds is not None and base is not None and seconds <= (1 + FREE_SHARE) * base

    def _add(self, job: Job, size: float) -> None:
        self.jobs.append(job)
        self._longest, self._total = max(self._longest, size), self._total + size


def _succeeded(future: Future[Any]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None
