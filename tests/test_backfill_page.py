"""Send earlier bookings, the page: what would be sent before confirming, starting (audited), one at a time, the
progress endpoint, stop and resume, and who may use it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, Backfill, BackfillState, Role, SalesforceLink
from tests.auth_flow import csrf_token
from tests.factories import login
from tests.integration_support import add_integration, connected_world
from tests.sync_factories import make_booking

ROWS = [("LastName", "fixed", "Guest"), ("Company", "fixed", "Acme")]


@pytest.fixture
def world(factory, db_session, salesforce_emulator, salesforce_control):
    world = connected_world(factory, db_session, salesforce_emulator, salesforce_control)
    add_integration(db_session, world.calendar, ROWS)
    return world


def page_url(world) -> str:
    return f"/calendars/{world.calendar.id}/integrations/salesforce/backfill"


def test_the_page_counts_what_would_be_sent_and_skipped_before_anything_starts(client, db_session, world):
    bookings = [make_booking(db_session, world.calendar) for _ in range(3)]
    db_session.add(SalesforceLink(booking_id=bookings[0].id, sf_object="Lead", record_id="00Q000000000001AAA"))
    db_session.flush()
    login(client, world.owner)

    first = client.get(page_url(world))
    checked = client.get(page_url(world), query_string={"booked_from": "2000-01-01", "booked_to": "2100-01-01"})

    assert first.status_code == 200 and "Which bookings?" in first.get_data(as_text=True)
    text = checked.get_data(as_text=True)
    assert "<strong>2</strong> will be sent" in text and "Skipped: 1 already in Salesforce" in text
    assert "Send 2 earlier bookings" in text
    assert db_session.scalar(select(Backfill.id)) is None


def test_starting_is_audited_and_a_second_start_says_one_is_running(client, db_session, world):
    make_booking(db_session, world.calendar)
    login(client, world.owner)
    form = {"csrf_token": csrf_token(client), "booked_from": "2000-01-01", "booked_to": "2100-01-01"}

    started = client.post(page_url(world), data=form)
    again = client.post(page_url(world), data=form, follow_redirects=True)

    assert started.status_code == 302
    [backfill] = db_session.scalars(select(Backfill)).all()
    assert backfill.state == BackfillState.QUEUED and backfill.total == 1
    assert "already being sent" in again.get_data(as_text=True)
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "backfill.started")) is not None
    progress = client.get(page_url(world) + "/progress").get_json()
    assert progress["state"] == "queued" and progress["total"] == 1 and progress["state_words"] == "Waiting to start"


def test_stop_then_resume(client, db_session, world):
    make_booking(db_session, world.calendar)
    login(client, world.owner)
    token = csrf_token(client)
    client.post(page_url(world), data={"csrf_token": token, "booked_from": "2000-01-01", "booked_to": "2100-01-01"})

    client.post(page_url(world) + "/stop", data={"csrf_token": token})
    stopped = client.get(page_url(world)).get_data(as_text=True)
    client.post(page_url(world) + "/resume", data={"csrf_token": token})

    assert "Stopped" in stopped and ">Resume</button>" in stopped
    assert db_session.scalar(select(Backfill.state)) == BackfillState.QUEUED


def test_a_member_who_only_hosts_the_calendar_may_not_send_its_bookings(client, factory, db_session, world):
    host = factory.member(world.team, Role.MEMBER)
    world.calendar.hosts[0].user_id = host.id
    db_session.flush()
    login(client, host)

    assert client.get(page_url(world)).status_code == 403
    assert client.post(page_url(world), data={"csrf_token": csrf_token(client)}).status_code == 403


def test_bad_dates_are_refused_without_an_error_page(client, db_session, world):
    login(client, world.owner)
    response = client.get(page_url(world), query_string={"booked_from": "2030-02-02", "booked_to": "2030-01-01"})
    nonsense = client.get(page_url(world), query_string={"booked_from": "yesterday"})
    assert response.status_code == 200 and "comes before the first day" in response.get_data(as_text=True)
    assert nonsense.status_code == 200


def test_staff_see_every_team_s_backfills_in_the_support_console_and_the_look_is_audited(
    client, factory, db_session, world
):
    make_booking(db_session, world.calendar)
    login(client, world.owner)
    client.post(
        page_url(world), data={"csrf_token": csrf_token(client), "booked_from": "2000-01-01", "booked_to": "2100-01-01"}
    )
    login(client, factory.user(email="help@portal.test", staff=True))

    page = client.get("/support/backfills").get_data(as_text=True)

    [backfill_id] = db_session.scalars(select(Backfill.id)).all()
    assert f'id="backfill-{backfill_id}"' in page and world.calendar.name in page and "0 of 1" in page
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "support.view_backfills")) is not None
