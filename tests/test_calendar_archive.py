"""Calendars are archived, not destroyed (design §2): archiving closes the booking page and leaves the list, but
keeps every booking and sync row; with upcoming bookings it first asks whether to keep or cancel them, and a
cancel tells each guest by e-mail (a real local SMTP server) and applies the integration's on-cancel rule to the
Salesforce Events (the emulator, through real RQ workers). Permanent deletion is an owner's, audited, and only
for a calendar that never had a booking; the database itself refuses to cascade bookings away."""

from __future__ import annotations

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar as ICalendar
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.calendars import booking as booking_service
from portal.extensions import db
from portal.models import (
    AuditEvent,
    Booking,
    BookingStatus,
    Calendar,
    OnCancel,
    Role,
    SyncAttempt,
    SyncEvent,
    SyncJob,
    SyncStatus,
    User,
    utcnow,
)
from tests.factories import login
from tests.sync_factories import csrf_token, make_booking, make_sync
from tests.sync_world import World, open_sync_app, running_workers


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def smtp_server() -> tuple[Controller, Inbox, int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, inbox, port


# -- in one test transaction --------------------------------------------------------------------------------------


@pytest.fixture
def team_calendar(factory, db_session):
    team, users = factory.team_with_roles()
    calendar = factory.calendar(team, created_by=users[Role.MEMBER], name="Old offer")
    return team, users, calendar


def archive(client, calendar: Calendar, **data):
    return client.post(f"/calendars/{calendar.id}/archive", data={"csrf_token": csrf_token(client), **data})


def test_archiving_with_upcoming_bookings_asks_first_and_archives_nothing_without_an_answer(
    client, team_calendar, db_session
):
    team, users, calendar = team_calendar
    make_booking(db_session, calendar, guest_email="soon@example.test")
    login(client, users[Role.MEMBER])

    page = client.get(f"/calendars/{calendar.id}/archive").get_data(as_text=True)
    unanswered = archive(client, calendar)

    assert "1 upcoming booking" in page and "soon@example.test" not in page  # names, not addresses
    assert 'value="keep"' in page and 'value="cancel"' in page
    assert unanswered.status_code == 422
    assert "Choose whether to keep or cancel" in unanswered.get_data(as_text=True)
    assert db_session.get(Calendar, calendar.id).archived_at is None


def test_an_archived_calendar_keeps_its_bookings_closes_its_page_and_leaves_the_list(client, team_calendar, db_session):
    team, users, calendar = team_calendar
    kept = make_booking(db_session, calendar, guest_email="kept@example.test")
    job = make_sync(db_session, kept)
    login(client, users[Role.MEMBER])

    response = archive(client, calendar, upcoming="keep")

    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(Calendar, calendar.id).archived_at is not None
    assert db_session.get(Booking, kept.id).status == BookingStatus.CONFIRMED
    assert db_session.scalars(select(SyncJob.id).where(SyncJob.booking_id == kept.id)).all() == [job.id]
    public = client.get(f"/book/{calendar.slug}")
    assert public.status_code == 404 and "no longer available" in public.get_data(as_text=True)
    assert "Old offer" not in client.get(f"/teams/{team.id}/calendars").get_data(as_text=True)
    archived = client.get(f"/teams/{team.id}/calendars/archived").get_data(as_text=True)
    assert "Old offer" in archived and f"/calendars/{calendar.id}/bookings" in archived
    bookings = client.get(f"/calendars/{calendar.id}/bookings").get_data(as_text=True)
    assert "kept@example.test" in bookings and "archived" in bookings
    audit = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "calendar.archived"))
    assert audit.details == {"name": "Old offer", "upcoming_kept": 1, "upcoming_cancelled": 0}


def test_a_member_who_only_hosts_a_calendar_may_not_archive_it(client, factory, team_calendar, db_session):
    team, users, _ = team_calendar
    host = factory.member(team, Role.MEMBER)
    hosted = factory.calendar(team, created_by=users[Role.OWNER], hosts=[host])
    login(client, host)

    assert client.get(f"/calendars/{hosted.id}/archive").status_code == 403
    assert archive(client, hosted, upcoming="keep").status_code == 403
    assert db_session.get(Calendar, hosted.id).archived_at is None


def test_an_archived_calendar_takes_no_booking_and_its_bookings_cannot_be_moved(team_calendar, db_session):
    _, users, calendar = team_calendar
    booking = make_booking(db_session, calendar)
    calendar.archived_at = utcnow()
    db_session.commit()  # the services roll back on refusal: keep the setup
    guest = booking_service.GuestDetails(email="late@example.test")

    with pytest.raises(booking_service.CalendarArchived):
        booking_service.book(calendar, booking.start_at.replace(hour=15), guest, "late-token", now=utcnow())
    with pytest.raises(booking_service.BookingClosed, match="no longer offered"):
        booking_service.reschedule(booking, booking.start_at.replace(hour=16), now=utcnow())


