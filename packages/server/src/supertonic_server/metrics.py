"""Request metrics: one recorder for every transport (HTTP and WebSocket alike).

The speech route and the WebSocket route call, per request::

    tracker = app.state.metrics.start(transport="http", text=..., voice=..., lang=..., format=...)
    tracker.first_byte()                     # the first audio byte left
    tracker.add(bytes_=n, audio_s=s)         # after each piece sent
    tracker.finish(status="ok" | "error" | "cancelled", error=None)

The numbers are prometheus-client counters and histograms in a registry of the recorder's
own (tests run several apps in one process), beside :class:`EngineCollector` for the
served engine's state. ``GET /metrics`` renders that registry, and :meth:`Metrics.summary`
(``/metrics/summary``) reads its totals from the same counters and its percentiles from the
same histogram buckets, estimated the way Prometheus' ``histogram_quantile`` does, so the
two views cannot disagree. Histograms, unlike summaries, add up across replicas. The one
other thing kept is a log: the last ``buffer_size`` finished requests with the start of
their text, for ``/metrics/recent``. Nothing is persisted: a restart starts from zero.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from .exposition import EngineCollector, model_facts, phrase_cache_stats, scheduler_state
from .logs import request_id

if TYPE_CHECKING:
    from supertonic_core import Engine

TRANSPORTS = ("http", "ws")
STATUSES = ("ok", "error", "cancelled")
QUANTILES = (0.5, 0.95, 0.99)
BUFFER_RANGE = (10, 10000)
SNIPPET_CHARS = 80
#: Voice agents need the first audio in well under a second; a cold start or a full queue
#: can take seconds. Dense where the percentiles sit, since they interpolate in a bucket.
TTFB_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 2, 5, 10)
#: Wall time ÷ audio seconds: ~0.01 on a GPU, ~0.1 on a CPU, 1 is real time.
RTF_BUCKETS = (0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2)
#: How late the event loop runs a timer: every socket of the replica waits that long.
LAG_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1)
LAG_PROBE_S = 0.1


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters (an ellipsis marks the cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """The ``q`` quantile from cumulative ``(upper bound, count)`` buckets, ``+Inf`` last,
    as Prometheus' ``histogram_quantile`` estimates it: linear interpolation within the
    bucket that holds the rank (from 0 in the first), the largest finite bound past it.
    None without observations."""
    total = buckets[-1][1]
    if not total:
        return None
    rank = q * total
    b = bisect.bisect_left([count for _, count in buckets[:-1]], rank)
    if b == len(buckets) - 1:
        return buckets[-2][0]
    start, below = buckets[b - 1] if b else (0.0, 0.0)
    end, count = buckets[b]
    return start + (end - start) * (rank - below) / (count - below)


def percentiles(histogram: Histogram, scale: float = 1.0) -> dict[str, float | None]:
    """p50/p95/p99 of ``histogram`` over all its label values (``sum by (le)``), times
    ``scale``."""
    counts: defaultdict[float, float] = defaultdict(float)
    for s in histogram.collect()[0].samples:
        if s.name.endswith("_bucket"):
            counts[float(s.labels["le"])] += s.value
    buckets = sorted(counts.items())
    return {
        f"p{round(q * 100)}": None if (v := bucket_quantile(q, buckets)) is None else v * scale
        for q in QUANTILES
    }


class Tracker:
    """One request in flight; created by :meth:`Metrics.start`. Only the first finish counts."""

    def __init__(self, metrics: Metrics, meta: dict[str, Any], elapsed_s: float = 0.0) -> None:
        self._metrics = metrics
        self.meta = meta
        self.started = time.time() - elapsed_s
        self._t0 = time.perf_counter() - elapsed_s
        self.ttfb_ms: float | None = None
        self.bytes = 0
        self.audio_s = 0.0
        self.finished = False
        self._sent = (  # looked up once: add() runs for every piece of audio
            metrics.bytes.labels(meta["transport"]),
            metrics.audio_s.labels(meta["transport"]),
        )

    def first_byte(self) -> None:
        """The first audio byte was sent."""
        if self.ttfb_ms is None:
            self.ttfb_ms = (time.perf_counter() - self._t0) * 1000.0

    def add(self, *, bytes_: int, audio_s: float) -> None:
        """``bytes_`` more bytes carrying ``audio_s`` more seconds of audio were sent."""
        self.bytes += bytes_
        self.audio_s += audio_s
        self._sent[0].inc(bytes_)
        self._sent[1].inc(audio_s)

    def finish(self, *, status: str, error: str | None = None) -> None:
        """The request ended: ``ok``, ``error`` (with a short reason) or ``cancelled``."""
        if not self.finished:
            self.finished = True
            self._metrics._finished(self.record(status if status in STATUSES else "error", error))

    def record(self, status: str = "active", error: str | None = None) -> dict[str, Any]:
        """The request as ``/metrics/recent`` shows it, so far. ``ttfb_ms`` is None when no
        audio byte was sent; ``rtf`` (wall time ÷ audio seconds, lower is faster) is None
        without audio or while active. ``started`` is a Unix timestamp."""
        total_ms = (time.perf_counter() - self._t0) * 1000.0
        done = status != "active" and self.audio_s > 0
        return {
            **self.meta,
            "status": status,
            "ttfb_ms": self.ttfb_ms,
            "total_ms": total_ms,
            "bytes": self.bytes,
            "audio_s": self.audio_s,
            "rtf": total_ms / 1000.0 / self.audio_s if done else None,
            "error": error,
            "started": self.started,
        }


class Metrics:
    """The recorder kept in ``app.state.metrics``; ``registry`` is what ``/metrics`` renders.

    Args:
        buffer_size: finished requests kept for ``/metrics/recent``.
        engine: returns the served engine (None while loading), read at scrape time for the
            model facts and the scheduler's state.
    """

    def __init__(
        self,
        *,
        buffer_size: int = 100,
        engine: Callable[[], Engine | None] | None = None,
    ) -> None:
        lo, hi = BUFFER_RANGE
        if not lo <= buffer_size <= hi:
            raise ValueError(f"buffer_size must be between {lo} and {hi}, got {buffer_size}")
        self.buffer_size = buffer_size
        self.engine = engine or (lambda: None)
        self.started = time.time()
        self._t0 = time.monotonic()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._records: deque[dict[str, Any]] = deque(maxlen=buffer_size)
        self._active: dict[int, Tracker] = {}
        self.registry = reg = CollectorRegistry()
        self.requests = Counter(
            "supertonic_requests",
            "Synthesis requests finished, by terminal status and transport",
            ["status", "transport"],
            registry=reg,
        )
        self.bytes = Counter(
            "supertonic_bytes", "Audio bytes sent to clients", ["transport"], registry=reg
        )
        self.audio_s = Counter(
            "supertonic_audio_seconds", "Seconds of audio sent", ["transport"], registry=reg
        )
        self.ttfb = Histogram(
            "supertonic_ttfb_seconds",
            "Time to first audio byte, of every request that sent audio",
            ["transport"],
            buckets=TTFB_BUCKETS,
            registry=reg,
        )
        self.rtf = Histogram(
            "supertonic_rtf",
            "Real-time factor (wall time / audio seconds) of the requests that ended ok",
            ["transport"],
            buckets=RTF_BUCKETS,
            registry=reg,
        )
        self.loop_lag = Histogram(
            "supertonic_event_loop_lag_seconds",
            f"How late the event loop woke a {LAG_PROBE_S} s timer (work that held the loop)",
            buckets=LAG_BUCKETS,
            registry=reg,
        )
        for transport in TRANSPORTS:  # every series from zero, so rate() sees the first one
            for family in (self.bytes, self.audio_s, self.ttfb, self.rtf):
                family.labels(transport)
            for status in STATUSES:
                self.requests.labels(status, transport)
        active = Gauge("supertonic_active_synth", "Synthesis requests in flight", registry=reg)
        active.set_function(lambda: len(self._active))
        uptime = Gauge(
            "supertonic_uptime_seconds", "Seconds since the server started", registry=reg
        )
        uptime.set_function(lambda: self.uptime_s)
        reg.register(EngineCollector(self.engine))

    def start(
        self,
        *,
        transport: str,
        text: str,
        voice: str,
        lang: str,
        format: str,
        elapsed_s: float = 0.0,
    ) -> Tracker:
        """Begin a request's record; ``elapsed_s`` says it began that long ago (the WebSocket
        learns of an utterance at its first audio, which carries the time since its first text)."""
        meta = {
            "id": next(self._ids),
            "request_id": request_id.get(),
            "transport": transport,
            "text": snippet(text),
            "text_chars": len(text),
            "voice": voice,
            "lang": lang,
            "format": format,
        }
        tracker = Tracker(self, meta, elapsed_s)
        with self._lock:
            self._active[meta["id"]] = tracker
        return tracker

    def _finished(self, record: dict[str, Any]) -> None:
        transport = record["transport"]
        self.requests.labels(record["status"], transport).inc()
        if record["ttfb_ms"] is not None:
            self.ttfb.labels(transport).observe(record["ttfb_ms"] / 1000.0)
        if record["rtf"] is not None and record["status"] == "ok":
            self.rtf.labels(transport).observe(record["rtf"])
        with self._lock:
            self._active.pop(record["id"], None)
            self._records.append(record)

    @property
    def uptime_s(self) -> float:
        return time.monotonic() - self._t0

    def active(self) -> list[Tracker]:
        with self._lock:
            return list(self._active.values())

    def recent(self, limit: int) -> list[dict[str, Any]]:
        """The ``limit`` newest finished records, newest first."""
        with self._lock:
            return list(itertools.islice(reversed(self._records), limit))

    async def watch_loop(self) -> None:
        """Record the event loop's lag until cancelled (the app's lifespan runs it): a timer
        woken late means a callback held the loop, and every socket waited for it."""
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + LAG_PROBE_S
            await asyncio.sleep(LAG_PROBE_S)
            self.loop_lag.observe(max(0.0, loop.time() - due))

    def summary(self) -> dict[str, Any]:
        """Everything ``/metrics/summary`` answers (JSON-ready, no NaN)."""
        n = {  # (sample name, *label values) → value, read from the registry's counters
            (s.name, *s.labels.values()): s.value
            for family in (self.requests, self.bytes, self.audio_s)
            for s in family.collect()[0].samples
        }
        by_transport = {
            t: {
                **{s: int(n["supertonic_requests_total", s, t]) for s in STATUSES},
                "bytes": int(n["supertonic_bytes_total", t]),
                "audio_s": n["supertonic_audio_seconds_total", t],
            }
            for t in TRANSPORTS
        }
        by_status = {s: sum(b[s] for b in by_transport.values()) for s in STATUSES}
        active = [t.meta["transport"] for t in self.active()]
        engine = self.engine()
        return {
            "uptime_s": self.uptime_s,
            "started": self.started,
            "active": len(active),
            "active_by_transport": {t: active.count(t) for t in TRANSPORTS},
            "totals": {
                "requests": sum(by_status.values()),
                **by_status,
                "by_transport": by_transport,
                "bytes": sum(b["bytes"] for b in by_transport.values()),
                "audio_s": sum(b["audio_s"] for b in by_transport.values()),
            },
            "percentiles": {
                "ttfb_ms": percentiles(self.ttfb, scale=1000.0),
                "rtf": percentiles(self.rtf),
                "event_loop_lag_ms": percentiles(self.loop_lag, scale=1000.0),
            },
            "model": model_facts(engine),
            "scheduler": scheduler_state(engine),
            "phrase_cache": phrase_cache_stats(engine),
        }
