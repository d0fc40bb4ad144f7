"""Credits and usage of Supertone's API, from the server's own usage counters.

``GET /v1/credits``: the balance is ``null`` (unlimited) unless ``--supertone-credits N``
is set; then it is N minus the minutes synthesized since start, and text-to-speech answers
402 once it reaches zero. ``GET /v1/usage`` buckets the minutes used by whole UTC hours or
days between two RFC 3339 times, broken down by voice, model or API key (a label such as
``key-1``, never the key); ``GET /v1/voice-usage`` lists them per day and voice. Both add
``characters_used`` beside the minutes (the SDK ignores fields it does not know).
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from . import paging
from .errors import SupertoneError, SupertoneRoute, documented
from .usage import HOUR, Tally, UsageCounters, UsageKey, hour_of

router = APIRouter(
    route_class=SupertoneRoute, tags=["supertone"], responses=documented(400, 401, 413, 503)
)

Breakdown = Literal["voice_id", "voice_name", "api_key", "model"]
MAX_BUCKETS = 24 * 366
_WIDTHS = {"hour": HOUR, "day": timedelta(days=1)}


def counters(request: Request) -> UsageCounters:
    return request.app.state.supertone.usage


def balance(request: Request) -> float | None:
    """Credits left (minutes of audio), or None for unlimited."""
    credits: float | None = request.app.state.settings.supertone_credits
    if credits is None:
        return None
    return max(0.0, credits - counters(request).total_seconds / 60)


def require_credits(request: Request) -> None:
    """Raise 402 when a configured balance is spent."""
    left = balance(request)
    if left is not None and left <= 0:
        raise SupertoneError(
            402,
            "no credits left: the balance set by --supertone-credits is spent "
            "(restart the server or raise the setting)",
        )


def _instant(raw: str, name: str) -> datetime:
    """An RFC 3339 date-time (a bare date is refused, as the cloud does); naive means UTC."""
    try:
        if "T" not in raw.upper():
            raise ValueError
        when = datetime.fromisoformat(raw)
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise SupertoneError(
            400,
            f"{name} must be an RFC 3339 date-time such as 2025-01-01T00:00:00Z in years "
            f"1..9999, got {raw!r}",
        ) from None


def _day(raw: str, name: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise SupertoneError(400, f"{name} must be a date YYYY-MM-DD, got {raw!r}") from None


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _minutes(tally: Tally) -> dict[str, Any]:
    return {"minutes_used": tally.seconds / 60, "characters_used": tally.characters}


def _bucket_results(
    cells: list[tuple[datetime, UsageKey, Tally]], breakdown: list[str]
) -> list[dict[str, Any]]:
    if not breakdown:
        total = Tally()
        for _, _, t in cells:
            total.add(t)
        return [_minutes(total)]
    groups: dict[tuple[str, ...], Tally] = defaultdict(Tally)
    for _, key, t in cells:
        groups[tuple(getattr(key, field) for field in breakdown)].add(t)
    return [
        {**_minutes(t), **dict(zip(breakdown, values, strict=True))}
        for values, t in sorted(groups.items())
    ]


@router.get("/v1/credits", summary="Credit balance (Supertone)")
async def get_credit_balance(request: Request) -> dict[str, Any]:
    return {"balance": balance(request)}


@router.get("/v1/usage", summary="Usage analytics (Supertone)")
async def get_usage(
    request: Request,
    start_time: str,
    end_time: str,
    bucket_width: Literal["hour", "day"] = "day",
    breakdown_type: Annotated[list[Breakdown], Query()] = [],  # noqa: B006 (FastAPI copies it)
    page_size: float | None = None,
    next_page_token: str | None = None,
) -> dict[str, Any]:
    start, end = _instant(start_time, "start_time"), _instant(end_time, "end_time")
    if end <= start:
        raise SupertoneError(400, "end_time must be after start_time")
    breakdown = list(dict.fromkeys(breakdown_type))
    if "voice_id" in breakdown and "voice_name" in breakdown:
        raise SupertoneError(400, "breakdown_type may name voice_id or voice_name, not both")
    width = _WIDTHS[bucket_width]
    try:
        first = hour_of(start)
        if bucket_width == "day":
            first = first.replace(hour=0)
        (end + width).astimezone(UTC)  # the last bucket's end must exist too
    except OverflowError:
        raise SupertoneError(400, "start_time and end_time must lie within years 1..9999") from None
    count = math.ceil((end - first) / width)
    if count > MAX_BUCKETS:
        raise SupertoneError(
            400, f"the range holds {count} {bucket_width} buckets; the most is {MAX_BUCKETS}"
        )
    size = paging.page_size(page_size, paging.USAGE)
    offset = paging.offset(next_page_token)
    starts = [first + i * width for i in range(offset, min(count, offset + size))]
    data = []
    for bucket in starts:
        cells = list(counters(request).cells(bucket, bucket + width))
        data.append(
            {
                "starting_at": _stamp(bucket),
                "ending_at": _stamp(bucket + width),
                "results": _bucket_results(cells, breakdown),
            }
        )
    after = offset + len(starts)
    return {
        "data": data,
        "total": count,
        "next_page_token": str(after) if after < count else None,
    }


@router.get("/v1/voice-usage", summary="Voice usage per day (Supertone)")
async def get_voice_usage(request: Request, start_date: str, end_date: str) -> dict[str, Any]:
    first, last = _day(start_date, "start_date"), _day(end_date, "end_date")
    if last < first:
        raise SupertoneError(400, "end_date must not be before start_date")
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    try:
        end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    except OverflowError:
        raise SupertoneError(400, "end_date must be before 9999-12-31") from None
    days: dict[tuple[str, UsageKey], Tally] = defaultdict(Tally)
    for hour, key, t in counters(request).cells(start, end):
        days[(hour.date().isoformat(), key)].add(t)
    usages: dict[tuple[str, str, str, str, str], dict[str, Any]] = {}
    for (day, key), t in sorted(days.items(), key=lambda item: (item[0][0], item[0][1].voice_id)):
        group = (day, key.voice_id, key.style, key.language, key.model)
        entry = usages.setdefault(
            group,
            {
                "date": day,
                "voice_id": key.voice_id,
                "name": key.voice_name,
                "style": key.style,
                "language": key.language,
                "model": key.model,
                "total_minutes_used": 0.0,
                "characters_used": 0,
            },
        )
        entry["total_minutes_used"] += t.seconds / 60
        entry["characters_used"] += t.characters
    return {"usages": list(usages.values())}
