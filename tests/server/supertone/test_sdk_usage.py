"""Credits and usage through the real ``supertone`` SDK, and the counters behind them."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from supertonic_server.supertone.usage import OVERFLOW, UsageCounters, UsageKey

from ..conftest import LiveServer
from .conftest import SdkClient

KEY = UsageKey("F1", "F1", "sona_speech_1", "neutral", "en", "open")


def _day(d: datetime) -> str:
    return d.strftime("%Y-%m-%d")


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_usage_counts_what_was_synthesized(sdk: SdkClient, is_async: bool):
    now = datetime.now(UTC)
    start = (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:00:00Z")
    end = (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:00:00Z")

    def op(name: str, **kwargs) -> dict:
        return {"op": name, "async": is_async, "kwargs": kwargs}

    window = {"start_time": start, "end_time": end, "bucket_width": "hour"}
    model = "sona_speech_2t" if is_async else "supertonic_api_3"  # a group of its own
    before, predicted, spoken, after, by_voice, balance, per_day = sdk.run(
        op("usage.get_usage", **window),
        op("text_to_speech.predict_duration", voice_id="M5", text="Count me in.", language="ko"),
        op("text_to_speech.create_speech", voice_id="M5", text="Count me in.", language="ko",
           model=model),
        op("usage.get_usage", **window),
        op("usage.get_usage", **window, breakdown_type=["voice_id", "model"]),
        op("usage.get_credit_balance"),
        op("usage.get_voice_usage", start_date=_day(now - timedelta(days=1)), end_date=_day(now)),
    )  # fmt: skip
    seconds = float(spoken["headers"]["x-audio-length"][0])
    assert after["value"]["total"] == 3 and len(after["value"]["data"]) == 3

    def minutes(result: dict) -> float:
        return sum(r["minutes_used"] for b in result["value"]["data"] for r in b["results"])

    # the synthesis is counted; the prediction (no synthesis) is not
    assert minutes(after) - minutes(before) == pytest.approx(seconds / 60, abs=1e-4)
    assert predicted["value"]["duration"] > 0
    groups = [r for b in by_voice["value"]["data"] for r in b["results"]]
    mine = [g for g in groups if (g["voice_id"], g["model"]) == ("M5", model)]
    assert len(mine) == 1 and mine[0]["minutes_used"] == pytest.approx(seconds / 60, abs=1e-4)
    assert balance["value"] == {"balance": None}  # unlimited unless configured
    usages = [
        u
        for u in per_day["value"]["usages"]
        if (u["voice_id"], u["language"], u["model"]) == ("M5", "ko", model)
    ]
    assert usages and usages[0]["date"] == _day(now) and usages[0]["style"] == "neutral"


def test_usage_pages_its_buckets(sdk: SdkClient):
    window = {"start_time": "2026-01-01T00:00:00Z", "end_time": "2026-01-31T23:59:59Z"}
    first, second = sdk.run(
        {"op": "usage.get_usage", "kwargs": {**window, "page_size": 20}},
        {"op": "usage.get_usage", "kwargs": {**window, "page_size": 20, "next_page_token": "20"}},
    )
    assert first["value"]["total"] == 31 and first["value"]["next_page_token"] == "20"
    days = [b["starting_at"] for b in first["value"]["data"] + second["value"]["data"]]
    assert days[0] == "2026-01-01T00:00:00Z" and days[-1] == "2026-01-31T00:00:00Z"
    assert len(days) == 31 and second["value"]["next_page_token"] is None
    assert [r["minutes_used"] for r in first["value"]["data"][0]["results"]] == [0.0]


def test_usage_refuses_bad_windows_with_the_typed_error(sdk: SdkClient):
    date_only, both_voices = sdk.run(
        {"op": "usage.get_usage", "kwargs": {"start_time": "2026-01-01", "end_time": "2026-01-02"}},
        {
            "op": "usage.get_usage",
            "kwargs": {
                "start_time": "2026-01-01T00:00:00Z",
                "end_time": "2026-01-02T00:00:00Z",
                "breakdown_type": ["voice_id", "voice_name"],
            },
        },
    )
    assert (date_only["class"], date_only["status_code"]) == ("BadRequestErrorResponse", 400)
    assert "RFC 3339" in date_only["message"]
    assert both_voices["status_code"] == 400 and "not both" in both_voices["message"]


def test_a_configured_balance_is_spent_then_402(sdk_python: str, base_settings):
    server = LiveServer(
        base_settings.model_copy(update={"supertone_credits": 0.001, "warmup": False})
    ).start()
    try:
        client = SdkClient(sdk_python, server)
        first, balance, second = client.run(
            {
                "op": "text_to_speech.create_speech",
                "kwargs": {"voice_id": "F1", "text": "Spend it all.", "language": "en"},
            },
            {"op": "usage.get_credit_balance"},
            {
                "op": "text_to_speech.create_speech",
                "kwargs": {"voice_id": "F1", "text": "Nothing left.", "language": "en"},
            },
        )
        assert first["kind"] == "audio" and balance["value"] == {"balance": 0.0}
        assert (second["class"], second["status_code"]) == ("PaymentRequiredErrorResponse", 402)
        assert "--supertone-credits" in second["message"]
    finally:
        server.stop()


# --------------------------------------------------------------------------- the counters


def test_counters_bucket_by_hour_and_keep_the_total():
    counters = UsageCounters()
    t0 = datetime(2026, 5, 1, 10, 30, tzinfo=UTC)
    counters.record(KEY, characters=10, seconds=6.0, when=t0)
    counters.record(KEY, characters=5, seconds=3.0, when=t0 + timedelta(minutes=20))
    counters.record(KEY, characters=1, seconds=1.0, when=t0 + timedelta(hours=1))
    cells = list(counters.cells(t0.replace(minute=0), t0 + timedelta(hours=2)))
    assert [(c[0].hour, c[2].characters, c[2].seconds) for c in cells] == [
        (10, 15, 9.0),
        (11, 1, 1.0),
    ]
    assert counters.total_seconds == 10.0


def test_counters_are_bounded_dropping_the_oldest_hours_first():
    counters = UsageCounters(max_entries=4)
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    for hour in range(6):
        counters.record(KEY, characters=1, seconds=1.0, when=t0 + timedelta(hours=hour))
    hours = [c[0].hour for c in counters.cells(t0, t0 + timedelta(days=1))]
    assert hours == [2, 3, 4, 5]
    for n in range(10):  # one hour of ever-new keys folds into "other"
        counters.record(
            replace(KEY, style=f"s{n}"), characters=1, seconds=1.0, when=t0 + timedelta(hours=5)
        )
    cells = list(counters.cells(t0, t0 + timedelta(days=1)))
    assert len(cells) <= 4 + 1 and OVERFLOW in {c[1] for c in cells}  # the bound, plus "other"
    assert counters.total_seconds == 16.0  # nothing counted is lost from the total


def test_counters_are_thread_safe():
    counters = UsageCounters()
    when = datetime(2026, 5, 1, tzinfo=UTC)

    def work() -> None:
        for _ in range(500):
            counters.record(KEY, characters=1, seconds=0.5, when=when)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ((_, _, tally),) = counters.cells(when, when + timedelta(hours=1))
    assert (tally.characters, tally.seconds) == (2000, 1000.0)
