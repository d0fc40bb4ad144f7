"""Observability: the recorder, ``/metrics`` (Prometheus text), ``/metrics/summary``, ``/metrics/recent``.

The server tests share session servers, so each test here swaps in an empty recorder
(``fresh_metrics``) and counts from zero.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
from typing import Any

import httpx
import pytest
import websockets
from fastapi.testclient import TestClient
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from supertonic_server import Settings
from supertonic_server.app import create_app
from supertonic_server.metrics import Metrics, bucket_quantile, snippet
from supertonic_server.settings import load_settings

from .conftest import API_KEY, LiveServer, fresh_metrics, wait_for

SHORT = {"input": "Hello there. This is a short test.", "voice": "alloy"}
#: Long enough that synthesizing all of it at 32 steps takes far longer than any test.
LONG = " ".join(f"Sentence number {i} keeps the synthesizer busy for a while." for i in range(60))


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Prometheus text parsed by Prometheus' own parser: (sample name, labels) → value."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(server: LiveServer) -> Samples:
    response = httpx.get(f"{server.base_url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    return parse(response.text)


def histogram_quantile(q: float, samples: Samples, name: str) -> float:
    """PromQL's ``histogram_quantile(q, sum by (le) (name_bucket))``, written out the way
    Prometheus' promql/quantile.go does it (a second implementation to check the server's)."""
    by_le: dict[float, float] = {}
    for (sample_name, labels), value in samples.items():
        if sample_name == f"{name}_bucket":
            le = float(dict(labels)["le"])
            by_le[le] = by_le.get(le, 0.0) + value
    bounds = sorted(by_le)
    rank = q * by_le[math.inf]
    i = next(i for i, upper in enumerate(bounds) if by_le[upper] >= rank)
    if bounds[i] == math.inf:
        return bounds[-2]
    lower, below = (bounds[i - 1], by_le[bounds[i - 1]]) if i else (0.0, 0.0)
    return lower + (bounds[i] - lower) * (rank - below) / (by_le[bounds[i]] - below)


def sample(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def speak(client: httpx.Client, **body: Any) -> httpx.Response:
    response = client.post("/v1/audio/speech", json={**SHORT, **body})
    assert response.status_code == 200, response.text
    return response


# --------------------------------------------------------------------------- the recorder alone


def test_bucket_quantiles_interpolate_like_histogram_quantile() -> None:
    inf = math.inf
    assert bucket_quantile(0.5, [(1.0, 0.0), (inf, 0.0)]) is None
    # 10 in (0, 1], 10 in (1, 2], none above: the median is the first bucket's top.
    buckets = [(1.0, 10.0), (2.0, 20.0), (inf, 20.0)]
    assert bucket_quantile(0.5, buckets) == pytest.approx(1.0)
    assert bucket_quantile(0.25, buckets) == pytest.approx(0.5)
    assert bucket_quantile(0.95, buckets) == pytest.approx(1.9)
    # Ranks in the +Inf bucket give the largest finite bound, as Prometheus does.
    assert bucket_quantile(0.99, [(1.0, 1.0), (2.0, 2.0), (inf, 100.0)]) == 2.0


def test_snippet_is_one_line_and_at_most_80_chars() -> None:
    assert snippet("  Hello\n  world  ") == "Hello world"
    cut = snippet("word " * 50)
    assert len(cut) == 80 and cut.endswith("…")


def test_a_tracker_counts_once_and_totals_survive_eviction() -> None:
    metrics = Metrics(buffer_size=10)
    for i in range(25):
        t = metrics.start(transport="http", text=f"t{i}", voice="F1", lang="en", format="mp3")
        t.first_byte()
        t.add(bytes_=100, audio_s=0.5)
        t.finish(status="ok")
        t.finish(status="error", error="late")  # a second finish is ignored
    assert len(metrics.recent(100)) == 10
    summary = metrics.summary()
    assert summary["totals"]["requests"] == 25 and summary["totals"]["ok"] == 25
    assert summary["totals"]["error"] == 0
    assert summary["totals"]["bytes"] == 2500
    assert summary["totals"]["audio_s"] == pytest.approx(12.5)
    assert [r["text"] for r in metrics.recent(3)] == ["t24", "t23", "t22"]
    assert summary["active"] == 0 and summary["model"] is None and summary["scheduler"] is None


def test_the_summary_percentiles_are_the_histogram_buckets_quantiles() -> None:
    """The JSON and ``/metrics`` read one registry: PromQL's estimate from the exported
    buckets is the summary's percentile, whichever transports the observations came from."""
    metrics = Metrics()
    for transport, seconds, times in (("http", 0.02, 5), ("ws", 0.12, 4), ("http", 3.0, 1)):
        for _ in range(times):
            metrics.ttfb.labels(transport).observe(seconds)
    for rtf in (0.04, 0.04, 0.06, 0.5):
        metrics.rtf.labels("ws").observe(rtf)
    samples = parse(generate_latest(metrics.registry).decode())
    pct = metrics.summary()["percentiles"]
    # Ranks 5, 9.5, 9.9 of 10: the top of (0.01, 0.025], then 1/2 and 9/10 into (2, 5].
    assert pct["ttfb_ms"] == pytest.approx({"p50": 25.0, "p95": 3500.0, "p99": 4700.0})
    for key, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        from_buckets = histogram_quantile(q, samples, "supertonic_ttfb_seconds")
        assert pct["ttfb_ms"][key] == pytest.approx(from_buckets * 1000)
        assert pct["rtf"][key] == pytest.approx(histogram_quantile(q, samples, "supertonic_rtf"))
    assert Metrics().summary()["percentiles"]["rtf"] == {"p50": None, "p95": None, "p99": None}