def test_only_an_owner_deletes_and_only_a_calendar_that_never_had_a_booking(client, team_calendar, db_session):
    team, users, calendar = team_calendar
    empty = Calendar(team_id=team.id, name="Never used", slug=f"never-used-{team.id}")
    db_session.add(empty)
    make_booking(db_session, calendar)
    db_session.commit()  # a refused deletion rolls back: keep the setup

    login(client, users[Role.ADMIN])
    by_admin = client.post(f"/calendars/{empty.id}/delete", data={"csrf_token": csrf_token(client)})
    login(client, users[Role.OWNER])
    with_bookings = client.post(f"/calendars/{calendar.id}/delete", data={"csrf_token": csrf_token(client)})
    without = client.post(f"/calendars/{empty.id}/delete", data={"csrf_token": csrf_token(client)})

    assert by_admin.status_code == 403
    assert with_bookings.status_code == 302 and with_bookings.headers["Location"].endswith("/archive")
    assert without.status_code == 302
    db_session.expire_all()
    assert db_session.get(Calendar, calendar.id) is not None and db_session.get(Calendar, empty.id) is None
    assert db_session.scalar(select(AuditEvent.details).where(AuditEvent.action == "calendar.deleted"))["name"] == (
        "Never used"
    )


def test_the_database_refuses_to_delete_a_calendar_with_bookings(team_calendar, db_session):
    _, _, calendar = team_calendar
    make_booking(db_session, calendar)

    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.execute(Calendar.__table__.delete().where(Calendar.id == calendar.id))


# -- end to end: committed data, RQ workers, the Salesforce emulator and a mail server -----------------------------


@pytest.fixture(scope="module")
def archive_app(base_config, database_factory):
    with open_sync_app(base_config, database_factory("archive"), "archive") as app:
        yield app


@pytest.fixture(scope="module")
def archive_workers(archive_app):
    with running_workers(archive_app, 1) as workers:
        yield workers


@pytest.fixture
def mail_to(archive_app, monkeypatch):
    controller, inbox, port = smtp_server()
    monkeypatch.setitem(archive_app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(archive_app.config, "SMTP_PORT", port)
    yield inbox
    controller.stop()


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        found = tuple(db.session.scalar(select(func.count()).select_from(t)) for t in (Booking, SyncJob, SyncAttempt))
        db.session.remove()
    return found


def archive_as_owner(app, world: World, choice: str) -> int:
    client = app.test_client()
    with app.app_context():
        login(client, db.session.get(User, world.owner_id))
        db.session.remove()
    return client.post(
        f"/calendars/{world.calendar_id}/archive", data={"csrf_token": csrf_token(client), "upcoming": choice}
    ).status_code


@pytest.mark.parametrize("on_cancel", [OnCancel.DELETE_EVENT, OnCancel.MARK_CANCELLED])
def test_archiving_and_cancelling_tells_each_guest_and_follows_the_on_cancel_rule_losing_no_row(
    archive_app, archive_workers, salesforce_emulator, salesforce_control, mail_to, on_cancel
):
    world = World.create(archive_app, salesforce_emulator, salesforce_control, on_cancel=on_cancel)
    guests = [f"{on_cancel.value}-{n}@example.com".replace("_", "-") for n in range(2)]
    booking_ids = [world.book(guest, name=f"Guest {n}") for n, guest in enumerate(guests)]
    created = {booking_id: world.wait(booking_id)[0] for booking_id in booking_ids}
    assert {job.status for job in created.values()} == {SyncStatus.SYNCED}
    before = counts(archive_app)

    assert archive_as_owner(archive_app, world, "cancel") == 302

    assert sorted(message["To"].addresses[0].addr_spec for message in mail_to.messages) == sorted(guests)
    for message in mail_to.messages:
        assert "no longer offered" in message.get_body(("plain",)).get_content()
        (ics,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
        assert ICalendar.from_ical(ics.get_content())["METHOD"] == "CANCEL"
    for booking_id in booking_ids:
        jobs = world.wait(booking_id, count=2)
        assert [(job.event, job.status) for job in jobs] == [
            (SyncEvent.CREATED, SyncStatus.SYNCED),
            (SyncEvent.CANCELLED, SyncStatus.SYNCED),
        ]
        event = world.control.get_record(created[booking_id].sf_event_id)
        if on_cancel == OnCancel.DELETE_EVENT:
            assert event["IsDeleted"] is True
        else:
            assert event["Subject"].startswith("Cancelled: ") and not event.get("IsDeleted")
    bookings, jobs, attempts = counts(archive_app)
    assert (bookings, jobs) == (before[0], before[1] + 2) and attempts >= before[2] + 2
    with archive_app.app_context():
        statuses = db.session.scalars(select(Booking.status).where(Booking.id.in_(booking_ids))).all()
        db.session.remove()
    assert statuses == [BookingStatus.CANCELLED] * 2


def test_archiving_and_keeping_sends_nothing_and_leaves_salesforce_alone(
    archive_app, archive_workers, salesforce_emulator, salesforce_control, mail_to
):
    world = World.create(archive_app, salesforce_emulator, salesforce_control)
    booking_id = world.book("keep-me@example.com")
    [created] = world.wait(booking_id)
    before = counts(archive_app)

    assert archive_as_owner(archive_app, world, "keep") == 302

    assert mail_to.messages == []
    assert [job.event for job in world.jobs(booking_id)] == [SyncEvent.CREATED]  # no cancel for Salesforce
    assert counts(archive_app) == before
    assert not world.control.get_record(created.sf_event_id).get("IsDeleted")
