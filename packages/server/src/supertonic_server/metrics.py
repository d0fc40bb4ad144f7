"""Request metrics: one recorder for every transport (HTTP and WebSocket alike).

The speech route and the WebSocket route call, per request::

    tracker = app.state.metrics.start(transport="http", text=..., voice=..., lang=..., format=...)
    tracker.first_byte()                     # the first audio byte left
    tracker.add(bytes_=n, audio_s=s)         # after each piece sent
    tracker.finish(status="ok" | "error" | "cancelled", error=None)

Finished requests become :class:`RequestRecord` s in a ring buffer of ``buffer_size``
(``--observability-buffer-size``); percentiles slide with the buffer, while the cumulative
totals (requests, bytes, audio seconds) survive eviction. :meth:`Metrics.summary` and
:meth:`Metrics.recent` feed ``/metrics/summary`` and ``/metrics/recent``;
:mod:`supertonic_server.exposition` renders the same numbers as Prometheus text, so the
two views can never disagree. Nothing is persisted: a restart starts from zero.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from .logs import request_id

if TYPE_CHECKING:
    from supertonic_core import Engine

TRANSPORTS = ("http", "ws")
STATUSES = ("ok", "error", "cancelled")
QUANTILES = (0.5, 0.95, 0.99)
BUFFER_RANGE = (10, 10000)
SNIPPET_CHARS = 80
RATE_WINDOW_S = 60.0


@dataclass(frozen=True)
class RequestRecord:
    """One finished synthesis, as ``/metrics/recent`` shows it.

    ``ttfb_ms`` is None when no audio byte was sent; ``rtf`` (wall time ÷ audio seconds,
    lower is faster) is None without audio. ``started`` is a Unix timestamp.
    """

    id: int
    request_id: str
    transport: str
    text: str
    text_chars: int
    voice: str
    lang: str
    format: str
    status: str
    ttfb_ms: float | None
    total_ms: float
    bytes: int
    audio_s: float
    rtf: float | None
    error: str | None
    started: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters (an ellipsis marks the cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def quantile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile of ``values`` by linear interpolation (numpy's default), or None."""
    if not values:
        return None
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


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

    def first_byte(self) -> None:
        """The first audio byte was sent."""
        if self.ttfb_ms is None:
            self.ttfb_ms = (time.perf_counter() - self._t0) * 1000.0

    def add(self, *, bytes_: int, audio_s: float) -> None:
        """``bytes_`` more bytes carrying ``audio_s`` more seconds of audio were sent."""
        self.bytes += bytes_
        self.audio_s += audio_s
        self._metrics._sent(self.meta["transport"], bytes_, audio_s)

    def finish(self, *, status: str, error: str | None = None) -> None:
        """The request ended: ``ok``, ``error`` (with a short reason) or ``cancelled``."""
        if self.finished:
            return
        self.finished = True
        total_ms = (time.perf_counter() - self._t0) * 1000.0
        rtf = total_ms / 1000.0 / self.audio_s if self.audio_s > 0 else None
        record = RequestRecord(
            **self.meta,
            status=status if status in STATUSES else "error",
            ttfb_ms=self.ttfb_ms,
            total_ms=total_ms,
            bytes=self.bytes,
            audio_s=self.audio_s,
            rtf=rtf,
            error=error,
            started=self.started,
        )
        self._metrics._finished(self, record)

    def snapshot(self) -> dict[str, Any]:
        """The in-flight request, shaped like a record (status ``active``)."""
        elapsed_ms = (time.perf_counter() - self._t0) * 1000.0
        return {
            **self.meta,
            "status": "active",
            "ttfb_ms": self.ttfb_ms,
            "total_ms": elapsed_ms,
            "bytes": self.bytes,
            "audio_s": self.audio_s,
            "rtf": None,
            "error": None,
            "started": self.started,
        }


