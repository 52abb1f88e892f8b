"""The guest's e-mails (confirmed, rescheduled, cancelled) with an iCalendar attachment and the manage link.

Sending never raises: a failing mail server is logged and the booking stands.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from icalendar import Calendar as ICalendar
from icalendar import Event, vCalAddress

from .. import mail
from ..models import Booking, BookingStatus
from ..planner.names import display_name

SUBJECTS = {
    "confirmed": "Booking confirmed: {name}",
    "rescheduled": "Booking moved: {name}",
    "cancelled": "Booking cancelled: {name}",
    "withdrawn": "Booking cancelled: {name}",
}
INTROS = {
    "confirmed": "Your booking is confirmed.",
    "rescheduled": "Your booking has been moved to a new time.",
    "cancelled": "Your booking has been cancelled.",
    "withdrawn": "We are sorry: this meeting is no longer offered, so your booking has been cancelled.",
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
    calendar = booking.calendar
    guest = Address(display_name=guest_name(booking), addr_spec=booking.guest_email)
    message = mail.new_message(SUBJECTS[kind].format(name=calendar.name), guest)
    message.set_content(_text_body(booking, manage_url, kind))
    method = "CANCEL" if booking.status == BookingStatus.CANCELLED else "REQUEST"
    message.add_attachment(
        booking_ics(booking, manage_url).encode("utf-8"),
        maintype="text",
        subtype="calendar",
        params={"method": method, "charset": "utf-8"},
        filename="booking.ics",
    )
    return message


def local_time_text(booking: Booking) -> str:
    zone = ZoneInfo(booking.guest_time_zone)
    start, end = booking.start_at.astimezone(zone), booking.end_at.astimezone(zone)
    return f"{start:%A %d %B %Y, %H:%M}–{end:%H:%M} ({booking.guest_time_zone})"


def _text_body(booking: Booking, manage_url: str | None, kind: str) -> str:
    calendar = booking.calendar
    lines = [f"Hello {guest_name(booking) or booking.guest_email},", "", INTROS[kind], ""]
    lines.append(f"What: {calendar.name}")
    lines.append(f"When: {local_time_text(booking)}")
    if booking.host is not None:
        lines.append(f"With: {booking.host.name or booking.host.email}")
    confirmed = booking.status == BookingStatus.CONFIRMED
    if calendar.meeting_url and confirmed:
        lines.append(f"Where: {calendar.meeting_url}")
    lines.append("")
    if confirmed and manage_url:
        lines += ["To reschedule or cancel, use your private link (do not share it):", manage_url, ""]
    lines.append("A calendar file is attached.")
    return "\n".join(lines) + "\n"


def guest_name(booking: Booking) -> str:
    """The guest's name as shown everywhere (design §1 "Names")."""
    return display_name(booking.guest_name or "", booking.guest_family_name or "", booking.guest_given_name or "")


def booking_ics(booking: Booking, manage_url: str | None) -> str:
    """An RFC 5545 VCALENDAR for the booking: REQUEST while confirmed, CANCEL once cancelled.

    The icalendar library escapes, quotes and folds (at 75 octets, never inside a UTF-8 character).
    """
    cancelled = booking.status == BookingStatus.CANCELLED
    ics = ICalendar()
    ics.add("prodid", "-//Scheduling Portal//Bookings//EN")
    ics.add("version", "2.0")
    ics.add("method", "CANCEL" if cancelled else "REQUEST")
    ics.add_component(_booking_event(booking, manage_url, cancelled))
    return ics.to_ical().decode("utf-8")


def _booking_event(booking: Booking, manage_url: str | None, cancelled: bool) -> Event:
    calendar = booking.calendar
    description = f"{calendar.name}\nManage your booking: {manage_url}" if manage_url else calendar.name
    if calendar.meeting_url:
        description += f"\nWeb meeting: {calendar.meeting_url}"
    event = Event()
    event.add("uid", f"booking-{booking.id}@{mail.sender_domain()}")  # stable, so updates replace the same event
    event.add("sequence", booking.sequence)
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", booking.start_at.astimezone(UTC))
    event.add("dtend", booking.end_at.astimezone(UTC))
    event.add("summary", calendar.name)
    event.add("description", description)
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
