"""``GET /metrics``: the recorder's numbers and the scheduler's state as Prometheus text.

Everything is read at scrape time from one :class:`~supertonic_server.metrics.Snapshot`
(the recorder's numbers and the served engine's state, taken together), through one custom
collector in a registry of its own per app (tests run several apps in one process). This
module only reads snapshots; the recorder knows nothing of it. ``supertonic_ttfb_ms`` and ``supertonic_rtf`` are summaries
the way Prometheus' own clients keep them: quantiles over the recent window (the ring
buffer), ``_sum`` and ``_count`` cumulative since start.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)

from .metrics import QUANTILES, STATUSES, TRANSPORTS, Snapshot, min_lead

P = "supertonic_"


def build_registry(snapshot: Callable[[], Snapshot]) -> CollectorRegistry:
    """A registry whose one collector reports ``snapshot()`` at each scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SupertonicCollector(snapshot))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The text exposition of ``registry``."""
    return generate_latest(registry)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(P + name, doc, value=value)


class SupertonicCollector:
    """Yields every ``supertonic_*`` family from the recorder's state at scrape time."""

    def __init__(self, snapshot: Callable[[], Snapshot]) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot()
        yield from self._requests(snap)
        yield from self._latency(snap)
        if snap.model is not None:
            yield from self._model(snap.model)
        if snap.scheduler is not None:
            yield from self._scheduler(snap.scheduler)
        if snap.phrase_cache is not None:  # off: no family at all
            yield from self._phrase_cache(snap.phrase_cache)

    def _requests(self, snap: Snapshot) -> Iterator[Metric]:
        requests, bytes_, audio = snap.requests, snap.bytes, snap.audio_s
        fam = CounterMetricFamily(
            P + "requests",
            "Number of synthesis requests since process start, by terminal status and transport",
            labels=["status", "transport"],
        )
        for status in STATUSES:
            for transport in TRANSPORTS:
                fam.add_metric([status, transport], requests.get((status, transport), 0))
        yield fam
        for name, doc, values in (
            ("bytes", "Audio bytes sent to clients since process start", bytes_),
            ("audio_seconds", "Seconds of audio sent to clients since process start", audio),
        ):
            fam = CounterMetricFamily(P + name, doc, labels=["transport"])
            for transport in TRANSPORTS:
                fam.add_metric([transport], values.get(transport, 0))
            yield fam
        yield _gauge("active_synth", "Synthesis requests in flight", snap.active)
        yield _gauge("uptime_seconds", "Seconds since the server started", snap.uptime_s)
        yield _gauge("rps_1m", "Requests finished per second over the last minute", snap.rps_1m)
        yield _gauge(
            "error_rate",
            "Share of the last minute's finished requests that failed",
            snap.error_rate_1m,
        )
        yield _gauge(
            "observability_buffer_records",
            "Finished requests held in the recent-requests ring buffer",
            snap.buffered,
        )

    def _latency(self, snap: Snapshot) -> Iterator[Metric]:
        pct = snap.percentiles
        sums = {"ttfb_ms": snap.ttfb_ms, "rtf": snap.rtf}
        docs = {
            "ttfb_ms": "Time-to-first-byte (ms) over the recent window",
            "rtf": "Real-time factor (wall time / audio seconds) over the recent window",
        }
        for key, doc in docs.items():
            count, total = sums[key]
            fam = SummaryMetricFamily(P + key, doc, count_value=count, sum_value=total)
            for q in QUANTILES:
                value = pct[key][f"p{round(q * 100)}"]
                fam.add_sample(P + key, {"quantile": str(q)}, math.nan if value is None else value)
            yield fam

    def _model(self, info: dict[str, object]) -> Iterator[Metric]:
        yield _gauge(
            "model_synthetic",
            "1 when the served bundle is synthetic (random weights: the audio is noise)",
            1 if info["synthetic"] else 0,
        )
        fam = GaugeMetricFamily(
            P + "model_info",
            "The served model (always 1; the facts are labels)",
            labels=["model", "sample_rate", "providers"],
        )
        fam.add_metric(
            [str(info["model"]), str(info["sample_rate"]), ",".join(info["providers"])],  # type: ignore[call-overload]
            1,
        )
        yield fam

    def _scheduler(self, state: dict[str, object]) -> Iterator[Metric]:
        s = P + "scheduler_"
        for key, doc in (
            ("queued_jobs", "Chunk jobs waiting for the model"),
            ("active_streams", "Streams being synthesized"),
            ("waiting_streams", "Streams queued for a synthesis slot"),
            ("max_streams", "Streams synthesized at once (admission limit)"),
            ("max_batch", "Most rows in one model call"),
        ):
            if key in state:
                yield GaugeMetricFamily(s + key, doc, value=float(state[key]))
        if "underruns" in state:
            yield GaugeMetricFamily(
                s + "open_stream_underruns",
                "Underruns (listener ran dry) among the streams open now",
                value=float(state["underruns"]),  # type: ignore[arg-type]
            )  # type: ignore[arg-type]
        for key, name, doc in (
            ("calls", "calls", "Model calls made"),
            ("streams_total", "streams", "Streams opened"),
            (
                "rejected_total",
                "rejected_streams",
                "Streams refused because every slot played and the waiting queue was full "
                "(HTTP 429; server_busy on the WebSocket and Wyoming)",
            ),
            ("underruns_total", "underruns", "Times a stream's listener ran out of audio"),
            ("underrun_s_total", "underrun_seconds", "Seconds listeners spent waiting for audio"),
        ):
            if key in state:
                yield CounterMetricFamily(s + name, doc, value=state[key])  # type: ignore[arg-type]
        batches = CounterMetricFamily(
            s + "batch_calls", "Model calls, by how many rows they carried", labels=["size"]
        )
        for size, count in sorted(dict(state.get("batch_sizes") or {}).items()):  # type: ignore[call-overload]
            batches.add_metric([str(size)], count)
        yield batches
        capacity = state.get("capacity_audio_s_per_s")
        if capacity is not None:
            yield GaugeMetricFamily(
                s + "capacity_audio_seconds_per_second",
                "Estimated audio seconds produced per wall second at 8 steps",
                value=float(capacity),  # type: ignore[arg-type]
            )
        lead = min_lead(state)
        if lead is not None:
            yield GaugeMetricFamily(
                s + "min_lead_seconds",
                "Audio buffered ahead of playback by the open stream closest to running dry "
                "(0 also for a stream that has not started)",
                value=lead,
            )
        costs = GaugeMetricFamily(
            s + "cost_seconds_per_frame",
            "Measured wall seconds per latent frame, by stage and batch size",
            labels=["stage", "batch"],
        )
        for key, value in dict(state.get("costs_s_per_frame") or {}).items():  # type: ignore[call-overload]
            stage, _, batch = str(key).partition("@")
            costs.add_metric([stage, batch], value)
        yield costs

    def _phrase_cache(self, stats: dict[str, int]) -> Iterator[Metric]:
        c = P + "phrase_cache_"
        yield CounterMetricFamily(
            c + "hits", "Chunks served from the phrase cache", value=stats["hits"]
        )
        yield CounterMetricFamily(
            c + "misses", "Cacheable chunks not in the phrase cache", value=stats["misses"]
        )
        yield GaugeMetricFamily(c + "entries", "Phrases held", value=stats["entries"])
        yield GaugeMetricFamily(c + "bytes", "Bytes of audio held", value=stats["bytes"])
        yield GaugeMetricFamily(
            c + "capacity", "Most phrases held (--phrase-cache)", value=stats["capacity"]
        )
