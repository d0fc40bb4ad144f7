"""Usage counters: characters and seconds synthesized, per voice and model, by UTC hour.

Why: Supertone's usage and credit routes report what was used; here that is real local
use, counted as each synthesis ends. Counts are kept per whole UTC hour and per
(voice, model, style, language, API key) so the routes can bucket them by hour or day
and break them down as asked. Thread-safe (one lock), and bounded: at most
``max_entries`` (hour, key) cells are kept, the oldest hours dropped first (should one
hour fill them all, its further new keys are counted together in one more cell, "other"),
so a server that runs for months holds a fixed amount of memory. Nothing is persisted: a restart
starts from zero, like the server's other metrics.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class UsageKey:
    """What one count is broken down by."""

    voice_id: str
    voice_name: str
    model: str
    style: str
    language: str
    api_key: str  # a label such as "key-1", never the key itself


@dataclass(slots=True)
class Tally:
    characters: int = 0
    seconds: float = 0.0

    def add(self, other: Tally) -> None:
        self.characters += other.characters
        self.seconds += other.seconds


#: Where counts go once the cells are full within one hour (keys are bounded that way).
OVERFLOW = UsageKey("other", "other", "other", "other", "other", "other")


def hour_of(when: datetime) -> datetime:
    """The UTC hour ``when`` falls in."""
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class UsageCounters:
    """Counts per (hour, :class:`UsageKey`), oldest hours evicted beyond ``max_entries``."""

    def __init__(self, max_entries: int = 50_000) -> None:
        self.max_entries = max_entries
        self._hours: OrderedDict[datetime, dict[UsageKey, Tally]] = OrderedDict()
        self._entries = 0
        self._total_seconds = 0.0
        self._lock = threading.Lock()

    def record(
        self, key: UsageKey, *, characters: int, seconds: float, when: datetime | None = None
    ) -> None:
        """Add one synthesis's characters and audio seconds at ``when`` (now)."""
        hour = hour_of(when or datetime.now(UTC))
        with self._lock:
            cells = self._hours.get(hour)
            if cells is None:
                cells = self._hours[hour] = {}
                self._hours = OrderedDict(sorted(self._hours.items()))  # out-of-order hours
            tally = cells.get(key)
            if tally is None:
                self._evict(keep=hour)
                if self._entries >= self.max_entries:  # one hour of ever-new keys: fold them
                    key = OVERFLOW
                    tally = cells.get(key)
            if tally is None:
                tally = cells[key] = Tally()
                self._entries += 1
            tally.add(Tally(characters, seconds))
            self._total_seconds += seconds

    def cells(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, UsageKey, Tally]]:
        """A copy of every count whose hour starts in ``[start, end)``."""
        with self._lock:
            found = [
                (hour, key, Tally(t.characters, t.seconds))
                for hour, cells in self._hours.items()
                if start <= hour < end
                for key, t in cells.items()
            ]
        yield from found

    @property
    def total_seconds(self) -> float:
        """Audio seconds counted since start (evicted hours included)."""
        with self._lock:
            return self._total_seconds

    def _evict(self, *, keep: datetime) -> None:
        """Drop the oldest hours (never ``keep``) until one more cell fits."""
        while self._entries >= self.max_entries:
            oldest = next(iter(self._hours))
            if oldest == keep:
                return
            self._entries -= len(self._hours.pop(oldest))