@dataclass(frozen=True)
class Snapshot:
    """Everything a scrape reports, read at one moment: the recorder's totals (by
    ``(status, transport)`` or transport), its window and percentiles, and the served
    engine's facts (None while it loads)."""

    requests: dict[tuple[str, str], int]
    bytes: dict[str, int]
    audio_s: dict[str, float]
    active: int
    buffered: int
    ttfb_ms: tuple[int, float]  # (count, sum) since start
    rtf: tuple[int, float]
    uptime_s: float
    rps_1m: float
    error_rate_1m: float
    percentiles: dict[str, dict[str, float | None]]
    model: dict[str, Any] | None
    scheduler: dict[str, Any] | None
    phrase_cache: dict[str, int] | None


class Metrics:
    """The recorder kept in ``app.state.metrics``.

    Args:
        buffer_size: finished requests kept for ``/metrics/recent`` and the percentiles.
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
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._records: deque[RequestRecord] = deque(maxlen=buffer_size)
        self._active: dict[int, Tracker] = {}
        self._finishes: deque[tuple[float, bool]] = deque()  # (monotonic time, was an error)
        self.requests: Counter[tuple[str, str]] = Counter()  # (status, transport) → count
        self.bytes: Counter[str] = Counter()  # transport → bytes sent
        self.audio_s: Counter[str] = Counter()  # transport → audio seconds sent
        self.ttfb_sum_ms = 0.0
        self.ttfb_count = 0
        self.rtf_sum = 0.0
        self.rtf_count = 0

    # ------------------------------------------------------------------ recording

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

    def _sent(self, transport: str, bytes_: int, audio_s: float) -> None:
        with self._lock:
            self.bytes[transport] += bytes_
            self.audio_s[transport] += audio_s

    def _finished(self, tracker: Tracker, record: RequestRecord) -> None:
        now = time.monotonic()
        with self._lock:
            self._active.pop(record.id, None)
            self._records.append(record)
            self.requests[(record.status, record.transport)] += 1
            self._finishes.append((now, record.status == "error"))
            self._prune(now)
            if record.ttfb_ms is not None:
                self.ttfb_sum_ms += record.ttfb_ms
                self.ttfb_count += 1
            if record.rtf is not None and record.status == "ok":
                self.rtf_sum += record.rtf
                self.rtf_count += 1

    def _prune(self, now: float) -> None:
        while self._finishes and now - self._finishes[0][0] > RATE_WINDOW_S:
            self._finishes.popleft()

    # ------------------------------------------------------------------ reading

    @property
    def uptime_s(self) -> float:
        return time.monotonic() - self._t0

    def active(self) -> list[Tracker]:
        with self._lock:
            return list(self._active.values())

    def records(self) -> list[RequestRecord]:
        """The ring buffer, oldest first."""
        with self._lock:
            return list(self._records)

    def recent(self, limit: int) -> list[dict[str, Any]]:
        """The ``limit`` newest finished records, newest first."""
        with self._lock:
            newest = list(itertools.islice(reversed(self._records), limit))
        return [r.to_dict() for r in newest]

    def window(self) -> tuple[float, float]:
        """Requests per second over the last minute, and the share of them that failed."""
        now = time.monotonic()
        with self._lock:
            self._prune(now)
            finished = len(self._finishes)
            errors = sum(1 for _, failed in self._finishes if failed)
        span = min(RATE_WINDOW_S, max(self.uptime_s, 1.0))
        return finished / span, (errors / finished if finished else 0.0)

    def percentiles(self) -> dict[str, dict[str, float | None]]:
        """p50/p95/p99 of TTFB (every record that sent audio) and RTF (``ok`` records only)."""
        records = self.records()
        ttfb = [r.ttfb_ms for r in records if r.ttfb_ms is not None]
        rtf = [r.rtf for r in records if r.rtf is not None and r.status == "ok"]
        return {
            "ttfb_ms": {_qkey(q): quantile(ttfb, q) for q in QUANTILES},
            "rtf": {_qkey(q): quantile(rtf, q) for q in QUANTILES},
        }

    def snapshot(self) -> Snapshot:
        """The numbers and the served engine's state, read at one moment (for exposition)."""
        rps, error_rate = self.window()
        with self._lock:
            snap = dict(
                requests=dict(self.requests),
                bytes=dict(self.bytes),
                audio_s=dict(self.audio_s),
                active=len(self._active),
                buffered=len(self._records),
                ttfb_ms=(self.ttfb_count, self.ttfb_sum_ms),
                rtf=(self.rtf_count, self.rtf_sum),
            )
        engine = self.engine()
        return Snapshot(
            **snap,
            uptime_s=self.uptime_s,
            rps_1m=rps,
            error_rate_1m=error_rate,
            percentiles=self.percentiles(),
            model=engine.info() if engine is not None else None,
            scheduler=dict(engine.scheduler.state()) if engine is not None else None,
            phrase_cache=phrase_cache_stats(engine),
        )

    def summary(self) -> dict[str, Any]:
        """Everything ``/metrics/summary`` answers (JSON-ready, no NaN)."""
        rps, error_rate = self.window()
        with self._lock:
            requests = dict(self.requests)
            bytes_ = dict(self.bytes)
            audio = dict(self.audio_s)
            active = list(self._active.values())
            buffered = len(self._records)
        by_status = {s: sum(n for (st, _), n in requests.items() if st == s) for s in STATUSES}
        by_transport = {
            t: {
                **{s: requests.get((s, t), 0) for s in STATUSES},
                "bytes": bytes_.get(t, 0),
                "audio_s": audio.get(t, 0.0),
            }
            for t in TRANSPORTS
        }
        engine = self.engine()
        scheduler = scheduler_state(engine)
        if scheduler is not None:
            scheduler["min_lead_s"] = min_lead(scheduler)
        return {
            "uptime_s": self.uptime_s,
            "started": self.started,
            "active": len(active),
            "active_by_transport": {
                t: sum(1 for a in active if a.meta["transport"] == t) for t in TRANSPORTS
            },
            "totals": {
                "requests": sum(by_status.values()),
                **by_status,
                "by_transport": by_transport,
                "bytes": sum(bytes_.values()),
                "audio_s": sum(audio.values()),
            },
            "rps_1m": rps,
            "error_rate_1m": error_rate,
            "percentiles": self.percentiles(),
            "buffer": {"size": self.buffer_size, "records": buffered},
            "model": model_facts(engine),
            "scheduler": scheduler,
            "phrase_cache": phrase_cache_stats(engine),
        }


def _qkey(q: float) -> str:
    return f"p{round(q * 100)}"


def model_facts(engine: Engine | None) -> dict[str, Any] | None:
    """What is served (None while the model loads); ``synthetic`` means the output is noise."""
    if engine is None:
        return None
    info = engine.info()
    keys = ("model", "synthetic", "sample_rate", "providers")
    return {k: info.get(k) for k in keys}


def scheduler_state(engine: Engine | None) -> dict[str, Any] | None:
    """The scheduler's numbers, JSON-ready (string keys, no NaN), plus the smallest lead."""
    if engine is None:
        return None
    return _json_safe(dict(engine.scheduler.state()))


def phrase_cache_stats(engine: Engine | None) -> dict[str, int] | None:
    """Hits, misses, entries, bytes and capacity of the phrase cache; None when it is off
    (``--phrase-cache 0``) or the model is loading."""
    if engine is None or engine.phrase_cache is None:
        return None
    return engine.phrase_cache.stats()


def min_lead(state: dict[str, Any]) -> float | None:
    """Seconds of audio buffered by the stream closest to running dry, or None if none plays."""
    leads = [float(v) for v in (state.get("stream_leads_s") or {}).values()]
    return min(leads) if leads else None


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
