"""The served engine's live state, read when asked: Prometheus families and JSON.

The core keeps its own numbers (the scheduler's counts and queue, the phrase cache) and has
no Prometheus dependency, so :class:`EngineCollector` turns ``engine.scheduler.state()``
into ``supertonic_model_*``, ``supertonic_scheduler_*`` and ``supertonic_phrase_cache_*``
families at each scrape; the JSON helpers below give ``/metrics/summary`` the same reads.
While the model loads (no engine), every one of these is absent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

if TYPE_CHECKING:
    from supertonic_core import Engine

S = "supertonic_scheduler_"
C = "supertonic_phrase_cache_"

#: Scheduler state key → (metric name, help): the plain gauges and counters.
GAUGES = {
    "queued_jobs": (S + "queued_jobs", "Chunk jobs waiting for the model"),
    "active_streams": (S + "active_streams", "Streams being synthesized"),
    "waiting_streams": (S + "waiting_streams", "Streams queued for a synthesis slot"),
    "max_streams": (S + "max_streams", "Streams synthesized at once (admission limit)"),
    "max_batch": (S + "max_batch", "Most rows in one model call"),
    "workers": (S + "workers", "Runtimes taking model calls at once"),
    "underruns": (S + "open_stream_underruns", "Underruns among the streams open now"),
}
COUNTERS = {
    "calls": (S + "calls", "Model calls made"),
    "streams_total": (S + "streams", "Streams opened"),
    "rejected_total": (
        S + "rejected_streams",
        "Streams refused because every slot played and the waiting queue was full "
        "(HTTP 429; busy on the WebSocket and Wyoming)",
    ),
    "underruns_total": (S + "underruns", "Times a stream's listener ran out of audio"),
    "underrun_s_total": (S + "underrun_seconds", "Seconds listeners spent waiting for audio"),
}


class EngineCollector:
    """Yields the served engine's families at each scrape (none while it loads)."""

    def __init__(self, engine: Callable[[], Engine | None]) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        engine = self.engine()
        if engine is None:
            return
        yield from _model(engine.info())
        yield from _scheduler(dict(engine.scheduler.state()))
        stats = phrase_cache_stats(engine)
        if stats is not None:  # off: no family at all
            yield from _phrase_cache(stats)


def _model(info: dict[str, Any]) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "supertonic_model_synthetic",
        "1 when the served bundle is synthetic (random weights: the audio is noise)",
        value=1 if info["synthetic"] else 0,
    )
    fam = GaugeMetricFamily(
        "supertonic_model_info",
        "The served model (always 1; the facts are labels)",
        labels=["model", "sample_rate", "providers"],
    )
    fam.add_metric([str(info["model"]), str(info["sample_rate"]), ",".join(info["providers"])], 1)
    yield fam


def _scheduler(state: dict[str, Any]) -> Iterator[Metric]:
    for key, (name, doc) in GAUGES.items():
        if key in state:
            yield GaugeMetricFamily(name, doc, value=float(state[key]))
    for key, (name, doc) in COUNTERS.items():
        if key in state:
            yield CounterMetricFamily(name, doc, value=state[key])
    batches = CounterMetricFamily(
        S + "batch_calls", "Model calls, by how many rows they carried", labels=["size"]
    )
    for size, count in sorted(dict(state.get("batch_sizes") or {}).items()):
        batches.add_metric([str(size)], count)
    yield batches
    if state.get("capacity_audio_s_per_s") is not None:
        yield GaugeMetricFamily(
            S + "capacity_audio_seconds_per_second",
            "Estimated audio seconds produced per wall second at 8 steps",
            value=float(state["capacity_audio_s_per_s"]),
        )
    lead = min_lead(state)
    if lead is not None:
        yield GaugeMetricFamily(
            S + "min_lead_seconds",
            "Audio buffered ahead of playback by the open stream closest to running dry "
            "(0 also for a stream that has not started)",
            value=lead,
        )
    costs = GaugeMetricFamily(
        S + "cost_seconds_per_frame",
        "Measured wall seconds per latent frame, by stage and batch size",
        labels=["stage", "batch"],
    )
    for key, value in dict(state.get("costs_s_per_frame") or {}).items():
        stage, _, batch = str(key).partition("@")
        costs.add_metric([stage, batch], value)
    yield costs


def _phrase_cache(stats: dict[str, int]) -> Iterator[Metric]:
    yield CounterMetricFamily(C + "hits", "Chunks served from the phrase cache", stats["hits"])
    yield CounterMetricFamily(
        C + "misses", "Cacheable chunks not in the phrase cache", stats["misses"]
    )
    yield GaugeMetricFamily(C + "entries", "Phrases held", stats["entries"])
    yield GaugeMetricFamily(C + "bytes", "Bytes of audio held", stats["bytes"])
    yield GaugeMetricFamily(C + "capacity", "Most phrases held (--phrase-cache)", stats["capacity"])


def model_facts(engine: Engine | None) -> dict[str, Any] | None:
    """What is served (None while the model loads); ``synthetic`` means the output is noise."""
    if engine is None:
        return None
    info = engine.info()
    return {k: info.get(k) for k in ("model", "synthetic", "sample_rate", "providers")}


def scheduler_state(engine: Engine | None) -> dict[str, Any] | None:
    """The scheduler's numbers, JSON-ready (string keys, no NaN), plus the smallest lead."""
    if engine is None:
        return None
    state = _json_safe(dict(engine.scheduler.state()))
    return {**state, "min_lead_s": min_lead(state)}


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
