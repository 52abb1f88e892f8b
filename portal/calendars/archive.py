"""Archiving a calendar, and an owner's permanent deletion of one that never had a booking (design §2).

Bookings are records of meetings people agreed to: they are never deleted with a calendar (the database refuses
it). An archived calendar takes no bookings and leaves the calendar list; its bookings and sync history stay.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select

from .. import audit
from ..extensions import db
from ..models import Booking, BookingStatus, Calendar, User
from . import booking as booking_service


class CalendarHasBookings(Exception):
    """Only a calendar that never had a booking may be deleted; others are archived."""


def upcoming_bookings(calendar: Calendar, now: datetime) -> list[Booking]:
    """The calendar's confirmed bookings that have not started yet, soonest first."""
    return list(
        db.session.scalars(select(Booking).where(_upcoming(calendar.id, now)).order_by(Booking.start_at, Booking.id))
    )


def booking_count(calendar: Calendar) -> int:
    return db.session.scalar(select(func.count()).where(Booking.calendar_id == calendar.id))


def archive_calendar(calendar: Calendar, archived_by: User, *, cancel_upcoming: bool, now: datetime) -> list[Booking]:
    """Archive the calendar in one transaction; return the bookings it cancelled (for the guests' e-mails).

    With `cancel_upcoming`, every upcoming booking is cancelled as a guest's own cancel is (its time freed, its
    Salesforce Event following the integration's on-cancel rule); otherwise they stand and their guests may still
    cancel them. The calendar row is locked first, so a booking made meanwhile is either seen here or refused."""
    try:
        calendar = db.session.scalar(
            select(Calendar)
            .where(Calendar.id == calendar.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if calendar.archived_at is not None:
            db.session.rollback()
            return []
        calendar.archived_at, calendar.archived_by_id = now, archived_by.id
        upcoming = db.session.scalars(
            select(Booking).where(_upcoming(calendar.id, now)).order_by(Booking.start_at, Booking.id).with_for_update()
        ).all()
        cancelled = list(upcoming) if cancel_upcoming else []
        for booking in cancelled:
            booking_service.mark_cancelled(booking, now=now)
        audit.record(
            "calendar.archived",
            team_id=calendar.team_id,
            target=calendar,
            name=calendar.name,
            upcoming_kept=len(upcoming) - len(cancelled),
            upcoming_cancelled=len(cancelled),
        )
        db.session.commit()
        return cancelled
    except BaseException:
        db.session.rollback()
        raise


def delete_calendar(calendar: Calendar) -> None:
    """Delete a calendar that never had a booking, with its settings and questions; raises CalendarHasBookings."""
    try:
        db.session.scalar(select(Calendar.id).where(Calendar.id == calendar.id).with_for_update())
        if booking_count(calendar):
            raise CalendarHasBookings()
        audit.record(
            "calendar.deleted", team_id=calendar.team_id, target=calendar, name=calendar.name, slug=calendar.slug
        )
        db.session.delete(calendar)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def _upcoming(calendar_id: int, now: datetime) -> ColumnElement[bool]:
    return and_(Booking.calendar_id == calendar_id, Booking.status == BookingStatus.CONFIRMED, Booking.start_at > now)