async def test_a_callback_that_holds_the_loop_shows_as_lag() -> None:
    """The watcher's timer is woken late by exactly the work that held the loop: a
    callback that blocks until the test has seen the watcher asleep, and then some."""
    metrics = Metrics()
    watcher = asyncio.create_task(metrics.watch_loop())
    try:
        await asyncio.sleep(0)  # the watcher is asleep on its timer now
        threading.Event().wait(0.3)  # the loop is held: no timer can fire meanwhile
        async with asyncio.timeout(10):
            while not metrics.summary()["percentiles"]["event_loop_lag_ms"]["p99"]:
                await asyncio.sleep(0.01)
        samples = parse(generate_latest(metrics.registry).decode())
        bucket = "supertonic_event_loop_lag_seconds_bucket"
        assert samples[bucket, frozenset({("le", "0.1")})] == 0  # over 0.1 s: held 0.3 s
        assert samples["supertonic_event_loop_lag_seconds_count", frozenset()] >= 1
    finally:
        watcher.cancel()


def test_two_apps_keep_their_own_numbers() -> None:
    """Each app has its own registry: no clash registering the same names twice, and what
    one counts the other does not see."""
    a, b = create_app(Settings()), create_app(Settings())
    tracker = a.state.metrics.start(transport="ws", text="x", voice="F1", lang="en", format="pcm")
    tracker.first_byte()
    tracker.finish(status="ok")
    ok_ws = (("status", "ok"), ("transport", "ws"))
    a_samples, b_samples = (parse(TestClient(app).get("/metrics").text) for app in (a, b))
    assert a_samples["supertonic_requests_total", frozenset(ok_ws)] == 1
    assert b_samples["supertonic_requests_total", frozenset(ok_ws)] == 0
    ws = frozenset({("transport", "ws")})
    assert a_samples["supertonic_ttfb_seconds_count", ws] == 1
    assert b_samples["supertonic_ttfb_seconds_count", ws] == 0
    assert b.state.metrics.summary()["totals"]["requests"] == 0


