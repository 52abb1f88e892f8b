"""Slot computation (pure): availability in the calendar's zone across DST changes, buffers, notice, window,
overlapping ranges, busy hosts, and why a requested slot is refused."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.calendars.slots import (
    Interval,
    Refusal,
    Rules,
    SlotRefused,
    WeeklyRange,
    available_slots,
    check_slot,
    group_by_local_day,
)

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


def rules(*ranges, zone="UTC", duration=30, buffer=0, notice=0, window=30) -> Rules:
    return Rules(
        time_zone=zone,
        duration=timedelta(minutes=duration),
        buffer=timedelta(minutes=buffer),
        notice=timedelta(minutes=notice),
        window=timedelta(days=window),
        ranges=tuple(ranges),
    )


def every_day(start: time, end: time) -> list[WeeklyRange]:
    return [WeeklyRange(day, start, end) for day in range(7)]


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute)


def starts(slots) -> list[datetime]:
    return [slot.start for slot in slots]


def test_slots_step_by_the_duration_inside_each_range():
    slots = available_slots(
        rules(WeeklyRange(0, time(9), time(11))), [1], {}, at(MONDAY, 0), between=(MONDAY, MONDAY + timedelta(days=1))
    )
    assert starts(slots) == [at(MONDAY, 9), at(MONDAY, 9, 30), at(MONDAY, 10), at(MONDAY, 10, 30)]
    assert all(slot.end - slot.start == timedelta(minutes=30) for slot in slots)


def test_a_slot_that_would_run_past_the_range_end_is_not_offered():
    slots = available_slots(
        rules(WeeklyRange(0, time(9), time(10, 15)), duration=30),
        [1],
        {},
        at(MONDAY, 0),
        between=(MONDAY, MONDAY + timedelta(days=1)),
    )
    assert starts(slots) == [at(MONDAY, 9), at(MONDAY, 9, 30)]


def test_local_availability_follows_the_calendar_zone_across_the_spring_dst_change():
    # Berlin moves from UTC+1 to UTC+2 on Sunday 29 March 2026: 09:00 local is 08:00Z before, 07:00Z after.
    berlin = rules(*every_day(time(9), time(10)), zone="Europe/Berlin", duration=60)
    now = datetime(2026, 3, 27, 0, 0, tzinfo=UTC)
    slots = available_slots(berlin, [1], {}, now, between=(now, now + timedelta(days=4)))
    assert starts(slots) == [
        datetime(2026, 3, 27, 8, tzinfo=UTC),
        datetime(2026, 3, 28, 8, tzinfo=UTC),
        datetime(2026, 3, 29, 7, tzinfo=UTC),
        datetime(2026, 3, 30, 7, tzinfo=UTC),
    ]
    assert {slot.start.astimezone(ZoneInfo("Europe/Berlin")).hour for slot in slots} == {9}


def test_a_range_spanning_the_skipped_hour_offers_only_real_times():
    # New York skips 02:00-03:00 on 8 March 2026: a 01:00-04:00 range is two real hours long.
    new_york = rules(WeeklyRange(6, time(1), time(4)), zone="America/New_York", duration=60)
    now = datetime(2026, 3, 7, tzinfo=UTC)
    slots = available_slots(new_york, [1], {}, now, between=(now, now + timedelta(days=2)))
    local = [slot.start.astimezone(ZoneInfo("America/New_York")) for slot in slots]
    assert [(t.hour, t.utcoffset()) for t in local] == [(1, timedelta(hours=-5)), (3, timedelta(hours=-4))]


def test_a_range_spanning_the_repeated_hour_offers_both_real_hours():
    # New York repeats 01:00-02:00 on 1 November 2026: a 00:00-03:00 range is four real hours long.
    new_york = rules(WeeklyRange(6, time(0), time(3)), zone="America/New_York", duration=60)
    now = datetime(2026, 10, 31, tzinfo=UTC)
    slots = available_slots(new_york, [1], {}, now, between=(now, now + timedelta(days=2)))
    assert starts(slots) == [datetime(2026, 11, 1, hour, tzinfo=UTC) for hour in (4, 5, 6, 7)]


def test_slots_are_grouped_by_the_guests_local_day():
    tokyo_evening = rules(WeeklyRange(0, time(14), time(16)), duration=60)  # UTC 14-16 = Tokyo 23:00-01:00
    slots = available_slots(tokyo_evening, [1], {}, at(MONDAY, 0), between=(MONDAY, MONDAY + timedelta(days=1)))
    days = group_by_local_day(slots, "Asia/Tokyo")
    assert [(day.isoformat(), [local.hour for _, local in entries]) for day, entries in days] == [
        ("2026-03-02", [23]),
        ("2026-03-03", [0]),
    ]


def test_overlapping_and_touching_ranges_are_merged_without_repeated_slots():
    merged = rules(
        WeeklyRange(0, time(9), time(11)),
        WeeklyRange(0, time(10), time(12)),
        WeeklyRange(0, time(12), time(13)),
        duration=60,
    )
    slots = available_slots(merged, [1], {}, at(MONDAY, 0), between=(MONDAY, MONDAY + timedelta(days=1)))
    assert starts(slots) == [at(MONDAY, hour) for hour in (9, 10, 11, 12)]


def test_the_buffer_is_kept_before_and_after_an_existing_booking():
    calendar = rules(WeeklyRange(0, time(9), time(12)), duration=30, buffer=15)
    busy = {1: [Interval(at(MONDAY, 10), at(MONDAY, 10, 45))]}  # 10:00-10:30 booked, busy until 10:45
    slots = available_slots(calendar, [1], busy, at(MONDAY, 0), between=(MONDAY, MONDAY + timedelta(days=1)))
    assert starts(slots) == [at(MONDAY, 9), at(MONDAY, 11), at(MONDAY, 11, 30)]


def test_minimum_notice_hides_slots_starting_too_soon():
    calendar = rules(WeeklyRange(0, time(9), time(12)), notice=60)
    slots = available_slots(calendar, [1], {}, at(MONDAY, 8, 50), between=(MONDAY, MONDAY + timedelta(days=1)))
    assert starts(slots)[0] == at(MONDAY, 10)


def test_the_booking_window_ends_the_offer():
    calendar = rules(*every_day(time(9), time(10)), duration=60, window=2)
    now = at(MONDAY, 9, 30)  # the last start offered is before Wednesday 09:30
    assert starts(available_slots(calendar, [1], {}, now)) == [at(MONDAY, 9) + timedelta(days=d) for d in (1, 2)]


def test_a_slot_is_offered_while_any_host_is_free_and_names_the_free_hosts_in_order():
    calendar = rules(WeeklyRange(0, time(9), time(10)), duration=60)
    busy = {1: [Interval(at(MONDAY, 9), at(MONDAY, 10))]}
    (slot,) = available_slots(calendar, [1, 2], busy, at(MONDAY, 0), between=(MONDAY, MONDAY + timedelta(days=1)))
    assert slot.free_hosts == (2,)
    busy[2] = [Interval(at(MONDAY, 8), at(MONDAY, 9, 30))]
    assert available_slots(calendar, [1, 2], busy, at(MONDAY, 0), between=(MONDAY, MONDAY + timedelta(days=1))) == []


@pytest.mark.parametrize(
    ("start", "refusal"),
    [
        (at(MONDAY, 9), Refusal.PAST),
        (at(MONDAY, 10, 30), Refusal.TOO_SOON),
        (at(MONDAY, 9) + timedelta(days=14), Refusal.BEYOND_WINDOW),
        (at(MONDAY + timedelta(days=1), 9, 10), Refusal.OUTSIDE_AVAILABILITY),
        (at(MONDAY + timedelta(days=1), 18), Refusal.OUTSIDE_AVAILABILITY),
        (at(MONDAY + timedelta(days=1), 11), Refusal.TAKEN),
        (at(MONDAY + timedelta(days=1), 11, 30), Refusal.TAKEN),  # inside the buffer after the booking
    ],
)
def test_a_requested_slot_is_refused_with_the_reason(start, refusal):
    calendar = rules(*every_day(time(9), time(17)), duration=30, buffer=30, notice=120, window=7)
    tuesday = MONDAY + timedelta(days=1)
    busy = {1: [Interval(at(tuesday, 11), at(tuesday, 12))]}
    with pytest.raises(SlotRefused) as refused:
        check_slot(calendar, [1], busy, at(MONDAY, 10), start)
    assert refused.value.refusal == refusal


def test_a_requested_free_slot_on_the_grid_is_accepted_with_its_free_hosts():
    calendar = rules(*every_day(time(9), time(17)), duration=30)
    slot = check_slot(
        calendar, [7, 8], {7: [Interval(at(MONDAY, 14), at(MONDAY, 15))]}, at(MONDAY, 10), at(MONDAY, 14, 30)
    )
    assert (slot.start, slot.end, slot.free_hosts) == (at(MONDAY, 14, 30), at(MONDAY, 15), (8,))
