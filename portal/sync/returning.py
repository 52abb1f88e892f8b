"""The returning guest's record (design §5 "Returning guests"): the record id the link of the team's latest earlier
booking by the same e-mail holds, as a column of the attempt's one loading statement (no statement of its own)."""

from __future__ import annotations

from sqlalchemy import String, case, cast, func, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from ..models import Booking, Calendar, SalesforceIntegration, SalesforceLink

# Made once: an alias built per call costs the sync about a millisecond of CPU.
_EARLIER, _LINK, _CALENDAR = aliased(Booking), aliased(SalesforceLink), aliased(Calendar)


def guest_key(email: ColumnElement) -> ColumnElement:
    """The e-mail as guests are matched (the guest lock's form); ix_bookings_guest_key indexes it."""
    return func.lower(func.btrim(email))


def known_record_id(team_id: int | ColumnElement) -> ColumnElement:
    """A scalar subquery correlated with the loading statement's Booking and SalesforceIntegration: the latest
    earlier booking's record id, or NULL when that link is of another object (the calendar moved from Lead to
    Contact, or contact-first linked a Contact): an id of another object is never used, and an older link is not
    preferred over the latest knowledge. `team_id` may be a bound parameter (the loading statement is built once)."""
    earlier, link, calendar = _EARLIER, _LINK, _CALENDAR
    same_object = link.sf_object == cast(SalesforceIntegration.object_name, String)
    return (
        select(case((same_object, link.record_id)))
        .select_from(link)
        .join(earlier, earlier.id == link.booking_id)
        .join(calendar, calendar.id == earlier.calendar_id)
        .where(calendar.team_id == team_id, earlier.id < Booking.id)
        .where(guest_key(earlier.guest_email) == guest_key(Booking.guest_email), link.record_id != "")
        .order_by(earlier.id.desc())
        .limit(1)
        .correlate(Booking, SalesforceIntegration)
        .scalar_subquery()
    )