def test_buffer_size_setting_range_flag_and_variable() -> None:
    assert Settings().observability_buffer_size == 100
    env = {"SUPERTONIC_OBSERVABILITY_BUFFER_SIZE": "500"}
    assert load_settings([], env).observability_buffer_size == 500
    assert load_settings(["--observability-buffer-size", "10"], env).observability_buffer_size == 10
    for bad in ("9", "10001"):
        with pytest.raises(ValueError, match=r"SUPERTONIC_OBSERVABILITY_BUFFER_SIZE.*10 and 10000"):
            load_settings([], {"SUPERTONIC_OBSERVABILITY_BUFFER_SIZE": bad})
    with pytest.raises(ValueError, match="buffer_size"):
        Metrics(buffer_size=5)


# --------------------------------------------------------------------------- on the live server


def test_every_outcome_is_counted_in_prometheus_text(busy: LiveServer) -> None:
    """Three ok, one cancelled by the client going away, one refused (queue full: error)."""
    with (
        fresh_metrics(busy) as metrics,
        httpx.Client(base_url=busy.base_url, timeout=60) as client,
    ):
        rejected = sample(scrape(busy), "supertonic_scheduler_rejected_streams_total")
        sizes = [len(speak(client, response_format=f).content) for f in ("mp3", "wav", "pcm")]
        with client.stream(
            "POST", "/v1/audio/speech", json={"input": LONG, "response_format": "pcm"}
        ) as holding:
            assert holding.status_code == 200
            pieces = holding.iter_bytes()
            assert next(pieces)
            # While it plays: it is active everywhere, and the next request finds no room.
            during = scrape(busy)
            assert sample(during, "supertonic_active_synth") == 1
            assert sample(during, "supertonic_scheduler_active_streams") == 1
            recent = client.get("/metrics/recent").json()
            assert [a["status"] for a in recent["active"]] == ["active"]
            assert recent["active"][0]["ttfb_ms"] is not None
            refused = client.post("/v1/audio/speech", json=SHORT)
            assert refused.status_code == 429
        wait_for(busy.idle, what="the held stream to be released")
        wait_for(lambda: not metrics.active(), what="the cancelled request to be recorded")
        samples = scrape(busy)
        error = next(r for r in metrics.recent(10) if r["status"] == "error")

    def count(status: str) -> float:
        return sample(samples, "supertonic_requests_total", status=status, transport="http")

    assert (count("ok"), count("cancelled"), count("error")) == (3, 1, 1)
    assert sample(samples, "supertonic_requests_total", status="ok", transport="ws") == 0
    assert sample(samples, "supertonic_bytes_total", transport="http") > sum(sizes)
    assert sample(samples, "supertonic_audio_seconds_total", transport="http") > 0
    assert sample(samples, "supertonic_active_synth") == 0
    # TTFB: every request that sent audio (3 ok + the cancelled one); RTF: ok requests only.
    assert sample(samples, "supertonic_ttfb_seconds_count", transport="http") == 4
    assert sample(samples, "supertonic_ttfb_seconds_sum", transport="http") > 0
    assert sample(samples, "supertonic_ttfb_seconds_bucket", transport="http", le="+Inf") == 4
    assert sample(samples, "supertonic_rtf_count", transport="http") == 3
    assert 0 < sample(samples, "supertonic_rtf_sum", transport="http") < math.inf
    assert sample(samples, "supertonic_ttfb_seconds_count", transport="ws") == 0
    assert sample(samples, "supertonic_uptime_seconds") > 0
    assert sample(samples, "supertonic_model_synthetic") == 1
    assert sample(samples, "supertonic_scheduler_max_streams") == 1
    assert sample(samples, "supertonic_scheduler_queued_jobs") == 0
    assert sample(samples, "supertonic_scheduler_calls_total") > 0
    assert sample(samples, "supertonic_scheduler_rejected_streams_total") == rejected + 1
    assert any(name == "supertonic_scheduler_batch_calls_total" for name, _ in samples)
    assert error["error"] == "CapacityError" and error["ttfb_ms"] is None and error["rtf"] is None


