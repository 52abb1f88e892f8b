"""Booking services: book, reschedule and cancel, each one function and one database transaction.

The database has the last word on double bookings (the `no_double_booking` exclusion constraint); a race lost
there is reported as SlotRefused(TAKEN). Every change writes its Salesforce outbox row (portal.sync.outbox) in the
same transaction, so a booking and its sync are committed together or not at all.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Booking, BookingStatus, Calendar, SyncEvent
from ..sync import outbox
from .slots import Interval, Refusal, Rules, Slot, SlotRefused, WeeklyRange, available_slots, busy_horizon, check_slot

log = logging.getLogger("portal.booking")

DOUBLE_BOOKING_CONSTRAINT = "no_double_booking"


class BookingClosed(Exception):
    """The booking can no longer be changed (cancelled already, or its time has passed)."""


class CalendarArchived(Exception):
    """The calendar was archived: it takes no more bookings."""


@dataclass(frozen=True)
class GuestDetails:
    email: str
    name: str = ""
    family_name: str = ""
    given_name: str = ""
    company: str = ""
    phone: str = ""
    time_zone: str = "UTC"
    locale: str = "en"  # the language the guest booked in: their e-mails are written in it
    answers: Mapping[str, str] = field(default_factory=dict)  # question id (str) -> answer, every question


def new_manage_token() -> str:
    """The guest's private manage-link token; only its hash is stored."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def booking_for_token(token: str) -> Booking | None:
    return db.session.scalar(select(Booking).where(Booking.manage_token_hash == hash_token(token)))


def calendar_rules(calendar: Calendar) -> Rules:
    return Rules(
        time_zone=calendar.time_zone,
        duration=timedelta(minutes=calendar.duration_minutes),
        buffer=timedelta(minutes=calendar.buffer_minutes),
        notice=timedelta(minutes=calendar.min_notice_minutes),
        window=timedelta(days=calendar.window_days),
        ranges=tuple(WeeklyRange(r.weekday, r.start_time, r.end_time) for r in calendar.availability),
    )


def host_ids(calendar: Calendar) -> list[int]:
    return [host.user_id for host in sorted(calendar.hosts, key=lambda h: h.position)]


def hosts_busy(
    hosts: Sequence[int], between: tuple[datetime, datetime], *, ignore_booking_id: int | None = None
) -> dict[int, list[Interval]]:
    """The hosts' confirmed bookings on any calendar overlapping the span, as busy intervals."""
    # Written as the no_double_booking constraint's own expression, so its GiST index serves the lookup and the
    # cost does not grow with the hosts' history.
    busy_range = func.tstzrange(Booking.busy_from, Booking.busy_until, "[)")
    query = select(Booking.host_id, Booking.busy_from, Booking.busy_until).where(
        Booking.host_id.in_(hosts),
        Booking.status == BookingStatus.CONFIRMED,
        busy_range.op("&&")(func.tstzrange(between[0], between[1], "[)")),
    )
    if ignore_booking_id is not None:
        query = query.where(Booking.id != ignore_booking_id)
    busy: dict[int, list[Interval]] = {host: [] for host in hosts}
    for host_id, busy_from, busy_until in db.session.execute(query):
        busy[host_id].append(Interval(busy_from, busy_until))
    return busy


def open_slots(
    calendar: Calendar,
    now: datetime,
    *,
    between: tuple[datetime, datetime] | None = None,
    ignore_booking_id: int | None = None,
    hosts: Sequence[int] | None = None,
) -> list[Slot]:
    """The calendar's bookable slots now (optionally only those starting in `between`); `hosts`: its host ids in
    order, when the caller loaded them already."""
    rules = calendar_rules(calendar)
    hosts = host_ids(calendar) if hosts is None else hosts
    busy = hosts_busy(hosts, busy_horizon(rules, now), ignore_booking_id=ignore_booking_id)
    return available_slots(rules, hosts, busy, now, between=between)


def book(calendar: Calendar, start: datetime, guest: GuestDetails, manage_token: str, *, now: datetime) -> Booking:
    """Book the slot starting at `start` for the guest with the first free host, in one transaction.

    Raises SlotRefused (past, too soon, beyond the window, outside availability, taken — including a race lost
    at the database) and leaves nothing behind in that case.
    """
    try:
        _lock_open_calendar(calendar.id)
        slot = _checked_slot(calendar, start, now)
        booking = Booking(
            calendar_id=calendar.id,
            status=BookingStatus.CONFIRMED,
            guest_email=guest.email,
            guest_name=guest.name,
            guest_family_name=guest.family_name,
            guest_given_name=guest.given_name,
            guest_company=guest.company,
            guest_phone=guest.phone,
            guest_time_zone=guest.time_zone,
            guest_locale=guest.locale,
            answers=dict(guest.answers),
            manage_token_hash=hash_token(manage_token),
            sequence=0,
        )
        _place(booking, slot, calendar, hosts=slot.free_hosts)
        return _finish(booking, SyncEvent.CREATED)
    except BaseException:
        db.session.rollback()
        raise


