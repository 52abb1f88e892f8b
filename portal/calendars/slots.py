"""Pure slot computation: a calendar's weekly availability (in its own time zone) minus notice, window, buffers
and the hosts' busy times, as UTC slots. No database, Flask or clock inside: callers pass `now` and busy times."""

from __future__ import annotations

import bisect
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones


@dataclass(frozen=True)
class WeeklyRange:
    """An open range on a weekday (0 = Monday), in the calendar's local wall-clock time."""

    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class Rules:
    time_zone: str
    duration: timedelta
    buffer: timedelta  # kept free before and after every booking of the host
    notice: timedelta  # earliest start is now + notice
    window: timedelta  # latest start is before now + window
    ranges: tuple[WeeklyRange, ...]


@dataclass(frozen=True)
class Interval:
    """A time a host is busy, [start, end) in UTC (a booking's busy range already includes its own buffer)."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Slot:
    start: datetime  # UTC
    end: datetime
    free_hosts: tuple[int, ...]  # in the calendar's host order; the first one gets the booking


class Refusal(enum.StrEnum):
    PAST = "past"
    TOO_SOON = "too_soon"
    BEYOND_WINDOW = "beyond_window"
    OUTSIDE_AVAILABILITY = "outside_availability"
    TAKEN = "taken"


class SlotRefused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


# The regions of the IANA database people pick a place from; the rest are aliases and system entries
# ("localtime", "Factory", "posixrules", "EST5EDT", "Etc/GMT+3", "US/Pacific") nobody means to choose.
TIME_ZONE_REGIONS = frozenset(
    {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific"}
)


@cache
def time_zone_names() -> frozenset[str]:
    return frozenset(name for name in available_timezones() if _chosen_by_people(name)) | {"UTC"}


def _chosen_by_people(name: str) -> bool:
    region, _, place = name.partition("/")
    return region in TIME_ZONE_REGIONS and bool(place)


def is_time_zone(name: str) -> bool:
    return name in time_zone_names()


def busy_horizon(rules: Rules, now: datetime) -> tuple[datetime, datetime]:
    """The span of busy times that can affect any slot offered now (load bookings overlapping it)."""
    return now + rules.notice - rules.buffer, now + rules.window + rules.duration + rules.buffer


def available_slots(
    rules: Rules,
    hosts: Sequence[int],
    busy: Mapping[int, Sequence[Interval]],
    now: datetime,
    *,
    between: tuple[datetime, datetime] | None = None,
) -> list[Slot]:
    """Bookable slots, in time order: on the availability grid, within notice and window, with a free host.

    `between` narrows the listing to starts in [from, until) (e.g. the week a guest is looking at).
    """
    earliest, latest = now + rules.notice, now + rules.window
    if between is not None:
        earliest, latest = max(earliest, between[0]), min(latest, between[1])
    free = _FreeHosts(hosts, busy, rules.buffer)
    slots = []
    for start in _grid_starts(rules, earliest, latest):
        if start >= earliest and start < latest:
            end = start + rules.duration
            free_hosts = free.at(start, end)
            if free_hosts:
                slots.append(Slot(start, end, free_hosts))
    return slots


def check_slot(
    rules: Rules, hosts: Sequence[int], busy: Mapping[int, Sequence[Interval]], now: datetime, start: datetime
) -> Slot:
    """The slot starting at `start` if a guest may book it now; otherwise SlotRefused saying why."""
    start = start.astimezone(UTC)
    if start <= now:
        raise SlotRefused(Refusal.PAST)
    if start < now + rules.notice:
        raise SlotRefused(Refusal.TOO_SOON)
    if start >= now + rules.window:
        raise SlotRefused(Refusal.BEYOND_WINDOW)
    if start not in set(_grid_starts(rules, start, start + timedelta(seconds=1))):
        raise SlotRefused(Refusal.OUTSIDE_AVAILABILITY)
    end = start + rules.duration
    free_hosts = _FreeHosts(hosts, busy, rules.buffer).at(start, end)
    if not free_hosts:
        raise SlotRefused(Refusal.TAKEN)
    return Slot(start, end, free_hosts)


def group_by_local_day(slots: Iterable[Slot], time_zone: str) -> list[tuple[date, list[tuple[Slot, datetime]]]]:
    """Slots grouped by the day they fall on in a (guest's) time zone, each with its local start time."""
    zone = ZoneInfo(time_zone)
    days: dict[date, list[tuple[Slot, datetime]]] = {}
    for slot in slots:
        local = slot.start.astimezone(zone)
        days.setdefault(local.date(), []).append((slot, local))
    return list(days.items())


def merged_ranges(ranges: Iterable[WeeklyRange]) -> dict[int, list[tuple[time, time]]]:
    """Per weekday, the union of its ranges: overlapping or touching ranges become one, so no slot repeats."""
    by_day: dict[int, list[tuple[time, time]]] = {}
    for weekday_range in sorted(ranges, key=lambda r: (r.weekday, r.start)):
        day = by_day.setdefault(weekday_range.weekday, [])
        if day and weekday_range.start <= day[-1][1]:
            day[-1] = (day[-1][0], max(day[-1][1], weekday_range.end))
        else:
            day.append((weekday_range.start, weekday_range.end))
    return by_day


def _grid_starts(rules: Rules, earliest: datetime, latest: datetime) -> list[datetime]:
    """Every slot start of the weekly grid on the local days around [earliest, latest), in UTC.

    Local range bounds are turned into real instants with zoneinfo and slots step in real time, so a DST
    change shortens or lengthens that day's range instead of producing non-existent or doubled times.
    """
    zone = ZoneInfo(rules.time_zone)
    by_day = merged_ranges(rules.ranges)
    first = earliest.astimezone(zone).date() - timedelta(days=1)
    last = latest.astimezone(zone).date()
    starts: list[datetime] = []
    day = first
    while day <= last:
        for range_start, range_end in by_day.get(day.weekday(), []):
            start = datetime.combine(day, range_start, tzinfo=zone).astimezone(UTC)
            end = datetime.combine(day, range_end, tzinfo=zone).astimezone(UTC)
            while start + rules.duration <= end:
                starts.append(start)
                start += rules.duration
        day += timedelta(days=1)
    return starts


class _FreeHosts:
    """Answers "which hosts are free for [start, end) with the buffer on both sides?" by binary search."""

    def __init__(self, hosts: Sequence[int], busy: Mapping[int, Sequence[Interval]], buffer: timedelta) -> None:
        self.hosts = tuple(hosts)
        self.buffer = buffer
        self.busy = {host: sorted(busy.get(host, ()), key=lambda i: i.start) for host in self.hosts}
        self.ends = {host: _running_max_ends(intervals) for host, intervals in self.busy.items()}

    def at(self, start: datetime, end: datetime) -> tuple[int, ...]:
        return tuple(host for host in self.hosts if self._is_free(host, start - self.buffer, end + self.buffer))

    def _is_free(self, host: int, start: datetime, end: datetime) -> bool:
        intervals = self.busy[host]
        # Intervals before this index all end (running maximum) by `start`, so none of them can overlap.
        for index in range(bisect.bisect_right(self.ends[host], start), len(intervals)):
            interval = intervals[index]
            if interval.start >= end:
                return True
            if interval.end > start:
                return False
        return True


def _running_max_ends(intervals: Sequence[Interval]) -> list[datetime]:
    ends, latest = [], None
    for interval in intervals:
        latest = interval.end if latest is None or interval.end > latest else latest
        ends.append(latest)
    return ends
