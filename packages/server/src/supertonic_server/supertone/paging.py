"""Supertone's pagination: a float ``page_size`` and an offset carried in ``next_page_token``.

The SDK sends ``page_size=100.0`` (a float) and loops ``while next_page_token:``, so the
token is the next offset as a string (``"20"``, as the docs describe it) and ``null`` on
the last page; it must be spelt in snake_case, or the SDK stops after one page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import SupertoneError

T = TypeVar("T")


@dataclass(frozen=True)
class PageRule:
    """Default and bounds of ``page_size`` for one list."""

    default: int
    low: int
    high: int


#: The docs say 10..100 for voices; smaller pages cost nothing here, so 1 is accepted too.
VOICES = PageRule(default=20, low=1, high=100)
USAGE = PageRule(default=10, low=1, high=20)


def page_size(raw: float | None, rule: PageRule) -> int:
    """The page size asked for (``10.0`` reads as 10), or 400 naming the bounds."""
    if raw is None:
        return rule.default
    if not math.isfinite(raw) or raw != int(raw) or not rule.low <= raw <= rule.high:
        raise SupertoneError(
            400, f"page_size must be a whole number from {rule.low} to {rule.high}, got {raw:g}"
        )
    return int(raw)


def page(
    items: Sequence[T], size: float | None, token: str | None, rule: PageRule
) -> dict[str, Any]:
    """One page of ``items``: ``{"items", "total", "next_page_token"}``."""
    count = page_size(size, rule)
    start = offset(token)
    end = start + count
    return {
        "items": list(items[start:end]),
        "total": len(items),
        "next_page_token": str(end) if end < len(items) else None,
    }


def offset(token: str | None) -> int:
    """The offset a ``next_page_token`` carries (none: 0), or 400."""
    if token is None or token == "":
        return 0
    if not token.isdigit():
        raise SupertoneError(
            400, f"next_page_token must be a token from a previous page, got {token!r}"
        )
    return int(token)