def reschedule(booking: Booking, start: datetime, *, now: datetime, language: str | None = None) -> Booking:
    """Move a confirmed, future booking to another free slot of its calendar, in one transaction.

    The current host keeps it when free, otherwise the first free host takes it. `language`, when given, is the
    guest's language from now on (their e-mails). Raises BookingClosed or SlotRefused.
    """
    try:
        booking = _locked_open_booking(booking.id, now)
        calendar = booking.calendar
        if calendar.archived_at is not None:
            raise BookingClosed(_("This meeting is no longer offered, so it cannot be moved. You can still cancel it."))
        slot = _checked_slot(calendar, start, now, ignore_booking_id=booking.id)
        if slot.start == booking.start_at:
            raise BookingClosed(_("Your booking is already at that time."))
        hosts = sorted(slot.free_hosts, key=lambda host: host != booking.host_id)
        _place(booking, slot, calendar, hosts=tuple(hosts))
        booking.sequence += 1
        booking.guest_locale = language or booking.guest_locale
        return _finish(booking, SyncEvent.RESCHEDULED)
    except BaseException:
        db.session.rollback()
        raise


def cancel(booking: Booking, *, now: datetime, language: str | None = None) -> Booking:
    """Cancel a confirmed, future booking in one transaction (its time becomes free); `language`, when given, is
    the guest's language from now on. Raises BookingClosed."""
    try:
        booking = _locked_open_booking(booking.id, now)
        booking.guest_locale = language or booking.guest_locale
        mark_cancelled(booking, now=now)
        db.session.commit()
        return booking
    except BaseException:
        db.session.rollback()
        raise


def mark_cancelled(booking: Booking, *, now: datetime) -> None:
    """Cancel a locked, confirmed booking inside the caller's transaction: its time becomes free and its
    Salesforce outbox row is written (the integration's on-cancel rule applies to its Event)."""
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.sequence += 1
    db.session.flush()
    outbox.add_sync_job(db.session, booking, SyncEvent.CANCELLED)


def _checked_slot(calendar: Calendar, start: datetime, now: datetime, *, ignore_booking_id: int | None = None):
    rules = calendar_rules(calendar)
    hosts = host_ids(calendar)
    between = (start - rules.duration - rules.buffer * 2, start + rules.duration + rules.buffer * 2)
    busy = hosts_busy(hosts, between, ignore_booking_id=ignore_booking_id)
    return check_slot(rules, hosts, busy, now, start)


def _place(booking: Booking, slot: Slot, calendar: Calendar, *, hosts: tuple[int, ...]) -> None:
    """Give the booking the slot with the first host the database accepts (each try in its own savepoint)."""
    buffer = timedelta(minutes=calendar.buffer_minutes)
    for host in hosts:
        try:
            with db.session.begin_nested():
                booking.host_id = host
                booking.start_at, booking.end_at = slot.start, slot.end
                booking.busy_from, booking.busy_until = slot.start, slot.end + buffer
                db.session.add(booking)
                db.session.flush()
            return
        except IntegrityError as error:
            if not is_double_booking(error):
                raise
            log.info("host %s was taken at %s by a concurrent booking", host, slot.start.isoformat())
    raise SlotRefused(Refusal.TAKEN)


def is_double_booking(error: IntegrityError) -> bool:
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "constraint_name", None) == DOUBLE_BOOKING_CONSTRAINT


def _lock_open_calendar(calendar_id: int) -> None:
    """Share-lock the calendar row so archiving it (which locks it for update) cannot miss this booking."""
    calendar = db.session.scalar(
        select(Calendar)
        .where(Calendar.id == calendar_id)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    )
    if calendar is None or calendar.archived_at is not None:
        raise CalendarArchived()


def _locked_open_booking(booking_id: int, now: datetime) -> Booking:
    """Re-read the booking under a row lock so two changes to it run one after the other."""
    booking = db.session.scalar(
        select(Booking).where(Booking.id == booking_id).with_for_update().execution_options(populate_existing=True)
    )
    if booking is None or booking.status != BookingStatus.CONFIRMED:
        raise BookingClosed(_("This booking has been cancelled."))
    if booking.start_at <= now:
        raise BookingClosed(_("This booking has already started, so it can no longer be changed."))
    return booking


def _finish(booking: Booking, event: SyncEvent) -> Booking:
    outbox.add_sync_job(db.session, booking, event)
    db.session.commit()
    return booking
