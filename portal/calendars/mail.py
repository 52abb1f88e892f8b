"""The guest's e-mails (confirmed, rescheduled, cancelled) with an iCalendar attachment and the manage link.

Sending never raises: a failing mail server is logged and the booking stands.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from .. import mail
from ..models import Booking, BookingStatus

SUBJECTS = {
    "confirmed": "Booking confirmed: {name}",
    "rescheduled": "Booking moved: {name}",
    "cancelled": "Booking cancelled: {name}",
}
INTROS = {
    "confirmed": "Your booking is confirmed.",
    "rescheduled": "Your booking has been moved to a new time.",
    "cancelled": "Your booking has been cancelled.",
}


def send_booking_mail(booking: Booking, manage_url: str, kind: str) -> bool:
    """Send the guest the e-mail for this change (kind: confirmed | rescheduled | cancelled); False if it failed."""
    return mail.send(
        lambda: [booking_message(booking, manage_url, kind)], f"the {kind} e-mail for booking {booking.id}"
    )


def booking_message(booking: Booking, manage_url: str, kind: str) -> EmailMessage:
    calendar = booking.calendar
    guest = Address(display_name=_guest_name(booking), addr_spec=booking.guest_email)
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


def _text_body(booking: Booking, manage_url: str, kind: str) -> str:
    calendar = booking.calendar
    lines = [f"Hello {_guest_name(booking) or booking.guest_email},", "", INTROS[kind], ""]
    lines.append(f"What: {calendar.name}")
    lines.append(f"When: {local_time_text(booking)}")
    if booking.host is not None:
        lines.append(f"With: {booking.host.name or booking.host.email}")
    if calendar.meeting_url and kind != "cancelled":
        lines.append(f"Where: {calendar.meeting_url}")
    lines.append("")
    if kind != "cancelled":
        lines += ["To reschedule or cancel, use your private link (do not share it):", manage_url, ""]
    lines.append("A calendar file is attached.")
    return "\n".join(lines) + "\n"


def _guest_name(booking: Booking) -> str:
    return booking.guest_name or " ".join(filter(None, (booking.guest_given_name, booking.guest_family_name)))


def booking_ics(booking: Booking, manage_url: str) -> str:
    """An RFC 5545 VCALENDAR for the booking: REQUEST while confirmed, CANCEL once cancelled."""
    calendar = booking.calendar
    cancelled = booking.status == BookingStatus.CANCELLED
    description = f"{calendar.name}\nManage your booking: {manage_url}"
    if calendar.meeting_url:
        description += f"\nWeb meeting: {calendar.meeting_url}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Scheduling Portal//Bookings//EN",
        f"METHOD:{'CANCEL' if cancelled else 'REQUEST'}",
        "BEGIN:VEVENT",
        f"UID:booking-{booking.id}@{mail.sender_domain()}",
        f"SEQUENCE:{booking.sequence}",
        f"DTSTAMP:{_ics_time(datetime.now(UTC))}",
        f"DTSTART:{_ics_time(booking.start_at)}",
        f"DTEND:{_ics_time(booking.end_at)}",
        f"SUMMARY:{_ics_text(calendar.name)}",
        f"DESCRIPTION:{_ics_text(description)}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
    ]
    if calendar.meeting_url:
        lines.append(f"LOCATION:{_ics_text(calendar.meeting_url)}")
    if booking.host is not None:
        lines.append(f"ORGANIZER;CN={_ics_param(booking.host.name or booking.host.email)}:mailto:{booking.host.email}")
    lines.append(
        f"ATTENDEE;CN={_ics_param(_guest_name(booking) or booking.guest_email)};ROLE=REQ-PARTICIPANT:"
        f"mailto:{booking.guest_email}"
    )
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(_fold(line) + "\r\n" for line in lines)


def _ics_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _ics_text(value: str) -> str:
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def _ics_param(value: str) -> str:
    """A parameter value: quoted, with the characters a quoted value may not hold removed."""
    return '"' + "".join(char for char in value if char not in '"\r\n') + '"'


def _fold(line: str) -> str:
    """Fold at 75 octets without splitting a UTF-8 character (RFC 5545 §3.1)."""
    parts, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > 75:
            parts.append(current)
            current, size = " ", 1
        current += char
        size += width
    parts.append(current)
    return "\r\n".join(parts)
