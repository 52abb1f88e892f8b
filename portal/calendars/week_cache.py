"""The booking page's week of free times as guests see it, rendered, kept a few seconds in each process.

An entry is keyed by everything the page shows or depends on: the calendar's row, rules and hosts, the sum of its
hosts' booking versions, the address asked for (time zone, week), the language and the days shown. A database
trigger bumps a host's version in the same transaction as any change of the host's bookings on any calendar, and the
page reads the sum in its one calendar statement, so every process sees a booking, cancellation or reschedule at
once. An entry also ends when the first slot it lists stops being bookable (its notice begins), when the day
changes in the guest's time zone, and after TTL whatever happens (slots at the far end of the booking window).
A page only offers: booking a slot taken meanwhile is still refused by the database ("just taken").
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Flask

from .slots import Slot

TTL = timedelta(seconds=30)
MAX_ENTRIES = 256  # pages (~35 kB each) guests look at within TTL; beyond that the least recently used go


class WeekCache:
    """A small thread-safe LRU of rendered pages, each valid in [computed, expires) of the clock it was made by."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[datetime, datetime, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, now: datetime) -> str | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            computed, expires, page = entry
            if not computed <= now < expires:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return page

    def put(self, key: Hashable, page: str, now: datetime, expires: datetime) -> None:
        with self._lock:
            self._entries[key] = (now, expires, page)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def week_cache(app: Flask) -> WeekCache:
    """The app's cache (one per app, so apps on different databases never share entries)."""
    return app.extensions.setdefault("week_cache", WeekCache())


def expires_at(now: datetime, slots: Sequence[Slot], notice: timedelta, zone_name: str) -> datetime:
    """When a page computed now stops being right by the clock alone: its first slot leaves (slots leave in time
    order, at start - notice), the guest's day ends, or TTL passes."""
    zone = ZoneInfo(zone_name)
    midnight = datetime.combine(now.astimezone(zone).date() + timedelta(days=1), time(), tzinfo=zone)
    ends = [now + TTL, midnight.astimezone(UTC)]
    if slots:
        ends.append(slots[0].start - notice)
    return min(ends)