def test_summary_shape(live: LiveServer) -> None:
    with fresh_metrics(live), httpx.Client(base_url=live.base_url, timeout=60) as client:
        for fmt in ("mp3", "opus"):
            speak(client, response_format=fmt)
        summary = client.get("/metrics/summary").json()
        samples = scrape(live)
    assert summary["totals"]["requests"] == 2 and summary["totals"]["ok"] == 2
    assert summary["totals"]["by_transport"]["http"]["ok"] == 2
    assert summary["totals"]["bytes"] > 0 and summary["totals"]["audio_s"] > 0
    assert summary["totals"]["bytes"] == sample(samples, "supertonic_bytes_total", transport="http")
    assert summary["active"] == 0 and summary["active_by_transport"] == {"http": 0, "ws": 0}
    for key, name, scale in (
        ("ttfb_ms", "supertonic_ttfb_seconds", 1000),
        ("rtf", "supertonic_rtf", 1),
    ):
        assert set(summary["percentiles"][key]) == {"p50", "p95", "p99"}
        for p, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
            value = summary["percentiles"][key][p]
            assert value > 0 and value == pytest.approx(
                scale * histogram_quantile(q, samples, name)
            )
    assert summary["uptime_s"] > 0
    assert summary["model"]["synthetic"] is True and summary["model"]["sample_rate"] == 44100
    scheduler = summary["scheduler"]
    for key in (
        "queued_jobs",
        "active_streams",
        "waiting_streams",
        "max_streams",
        "max_batch",
        "workers",
    ):
        assert isinstance(scheduler[key], int)
    assert "min_lead_s" in scheduler
    json.dumps(summary, allow_nan=False)  # strict JSON: no NaN or Infinity anywhere


def test_phrase_cache_hits_after_the_same_request_twice(tuned: LiveServer) -> None:
    """``--phrase-cache 32``: the second request's short chunks come from the cache."""
    body = {"input": "Sure. One moment, please.", "response_format": "pcm"}
    before = scrape(tuned)
    hits = sample(before, "supertonic_phrase_cache_hits_total")
    with httpx.Client(base_url=tuned.base_url, timeout=60) as client:
        speak(client, **body)
        speak(client, **body)
        summary = client.get("/metrics/summary").json()["phrase_cache"]
    after = scrape(tuned)
    assert sample(after, "supertonic_phrase_cache_hits_total") > hits
    assert sample(after, "supertonic_phrase_cache_misses_total") >= 1
    assert sample(after, "supertonic_phrase_cache_entries") >= 1
    assert sample(after, "supertonic_phrase_cache_bytes") > 0
    assert sample(after, "supertonic_phrase_cache_capacity") == 32
    assert set(summary) == {"hits", "misses", "entries", "bytes", "capacity"}
    assert summary["hits"] > hits and summary["entries"] >= 1 and summary["capacity"] == 32


def test_no_phrase_cache_family_when_it_is_off(live: LiveServer) -> None:
    assert not [name for name, _ in scrape(live) if name.startswith("supertonic_phrase_cache")]
    assert httpx.get(f"{live.base_url}/metrics/summary").json()["phrase_cache"] is None


