"""The booking page's cached week (portal.calendars.week_cache): a change of any host's bookings shows at once,
whichever calendar or process made it, because the cache key holds the hosts' booking versions that a database
trigger bumps in the change's own transaction. Nothing here clears the cache: only the versions can make it miss."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select, text

from portal.calendars import booking as service
from portal.calendars.slots import Slot
from portal.calendars.week_cache import TTL, expires_at
from portal.extensions import db
from portal.models import Booking, HostBookingVersion, Role, utcnow
from tests.booking_support import slot_links
from tests.factories import login
from tests.statements import counting_statements


def shown_slots(client, slug: str) -> list[str]:
    """The slot values the booking page links to for next week (a full week, whatever the time now)."""
    week = (utcnow() + timedelta(days=7)).date().isoformat()
    page = client.get(f"/book/{slug}?tz=UTC&week={week}")
    assert page.status_code == 200
    return [parse_qs(urlsplit(link).query)["slot"][0] for link in slot_links(page.get_data(as_text=True))]


def book(calendar, slot: str) -> Booking:
    start = datetime.fromisoformat(slot)
    answers = {str(q.id): "Ada" if q.required else "" for q in calendar.questions}
    guest = service.GuestDetails(email="ada@example.com", name="Ada", answers=answers)
    return service.book(calendar, start, guest, service.new_manage_token(), now=utcnow())


def one_host_calendars(factory, count: int = 1):
    team, users = factory.team_with_roles()
    host = users[Role.OWNER]
    return [factory.calendar(team, created_by=host, hosts=[host]) for _ in range(count)]


def test_an_unchanged_week_costs_one_statement_and_the_same_slots(client, factory):
    (calendar,) = one_host_calendars(factory)
    first = shown_slots(client, calendar.slug)
    slug = calendar.slug
    db.session.expire_all()  # as a new request finds it: nothing of the calendar loaded yet

    with counting_statements() as statements:
        again = shown_slots(client, slug)

    assert again == first and len(statements) == 1, "\n\n".join(statements)


def test_a_new_booking_cancellation_and_reschedule_show_at_once(client, factory):
    (calendar,) = one_host_calendars(factory)
    slots = shown_slots(client, calendar.slug)
    taken, moved_to = slots[3], slots[5]

    booking = book(calendar, taken)
    assert taken not in shown_slots(client, calendar.slug)

    service.reschedule(booking, datetime.fromisoformat(moved_to), now=utcnow())
    after_move = shown_slots(client, calendar.slug)
    assert taken in after_move and moved_to not in after_move

    service.cancel(booking, now=utcnow())
    assert shown_slots(client, calendar.slug) == slots


def test_a_booking_through_another_calendar_of_the_same_host_shows_at_once(client, factory):
    calendar, other = one_host_calendars(factory, 2)
    slots = shown_slots(client, calendar.slug)

    book(other, slots[2])

    assert slots[2] not in shown_slots(client, calendar.slug)


def test_a_change_written_by_plain_sql_shows_at_once(client, factory):
    """As any other process or tool would change a booking: the trigger, not the portal's code, bumps the host."""
    (calendar,) = one_host_calendars(factory)
    booking = book(calendar, shown_slots(client, calendar.slug)[1])
    slots = shown_slots(client, calendar.slug)

    db.session.execute(text("UPDATE bookings SET status = 'cancelled' WHERE id = :id"), {"id": booking.id})
    db.session.commit()

    assert len(shown_slots(client, calendar.slug)) == len(slots) + 1


def test_changes_that_free_or_take_no_time_leave_the_host_version_alone(client, factory):
    """The sync's own writes to a booking (and a guest's name) don't invalidate every cached week of the host."""
    (calendar,) = one_host_calendars(factory)
    booking = book(calendar, shown_slots(client, calendar.slug)[0])
    version = select(HostBookingVersion.version).where(HostBookingVersion.user_id == booking.host_id)
    before = db.session.scalar(version)

    booking.guest_name, booking.sequence = "Ada Byron", booking.sequence + 1
    db.session.commit()

    assert before >= 1 and db.session.scalar(version) == before


def test_a_listing_expires_when_its_first_slot_leaves_the_day_ends_or_ttl_passes():
    now = datetime(2031, 3, 3, 12, 0, tzinfo=UTC)
    soon = Slot(now + timedelta(seconds=40), now + timedelta(minutes=30, seconds=40), (1,))
    late = Slot(now + timedelta(hours=3), now + timedelta(hours=4), (1,))

    assert expires_at(now, [soon, late], timedelta(seconds=15), "UTC") == now + timedelta(seconds=25)
    assert expires_at(now, [late], timedelta(0), "UTC") == now + TTL
    just_before_midnight_at_kiritimati = datetime(2031, 3, 3, 9, 59, 50, tzinfo=UTC)  # UTC+14
    assert expires_at(just_before_midnight_at_kiritimati, [late], timedelta(0), "Pacific/Kiritimati") == datetime(
        2031, 3, 3, 10, 0, tzinfo=UTC
    )


def test_a_signed_in_viewer_and_a_waiting_message_get_their_own_page_not_the_cached_one(app, factory):
    (calendar,) = one_host_calendars(factory)
    owner = calendar.hosts[0].user
    guest = app.test_client()
    url = f"/book/{calendar.slug}?tz=UTC"
    assert guest.get(url).status_code == 200  # cached for guests

    with guest.session_transaction() as session:
        session["_flashes"] = [("warning", "A message for this guest only")]
    assert "A message for this guest only" in guest.get(url).get_data(as_text=True)

    signed_in = login(app.test_client(), owner)
    assert 'action="/logout"' in signed_in.get(url).get_data(as_text=True)  # the signed-in navigation
