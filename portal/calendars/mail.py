"""The guest's e-mails (confirmed, rescheduled, cancelled) with an iCalendar attachment and the manage link.

Sending never raises: a failing mail server is logged and the booking stands.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from icalendar import Calendar as ICalendar
from icalendar import Event, vCalAddress

from .. import mail
from ..i18n import current_language, format_range, in_language, person_name
from ..models import Booking, BookingStatus

SUBJECTS = {
    "confirmed": _l("Booking confirmed: %(name)s"),
    "rescheduled": _l("Booking moved: %(name)s"),
    "cancelled": _l("Booking cancelled: %(name)s"),
    "withdrawn": _l("Booking cancelled: %(name)s"),
}
INTROS = {
    "confirmed": _l("Your booking is confirmed."),
    "rescheduled": _l("Your booking has been moved to a new time."),
    "cancelled": _l("Your booking has been cancelled."),
    "withdrawn": _l("We are sorry: this meeting is no longer offered, so your booking has been cancelled."),
}


def send_booking_mail(booking: Booking, manage_url: str, kind: str) -> bool:
    """Send the guest the e-mail for this change (kind: confirmed | rescheduled | cancelled); False if it failed."""
    return mail.send(
        lambda: [booking_message(booking, manage_url, kind)], f"the {kind} e-mail for booking {booking.id}"
    )


def send_withdrawn_mails(bookings: list[Booking]) -> bool:
    """Tell each guest that the team cancelled their booking (its calendar was archived); False if sending failed.

    Only the hash of a guest's manage link is stored, so these messages carry no link."""
    if not bookings:
        return True
    return mail.send(
        lambda: [booking_message(booking, None, "withdrawn") for booking in bookings],
        f"the cancellation e-mails for bookings {', '.join(str(booking.id) for booking in bookings)}",
    )


def booking_message(booking: Booking, manage_url: str | None, kind: str) -> EmailMessage:
    """The e-mail in the language the guest booked in, whoever's request sends it."""
    with in_language(booking.guest_locale):
        return _booking_message(booking, manage_url, kind)


def _booking_message(booking: Booking, manage_url: str | None, kind: str) -> EmailMessage:
    calendar = booking.calendar
    guest = Address(display_name=guest_name(booking), addr_spec=booking.guest_email)
    message = mail.new_message(str(SUBJECTS[kind]) % {"name": calendar.name}, guest)
    message.set_content(_text_body(booking, manage_url, kind))
    method = "CANCEL" if booking.status == BookingStatus.CANCELLED else "REQUEST"
    message.add_attachment(
        _booking_ics(booking, manage_url).encode("utf-8"),
        maintype="text",
        subtype="calendar",
        params={"method": method, "charset": "utf-8"},
        filename="booking.ics",
    )
    return message


def local_time_text(booking: Booking) -> str:
    return format_range(booking.start_at, booking.end_at, booking.guest_time_zone)


def _text_body(booking: Booking, manage_url: str | None, kind: str) -> str:
    calendar = booking.calendar
    lines = [_("Hello %(name)s,", name=guest_name(booking) or booking.guest_email), "", str(INTROS[kind]), ""]
    lines.append(_("What: %(calendar)s", calendar=calendar.name))
    lines.append(_("When: %(when)s", when=local_time_text(booking)))
    if booking.host is not None:
        lines.append(_("With: %(host)s", host=booking.host.name or booking.host.email))
    confirmed = booking.status == BookingStatus.CONFIRMED
    if calendar.meeting_url and confirmed:
        lines.append(_("Where: %(url)s", url=calendar.meeting_url))
    lines.append("")
    if confirmed and manage_url:
        lines += [_("To reschedule or cancel, use your private link (do not share it):"), manage_url, ""]
    lines.append(_("A calendar file is attached."))
    return "\n".join(lines) + "\n"


def guest_name(booking: Booking) -> str:
    """The guest's name as shown everywhere (design §1 "Names"), in the order the reader's language or the name's
    own script writes it (山田 太郎)."""
    return person_name(booking.guest_family_name or "", booking.guest_given_name or "", fallback=booking.guest_name)


def booking_ics(booking: Booking, manage_url: str | None) -> str:
    """An RFC 5545 VCALENDAR for the booking: REQUEST while confirmed, CANCEL once cancelled; its words are in the
    guest's language.

    The icalendar library escapes, quotes and folds (at 75 octets, never inside a UTF-8 character).
    """
    with in_language(booking.guest_locale):
        return _booking_ics(booking, manage_url)


def _booking_ics(booking: Booking, manage_url: str | None) -> str:
    cancelled = booking.status == BookingStatus.CANCELLED
    ics = ICalendar()
    ics.add("prodid", "-//Scheduling Portal//Bookings//EN")
    ics.add("version", "2.0")
    ics.add("method", "CANCEL" if cancelled else "REQUEST")
    ics.add_component(_booking_event(booking, manage_url, cancelled))
    return ics.to_ical().decode("utf-8")


def _booking_event(booking: Booking, manage_url: str | None, cancelled: bool) -> Event:
    calendar = booking.calendar
    lines = [calendar.name]
    if manage_url:
        lines.append(_("Manage your booking: %(url)s", url=manage_url))
    if calendar.meeting_url:
        lines.append(_("Web meeting: %(url)s", url=calendar.meeting_url))
    description = "\n".join(lines)
    event = Event()
    event.add("uid", f"booking-{booking.id}@{mail.sender_domain()}")  # stable, so updates replace the same event
    event.add("sequence", booking.sequence)
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", booking.start_at.astimezone(UTC))
    event.add("dtend", booking.end_at.astimezone(UTC))
    language = {"LANGUAGE": current_language()}  # RFC 5545 §3.2.10: the language of the text
    summary = _("Cancelled: %(calendar)s", calendar=calendar.name) if cancelled else calendar.name
    event.add("summary", summary, parameters=language)
    event.add("description", description, parameters=language)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if calendar.meeting_url:
        event.add("location", calendar.meeting_url)
    if booking.host is not None:
        event.add("organizer", _address(booking.host.email, booking.host.name or booking.host.email))
    attendee = _address(booking.guest_email, guest_name(booking) or booking.guest_email)
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    event.add("attendee", attendee)
    return event


def _address(email: str, name: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = name
    return address