def test_recent_is_newest_first_with_checked_limits(live: LiveServer) -> None:
    long_text = "A fairly long sentence that goes on and on, well past the snippet limit. " * 3
    with (
        fresh_metrics(live, buffer_size=10),
        httpx.Client(base_url=live.base_url, timeout=60) as client,
    ):
        first = speak(client, response_format="wav", voice="F2")
        speak(client, response_format="mp3", input=long_text, lang="en")
        body = client.get("/metrics/recent", params={"limit": 2}).json()
        assert body["limit"] == 2 and body["buffer_size"] == 10 and body["active"] == []
        newest, older = body["data"]
        assert newest["id"] > older["id"]
        assert older["request_id"] == first.headers["X-Request-ID"]
        assert (older["voice"], older["format"], older["status"]) == ("F2", "wav", "ok")
        assert older["bytes"] == len(first.content)
        assert newest["text_chars"] == len(long_text) and len(newest["text"]) == 80
        for record in body["data"]:
            assert record["transport"] == "http" and record["error"] is None
            assert 0 < record["ttfb_ms"] <= record["total_ms"]
            assert record["audio_s"] > 0
            assert record["rtf"] == pytest.approx(record["total_ms"] / 1000 / record["audio_s"])
        assert len(client.get("/metrics/recent").json()["data"]) == 2
        for bad in (0, 11, -1):
            refused = client.get("/metrics/recent", params={"limit": bad})
            assert refused.status_code == 400
            error = refused.json()["error"]
            assert error["param"] == "limit" and error["code"] == "invalid_value"
            assert "between 1 and 10" in error["message"]
        assert client.get("/metrics/recent", params={"limit": "many"}).status_code == 400


def test_eviction_keeps_the_totals(live: LiveServer) -> None:
    with (
        fresh_metrics(live, buffer_size=10),
        httpx.Client(base_url=live.base_url, timeout=60) as client,
    ):
        for i in range(13):
            speak(client, input=f"Request number {i}.", response_format="pcm")
        recent = client.get("/metrics/recent", params={"limit": 10}).json()["data"]
        assert [r["text"] for r in recent] == [f"Request number {i}." for i in range(12, 2, -1)]
        summary = client.get("/metrics/summary").json()
        assert summary["totals"]["requests"] == 13
        samples = scrape(live)
    assert sample(samples, "supertonic_requests_total", status="ok", transport="http") == 13
    assert sample(samples, "supertonic_ttfb_seconds_count", transport="http") == 13


async def test_websocket_utterances_share_the_recorder(live: LiveServer) -> None:
    with fresh_metrics(live) as metrics:
        async with websockets.connect(f"ws://127.0.0.1:{live.port}/v1/audio/speech/stream") as ws:
            await ws.send(json.dumps({"type": "config", "voice": "nova", "lang": "en"}))
            await ws.send(json.dumps({"type": "text", "text": "Hello over the socket."}))
            await ws.send(json.dumps({"type": "flush"}))
            async with asyncio.timeout(30):
                while True:
                    raw = await ws.recv()
                    if isinstance(raw, str) and json.loads(raw)["type"] == "audio_end":
                        break
        await asyncio.to_thread(
            wait_for, lambda: metrics.recent(10), what="the utterance to be recorded"
        )
        (record,) = metrics.recent(10)
        summary = metrics.summary()
    assert record["transport"] == "ws" and record["status"] == "ok"
    assert record["bytes"] > 0 and record["audio_s"] > 0
    assert summary["totals"]["by_transport"]["ws"]["ok"] == 1


def test_aggregates_are_open_but_recent_texts_need_the_key(keyed: LiveServer) -> None:
    with httpx.Client(base_url=keyed.base_url, timeout=60) as client:
        assert client.get("/metrics").status_code == 200
        assert client.get("/metrics/summary").status_code == 200
        refused = client.get("/metrics/recent")
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "missing_api_key"
        wrong = client.get("/metrics/recent", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = client.get("/metrics/recent", headers={"Authorization": f"Bearer {API_KEY}"})
        assert ok.status_code == 200 and ok.json()["object"] == "list"
        assert client.get("/metrics/recent", headers={"x-api-key": API_KEY}).status_code == 200


def test_buffer_size_reaches_the_server(base_settings: Settings) -> None:
    server = LiveServer(
        base_settings.model_copy(update={"observability_buffer_size": 25, "warmup": False})
    )
    try:
        server.start(wait_ready=False)
        with httpx.Client(base_url=server.base_url, timeout=60) as client:
            assert client.get("/metrics/recent").json()["buffer_size"] == 25
            assert client.get("/metrics/recent", params={"limit": 26}).status_code == 400
            assert client.get("/metrics/recent", params={"limit": 25}).status_code == 200
    finally:
        server.stop()
